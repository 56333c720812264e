"""Hotspot forecasts on a square grid and how well they did: hit rate, PAI, PEI, RRI, backtests.

A forecast is a score per cell, an (ny, nx) array over the grid (x0, y0, cell, nx, ny); a higher
score means "more likely to have crime next period". Three methods, all built from past events
only (plain arrays x, y in BNG metres, t an integer day number or month index, optional weights
such as harm scores):

* `naive_forecast`: the count (or harm) in each cell over the training window ("last period").
* `kde_forecast`: the KDE surface of the training events (vrp.places.kde.kde_surface).
* `prospective_forecast`: Bowers, Johnson & Pease (2004) prospective hotspotting.

A forecast is judged by the cells it would send patrols to: `select_top` takes the best-scored
cells until they cover a share of the study area, and the later, observed events give the hit
rate, PAI (Chainey, Tompson & Uhlig 2008), PEI (Hunt 2016) and RRI (Levine 2008), in the
definitions of Wheeler & Steenbeek (2021) as coded in ptools::pai (apwheele/ptools, R/pai.R).
`backtest` runs the three methods on one train/test split, with bootstrap intervals;
`rolling_backtest` repeats that month by month.

Cells may differ in area (cells cut by the study boundary; LSOAs): every function takes an
`areas` array (any unit; only shares matter). Cells outside the study area (`mask` False, or
area 0) are never selected and count towards neither the events nor the area.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vrp.errors import VrpError
from vrp.places.grid import SquareGrid
from vrp.places.kde import _check_grid, _points, kde_surface, suggest_bandwidth

METHODS = ("naive", "kde", "prospective")
DISTANCES = ("chebyshev", "euclidean")
BOOT_SEED = 20240401          # fixed, so a backtest prints the same interval every run
BOOT_REPLICATES = 999


# --------------------------------------------------------------------------------- forecasts

def _cell_totals(x, y, weights, x0, y0, cell, nx, ny) -> np.ndarray:
    """Sum of weights (1 each by default) of the points in each cell; cells are half-open
    [x0 + col*cell, x0 + (col+1)*cell), as vrp.places.grid; points off the grid are left out."""
    _check_grid(x0, y0, cell, nx, ny)
    x, y, w = _points(x, y, weights)
    nx, ny = int(nx), int(ny)
    idx = SquareGrid(x0, y0, cell, nx, ny).index(x, y)
    inside = idx >= 0
    return np.bincount(idx[inside], w[inside], minlength=nx * ny).astype(float).reshape(ny, nx)


def _snap(score: np.ndarray) -> np.ndarray:
    """Round to 12 significant digits of the largest score, so that cells whose scores are equal
    in exact arithmetic (but summed in a different order) tie exactly; ties then go by cell
    index in select_top, so the same data always give the same hotspots."""
    top = float(np.max(np.abs(score))) if score.size else 0.0
    if top == 0.0 or not math.isfinite(top):
        return score
    return np.round(score, 11 - math.floor(math.log10(top)))


def naive_forecast(x, y, weights, x0: float, y0: float, cell: float, nx: int, ny: int) -> np.ndarray:
    """Events (or harm, with weights) per cell in the training window: "where it happened last
    period happens next period", the baseline every other forecast has to beat."""
    return _cell_totals(x, y, weights, x0, y0, cell, nx, ny)


def kde_forecast(x, y, weights, x0: float, y0: float, cell: float, nx: int, ny: int,
                 bandwidth: float | None = None, kernel: str = "quartic") -> np.ndarray:
    """KDE of the training events (per km^2), bandwidth from suggest_bandwidth when not given."""
    if bandwidth is None:
        bandwidth = suggest_bandwidth(x, y, cell).bandwidth
    return _snap(kde_surface(x, y, weights, x0, y0, cell, nx, ny, bandwidth, kernel))


def prospective_forecast(x, y, t, weights, x0: float, y0: float, cell: float, nx: int, ny: int,
                         now: int | None = None, *, space_bandwidth: float = 400.0, time_bandwidth: int = 8,
                         time_unit: int = 7, distance: str = "chebyshev") -> np.ndarray:
    """Prospective hotspotting (Bowers, Johnson & Pease 2004, Brit. J. Criminol. 44: 641-658),
    as open_cp's ProspectiveHotSpot with ClassicWeight (QuantCrimAtLeeds/PredictCode):

        score(c) = sum over past events e of  w_e / ((1 + d) (1 + a))   if d < B and a < T, else 0

    d: distance in cells between the event's cell and c, by default the Chebyshev distance
       (diagonal neighbours are 1 apart; open_cp's default DistanceDiagonalsSame), or the
       Euclidean distance between cell centres in cells (`distance="euclidean"`);
    B: space_bandwidth / cell (default 400 m, Bowers et al.'s 400 m; with their 50 m cells that
       is open_cp's 8 cells). The weight is per cell step, so it decays faster per metre on a
       coarser grid: keep the grid near 50-150 m when using this method;
    a: the event's age in whole time units before `now`, a = floor((now - 1 - t) / time_unit),
       so the unit just before `now` is age 0. With day numbers and time_unit = 7 (default) that
       is weeks; with month indices pass time_unit = 1 (months). open_cp uses floor((now - t) /
       unit) on timestamps; on whole days ours counts a day as the interval it covers, so an
       event 7 days before `now` is still in week 0 (it happened between 6 and 7 days ago);
    T: time_bandwidth in units (default 8 weeks, Bowers et al.'s two months; pass 2 for month
       data).

    Only events before `now` count (default: the day or month after the last event). Events
    outside the grid but within B of it count, as in the KDE. Sums run in a fixed order (a
    direct convolution), and are rounded to 12 significant digits, so ties are exact and are
    broken by cell index when cells are selected.
    """
    _check_grid(x0, y0, cell, nx, ny)
    x, y, w = _points(x, y, weights)
    t = np.asarray(t, dtype=float).ravel()
    if t.shape != x.shape:
        raise VrpError(f"t has {t.size} values for {x.size} events")
    if not np.isfinite(t).all():
        raise VrpError("every event needs a time (day number or month index)")
    if not (space_bandwidth > 0 and math.isfinite(space_bandwidth)):
        raise VrpError(f"space bandwidth must be a positive number of metres, not {space_bandwidth!r}")
    if int(time_bandwidth) != time_bandwidth or time_bandwidth < 1:
        raise VrpError(f"time bandwidth must be a whole number of time units >= 1, not {time_bandwidth!r}")
    if int(time_unit) != time_unit or time_unit < 1:
        raise VrpError(f"time unit must be a whole number >= 1 (7 for weeks of days, 1 for months), not {time_unit!r}")
    if distance not in DISTANCES:
        raise VrpError(f"unknown distance '{distance}': use one of {', '.join(DISTANCES)}")
    nx, ny, cell = int(nx), int(ny), float(cell)
    if now is None:
        now = int(t.max()) + 1 if t.size else 0
    age = np.floor((now - 1 - t) / time_unit)
    keep = (age >= 0) & (age < time_bandwidth)
    b = space_bandwidth / cell
    r = max(int(math.ceil(b)) - 1, 0)          # largest whole-cell offset that can have d < b
    col = np.floor((x[keep] - x0) / cell).astype(np.int64) + r
    row = np.floor((y[keep] - y0) / cell).astype(np.int64) + r
    tw = w[keep] / (1.0 + age[keep])
    inside = (col >= 0) & (col < nx + 2 * r) & (row >= 0) & (row < ny + 2 * r)
    padded = np.bincount(row[inside] * (nx + 2 * r) + col[inside], tw[inside],
                         minlength=(nx + 2 * r) * (ny + 2 * r)).reshape(ny + 2 * r, nx + 2 * r)
    off = np.arange(-r, r + 1, dtype=float)
    if distance == "chebyshev":
        d = np.maximum(np.abs(off)[:, None], np.abs(off)[None, :])
    else:
        d = np.hypot(off[:, None], off[None, :])
    kernel = np.where(d < b, 1.0 / (1.0 + d), 0.0)
    from scipy import ndimage  # imported where used, as the other scipy modules (slow to import)

    score = ndimage.correlate(padded, kernel, mode="constant", cval=0.0)[r:r + ny, r:r + nx]
    return _snap(np.ascontiguousarray(score))


# ------------------------------------------------------------------------- cell selection

def _flat(a, n: int | None = None, name: str = "array") -> np.ndarray:
    a = np.asarray(a, dtype=float).ravel()
    if n is not None and a.size != n:
        raise VrpError(f"{name} has {a.size} values for {n} cells")
    return a


def _study(n: int, areas, mask) -> tuple[np.ndarray, np.ndarray]:
    """(areas, in-study-area mask) as flat arrays: equal areas by default; a cell is in the study
    area when the mask says so (default: all) and its area is positive."""
    a = np.ones(n) if areas is None else _flat(areas, n, "areas")
    if not np.isfinite(a).all() or (a < 0).any():
        raise VrpError("cell areas must be finite and not negative")
    m = np.ones(n, dtype=bool) if mask is None else np.asarray(mask, dtype=bool).ravel()
    if m.size != n:
        raise VrpError(f"the study-area mask has {m.size} cells for {n} scores")
    return a, m & (a > 0)


def _selected_mask(selected, n: int) -> np.ndarray:
    sel = np.asarray(selected)
    if sel.dtype == bool:
        sel = sel.ravel()
        if sel.size != n:
            raise VrpError(f"the selection has {sel.size} cells for {n}")
        return sel
    idx = sel.ravel().astype(np.int64)
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise VrpError(f"selected cell index out of range 0..{n - 1}")
    out = np.zeros(n, dtype=bool)
    out[idx] = True
    return out


def select_top(scores, areas=None, coverage: float | None = None, n: int | None = None, mask=None) -> np.ndarray:
    """Flat cell indices of the best cells, best first: cells ranked by score (highest first;
    equal scores by cell index, lowest first) and taken until their area reaches `coverage` x
    the study area's total area, or until `n` cells. Give exactly one of coverage and n.

    The last cell may overshoot: the selection is the smallest top set whose area is at least
    the coverage (never less than one cell), so with equal cells it holds ceil(coverage x
    cells) cells; the area share actually covered is what PAI divides by. Only cells in the
    study area (mask True, area > 0) are ranked. Scores must be finite.
    """
    s = np.asarray(scores, dtype=float).ravel()
    a, m = _study(s.size, areas, mask)
    if (coverage is None) == (n is None):
        raise VrpError("give either a coverage (share of the area) or a number of cells, not both or neither")
    if not np.isfinite(s[m]).all():
        raise VrpError("forecast scores must be finite in every study-area cell")
    cells = np.flatnonzero(m)
    if cells.size == 0:
        raise VrpError("the study area has no cells")
    order = cells[np.argsort(-s[cells], kind="stable")]
    if n is not None:
        if int(n) != n or n < 1:
            raise VrpError(f"number of cells must be a whole number >= 1, not {n!r}")
        return order[:int(n)]
    if not (0 < coverage <= 1):
        raise VrpError(f"coverage must be a share of the area in (0, 1], not {coverage!r}")
    cum = np.cumsum(a[order])
    target = coverage * cum[-1]
    k = int(np.searchsorted(cum, target * (1 - 1e-12), side="left")) + 1
    return order[:min(k, order.size)]


# ----------------------------------------------------------------------------- evaluation

def _totals(observed, selected, areas, mask):
    obs = _flat(observed, name="observed")
    if not np.isfinite(obs).all() or (obs < 0).any():
        raise VrpError("observed counts must be finite and not negative")
    a, m = _study(obs.size, areas, mask)
    sel = _selected_mask(selected, obs.size) & m
    return obs, a, m, sel


def hit_rate(observed, selected, mask=None) -> float:
    """Share of the observed events (or harm) that fell in the selected cells: hits / total over
    the study area. 0 when events happened but none in the selection; NaN when none happened."""
    obs, _, m, sel = _totals(observed, selected, None, mask)
    total = float(obs[m].sum())
    return float(obs[sel].sum()) / total if total > 0 else math.nan


def pai(observed, selected, areas=None, mask=None) -> float:
    """Predictive accuracy index (Chainey, Tompson & Uhlig 2008): hit rate / area share,
    (hits / events) / (selected area / study area). 1 = no better than chance; a perfect
    forecast of the cells that had events scores 1 / (their area share)."""
    obs, a, m, sel = _totals(observed, selected, areas, mask)
    total, area = float(obs[m].sum()), float(a[m].sum())
    sel_area = float(a[sel].sum())
    if total <= 0 or sel_area <= 0:
        return math.nan
    return float(obs[sel].sum()) * area / (total * sel_area)


def best_hits(observed, areas, area: float) -> float:
    """The most events any selection of total area `area` could have caught: cells by observed
    density (events / area), best first, the last one taken in part (the fractional-knapsack
    bound). With equal cells and a whole number of them this is the sum of the top cells."""
    obs = _flat(observed)
    a = np.ones(obs.size) if areas is None else _flat(areas, obs.size, "areas")
    keep = a > 0
    obs, a = obs[keep], a[keep]
    order = np.argsort(-(obs / a), kind="stable")
    cum_a = np.concatenate([[0.0], np.cumsum(a[order])])
    cum_o = np.concatenate([[0.0], np.cumsum(obs[order])])
    return float(np.interp(area, cum_a, cum_o))


def pei(observed, selected, areas=None, mask=None) -> float:
    """Predictive efficiency index (Hunt 2016): hits in the selection / the most hits any
    selection of the same area could have had (best_hits), so 1 = as good as hindsight.
    Equivalently PAI / the best PAI at that area. With equal cells this is ptools' PEI; with
    unequal areas ptools compares with the best cells of the same *number*, which can exceed 1,
    where ours compares with the same *area* (the fractional bound) and never does. (The exact
    best for whole cells of unequal area is a knapsack problem: White, Hunt & Green 2023.)"""
    obs, a, m, sel = _totals(observed, selected, areas, mask)
    best = best_hits(np.where(m, obs, 0.0), np.where(m, a, 0.0), float(a[sel].sum()))
    return float(obs[sel].sum()) / best if best > 0 else math.nan


def rri(predicted, observed, selected) -> float:
    """Recapture rate index (Levine 2008; "recovery rate" in ptools), as ptools: predicted /
    observed events in the
    selection. Meaningful only when the forecast is itself a count for the test period (inf when
    nothing was observed there, NaN when nothing was predicted either)."""
    pred, obs = _flat(predicted), _flat(observed)
    sel = _selected_mask(selected, obs.size)
    p, o = float(pred[sel].sum()), float(obs[sel].sum())
    if o == 0:
        return math.inf if p > 0 else math.nan
    return p / o


@dataclass(frozen=True)
class PaiCurve:
    """PAI, PEI and RRI for every top-k selection, k = 1..cells (ptools::pai's table)."""
    cells: np.ndarray        # flat cell index, in rank order
    count: np.ndarray        # observed in that cell
    cum_count: np.ndarray
    cum_pred: np.ndarray
    cum_area: np.ndarray
    pai: np.ndarray
    pei: np.ndarray
    rri: np.ndarray

    def records(self) -> list[dict]:
        return [{"order": i + 1, "cell": int(self.cells[i]), "count": float(self.count[i]),
                 "cum_count": float(self.cum_count[i]), "cum_pred": float(self.cum_pred[i]),
                 "cum_area": float(self.cum_area[i]), "pai": float(self.pai[i]), "pei": float(self.pei[i]),
                 "rri": float(self.rri[i])} for i in range(self.cells.size)]


def pai_curve(observed, predicted, areas=None, mask=None) -> PaiCurve:
    """ptools::pai (Wheeler & Steenbeek 2021): rank cells by predicted density (predicted / area),
    ties pessimistically (fewest observed first, as ptools: "gives min potential PAI"), then by
    cell index; PAI_k = (cum observed / total) / (cum area / total area); PEI_k = cum observed /
    best_hits(cum area) (ptools: PAI / best PAI of the top-k cells by observed density: the same
    with equal areas); RRI_k = cum predicted / cum observed (inf or NaN where cum observed is 0)."""
    obs = _flat(observed, name="observed")
    pred = _flat(predicted, obs.size, "predicted")
    a, m = _study(obs.size, areas, mask)
    cells = np.flatnonzero(m)
    if cells.size == 0:
        raise VrpError("the study area has no cells")
    o, p, ar = obs[cells], pred[cells], a[cells]
    order = np.lexsort((cells, o, -(p / ar)))
    o, p, ar = o[order], p[order], ar[order]
    cum_o, cum_p, cum_a = np.cumsum(o), np.cumsum(p), np.cumsum(ar)
    total, area = float(o.sum()), float(cum_a[-1])
    with np.errstate(divide="ignore", invalid="ignore"):
        pai_k = cum_o * area / (total * cum_a) if total > 0 else np.full(o.size, math.nan)
        dens_order = np.argsort(-(o / ar), kind="stable")
        best = np.interp(cum_a, np.concatenate([[0.0], np.cumsum(ar[dens_order])]),
                         np.concatenate([[0.0], np.cumsum(o[dens_order])]))
        pei_k = np.where(best > 0, cum_o / np.where(best > 0, best, 1.0), math.nan)
        rri_k = cum_p / cum_o
    return PaiCurve(cells[order], o, cum_o, cum_p, cum_a, pai_k, pei_k, rri_k)


# ------------------------------------------------------------------------------ backtests

def _events(ev, name: str):
    """(x, y, t, weights or None) from a tuple (x, y, t) or (x, y, t, weights)."""
    if not isinstance(ev, (tuple, list)) or len(ev) not in (3, 4):
        raise VrpError(f"{name} events must be (x, y, t) or (x, y, t, weights)")
    x, y, t = (np.asarray(v, dtype=float).ravel() for v in ev[:3])
    w = None if len(ev) == 3 or ev[3] is None else np.asarray(ev[3], dtype=float).ravel()
    if not (x.size == y.size == t.size) or (w is not None and w.size != x.size):
        raise VrpError(f"{name} events: x, y, t (and weights) differ in length")
    return x, y, t, w


def _bootstrap(values: np.ndarray, hit: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Hit rates of `n_boot` resamples (with replacement) of the test events. The same seed gives
    the same resamples, so every method is judged on the same resampled test sets."""
    m = values.size
    out = np.full(n_boot, math.nan)
    if m == 0 or n_boot == 0:
        return out
    rng = np.random.default_rng(seed)
    vh = values * hit
    step = max(1, 4_000_000 // m)
    for s in range(0, n_boot, step):
        b = min(step, n_boot - s)
        idx = rng.integers(0, m, size=(b, m))
        den = values[idx].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[s:s + b] = vh[idx].sum(axis=1) / den
    return out


def _score(method, train, x0, y0, cell, nx, ny, params) -> np.ndarray:
    x, y, t, w = train
    if method == "naive":
        return naive_forecast(x, y, w, x0, y0, cell, nx, ny)
    if method == "kde":
        return kde_forecast(x, y, w, x0, y0, cell, nx, ny, params["bandwidth"], params["kernel"])
    if method == "prospective":
        return prospective_forecast(x, y, t, w, x0, y0, cell, nx, ny, params["now"],
                                    space_bandwidth=params["space_bandwidth"],
                                    time_bandwidth=params["time_bandwidth"], time_unit=params["time_unit"],
                                    distance=params["distance"])
    raise VrpError(f"unknown forecast method '{method}': use {', '.join(METHODS)}")


def backtest(train, test, x0: float, y0: float, cell: float, nx: int, ny: int, mask=None,
             coverage: float = 0.05, methods=METHODS, *, areas=None, bandwidth: float | None = None,
             kernel: str = "quartic", now: int | None = None, space_bandwidth: float = 400.0,
             time_bandwidth: int = 8, time_unit: int = 7, distance: str = "chebyshev",
             n_boot: int = BOOT_REPLICATES, seed: int = BOOT_SEED, level: float = 0.95) -> list[dict]:
    """Forecast from `train`, select the top `coverage` of the study area, score against `test`.

    train, test: (x, y, t) or (x, y, t, weights) arrays; with test weights, hits and hit rates
    are harm-weighted. `now` (prospective) defaults to the time after the last training event.
    One dict per method: method, cells, area_share (achieved; may exceed coverage by under one
    cell), hits, test_events (in the study area), test_events_outside (off the grid or outside
    the mask: they can never be hit), hit_rate, pai, pei, and percentile bootstrap intervals
    (`n_boot` resamples of the test events with replacement, fixed seed; `level` 95%):
    hit_rate_low/high and pai_low/high (PAI = hit rate / area share, the selection held fixed),
    or None when n_boot = 0; and the parameters used.
    """
    _check_grid(x0, y0, cell, nx, ny)
    nx, ny = int(nx), int(ny)
    tr, te = _events(train, "training"), _events(test, "test")
    a, m = _study(nx * ny, areas, mask)
    if not m.any():
        raise VrpError("the study area has no cells")
    if not 0 < level < 1:
        raise VrpError(f"level must be between 0 and 1, not {level!r}")
    methods = tuple(methods)
    for method in methods:
        if method not in METHODS:
            raise VrpError(f"unknown forecast method '{method}': use {', '.join(METHODS)}")
    params = {"kernel": kernel, "bandwidth": bandwidth, "space_bandwidth": space_bandwidth,
              "time_bandwidth": time_bandwidth, "time_unit": time_unit, "distance": distance,
              "now": now if now is not None else (int(tr[2].max()) + 1 if tr[2].size else 0)}
    if "kde" in methods and bandwidth is None:
        params["bandwidth"] = suggest_bandwidth(tr[0], tr[1], cell).bandwidth
    # the test events' cells, once
    tx, ty, _, tw = te
    tw = np.ones(tx.size) if tw is None else tw
    test_cell = SquareGrid(x0, y0, cell, nx, ny).index(tx, ty)
    on_grid = test_cell >= 0
    test_cell = np.maximum(test_cell, 0)
    inside = on_grid & m[test_cell]
    values, ev_cell = tw[inside], test_cell[inside]
    observed = np.bincount(ev_cell, values, minlength=nx * ny)
    total, study_area = float(values.sum()), float(a[m].sum())
    tail = (1 - level) / 2
    results = []
    for method in methods:
        score = _score(method, tr, x0, y0, cell, nx, ny, params)
        top = select_top(score, a, coverage=coverage, mask=m)
        sel = np.zeros(nx * ny, dtype=bool)
        sel[top] = True
        share = float(a[top].sum()) / study_area
        hits = float(observed[top].sum())
        hr = hits / total if total > 0 else math.nan
        row_out = {"method": method, "coverage": coverage, "cells": int(top.size), "area_share": share,
                   "hits": hits, "test_events": total, "test_events_outside": float(tw[~inside].sum()),
                   "hit_rate": hr, "pai": hr / share if total > 0 else math.nan,
                   "pei": pei(observed, sel, a, m),
                   "hit_rate_low": None, "hit_rate_high": None, "pai_low": None, "pai_high": None}
        if n_boot and total > 0:
            boot = _bootstrap(values, sel[ev_cell].astype(float), int(n_boot), seed)
            lo, hi = np.nanquantile(boot, [tail, 1 - tail])
            row_out.update(hit_rate_low=float(lo), hit_rate_high=float(hi),
                           pai_low=float(lo) / share, pai_high=float(hi) / share)
        row_out["parameters"] = _method_params(method, params)
        row_out.update(n_boot=int(n_boot), seed=int(seed), level=level, weighted=te[3] is not None)
        results.append(row_out)
    return results


def _method_params(method: str, params: dict) -> dict:
    if method == "kde":
        return {"kernel": params["kernel"], "bandwidth": params["bandwidth"]}
    if method == "prospective":
        return {k: params[k] for k in ("now", "space_bandwidth", "time_bandwidth", "time_unit", "distance")}
    return {}


def rolling_backtest(events, months, train_months: int, coverage: float, x0: float, y0: float, cell: float,
                     nx: int, ny: int, *, mask=None, areas=None, methods=METHODS, bandwidth: float | None = None,
                     kernel: str = "quartic", space_bandwidth: float = 400.0, time_bandwidth: int = 2,
                     distance: str = "chebyshev", level: float = 0.95) -> dict:
    """For each test month m in `months`: train on months m - train_months .. m - 1, forecast,
    select the top `coverage` of the area, score against month m (t = month index).

    Returns {"summary": one dict per method (months scored, pai_mean with a t interval across
    months (mean +- t_{level, k-1} sd / sqrt k; None with fewer than 2 months), pai_sd,
    hit_rate_mean/low/high, pei_mean), "months": one dict per month and method}. Months with no
    test events have PAI NaN and are left out of the means (counted in months_without_events).
    Prospective uses time_unit = 1 (months) and time_bandwidth = 2 months by default. When no
    bandwidth is given, one is suggested from all the events in any training window, so every
    month's KDE uses the same bandwidth and the months are comparable.
    """
    x, y, t, w = _events(events, "the")
    months = [int(mo) for mo in months]
    if not months:
        raise VrpError("no test months given")
    if int(train_months) != train_months or train_months < 1:
        raise VrpError(f"training window must be a whole number of months >= 1, not {train_months!r}")
    if "kde" in methods and bandwidth is None:
        used = (t >= min(months) - train_months) & (t < max(months))
        bandwidth = suggest_bandwidth(x[used], y[used], cell).bandwidth

    def part(keep):
        return (x[keep], y[keep], t[keep], None if w is None else w[keep])

    per_month = []
    for mo in months:
        train = part((t >= mo - train_months) & (t < mo))
        test = part(t == mo)
        rows = backtest(train, test, x0, y0, cell, nx, ny, mask, coverage, methods, areas=areas,
                        bandwidth=bandwidth, kernel=kernel, now=mo, space_bandwidth=space_bandwidth,
                        time_bandwidth=time_bandwidth, time_unit=1, distance=distance, n_boot=0)
        for r in rows:
            per_month.append({"month": mo, "method": r["method"], "train_events": int(train[0].size),
                              "test_events": r["test_events"], "hits": r["hits"], "cells": r["cells"],
                              "area_share": r["area_share"], "hit_rate": r["hit_rate"], "pai": r["pai"],
                              "pei": r["pei"]})
    summary = []
    for method in methods:
        rows = [r for r in per_month if r["method"] == method]
        scored = [r for r in rows if not math.isnan(r["pai"])]
        pai_m, pai_lo, pai_hi, pai_sd = _mean_interval([r["pai"] for r in scored], level)
        hr_m, hr_lo, hr_hi, _ = _mean_interval([r["hit_rate"] for r in scored], level)
        peis = [r["pei"] for r in scored if not math.isnan(r["pei"])]
        summary.append({"method": method, "months": len(scored), "months_without_events": len(rows) - len(scored),
                        "train_months": int(train_months), "coverage": coverage,
                        "pai_mean": pai_m, "pai_low": pai_lo, "pai_high": pai_hi, "pai_sd": pai_sd,
                        "hit_rate_mean": hr_m, "hit_rate_low": hr_lo, "hit_rate_high": hr_hi,
                        "pei_mean": float(np.mean(peis)) if peis else None,
                        "bandwidth": bandwidth if method == "kde" else None, "level": level})
    return {"summary": summary, "months": per_month}


def _mean_interval(values: list[float], level: float):
    """Mean, t interval of the mean (None below 2 values), and standard deviation."""
    k = len(values)
    if k == 0:
        return None, None, None, None
    v = np.asarray(values, dtype=float)
    mean = float(v.mean())
    if k < 2:
        return mean, None, None, None
    sd = float(v.std(ddof=1))
    from scipy import stats

    half = float(stats.t.ppf(0.5 + level / 2, k - 1)) * sd / math.sqrt(k)
    return mean, mean - half, mean + half, sd
