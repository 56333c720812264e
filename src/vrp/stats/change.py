"""Has a count really changed? Tests and intervals for two Poisson counts (this year against last).

Two counts of offences, each treated as Poisson, are compared by conditioning on their total: given
n = current + baseline, current ~ Binomial(n, p) with p = r / (1 + r) when the underlying rates are equal,
r being the ratio of exposures (population, or length of period). That turns the question into an exact
binomial one, with no large-sample approximation, which matters for the small counts of a ward or a
quarter. See docs/statistics.md for the wording rules.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass

import numpy as np
from scipy import special, stats

TEST_NAME = "exact conditional Poisson test"
VERDICTS = ("significant fall", "significant rise", "no significant change", "too few to say")


def _check_counts(current, baseline, exposure_ratio) -> None:
    for name, v in (("current", current), ("baseline", baseline)):
        if v is None or not math.isfinite(v) or v < 0 or int(v) != v:
            raise ValueError(f"{name} must be a whole count of zero or more, got {v!r}")
    if exposure_ratio is None or not math.isfinite(exposure_ratio) or exposure_ratio <= 0:
        raise ValueError(f"exposure_ratio must be a positive number, got {exposure_ratio!r}")


def _null_p(exposure_ratio: float) -> float:
    """Share of the total expected in the current period if rates are equal."""
    return exposure_ratio / (1 + exposure_ratio)


def conditional_poisson_test(current: int, baseline: int, exposure_ratio: float = 1.0,
                             method: str = "minlike") -> float:
    """Two-sided exact p-value for 'the two rates are equal' (the conditional, or binomial, test).

    ``exposure_ratio`` = current exposure / baseline exposure (population ratio, or ratio of period
    lengths), so the test is on rates, not raw counts. ``method="minlike"`` (the default) is
    ``scipy.stats.binomtest``'s p: the total probability of outcomes no more likely than the one observed.
    ``method="central"`` is twice the smaller one-sided tail (capped at 1): slightly larger, and the exact
    dual of the Clopper-Pearson interval, so p < alpha exactly when the rate-ratio CI excludes 1;
    ``compare_counts`` uses it so that its p-value and its interval can never disagree.
    Two zero counts carry no evidence: p = 1.
    """
    _check_counts(current, baseline, exposure_ratio)
    if method not in ("minlike", "central"):
        raise ValueError(f"method must be 'minlike' or 'central', got {method!r}")
    n = int(current) + int(baseline)
    if n == 0:
        return 1.0
    p0 = _null_p(exposure_ratio)
    if method == "minlike":
        return float(stats.binomtest(int(current), n, p0).pvalue)
    lower = special.bdtr(int(current), n, p0)                                 # P(X <= current)
    upper = 1.0 if current == 0 else special.bdtrc(int(current) - 1, n, p0)   # P(X >= current)
    return float(min(1.0, 2 * min(lower, upper)))


def rate_ratio_ci(current: int, baseline: int, exposure_ratio: float = 1.0, level: float = 0.95):
    """Exact conditional interval for the rate ratio (current rate / baseline rate): ``(low, high)``.

    The Clopper-Pearson interval (pl, pu) for the binomial share p = current / n maps to the rate ratio
    through RR = p / (1 - p) / exposure_ratio, which is increasing in p, so the ends map to ends.
    A current count of 0 gives low = 0; a baseline of 0 gives high = inf; both 0 gives (0, inf).
    """
    _check_counts(current, baseline, exposure_ratio)
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level!r}")
    n = int(current) + int(baseline)
    if n == 0:
        return (0.0, math.inf)
    # Clopper-Pearson ends as beta quantiles (closed form; no root finding)
    alpha = 1 - level
    p_low = special.betaincinv(current, baseline + 1, alpha / 2) if current > 0 else 0.0
    p_high = special.betaincinv(current + 1, baseline, 1 - alpha / 2) if baseline > 0 else 1.0

    def to_rr(p: float) -> float:
        return math.inf if p >= 1 else p / (1 - p) / exposure_ratio

    low = 0.0 if current == 0 else to_rr(p_low)
    high = math.inf if baseline == 0 else to_rr(p_high)
    return (float(low), float(high))


def _pmf_support_end(mean: float, eps: float) -> int:
    """First whole number above trunc(mean) whose Poisson(mean) probability is at most eps (as ptools)."""
    start = math.trunc(mean) + 1
    width = 64
    while True:
        ks = np.arange(start, start + width)
        below = np.nonzero(stats.poisson.pmf(ks, mean) <= eps)[0]
        if below.size:
            return int(ks[below[0]])
        start, width = start + width, width * 2


def e_test(k1: float, k2: float, n1: float = 1.0, n2: float = 1.0, d: float = 0.0, eps: float = 1e-20,
           silent: bool = False) -> float:
    """Krishnamoorthy & Thomson (2004) E-test for two Poisson means, as ptools' ``e_test`` (Wheeler).

    Tests H0: k1/n1 - k2/n2 = d. The statistic is T = |k1/n1 - k2/n2 - d| / sqrt(lhat) with the pooled rate
    lhat = (k1 + k2)/(n1 + n2) - d n1/(n1 + n2); the p-value sums, over all pairs (x1, x2) up to the point
    where the Poisson probability falls below ``eps``, P(x1; n1(lhat + d)) P(x2; n2 lhat) for pairs whose
    statistic is at least as large. Because of the absolute value it is two-sided, and
    ``e_test(6, 2) == e_test(2, 6)``. It is more powerful than the conditional test for small counts,
    which is why it is offered; ``compare_counts`` stays with the conditional test because that comes
    with a matching exact interval.

    Inputs that make no sense (both counts 0, a negative count or divisor) raise ValueError, or with
    ``silent=True`` return ptools' sentinel -1.0 instead.
    """
    problem = None
    if k1 == 0 and k2 == 0:
        problem = "the E-test is not defined when both counts are zero"
    elif k1 < 0 or k2 < 0 or n1 <= 0 or n2 <= 0:
        problem = "counts must be zero or more and divisors n1, n2 positive"
    if problem:
        if silent:
            return -1.0
        raise ValueError(problem)
    lhat = (k1 + k2) / (n1 + n2) - d * n1 / (n1 + n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_obs = abs((k1 / n1 - k2 / n2 - d) / np.sqrt(lhat))
    mean1, mean2 = n1 * (lhat + d), n2 * lhat
    top = _pmf_support_end(max(mean1, mean2), eps)
    xs = np.arange(top + 1, dtype=float)
    p1, p2 = stats.poisson.pmf(xs, mean1), stats.poisson.pmf(xs, mean2)
    total = 0.0
    for start in range(0, xs.size, 2048):  # row blocks keep memory flat for large counts
        x1 = xs[start:start + 2048, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.abs(x1 / n1 - xs[None, :] / n2 - d) / np.sqrt((x1 + xs[None, :]) / (n1 + n2))
        total += float(np.sum(p1[start:start + 2048, None] * p2[None, :] * (t >= t_obs)))
    return total


@dataclass(frozen=True)
class Change:
    """The comparison of two counts, in numbers and in the sentence a partnership report would use."""

    current: int
    baseline: int
    difference: int
    pct_change: float | None
    rate_ratio: float | None
    rr_ci_low: float
    rr_ci_high: float
    p_value: float
    test: str
    verdict: str
    sentence: str

    def as_dict(self) -> dict:
        return asdict(self)


def _fmt_p(p: float, alpha: float) -> str:
    """'p = 0.012' with two significant figures, more if rounding would cross alpha; 'p < 0.001' below."""
    if p < 0.001:
        return "p < 0.001"
    for digits in range(2, 8):
        text = f"{p:.{digits}g}"
        if (float(text) < alpha) == (p < alpha):
            break
    return f"p = {text}"


def _fmt_ratio(x: float) -> str:
    """Two decimals, or more when rounding would put a bound that excludes 1 onto 1.00."""
    if math.isinf(x):
        return "infinity"
    for digits in range(2, 8):
        text = f"{x:.{digits}f}"
        if (float(text) < 1) == (x < 1) and (float(text) > 1) == (x > 1):
            return text
    return text


def _article(number: str) -> str:
    """'an' before numbers said with a vowel sound: 8, 11, 18, 80-89, 800-899, 11,000, 18,000 ..."""
    whole = number.split(".")[0].rstrip("%")
    vowel = whole.startswith("8") or whole in ("11", "18") or (len(whole) == 5 and whole[:2] in ("11", "18"))
    return "an" if vowel else "a"


def _noun(unit: str, unit_singular: str | None, n: int) -> str:
    if abs(n) != 1:
        return unit
    return unit_singular or (unit[:-1] if unit.endswith("s") else unit)


def compare_counts(current: int, baseline: int, exposure_ratio: float = 1.0, level: float = 0.95,
                   min_baseline: int = 10, alpha: float = 0.05, unit: str = "offences",
                   unit_singular: str | None = None) -> Change:
    """Compare a current count with a baseline count and say, in report language, whether it changed.

    Significance is decided on rates (``exposure_ratio`` = current exposure / baseline exposure); the
    difference and percentage are on the raw counts. The rule, so that the words never contradict the
    numbers printed next to them:

    * baseline < ``min_baseline``: "too few to say" (the numbers are still filled in);
    * otherwise "significant fall" if the rate-ratio CI lies wholly below 1, "significant rise" if wholly
      above 1, else "no significant change".

    The CI is the exact Clopper-Pearson one at ``level`` and the p-value is the central exact conditional
    test (twice the smaller tail), its exact dual, so "significant" is also exactly p < alpha. ``level``
    and ``alpha`` must therefore agree (level = 1 - alpha) or ValueError is raised.
    """
    _check_counts(current, baseline, exposure_ratio)
    if not math.isclose(level, 1 - alpha, abs_tol=1e-9):
        raise ValueError(f"level ({level}) and alpha ({alpha}) must agree (level = 1 - alpha) so that "
                         "the interval and the verdict cannot contradict each other")
    current, baseline = int(current), int(baseline)
    difference = current - baseline
    enough = baseline >= min_baseline
    pct = difference / baseline * 100 if enough and baseline > 0 else None
    if baseline > 0:
        rr = current / baseline / exposure_ratio
    else:
        rr = math.inf if current > 0 else None
    low, high = rate_ratio_ci(current, baseline, exposure_ratio, level)
    p = conditional_poisson_test(current, baseline, exposure_ratio, method="central")
    if not enough:
        verdict = "too few to say"
    elif high < 1:
        verdict = "significant fall"
    elif low > 1:
        verdict = "significant rise"
    else:
        verdict = "no significant change"
    if verdict != "too few to say" and (verdict != "no significant change") != (p < alpha):
        warnings.warn(f"p = {p!r} and CI ({low!r}, {high!r}) disagree at the boundary; verdict follows the CI",
                      stacklevel=2)
    sentence = _sentence(baseline, difference, pct, rr, low, high, p, verdict, level, alpha,
                         min_baseline, unit, unit_singular)
    return Change(current, baseline, difference, pct, rr, low, high, p, TEST_NAME, verdict, sentence)


def _sentence(baseline, difference, pct, rr, low, high, p, verdict, level, alpha, min_baseline,
              unit, unit_singular) -> str:
    if verdict == "too few to say":
        return (f"too few to say: baseline of {baseline:,} {_noun(unit, unit_singular, baseline)} "
                f"is under {min_baseline:,}")
    noun = _noun(unit, unit_singular, difference)
    word = "reduction" if difference < 0 else "increase"
    if difference == 0:
        head = f"no change (0 {noun})"
    elif pct is None:
        head = f"{'a reduction' if difference < 0 else 'an increase'} ({difference:+,} {noun})"
    else:
        size = f"{abs(pct):.1f}%"
        head = f"{_article(size)} {size} ({difference:+,} {noun}) {word}"
    rr_text = "not defined" if rr is None else _fmt_ratio(rr)
    ci = f"{level * 100:g}% CI {_fmt_ratio(low)} to {_fmt_ratio(high)}"
    return f"{head}; {verdict} ({TEST_NAME}, {_fmt_p(p, alpha)}; rate ratio {rr_text}, {ci})"
