"""Intervals for counts, rates and proportions, checked against independent computations and against
published OHID Fingertips figures."""
from __future__ import annotations

import csv
import gzip
import math

import numpy as np
import pytest
from scipy import stats

from vrp.stats import byar_ci, poisson_ci, rate, rate_ci, wilson_ci

FINGERTIPS = "fingertips-hampshire-districts/fingertips_hampshire_districts.csv.gz"
PUBLISHED_ROUNDING = 5.1e-6  # Fingertips publishes rates and limits to 5 (sometimes 6) decimal places


# --- poisson_ci ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("level", [0.95, 0.99, 0.90])
def test_poisson_ci_matches_gamma_quantiles(level):
    alpha = 1 - level
    ks = list(range(0, 201)) + [500, 1_000, 12_345, 1_000_000]
    for k in ks:
        low, high = poisson_ci(k, level)
        expect_low = 0.0 if k == 0 else stats.gamma.ppf(alpha / 2, k)
        assert low == pytest.approx(expect_low, rel=1e-10, abs=1e-300)
        assert high == pytest.approx(stats.gamma.ppf(1 - alpha / 2, k + 1), rel=1e-10)


def test_poisson_ci_inverts_the_poisson_tails():
    # the ends are the means at which the observed count is just in a 2.5% tail
    for k in [1, 2, 7, 30, 150]:
        low, high = poisson_ci(k)
        assert stats.poisson.sf(k - 1, low) == pytest.approx(0.025, rel=1e-8)   # P(X >= k | low)
        assert stats.poisson.cdf(k, high) == pytest.approx(0.025, rel=1e-8)     # P(X <= k | high)


@pytest.mark.parametrize("k, low, high", [
    (0, 0.0, 3.689), (1, 0.0253, 5.572), (5, 1.623, 11.668), (10, 4.795, 18.39),  # textbook tables
])
def test_poisson_ci_textbook_values(k, low, high):
    got_low, got_high = poisson_ci(k)
    assert round(got_low, 4 if low < 0.1 else 3) == low
    assert round(got_high, 2 if k == 10 else 3) == high


def test_poisson_ci_vectorised_and_scalar_types():
    low, high = poisson_ci(np.array([0, 10, 100]))
    assert isinstance(low, np.ndarray) and low.shape == (3,)
    assert low[0] == 0.0 and high[1] == pytest.approx(18.3904, abs=1e-4)
    assert all(type(v) is float for v in poisson_ci(3))
    with pytest.raises(ValueError):
        poisson_ci(-1)
    with pytest.raises(ValueError):
        poisson_ci(3, level=95)


# --- byar_ci ---------------------------------------------------------------------------------------------

def test_byar_ci_formula_and_closeness_to_exact():
    z = stats.norm.ppf(0.975)
    k = 40
    low, high = byar_ci(k)
    assert low == pytest.approx(k * (1 - 1 / (9 * k) - z / (3 * math.sqrt(k))) ** 3)
    assert high == pytest.approx((k + 1) * (1 - 1 / (9 * (k + 1)) + z / (3 * math.sqrt(k + 1))) ** 3)
    for k in [10, 50, 500, 5000]:   # Byar is a close approximation to the exact interval
        assert byar_ci(k) == pytest.approx(poisson_ci(k), rel=0.01)
    assert byar_ci(0)[0] == 0.0
    low, high = byar_ci(np.array([0, 10]))
    assert low[0] == 0.0 and high[1] == pytest.approx(18.3915, abs=1e-4)


def _fingertips_rows(shared_data, indicator_id: str) -> list[dict]:
    with gzip.open(shared_data / FINGERTIPS, "rt", newline="") as f:
        return [r for r in csv.DictReader(f) if r["indicator_id"] == indicator_id and r["count"]]


def _check_published(rows, per, method):
    assert rows
    for r in rows:
        count, denominator = float(r["count"]), float(r["denominator"])
        value, low, high = rate_ci(count, denominator, per=per, method=method)
        where = f"{r['area_name']} {r['sex']} {r['year']}"
        assert abs(value - float(r["value"])) <= PUBLISHED_ROUNDING, where
        assert abs(low - float(r["lower_ci"])) <= PUBLISHED_ROUNDING, where
        assert abs(high - float(r["upper_ci"])) <= PUBLISHED_ROUNDING, where
        assert rate(count, denominator, per=per) == value


def test_byar_matches_fingertips_infant_mortality(shared_data):
    """Infant mortality (92196), crude rate per 1,000 live births: every published row with a count of 10 or
    more has Byar's limits, to the published rounding (districts, Hampshire and England, 22 periods)."""
    rows = [r for r in _fingertips_rows(shared_data, "92196") if float(r["count"]) >= 10]
    assert len(rows) > 300
    _check_published(rows, per=1_000, method="byar")


def test_fingertips_uses_exact_limits_under_10(shared_data):
    """The same indicator's rows with counts under 10 carry exact (Garwood) limits, not Byar's."""
    rows = [r for r in _fingertips_rows(shared_data, "92196") if float(r["count"]) < 10]
    assert len(rows) > 50
    _check_published(rows, per=1_000, method="exact")


def test_byar_matches_fingertips_under_18_conceptions(shared_data):
    """Under-18 conception rate (20401) per 1,000 women aged 15-17: Byar's limits for 2011 onwards.
    Figures for 1998-2010 differ by up to 0.05% (relative) in the lower limit, an older calculation."""
    rows = [r for r in _fingertips_rows(shared_data, "20401") if float(r["count"]) >= 10 and int(r["year"]) >= 2011]
    assert len(rows) > 150
    _check_published(rows, per=1_000, method="byar")


# --- rate / rate_ci --------------------------------------------------------------------------------------

def test_rate_and_rate_ci():
    assert rate(25, 200_000) == pytest.approx(12.5)
    assert rate(25, 200_000, per=1_000_000) == pytest.approx(125.0)
    r, low, high = rate_ci(10, 50_000)
    assert r == pytest.approx(20.0)
    assert (low, high) == pytest.approx((4.795389 * 2, 18.390356 * 2), rel=1e-6)
    r, low, high = rate_ci(10, 50_000, method="byar")
    assert (low, high) == pytest.approx(tuple(v * 2 for v in byar_ci(10)))
    with pytest.raises(ValueError):
        rate_ci(10, 50_000, method="normal")


def test_rate_with_no_population_is_none_or_nan():
    assert rate(3, 0) is None and rate(3, None) is None
    assert rate_ci(3, 0) == (None, None, None)
    r, low, high = rate_ci(np.array([5, 5, 5]), np.array([1_000, 0, np.nan]))
    assert r[0] == pytest.approx(500.0) and np.isnan(r[1]) and np.isnan(r[2])
    assert np.isnan(low[1]) and np.isnan(high[2])
    assert np.isnan(rate([1, 2], [0, None])).all()
    with pytest.raises(ValueError):
        rate(1, -5)


# --- wilson_ci -------------------------------------------------------------------------------------------

def test_wilson_ci_known_values_and_score_inversion():
    assert wilson_ci(5, 10) == pytest.approx((0.236593, 0.763407), abs=1e-6)
    low, high = wilson_ci(0, 10)
    assert low == 0.0 and high == pytest.approx(0.277533, abs=1e-6)
    assert wilson_ci(10, 10)[1] == 1.0
    z = stats.norm.ppf(0.975)
    for x, n in [(3, 40), (17, 20), (120, 1000)]:   # each end is where the score statistic equals z
        for p in wilson_ci(x, n):
            assert abs(x - n * p) / math.sqrt(n * p * (1 - p)) == pytest.approx(z, rel=1e-9)


def test_wilson_ci_vectorised_and_empty():
    low, high = wilson_ci(np.array([1, 2]), np.array([10, 0]))
    assert low[0] == pytest.approx(wilson_ci(1, 10)[0]) and np.isnan(high[1])
    assert wilson_ci(0, 0) == (None, None)
    with pytest.raises(ValueError):
        wilson_ci(11, 10)
