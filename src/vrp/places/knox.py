"""Near repeats: the Knox test over space-time bands, with Monte Carlo p-values.

Method (Knox 1964; as used for burglary near repeats by Townsley, Homel & Chaseling 2003 and Johnson et
al. 2007, and as implemented by Ratcliffe's Near Repeat Calculator): every pair of events is placed in a
cell of a table by its spatial distance band and its time-gap band. Under the null hypothesis of no
space-time interaction, *when* an event happened is unrelated to *where*, so the expected table is
obtained by randomly permuting the event times among the (fixed) event locations and re-counting. For
each cell we report the observed pairs, the mean and median of the permuted counts, the Knox ratio
(observed / mean expected, > 1 means more pairs than chance) and the one-sided Monte Carlo p-value
(#{simulations >= observed} + 1) / (iterations + 1) (Davison & Hinkley 1997; the formula of the Near
Repeat Calculator, of wsteenbeek/NearRepeat and of tobydavies/NearRepeat).

Bands are half-open intervals [a, b) given by their breaks, both starting at 0: space_bands=(0, 100,
200, 300) in metres and time_bands=(0, 7, 14, 21) in days give the spatial rows "0 m (same location)",
">0 to <100 m", "100 to <200 m", "200 to <300 m", "300 m or more" and the time columns "0 to <7 days" ...
"21 days or more", as the Near Repeat Calculator lays its table out. Our labels say exactly what is
counted. The Near Repeat Calculator 1.3 does not: its "8 to 14 days" column counts gaps in [7, 14) days
and its "101 to 200" row distances in [100, 200) metres (a pair 3 days apart lands in "4 to 6 days";
Steenbeek's NearRepeat vignette "NRC", Davies' notebook "Inconsistency with Near Repeat Calculator").
``nrc_compatible=True`` counts as the NRC does ("same location" is a distance below 1 unit, times are
whole dates) and prints the NRC's labels, flagged as such, so that old results can be checked.

Speed: a pair can only fall in a finite spatial row if it is closer than the last space break, so those
pairs are found once with a k-d tree (scipy cKDTree.query_pairs), and each Monte Carlo iteration only
permutes the times and re-bins those pairs' time gaps (one vectorised bincount). The "beyond" row needs
no pairs at all: a permutation of times leaves the multiset of all n(n-1)/2 time gaps unchanged, so each
column's total is a constant (counted once from the sorted times) and the beyond row is that total minus
the finite rows. Cost per iteration is O(n + close pairs) instead of O(n^2).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vrp.errors import VrpError

METRICS = {"euclidean": 2, "manhattan": 1}
SECONDS_PER_DAY = 86_400
NRC_LABELS = "Near Repeat Calculator 1.3 labels: they do not match what is counted; see the intervals"


@dataclass(frozen=True, eq=False)
class KnoxResult:
    """A Knox table: rows are spatial bands, columns time bands; every array is (rows, columns).

    ``space_labels``/``time_labels`` are for display (the NRC's own wording when ``nrc_compatible``);
    ``space_intervals``/``time_intervals`` always state the counted interval in interval notation.
    """

    space_labels: tuple[str, ...]
    time_labels: tuple[str, ...]
    space_intervals: tuple[str, ...]
    time_intervals: tuple[str, ...]
    observed: np.ndarray           # pairs per cell (int)
    expected_mean: np.ndarray      # mean over the permutations
    expected_median: np.ndarray    # median over the permutations
    ratio: np.ndarray              # observed / expected_mean (nan for 0/0, inf for x/0)
    ratio_median: np.ndarray       # observed / expected_median
    p_value: np.ndarray            # (#sim >= observed + 1) / (iterations + 1), one-sided (excess of pairs)
    iterations: int
    metric: str
    nrc_compatible: bool
    label_note: str | None         # set when the labels are the NRC's
    n_events: int
    n_pairs: int                   # all pairs, n (n - 1) / 2
    n_close_pairs: int             # pairs closer than the last finite space break
    seed: int | None

    def records(self) -> list[dict]:
        """One dict per cell, row by row, ready for a table or a heat map."""
        out = []
        for i, (sl, si) in enumerate(zip(self.space_labels, self.space_intervals)):
            for j, (tl, ti) in enumerate(zip(self.time_labels, self.time_intervals)):
                out.append({
                    "space_band": sl, "space_interval": si, "time_band": tl, "time_interval": ti,
                    "observed": int(self.observed[i, j]),
                    "expected_mean": _json_float(self.expected_mean[i, j]),
                    "expected_median": _json_float(self.expected_median[i, j]),
                    "knox_ratio": _json_float(self.ratio[i, j]),
                    "knox_ratio_median": _json_float(self.ratio_median[i, j]),
                    "p_value": _json_float(self.p_value[i, j]),
                })
        return out

    def as_dict(self) -> dict:
        table = lambda a: [[_json_float(v) for v in row] for row in np.asarray(a, dtype=float)]  # noqa: E731
        return {
            "space_labels": list(self.space_labels), "time_labels": list(self.time_labels),
            "space_intervals": list(self.space_intervals), "time_intervals": list(self.time_intervals),
            "observed": self.observed.tolist(), "expected_mean": table(self.expected_mean),
            "expected_median": table(self.expected_median), "knox_ratio": table(self.ratio),
            "knox_ratio_median": table(self.ratio_median), "p_value": table(self.p_value),
            "iterations": self.iterations, "metric": self.metric, "nrc_compatible": self.nrc_compatible,
            "label_note": self.label_note, "n_events": self.n_events, "n_pairs": self.n_pairs,
            "n_close_pairs": self.n_close_pairs, "seed": self.seed,
        }


def knox(x, y, t, space_bands, time_bands, iterations: int = 999, seed=None, metric: str = "euclidean",
         nrc_compatible: bool = False) -> KnoxResult:
    """Knox test of space-time interaction between events at (x, y) (metres) and times t.

    t is either numbers of days (any origin) or datetimes (numpy datetime64 / pandas), whose gaps are
    measured to the second and compared with the day breaks. space_bands and time_bands are the breaks
    of the half-open bands, both starting at 0, e.g. (0, 100, 200, 300) and (0, 7, 14, 21); a "same
    location" row (distance exactly 0) and the "beyond" row and column are added. iterations is the
    number of random permutations of the times (999 gives p-values in steps of 0.001); seed makes them
    reproducible. metric "manhattan" (|dx| + |dy|, the NRC's and NearRepeat's default) or "euclidean".
    nrc_compatible counts and labels as the Near Repeat Calculator 1.3 does (see the module docstring).
    """
    xs, ys = _coords(x, "x"), _coords(y, "y")
    times, per_day = _times(t, nrc_compatible)
    if not (xs.size == ys.size == times.size):
        raise VrpError(f"x, y and t must have the same length, got {xs.size}, {ys.size} and {times.size}")
    n = xs.size
    if n < 2:
        raise VrpError(f"the Knox test needs at least 2 events, got {n}")
    if metric not in METRICS:
        raise VrpError(f"metric must be one of {sorted(METRICS)}, got {metric!r}")
    if isinstance(iterations, bool) or int(iterations) != iterations or iterations < 1:
        raise VrpError(f"iterations must be a whole number >= 1, got {iterations!r}")
    iterations = int(iterations)
    s_breaks = _breaks(space_bands, "space_bands", "metres")
    t_breaks = _breaks(time_bands, "time_bands", "days")
    if nrc_compatible and s_breaks[1] <= 1:
        raise VrpError("with nrc_compatible the first space band must end above 1 (NRC's 'same location' "
                       f"is a distance below 1), got {s_breaks[1]:g}")

    # spatial rows of the close pairs: 0 = same location, 1.. = finite bands (the beyond row is derived)
    s_edges = np.concatenate(([0.0, 1.0], s_breaks[1:])) if nrc_compatible else s_breaks
    i, j, d = _close_pairs(xs, ys, float(s_breaks[-1]), metric)
    if nrc_compatible:
        rows = np.searchsorted(s_edges, d, side="right") - 1          # [0,1), [1,b1), [b1,b2), ...
    else:
        rows = np.where(d == 0, 0, np.searchsorted(s_breaks, d, side="right"))  # {0}, (0,b1), [b1,b2)...
    n_rows_close = len(s_breaks)                                        # same location + finite bands
    t_edges = t_breaks * per_day
    n_cols = len(t_breaks)                                              # finite bands + beyond
    base = rows.astype(np.intp) * n_cols

    def table(tt: np.ndarray) -> np.ndarray:
        gap = np.abs(tt[i] - tt[j])
        if n_cols <= 16:   # column = number of breaks <= gap; a few passes beat a binary search per pair
            cell = base.copy()
            for edge in t_edges[1:]:
                cell += gap >= edge
        else:
            cell = base + (np.searchsorted(t_edges, gap, side="right") - 1)
        return np.bincount(cell, minlength=n_rows_close * n_cols).reshape(n_rows_close, n_cols)

    column_totals = _gap_band_totals(times, t_edges)

    def full(close: np.ndarray) -> np.ndarray:
        return np.vstack([close, column_totals - close.sum(axis=0)])

    observed = full(table(times))
    rng = np.random.default_rng(seed)
    sims = np.empty((iterations,) + observed.shape, dtype=np.int64)
    for k in range(iterations):
        sims[k] = full(table(times[rng.permutation(n)]))

    summary = monte_carlo_summary(observed, sims)
    s_lab, s_int, t_lab, t_int = _labels(s_breaks, t_breaks, nrc_compatible)
    return KnoxResult(
        space_labels=s_lab, time_labels=t_lab, space_intervals=s_int, time_intervals=t_int,
        observed=observed, iterations=iterations, metric=metric, nrc_compatible=bool(nrc_compatible),
        label_note=NRC_LABELS if nrc_compatible else None, n_events=n, n_pairs=n * (n - 1) // 2,
        n_close_pairs=int(i.size), seed=int(seed) if isinstance(seed, (int, np.integer)) else None,
        **summary)


def monte_carlo_summary(observed, simulated) -> dict:
    """Mean and median expected tables, Knox ratios and p-values from simulated tables (iterations, ...).

    p = (#{simulated >= observed} + 1) / (iterations + 1): the observed table counts as one of the
    equally likely arrangements under the null, so p is never 0 (the NRC's "iterations: 20" is this
    with 19 simulations).
    """
    obs = np.asarray(observed)
    sims = np.asarray(simulated)
    mean, median = sims.mean(axis=0), np.median(sims, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio, ratio_median = obs / mean, obs / median
    p = ((sims >= obs).sum(axis=0) + 1) / (sims.shape[0] + 1)
    return {"expected_mean": mean, "expected_median": median, "ratio": ratio, "ratio_median": ratio_median,
            "p_value": p}


def _close_pairs(xs, ys, reach: float, metric: str):
    """All pairs (i < j) closer than `reach`, with their distances, in a cache-friendly order.

    cKDTree.query_pairs keeps pairs with distance <= r by its own arithmetic, so it is asked for a
    slightly larger radius and our own distances (the same formulas as scipy's pdist) decide the band.
    """
    from scipy.spatial import cKDTree  # here: scipy.spatial is slow to import

    pts = np.column_stack([xs, ys])
    tree = cKDTree(pts)
    pairs = tree.query_pairs(reach * (1 + 1e-9) + 1e-9, p=METRICS[metric], output_type="ndarray")
    if pairs.size == 0:
        empty = np.empty(0, dtype=np.intp)
        return empty, empty, np.empty(0)
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
    i, j = pairs[:, 0].astype(np.intp), pairs[:, 1].astype(np.intp)
    dx, dy = xs[i] - xs[j], ys[i] - ys[j]
    d = np.abs(dx) + np.abs(dy) if metric == "manhattan" else np.sqrt(dx * dx + dy * dy)
    keep = d < reach
    return i[keep], j[keep], d[keep]


def _gap_band_totals(times: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Pairs of events per time-gap band [edges[k], edges[k+1]) plus the last band [edges[-1], inf).

    Counted without forming pairs: for sorted times and each i, a vectorised binary search finds how
    many later events are fewer than `b` apart. The comparison is the same floating-point subtraction
    t[j] - t[i] < b used to bin the close pairs, so the two always agree at band edges.
    """
    ts = np.sort(times)
    n = ts.size
    below = [0]
    for b in edges[1:]:
        lo, hi = np.arange(1, n + 1), np.full(n, n)
        idx = np.arange(n)
        while True:
            active = lo < hi
            if not active.any():
                break
            mid = (lo + hi) // 2
            far = np.zeros(n, dtype=bool)
            far[active] = ts[mid[active]] - ts[idx[active]] >= b
            hi = np.where(active & far, mid, hi)
            lo = np.where(active & ~far, mid + 1, lo)
        below.append(int((lo - idx - 1).sum()))
    below.append(n * (n - 1) // 2)
    return np.diff(np.asarray(below, dtype=np.int64))


def _coords(v, name: str) -> np.ndarray:
    a = np.asarray(v, dtype=float).ravel()
    if not np.all(np.isfinite(a)):
        raise VrpError(f"{name} has {int((~np.isfinite(a)).sum())} missing or non-finite values; "
                       "drop those events first")
    return a


def _times(t, nrc_compatible: bool) -> tuple[np.ndarray, int]:
    """Times as float: days for numbers, seconds for datetimes (returned with the seconds per day).

    Datetimes become whole seconds so that gaps are exact; tz-aware pandas times keep their local wall
    clock (what a crime record's date means). The NRC reads dates only, so nrc_compatible floors to days.
    """
    if hasattr(t, "dt") and getattr(t.dt, "tz", None) is not None:
        t = t.dt.tz_localize(None)
    elif getattr(t, "tz", None) is not None and hasattr(t, "tz_localize"):
        t = t.tz_localize(None)
    a = np.asarray(t)
    if a.dtype.kind in "OUS":   # Python dates/datetimes or ISO strings
        try:
            a = a.astype("datetime64[s]")
        except (TypeError, ValueError):
            raise VrpError("t must be numbers of days or datetimes") from None
    if a.dtype.kind == "M":
        if np.isnat(a).any():
            raise VrpError(f"t has {int(np.isnat(a).sum())} missing times; drop those events first")
        secs = a.astype("datetime64[s]").astype(np.int64)
        if nrc_compatible:
            return (np.floor_divide(secs, SECONDS_PER_DAY) * SECONDS_PER_DAY).astype(float), SECONDS_PER_DAY
        return secs.astype(float), SECONDS_PER_DAY
    try:
        days = np.asarray(a, dtype=float).ravel()
    except (TypeError, ValueError):
        raise VrpError("t must be numbers of days or datetimes") from None
    if not np.all(np.isfinite(days)):
        raise VrpError(f"t has {int((~np.isfinite(days)).sum())} missing or non-finite values; "
                       "drop those events first")
    return (np.floor(days) if nrc_compatible else days), 1


def _breaks(bands, name: str, unit: str) -> np.ndarray:
    b = np.asarray(bands, dtype=float).ravel()
    if b.size < 2 or b[0] != 0 or not np.all(np.isfinite(b)) or np.any(np.diff(b) <= 0):
        raise VrpError(f"{name} must be increasing finite breaks in {unit} starting at 0, e.g. "
                       f"{'(0, 100, 200, 300)' if unit == 'metres' else '(0, 7, 14, 21)'}; got {list(bands)}")
    return b


def _num(v: float) -> str:
    return f"{v:.10g}"


def _labels(s: np.ndarray, t: np.ndarray, nrc: bool):
    """Display labels and exact intervals for the rows and columns."""
    s_mid = list(zip(s[1:-1], s[2:]))          # the finite space bands after the first
    t_all = list(zip(t[:-1], t[1:]))
    s_int = ["[0, 1)" if nrc else "[0, 0]", f"[1, {_num(s[1])})" if nrc else f"(0, {_num(s[1])})"]
    s_int += [f"[{_num(a)}, {_num(b)})" for a, b in s_mid] + [f"[{_num(s[-1])}, inf)"]
    t_int = [f"[{_num(a)}, {_num(b)})" for a, b in t_all] + [f"[{_num(t[-1])}, inf)"]
    if nrc:   # the NRC's wording: "a to b" for what is really [a - 1, b)
        s_lab = ["Same location", f"1 to {_num(s[1])}"] + [f"{_num(a + 1)} to {_num(b)}" for a, b in s_mid]
        t_lab = [f"0 to {_num(t[1])}"] + [f"{_num(a + 1)} to {_num(b)}" for a, b in t_all[1:]]
        s_lab.append(f"More than {_num(s[-1])}")
        t_lab.append(f"More than {_num(t[-1])}")
    else:
        s_lab = ["0 m (same location)", f">0 to <{_num(s[1])} m"] + [f"{_num(a)} to <{_num(b)} m" for a, b in s_mid]
        t_lab = [f"{_num(a)} to <{_num(b)} days" for a, b in t_all]
        s_lab.append(f"{_num(s[-1])} m or more")
        t_lab.append(f"{_num(t[-1])} days or more")
    return tuple(s_lab), tuple(s_int), tuple(t_lab), tuple(t_int)


def _json_float(v) -> float | None:
    v = float(v)
    return v if math.isfinite(v) else None
