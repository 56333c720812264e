"""Confidence intervals for counts, crude rates and proportions.

Every function takes a scalar or a numpy array. A scalar in gives plain floats out; an array in gives
arrays out (element-wise). A rate over a population of 0 or None is undefined: scalars give None,
arrays give nan in that position, so a table of areas can be computed in one call.
"""
from __future__ import annotations

import numpy as np
from scipy import stats

METHODS = ("exact", "byar")


def _z(level: float) -> float:
    """Two-sided standard normal quantile for a confidence level, e.g. 1.959964 for 0.95."""
    _check_level(level)
    return float(stats.norm.ppf(0.5 + level / 2))


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1 (e.g. 0.95), got {level!r}")


def _counts(count) -> np.ndarray:
    k = np.asarray(count, dtype=float)
    if np.any(k < 0):
        raise ValueError("counts must be zero or more")
    return k


def _out(*arrays, scalar: bool):
    """Return floats when the caller passed a scalar, arrays otherwise."""
    return tuple(float(a) for a in arrays) if scalar else tuple(np.asarray(a, dtype=float) for a in arrays)


def poisson_ci(count, level: float = 0.95):
    """Exact (Garwood 1936) interval for the mean of a Poisson count: ``(low, high)``.

    low = chi2(alpha/2; 2k)/2 and high = chi2(1 - alpha/2; 2k + 2)/2, i.e. the means at which the observed
    count is just in the alpha/2 tail. It never undercovers, which is why it is the default for the small
    counts a partnership area produces (a ward's knife crimes in a quarter). low is 0 when the count is 0.
    """
    alpha = 1 - level
    _check_level(level)
    k = _counts(count)
    with np.errstate(invalid="ignore"):
        low = np.where(k > 0, stats.chi2.ppf(alpha / 2, 2 * np.maximum(k, 1e-300)) / 2, 0.0)
    high = stats.chi2.ppf(1 - alpha / 2, 2 * k + 2) / 2
    return _out(low, high, scalar=np.ndim(count) == 0)


def byar_ci(count, level: float = 0.95):
    """Byar's approximation to the exact Poisson interval: ``(low, high)``.

    low = k(1 - 1/(9k) - z/(3 sqrt k))^3, high = (k + 1)(1 - 1/(9(k + 1)) + z/(3 sqrt(k + 1)))^3.
    OHID Fingertips and PHEindicatormethods use it for crude rates, so figures computed with it agree with
    published Fingertips figures to the published rounding. low is 0 when the count is 0. (Fingertips
    itself switches to the exact interval for counts under 10; see docs/statistics.md.)
    """
    z = _z(level)
    k = _counts(count)
    with np.errstate(divide="ignore", invalid="ignore"):
        low = np.where(k > 0, k * (1 - 1 / (9 * k) - z / (3 * np.sqrt(k))) ** 3, 0.0)
    k1 = k + 1
    high = k1 * (1 - 1 / (9 * k1) + z / (3 * np.sqrt(k1))) ** 3
    return _out(low, high, scalar=np.ndim(count) == 0)


def _population(population) -> np.ndarray:
    """Population as floats, with None and 0 turned into nan (a rate there is undefined)."""
    pop = np.asarray(population, dtype=float)  # None becomes nan
    if np.any(pop < 0):
        raise ValueError("population must be zero or more")
    return np.where(pop > 0, pop, np.nan)


def _check_per(per) -> None:
    if not per > 0:
        raise ValueError(f"per must be positive (e.g. 100_000), got {per!r}")


def rate(count, population, per: float = 100_000):
    """Crude rate: count / population * per.

    A population of 0 or None has no rate: a scalar call returns None, an array call puts nan there.
    """
    _check_per(per)
    scalar = np.ndim(count) == 0 and np.ndim(population) == 0
    if scalar and (population is None or population == 0):
        return None
    r = _counts(count) / _population(population) * per
    return float(r) if scalar else r


def rate_ci(count, population, per: float = 100_000, level: float = 0.95, method: str = "exact"):
    """Crude rate and its interval: ``(rate, low, high)`` per ``per`` people.

    The interval is the interval for the count (``method="exact"``: Garwood; ``"byar"``: Byar, for parity
    with Fingertips) divided by the population: the population is treated as known without error, as it is
    for mid-year estimates in every published crude rate. A population of 0 or None gives
    ``(None, None, None)`` for a scalar call and nan for an array call.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    _check_per(per)
    scalar = np.ndim(count) == 0 and np.ndim(population) == 0
    if scalar and (population is None or population == 0):
        return (None, None, None)
    low, high = (poisson_ci if method == "exact" else byar_ci)(count, level)
    pop = _population(population)
    return _out(_counts(count) / pop * per, np.asarray(low) / pop * per, np.asarray(high) / pop * per,
                scalar=scalar)


def wilson_ci(successes, n, level: float = 0.95):
    """Wilson score interval for a proportion successes / n: ``(low, high)`` on the 0-1 scale.

    Chosen over the normal ('Wald') interval because it stays inside 0-1 and behaves at 0% and 100%, which
    data-sharing percentages (share of A&E assaults with a location recorded) often are. It is also the
    method Fingertips uses for proportions. n of 0 gives (None, None) for a scalar call, nan for arrays.
    """
    z = _z(level)
    x = _counts(successes)
    scalar = np.ndim(successes) == 0 and np.ndim(n) == 0
    if scalar and (n is None or n == 0):
        return (None, None)
    total = _population(n)
    if np.any(x > np.nan_to_num(total, nan=np.inf)):
        raise ValueError("successes cannot exceed n")
    p = x / total
    centre = p + z * z / (2 * total)
    half = z * np.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
    denom = 1 + z * z / total
    low = np.where(x == 0, 0.0, np.clip((centre - half) / denom, 0.0, 1.0))   # exact ends at 0% and 100%
    high = np.where(x == total, 1.0, np.clip((centre + half) / denom, 0.0, 1.0))
    return _out(low, high, scalar=scalar)
