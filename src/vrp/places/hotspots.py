"""Place analysis over a workspace: the functions `vrp hotspots`, the reports and the web call.

Each reads the located events of one definition and period from the lake (vrp.places.events),
counts them in units of place (vrp.places.units) and hands plain arrays to the numeric modules.
Every result carries its provenance: dataset, definition and version, period, as-at date,
weighting, units and study area.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vrp import coverage as cover
from vrp.errors import NothingToShow, VrpError
from vrp.measures.periods import month_index, month_label
from vrp.places import concentration as conc
from vrp.places import forecast, knox as knox_test, local_stats, neighbours, stability as stab
from vrp.places.events import load_events, no_events_reason
from vrp.places.units import PlaceCounts, build_units, count_events
from vrp.query import open_lake

STATISTICS = ("gistar", "gi", "moran")
RANK_BY = ("observed", "kde", "prospective")


@dataclass(frozen=True)
class Query:
    """What to analyse: which crimes (definition, months, dataset), weighted how, in which units."""
    definition: str | None = None
    start: str | None = None
    end: str | None = None
    dataset: str | None = None
    weight: str = "count"
    unit: str = "square"
    cell: float | None = None


def place_counts(ws, query: Query, con=None, allow_empty: bool = False) -> PlaceCounts:
    """Events of the query counted in every unit of the study area (zero-count units included).

    A query with no located event raises `NothingToShow` saying why, unless allow_empty (a
    report section that is simply left out)."""
    con = con or open_lake(ws)
    events = load_events(ws, con, query.definition, query.start, query.end, query.dataset, query.weight)
    if not events.n and not allow_empty:
        raise NothingToShow(no_events_reason(ws, con, events))
    units = build_units(ws, con, query.unit, query.cell, events)
    return count_events(units, events)


def grid_rows(pc: PlaceCounts) -> list[dict]:
    """One row per unit with the provenance columns every figure carries."""
    tag = _tag(pc)
    return [{**r, **tag} for r in pc.records()]


def weights_for(pc: PlaceCounts, neighbourhood: str = "queen"):
    """Binary neighbours of the units: queen/rook cells, hexagons sharing an edge, LSOAs sharing
    a point, or every unit whose centre is within `distance:METRES`."""
    u = pc.units
    if neighbourhood.startswith("distance:"):
        try:
            metres = float(neighbourhood.split(":", 1)[1])
        except ValueError:
            raise VrpError(f"--neighbourhood {neighbourhood!r}: expected distance:METRES, e.g. distance:300") from None
        return neighbours.distance_band(u.x, u.y, metres)
    if neighbourhood not in ("queen", "rook"):
        raise VrpError(f"unknown --neighbourhood {neighbourhood!r} (expected queen, rook or distance:METRES)")
    if u.kind == "square":
        return neighbours.grid_neighbours(u.grid.nx, u.grid.ny, neighbourhood, mask=u.mask())
    if u.kind == "hex":  # the six hexagons sharing an edge: centres exactly one cell apart
        return neighbours.distance_band(u.x, u.y, u.size * 1.001)
    return neighbours.polygon_contiguity(u.polygons(), neighbourhood)


def local_statistic(pc: PlaceCounts, statistic: str = "gistar", neighbourhood: str = "queen",
                    permutations: int = 0, seed: int | None = None, fdr: str = "bh", alpha: float = 0.05) -> dict:
    """Gi*, Gi or local Moran's I for every unit, with q-values; rows for every unit of the grid."""
    if statistic not in STATISTICS:
        raise VrpError(f"unknown statistic '{statistic}' (expected one of {', '.join(STATISTICS)})")
    w = weights_for(pc, neighbourhood)
    y = pc.value
    if statistic == "moran":
        result = local_stats.local_moran(y, w, permutations=permutations, seed=seed, fdr=fdr, alpha=alpha)
    else:
        result = local_stats.gistar(y, w, star=statistic == "gistar", permutations=permutations, seed=seed,
                                    fdr=fdr, alpha=alpha)
    u, tag = pc.units, _tag(pc)
    # Built column by column, each distinct number formatted once (a row loop over NumPy scalars
    # took a second for 100,000 cells; a map's cells share few distinct x, y, counts and z).
    columns = {"cell_id": u.ids.tolist(), "x": _each_distinct(u.x, lambda v: round(v, 1)),
               "y": _each_distinct(u.y, lambda v: round(v, 1)), "count": pc.count.tolist(),
               **{k: _num_values(v) for k, v in result.column_arrays().items()},
               "significant": result.significant.tolist()}
    rows = _rows(columns, tag)
    return {"provenance": {**pc.provenance(), "neighbourhood": neighbourhood}, "summary": result.as_dict(),
            "rows": rows}


def select_hotspots(ws, query: Query, n: int | None = None, coverage: float | None = None,
                    rank_by: str = "observed", con=None) -> dict:
    """The top N units (or the top units covering a share of the area), ranked by the observed
    count or harm, or by a forecast from the same period's events (KDE or prospective)."""
    if rank_by not in RANK_BY:
        raise VrpError(f"unknown --rank-by '{rank_by}' (expected one of {', '.join(RANK_BY)})")
    pc = place_counts(ws, query, con)
    score = pc.value if rank_by == "observed" else _forecast_score(pc, rank_by)
    top = forecast.select_top(score, pc.units.area_km2, coverage=coverage, n=n)
    return {"provenance": {**pc.provenance(), "rank_by": rank_by, "n": n, "coverage": coverage},
            "rows": selection_rows(pc, top, score), "polygons": pc.units.polygons()[top]}


def selection_rows(pc: PlaceCounts, top: np.ndarray, score: np.ndarray) -> list[dict]:
    """Ranked hotspots with their share of all serious violence (and harm) and of the area."""
    u, tag = pc.units, _tag(pc)
    total_count, total_value, total_area = pc.count.sum(), pc.value.sum(), u.area_km2.sum()
    weighted = pc.events.harm is not None
    rows, cum_count, cum_value, cum_area = [], 0, 0.0, 0.0
    for rank, i in enumerate(top, start=1):
        cum_count += pc.count[i]
        cum_value += pc.value[i]
        cum_area += u.area_km2[i]
        row = {"rank": rank, "cell_id": u.ids[i], "x": round(float(u.x[i]), 1), "y": round(float(u.y[i]), 1),
               "score": round(float(score[i]), 6), "count": int(pc.count[i]),
               "share_of_count": _share(pc.count[i], total_count), "cumulative_share_of_count": _share(cum_count, total_count)}
        if weighted:
            row.update(harm=round(float(pc.value[i]), 3), share_of_harm=_share(pc.value[i], total_value),
                       cumulative_share_of_harm=_share(cum_value, total_value))
        row.update(area_km2=round(float(u.area_km2[i]), 6), share_of_area=_share(u.area_km2[i], total_area),
                   cumulative_share_of_area=_share(cum_area, total_area), **tag)
        rows.append(row)
    return rows


def concentration_summary(pc: PlaceCounts, top=(0.01, 0.05, 0.1)) -> dict:
    """Share of serious violence (or harm) in the top units, Gini, and the fewest units and least
    area holding 25% and 50% of it; the Lorenz curve at 100 points."""
    summary = conc.concentration_summary(pc.value, top=top)
    by_area = conc.concentration_summary(pc.value, pc.units.area_km2, top=top) if pc.units.kind != "square" else None
    x, y = conc.lorenz_curve(pc.value)
    keep = np.unique(np.linspace(0, len(x) - 1, min(len(x), 101)).astype(int))
    return {"provenance": pc.provenance(), "summary": summary.as_dict(),
            "by_area": None if by_area is None else by_area.as_dict(),
            "lorenz": [{"unit_share": round(float(x[k]), 6), "value_share": round(float(y[k]), 6)} for k in keep]}


def period_values(ws, query: Query, periods: list[tuple[str, str]], con=None) -> tuple[PlaceCounts, np.ndarray]:
    """Values per unit for each period (periods x units), on one grid built for the whole span."""
    con = con or open_lake(ws)
    span = Query(**{**query.__dict__, "start": periods[0][0], "end": periods[-1][1]})
    pc = place_counts(ws, span, con)
    ev = pc.events
    rows = []
    for start, end in periods:
        keep = (ev.month >= month_index(start)) & (ev.month <= month_index(end)) & (pc.unit_of_event >= 0)
        rows.append(np.bincount(pc.unit_of_event[keep], weights=ev.weight[keep], minlength=pc.units.n))
    return pc, np.vstack(rows)


def split_periods(start: str, end: str, months: int) -> list[tuple[str, str]]:
    """start..end cut into consecutive periods of `months` months (the last may not be shorter)."""
    first, last = month_index(start), month_index(end)
    if last < first:
        raise VrpError(f"--to {end} is before --from {start}")
    span = last - first + 1
    if months < 1 or span % months:
        raise VrpError(f"{start}..{end} is {span} months: it does not divide into periods of {months} months")
    return [(month_label(m), month_label(m + months - 1)) for m in range(first, last + 1, months)]


def stability_report(ws, query: Query, period_months: int = 3, top_fraction: float = 0.05,
                     bootstrap: int = 199, seed: int = 1, con=None) -> dict:
    """Rank correlation and top-k overlap between consecutive periods, and each hotspot's class
    (persistent / emerging / fading / intermittent) with the share of resamples that agree."""
    periods = split_periods(query.start, query.end, period_months)
    if len(periods) < 2:
        raise VrpError("stability needs at least two periods: widen --from/--to or shorten --period-months")
    pc, values = period_values(ws, query, periods, con)
    _require_data_in(ws, pc.events.dataset, {f"period {k + 1} of {len(periods)}": p for k, p in enumerate(periods)},
                     "stability compares periods that all hold data")
    if pc.events.harm is not None:
        bootstrap = 0  # resampling needs whole events; harm totals are reported without intervals
    pairs = []
    for k in range(1, len(periods)):
        r = stab.rank_stability(values[k - 1], values[k], top_fraction, bootstrap=bootstrap, seed=seed)
        pairs.append({"from_period": _period(periods[k - 1]), "to_period": _period(periods[k]), **r.as_dict()})
    classes = stab.classify_hotspots(values, top_fraction=top_fraction, bootstrap=bootstrap, seed=seed)
    u, tag = pc.units, _tag(pc)
    units = []
    for rec in classes.records():
        i = rec.pop("unit")
        rec["hot_periods"] = [_period(periods[p]) for p in rec["hot_periods"]]
        units.append({"cell_id": u.ids[i], "x": round(float(u.x[i]), 1), "y": round(float(u.y[i]), 1),
                      **rec, "values": [round(float(v), 3) for v in values[:, i]], **tag})
    units.sort(key=lambda r: (["persistent", "emerging", "fading", "intermittent", "never"].index(r["class"]),
                              -sum(r["values"])))
    return {"provenance": {**pc.provenance(), "periods": [_period(p) for p in periods],
                           "top_fraction": top_fraction, "bootstrap": bootstrap, "seed": seed},
            "pairs": pairs, "classes": classes.counts(), "units": units}


def knox_report(ws, query: Query, space_bands: list[float], time_bands: list[float], iterations: int = 999,
                seed: int | None = 1, metric: str = "euclidean", nrc_compatible: bool = False, con=None) -> dict:
    """Knox test of near repeats among the query's events (days for force extracts; police.uk
    data have months only, so their time bands are in months)."""
    con = con or open_lake(ws)
    ev = load_events(ws, con, query.definition, query.start, query.end, query.dataset, query.weight)
    if not ev.n:
        raise NothingToShow(no_events_reason(ws, con, ev, "no near repeats to test"))
    if ev.n < 2:
        raise NothingToShow(f"the Knox test needs at least 2 located events; {ev.n} matches")
    t, _, _, unit = ev.timing()
    result = knox_test.knox(ev.x, ev.y, t, space_bands, time_bands, iterations=iterations, seed=seed,
                            metric=metric, nrc_compatible=nrc_compatible)
    return {"provenance": {**ev.provenance(), "time_unit": unit, "space_unit": "metres"},
            "summary": result.as_dict(), "rows": result.records()}


def backtest_report(ws, query: Query, train: tuple[str, str], test: tuple[str, str], coverage: float = 0.05,
                    methods=forecast.METHODS, rolling: bool = False, con=None) -> dict:
    """Forecast from the training months, pick the top `coverage` of the area, score on the test
    months: hit rate, PAI and PEI per method with bootstrap intervals. With `rolling`, each test
    month is forecast from the `train` window's length of months before it, and PAI is averaged
    over months with an interval."""
    if query.unit != "square":
        raise VrpError("forecasts are made on square grids: use --unit square")
    con = con or open_lake(ws)
    span = Query(**{**query.__dict__, "start": train[0], "end": test[1]})
    pc = place_counts(ws, span, con)
    ev, u = pc.events, pc.units
    _require_data_in(ws, ev.dataset, {"the training months": train, "the test months": test},
                     "a backtest needs data in both")
    for label, (first, last) in (("training", train), ("test", test)):
        if not ((ev.month >= month_index(first)) & (ev.month <= month_index(last))).any():
            raise NothingToShow(f"no located {ev.definition.id} events in the {label} months {_period((first, last))}: "
                                + ("nothing to forecast from" if label == "training" else "nothing to score forecasts on"))
    g = u.grid
    areas = np.zeros(g.n)
    areas[u.cells] = u.area_km2
    train_months = month_index(train[1]) - month_index(train[0]) + 1
    t, time_unit, window, label = ev.timing()
    weights = ev.harm
    prov = {**pc.provenance(), "train": _period(train), "test": _period(test), "coverage": coverage,
            "time_unit": label}
    if rolling:
        result = forecast.rolling_backtest((ev.x, ev.y, ev.month, weights),
                                           list(range(month_index(test[0]), month_index(test[1]) + 1)),
                                           train_months, coverage, g.x0, g.y0, g.cell, g.nx, g.ny,
                                           mask=areas > 0, areas=areas, methods=methods)
        for row in result["months"]:
            row["month"] = month_label(row["month"])
        return {"provenance": {**prov, "rolling": True, "train_months": train_months}, **result}
    is_train = (ev.month >= month_index(train[0])) & (ev.month <= month_index(train[1]))
    is_test = (ev.month >= month_index(test[0])) & (ev.month <= month_index(test[1]))
    pick = lambda keep: (ev.x[keep], ev.y[keep], t[keep], None if weights is None else weights[keep])  # noqa: E731
    now = int(t[is_test].min()) if is_test.any() else None
    rows = forecast.backtest(pick(is_train), pick(is_test), g.x0, g.y0, g.cell, g.nx, g.ny, areas > 0, coverage,
                             methods, areas=areas, now=now, time_unit=time_unit, time_bandwidth=window)
    return {"provenance": prov, "methods": [{**r, **_tag(pc)} for r in rows]}


def _require_data_in(ws, dataset: str, windows: dict[str, tuple[str, str]], why: str) -> None:
    """Each window (first, last month) must hold at least one month of loaded data."""
    loaded = set(cover.loaded_months(ws, dataset))
    for label, (first, last) in windows.items():
        if not any(m in loaded for m in range(month_index(first), month_index(last) + 1)):
            raise NothingToShow(f"no {cover.noun(dataset)} data loaded for {_period((first, last))} ({label}; {why}): "
                                f"the data cover {cover.describe(loaded)}")


def _forecast_score(pc: PlaceCounts, method: str) -> np.ndarray:
    """A forecast score per unit from the events of the query's period (square grids only)."""
    u, ev = pc.units, pc.events
    if u.kind != "square":
        raise VrpError(f"--rank-by {method} needs a square grid (--unit square)")
    g = u.grid
    w = ev.harm
    if method == "kde":
        surface = forecast.kde_forecast(ev.x, ev.y, w, g.x0, g.y0, g.cell, g.nx, g.ny)
    else:
        t, unit, band, _ = ev.timing()
        surface = forecast.prospective_forecast(ev.x, ev.y, t, w, g.x0, g.y0, g.cell, g.nx, g.ny,
                                                now=int(t.max()) + 1 if len(t) else 0,
                                                time_unit=unit, time_bandwidth=band)
    return surface.ravel()[u.cells]


def _tag(pc: PlaceCounts) -> dict:
    """The provenance columns on every row: definition and version, period, as-at, weighting."""
    ev = pc.events
    return {"definition": ev.definition.id, "definition_version": ev.definition.version,
            "from": ev.start, "to": ev.end, "as_at": ev.as_at, "weight": ev.weighting}


def _period(p: tuple[str, str]) -> str:
    return p[0] if p[0] == p[1] else f"{p[0]}..{p[1]}"


def _share(part: float, whole: float) -> float | None:
    return round(float(part) / float(whole), 6) if whole else None


def _rows(columns: dict[str, list], tag: dict) -> list[dict]:
    """One dict per row: the columns' values in column order, then the tag's (a copy of one
    template dict per row is the quickest way to many dicts with the same keys)."""
    keys = list(columns)
    template = dict.fromkeys(keys)
    template.update(tag)
    rows = []
    for values in zip(*columns.values()):
        row = template.copy()
        row.update(zip(keys, values))
        rows.append(row)
    return rows


def _each_distinct(values: np.ndarray, fn) -> list:
    """``[fn(v) for v in values.tolist()]`` for a float array, calling fn once per distinct value
    (distinct bit patterns: -0.0 and 0.0 stay apart)."""
    values = np.ascontiguousarray(values, dtype=np.float64).ravel()
    bits, inverse = np.unique(values.view(np.int64), return_inverse=True)
    done = np.empty(len(bits), dtype=object)
    done[:] = [fn(v) for v in bits.view(np.float64).tolist()]
    return done[inverse.ravel()].tolist()


def _num_values(values) -> list:
    """``[_num(v) for v in values]`` for a column: a float array is formatted once per distinct value."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        return _each_distinct(values, _num)
    return _num_column(values.tolist() if isinstance(values, np.ndarray) else list(values))


def _num_column(values: list) -> list:
    """``[_num(v) for v in values]``, inlined (``v - v`` is 0 for a finite float, NaN otherwise)."""
    return [(None if v - v else float(f"{v:.10g}")) if isinstance(v, float) else v for v in values]


def _num(v):
    """Ten significant digits (never decimal places: a p-value of 1e-40 is not zero)."""
    if isinstance(v, float):
        return None if not math.isfinite(v) else float(f"{v:.10g}")
    return v
