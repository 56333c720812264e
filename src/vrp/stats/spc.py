"""XmR (individuals) charts with the NHS England 'Making Data Count' special-cause rules.

The chart separates the month-to-month noise of a count (common cause) from a change worth a conversation
(special cause), which is what a partnership board needs instead of red/amber/green against last month.
The reference behaviour is the NHS-R ``NHSRplotthedots`` package with ``screen_outliers = FALSE`` (the
Making Data Count Excel tool); differences are listed in docs/statistics.md.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

LIMIT = 2.66   # process limits: mean +/- 2.66 mR-bar (3 / d2, d2 = 1.128 for ranges of two points)
D2 = 1.128     # sigma = mR-bar / d2
IMPROVEMENTS = ("decrease", "increase")
RULES = ("outside_limits", "trend", "two_of_three", "shift")  # priority when naming a point's direction


@dataclass(frozen=True)
class SpcPoint:
    """One point of the chart: its lines, which rules fired, and what that means."""

    index: int
    value: float
    moving_range: float | None
    mean: float
    lower: float
    upper: float
    outside_limits: bool
    shift: bool
    trend: bool
    two_of_three: bool
    special_cause: bool
    direction: str      # "improvement", "concern" or "common cause"
    rule: str | None    # the rule that set the direction (first of RULES that fired), None if none


@dataclass(frozen=True)
class SpcResult:
    """An XmR chart: the lines, every point, and the Making Data Count variation word for the latest."""

    n_points: int
    n_baseline: int
    improvement: str
    mean: float
    mr_bar: float
    sigma: float
    lower: float
    upper: float
    one_sigma_lower: float
    one_sigma_upper: float
    two_sigma_lower: float
    two_sigma_upper: float
    shift_run: int
    trend_run: int
    variation: str      # "special cause improving", "special cause concerning" or "common cause"
    points: tuple[SpcPoint, ...]

    def as_dict(self) -> dict:
        return asdict(self)

    def records(self) -> list[dict]:
        """One dict per point, ready for a table or a chart."""
        return [asdict(p) for p in self.points]


def _runs(keys: np.ndarray, min_len: int) -> np.ndarray:
    """True where a point sits in a run of >= min_len consecutive equal, non-zero keys."""
    flag = np.zeros(keys.size, dtype=bool)
    start = 0
    for i in range(1, keys.size + 1):
        if i == keys.size or keys[i] != keys[start]:
            if keys[start] != 0 and i - start >= min_len:
                flag[start:i] = True
            start = i
    return flag


def _trends(y: np.ndarray, min_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Points in a run of >= min_len points each strictly above (or below) the one before.

    Returns (flag, direction) with direction +1 rising, -1 falling. A turning point can end one run and
    start the next; like NHSRplotthedots it then takes the direction of the run it starts.
    """
    steps = np.sign(np.diff(y))
    flag, direction = np.zeros(y.size, dtype=bool), np.zeros(y.size, dtype=int)
    start = 0  # runs over the steps; a run of s equal steps covers s + 1 points
    for i in range(1, steps.size + 1):
        if i == steps.size or steps[i] != steps[start]:
            if steps[start] != 0 and i - start + 1 >= min_len:
                flag[start:i + 1] = True
                direction[start:i + 1] = np.where(direction[start:i + 1] == 0, steps[start], direction[start:i + 1])
                direction[start] = steps[start]  # the run a point starts wins
            start = i
    return flag, direction


def _two_of_three(close: np.ndarray, side: np.ndarray) -> np.ndarray:
    """Close-to-limit points in a window of three consecutive points, all on one side of the mean, with at
    least two of the three beyond the 2-sigma line (but inside the process limits), as NHSRplotthedots."""
    flag = np.zeros(close.size, dtype=bool)
    for i in range(close.size - 2):
        window = slice(i, i + 3)
        if close[window].sum() >= 2 and abs(side[window].sum()) == 3:
            flag[window] |= close[window]
    return flag


def _validate(values, baseline) -> tuple[np.ndarray, int]:
    y = np.asarray(values, dtype=float).ravel()
    if y.size < 2:
        raise ValueError(f"an XmR chart needs at least 2 points, got {y.size}")
    if not np.all(np.isfinite(y)):
        bad = np.flatnonzero(~np.isfinite(y)).tolist()
        raise ValueError(f"values must be finite numbers; missing or non-finite at positions {bad[:10]}")
    n_base = y.size if baseline is None else baseline
    if int(n_base) != n_base or not 2 <= n_base <= y.size:
        raise ValueError(f"baseline must be a whole number of points from 2 to {y.size}, got {baseline!r}")
    return y, int(n_base)


def xmr(values, baseline: int | None = None, improvement: str = "decrease", shift_run: int = 7,
        trend_run: int = 6) -> SpcResult:
    """Build an XmR chart and flag special-cause variation.

    ``baseline=n`` fixes the mean and mR-bar on the first n points (default: all points) and judges every
    point against those lines. ``improvement="decrease"`` means lower is better (as for violence).

    Rules (each point can fire several):
      * outside_limits: strictly above the upper or below the lower process limit (mean +/- 2.66 mR-bar);
      * shift: in a run of >= shift_run consecutive points on the same side of the mean; a point exactly on
        the mean belongs to neither side and breaks the run;
      * trend: in a run of >= trend_run consecutive points each strictly higher (or lower) than the one
        before; a repeated value breaks the run. trend_run counts points, not steps;
      * two_of_three: beyond the 2-sigma line (sigma = mR-bar / 1.128) but inside the limits, in a window of
        three consecutive points all on one side of the mean with at least two such points.

    The lower limit is not floored at zero: a chart may clip it, the numbers do not.
    """
    if improvement not in IMPROVEMENTS:
        raise ValueError(f"improvement must be one of {IMPROVEMENTS}, got {improvement!r}")
    if shift_run < 2 or trend_run < 2:
        raise ValueError("shift_run and trend_run must be at least 2 points")
    y, n_base = _validate(values, baseline)
    mean = float(np.mean(y[:n_base]))
    mr = np.abs(np.diff(y))
    mr_bar = float(np.mean(mr[:n_base - 1]))
    sigma = mr_bar / D2
    lower, upper = mean - LIMIT * mr_bar, mean + LIMIT * mr_bar
    side = np.sign(y - mean).astype(int)
    outside = (y > upper) | (y < lower)
    close = ~outside & ((y > mean + 2 * sigma) | (y < mean - 2 * sigma))
    shift = _runs(side, shift_run)
    trend, trend_dir = _trends(y, trend_run)
    two3 = _two_of_three(close, side)
    better = -1 if improvement == "decrease" else 1
    points = []
    for i in range(y.size):
        fired = {"outside_limits": outside[i], "trend": trend[i], "two_of_three": two3[i], "shift": shift[i]}
        rule = next((r for r in RULES if fired[r]), None)
        sign = 0 if rule is None else (trend_dir[i] if rule == "trend" else side[i])
        direction = "common cause" if sign == 0 else ("improvement" if sign == better else "concern")
        points.append(SpcPoint(i, float(y[i]), None if i == 0 else float(mr[i - 1]), mean, lower, upper,
                               bool(outside[i]), bool(shift[i]), bool(trend[i]), bool(two3[i]),
                               rule is not None, direction, rule))
    latest = points[-1].direction
    variation = {"improvement": "special cause improving", "concern": "special cause concerning"}.get(
        latest, "common cause")
    return SpcResult(int(y.size), n_base, improvement, mean, mr_bar, sigma, lower, upper, mean - sigma,
                     mean + sigma, mean - 2 * sigma, mean + 2 * sigma, shift_run, trend_run, variation,
                     tuple(points))
