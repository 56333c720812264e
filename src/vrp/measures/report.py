"""What the CLI, the web pages and the reports ask of the measures: tables of figures, SPC
series and charts, all through `compute` and `publish`."""
from __future__ import annotations

from vrp.errors import VrpError
from vrp.lake.read import loaded_datasets
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
        raise VrpError("no measure can be computed: none of their datasets is loaded")
    return chosen


def measure_rows(ws, ids: list[str] | None, by: str = "district", period: str | None = None,
                 start: str | None = None, end: str | None = None, compare: str = "previous",
                 tier: str = "analyst", skipped: list[str] | None = None) -> list[dict]:
    """One row per measure x area x period, stamped with versions, as-at date and tier.

    With 'all', a measure whose data cannot be cut into the period asked for (annual NHS data by
    month) is left out and named in `skipped`; a measure asked for by name raises instead.
    """
    check_month(start, "--from"), check_month(end, "--to")
    con = open_lake(ws)
    implicit = not ids or ids == ["all"]
    rows = []
    for measure in resolve(ws, con, ids):
        try:
            table = compute(ws, con, measure, period, start, end, compare)
        except PeriodGrainError as exc:
            if not implicit:
                raise
            if skipped is not None:
                skipped.append(f"{measure.id}: {exc}")
            continue
        rows += publish(ws, table, by, tier)
    return rows


def spc_series(ws, measure_id: str, area: str = "partnership", start: str | None = None,
               end: str | None = None, tier: str = "analyst", baseline: int | None = None) -> dict:
    """Monthly counts of one measure for one area with XmR limits and special-cause flags.

    For partners every monthly count must be publishable: limits computed from hidden months
    would leak them, so a series with a suppressed month is refused rather than gapped.
    """
    check_month(start, "--from"), check_month(end, "--to")
    measure = get_measure(ws, measure_id)
    table = compute(ws, open_lake(ws), measure, "month", start, end)
    rows = _area_rows(table, area)
    if len(rows) < 2:
        raise VrpError(f"measure {measure_id} has fewer than two complete months for {area}")
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
