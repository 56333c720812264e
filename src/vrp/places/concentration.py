"""Concentration of crime at place: shares held by the top units, Lorenz curve, Gini, the smallest share
of units holding 25% / 50% of the total.

The "law of crime concentration" (Weisburd 2015) is usually stated as "about 50% of crime at about 4%
of street segments, 25% at about 1%": the smallest share of places holding a given share of crime.
Units are cells of a grid or areas such as LSOAs; values are counts or harm (any non-negative numbers).
Every unit of the place counts in the denominator, zero-count units included: the share of units is a
share of the place, not of the units that happened to record a crime (leaving zeros out would make any
distribution look less concentrated than it is).

Ordering: units are ranked from the highest value to the lowest (the crime-concentration convention,
so the Lorenz curve lies above the diagonal), ties broken by unit index (the lower index first).
When unit areas are given, the "top k% of area" and the Lorenz curve rank units by density (value per
unit area), which is the ranking that puts the most value into the least area.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from vrp.errors import VrpError


@dataclass(frozen=True)
class SmallestShare:
    """The fewest units (ranked by value) that together hold at least `target` of the total."""

    target: float        # e.g. 0.5 for "50% of serious violence"
    n_units: int         # how many units that takes
    unit_share: float    # n_units / all units (zero-count units included)
    area_share: float    # the share of the total area those same units cover (= unit_share for equal areas)
    value_share: float   # the share of the total they actually hold (>= target)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ConcentrationSummary:
    """Headline concentration figures for one set of units."""

    n_units: int
    n_zero_units: int
    total: float
    gini: float
    top_shares: tuple[tuple[float, float], ...]       # (fraction of units or area, share of the total)
    smallest: tuple[SmallestShare, ...]                # one per target, e.g. 25% and 50%
    by_area: bool                                      # True when unit areas were given

    def as_dict(self) -> dict:
        return {"n_units": self.n_units, "n_zero_units": self.n_zero_units, "total": self.total,
                "gini": self.gini, "by_area": self.by_area,
                "top_shares": [{"fraction": f, "share": s} for f, s in self.top_shares],
                "smallest": [s.as_dict() for s in self.smallest]}


def lorenz_curve(values, areas=None) -> tuple[np.ndarray, np.ndarray]:
    """(cumulative share of units or area, cumulative share of value), from the highest unit down.

    Both arrays start at 0 and end at 1 and have n + 1 points; the curve is piecewise linear between
    them (value spread evenly within a unit). Without areas, units are ranked by value and x steps by
    1/n; with areas, units are ranked by density value / area and x steps by each unit's share of area.
    """
    v, a = _validate(values, areas)
    order = _ranking(v, a)
    x = np.concatenate(([0.0], np.cumsum(a[order]) / a.sum()))
    y = np.concatenate(([0.0], np.cumsum(v[order]) / v.sum()))
    x[-1], y[-1] = 1.0, 1.0  # no rounding drift at the end
    return x, y


def share_in_top(values, fraction: float, areas=None) -> float:
    """Share of the total held by the top `fraction` of units (or of the area, when areas are given).

    Read off the Lorenz curve at x = fraction, so when fraction * n is not a whole number the unit that
    straddles the cut counts in proportion (top 5% of 30 units = the top unit and half of the second).
    When fraction * n is whole, this is exactly the share of the top fraction * n units.
    """
    f = _fraction(fraction, "fraction")
    x, y = lorenz_curve(values, areas)
    return float(np.interp(f, x, y))


def gini(values, areas=None) -> float:
    """Gini coefficient: twice the area between the (highest-first) Lorenz curve and the diagonal.

    Equal to the mean absolute difference over all n^2 ordered pairs of units divided by twice the mean,
    sum_ij |v_i - v_j| / (2 n^2 mean); with areas, the area-weighted version over densities. 0 = the
    value is spread evenly; (n - 1) / n = it is all in one unit. With fewer events than units the Gini
    cannot reach low values (Bernasco & Steenbeek 2017); read it alongside the event count.
    """
    x, y = lorenz_curve(values, areas)
    under = float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1])) / 2)
    return 2 * under - 1


def smallest_share_holding(values, target: float, areas=None) -> SmallestShare:
    """The smallest share of units that together hold at least `target` of the total (e.g. 0.5).

    Units are ranked by value (highest first, ties by index) and counted whole; zero-count units are
    in the denominator. With areas, area_share is the share of the total area covered by those units
    (which units are taken among equal values follows the index, so only area_share depends on ties).
    """
    tgt = _fraction(target, "target")
    v, a = _validate(values, areas)
    order = np.lexsort((np.arange(v.size), -v))
    cum = np.cumsum(v[order])
    total = cum[-1]
    # the first k with cum >= target * total (tolerant of the float sum landing a hair below)
    k = int(np.searchsorted(cum, tgt * total * (1 - 1e-12), side="left")) + 1
    k = min(k, v.size)
    return SmallestShare(target=tgt, n_units=k, unit_share=k / v.size,
                         area_share=float(a[order[:k]].sum() / a.sum()), value_share=float(cum[k - 1] / total))


def concentration_summary(values, areas=None, top=(0.01, 0.05, 0.1), targets=(0.25, 0.5)) -> ConcentrationSummary:
    """Gini, the shares in the top 1% / 5% / 10% and the smallest shares of units holding 25% / 50%."""
    v, a = _validate(values, areas)
    by_area = areas is not None
    return ConcentrationSummary(
        n_units=int(v.size), n_zero_units=int((v == 0).sum()), total=float(v.sum()),
        gini=gini(v, a if by_area else None),
        top_shares=tuple((float(f), share_in_top(v, f, a if by_area else None)) for f in top),
        smallest=tuple(smallest_share_holding(v, t, a if by_area else None) for t in targets),
        by_area=by_area)


def _ranking(v: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Highest density first (value per area; plain value when areas are equal), ties by index."""
    return np.lexsort((np.arange(v.size), -(v / a)))


def _validate(values, areas) -> tuple[np.ndarray, np.ndarray]:
    v = np.asarray(values, dtype=float).ravel()
    if v.size == 0:
        raise VrpError("no units: concentration needs at least one unit")
    if not np.all(np.isfinite(v)) or np.any(v < 0):
        raise VrpError("values must be finite and non-negative (counts or harm per unit)")
    if v.sum() <= 0:
        raise VrpError("all values are zero: concentration is undefined without any events")
    if areas is None:
        return v, np.ones_like(v)
    a = np.asarray(areas, dtype=float).ravel()
    if a.size != v.size:
        raise VrpError(f"areas must have one value per unit: {a.size} areas for {v.size} units")
    if not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise VrpError("areas must be finite and greater than 0")
    return v, a


def _fraction(f, name: str) -> float:
    f = float(f)
    if not (0 < f <= 1) or math.isnan(f):
        raise VrpError(f"{name} must be a share in (0, 1], e.g. 0.05 for 5%; got {f}")
    return f
