"""Tests of change between two counts: conditional Poisson test, rate-ratio interval, E-test, verdicts."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from vrp.stats import Change, compare_counts, conditional_poisson_test, e_test, rate_ratio_ci


def binomial_p_by_hand(x: int, n: int, p: float) -> float:
    """Two-sided exact binomial p written out: the total probability of outcomes no more likely than the
    observed one (with the same 1e-7 relative slack scipy's binomtest allows for rounding)."""
    probs = [math.comb(n, k) * p ** k * (1 - p) ** (n - k) for k in range(n + 1)]
    return min(1.0, sum(q for q in probs if q <= probs[x] * (1 + 1e-7)))


# --- conditional_poisson_test ----------------------------------------------------------------------------

@pytest.mark.parametrize("current, baseline, ratio", [
    (12, 5, 1.0), (5, 12, 1.0), (0, 7, 1.0), (30, 30, 1.0), (3, 17, 2.0), (40, 22, 0.5), (9, 1, 1.25),
    (60, 45, 1.0), (1, 0, 1.0),
])
def test_conditional_test_matches_binomial_by_hand(current, baseline, ratio):
    n = current + baseline
    expect = binomial_p_by_hand(current, n, ratio / (1 + ratio))
    assert conditional_poisson_test(current, baseline, ratio) == pytest.approx(expect, rel=1e-9)


def test_conditional_test_central_method_and_edges():
    # central: twice the smaller exact tail
    n, x = 30, 9
    tail = sum(math.comb(n, k) for k in range(x + 1)) / 2 ** n
    assert conditional_poisson_test(9, 21, method="central") == pytest.approx(2 * tail, rel=1e-9)
    assert conditional_poisson_test(0, 0) == 1.0
    assert conditional_poisson_test(20, 20) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        conditional_poisson_test(-1, 3)
    with pytest.raises(ValueError):
        conditional_poisson_test(2.5, 3)
    with pytest.raises(ValueError):
        conditional_poisson_test(2, 3, exposure_ratio=0)


def test_exposure_ratio_tests_rates_not_counts():
    # 40 v 20 offences is a doubling of the count, but over a doubled population the rate has not moved
    assert conditional_poisson_test(40, 20, exposure_ratio=2.0) == pytest.approx(1.0)
    assert conditional_poisson_test(40, 20) < 0.05


# --- rate_ratio_ci ---------------------------------------------------------------------------------------

def test_rate_ratio_ci_pinned_from_beta_quantiles():
    # current 30, baseline 20: Clopper-Pearson on p = 30/50 is (Beta(0.025; 30, 21), Beta(0.975; 31, 20))
    # = (0.451794, 0.735922); RR = p / (1 - p) gives 0.451794/0.548206 = 0.82413, 0.735922/0.264078 = 2.78676
    pl, pu = stats.beta.ppf(0.025, 30, 21), stats.beta.ppf(0.975, 31, 20)
    low, high = rate_ratio_ci(30, 20)
    assert low == pytest.approx(pl / (1 - pl), rel=1e-9) and low == pytest.approx(0.82413, abs=1e-5)
    assert high == pytest.approx(pu / (1 - pu), rel=1e-9) and high == pytest.approx(2.78675, abs=1e-5)
    # an exposure ratio divides both ends
    assert rate_ratio_ci(30, 20, exposure_ratio=2.0) == pytest.approx((low / 2, high / 2), rel=1e-12)


def test_rate_ratio_ci_zeros():
    low, high = rate_ratio_ci(0, 12)
    assert low == 0.0 and 0 < high < 1
    low, high = rate_ratio_ci(8, 0)
    assert high == math.inf and low > 1
    assert rate_ratio_ci(0, 0) == (0.0, math.inf)


@pytest.mark.parametrize("true_rr, n", [(1.0, 10), (0.7, 25), (1.5, 60), (3.0, 8)])
def test_rate_ratio_ci_covers_at_least_the_level(true_rr, n):
    # exact coverage given the total n: sum the binomial probability of every outcome whose CI holds true_rr
    p = true_rr / (1 + true_rr)
    covered = 0.0
    for x in range(n + 1):
        low, high = rate_ratio_ci(x, n - x)
        if low <= true_rr <= high:
            covered += stats.binom.pmf(x, n, p)
    assert covered >= 0.95 - 1e-12


# --- e_test ----------------------------------------------------------------------------------------------

def test_e_test_reproduces_ptools_fixtures():
    # the two examples of Krishnamoorthy & Thomson (2004) that ptools' testthat suite pins
    assert e_test(0, 3) == pytest.approx(0.0884, abs=0.0005)
    assert round(e_test(6, 2), 4) == 0.1749


def test_e_test_behaves_like_ptools():
    assert e_test(6, 2) == pytest.approx(e_test(2, 6), rel=1e-12)      # two-sided: order does not matter
    assert e_test(3, 0) == pytest.approx(e_test(3, 0, 2, 2), rel=1e-9)  # same rates, same p
    assert e_test(20, 20) <= 1
    assert e_test(3, 2) != e_test(3, 1, d=1)
    assert e_test(0, 0, silent=True) == -1.0
    assert e_test(3, -2, silent=True) == -1.0
    assert e_test(3, 3, 1, -1, silent=True) == -1.0
    with pytest.raises(ValueError):
        e_test(0, 0)


def test_e_test_handles_large_counts():
    p = e_test(2_000, 2_150)
    assert 0 < p < 0.05
    assert p == pytest.approx(conditional_poisson_test(2_000, 2_150), rel=0.2)


# --- compare_counts --------------------------------------------------------------------------------------

def test_compare_counts_seed_example():
    c = compare_counts(4780, 5021)
    assert isinstance(c, Change)
    assert c.difference == -241
    assert round(c.pct_change, 1) == -4.8
    assert c.rate_ratio == pytest.approx(4780 / 5021)
    # central exact p: twice P(X <= 4780), X ~ Binomial(9801, 1/2)
    assert c.p_value == pytest.approx(2 * stats.binom.cdf(4780, 9801, 0.5), rel=1e-9)
    assert c.p_value == pytest.approx(0.0153, abs=1e-4)
    assert c.verdict == "significant fall"
    assert c.rr_ci_high < 1
    assert c.sentence == ("a 4.8% (-241 offences) reduction; significant fall (exact conditional Poisson test, "
                          "p = 0.015; rate ratio 0.95, 95% CI 0.91 to 0.99)")
    d = c.as_dict()
    assert d["verdict"] == "significant fall" and d["test"] == "exact conditional Poisson test"
    with pytest.raises(Exception):
        c.verdict = "no significant change"  # frozen


def test_compare_counts_too_few():
    c = compare_counts(14, 9)
    assert c.verdict == "too few to say" and c.pct_change is None
    assert c.sentence == "too few to say: baseline of 9 offences is under 10"
    assert compare_counts(3, 1, unit="stabbings").sentence == "too few to say: baseline of 1 stabbing is under 10"
    assert compare_counts(3, 7, min_baseline=5).verdict == "no significant change"


def test_compare_counts_rise_and_wording():
    c = compare_counts(112, 100)
    assert c.verdict == "no significant change"
    assert c.sentence.startswith("a 12.0% (+12 offences) increase; no significant change (exact conditional "
                                 "Poisson test, p = ")
    assert compare_counts(101, 100, unit="admissions").sentence.startswith("a 1.0% (+1 admission) increase")
    assert compare_counts(100, 100).sentence.startswith("no change (0 offences); no significant change")
    assert compare_counts(108, 100).sentence.startswith("an 8.0% (+8 offences) increase")
    rise = compare_counts(160, 100)
    assert rise.verdict == "significant rise" and rise.rr_ci_low > 1
    assert "1,000" in compare_counts(2000, 1000).sentence
    from_zero = compare_counts(6, 0, min_baseline=0)   # p = 2 x 0.5^6 = 0.031
    assert from_zero.pct_change is None and from_zero.rate_ratio == math.inf
    assert from_zero.sentence.startswith("an increase (+6 offences); significant rise")


def test_compare_counts_on_rates():
    # the count rose 25% but the population rose 50%: the rate fell
    c = compare_counts(1250, 1000, exposure_ratio=1.5)
    assert c.difference == 250 and c.rate_ratio == pytest.approx(1250 / 1000 / 1.5)
    assert c.verdict == "significant fall"


def test_compare_counts_rejects_level_alpha_mismatch():
    with pytest.raises(ValueError, match="level"):
        compare_counts(50, 60, level=0.9, alpha=0.05)
    assert compare_counts(50, 60, level=0.9, alpha=0.1).sentence.count("90% CI") == 1


@settings(max_examples=400, deadline=None)
@given(current=st.integers(0, 400), baseline=st.integers(0, 400),
       ratio=st.sampled_from([1.0, 0.5, 0.8, 1.25, 2.0, 3.0]), level=st.sampled_from([0.9, 0.95, 0.99]))
def test_verdict_never_contradicts_interval_or_p(current, baseline, ratio, level):
    c = compare_counts(current, baseline, exposure_ratio=ratio, level=level, alpha=1 - level, min_baseline=0)
    assert c.rr_ci_low <= c.rr_ci_high
    if c.rate_ratio is not None:
        assert c.rr_ci_low <= c.rate_ratio <= c.rr_ci_high
    if c.verdict == "significant fall":
        assert c.rr_ci_high < 1 and c.p_value < 1 - level
    elif c.verdict == "significant rise":
        assert c.rr_ci_low > 1 and c.p_value < 1 - level
    else:
        assert c.verdict == "no significant change"
        assert c.rr_ci_low <= 1 <= c.rr_ci_high and c.p_value >= 1 - level
    assert c.verdict in c.sentence
