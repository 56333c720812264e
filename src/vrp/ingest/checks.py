"""Vectorised row checks over Arrow string columns: which rows fail, on which field, and why."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vrp.ingest.arrow import indices, scalar, strings, to_bools

NUMBER = r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$"
MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


@dataclass
class Check:
    """Rows where `failed` is true are quarantined with `reason` (which may use {value})."""

    field: str
    failed: pa.Array
    reason: str


def blank(arr: pa.Array) -> pa.Array:
    return pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(arr)), scalar(0))


def null_if_blank(arr: pa.Array) -> pa.Array:
    trimmed = pc.utf8_trim_whitespace(arr)
    return pc.if_else(pc.equal(pc.utf8_length(trimmed), scalar(0)), scalar(None, pa.string()), trimmed)


def parse_number(arr: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(float values with blanks as null, mask of non-blank values that are not numbers)."""
    trimmed = pc.utf8_trim_whitespace(arr)
    present = pc.invert(pc.equal(pc.utf8_length(trimmed), scalar(0)))  # not blank(arr): trimmed once
    numeric = pc.match_substring_regex(arr, NUMBER)
    bad = pc.and_(present, pc.invert(numeric))
    cleaned = pc.if_else(numeric, trimmed, scalar(None, pa.string()))
    return pc.cast(cleaned, pa.float64()), bad


def out_of_range(values: pa.Array, low: float, high: float) -> pa.Array:
    return pc.fill_null(pc.or_(pc.less(values, scalar(low)), pc.greater(values, scalar(high))), scalar(False))


def not_in(arr: pa.Array, allowed) -> pa.Array:
    return pc.invert(pc.is_in(arr, value_set=strings(sorted(allowed))))


def apply_checks(batch: pa.RecordBatch, checks: list[Check]) -> tuple[np.ndarray, list[tuple[int, str, str]]]:
    """(mask of good rows, [(row index, field, reason)] for bad rows; the first failed check wins)."""
    n = batch.num_rows
    good = np.ones(n, dtype=bool)
    failures: list[tuple[int, str, str]] = []
    for check in checks:
        failed = to_bools(check.failed) & good
        if not failed.any():
            continue
        idx = np.flatnonzero(failed)
        values = batch.column(check.field).take(indices(idx)).to_pylist() if check.field in batch.schema.names else [None] * len(idx)
        failures.extend((int(i), check.field, check.reason.format(value=v)) for i, v in zip(idx, values))
        good &= ~failed
    failures.sort()
    return good, failures


def row_text(batch: pa.RecordBatch, index: int) -> str:
    """A batch row written back as one CSV line, for the analyst reading the quarantine."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(batch.column(i)[index].as_py() for i in range(batch.num_columns))
    return buf.getvalue()
