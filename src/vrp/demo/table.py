"""Column tables (dicts of equal-length numpy arrays) and a fast, byte-stable CSV writer.

The generator keeps its data as plain numpy columns rather than DataFrames: formatting ~100,000
rows through pandas' CSV writer and string dtypes took most of the run time, and writing
pre-formatted strings ourselves also pins down every byte of the output.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

Table = dict[str, np.ndarray]

_HHMM = np.array([f"{m // 60:02d}:{m % 60:02d}" for m in range(1440)])


def take(table: Table, index: np.ndarray) -> Table:
    """Rows `index` (positions or a boolean mask) of every column."""
    return {k: v[index] for k, v in table.items()}


def length(table: Table) -> int:
    return len(next(iter(table.values()))) if table else 0


def format_dates(days: np.ndarray, fmt: str = "%d/%m/%Y") -> np.ndarray:
    """datetime64 dates as strings; each distinct day is formatted once."""
    unique, inverse = np.unique(days.astype("datetime64[D]"), return_inverse=True)
    text = np.array([d.item().strftime(fmt) for d in unique] or [""], dtype=object)
    return text[inverse] if len(days) else np.array([], dtype=object)


def format_datetimes(stamps: np.ndarray, date_fmt: str = "%d/%m/%Y") -> np.ndarray:
    """datetime64[m] as "<date> HH:MM"."""
    stamps = stamps.astype("datetime64[m]")
    days = stamps.astype("datetime64[D]")
    minute = (stamps - days.astype("datetime64[m]")).astype(np.int64)
    return format_dates(days, date_fmt) + " " + _HHMM[minute].astype(object)


def format_fixed(values: np.ndarray, decimals: int) -> np.ndarray:
    """Floats with a fixed number of decimals (deterministic, like "%.6f")."""
    return np.char.mod(f"%.{decimals}f", np.asarray(values, float)).astype(object)


def write_csv(path: Path, header: Sequence[str], table: Table) -> int:
    """Write `table` columns in `header` order as RFC 4180 CSV with LF line ends; returns rows."""
    columns = [_quoted(np.asarray(table[h]).astype(str)).tolist() for h in header]
    lines = [",".join(_quoted(np.array(header)).tolist())]
    lines += map(",".join, zip(*columns))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines) - 1


def _quoted(values: np.ndarray) -> np.ndarray:
    """Quote the fields that need it (comma, quote or newline), doubling inner quotes."""
    if values.size == 0:
        return values
    needs = ((np.char.find(values, ",") >= 0) | (np.char.find(values, '"') >= 0)
             | (np.char.find(values, "\n") >= 0))
    if not needs.any():
        return values
    out = values.astype(object)
    out[needs] = ['"' + v.replace('"', '""') + '"' for v in values[needs].tolist()]
    return out
