"""Events for place analysis, read from the lake: located serious-violence crimes of one definition
and period, in BNG metres, with their harm weight; and the study area they are analysed in."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from pyproj import Transformer

from vrp import coverage as cover
from vrp.definitions import Definition, get_definition, is_match_sql
from vrp.errors import VrpError
from vrp.lake import require_dataset
from vrp.lake.read import loaded_datasets
from vrp.measures.periods import month_index, month_label
from vrp.places import harm

from vrp.query import CRIME_DATASETS, check_month, choose_dataset, require_records

WEIGHTS = ("count", "harm-css", "harm-cchi")
_TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)


@dataclass(frozen=True)
class Events:
    """Located crimes: coordinates (BNG metres), month index, day number where the data have days,
    code (HO offence code or police.uk crime type), LSOA and weight (1, or harm), with provenance."""
    x: np.ndarray
    y: np.ndarray
    month: np.ndarray            # vrp.measures.periods.month_index
    day: np.ndarray | None       # days since 1970-01-01 (force extracts); None for police.uk (months only)
    code: np.ndarray
    lsoa: np.ndarray
    weight: np.ndarray
    dataset: str
    definition: Definition
    start: str | None
    end: str | None
    as_at: str | None
    weighting: str = "count"     # "count" or the harm scheme id and version
    unmapped: list[dict] = field(default_factory=list)  # codes with no harm weight: [{code, rows}]
    unlocated: int = 0           # matching crimes with no coordinates (not analysable by place)
    missing_months: list[int] = field(default_factory=list)  # months asked for with no data loaded (gaps)

    @property
    def n(self) -> int:
        return len(self.x)

    def between(self, start: str | None, end: str | None) -> "Events":
        """The events of months start..end (YYYY-MM, inclusive)."""
        keep = np.ones(self.n, dtype=bool)
        if start:
            keep &= self.month >= month_index(start)
        if end:
            keep &= self.month <= month_index(end)
        return self.subset(keep, start or self.start, end or self.end)

    def subset(self, keep: np.ndarray, start: str | None = None, end: str | None = None) -> "Events":
        day = None if self.day is None else self.day[keep]
        return Events(self.x[keep], self.y[keep], self.month[keep], day, self.code[keep], self.lsoa[keep],
                      self.weight[keep], self.dataset, self.definition, start or self.start, end or self.end,
                      self.as_at, self.weighting, self.unmapped, self.unlocated)

    @property
    def harm(self) -> np.ndarray | None:
        """The harm weights, or None when events are simply counted."""
        return None if self.weighting == "count" else self.weight

    def timing(self) -> tuple[np.ndarray, int, int, str]:
        """Event times as forecasts and near repeats use them: (times, time unit, prospective time
        window in units, label). Force extracts have days: weeks of 7 days and Bowers et al.'s
        8-week window. police.uk has months only: months and a 2-month window."""
        if self.day is not None:
            return self.day, 7, 8, "days"
        return self.month, 1, 2, "months"

    def provenance(self) -> dict:
        return {"dataset": self.dataset, "definition": self.definition.id,
                "definition_version": self.definition.version, "from": self.start, "to": self.end,
                "as_at": self.as_at, "weight": self.weighting, "events": int(self.n),
                "unlocated_events": int(self.unlocated), "unmapped_codes": self.unmapped,
                "months_without_data": [month_label(m) for m in self.missing_months]}


def choose_definition(ws, con, definition_id: str | None, dataset: str | None) -> Definition:
    """The definition asked for; else the first in the workspace's `in_use` list whose data are loaded."""
    if definition_id:
        defn = get_definition(definition_id, [ws.definitions_dir])
        if defn.dataset not in CRIME_DATASETS:
            raise VrpError(f"definition '{defn.id}' classifies {defn.dataset} data, which have no map locations")
        return defn
    from vrp.classify import definitions_in_use  # here: classify loads pyarrow, not needed otherwise

    dataset = choose_dataset(con, dataset, [], [])
    for defn in definitions_in_use(ws, None):
        if defn.dataset == dataset:
            return defn
    raise VrpError(f"no serious-violence definition for {dataset} in use: pass --definition")


def load_events(ws, con, definition_id: str | None = None, start: str | None = None, end: str | None = None,
                dataset: str | None = None, weight: str = "count") -> Events:
    """In-area crimes matching the definition in months start..end that have a location."""
    check_month(start, "--from"), check_month(end, "--to")
    if weight not in WEIGHTS:
        raise VrpError(f"unknown --weight '{weight}' (expected one of {', '.join(WEIGHTS)})")
    defn = choose_definition(ws, con, definition_id, dataset)
    if dataset and defn.dataset != dataset:
        raise VrpError(f"definition '{defn.id}' classifies {defn.dataset} data, not {dataset}")
    dataset = defn.dataset
    require_records(ws, con, dataset, [defn])
    require_dataset(con, "lsoa_lookup")
    if start and end and end < start:
        raise VrpError(f"--to {end} is before --from {start}")
    missing = cover.require_months(ws, dataset, start, end)
    where = ["in_area", f"({is_match_sql(defn)})"]
    if start:
        where.append(f"month >= '{start}'")
    if end:
        where.append(f"month <= '{end}'")
    if dataset == "crimes":
        where.append("crime_status = 'confirmed'")
        cols = ("easting AS x, northing AS y, month, offence_code AS code, lsoa_code, "
                "epoch_ms(coalesce(CAST(committed_from AS DATE), recorded_date)::TIMESTAMP) // 86400000 AS day")
    else:
        cols = "longitude AS x, latitude AS y, month, crime_type AS code, lsoa_code, NULL::BIGINT AS day"
    # DuckDB's own NumPy conversion: going through Arrow makes pyarrow import pandas (~0.3 s).
    table = con.execute(f"SELECT {cols} FROM {dataset}_enriched WHERE {' AND '.join(where)} "
                        "ORDER BY month, x, y, code").fetchnumpy()
    x = _filled(table["x"], np.nan).astype(float)
    y = _filled(table["y"], np.nan).astype(float)
    located = np.isfinite(x) & np.isfinite(y)
    if dataset == "police_uk":
        x, y = _to_bng(x, y, located)
    code = _filled(table["code"], None).astype(object)
    months = _filled(table["month"], None).tolist()
    month_of = {m: month_index(m) for m in set(months)}
    month = np.array([month_of[m] for m in months], dtype=np.int64)
    day = _filled(table["day"], np.iinfo(np.int64).min).astype(np.int64) if dataset == "crimes" else None
    weights, weighting, unmapped = _weights(code[located], dataset, weight)
    as_at = con.execute(f"SELECT max(as_at) FROM {dataset}").fetchone()[0]
    return Events(x[located], y[located], month[located], None if day is None else day[located], code[located],
                  _filled(table["lsoa_code"], None).astype(object)[located], weights, dataset, defn,
                  start, end, str(as_at) if as_at else None, weighting, unmapped, int((~located).sum()), missing)


def no_events_reason(ws, con, ev: Events, what: str = "nothing to map") -> str:
    """Why a query found no located events, in one line: the matching records have no
    coordinates, none lies in the partnership area, or none matches the definition."""
    noun, defn = cover.noun(ev.dataset), ev.definition
    months = cover.range_text(ws, ev.dataset, ev.start, ev.end)
    if ev.unlocated:
        other = (" (police.uk records are located: --dataset police_uk)"
                 if ev.dataset == "crimes" and "police_uk" in loaded_datasets(con) else "")
        return f"the {ev.unlocated:,} {defn.id} {noun} records in {months} have no coordinates: {what}{other}"
    where = ["TRUE"] + ([f"month >= '{ev.start}'"] if ev.start else []) + ([f"month <= '{ev.end}'"] if ev.end else [])
    if ev.dataset == "crimes":
        where.append("crime_status = 'confirmed'")
    n_all, n_area = con.execute(f"SELECT count(*), count(*) FILTER (WHERE in_area) FROM {ev.dataset}_enriched "
                                f"WHERE {' AND '.join(where)}").fetchone()
    if not n_all:
        return f"no {noun} records in {months}: {what}"
    if not n_area:
        return (f"none of the {n_all:,} {noun} records in {months} lies in the partnership area ([area] districts "
                f"in vrp.toml, the LSOA lookup): {what}")
    return f"none of the {n_area:,} in-area {noun} records in {months} match {defn.id}: {what}"


def _to_bng(lon: np.ndarray, lat: np.ndarray, located: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """BNG metres of the located points (the others stay NaN). police.uk points are snapped to a
    few map points (about one distinct point per eight crimes), so each is transformed once."""
    x, y = np.full(lon.shape, np.nan), np.full(lat.shape, np.nan)
    points, back = np.unique(lon[located] + 1j * lat[located], return_inverse=True)
    px, py = _TO_BNG.transform(points.real, points.imag)
    x[located], y[located] = np.asarray(px)[back], np.asarray(py)[back]
    return x, y


def _filled(column: np.ndarray, missing) -> np.ndarray:
    """A column from DuckDB's fetchnumpy (a masked array where it holds NULLs) with `missing` in
    place of each NULL: NaN for numbers, None for text, as Arrow's conversion gave them."""
    if not np.ma.isMaskedArray(column):
        return np.asarray(column)
    mask = np.ma.getmaskarray(column)
    data = np.ma.getdata(column)
    if isinstance(missing, float) and data.dtype.kind in "iu":
        data = data.astype(float)
    out = data.copy()
    out[mask] = missing
    return out


def _weights(codes: np.ndarray, dataset: str, weight: str) -> tuple[np.ndarray, str, list[dict]]:
    """Count weight 1, or the harm weight of each crime's code. Unmapped codes are reported (and
    weigh 0 in the totals, so harm totals read "of the weighted crimes"); police.uk data have only
    crime types, so they get the labelled coarse police.uk table."""
    if weight == "count":
        return np.ones(len(codes)), "count", []
    scheme_id = weight.removeprefix("harm-")
    if dataset == "police_uk":
        if scheme_id != "css":
            raise VrpError("police.uk data have crime types only: the coarse police.uk harm weighting is CSS-based, "
                           "use --weight harm-css (or load a force extract for CCHI)")
        scheme_id = "policeuk"
    scheme = harm.load_scheme(scheme_id)
    values, report = harm.weigh(codes, scheme)
    unmapped = [{"code": v, "rows": n} for v, n in report.unmapped]
    return np.nan_to_num(values, nan=0.0), f"{scheme.id} v{scheme.version}", unmapped


def study_area(ws, con) -> tuple[object | None, str]:
    """The partnership boundary in BNG: the union of the in-area LSOA (or district) polygons when
    boundaries are loaded, else None (the grid then covers the extent of the data)."""
    if "boundaries" not in loaded_datasets(con) or "lsoa_lookup" not in loaded_datasets(con):
        return None, "data extent (no boundaries loaded)"
    found, level = area_polygons(con)
    if found is None:
        return None, "data extent (no boundaries for the area's LSOAs or districts)"
    return shapely.union_all(shapely.make_valid(found[1])), f"partnership boundary ({level} polygons)"


def area_polygons(con, level: str | None = None) -> tuple[np.ndarray | None, str | None]:
    """Polygons (BNG) of the in-area LSOAs, else of the in-area districts, from the boundaries."""
    for key, codes_sql in (("lsoa", "SELECT lsoa_code FROM area_lsoas"),
                           ("district", "SELECT DISTINCT district_code FROM area_lsoas")):
        if level and key != level:
            continue
        rows = con.execute(f"SELECT code, arg_max(geometry, as_at) AS geometry, level FROM boundaries "
                           f"WHERE code IN ({codes_sql}) GROUP BY code, level ORDER BY code").fetchall()
        if rows:
            geoms = shapely.from_wkb([r[1] for r in rows])
            geoms = shapely.transform(geoms, lambda xy: np.column_stack(_TO_BNG.transform(xy[:, 0], xy[:, 1])))
            return (np.array([r[0] for r in rows], dtype=object), geoms), rows[0][2]
    return None, None
