"""Local statistics of spatial clustering - Getis-Ord Gi* and Gi, local Moran's I - and the global
G, with honest multiple testing.

Each cell gets a statistic, an analytic z and p, and (with ``permutations``) a conditional
permutation p; every p is then adjusted across all the cells tested (Benjamini-Hochberg q-values by
default), because a map of 90,000 cells tested at 5% each shows 4,500 "hotspots" in pure noise.

The statistics equal esda 2.9's to rounding (``G_Local(star=True, transform='B')``,
``G_Local(star=False, transform='B')``, ``Moran_Local`` with row-standardised weights and
``G``), with three deliberate differences, all documented in docs/places.md:

* p-values are two-sided by default (esda's ``p_norm`` is one-sided, and its permutation p the
  "directed" one its own docstring calls too small);
* q-values are reported beside every p, and a warning says when the number of permutations makes
  a significant cell impossible after the correction (nothing in esda warns about this);
* the permutation engine is pure numpy, and exact per cell: see :func:`_conditional_counts`.

Weights are binary scipy.sparse matrices without self-weights (see :mod:`vrp.places.neighbours`);
values are a 1-D array in the same order (``surface.ravel()`` or ``surface[mask]``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from fractions import Fraction

import numpy as np
from scipy import sparse
from scipy.special import ndtr  # the normal CDF scipy.stats.norm uses; scipy.stats takes ~1 s to import

from vrp.errors import VrpError

ALTERNATIVES = ("two-sided", "greater", "less")
FDR_METHODS = ("bh", "by")
QUADRANTS = {1: "HH", 2: "LH", 3: "LL", 4: "HL"}
# Conditional randomisation deals cells into up to _MAX_SETS sets of independent draws, at least
# _CELLS_PER_SET cells a set (see _conditional_counts).
_MAX_SETS = 64
_CELLS_PER_SET = 50


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------

class _LocalResult:
    """Shared behaviour of the per-cell results: significance, CSV records, a JSON summary."""

    _columns: tuple[str, ...] = ()

    @cached_property
    def significant(self) -> np.ndarray:
        """Cells whose q-value is at most ``alpha``: the permutation q when there are
        permutations, else the analytic one. NaN q (islands, undefined z) is never significant.
        Computed once (callers index it cell by cell)."""
        q = self.q_sim if self.permutations else self.q
        return np.nan_to_num(q, nan=np.inf) <= self.alpha

    def records(self, ids=None) -> list[dict]:
        """One dict per cell, in order, for CSV: the columns of ``_columns`` (plus ``id`` first
        when ``ids`` is given), ``p_sim`` and ``q_sim`` only when permutations were run."""
        names, columns = map(list, zip(*self.columns().items()))
        if ids is not None:
            ids = list(ids)
            if len(ids) != len(self.value):
                raise VrpError(f"{len(ids)} ids given for {len(self.value)} cells")
            names, columns = ["id", *names], [ids, *columns]
        return [dict(zip(names, row)) for row in zip(*columns)]

    def columns(self) -> dict[str, list]:
        """The columns of ``records`` as lists (name -> one value per cell), in column order."""
        return {c: v.tolist() if isinstance(v, np.ndarray) else v for c, v in self.column_arrays().items()}

    def column_arrays(self) -> dict[str, np.ndarray | list]:
        """The columns of ``records``: NumPy arrays, or lists where a column is recoded (quadrant)."""
        return {c: self._column(c) for c in self._columns if getattr(self, c) is not None}

    def _column(self, name: str) -> np.ndarray | list:
        return getattr(self, name)

    def _summary(self) -> dict:
        return {"cells": int(len(self.value)), "alternative": self.alternative, "fdr": self.fdr,
                "alpha": self.alpha, "permutations": self.permutations, "seed": self.seed,
                "inference": "permutation" if self.permutations else "analytic normal",
                "significant": int(self.significant.sum()), "warnings": list(self.warnings)}


@dataclass(frozen=True, eq=False)
class LocalG(_LocalResult):
    """Gi* (``star=True``) or Gi for every cell.

    ``value`` the values tested, ``g`` the statistic, ``z`` its analytic z-score, ``p`` the normal
    p-value for ``alternative``, ``q`` its FDR q-value; ``p_sim``/``q_sim`` the permutation
    p-value and its q-value (None without permutations); ``warnings`` one-line notes for the user.
    """

    value: np.ndarray
    g: np.ndarray
    z: np.ndarray
    p: np.ndarray
    q: np.ndarray
    p_sim: np.ndarray | None
    q_sim: np.ndarray | None
    star: bool
    alternative: str
    fdr: str
    alpha: float
    permutations: int
    seed: int | None
    warnings: tuple[str, ...]

    _columns = ("value", "g", "z", "p", "q", "p_sim", "q_sim")

    def as_dict(self) -> dict:
        """Summary for JSON: settings, how many cells are significant (and of those how many are
        hot, z > 0, and cold), and the warnings."""
        sig = self.significant
        return {"statistic": "Gi*" if self.star else "Gi", **self._summary(),
                "significant_high": int((sig & (self.z > 0)).sum()),
                "significant_low": int((sig & (self.z < 0)).sum())}


@dataclass(frozen=True, eq=False)
class LocalMoran(_LocalResult):
    """Local Moran's I for every cell (row-standardised weights).

    ``moran_i`` is esda's ``Is``; ``quadrant`` esda's ``q`` (1 HH, 2 LH, 3 LL, 4 HL: the cell's
    value above/below the mean, then its neighbours' average above/below the mean); ``z``/``p``
    the normal approximation under total randomisation, ``q`` its FDR q-value; ``p_sim``/``q_sim``
    the conditional permutation p-value and its q-value.
    """

    value: np.ndarray
    moran_i: np.ndarray
    quadrant: np.ndarray
    z: np.ndarray
    p: np.ndarray
    q: np.ndarray
    p_sim: np.ndarray | None
    q_sim: np.ndarray | None
    alternative: str
    fdr: str
    alpha: float
    permutations: int
    seed: int | None
    warnings: tuple[str, ...]

    _columns = ("value", "moran_i", "quadrant", "z", "p", "q", "p_sim", "q_sim")

    def _column(self, name: str) -> np.ndarray | list:
        if name == "quadrant":
            return [QUADRANTS[v] for v in self.quadrant.tolist()]
        return super()._column(name)

    def as_dict(self) -> dict:
        """Summary for JSON: settings, significant cells by quadrant, and the warnings."""
        sig = self.significant
        by_quadrant = {label: int((sig & (self.quadrant == code)).sum()) for code, label in QUADRANTS.items()}
        return {"statistic": "local Moran's I", **self._summary(), "significant_by_quadrant": by_quadrant}


@dataclass(frozen=True)
class GlobalG:
    """Getis-Ord general G: ``g``, its expectation and variance under randomisation, the z-score
    and the normal p-value for ``alternative``."""

    g: float
    expected: float
    variance: float
    z: float
    p: float
    alternative: str
    n: int

    def as_dict(self) -> dict:
        return {"statistic": "general G", "g": self.g, "expected": self.expected, "variance": self.variance,
                "z": self.z, "p": self.p, "alternative": self.alternative, "cells": self.n}


# --------------------------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------------------------

def gistar(y, w, star: bool = True, permutations: int = 0, seed: int | None = None,
           alternative: str = "two-sided", fdr: str = "bh", alpha: float = 0.05) -> LocalG:
    """Getis-Ord local G for every cell: Gi* (``star=True``, the cell counts in its own
    neighbourhood with weight 1) or Gi (``star=False``, neighbours only).

    With binary weights w, k_i neighbours and values y (counts, or harm totals - any y >= 0):

    * Gi*: G_i = (y_i + sum_j w_ij y_j) / sum_j y_j, over N = n cells, W_i = k_i + 1;
    * Gi:  G_i = sum_j w_ij y_j / sum_{j != i} y_j, over the N = n - 1 other cells, W_i = k_i;
    * z_i = (S_i - W_i * m) / (s * sqrt(W_i (N - W_i) / (N - 1))), S_i the numerator above, m and
      s the mean and (population) standard deviation of the N values (for Gi: of the others).

    That is Getis & Ord (1992) / Ord & Getis (1995) with the exact moments under random
    permutation of the values, as esda's ``G_Local(transform='B')`` computes them; ``p`` is the
    normal p-value for ``alternative`` ("two-sided" by default: 2 * (1 - Phi(|z|)); "greater" for
    hot spots only, "less" for cold spots only) and ``q`` its FDR q-value (``fdr``: "bh"
    Benjamini-Hochberg, "by" Benjamini-Yekutieli).

    With ``permutations`` > 0, each cell is also tested by conditional randomisation (its own value
    held, its k_i neighbours drawn at random from the other n - 1 values), seeded by ``seed``;
    p_sim = min(1, 2 * min(#{sim >= obs} + 1, #{sim <= obs} + 1) / (permutations + 1)) two-sided,
    (#{sim >= obs} + 1) / (permutations + 1) for "greater"; ``q_sim`` its q-value. A warning is
    added when the permutation floor makes significance after the correction impossible.

    A harm-weighted Gi* is simply Gi* on per-cell harm totals: pass the totals as ``y``.
    """
    y, w, k, lag = _prepare(y, w, nonnegative=True)
    _check_options(permutations, alternative, fdr, alpha)
    n = y.size
    total = y.sum()
    if total <= 0:
        raise VrpError("all values are zero: there is nothing for Gi* to find")
    if np.ptp(y) == 0:
        raise VrpError("all values are equal: Gi* needs some variation to test")
    with np.errstate(divide="ignore", invalid="ignore"):
        if star:
            card, big_n, numerator = k + 1.0, n, lag + y
            mean = total / n
            sd = math.sqrt(np.mean((y - mean) ** 2))
            g = numerator / total
        else:
            card, big_n, numerator = k.astype(float), n - 1, lag
            others = total - y
            mean = others / (n - 1)
            dev = y - total / n
            # sum of squares about the mean of the other n - 1 values, without a pass per cell
            ss = np.maximum(np.sum(dev**2) - dev**2 * n / (n - 1), 0.0)
            sd = np.sqrt(ss / (n - 1))
            g = lag / others
        spread = np.sqrt(card * (big_n - card) / (big_n - 1))
        z = (numerator - card * mean) / (sd * spread)
    z = np.where(np.isfinite(z), z, np.nan)
    notes = _island_note(k, "Gi*" if star else "Gi", star)
    p_sim = None
    if permutations:
        ge, le = _conditional_counts(y, k, lag, permutations, seed)
        p_sim = _permutation_p(ge, le, permutations, alternative)
        notes += _floor_note(int(np.isfinite(p_sim).sum()), permutations, alternative, fdr, alpha)
    p = _normal_p(z, alternative)
    return LocalG(value=y, g=g, z=z, p=p, q=fdr_q(p, fdr), p_sim=p_sim,
                  q_sim=None if p_sim is None else fdr_q(p_sim, fdr), star=bool(star),
                  alternative=alternative, fdr=fdr, alpha=float(alpha), permutations=int(permutations),
                  seed=seed, warnings=tuple(notes))


def local_moran(y, w, permutations: int = 0, seed: int | None = None, alternative: str = "two-sided",
                fdr: str = "bh", alpha: float = 0.05) -> LocalMoran:
    """Local Moran's I (Anselin 1995) for every cell, with row-standardised weights.

    With z = (y - mean) / sd (population sd) and lag_i the average z of i's k_i neighbours,
    I_i = (n - 1) * z_i * lag_i / sum_j z_j^2 - esda's ``Moran_Local(transformation='r')`` ``Is``.
    ``quadrant`` is esda's ``q``: 1 HH (z_i > 0, lag_i > 0), 2 LH, 3 LL, 4 HL; a value exactly at
    the mean counts as low, as in esda.

    ``z``/``p``: the normal approximation using Anselin's (1995) moments under total
    randomisation (esda's ``EI``, ``VI``). Those moments are for I_i scaled by n / (n - 1)
    (Anselin's m2 = sum z^2 / n), not for esda's ``Is``; we standardise the statistic they belong to,
    so z is exact. The distribution of I_i is skewed, so prefer the permutation p: with
    ``permutations`` > 0, p_sim comes from conditional randomisation exactly as in :func:`gistar`.
    ``q``/``q_sim`` are the FDR q-values (``fdr`` "bh" or "by").
    """
    y, w, k, lag = _prepare(y, w, nonnegative=False)
    _check_options(permutations, alternative, fdr, alpha)
    n = y.size
    total = y.sum()
    dev = y - y.mean()
    sd = y.std()
    if sd == 0:
        raise VrpError("all values are equal: local Moran's I needs some variation to test")
    zs = dev / sd
    with np.errstate(divide="ignore", invalid="ignore"):
        zlag = np.where(k > 0, (w @ zs) / k, 0.0)
    moran_i = (n - 1) * zs * zlag / np.sum(zs * zs)
    high = dev > 0
    neighbours_high = (k > 0) & (lag * n > k * total)   # exact for counts: mean of neighbours > mean
    quadrant = np.where(high, np.where(neighbours_high, 1, 4), np.where(neighbours_high, 2, 3))
    z = _moran_z(moran_i, zs, k)
    notes = _island_note(k, "local Moran's I", False)
    p_sim = None
    if permutations:
        ge, le = _conditional_counts(y, k, lag, permutations, seed)
        # I_i rises with the neighbours' sum when the cell is above the mean, falls when below;
        # a cell exactly at the mean has I_i = 0 whatever its neighbours: every draw ties.
        ge, le = np.where(dev >= 0, ge, le), np.where(dev >= 0, le, ge)
        at_mean = dev == 0
        ge[at_mean] = le[at_mean] = permutations
        p_sim = _permutation_p(ge, le, permutations, alternative)
        notes += _floor_note(n, permutations, alternative, fdr, alpha)
    p = _normal_p(z, alternative)
    return LocalMoran(value=y, moran_i=moran_i, quadrant=quadrant.astype(np.int64), z=z, p=p,
                      q=fdr_q(p, fdr), p_sim=p_sim, q_sim=None if p_sim is None else fdr_q(p_sim, fdr),
                      alternative=alternative, fdr=fdr, alpha=float(alpha), permutations=int(permutations),
                      seed=seed, warnings=tuple(notes))


def global_g(y, w, alternative: str = "two-sided") -> GlobalG:
    """Getis-Ord general G (Getis & Ord 1992): G = sum_ij w_ij y_i y_j / sum_{i != j} y_i y_j,
    with its expectation S0 / (n (n - 1)) and variance under randomisation, exactly as esda's ``G``
    (binary weights). ``p`` is the normal p-value for ``alternative`` (two-sided by default; esda's
    ``p_norm`` is one-sided)."""
    y, w, _, lag = _prepare(y, w, nonnegative=True, minimum=4)
    if alternative not in ALTERNATIVES:
        raise VrpError(f"alternative must be one of {', '.join(ALTERNATIVES)}, got {alternative!r}")
    if np.ptp(y) == 0:
        raise VrpError("all values are equal: the general G needs some variation to test")
    n = float(y.size)
    s0 = float(w.sum())
    both = w + w.T
    s1 = float(both.multiply(both).sum()) / 2
    s2 = float(np.sum((np.asarray(w.sum(axis=1)).ravel() + np.asarray(w.sum(axis=0)).ravel()) ** 2))
    sy, sy2, sy3, sy4 = (float(np.sum(y**e)) for e in (1, 2, 3, 4))
    g = float(y @ lag) / (sy * sy - sy2)
    expected = s0 / (n * (n - 1))
    b0 = (n * n - 3 * n + 3) * s1 - n * s2 + 3 * s0 * s0
    b1 = -((n * n - n) * s1 - 2 * n * s2 + 6 * s0 * s0)
    b2 = -(2 * n * s1 - (n + 3) * s2 + 6 * s0 * s0)
    b3 = 4 * (n - 1) * s1 - 2 * (n + 1) * s2 + 8 * s0 * s0
    b4 = s1 - s2 + s0 * s0
    eg2 = (b0 * sy2**2 + b1 * sy4 + b2 * sy**2 * sy2 + b3 * sy * sy3 + b4 * sy**4) / (
        (sy**2 - sy2) ** 2 * n * (n - 1) * (n - 2) * (n - 3))
    variance = eg2 - expected**2
    z = (g - expected) / math.sqrt(variance) if variance > 0 else math.nan
    p = float(_normal_p(np.array([z]), alternative)[0])
    return GlobalG(g=g, expected=expected, variance=variance, z=z, p=p, alternative=alternative, n=int(n))


def fdr_q(p, method: str = "bh") -> np.ndarray:
    """False-discovery-rate q-values for the p-values ``p`` (``scipy.stats.false_discovery_control``).

    "bh" Benjamini & Hochberg (1995), valid for independent or positively dependent tests;
    "by" Benjamini & Yekutieli (2001), valid under any dependence at the price of a factor
    sum_{i<=n} 1/i. NaN p-values (cells with no test) stay NaN and do not count in n.
    """
    if method not in FDR_METHODS:
        raise VrpError(f"fdr method must be 'bh' or 'by', got {method!r}")
    p = np.asarray(p, dtype=float)
    q = np.full(p.shape, np.nan)
    tested = ~np.isnan(p)
    if tested.any():
        if (p[tested] < 0).any() or (p[tested] > 1).any():
            raise VrpError("p-values must lie between 0 and 1")
        q[tested] = _false_discovery_control(p[tested], method)
    return q


def _false_discovery_control(ps: np.ndarray, method: str) -> np.ndarray:
    """``scipy.stats.false_discovery_control(ps, method=method)`` for a 1-D array of p-values in
    0..1, step for step (the same sort, products and cumulative minimum, so the same floats),
    without importing scipy.stats."""
    m = ps.size
    if m <= 1:
        return ps
    order = np.argsort(ps, kind="stable")
    ps = np.take_along_axis(ps, order, axis=-1)
    i = np.arange(1, m + 1, dtype=ps.dtype)
    ps = ps * (m / i)
    if method == "by":
        ps = ps * np.sum(1 / i)
    np.minimum.accumulate(ps[::-1], out=ps[::-1])
    np.put_along_axis(ps, order, values=ps.copy(), axis=-1)
    return np.clip(ps, 0.0, 1.0)


# --------------------------------------------------------------------------------------------
# Conditional randomisation
# --------------------------------------------------------------------------------------------

def _conditional_counts(y: np.ndarray, k: np.ndarray, lag: np.ndarray, permutations: int,
                        seed) -> tuple[np.ndarray, np.ndarray]:
    """For each cell i, how many of ``permutations`` conditional draws give a neighbour sum
    ``>=`` and ``<=`` the observed one (``lag[i]``, the sum of its k_i neighbours' values).

    Conditional randomisation (Anselin 1995; esda's ``crand``): y_i is held and the k_i neighbour
    values are drawn without replacement from the other n - 1 values. All the statistics here
    rise or fall monotonically with that neighbour sum (Gi*, Gi; local Moran's I in the direction
    of the sign of z_i), so counting sums is counting statistics, with no division per draw.

    Sets of draws are shared between cells, which is what makes it fast (esda shares one set
    across all cells; we deal the cells at random into up to 64 sets with independent draws, so
    that no two cells in 64 lean on the same random sample). Within a set, draw p is an ordered
    sample ``ids[p]`` of k_max + 1 distinct cells, and cell i takes the first k_i of them that
    are not i itself. That is exactly a uniform draw of k_i cells from the n - 1 others (a uniform
    ordering of all n cells with i deleted is a uniform ordering of the rest). So cell i's
    simulated sum is the prefix sum S[p, k_i] - common to the set's cells with k_i neighbours -
    except in the draws where i itself is among the first k_i, where it is
    S[p, k_i] - y_i + y[ids[p, k_i]]; such self-hits number about permutations * mean(k) a set.

    The counts then cost one sort of S[:, k] per distinct neighbour count and set, a binary search
    per cell and a correction per self-hit: O(sets * P * k_max + n log P) time and
    O(P * k_max + n) memory, against O(n P k) for drawing per cell. Ties (common with counts)
    count on both sides; sums equal to within rounding (``tol``) are ties. Each cell's own null
    distribution is exact; cells in the same set are dependent through their shared draws.
    """
    n = y.size
    kmax = int(k.max())
    rng = np.random.default_rng(seed)
    n_sets = max(1, min(_MAX_SETS, n // _CELLS_PER_SET))
    which = rng.permutation(n) % n_sets
    tol = 16 * np.finfo(float).eps * (kmax + 2) * max(kmax, 1) * float(np.abs(y).max())
    ge = np.empty(n, dtype=np.int64)
    le = np.empty(n, dtype=np.int64)
    by_set = np.argsort(which, kind="stable")
    for cells_in_set in np.split(by_set, np.flatnonzero(np.diff(which[by_set])) + 1):
        in_set = np.zeros(n, dtype=bool)
        in_set[cells_in_set] = True
        ids = _distinct_draws(rng, n, kmax + 1, permutations)
        sums = np.zeros((permutations, kmax + 1))
        np.cumsum(y[ids[:, :kmax]], axis=1, out=sums[:, 1:])
        by_k = cells_in_set[np.argsort(k[cells_in_set], kind="stable")]
        for cells in np.split(by_k, np.flatnonzero(np.diff(k[by_k])) + 1):
            ref = np.sort(sums[:, k[cells[0]]])
            ge[cells] = permutations - np.searchsorted(ref, lag[cells] - tol, side="left")
            le[cells] = np.searchsorted(ref, lag[cells] + tol, side="right")
        if kmax:
            _self_hits(y, k, lag, ids, sums, in_set, tol, ge, le)
    return ge, le


def _self_hits(y, k, lag, ids, sums, in_set, tol, ge, le) -> None:
    """Correct the counts of the set's cells for the draws that picked the cell itself among its
    first k_i: there its sum is S[p, k_i] - y_i + y[ids[p, k_i]], not S[p, k_i]."""
    permutations, width = ids.shape
    kmax = width - 1
    position = np.arange(kmax)
    block = max(1, (1 << 22) // kmax)   # bounds the (block, k_max) temporaries at ~4M entries
    for start in range(0, permutations, block):
        drawn = ids[start:start + block, :kmax]
        hit_p, hit_m = np.nonzero((position < k[drawn]) & in_set[drawn])
        cell = drawn[hit_p, hit_m]
        rows = hit_p + start
        kc = k[cell]
        old = sums[rows, kc]
        new = old - y[cell] + y[ids[rows, kc]]
        low, high = lag[cell] - tol, lag[cell] + tol
        n = y.size
        ge += np.bincount(cell, (new >= low).astype(np.int64) - (old >= low), minlength=n).astype(np.int64)
        le += np.bincount(cell, (new <= high).astype(np.int64) - (old <= high), minlength=n).astype(np.int64)


def _distinct_draws(rng: np.random.Generator, n: int, width: int, permutations: int) -> np.ndarray:
    """``permutations`` rows, each an ordered uniform sample of ``width`` distinct cells of n.

    Small samples from many cells (the usual grid: 9 of 90,000) are drawn all at once as integers
    and the rare rows with a repeat redrawn (rejection keeps them exactly uniform); small areas by
    ordering random keys; otherwise row by row with ``Generator.choice(replace=False)``, whose
    order is random too.
    """
    if 4 * width * width <= n:
        ids = rng.integers(0, n, size=(permutations, width))
        while True:
            ordered = np.sort(ids, axis=1)
            repeat = np.flatnonzero((ordered[:, 1:] == ordered[:, :-1]).any(axis=1))
            if repeat.size == 0:
                return ids
            ids[repeat] = rng.integers(0, n, size=(repeat.size, width))
    if permutations * n <= 1 << 22:
        return np.argsort(rng.random((permutations, n)), axis=1)[:, :width]
    return np.stack([rng.choice(n, size=width, replace=False) for _ in range(permutations)])


def _permutation_p(ge: np.ndarray, le: np.ndarray, permutations: int, alternative: str) -> np.ndarray:
    """Pseudo p-values from the counts of draws at least / at most as large as observed, with the
    observed value counted among the draws (Davison & Hinkley 1997; North et al. 2002)."""
    if alternative == "greater":
        return (ge + 1) / (permutations + 1)
    if alternative == "less":
        return (le + 1) / (permutations + 1)
    return np.minimum(1.0, 2 * (np.minimum(ge, le) + 1) / (permutations + 1))


def _floor_note(n: int, permutations: int, alternative: str, fdr: str, alpha: float) -> list[str]:
    """A one-line warning when the smallest p_sim that ``permutations`` can give is too large to
    survive the FDR correction on its own.

    The floor is 1 / (P + 1) one-sided, 2 / (P + 1) two-sided. BH calls the cell of rank r
    significant only if p_(r) <= alpha r / n, so a lone cell needs p <= alpha / n (Bonferroni's
    threshold); when the floor is above that, at least ceil(floor n / alpha) cells must all sit at
    the floor before any is significant (BY: alpha / (n c_n), c_n = sum_{i<=n} 1/i). Nothing in
    esda, ArcGIS or GeoDa warns about this, and a map of p_sim < 0.05 hides it.
    """
    sides = 2 if alternative == "two-sided" else 1
    harmonic = 1.0 if fdr == "bh" else float(np.sum(1.0 / np.arange(1, n + 1)))
    floor = Fraction(min(sides, permutations + 1), permutations + 1)
    alpha_f = Fraction(alpha)
    if n == 0 or floor * n * Fraction(harmonic) <= alpha_f:
        return []
    lone = alpha / (n * harmonic)
    needed = math.ceil(Fraction(sides * n) * Fraction(harmonic) / alpha_f) - 1
    at_floor = math.ceil(floor * n * Fraction(harmonic) / alpha_f)
    side = "two-sided " if sides == 2 else ""
    threshold = (f"the Bonferroni threshold alpha/n = {lone:.3g}" if fdr == "bh"
                 else f"the BY threshold for a single cell alpha/(n*c_n) = {lone:.3g}")
    if at_floor > n:
        consequence = f"so no cell can be significant at alpha = {alpha:g} after {fdr.upper()} whatever the data"
    else:
        consequence = (f"so under {fdr.upper()} no cell can be significant unless at least {at_floor} of the "
                       f"{n} cells all sit at that floor")
    return [f"{permutations} permutations are too few for {n} cells: the smallest possible {side}p_sim, "
            f"{float(floor):.3g}, is above {threshold} (alpha {alpha:g}), {consequence}; "
            f"{needed} permutations are needed for a single cell to be able to pass"]


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

def _prepare(y, w, nonnegative: bool, minimum: int = 3):
    """Validated values (1-D float), weights (CSR, binary, no self-weights), neighbour counts and
    neighbour sums ``w @ y``."""
    if not sparse.issparse(w):
        raise VrpError("spatial weights must be a scipy.sparse matrix (see vrp.places.neighbours)")
    try:
        y = np.asarray(y, dtype=float).ravel()
    except (TypeError, ValueError):
        raise VrpError("values must be numbers") from None
    n = y.size
    if w.shape != (n, n):
        raise VrpError(f"weights are {w.shape[0]} x {w.shape[1]} but there are {n} values")
    if n < minimum:
        raise VrpError(f"need at least {minimum} cells, got {n}")
    if not np.isfinite(y).all():
        raise VrpError("values must be finite numbers (found NaN or infinity)")
    if nonnegative and (y < 0).any():
        raise VrpError("Getis-Ord G needs values of zero or more (counts or harm totals)")
    w = sparse.csr_array(w, dtype=float, copy=True)
    w.sum_duplicates()
    w.eliminate_zeros()
    if w.diagonal().any():
        raise VrpError("weights have self-weights on the diagonal; pass them without (Gi* adds its own)")
    if w.nnz and not (w.data == 1).all():
        raise VrpError("weights must be binary (every weight 1); these statistics do not take graded weights")
    k = np.diff(w.indptr).astype(np.int64)
    return y, w, k, w @ y


def _check_options(permutations, alternative: str, fdr: str, alpha) -> None:
    if isinstance(permutations, bool) or not isinstance(permutations, (int, np.integer)) or permutations < 0:
        raise VrpError(f"permutations must be a whole number of 0 or more, got {permutations!r}")
    if alternative not in ALTERNATIVES:
        raise VrpError(f"alternative must be one of {', '.join(ALTERNATIVES)}, got {alternative!r}")
    if fdr not in FDR_METHODS:
        raise VrpError(f"fdr method must be 'bh' or 'by', got {fdr!r}")
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise VrpError(f"alpha must be between 0 and 1, got {alpha!r}")


def _normal_p(z: np.ndarray, alternative: str) -> np.ndarray:
    """Normal p-values as scipy.stats.norm gives them (its sf(z) is ndtr(-z), its cdf ndtr(z))."""
    z = np.asarray(z, dtype=float)
    if alternative == "greater":
        return ndtr(-z)
    if alternative == "less":
        return ndtr(z)
    return 2 * ndtr(-np.abs(z))


def _moran_z(moran_i: np.ndarray, zs: np.ndarray, k: np.ndarray) -> np.ndarray:
    """z of local Moran's I under total randomisation (Anselin 1995; Sokal et al. 1998, A3-A4*),
    row-standardised binary weights: w_i. = 1, sum_j w_ij^2 = 1 / k_i (0 and 0 for islands)."""
    n = zs.size
    m2 = np.mean(zs**2)
    b2 = np.mean(zs**4) / m2**2
    wi = (k > 0).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        wi2 = np.where(k > 0, 1.0 / k, 0.0)
        expected = -wi / (n - 1)
        variance = (wi2 * (n - b2) / (n - 1) + (wi**2 - wi2) * (2 * b2 - n) / ((n - 1) * (n - 2))
                    - expected**2)
        z = (moran_i * n / (n - 1) - expected) / np.sqrt(variance)
    return np.where(np.isfinite(z), z, np.nan)


def _island_note(k: np.ndarray, name: str, star: bool) -> list[str]:
    islands = int((k == 0).sum())
    if not islands:
        return []
    what = ("their Gi* compares the cell alone with the mean" if star
            else "their statistic is undefined (NaN z and p) and p_sim is 1")
    return [f"{islands} cell{'s' if islands > 1 else ''} have no neighbours in the study area; "
            f"{what} ({name})"]
