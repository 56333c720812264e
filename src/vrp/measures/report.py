"""What the CLI, the web pages and the reports ask of the measures: tables of figures, SPC
series and charts, all through `compute` and `publish`."""
from __future__ import annotations

from vrp import coverage as cover
from vrp.errors import NothingToShow, VrpError
from vrp.lake.read import HINTS, loaded_datasets
from vrp.measures.catalogue import Measure, get_measure, workspace_measures
from vrp.measures.compute import MeasureTable, PeriodGrainError, compute
from vrp.measures.publish import needs_protection, publish, suppressed_cells, workspace_rule
from vrp.query import check_month, open_lake
from vrp.stats.spc import xmr


def list_measures(ws) -> list[dict]:
    return [m.summary() for m in workspace_measures(ws).values()]


def resolve(ws, con, ids: list[str] | None) -> list[Measure]:
    """Measures by id; 'all' (or none given) means every measure whose data are loaded."""
    available = workspace_measures(ws)
    if ids and ids != ["all"]:
        return [get_measure(ws, i, available) for i in ids]
    loaded = loaded_datasets(con)
    chosen = [m for m in available.values() if m.dataset in loaded]
    if not chosen:
        raise NothingToShow("no measure can be computed: none of their datasets (police.uk, force crime extracts, "
                            "homicides, ED attendances, admissions) is loaded; start with "
                            f"`{HINTS['police_uk']}` or `{HINTS['crimes']}` (`vrp measures list` says what each counts)")
    return chosen


def measure_rows(ws, ids: list[str] | None, by: str = "district", period: str | None = None,
                 start: str | None = None, end: str | None = None, compare: str = "previous",
                 tier: str = "analyst", skipped: list[str] | None = None,
                 notes: list[str] | None = None) -> list[dict]:
    """One row per measure x area x period, stamped with versions, as-at date and tier.

    Without a period type, --from/--to make the range one custom period (else the measure's own
    type). A measure asked for by name that has no figure (its data are not loaded, or no
    complete period of the type lies in the range) raises `NothingToShow` saying why; with
    'all', such a measure, or one whose data cannot be cut into the period asked for (annual NHS
    data by month), is left out with its reason in `skipped`, and only no figure at all raises.
    Periods left out because a month in them has no data are named in `notes`.
    """
    check_month(start, "--from"), check_month(end, "--to")
    if start and end and end < start:
        raise VrpError(f"--to {end} is before --from {start}")
    con = open_lake(ws)
    implicit = not ids or ids == ["all"]
    rows: list[dict] = []
    reasons: list[str] = []
    for measure in resolve(ws, con, ids):
        try:
            table = compute(ws, con, measure, period, start, end, compare)
        except PeriodGrainError as exc:
            if not implicit:
                raise
            reasons.append(f"{measure.id}: {exc}")
            continue
        if not table.reported:
            if not implicit:
                raise NothingToShow(table.empty_reason())
            reasons.append(table.empty_reason())
            continue
        note = table.left_out_note()
        if note and notes is not None:
            notes.append(note)
        rows += publish(ws, table, by, tier)
    if skipped is not None:
        skipped += reasons
    if not rows:
        raise NothingToShow(f"no measure whose data are loaded can be reported: {merge_reasons(reasons)}")
    return rows


def merge_reasons(reasons: list[str]) -> str:
    """'A: why; B: why' with measures that share a reason named together ('A, B: why')."""
    by_reason: dict[str, list[str]] = {}
    for r in reasons:
        measure, _, why = r.partition(": ")
        by_reason.setdefault(why, []).append(measure)
    return "; ".join(f"{', '.join(ids)}: {why}" for why, ids in by_reason.items())


def spc_series(ws, measure_id: str, area: str = "partnership", start: str | None = None,
               end: str | None = None, tier: str = "analyst", baseline: int | None = None) -> dict:
    """Monthly counts of one measure for one area with XmR limits and special-cause flags.

    For partners every monthly count must be publishable: limits computed from hidden months
    would leak them, so a series with a suppressed month is refused rather than gapped.
    """
    check_month(start, "--from"), check_month(end, "--to")
    measure = get_measure(ws, measure_id)
    if start and end and end < start:
        raise VrpError(f"--to {end} is before --from {start}")
    table = compute(ws, open_lake(ws), measure, "month", start, end)
    if not table.reported:
        raise NothingToShow(table.empty_reason())
    rows = _area_rows(table, area)
    if len(rows) < 2:
        has = f"{rows[0]['area']} has 1 ({rows[0]['period']})" if rows else f"{area} has none"
        raise NothingToShow(f"{measure_id}: an SPC chart needs at least two months with data; {has}; "
                            f"{cover.noun(measure.dataset)} data cover {cover.describe(table.meta['covered_months'])}")
    if needs_protection(table, tier):
        code = rows[0]["area_code"]
        hidden = {p for p, a in suppressed_cells(table, workspace_rule(ws, measure.dataset)) if a == code}
        if hidden:
            raise VrpError(f"{len(hidden)} monthly counts of {measure_id} for {rows[0]['area']} are suppressed for "
                           "partners, so an SPC chart cannot be shown: use a larger area or a longer period")
    result = xmr([r["count"] for r in rows], baseline=baseline, improvement=measure.improvement)
    summary = result.as_dict()
    summary["points"] = [{"period": row["period"], **point} for point, row in zip(result.records(), rows)]
    return {"measure": measure.id, "measure_version": measure.version, "name": measure.name,
            "definition": measure.definition.id, "definition_version": measure.definition.version,
            "area_code": rows[0]["area_code"], "area": rows[0]["area"], "as_at": table.meta["as_at"],
            "tier": tier, **summary}


def _area_rows(table: MeasureTable, area: str) -> list[dict]:
    """Rows of one area (partnership or a district), found by code or case-insensitive name."""
    wanted = area.lower()
    levels = {"partnership", "district"}
    codes = {a.code for a in table.areas if a.level in levels and wanted in (a.code.lower(), a.name.lower())}
    if not codes:
        known = ", ".join(a.code for a in table.areas if a.level in levels)
        raise VrpError(f"unknown area {area!r} (expected partnership, a district code or name: {known})")
    return table.rows(levels, codes)
