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
    return np.array([d.item().strftime(fmt) for d in unique], dtype=object)[inverse]


def format_datetimes(stamps: np.ndarray, date_fmt: str = "%d/%m/%Y") -> np.ndarray:
    """datetime64[m] as "<date> HH:MM"."""
    stamps = stamps.astype("datetime64[m]")
    days = stamps.astype("datetime64[D]")
    minute = (stamps - days.astype("datetime64[m]")).astype(np.int64)
    return format_dates(days, date_fmt) + " " + _HHMM[minute].astype(object)


def format_fixed(values: np.ndarray, decimals: int) -> np.ndarray:
    """Floats with a fixed number of decimals (deterministic, like "%.6f")."""
    fmt = f"{{:.{decimals}f}}".format
    return np.array([fmt(v) for v in np.asarray(values, float).tolist()], dtype=object)


def write_csv(path: Path, header: Sequence[str], table: Table) -> int:
    """Write `table` columns in `header` order as RFC 4180 CSV with LF line ends; returns rows."""
    columns = [_quoted([str(v) for v in np.asarray(table[h]).tolist()]) for h in header]
    lines = [",".join(_quoted(list(header)))]
    lines += map(",".join, zip(*columns))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines) - 1


def _quoted(values: list[str]) -> list[str]:
    """Quote the fields that need it (comma, quote or newline), doubling inner quotes.
    Checks the whole column at once first: most columns never need quoting."""
    joined = "".join(values)
    if "," not in joined and '"' not in joined and "\n" not in joined and "\r" not in joined:
        return values
    return [f'"{v.replace(chr(34), chr(34) * 2)}"' if any(c in v for c in ',"\n\r') else v for v in values]
