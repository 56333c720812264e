"""XmR charts: limits worked by hand, and each special-cause rule firing exactly where it should."""
from __future__ import annotations

import math

import pytest

from vrp.stats import SpcResult, xmr

# Several tests fix the lines on a 6-point baseline so that the points after it can be placed exactly:
#   BASE = [12, 10, 12, 10, 12, 10]: mean = 66 / 6 = 11; moving ranges 2, 2, 2, 2, 2 -> mR-bar = 2
#   process limits 11 -/+ 2.66 * 2 = 5.68 and 16.32
#   sigma = 2 / 1.128 = 1.77305; 2-sigma lines 11 -/+ 3.54610 = 7.45390 and 14.54610
BASE = [12, 10, 12, 10, 12, 10]


def flagged(result: SpcResult, rule: str) -> list[int]:
    return [p.index for p in result.points if getattr(p, rule)]


def test_limits_worked_by_hand():
    values = [10, 12, 9, 14, 11, 13, 8, 15, 10, 12]
    # mean = (10+12+9+14+11+13+8+15+10+12) / 10 = 114 / 10 = 11.4
    # moving ranges |12-10|=2, |9-12|=3, |14-9|=5, |11-14|=3, |13-11|=2, |8-13|=5, |15-8|=7, |10-15|=5,
    #   |12-10|=2 -> total 34 over 9 ranges -> mR-bar = 34 / 9 = 3.777...
    # limits = 11.4 -/+ 2.66 * 34 / 9 = 11.4 -/+ 10.04889 -> 1.35111 and 21.44889
    # sigma = (34 / 9) / 1.128 = 3.34909; 1-sigma 8.05091 / 14.74909; 2-sigma 4.70182 / 18.09818
    r = xmr(values)
    assert r.mean == pytest.approx(11.4)
    assert r.mr_bar == pytest.approx(34 / 9)
    assert r.lower == pytest.approx(1.35111, abs=1e-5) and r.upper == pytest.approx(21.44889, abs=1e-5)
    assert r.sigma == pytest.approx(3.34909, abs=1e-5)
    assert (r.one_sigma_lower, r.one_sigma_upper) == pytest.approx((8.05091, 14.74909), abs=1e-5)
    assert (r.two_sigma_lower, r.two_sigma_upper) == pytest.approx((4.70182, 18.09818), abs=1e-5)
    assert [p.moving_range for p in r.points] == [None, 2, 3, 5, 3, 2, 5, 7, 5, 2]
    assert not any(p.special_cause for p in r.points)
    assert r.variation == "common cause"
    assert r.n_points == r.n_baseline == 10
    rec = r.records()[3]
    assert rec["value"] == 14 and rec["mean"] == pytest.approx(11.4) and rec["direction"] == "common cause"
    assert r.as_dict()["points"][0]["index"] == 0


def test_baseline_fixes_the_lines_on_the_first_points():
    r = xmr(BASE + [30, 40], baseline=6)
    assert r.mean == pytest.approx(11) and r.mr_bar == pytest.approx(2)
    assert r.lower == pytest.approx(5.68) and r.upper == pytest.approx(16.32)
    assert r.two_sigma_upper == pytest.approx(11 + 2 * 2 / 1.128)
    assert r.n_baseline == 6 and r.n_points == 8


def test_lower_limit_is_not_floored_at_zero():
    # mean 2.5, mR-bar 5 -> lower limit 2.5 - 13.3 = -10.8
    r = xmr([0, 5, 0, 5])
    assert r.lower == pytest.approx(-10.8)


def test_outside_limits_fires_exactly_and_point_on_limit_does_not():
    r = xmr(BASE + [11, 17, 11, 5, 11], baseline=6)      # 17 > 16.32 and 5 < 5.68
    assert flagged(r, "outside_limits") == [7, 9]
    assert [p.index for p in r.points if p.special_cause] == [7, 9]
    assert r.points[7].direction == "concern" and r.points[9].direction == "improvement"  # lower is better
    assert r.points[7].rule == "outside_limits"
    assert r.variation == "common cause"                                  # latest point is 11
    assert flagged(xmr(BASE + [11, 16.3, 11], baseline=6), "outside_limits") == []
    on_limit = xmr(BASE, baseline=6).upper
    assert flagged(xmr(BASE + [on_limit], baseline=6), "outside_limits") == []  # strictly beyond only


def test_shift_fires_on_seven_and_misses_on_six():
    seven = BASE + [12, 13, 12, 13, 12, 13, 12]     # indices 6-12 all above the mean of 11
    r = xmr(seven, baseline=6)
    assert flagged(r, "shift") == list(range(6, 13))
    assert all(r.points[i].direction == "concern" for i in range(6, 13))
    assert r.variation == "special cause concerning"
    six = BASE + [12, 13, 12, 13, 12, 13, 10]        # indices 6-11: six above, then back below
    assert flagged(xmr(six, baseline=6), "shift") == []
    assert xmr(six, baseline=6).variation == "common cause"


def test_point_on_the_mean_breaks_a_shift():
    broken = BASE + [12, 13, 12, 11, 13, 12, 13, 12]  # the 11 at index 9 sits on the mean
    assert flagged(xmr(broken, baseline=6), "shift") == []
    assert flagged(xmr(BASE + [12, 13, 12, 12, 13, 12, 13, 12], baseline=6), "shift") == list(range(6, 14))


def test_shift_run_is_configurable_and_improvement_direction():
    below = BASE + [9, 8, 9, 8, 9, 8]                 # with the 10 at index 5: seven points below 11
    r = xmr(below, baseline=6)
    assert flagged(r, "shift") == list(range(5, 12))
    assert r.variation == "special cause improving"
    assert xmr(below, baseline=6, improvement="increase").variation == "special cause concerning"
    assert flagged(xmr(below, baseline=6, shift_run=8), "shift") == []


def test_trend_fires_on_six_points_and_misses_on_five():
    # index 5 is 10 (BASE ends 12, 10); then 10.5, 11, 11.5, 12, 12.5: six points each higher than the last
    six = BASE + [10.5, 11, 11.5, 12, 12.5]
    r = xmr(six, baseline=6)
    assert flagged(r, "trend") == list(range(5, 11))
    assert [p.index for p in r.points if p.special_cause] == list(range(5, 11))
    assert all(r.points[i].direction == "concern" for i in range(5, 11))   # rising, lower is better
    assert r.points[5].rule == "trend"
    assert r.variation == "special cause concerning"
    five = BASE + [10.5, 11, 11.5, 12]
    assert flagged(xmr(five, baseline=6), "trend") == []
    assert flagged(xmr(six, baseline=6, trend_run=7), "trend") == []   # NHSRplotthedots counts 7 points


def test_repeated_value_breaks_a_trend_and_falling_trend_is_improvement():
    flat = BASE + [10.5, 11, 11, 11.5, 12, 12.5]
    assert flagged(xmr(flat, baseline=6), "trend") == []
    falling = [12, 10, 12, 10, 12, 12.5] + [12, 11.5, 11, 10.5, 10]   # 12.5 then five falls: six points
    r = xmr(falling, baseline=6)
    assert flagged(r, "trend") == list(range(5, 11))
    assert r.points[5].direction == "improvement" and r.variation == "special cause improving"


def test_two_of_three_fires_on_the_close_points_only():
    # 15 > 14.5461 (2-sigma) but < 16.32 (limit); window 15, 12, 15 is all above the mean
    r = xmr(BASE + [11, 15, 12, 15, 11], baseline=6)
    assert flagged(r, "two_of_three") == [7, 9]
    assert [p.index for p in r.points if p.special_cause] == [7, 9]
    assert r.points[7].direction == "concern" and r.points[7].rule == "two_of_three"
    # just misses: the two close points are not within three consecutive points
    assert flagged(xmr(BASE + [11, 15, 12, 12, 15, 11], baseline=6), "two_of_three") == []
    # just misses: two close points on opposite sides of the mean (7 < 7.4539)
    assert flagged(xmr(BASE + [11, 15, 7, 11], baseline=6), "two_of_three") == []
    # the window must lie wholly on one side: the middle point on the mean breaks it
    assert flagged(xmr(BASE + [11, 15, 11, 15, 11], baseline=6), "two_of_three") == []


def test_bad_input_raises_clear_errors():
    with pytest.raises(ValueError, match="at least 2 points"):
        xmr([5])
    with pytest.raises(ValueError, match="non-finite at positions \\[1\\]"):
        xmr([5, math.nan, 6])
    with pytest.raises(ValueError, match="baseline"):
        xmr([1, 2, 3], baseline=1)
    with pytest.raises(ValueError, match="baseline"):
        xmr([1, 2, 3], baseline=4)
    with pytest.raises(ValueError, match="improvement"):
        xmr([1, 2, 3], improvement="down")
