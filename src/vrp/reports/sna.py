"""The Strategic Needs Assessment as data: every figure of the report, for the partnership and for
each district, computed from the workspace and protected for the partner tier.

One scan of the lake gives the serious-violence records of the chosen definition for the period
and the year before it; every section of every chapter is cut from that one frame, so the
chapters add up to the overview. Headline measures come from `vrp.measures.report.measure_rows`
(the function behind `vrp measures show`), so the report and the CLI cannot disagree. Anything
that leaves here has passed `vrp.disclosure.suppress` (via `Protect`) unless its data are open
data published at finer detail already (police.uk).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from importlib import metadata
from typing import Callable

import numpy as np
import pandas as pd

from vrp.definitions import Definition, is_match_sql
from vrp.disclosure import DisclosureRule, suppress
from vrp import coverage as cover
from vrp.errors import NothingToShow, VrpError
from vrp.lake.read import DATASET_INFO, current_snapshots, loaded_datasets
from vrp.lake.write import slug
from vrp.measures.compute import PARTNERSHIP, area_list
from vrp.measures.periods import month_index, month_label
from vrp.measures.publish import workspace_rule
from vrp.measures.report import measure_rows
from vrp.places import concentration as conc
from vrp.places import stability as stab
from vrp.places.events import choose_definition
from vrp.query import check_month, open_lake
from vrp.stats.change import compare_counts
from vrp.stats.rates import rate_ci

TIER = "partner"  # the SNA goes to partner agencies and the board: partner-tier protection
AGE_BANDS = [(0, 9, "0-9"), (10, 14, "10-14"), (15, 17, "15-17"), (18, 24, "18-24"), (25, 34, "25-34"),
             (35, 44, "35-44"), (45, 54, "45-54"), (55, 64, "55-64"), (65, 120, "65 and over")]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
HOTSPOT_CELL = 250.0  # metres: the usual GRIP hot-spot cell
PER = 1_000           # rates per 1,000 residents in the SNA's own tables (measures keep their own)


@dataclass(frozen=True)
class Scope:
    """What the assessment covers: which records, which months, compared with which months."""

    definition: Definition
    start: str
    end: str
    previous: tuple[str, str] | None  # the same number of months just before, when all are loaded
    months: list[str]
    loaded_months: list[str]
    as_at: str
    rule: DisclosureRule
    protect: bool

    @property
    def dataset(self) -> str:
        return self.definition.dataset

    @property
    def label(self) -> str:
        return period_label(self.start, self.end)


def period_label(start: str, end: str) -> str:
    """'January to December 2025', 'April 2024 to March 2025'."""
    def name(m: str, year: bool) -> str:
        y, mo = m.split("-")
        text = date(int(y), int(mo), 1).strftime("%B")
        return f"{text} {y}" if year else text
    same_year = start[:4] == end[:4]
    return f"{name(start, not same_year)} to {name(end, True)}" if start != end else name(end, True)


class Protect:
    """Partner-tier disclosure control, one table at a time, through `vrp.disclosure.suppress`.

    A table holds every area of a breakdown at once (districts and the partnership, each
    category and each area's total) with its additive constraints, so a hidden cell cannot be
    worked out from the partnership row or an area's total. Rates and shares are shown only on
    numerators of at least `rate_min_count`. Open data (police.uk) pass through unchanged: they
    are published at finer detail already.
    """

    def __init__(self, rule: DisclosureRule, active: bool):
        self.rule, self.active = rule, active

    def table(self, cells: dict, groups: list) -> dict:
        """The cells with the suppressed ones as None."""
        if not self.active:
            return dict(cells)
        result = suppress(cells, groups, self.rule)
        return {k: (v if result.published(k) else None) for k, v in cells.items()}

    def cross(self, counts: dict[str, dict[str, int]], categories: list[str], districts: list[str]) -> dict:
        """Districts x categories with margins: {area: {category: n, TOTAL: n}} for each district
        and the partnership (the sum of the districts, computed here)."""
        cells, groups = {}, []
        for area in [PARTNERSHIP, *districts]:
            for c in categories:
                cells[(area, c)] = (sum(int(counts.get(d, {}).get(c, 0)) for d in districts) if area == PARTNERSHIP
                                    else int(counts.get(area, {}).get(c, 0)))
            cells[(area, TOTAL)] = sum(cells[(area, c)] for c in categories)
            groups.append(((area, TOTAL), [(area, c) for c in categories]))
        for c in [*categories, TOTAL]:
            groups.append(((PARTNERSHIP, c), [(d, c) for d in districts]))
        shown = self.table(cells, groups)
        return {area: {c: shown[(area, c)] for c in [*categories, TOTAL]} for area in [PARTNERSHIP, *districts]}

    def rate_ok(self, count: int | None) -> bool:
        return count is not None and (not self.active or self.rule.rate_publishable(count))


TOTAL = "_total"


def software_version() -> str:
    try:
        return metadata.version("vrp-platform")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def input_hash(ws, extra: list[str]) -> str:
    """SHA-256 over every current lake snapshot (name and bytes) and the given texts (definition,
    measures, recommendations, disclosure settings): equal hashes, equal inputs."""
    digest = hashlib.sha256()
    for snap in sorted(current_snapshots(ws), key=lambda s: s.path):
        if DATASET_INFO.get(snap.dataset, {}).get("personal_data") and snap.dataset.startswith("people"):
            continue  # person-level files only feed cohorts, which are hashed through their summary
        digest.update(f"{snap.dataset}|{snap.source}|{snap.period}|{snap.as_at}|{snap.path}\n".encode())
        digest.update(hashlib.sha256((ws.lake / snap.path).read_bytes()).digest())
    for text in extra:
        digest.update(text.encode())
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------
# Scope and the one scan


def choose_scope(ws, con, start: str | None, end: str | None, definition_id: str | None) -> Scope:
    """The definition (the workspace's first in use whose data are loaded, force extract first),
    the months (default: the last twelve loaded) and the comparison months before them."""
    check_month(start, "--from"), check_month(end, "--to")
    loaded = loaded_datasets(con)
    if definition_id is None and "crimes" not in loaded and "police_uk" not in loaded:
        raise VrpError("no crime data loaded: run `vrp ingest police-extract` or `vrp ingest police-uk` first")
    defn = choose_definition(ws, con, definition_id, "crimes" if "crimes" in loaded and not definition_id else None)
    if "lsoa_lookup" not in loaded:
        raise VrpError("the SNA needs districts: run `vrp ingest reference lsoa-lookup FILE` first")
    loaded_months = [r[0] for r in con.execute(f"SELECT DISTINCT month FROM {defn.dataset} ORDER BY 1").fetchall()]
    if not loaded_months:
        raise VrpError(f"no {defn.dataset} records are loaded")
    end = end or loaded_months[-1]
    start = start or month_label(max(month_index(end) - 11, month_index(loaded_months[0])))
    if month_index(end) < month_index(start):
        raise VrpError(f"--to {end} is before --from {start}")
    months = [month_label(m) for m in range(month_index(start), month_index(end) + 1)]
    missing = [m for m in months if m not in set(loaded_months)]
    if missing:
        raise VrpError(f"{defn.dataset} data are not loaded for {', '.join(missing[:6])}"
                       f"{' ...' if len(missing) > 6 else ''}: choose --from/--to within "
                       f"{loaded_months[0]}..{loaded_months[-1]}")
    n = len(months)
    before = [month_label(month_index(start) - n + k) for k in range(n)]
    previous = (before[0], before[-1]) if set(before) <= set(loaded_months) else None
    as_at = con.execute(f"SELECT max(as_at) FROM {defn.dataset}").fetchone()[0]
    protect = DATASET_INFO.get(defn.dataset, {}).get("access_tier") != "public"
    return Scope(defn, start, end, previous, months, loaded_months, str(as_at), workspace_rule(ws, defn.dataset), protect)


def records(con, scope: Scope) -> pd.DataFrame:
    """The in-area records matching the definition in the period and the comparison period, one
    row each, with the fields the sections use (NULL where the data cannot say)."""
    first = scope.previous[0] if scope.previous else scope.start
    where = [f"({is_match_sql(scope.definition)})", "in_area", f"month BETWEEN '{first}' AND '{scope.end}'"]
    if scope.dataset == "crimes":
        where.append("crime_status = 'confirmed'")
        cols = ("crime_ref, offence_group AS category, victim_age, victim_sex, location_type, "
                "CAST(hour(committed_from) AS INTEGER) AS hour, CAST(isodow(committed_from) - 1 AS INTEGER) AS weekday")
    else:
        cols = ("crime_id AS crime_ref, crime_type AS category, NULL::INTEGER AS victim_age, NULL AS victim_sex, "
                "NULL AS location_type, NULL::INTEGER AS hour, NULL::INTEGER AS weekday")
    frame = con.execute(f"SELECT month, lsoa_code, district_code, {cols} FROM {scope.dataset}_enriched "
                        f"WHERE {' AND '.join(where)} ORDER BY month, lsoa_code, crime_ref").df()
    frame["current"] = frame["month"] >= scope.start
    return frame


def populations(con) -> dict[str, int]:
    """Residents by LSOA (all ages, the latest population year loaded)."""
    if "population" not in loaded_datasets(con):
        return {}
    rows = con.execute("""SELECT lsoa_code, sum(population) FROM population
                          WHERE year = (SELECT max(year) FROM population) GROUP BY 1""").fetchall()
    return {code: int(n) for code, n in rows}


def suspect_ages(con, scope: Scope) -> pd.DataFrame | None:
    """Ages at the offence of the suspects and offenders of this period's crimes (police person
    extract), one row per person and crime; None when that extract is not loaded."""
    if scope.dataset != "crimes" or "people_police" not in loaded_datasets(con):
        return None
    return con.execute(f"""
        SELECT DISTINCT p.person_key, p.crime_ref, p.age_at_event AS age, c.district_code
        FROM people_police p JOIN crimes_enriched c USING (crime_ref)
        WHERE p.role IN ('suspect', 'offender') AND c.in_area AND c.crime_status = 'confirmed'
          AND ({is_match_sql(scope.definition)}) AND c.month BETWEEN '{scope.start}' AND '{scope.end}'
        ORDER BY 1, 2""").df()


# ---------------------------------------------------------------------------------------------
# Breakdowns: each is one protected table over every area, then cut into chapters


def age_band(age) -> str:
    if age is None or pd.isna(age):
        return "Not recorded"
    for low, high, label in AGE_BANDS:
        if low <= age <= high:
            return label
    return "Not recorded"


AGE_ORDER = [b[2] for b in AGE_BANDS] + ["Not recorded"]


def _by_area(frame: pd.DataFrame, values: pd.Series) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for (area, value), n in values.groupby([frame["district_code"], values]).size().items():
        counts.setdefault(area, {})[value] = int(n)
    return counts


def breakdown(protect: Protect, frame: pd.DataFrame, values: pd.Series, districts: list[str],
              order: list[str] | None = None) -> dict[str, dict]:
    """{area: {"rows": [{category, count, share}], "total": n}}: counts of each category (in the
    given order, then any others found, largest first) with their share of the area's records."""
    found = values.value_counts()
    order = order or []
    categories = [c for c in order if c in found.index or c != "Not recorded"] + \
        [c for c in found.index if c not in order]
    shown = protect.cross(_by_area(frame, values), categories, districts)
    out = {}
    for area, row in shown.items():
        total = row[TOTAL]
        out[area] = {"total": total, "rows": [
            {"category": c, "count": row[c], "share": _pct(row[c], total) if protect.rate_ok(row[c]) else None}
            for c in categories]}
    return out


def _pct(part: int | None, whole: int | None) -> float | None:
    return None if part is None or not whole else round(100.0 * part / whole, 1)


def volumes(protect: Protect, scope: Scope, frame: pd.DataFrame, districts: list[str],
            populations_of: dict[str, int | None]) -> dict[str, dict]:
    """Per area: records by month (and the same month a year earlier), the period's total, its
    rate per 1,000 residents with an exact 95% interval, and the change on the months before with
    the exact conditional test (`vrp.stats.change.compare_counts`)."""
    current = frame[frame["current"]]
    months = protect.cross(_by_area(current, current["month"]), scope.months, districts)
    earlier, before = None, frame[~frame["current"]]
    if scope.previous:
        prev_months = [month_label(month_index(m) - len(scope.months)) for m in scope.months]
        earlier = protect.cross(_by_area(before, before["month"]), prev_months, districts)
    out = {}
    for area, row in months.items():
        count, population = row[TOTAL], populations_of.get(area)
        previous = earlier[area][TOTAL] if earlier else None
        v = {"count": count, "previous": previous, "population": population, "rate": None, "ci_low": None,
             "ci_high": None, "change": None, "monthly": []}
        for m in scope.months:
            item = {"month": m, "count": row[m]}
            if earlier and len(scope.months) == 12:
                item["previous"] = earlier[area][month_label(month_index(m) - 12)]
            v["monthly"].append(item)
        if population and protect.rate_ok(count):
            rate, low, high = rate_ci(count, population, per=PER)
            v.update(rate=round(float(rate), 2), ci_low=round(float(low), 2), ci_high=round(float(high), 2))
        if previous is not None and protect.rate_ok(count) and protect.rate_ok(previous):
            c = compare_counts(count, previous, unit="offences")
            v["change"] = {"pct_change": None if c.pct_change is None else round(c.pct_change, 1),
                           "rate_ratio": round(c.rate_ratio, 3), "low": round(c.rr_ci_low, 3),
                           "high": round(c.rr_ci_high, 3), "p_value": c.p_value, "verdict": c.verdict,
                           "sentence": c.sentence}
        out[area] = v
    return out


def timing(protect: Protect, frame: pd.DataFrame, districts: list[str]) -> dict[str, dict] | None:
    """Hour of day and day of week (force extract's committed-from time) per area, the
    partnership's weekday x hour grid, and the night-time economy share (Friday and Saturday
    22:00 to 04:00). One protected table holds them all, so no margin gives a cell away."""
    current = frame[frame["current"]]
    if current["hour"].isna().all():
        return None
    timed = current[current["hour"].notna()]
    hours, days = timed["hour"].astype(int), timed["weekday"].astype(int)
    hour_of = {d: {} for d in districts}
    day_of = {d: {} for d in districts}
    for (area, h), n in hours.groupby([timed["district_code"], hours]).size().items():
        hour_of[area][h] = int(n)
    for (area, d), n in days.groupby([timed["district_code"], days]).size().items():
        day_of[area][d] = int(n)
    night = ((days == 4) & (hours >= 22)) | ((days == 5) & ((hours >= 22) | (hours < 4))) | ((days == 6) & (hours < 4))
    cells, groups = {}, []
    areas = [PARTNERSHIP, *districts]
    for a in areas:
        for h in range(24):
            cells[(a, "h", h)] = (sum(hour_of[d].get(h, 0) for d in districts) if a == PARTNERSHIP
                                  else hour_of[a].get(h, 0))
        for d in range(7):
            cells[(a, "d", d)] = (sum(day_of[x].get(d, 0) for x in districts) if a == PARTNERSHIP
                                  else day_of[a].get(d, 0))
        mine = timed if a == PARTNERSHIP else timed[timed["district_code"] == a]
        cells[(a, TOTAL)] = len(mine)
        cells[(a, "night")] = int(night[mine.index].sum()) if len(mine) else 0
        groups += [((a, TOTAL), [(a, "h", h) for h in range(24)]), ((a, TOTAL), [(a, "d", d) for d in range(7)])]
    for key in [*[("h", h) for h in range(24)], *[("d", d) for d in range(7)]]:
        groups.append(((PARTNERSHIP, *key), [(d, *key) for d in districts]))
    groups.append(((PARTNERSHIP, TOTAL), [(d, TOTAL) for d in districts]))
    groups.append(((PARTNERSHIP, "night"), [(d, "night") for d in districts]))
    grid = timed.groupby([days, hours]).size()
    for d in range(7):
        for h in range(24):
            cells[("grid", d, h)] = int(grid.get((d, h), 0))
        groups.append(((PARTNERSHIP, "d", d), [("grid", d, h) for h in range(24)]))
    for h in range(24):
        groups.append(((PARTNERSHIP, "h", h), [("grid", d, h) for d in range(7)]))
    shown = protect.table(cells, groups)
    out = {}
    for a in areas:
        total = shown[(a, TOTAL)]
        night_n = shown[(a, "night")]
        rows = lambda kind, labels: [{"category": labels[i], "count": shown[(a, kind, i)],  # noqa: E731
                                      "share": _pct(shown[(a, kind, i)], total) if protect.rate_ok(shown[(a, kind, i)]) else None}
                                     for i in range(len(labels))]
        out[a] = {"timed": total, "untimed": int(((current["hour"].isna()) & (
                      (current["district_code"] == a) | (a == PARTNERSHIP))).sum()),
                  "hours": rows("h", [f"{h:02d}" for h in range(24)]), "days": rows("d", WEEKDAYS),
                  "night": night_n, "night_share": _pct(night_n, total) if protect.rate_ok(night_n) else None}
    out[PARTNERSHIP]["grid"] = {(d, h): shown[("grid", d, h)] for d in range(7) for h in range(24)}
    return out


def seasonality(protect: Protect, scope: Scope, months_all: pd.Series) -> dict | None:
    """Average count by calendar month over every whole calendar year loaded (two at least)."""
    years = pd.Series(scope.loaded_months).str[:4].value_counts()
    whole = sorted(y for y, n in years.items() if n == 12)
    if len(whole) < 2:
        return None
    kept = months_all[months_all.str[:4].isin(whole)]
    by = kept.str[5:7].value_counts()
    raw = {MONTH_NAMES[i]: int(by.get(f"{i + 1:02d}", 0)) for i in range(12)}
    shown = protect.table({**raw, TOTAL: sum(raw.values())}, [(TOTAL, list(raw))])
    rows = [{"category": k, "count": None if shown[k] is None else round(shown[k] / len(whole), 1)} for k in raw]
    return {"years": whole, "rows": rows}


def lsoa_places(protect: Protect, frame: pd.DataFrame, lsoas_of: dict[str, list[str]],
                with_previous: bool) -> dict[str, dict]:
    """Per area: counts by LSOA (zero-count LSOAs included, protected as one hierarchy:
    LSOAs add up to districts, districts to the partnership), concentration (the fewest LSOAs
    holding a quarter and a half of serious violence) and the stability of LSOA ranks on the
    months before (Spearman with a bootstrap interval over events)."""
    current, before = frame[frame["current"]], frame[~frame["current"]]
    by, by_before = current.groupby("lsoa_code").size(), before.groupby("lsoa_code").size()
    districts = list(lsoas_of)
    cells, groups = {}, []
    for d, codes in lsoas_of.items():
        for c in codes:
            cells[c] = int(by.get(c, 0))
        cells[d] = sum(cells[c] for c in codes)
        groups.append((d, list(codes)))
    cells[PARTNERSHIP] = sum(cells[d] for d in districts)
    groups.append((PARTNERSHIP, districts))
    shown = protect.table(cells, groups)
    out = {}
    for area in [PARTNERSHIP, *districts]:
        codes = [c for d in districts for c in lsoas_of[d]] if area == PARTNERSHIP else lsoas_of[area]
        values = np.array([cells[c] for c in codes], dtype=float)
        result = {"counts": {c: shown[c] for c in codes}, "n_lsoas": len(codes),
                  "concentration": None, "lorenz": None, "stability": None}
        if values.sum() > 0:
            result["concentration"] = concentration(values)
            x, y = conc.lorenz_curve(values)
            result["lorenz"] = ([round(float(v), 5) for v in x], [round(float(v), 5) for v in y])
        if with_previous and len(codes) >= 10 and values.sum() > 0:
            prev = np.array([by_before.get(c, 0) for c in codes], dtype=float)
            if prev.sum() > 0:
                r = stab.rank_stability(prev, values, top_fraction=0.1, bootstrap=199, seed=1)
                result["stability"] = {"spearman": round(r.spearman, 2), "low": _round(r.spearman_low),
                                       "high": _round(r.spearman_high), "top": r.n_top_b,
                                       "top_both": r.n_top_both, "jaccard": round(r.jaccard, 2)}
        out[area] = result
    return out


def concentration(values: np.ndarray) -> dict:
    """The report's concentration figures (domain-spec 4.3) for counts over equal-weight units."""
    s = conc.concentration_summary(values, top=(0.05, 0.1))
    half, quarter = (next(x for x in s.smallest if x.target == t) for t in (0.5, 0.25))
    return {"units": s.n_units, "gini": round(s.gini, 3), "zero_units": s.n_zero_units,
            "half_units": half.n_units, "half_unit_share": round(100 * half.unit_share, 1),
            "half_value_share": round(100 * half.value_share, 1),
            "quarter_units": quarter.n_units, "quarter_unit_share": round(100 * quarter.unit_share, 1),
            "top10_share": round(100 * dict(s.top_shares)[0.1], 1)}


def deprivation(protect: Protect, con, frame: pd.DataFrame, lsoas: list[str], pops: dict[str, int]) -> dict | None:
    """Serious violence by national IMD decile of the LSOA (1 = most deprived tenth of England):
    counts (protected as one table with their total), residents, the rate per 1,000 with its exact
    interval, and the rate ratio of the most to the least deprived decile whose rates can be shown,
    with the exact conditional test. LSOAs with no decile (IMD 2019 uses 2011 codes) are counted and named."""
    if "deprivation" not in loaded_datasets(con) or not pops:
        return None
    decile_of = dict(con.execute("SELECT lsoa_code, arg_max(imd_decile, as_at) FROM deprivation GROUP BY 1").fetchall())
    matched = [c for c in lsoas if c in decile_of and pops.get(c)]
    if not matched:
        return None
    current = frame[frame["current"]]
    by_lsoa = current.groupby("lsoa_code").size()
    deciles = sorted({int(decile_of[c]) for c in matched})
    raw = {d: int(sum(by_lsoa.get(c, 0) for c in matched if decile_of[c] == d)) for d in deciles}
    residents = {d: sum(pops[c] for c in matched if decile_of[c] == d) for d in deciles}
    shown = protect.table({**raw, TOTAL: sum(raw.values())}, [(TOTAL, deciles)])
    rows = []
    for d in deciles:
        row = {"decile": d, "count": shown[d], "population": residents[d], "lsoas": sum(decile_of[c] == d for c in matched),
               "rate": None, "ci_low": None, "ci_high": None}
        if protect.rate_ok(shown[d]):
            rate, low, high = rate_ci(raw[d], residents[d], per=PER)
            row.update(rate=round(float(rate), 2), ci_low=round(float(low), 2), ci_high=round(float(high), 2))
        rows.append(row)
    rated = [r for r in rows if r["rate"] is not None]  # the extremes whose rates may be shown
    gradient = None
    if len(rated) > 1:
        most, least = rated[0], rated[-1]
        c = compare_counts(raw[most["decile"]], raw[least["decile"]],
                           exposure_ratio=residents[most["decile"]] / residents[least["decile"]])
        gradient = {"most": most["decile"], "least": least["decile"], "rr": round(c.rate_ratio, 2),
                    "low": round(c.rr_ci_low, 2), "high": round(c.rr_ci_high, 2), "verdict": ratio_verdict(c.verdict)}
    unmatched = [c for c in lsoas if c not in decile_of]
    return {"rows": rows, "gradient": gradient, "unmatched_lsoas": len(unmatched),
            "unmatched_count": protect.table({"n": int(sum(by_lsoa.get(c, 0) for c in unmatched))}, [])["n"]}


def ratio_verdict(change_verdict: str) -> str:
    """A rate ratio between two groups in words: the test of change says 'rise' and 'fall'."""
    return {"significant rise": "higher", "significant fall": "lower"}.get(change_verdict, "similar")


def _round(v, digits: int = 2):
    return None if v is None else round(float(v), digits)


def district_comparison(volumes_of: dict[str, dict], districts: list) -> list[dict]:
    """Each district's rate per 1,000 residents and its rate ratio to the rest of the partnership,
    with the exact 95% interval of `compare_counts` (conditional binomial on the two counts,
    exposures the two populations). Only where both counts are publishable."""
    total = volumes_of[PARTNERSHIP]
    rows = []
    for d in districts:
        v = volumes_of[d.code]
        row = {"code": d.code, "name": d.name, "slug": slug(d.name), "count": v["count"], "rate": v["rate"],
               "ci_low": v["ci_low"], "ci_high": v["ci_high"], "rr": None, "rr_low": None, "rr_high": None,
               "verdict": None}
        if v["rate"] is not None and total["count"] is not None and total["population"]:
            rest, rest_pop = total["count"] - v["count"], total["population"] - v["population"]
            if rest > 0 and rest_pop > 0:
                c = compare_counts(v["count"], rest, exposure_ratio=v["population"] / rest_pop)
                row.update(rr=round(c.rate_ratio, 2), rr_low=round(c.rr_ci_low, 2), rr_high=round(c.rr_ci_high, 2),
                           verdict=ratio_verdict(c.verdict))
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------
# The whole assessment


def assemble(ws, start: str | None = None, end: str | None = None, definition_id: str | None = None,
             step: Callable[[str], None] = lambda label: None) -> dict:
    """Everything the report prints, as plain data: the scope, one chapter per area (partnership
    first) and the district comparison."""
    con = open_lake(ws)
    scope = choose_scope(ws, con, start, end, definition_id)
    protect = Protect(scope.rule, scope.protect)
    step("reading serious violence records")
    frame = records(con, scope)
    if not frame["current"].any():
        raise NothingToShow(f"no in-area {cover.noun(scope.dataset)} record in {scope.start} to {scope.end} matches "
                            f"{scope.definition.id}: nothing to assess (choose another --definition or period)")
    areas = area_list(con, ws, scope.dataset)
    districts = [a for a in areas if a.level == "district"]
    codes = [d.code for d in districts]
    pops = populations(con)
    # A lookup holding two LSOA vintages lists codes that no longer exist; places are the LSOAs of
    # the population's vintage (and any a record names), so retired codes do not pad the zeros.
    used = set(frame["lsoa_code"].dropna())
    lsoas_of = {d.code: [a.code for a in areas if a.level == "lsoa" and a.parent == d.code
                         and (not pops or a.code in pops or a.code in used)] for d in districts}
    pop_of = {d: (sum(pops.get(c, 0) for c in lsoas_of[d]) or None) for d in codes}
    pop_of[PARTNERSHIP] = sum(v or 0 for v in pop_of.values()) or None
    step("volumes, trends and profiles")
    current = frame[frame["current"]]
    vols = volumes(protect, scope, frame, codes, pop_of)
    mix = breakdown(protect, current, current["category"].fillna("Not recorded"), codes)
    when = timing(protect, frame, codes)
    victims = sexes = locations = suspects = None
    if scope.dataset == "crimes":
        victims = breakdown(protect, current, current["victim_age"].map(age_band), codes, AGE_ORDER)
        aged = current[current["victim_age"].notna()]
        sexes = breakdown(protect, current, current["victim_sex"].fillna("unknown").str.capitalize(), codes,
                          ["Male", "Female"])
        young = protect.cross(_by_area(aged, (aged["victim_age"] < 25).map({True: "under 25", False: "25 and over"})),
                              ["under 25", "25 and over"], codes)
        locations = breakdown(protect, current, current["location_type"].fillna("not recorded")
                              .str.replace("_", " ").str.capitalize(), codes)
        ages = suspect_ages(con, scope)
        if ages is not None:
            suspects = breakdown(protect, ages, ages["age"].map(age_band), codes, AGE_ORDER)
    step("places: LSOAs, concentration and stability")
    where = lsoa_places(protect, frame, lsoas_of, scope.previous is not None)
    step("headline measures")
    skipped: list[str] = []
    measures = measure_rows(ws, ["all"], "district", "custom", scope.start, scope.end, "previous", TIER, skipped)
    chapters = []
    for area in [areas[0], *districts]:
        code = area.code
        chapters.append({
            "code": code, "name": area.name, "slug": "index" if code == PARTNERSHIP else slug(area.name),
            "level": area.level, "volume": vols[code], "mix": mix[code],
            "when": None if when is None else when[code],
            "victims": None if victims is None else {"ages": victims[code], "sexes": sexes[code],
                                                     "under25": young[code]["under 25"],
                                                     "age_known": young[code][TOTAL]},
            "suspects": None if suspects is None else suspects[code],
            "locations": None if locations is None else locations[code],
            "places": where[code], "measures": [r for r in measures if r["area_code"] == code],
            "deprivation": (deprivation(protect, con, frame, [c for d in codes for c in lsoas_of[d]], pops)
                            if code == PARTNERSHIP else None)})
    return {"scope": scope, "chapters": chapters, "comparison": district_comparison(vols, districts),
            "seasonality": seasonality(protect, scope, seasonal_months(con, scope)),
            "lsoa_names": {a.code: a.name for a in areas if a.level == "lsoa"}, "districts": districts,
            "skipped_measures": skipped, "frame": frame, "con": con}


def seasonal_months(con, scope: Scope) -> pd.Series:
    """The month of every loaded record of the definition (for the calendar-month profile)."""
    where = [f"({is_match_sql(scope.definition)})", "in_area"]
    if scope.dataset == "crimes":
        where.append("crime_status = 'confirmed'")
    return con.execute(f"SELECT month FROM {scope.dataset}_enriched WHERE {' AND '.join(where)}").df()["month"]
