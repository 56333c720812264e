"""Measures for areas and periods: counts, rates with exact intervals, and tests of change.

The numerator is one grouped DuckDB query per measure (by LSOA or district, by month); periods,
areas, populations and statistics are assembled from it here, so every district, the partnership
and every period come from the same scan and always add up. Suppression for partners is applied
afterwards by `vrp.measures.publish`, over the whole table at once.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vrp import coverage as cover
from vrp.definitions import is_match_sql
from vrp.errors import NothingToShow, VrpError
from vrp.lake import require_dataset
from vrp.lake.read import current_snapshots, loaded_datasets
from vrp.measures.catalogue import AGE_COLUMN, Measure
from vrp.measures.periods import MONTH, PERIOD_TYPES, Period, make_period, month_index, month_label, periods_between
from vrp.stats.change import compare_counts
from vrp.stats.rates import rate_ci

# Datasets whose records belong to the partnership even without a location (ED attendances are
# at the partnership's own departments); their unlocated records form a "Not attributed" area.
UNATTRIBUTED_ALLOWED = {"ed_attendances"}
# Datasets expected to have records every month: a month with no snapshot is a gap, not a zero.
DENSE = {"crimes", "police_uk", "ed_attendances"}
PARTNERSHIP, UNATTRIBUTED = "partnership", "unattributed"
UNIT = {"crimes": "offences", "police_uk": "offences", "homicides": "victims",
        "ed_attendances": "attendances", "admissions": "admissions"}


class PeriodGrainError(VrpError):
    """The data come in periods longer than the period asked for (annual NHS data by month)."""


@dataclass(frozen=True)
class Area:
    level: str  # partnership | district | lsoa | unattributed
    code: str
    name: str
    parent: str | None = None


@dataclass
class Counts:
    """The measure's numerator as spans of months: one entry per (area, first, last) cell."""

    area: np.ndarray  # index into MeasureTable.areas
    first: np.ndarray
    last: np.ndarray
    n: np.ndarray
    unknown: np.ndarray  # cells suppressed at source (admissions), counted as 0 and reported


@dataclass
class MeasureTable:
    """Counts of one measure for every area x period (reported periods, then the baselines their
    changes need), before any suppression. Rows with rates and changes are built on demand for
    the areas a product shows, so LSOA-level statistics are only computed when asked for."""

    measure: Measure
    areas: list[Area]
    periods: list[Period]
    reported: int  # the first `reported` periods are reported; the rest are baselines only
    counts: np.ndarray  # periods x areas
    unknown: np.ndarray  # periods x areas, cells suppressed at source
    population: np.ndarray  # areas (NaN: no population)
    baselines: list[int | None]  # per period, index of its baseline period
    meta: dict = field(default_factory=dict)

    def rows(self, levels: set[str], codes: set[str] | None = None) -> list[dict]:
        """Figures for the reported periods and the areas of the given levels (and, if given, only
        those area codes), in period order."""
        chosen = [a for a, area in enumerate(self.areas)
                  if area.level in levels and (codes is None or area.code in codes)]
        pops = self.population[chosen]
        rows = []
        for p in range(self.reported):
            counts = self.counts[p, chosen]
            rates = _rates(counts, pops, self.measure.per)
            b = self.baselines[p]
            for j, a in enumerate(chosen):
                baseline = None if b is None else int(self.counts[b, a])
                rows.append(_row(self.measure, self.areas[a], self.periods[p], int(counts[j]), pops[j],
                                 int(self.unknown[p, a]), rates[j], baseline,
                                 None if b is None else self.periods[b]))
        return rows

    def empty_reason(self) -> str:
        """Why no period can be reported, in one line (for a table with no reported period)."""
        return no_period_reason(self.measure, self.meta["period_type"], set(self.meta["covered_months"]),
                                *self.meta["requested"], data_periods=self.meta["data_periods"])

    def left_out_note(self) -> str | None:
        """Periods inside the range asked for that are left out because a month has no data."""
        missing = self.meta["missing_months"]
        labels = self.meta["incomplete_periods"]
        if not labels:
            return None
        shown = ", ".join(labels[:3]) + (f" and {len(labels) - 3} more" if len(labels) > 3 else "")
        return (f"{self.measure.id}: {shown} left out: no {cover.noun(self.measure.dataset)} data loaded for "
                f"{cover.month_list(missing)} (a missing month is a gap, not a zero)")


KIND_NAMES = {"month": "month", "quarter": "calendar quarter", "financial_year": "financial year (April to March)",
              "calendar_year": "calendar year (January to December)", "rolling_12": "rolling 12 months",
              "custom": "custom period"}


def no_period_reason(measure: Measure, kind: str, covered: set[int], start: int | None, end: int | None,
                     data_periods: list[tuple[int, int]] = ()) -> str:
    """One line on why no `kind` period of the measure can be reported for months start..end
    (month indexes; None: from the first or to the last loaded month), naming the months the
    data cover and the period types that would give figures (`data_periods`: the spans of months
    that data longer than a month come in, which a period type must not split)."""
    noun = cover.noun(measure.dataset)
    if not covered:
        return f"{measure.id}: no month of {noun} data is loaded"
    have = cover.describe(covered)
    first = min(covered) if start is None else start
    last = max(covered) if end is None else end
    if first > last or not any(m in covered for m in range(first, last + 1)):
        asked = (f"for {cover.span(first, last)}" if first <= last else
                 f"from {month_label(first)} on" if start is not None else f"up to {month_label(last)}")
        return f"{measure.id}: no {noun} data loaded {asked}; the data cover {have}"
    where = (f"in {cover.span(first, last)} ({noun} data cover {have})" if start is not None or end is not None
             else f"in the loaded {noun} months, {have}")
    fits = [k for k in PERIOD_TYPES if k != kind
            and _fits(choose_periods(k, covered, month_label(first), month_label(last), "previous")[0], data_periods)]
    if kind == "custom":
        missing = [m for m in range(first, last + 1) if m not in covered]
        text = (f"{measure.id}: {cover.span(first, last)} cannot be reported as one period: no {noun} data loaded "
                f"for {cover.month_list(missing)} (a missing month is a gap, not a zero; {noun} data cover {have})")
    else:
        text = f"{measure.id}: no complete {KIND_NAMES[kind]} {where}"
    if fits:
        text += f"; period types that fit: {', '.join(fits)}"
    return text


def _fits(periods: list[Period], data_periods) -> bool:
    """Some period to report, and none that would split data that come by several months (annual NHS data)."""
    return bool(periods) and not any(p.first <= last and first <= p.last and not (p.first <= first and last <= p.last)
                                     for p in periods for first, last in data_periods)


def area_list(con, ws, dataset: str) -> list[Area]:
    """Partnership, its districts and its LSOAs (from the LSOA lookup), plus the unattributed area."""
    require_dataset(con, "lsoa_lookup")
    lsoas = con.execute("SELECT lsoa_code, lookup_lsoa_name, district_code, district_name FROM area_lsoas "
                        "ORDER BY district_name, lsoa_code").fetchall()
    if not lsoas:
        raise VrpError("no LSOA of the partnership area is in the loaded LSOA lookup: check [area] districts in vrp.toml")
    districts = sorted({(d, n) for _, _, d, n in lsoas}, key=lambda t: t[1])
    areas = [Area(PARTNERSHIP, PARTNERSHIP, ws.partnership_name or "Partnership")]
    areas += [Area("district", code, name, PARTNERSHIP) for code, name in districts]
    if dataset in UNATTRIBUTED_ALLOWED:
        areas.append(Area(UNATTRIBUTED, UNATTRIBUTED, "Not attributed to a district", PARTNERSHIP))
    areas += [Area("lsoa", code, name or code, district) for code, name, district, _ in lsoas]
    return areas


def _age_sql(measure: Measure) -> str:
    if measure.age_min is None:
        return "TRUE"
    if measure.dataset == "admissions":
        return f"(age_min >= {measure.age_min} AND age_max <= {measure.age_max})"
    return f"({AGE_COLUMN[measure.dataset]} BETWEEN {measure.age_min} AND {measure.age_max})"


def numerator(con, measure: Measure, areas: list[Area]) -> Counts:
    """One grouped scan: the measure's records by finest area and month (or NHS period)."""
    index = {(a.level, a.code): i for i, a in enumerate(areas)}
    where = f"{is_match_sql(measure.definition)} AND {_age_sql(measure)}"
    if measure.dataset == "admissions":
        _check_age_bands(con, measure)
        rows = con.execute(f"""
            SELECT CASE WHEN area_level = 'lsoa' THEN 'lsoa' ELSE 'district' END AS level, area_code,
                   period_start, period_end, sum(coalesce("count", 0)) AS n,
                   count(*) FILTER (WHERE source_suppressed) AS unknown
            FROM admissions WHERE area_level IN ('lsoa', 'district') AND {where} GROUP BY ALL""").fetchall()
    else:
        located = f"{measure.dataset}_enriched"
        unattributed = "OR lsoa_code IS NULL" if measure.dataset in UNATTRIBUTED_ALLOWED else ""
        rows = con.execute(f"""
            SELECT CASE WHEN in_area THEN 'lsoa' ELSE '{UNATTRIBUTED}' END AS level,
                   CASE WHEN in_area THEN lsoa_code ELSE '{UNATTRIBUTED}' END AS code,
                   month, month, count(*) AS n, 0 AS unknown
            FROM {located} WHERE (in_area {unattributed}) AND {where} GROUP BY ALL""").fetchall()
    keep = [r for r in rows if (r[0], r[1]) in index]
    if measure.dataset == "admissions":
        _check_no_overlap(keep)
    return Counts(area=np.array([index[(r[0], r[1])] for r in keep], dtype=np.int64),
                  first=np.array([month_index(r[2]) for r in keep], dtype=np.int64),
                  last=np.array([month_index(r[3]) for r in keep], dtype=np.int64),
                  n=np.array([r[4] for r in keep], dtype=np.int64),
                  unknown=np.array([r[5] for r in keep], dtype=np.int64))


def _check_no_overlap(rows: list[tuple]) -> None:
    """Admissions for one area must not come both by month and by year for the same months:
    adding them would count the same patients twice."""
    spans: dict[tuple, set[tuple[str, str]]] = {}
    for level, code, start, end, *_ in rows:
        spans.setdefault((level, code), set()).add((start, end))
    for (_, code), found in spans.items():
        ordered = sorted(found)
        for (a_start, a_end), (b_start, b_end) in zip(ordered, ordered[1:]):
            if b_start <= a_end:
                raise VrpError(f"admissions for {code} hold overlapping periods {a_start} to {a_end} and "
                               f"{b_start} to {b_end}: load one grain (monthly or yearly), not both")


def _check_age_bands(con, measure: Measure) -> None:
    """Aggregates must have age bands that fit inside the measure's ages or lie outside them."""
    if measure.age_min is None:
        return
    lo, hi = measure.age_min, measure.age_max
    straddling = con.execute(f"""SELECT DISTINCT age_band FROM admissions
        WHERE {is_match_sql(measure.definition)} AND age_max >= {lo} AND age_min <= {hi}
          AND NOT (age_min >= {lo} AND age_max <= {hi})""").fetchall()
    if straddling:
        raise VrpError(f"measure {measure.id} needs ages {lo}-{hi} but the admissions data have the age band "
                       f"'{straddling[0][0]}', which crosses that range")


def coverage(con, ws, measure: Measure) -> set[int]:
    """Months the loaded data cover. Monthly datasets: months with a loaded snapshot (a dense
    dataset's missing month is a gap). Admissions: the months of the periods supplied. Homicide
    records are sparse (a month with no homicide has no record), so they cover the months of the
    force's crime extract when one is loaded, else the months from the first to the last record."""
    if measure.dataset == "admissions":
        spans = con.execute("SELECT DISTINCT period_start, period_end FROM admissions").fetchall()
        return {m for a, b in spans for m in range(month_index(a), month_index(b) + 1)}
    months = _snapshot_months(ws, measure.dataset)
    if measure.dataset in DENSE or not months:
        return months
    extract = _snapshot_months(ws, "crimes")
    if extract:
        return extract
    return set(range(min(months), max(months) + 1))


def _snapshot_months(ws, dataset: str) -> set[int]:
    return {month_index(s.period) for s in current_snapshots(ws, dataset) if MONTH.match(s.period or "")}


def population(con, measure: Measure, areas: list[Area]) -> tuple[np.ndarray, int | None]:
    """Residents of each area in the measure's age range (NaN for areas without a population),
    and the population's year. Age bands must add up exactly to the range."""
    if measure.per is None:
        return np.full(len(areas), np.nan), None
    if "population" not in loaded_datasets(con):
        raise VrpError(f"measure {measure.id} is a rate per {measure.per:,} residents but no population is loaded: "
                       "run `vrp ingest reference population FILE`")
    year = con.execute("SELECT max(year) FROM population").fetchone()[0]
    lo, hi = (0, 120) if measure.age_min is None else (measure.age_min, measure.age_max)
    bands = con.execute("SELECT DISTINCT age_min, age_max FROM population WHERE year = ? ORDER BY 1", [year]).fetchall()
    _check_population_bands(measure, bands, lo, hi)
    rows = con.execute(f"""SELECT lsoa_code, sum(population) FROM population
        WHERE year = ? AND age_min >= {lo} AND age_max <= {hi} GROUP BY 1""", [year]).fetchall()
    by_lsoa = dict(rows)
    values = np.full(len(areas), np.nan)
    totals: dict[str, float] = {}
    for i, area in enumerate(areas):
        if area.level == "lsoa" and area.code in by_lsoa:
            values[i] = by_lsoa[area.code]
            totals[area.parent] = totals.get(area.parent, 0) + by_lsoa[area.code]
    for i, area in enumerate(areas):
        if area.level == "district":
            values[i] = totals.get(area.code, np.nan)
    values[0] = np.nansum([v for a, v in zip(areas, values) if a.level == "district"])
    if not values[0]:
        raise VrpError("the loaded population has no residents in the partnership's LSOAs: check the LSOA vintage")
    return values, year


def _check_population_bands(measure: Measure, bands: list[tuple[int, int]], lo: int, hi: int) -> None:
    inside = [(a, b) for a, b in bands if a >= lo and b <= hi]
    crossing = [(a, b) for a, b in bands if b >= lo and a <= hi and (a, b) not in inside]
    covered = sorted(inside)
    contiguous = covered and covered[0][0] == lo and covered[-1][1] >= min(hi, 90) and all(
        b + 1 == a2 for (_, b), (a2, _) in zip(covered, covered[1:]))
    if crossing or not contiguous:
        shown = ", ".join(f"{a}-{b}" for a, b in bands)
        raise VrpError(f"measure {measure.id} needs residents aged {lo}-{hi} but the loaded population's age bands "
                       f"({shown}) do not add up to that range: load a population with finer ages")


def period_counts(counts: Counts, periods: list[Period], n_areas: int) -> tuple[np.ndarray, np.ndarray]:
    """Counts per (period, finest area) and source-suppressed cells; an NHS period that straddles
    a requested period is an error (annual data cannot be split into months)."""
    out = np.zeros((len(periods), n_areas), dtype=np.int64)
    unknown = np.zeros_like(out)
    for p, period in enumerate(periods):
        inside = (counts.first >= period.first) & (counts.last <= period.last)
        partial = ~inside & (counts.first <= period.last) & (counts.last >= period.first)
        if partial.any():
            i = int(np.flatnonzero(partial)[0])
            raise PeriodGrainError(f"the data come in periods of {counts.last[i] - counts.first[i] + 1} months "
                           f"({month_label(counts.first[i])} to {month_label(counts.last[i])}), which cannot be split "
                           f"into {period.label}: choose a period type at least that long")
        out[p] = np.bincount(counts.area[inside], weights=counts.n[inside], minlength=n_areas)
        unknown[p] = np.bincount(counts.area[inside], weights=counts.unknown[inside], minlength=n_areas)
    return out, unknown


def roll_up(values: np.ndarray, areas: list[Area]) -> np.ndarray:
    """Add LSOAs into districts and districts (and unattributed) into the partnership."""
    out = values.copy()
    position = {(a.level, a.code): i for i, a in enumerate(areas)}
    for i, area in enumerate(areas):
        if area.level == "lsoa":
            out[..., position[("district", area.parent)]] += values[..., i]
    for i, area in enumerate(areas):
        if area.level in ("district", UNATTRIBUTED):
            out[..., 0] += out[..., i]
    return out


def choose_periods(kind: str, covered: set[int], start: str | None, end: str | None,
                   compare: str) -> tuple[list[Period], list[Period], list[str]]:
    """Periods to report (wholly covered, inside from/to), the baselines they need, and periods
    left out because some month has no data."""
    if not covered:
        return [], [], []
    first = month_index(start) if start else min(covered)
    last = month_index(end) if end else max(covered)
    # Every period of the kind inside the range asked for (custom: the range itself, as one period);
    # one with a month beyond the data or in a gap is incomplete, never reported short.
    candidates = periods_between(kind, first, last)
    report = [p for p in candidates if set(p.months) <= covered]
    incomplete = [p for p in candidates if p not in report]
    baselines = {p: baseline_of(p, compare) for p in report}
    needed = sorted({b for b in baselines.values() if set(b.months) <= covered} - set(report))
    return report, needed, incomplete


def baseline_of(period: Period, compare: str) -> Period:
    """The period a change is measured against: the one just before, or the same one a year earlier."""
    if compare == "year_ago":
        return make_period(period.kind, period.first - 12, period.last - 12)
    if compare != "previous":
        raise VrpError(f"unknown comparison {compare!r} (expected previous or year_ago)")
    return period.previous()


def compute(ws, con, measure: Measure, period_kind: str | None = None, start: str | None = None,
            end: str | None = None, compare: str = "previous") -> MeasureTable:
    """Every area (partnership, districts, LSOAs) x every reported period, with the baselines
    their changes need, before any suppression.

    With no period type, --from/--to (either) make the range one custom period; else the
    measure's own period type (financial year for most). A table with no reported period says
    why through `empty_reason()`.
    """
    if measure.dataset not in loaded_datasets(con):
        raise NothingToShow(cover.measure_not_loaded(ws, con, measure))
    kind = period_kind or ("custom" if start or end else measure.period)
    areas = area_list(con, ws, measure.dataset)
    counts = numerator(con, measure, areas)
    covered = coverage(con, ws, measure)
    report, baselines, incomplete = choose_periods(kind, covered, start, end, compare)
    periods = report + baselines
    raw, unknown = period_counts(counts, periods, len(areas))
    totals, unknown = roll_up(raw, areas), roll_up(unknown, areas)
    pop, pop_year = population(con, measure, areas)
    position = {p: i for i, p in enumerate(periods)}
    base_index = [position.get(baseline_of(p, compare)) for p in periods]
    meta = {"measure": measure.id, "measure_version": measure.version, "name": measure.name,
            "definition": measure.definition.id, "definition_version": measure.definition.version,
            "dataset": measure.dataset, "as_at": _as_at(con, measure.dataset), "period_type": kind,
            "compare": compare, "age_band": measure.age_band, "rate_per": measure.per,
            "population_year": pop_year, "finest_level": _finest_level(areas, counts),
            "coverage": [month_label(min(covered)), month_label(max(covered))] if covered else None,
            "incomplete_periods": [p.label for p in incomplete], "limits": measure.limits,
            "covered_months": sorted(covered),
            "missing_months": sorted({m for p in incomplete for m in p.months if m not in covered}),
            "requested": (month_index(start) if start else None, month_index(end) if end else None),
            "data_periods": sorted({(int(f), int(la)) for f, la in zip(counts.first, counts.last) if la > f})}
    return MeasureTable(measure, areas, periods, len(report), totals, unknown, pop, base_index, meta)


def _rates(counts: np.ndarray, pops: np.ndarray, per: int | None) -> list[tuple | None]:
    """(rate, low, high) per area, computed for all areas at once; None without a population."""
    if not per:
        return [None] * len(counts)
    ok = np.isfinite(pops) & (pops > 0)
    out: list[tuple | None] = [None] * len(counts)
    if ok.any():
        r, lo, hi = rate_ci(counts[ok], pops[ok], per)
        for k, i in enumerate(np.flatnonzero(ok)):
            out[i] = (float(r[k]), float(lo[k]), float(hi[k]))
    return out


def _finest_level(areas: list[Area], counts: Counts) -> str:
    """'lsoa' when every located count is held by LSOA (so districts are sums of LSOAs)."""
    levels = {areas[i].level for i in np.unique(counts.area)}
    return "district" if "district" in levels else "lsoa"


def _as_at(con, dataset: str) -> str | None:
    value = con.execute(f"SELECT max(as_at) FROM {dataset}").fetchone()[0]
    return value.isoformat() if value else None


def _row(measure: Measure, area: Area, period: Period, count: int, pop: float, unknown: int,
         rates: tuple | None, baseline: int | None, base: Period | None) -> dict:
    row = {"measure": measure.id, "area_level": area.level, "area_code": area.code, "area": area.name,
           "period": period.label, "period_start": period.start, "period_end": period.end,
           "count": count, "population": None if np.isnan(pop) else int(pop), "rate_per": measure.per,
           "rate": None, "ci_low": None, "ci_high": None}
    if measure.dataset == "admissions":
        row["source_suppressed_cells"] = unknown
    if rates is not None:
        row.update(rate=rates[0], ci_low=rates[1], ci_high=rates[2])
    if baseline is not None:
        change = compare_counts(count, baseline, unit=UNIT[measure.dataset]).as_dict()
        row.update({"baseline_period": base.label, "baseline_count": baseline,
                    **{k: _finite(v) for k, v in change.items() if k not in ("current", "baseline")}})
    return row


def _finite(value):
    """JSON has no infinity: an unbounded interval end (a change from zero) is written as null."""
    return None if isinstance(value, float) and not np.isfinite(value) else value
