"""Reporting periods built from calendar months.

Every measure is counted by month (recorded month for crimes, attendance month for ED data,
period of the NHS aggregate for admissions) and months are added up into the period asked for:
a month, a calendar quarter, a financial year (April to March, the default for partnership
reporting), a calendar year, a rolling twelve months, or any from/to range. A period is only
reported when every one of its months is covered by loaded data, so a missing file can never
pass for a fall in violence.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from vrp.errors import VrpError

PERIOD_TYPES = ("month", "quarter", "financial_year", "calendar_year", "rolling_12", "custom")
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def month_index(month: str) -> int:
    """'2025-03' -> months since year 0, so month arithmetic is integer arithmetic."""
    m = MONTH.match(month or "")
    if not m:
        raise VrpError(f"{month!r} is not a YYYY-MM month")
    return int(m.group(1)) * 12 + int(m.group(2)) - 1


def month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@dataclass(frozen=True, order=True)
class Period:
    """A run of whole months, first..last inclusive (month indexes), with its report label."""

    first: int
    last: int
    kind: str
    label: str

    @property
    def months(self) -> range:
        return range(self.first, self.last + 1)

    @property
    def length(self) -> int:
        return self.last - self.first + 1

    @property
    def start(self) -> str:
        return month_label(self.first)

    @property
    def end(self) -> str:
        return month_label(self.last)

    def previous(self) -> Period:
        """The period of equal length immediately before this one (the baseline for change)."""
        return make_period(self.kind, self.first - self.length, self.first - 1)


def make_period(kind: str, first: int, last: int) -> Period:
    """A period of the given kind spanning first..last, labelled the way reports write it."""
    year, month = divmod(first, 12)
    if kind == "month":
        label = month_label(first)
    elif kind == "quarter":
        label = f"{year} Q{month // 3 + 1}"
    elif kind == "financial_year":
        label = f"{year}/{(year + 1) % 100:02d}"
    elif kind == "calendar_year":
        label = str(year)
    elif kind == "rolling_12":
        label = f"12 months to {month_label(last)}"
    else:
        label = f"{month_label(first)} to {month_label(last)}"
    return Period(first, last, kind, label)


def _aligned(kind: str, index: int) -> bool:
    """Whether a period of this kind can start at month index."""
    month = index % 12
    return {"month": True, "rolling_12": True, "quarter": month % 3 == 0,
            "financial_year": month == 3, "calendar_year": month == 0}[kind]


def _length(kind: str) -> int:
    return {"month": 1, "quarter": 3, "financial_year": 12, "calendar_year": 12, "rolling_12": 12}[kind]


def periods_between(kind: str, first: int, last: int) -> list[Period]:
    """Every period of this kind lying wholly inside months first..last, in time order.

    Rolling twelve months step by one month (12 months to each month end); "custom" is the one
    period first..last.
    """
    if kind not in PERIOD_TYPES:
        raise VrpError(f"unknown period type {kind!r} (expected one of {', '.join(PERIOD_TYPES)})")
    if kind == "custom":
        return [make_period(kind, first, last)] if first <= last else []
    size = _length(kind)
    return [make_period(kind, start, start + size - 1)
            for start in range(first, last - size + 2) if _aligned(kind, start)]

