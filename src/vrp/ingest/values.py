"""Parsing columns by their distinct values: exact Python parsing (a real calendar, HMAC, code
tables) at the cost of one call per distinct value, not per row."""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import date, datetime

import pyarrow as pa
import pyarrow.compute as pc


class Invalid(ValueError):
    """A value that cannot be parsed; its message becomes the quarantine reason."""


def map_distinct(arr: pa.Array, fn: Callable[[str], object], out_type: pa.DataType) -> tuple[pa.Array, pa.Array]:
    """Apply fn to each distinct non-blank value: (mapped array, mask of rows whose value failed).

    Blank values map to null and never fail (whether a blank is allowed is the caller's rule).
    """
    trimmed = pc.utf8_trim_whitespace(arr)
    distinct = [v for v in pc.unique(trimmed).to_pylist() if v]
    mapped, failed = [], []
    for value in distinct:
        try:
            mapped.append(fn(value))
        except (Invalid, ValueError):
            failed.append(value)
    good_values = [v for v in distinct if v not in set(failed)]
    index = pc.index_in(trimmed, value_set=pa.array(good_values, pa.string()))
    result = pc.take(pa.array(mapped, out_type), index)
    bad = pc.is_in(trimmed, value_set=pa.array(failed, pa.string()))
    return result, bad


def strict_date(fmt: str) -> Callable[[str], date]:
    return lambda text: datetime.strptime(text, fmt).date()


def strict_datetime(datetime_fmt: str, date_fmt: str) -> Callable[[str], datetime]:
    """Date-time in the mapping's format, or a date alone (then midnight)."""
    def parse(text: str) -> datetime:
        try:
            return datetime.strptime(text, datetime_fmt)
        except ValueError:
            return datetime.strptime(text, date_fmt)
    return parse


def value_map(table: dict[str, str] | None, defaults: dict[str, str], allowed: set[str] | None):
    """Translate a code value: the mapping's table first, then the built-in defaults (case-insensitive)."""
    lookup = {**defaults, **(table or {})}

    def translate(text: str) -> str:
        key = text.strip().lower()
        if key in lookup:
            return lookup[key]
        if allowed is None:
            return key.replace(" ", "_")
        if key in allowed:
            return key
        raise Invalid(text)
    return translate


def pseudonymiser(key: bytes) -> Callable[[str], str]:
    """Keyed HMAC-SHA-256 of a normalised identifier: stable within a workspace, irreversible without the key."""
    def pseudonymise(identifier: str) -> str:
        norm = " ".join(identifier.strip().upper().split())
        return hmac.new(key, norm.encode("utf-8"), hashlib.sha256).hexdigest()[:32]
    return pseudonymise
