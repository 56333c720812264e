"""Stability of hotspots over time: rank correlation and top-k overlap between periods, and a
persistent / emerging / fading / intermittent classification with a stated confidence.

Uncertainty comes from resampling EVENTS, not units. A period's counts are one draw of events from an
underlying risk surface; the question an analyst needs answered is "would a different draw of the same
risk give the same hotspots?". So each bootstrap replicate redraws each period's N events with
replacement from its observed events (a multinomial(N, counts / N) draw per period, i.e. Poisson-like
noise in every place) and recomputes the statistic. Resampling units instead would answer a different
question (what if the city were made of other places?) and would break the link between a unit and its
own history, which is the whole point here.

Two consequences, both stated in the results: replicates add noise on top of data that already contain
it, so replicate correlations, overlaps and class agreement run lower than the observed ones; the
intervals are therefore percentile intervals shifted so that the replicates' median sits on the
estimate (keeping their width and shape), and the classification confidence is conservative.

"Hot" in a period = among that period's top `top_fraction` of units: value at least the k-th highest,
k = ceil(top_fraction * n_units), and above zero. Units tied with the k-th value are all hot (so a
period can have more than k hot units) because breaking ties by position would make some cells hot for
no reason but their index; a unit with no events is never hot.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vrp.errors import VrpError

CLASSES = ("persistent", "emerging", "fading", "intermittent", "never")
INTERVAL_METHOD = "bootstrap percentile interval (events resampled), shifted so the replicate median is the estimate"


@dataclass(frozen=True)
class RankStability:
    """How similar two periods' rankings of the same units are, with bootstrap 95% intervals."""

    n_units: int
    top_fraction: float
    spearman: float
    spearman_low: float | None
    spearman_high: float | None
    jaccard: float                  # |top_a & top_b| / |top_a | top_b|
    jaccard_low: float | None
    jaccard_high: float | None
    n_top_a: int
    n_top_b: int
    n_top_both: int
    bootstrap: int
    spearman_replicate_median: float | None
    jaccard_replicate_median: float | None
    interval_method: str

    def as_dict(self) -> dict:
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True, eq=False)
class HotspotClasses:
    """Per-unit hotspot classes over periods, with the share of bootstrap replicates that agree.

    Arrays run over all units; `reported` marks the units hot at least once in the observed data or in
    any replicate (the others are "never" with confidence 1 and need no row in a report).
    """

    classes: np.ndarray           # (n_units,) str, one of CLASSES
    hot: np.ndarray               # (n_periods, n_units) bool
    n_hot_periods: np.ndarray     # (n_units,) int
    confidence: np.ndarray        # (n_units,) share of replicates giving the same class (nan if bootstrap=0)
    class_shares: np.ndarray      # (n_units, len(CLASSES)) share of replicates in each class
    reported: np.ndarray          # (n_units,) bool
    n_hot_by_period: tuple[int, ...]
    top_fraction: float
    persistent_share: float
    recent_periods: int
    bootstrap: int

    def counts(self) -> dict[str, int]:
        return {c: int((self.classes == c).sum()) for c in CLASSES}

    def records(self) -> list[dict]:
        """One dict per reported unit (hot at least once, observed or replicated)."""
        out = []
        for u in np.flatnonzero(self.reported):
            out.append({
                "unit": int(u), "class": str(self.classes[u]), "n_hot_periods": int(self.n_hot_periods[u]),
                "hot_periods": np.flatnonzero(self.hot[:, u]).tolist(),
                "confidence": _json(self.confidence[u]),
                **{f"share_{c}": _json(self.class_shares[u, k]) for k, c in enumerate(CLASSES)},
            })
        return out

    def as_dict(self) -> dict:
        return {"counts": self.counts(), "n_hot_by_period": list(self.n_hot_by_period),
                "top_fraction": self.top_fraction, "persistent_share": self.persistent_share,
                "recent_periods": self.recent_periods, "bootstrap": self.bootstrap, "units": self.records()}


def top_units(values, top_fraction: float) -> np.ndarray:
    """Boolean mask of the 'hot' units: value >= the k-th highest (k = ceil(fraction * n)) and > 0."""
    v = _vector(values, "values", allow_empty=True)
    return _hot(v, _k(top_fraction, v.size))


def rank_stability(a, b, top_fraction: float = 0.05, bootstrap: int = 999, seed=None) -> RankStability:
    """Spearman rank correlation and top-k Jaccard overlap between two periods' counts per unit.

    spearman is scipy.stats.spearmanr (Pearson correlation of average ranks, zero-count units included).
    jaccard compares the two periods' hot sets (see top_units). Each has a 95% interval from `bootstrap`
    replicates in which both periods' events are resampled (module docstring); bootstrap=0 skips them.
    """
    va, vb = _vector(a, "a"), _vector(b, "b")
    if va.size != vb.size:
        raise VrpError(f"a and b must cover the same units: {va.size} and {vb.size} values")
    n_boot = _bootstrap_count(bootstrap, va, vb)
    k = _k(top_fraction, va.size)
    ha, hb = _hot(va, k), _hot(vb, k)
    rho, jac = spearman(va, vb), _jaccard(ha, hb)
    rho_ci, jac_ci, rho_med, jac_med = (None, None), (None, None), None, None
    if n_boot:
        rng = np.random.default_rng(seed)
        ea, eb = _events(va), _events(vb)
        reps = np.empty((n_boot, 2))
        for r in range(n_boot):
            ra, rb = _resample(ea, va.size, rng), _resample(eb, vb.size, rng)
            reps[r] = spearman(ra, rb), _jaccard(_hot(ra, k), _hot(rb, k))
        rho_ci, rho_med = _shifted_interval(reps[:, 0], rho, -1.0, 1.0)
        jac_ci, jac_med = _shifted_interval(reps[:, 1], jac, 0.0, 1.0)
    return RankStability(
        n_units=int(va.size), top_fraction=float(top_fraction), spearman=rho, spearman_low=rho_ci[0],
        spearman_high=rho_ci[1], jaccard=jac, jaccard_low=jac_ci[0], jaccard_high=jac_ci[1],
        n_top_a=int(ha.sum()), n_top_b=int(hb.sum()), n_top_both=int((ha & hb).sum()), bootstrap=n_boot,
        spearman_replicate_median=rho_med, jaccard_replicate_median=jac_med, interval_method=INTERVAL_METHOD)


def classify_hotspots(values_by_period, top_fraction: float = 0.05, persistent_share: float = 0.8,
                      recent_periods: int = 1, bootstrap: int = 199, seed=None) -> HotspotClasses:
    """Classify each unit from its hot/not-hot history over P periods (rows of values_by_period).

    With h = periods hot, R = the last `recent_periods` periods and "earlier" = the P - R before them:
    persistent = h >= persistent_share * P; otherwise emerging = hot in at least one recent period and
    no earlier one; fading = hot in at least one earlier period and no recent one; intermittent = hot
    in both; never = h = 0. (After Chainey 2020 and sfhotspot's hotspot_classify, which uses Gi* for
    "hot"; see the docs for the differences.) confidence = share of `bootstrap` replicates, each
    resampling every period's events, that give the unit the same class.
    """
    m = np.asarray(values_by_period, dtype=float)
    if m.ndim != 2 or m.shape[0] < 2 or m.shape[1] < 1:
        raise VrpError("values_by_period must be a 2-D array (periods x units) with at least 2 periods, "
                       f"got shape {m.shape}")
    for p in range(m.shape[0]):
        _vector(m[p], f"period {p}", allow_empty=True)
    n_periods, n_units = m.shape
    if (isinstance(recent_periods, bool) or int(recent_periods) != recent_periods
            or not 1 <= recent_periods < n_periods):
        raise VrpError(f"recent_periods must be a whole number from 1 to {n_periods - 1}, "
                       f"got {recent_periods!r}")
    recent_periods = int(recent_periods)
    share = float(persistent_share)
    if not 0 < share <= 1:
        raise VrpError(f"persistent_share must be a share in (0, 1], got {persistent_share}")
    n_boot = _bootstrap_count(bootstrap, *m)
    k = _k(top_fraction, n_units)
    need = math.ceil(share * n_periods - 1e-9)     # periods hot to be persistent

    hot = np.vstack([_hot(m[p], k) for p in range(n_periods)])
    codes = _classify(hot, recent_periods, need)
    tally = np.zeros((n_units, len(CLASSES)), dtype=np.int64)
    ever = hot.any(axis=0)
    if n_boot:
        rng = np.random.default_rng(seed)
        events = [_events(m[p]) for p in range(n_periods)]
        rows = np.arange(n_units)
        rep_hot = np.empty_like(hot)
        for _ in range(n_boot):
            for p in range(n_periods):
                rep_hot[p] = _hot(_resample(events[p], n_units, rng), k)
            tally[rows, _classify(rep_hot, recent_periods, need)] += 1
            ever |= rep_hot.any(axis=0)
        shares = tally / n_boot
        confidence = shares[rows, codes]
    else:
        shares = np.full(tally.shape, np.nan)
        confidence = np.full(n_units, np.nan)
    return HotspotClasses(
        classes=np.asarray(CLASSES, dtype=object)[codes].astype(str), hot=hot, n_hot_periods=hot.sum(axis=0),
        confidence=confidence, class_shares=shares, reported=ever,
        n_hot_by_period=tuple(int(h) for h in hot.sum(axis=1)), top_fraction=float(top_fraction),
        persistent_share=share, recent_periods=recent_periods, bootstrap=n_boot)


def spearman(a, b) -> float:
    """Spearman's rho as scipy.stats.spearmanr computes it (Pearson r of average ranks); nan if a
    period is constant. Written out so the bootstrap loop avoids spearmanr's per-call overhead."""
    ra, rb = _average_ranks(np.asarray(a, dtype=float)), _average_ranks(np.asarray(b, dtype=float))
    ra, rb = ra - ra.mean(), rb - rb.mean()
    # element-wise sums rather than BLAS dot products: exact enough, and no thread start-up per call
    den = math.sqrt(float(np.sum(ra * ra)) * float(np.sum(rb * rb)))
    return float(min(1.0, max(-1.0, float(np.sum(ra * rb)) / den))) if den > 0 else float("nan")


def _average_ranks(v: np.ndarray) -> np.ndarray:
    """Average ranks (1-based, ties sharing the mean rank), as scipy.stats.rankdata(method="average").

    Counts take an O(n) path: the units with count c hold ranks below(c) + 1 .. below(c) + n_c, whose
    mean is below(c) + (n_c + 1) / 2.
    """
    if v.size and v.min() >= 0 and v.max() <= 4 * v.size and np.all(v == np.floor(v)):
        c = v.astype(np.intp)
        n_at = np.bincount(c)
        below = np.cumsum(n_at) - n_at
        return (below + (n_at + 1) / 2)[c]
    from scipy.stats import rankdata  # here: scipy.stats takes ~1 s to import

    return rankdata(v)


def _classify(hot: np.ndarray, recent: int, need: int) -> np.ndarray:
    """Class codes (indices into CLASSES) from a (periods x units) hot matrix."""
    h = hot.sum(axis=0)
    early = hot[:-recent].any(axis=0)
    late = hot[-recent:].any(axis=0)
    codes = np.full(hot.shape[1], CLASSES.index("never"), dtype=np.intp)
    codes[early & late] = CLASSES.index("intermittent")
    codes[early & ~late] = CLASSES.index("fading")
    codes[~early & late] = CLASSES.index("emerging")
    codes[h >= need] = CLASSES.index("persistent")
    return codes


def _hot(v: np.ndarray, k: int) -> np.ndarray:
    return (v >= _kth_largest(v, k)) & (v > 0)


def _kth_largest(v: np.ndarray, k: int) -> float:
    """The k-th highest value; O(n) by counting for whole-number counts, else a partial sort."""
    if v.max() <= 4 * v.size and v.min() >= 0 and np.all(v == np.floor(v)):
        at_least = np.cumsum(np.bincount(v.astype(np.intp))[::-1])[::-1]   # at_least[c] = #(v >= c)
        return float(np.flatnonzero(at_least >= k)[-1])
    return float(np.partition(v, v.size - k)[v.size - k])


def _k(fraction, n: int) -> int:
    f = float(fraction)
    if not 0 < f <= 1:
        raise VrpError(f"top_fraction must be a share in (0, 1], e.g. 0.05 for the top 5%; got {fraction}")
    return max(1, min(n, math.ceil(f * n - 1e-9)))


def _jaccard(ha: np.ndarray, hb: np.ndarray) -> float:
    union = int((ha | hb).sum())
    return int((ha & hb).sum()) / union if union else float("nan")


def _events(v: np.ndarray) -> np.ndarray:
    """The unit of every event: unit u repeated v[u] times."""
    return np.repeat(np.arange(v.size), v.astype(np.int64))


def _resample(events: np.ndarray, n_units: int, rng: np.random.Generator) -> np.ndarray:
    """Counts per unit after drawing len(events) events with replacement: multinomial(N, v / N)."""
    if events.size == 0:
        return np.zeros(n_units)
    return np.bincount(events[rng.integers(0, events.size, events.size)], minlength=n_units).astype(float)


def _shifted_interval(reps: np.ndarray, estimate: float, lo: float, hi: float):
    """95% percentile interval of the replicates, moved so that their median sits on the estimate."""
    reps = reps[np.isfinite(reps)]
    if reps.size == 0 or not math.isfinite(estimate):
        return (None, None), None
    q_lo, med, q_hi = np.quantile(reps, [0.025, 0.5, 0.975])
    low = float(np.clip(estimate - (med - q_lo), lo, hi))
    high = float(np.clip(estimate + (q_hi - med), lo, hi))
    return (low, high), float(med)


def _vector(v, name: str, allow_empty: bool = False) -> np.ndarray:
    a = np.asarray(v, dtype=float).ravel()
    if a.size == 0:
        raise VrpError(f"{name} has no units")
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise VrpError(f"{name} must be finite non-negative counts per unit")
    if not allow_empty and a.sum() == 0:
        raise VrpError(f"{name} has no events: stability between periods is undefined")
    return a


def _bootstrap_count(bootstrap, *vectors) -> int:
    if isinstance(bootstrap, bool) or int(bootstrap) != bootstrap or bootstrap < 0:
        raise VrpError(f"bootstrap must be a whole number >= 0, got {bootstrap!r}")
    if bootstrap and any(np.any(v != np.round(v)) for v in vectors):
        raise VrpError("the bootstrap resamples events, so values must be whole-number counts "
                       "(use bootstrap=0 for harm-weighted values)")
    return int(bootstrap)


def _json(v) -> float | None:
    v = float(v)
    return v if math.isfinite(v) else None
