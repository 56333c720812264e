"""Concentration: Lorenz curve, shares in the top units or area, Gini against the mean-difference
formula, and the smallest share of units holding 25% / 50%."""
from __future__ import annotations

import json

import numpy as np
import pytest

from vrp.errors import VrpError
from vrp.places.concentration import (ConcentrationSummary, SmallestShare, concentration_summary, gini, lorenz_curve,
                                      share_in_top, smallest_share_holding)


def gini_mean_difference(v, w=None):
    """Independent formula: sum_ij w_i w_j |d_i - d_j| / (2 W^2 mean), d = v / w (w = 1: the plain Gini)."""
    v = np.asarray(v, float)
    w = np.ones_like(v) if w is None else np.asarray(w, float)
    d = v / w
    mean = v.sum() / w.sum()
    return float((w[:, None] * w[None, :] * np.abs(d[:, None] - d[None, :])).sum() / (2 * w.sum() ** 2 * mean))


def test_lorenz_curve_by_hand_highest_first():
    x, y = lorenz_curve([0, 5, 3, 2])
    assert x.tolist() == [0, 0.25, 0.5, 0.75, 1]
    assert y.tolist() == pytest.approx([0, 0.5, 0.8, 1.0, 1.0])


def test_lorenz_curve_with_areas_ranks_by_density():
    # densities: 10/1 = 10, 12/4 = 3, 8/1 = 8, 0/2 = 0 -> order 0, 2, 1, 3
    x, y = lorenz_curve([10, 12, 8, 0], areas=[1, 4, 1, 2])
    assert x.tolist() == pytest.approx([0, 1 / 8, 2 / 8, 6 / 8, 1])
    assert y.tolist() == pytest.approx([0, 10 / 30, 18 / 30, 1, 1])


def test_share_in_top_whole_and_straddling_units():
    v = [0, 5, 3, 2]
    assert share_in_top(v, 0.25) == pytest.approx(0.5)
    assert share_in_top(v, 0.5) == pytest.approx(0.8)
    assert share_in_top(v, 0.375) == pytest.approx(0.65)   # the top unit and half of the second
    assert share_in_top(v, 1.0) == 1.0
    # 5% of 20 units = the top unit exactly
    v20 = np.arange(20, dtype=float)
    assert share_in_top(v20, 0.05) == pytest.approx(19 / v20.sum())
    # ties: which of the tied units comes first cannot change the share
    assert share_in_top([1, 3, 3, 1], 0.25) == pytest.approx(3 / 8)


def test_share_in_top_of_area():
    # top 25% of the area (2 of 8 area units) = the two densest units of area 1 each: 10 + 8 of 30
    assert share_in_top([10, 12, 8, 0], 0.25, areas=[1, 4, 1, 2]) == pytest.approx(18 / 30)
    # equal areas give the unit-based answer
    assert share_in_top([10, 12, 8, 0], 0.5, areas=[3, 3, 3, 3]) == pytest.approx(share_in_top([10, 12, 8, 0], 0.5))


@pytest.mark.parametrize("seed", range(5))
def test_gini_matches_mean_absolute_difference_formula(seed):
    rng = np.random.default_rng(seed)
    v = rng.poisson(rng.gamma(0.4, 3, 200)).astype(float)   # sparse counts, many zeros
    assert gini(v) == pytest.approx(gini_mean_difference(v), abs=1e-12)
    a = rng.uniform(0.2, 3.0, 200)
    assert gini(v, areas=a) == pytest.approx(gini_mean_difference(v, a), abs=1e-12)


def test_gini_extremes():
    assert gini([4, 4, 4, 4]) == pytest.approx(0.0, abs=1e-15)
    assert gini([0, 0, 0, 9, 0]) == pytest.approx(4 / 5)
    assert gini([7]) == pytest.approx(0.0)


def test_smallest_share_holding_counts_whole_units_and_zero_units():
    # sorted: 50, 30, 20, 0, 0 (5 units, 100 events)
    v = [20, 0, 50, 0, 30]
    half = smallest_share_holding(v, 0.5)
    assert (half.n_units, half.unit_share, half.value_share) == (1, 0.2, 0.5)   # exactly at the target
    q3 = smallest_share_holding(v, 0.75)
    assert (q3.n_units, q3.unit_share, q3.value_share) == (2, 0.4, 0.8)
    # the zero-count units are part of the place: 1 unit of 4 holds everything
    s = smallest_share_holding([10, 0, 0, 0], 0.25)
    assert (s.n_units, s.unit_share, s.area_share) == (1, 0.25, 0.25)


def test_smallest_share_holding_reports_area_of_those_units():
    v, a = [50, 30, 20, 0], [5.0, 1.0, 1.0, 3.0]
    s = smallest_share_holding(v, 0.5, areas=a)
    assert s.n_units == 1 and s.unit_share == 0.25 and s.area_share == pytest.approx(0.5)
    # ties: the lower index is taken first, which only matters for the area share
    t = smallest_share_holding([5, 5], 0.5, areas=[1, 3])
    assert t.n_units == 1 and t.area_share == pytest.approx(0.25)


def test_summary_and_json():
    rng = np.random.default_rng(3)
    v = rng.poisson(0.5, 1000)
    s = concentration_summary(v)
    assert isinstance(s, ConcentrationSummary) and isinstance(s.smallest[0], SmallestShare)
    assert s.n_units == 1000 and s.n_zero_units == int((v == 0).sum()) and s.total == v.sum()
    assert [f for f, _ in s.top_shares] == [0.01, 0.05, 0.1]
    assert s.top_shares[1][1] == pytest.approx(share_in_top(v, 0.05))
    assert [m.target for m in s.smallest] == [0.25, 0.5]
    assert s.gini == pytest.approx(gini_mean_difference(v), abs=1e-12)
    d = json.loads(json.dumps(s.as_dict()))
    assert d["smallest"][1]["n_units"] == smallest_share_holding(v, 0.5).n_units and d["by_area"] is False
    assert concentration_summary(v, areas=np.full(1000, 2.0)).by_area is True


@pytest.mark.parametrize("call, match", [
    (lambda: gini([]), "no units"),
    (lambda: gini([1, -1]), "non-negative"),
    (lambda: gini([0, 0, 0]), "all values are zero"),
    (lambda: gini([1, np.nan]), "finite"),
    (lambda: lorenz_curve([1, 2], areas=[1]), "one value per unit"),
    (lambda: lorenz_curve([1, 2], areas=[1, 0]), "greater than 0"),
    (lambda: share_in_top([1, 2], 0), "fraction"),
    (lambda: share_in_top([1, 2], 1.5), "fraction"),
    (lambda: smallest_share_holding([1, 2], 0), "target"),
])
def test_bad_input_raises_vrp_error(call, match):
    with pytest.raises(VrpError, match=match):
        call()
