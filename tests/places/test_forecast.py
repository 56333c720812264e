"""Forecasts (naive, KDE, prospective), cell selection, PAI / PEI / RRI and backtests."""
from __future__ import annotations

import math

import numpy as np
import pytest

from vrp.errors import VrpError
from vrp.places.forecast import (backtest, best_hits, hit_rate, kde_forecast, naive_forecast, pai, pai_curve, pei,
                                 prospective_forecast, rolling_backtest, rri, select_top)
from vrp.places.kde import kde_surface

# ------------------------------------------------------------------ ptools fixtures (R/pai.R)


def test_ptools_simple_pai_check():
    """apwheele/ptools tests/testthat/test-pai.R "simple pai check": obs (6,3,0), pred (3,2,1)."""
    obs, pred = np.array([6.0, 3.0, 0.0]), np.array([3.0, 2.0, 1.0])
    curve = pai_curve(obs, pred)
    assert curve.pai.tolist() == [2.0, 1.5, 1.0]
    assert curve.pei.tolist() == [1.0, 1.0, 1.0]
    np.testing.assert_allclose(curve.rri, np.cumsum(pred) / np.cumsum(obs), rtol=1e-15)
    # the same numbers through the selection functions
    for k, expected in zip((1, 2, 3), (2.0, 1.5, 1.0)):
        top = select_top(pred, n=k)
        assert pai(obs, top) == expected
        assert pei(obs, top) == 1.0
        assert rri(pred, obs, top) == pytest.approx(np.cumsum(pred)[k - 1] / np.cumsum(obs)[k - 1], rel=1e-15)


def test_ptools_example_with_tied_predictions():
    """ptools' example data, obs (6,7,3,2,1,0), pred (8,4,4,2,1,0): the tie at 4 is broken
    pessimistically (3 observed before 7), as ptools orders by (pred, -count) decreasing."""
    obs, pred = np.array([6.0, 7, 3, 2, 1, 0]), np.array([8.0, 4, 4, 2, 1, 0])
    curve = pai_curve(obs, pred)
    assert curve.cells.tolist() == [0, 2, 1, 3, 4, 5]
    assert curve.cum_count.tolist() == [6, 9, 16, 18, 19, 19]
    np.testing.assert_allclose(curve.pai, [36 / 19, 27 / 19, 32 / 19, 27 / 19, 1.2, 1.0], rtol=1e-14)
    np.testing.assert_allclose(curve.pei, [6 / 7, 9 / 13, 1, 1, 1, 1], rtol=1e-14)
    rec = curve.records()
    assert rec[0] == {"order": 1, "cell": 0, "count": 6.0, "cum_count": 6.0, "cum_pred": 8.0, "cum_area": 1.0,
                      "pai": pytest.approx(36 / 19), "pei": pytest.approx(6 / 7), "rri": pytest.approx(8 / 6)}


# ------------------------------------------------------------------------------ metrics


def test_pai_and_pei_with_unequal_areas():
    obs, areas = np.array([4.0, 4.0, 0.0]), np.array([2.0, 1.0, 1.0])
    assert pai(obs, [1], areas) == 2.0                 # (4/8) / (1/4)
    assert pei(obs, [1], areas) == 1.0                 # the densest cell
    assert pai(obs, [0], areas) == 1.0                 # (4/8) / (2/4)
    assert best_hits(obs, areas, 2.0) == 6.0           # cell 1 whole + half of cell 0
    assert pei(obs, [0], areas) == pytest.approx(4 / 6)
    assert pei(obs, [0, 1], areas) == 1.0
    # a cell outside the study area counts for nothing
    mask = np.array([True, True, False])
    assert pai(obs, [1], areas, mask) == pytest.approx((4 / 8) / (1 / 3))


def test_perfect_forecast_pai_is_one_over_area_share_of_hit_cells():
    rng = np.random.default_rng(5)
    obs = np.zeros(400)
    hot = rng.choice(400, 13, replace=False)
    obs[hot] = rng.integers(1, 9, 13)
    areas = rng.uniform(0.5, 1.5, 400)
    top = select_top(obs, areas, n=13)
    assert set(top.tolist()) == set(hot.tolist())
    assert pai(obs, top, areas) == pytest.approx(areas.sum() / areas[hot].sum(), rel=1e-12)
    assert hit_rate(obs, top) == 1.0


def test_hit_rate_zero_when_nothing_hit_and_nan_without_events():
    obs = np.array([0.0, 3.0, 0.0, 2.0])
    assert hit_rate(obs, [0, 2]) == 0.0
    assert pai(obs, [0, 2]) == 0.0
    assert pei(obs, [0, 2]) == 0.0
    assert math.isnan(hit_rate(np.zeros(4), [0]))
    assert math.isnan(pai(np.zeros(4), [0]))
    assert hit_rate(obs, np.array([False, True, False, False])) == 0.6


def test_rri_edge_cases():
    assert rri([2.0, 1.0], [0.0, 0.0], [0]) == math.inf
    assert math.isnan(rri([0.0, 1.0], [0.0, 0.0], [0]))


# ------------------------------------------------------------------------------ selection


def test_select_top_ties_by_cell_index_and_coverage_overshoot():
    scores = np.array([[1.0, 3.0, 3.0, 0.0, 3.0], [0.0, 2.0, 0.0, 0.0, 0.0]])
    assert select_top(scores, n=4).tolist() == [1, 2, 4, 6]
    # 10 equal cells: 25% -> 3 cells (2.5 rounded up), 20% -> exactly 2, 100% -> all
    assert select_top(scores, coverage=0.25).tolist() == [1, 2, 4]
    assert select_top(scores, coverage=0.2).tolist() == [1, 2]
    assert select_top(scores, coverage=1.0).size == 10
    assert select_top(scores, coverage=0.01).tolist() == [1]            # never less than one cell
    assert select_top(np.zeros(6), coverage=0.5).tolist() == [0, 1, 2]    # all tied: lowest index first


def test_select_top_areas_and_mask():
    scores = np.array([5.0, 4.0, 3.0, 2.0, 1.0])
    areas = np.array([1.0, 3.0, 1.0, 1.0, 0.0])         # the last cell is outside the study area
    assert select_top(scores, areas, coverage=0.25).tolist() == [0, 1]   # 1/6 < 25% <= 4/6
    assert select_top(scores, areas, coverage=1 / 6).tolist() == [0]
    mask = np.array([False, True, True, True, True])
    assert select_top(scores, areas, coverage=0.5, mask=mask).tolist() == [1]
    assert 4 not in select_top(scores, areas, coverage=1.0).tolist()


def test_select_top_bad_input():
    with pytest.raises(VrpError, match="either"):
        select_top([1.0, 2.0])
    with pytest.raises(VrpError, match="either"):
        select_top([1.0, 2.0], coverage=0.5, n=1)
    with pytest.raises(VrpError, match="coverage"):
        select_top([1.0, 2.0], coverage=1.5)
    with pytest.raises(VrpError, match="finite"):
        select_top([1.0, np.nan], n=1)
    with pytest.raises(VrpError, match="no cells"):
        select_top([1.0, 2.0], n=1, mask=[False, False])


# ------------------------------------------------------------------------------ forecasts

X0, Y0, CELL = 0.0, 0.0, 100.0


def test_naive_forecast_counts_and_harm_per_cell():
    # cells are half-open: a point on the line x = 100 is in column 1; off-grid points are left out
    x = np.array([50.0, 100.0, 150.0, 250.0, 50.0, -1.0, 50.0])
    y = np.array([50.0, 50.0, 50.0, 150.0, 50.0, 50.0, 300.0])
    got = naive_forecast(x, y, None, X0, Y0, CELL, 3, 2)
    assert got.tolist() == [[2.0, 2.0, 0.0], [0.0, 0.0, 1.0]]
    harm = naive_forecast(x, y, [1, 2, 3, 4, 5, 6, 7], X0, Y0, CELL, 3, 2)
    assert harm.tolist() == [[6.0, 5.0, 0.0], [0.0, 0.0, 4.0]]


def test_kde_forecast_is_the_kde_surface():
    rng = np.random.default_rng(2)
    x, y = rng.uniform(0, 2000, 50), rng.uniform(0, 1500, 50)
    got = kde_forecast(x, y, None, X0, Y0, CELL, 20, 15, bandwidth=300.0)
    want = kde_surface(x, y, None, X0, Y0, CELL, 20, 15, 300.0)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-11 * want.max())   # rounded to 12 digits of the peak


def test_prospective_hand_checked():
    """One event in cell (row 2, col 2) of a 5 x 5 grid, B = 250 m / 100 m = 2.5 cells: weight
    1/(1+d) for Chebyshev d = 0, 1, 2 (all cells), divided by (1 + age in weeks)."""
    x, y = np.array([250.0]), np.array([250.0])
    ring = np.maximum(*np.abs(np.mgrid[-2:3, -2:3]))
    expected = 1.0 / (1 + ring)
    got = prospective_forecast(x, y, [99], None, X0, Y0, CELL, 5, 5, now=100, space_bandwidth=250.0)
    np.testing.assert_allclose(got, expected, rtol=1e-10)   # scores are rounded to 12 digits
    # 7 days before now is still week 0; 8 days before is week 1 (half weight)
    assert prospective_forecast(x, y, [93], None, X0, Y0, CELL, 5, 5, 100, space_bandwidth=250.0)[2, 2] == 1.0
    assert prospective_forecast(x, y, [92], None, X0, Y0, CELL, 5, 5, 100, space_bandwidth=250.0)[2, 2] == 0.5
    # age 8 weeks and events at or after now count for nothing
    assert not prospective_forecast(x, y, [100 - 57], None, X0, Y0, CELL, 5, 5, 100, space_bandwidth=250.0).any()
    assert not prospective_forecast(x, y, [100], None, X0, Y0, CELL, 5, 5, 100, space_bandwidth=250.0).any()
    # Euclidean: the corners (2.83 cells) and the knight's moves (2.24 -> kept) of a 2.5-cell bandwidth
    eu = prospective_forecast(x, y, [99], None, X0, Y0, CELL, 5, 5, 100, space_bandwidth=250.0, distance="euclidean")
    assert eu[0, 0] == 0.0 and eu[0, 1] == pytest.approx(1 / (1 + math.sqrt(5)))
    # months: time_unit 1, the month before now is age 0, two months before age 1
    m = prospective_forecast(np.r_[x, x], np.r_[y, y], [9, 8], [2.0, 1.0], X0, Y0, CELL, 5, 5, now=10,
                             space_bandwidth=250.0, time_unit=1, time_bandwidth=2)
    assert m[2, 2] == 2.5


def test_prospective_matches_a_brute_force_open_cp_loop():
    rng = np.random.default_rng(9)
    n, nx, ny, cell, now = 60, 12, 9, 50.0, 200
    x = rng.uniform(-200, nx * cell + 200, n)
    y = rng.uniform(-200, ny * cell + 200, n)
    t = rng.integers(100, 220, n)
    w = rng.uniform(0.5, 2.0, n)
    got = prospective_forecast(x, y, t, w, X0, Y0, cell, nx, ny, now, space_bandwidth=180.0)
    expected = np.zeros((ny, nx))
    ecol, erow = np.floor(x / cell), np.floor(y / cell)
    for r in range(ny):
        for c in range(nx):
            for i in range(n):
                age = math.floor((now - 1 - t[i]) / 7)
                d = max(abs(ecol[i] - c), abs(erow[i] - r))
                if 0 <= age < 8 and d < 180.0 / cell:
                    expected[r, c] += w[i] / ((1 + d) * (1 + age))
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_prospective_bad_input():
    with pytest.raises(VrpError, match="space bandwidth"):
        prospective_forecast([1.0], [1.0], [1], None, X0, Y0, CELL, 3, 3, space_bandwidth=0)
    with pytest.raises(VrpError, match="distance"):
        prospective_forecast([1.0], [1.0], [1], None, X0, Y0, CELL, 3, 3, distance="manhattan")
    with pytest.raises(VrpError, match="t has"):
        prospective_forecast([1.0], [1.0], [1, 2], None, X0, Y0, CELL, 3, 3)


# ------------------------------------------------------------------------------ backtests


@pytest.fixture(scope="module")
def events():
    """Two persistent clusters and a background on a 30 x 30 grid of 100 m cells, over 120 days."""
    rng = np.random.default_rng(11)
    n = 1500
    which = rng.choice(3, n, p=[0.4, 0.3, 0.3])
    x = np.where(which == 0, rng.normal(800, 120, n), np.where(which == 1, rng.normal(2200, 150, n),
                                                                rng.uniform(0, 3000, n)))
    y = np.where(which == 0, rng.normal(900, 120, n), np.where(which == 1, rng.normal(2000, 150, n),
                                                                rng.uniform(0, 3000, n)))
    t = rng.integers(0, 120, n)
    return x, y, t


def split(ev, cut):
    x, y, t = ev
    return (x[t < cut], y[t < cut], t[t < cut]), (x[t >= cut], y[t >= cut], t[t >= cut])


def test_backtest_output(events):
    train, test = split(events, 90)
    rows = backtest(train, test, X0, Y0, CELL, 30, 30, coverage=0.05, bandwidth=250.0, n_boot=200)
    assert [r["method"] for r in rows] == ["naive", "kde", "prospective"]
    x, y, _ = test
    on_grid = int(((x >= 0) & (x < 3000) & (y >= 0) & (y < 3000)).sum())
    for r in rows:
        assert {"method", "hit_rate", "pai", "pei", "cells", "area_share", "hits", "test_events",
                "pai_low", "pai_high", "hit_rate_low", "hit_rate_high"} <= r.keys()
        assert r["cells"] == 45 and r["area_share"] == 0.05
        assert r["test_events"] == on_grid and r["test_events_outside"] == test[0].size - on_grid
        assert r["hit_rate"] == r["hits"] / r["test_events"]
        assert r["pai"] == pytest.approx(r["hit_rate"] / 0.05)
        assert r["pai_low"] <= r["pai"] <= r["pai_high"]
        assert r["hit_rate_low"] <= r["hit_rate"] <= r["hit_rate_high"]
        assert 0 < r["pei"] <= 1
        assert r["pai"] > 3          # the clusters persist, so every method beats chance
    assert rows[1]["parameters"] == {"kernel": "quartic", "bandwidth": 250.0}
    assert rows[2]["parameters"]["now"] == 90


def test_backtest_bootstrap_is_deterministic(events):
    train, test = split(events, 90)
    a = backtest(train, test, X0, Y0, CELL, 30, 30, coverage=0.05, methods=("naive",), n_boot=300)
    b = backtest(train, test, X0, Y0, CELL, 30, 30, coverage=0.05, methods=("naive",), n_boot=300)
    c = backtest(train, test, X0, Y0, CELL, 30, 30, coverage=0.05, methods=("naive",), n_boot=300, seed=1)
    assert a == b
    assert (a[0]["pai_low"], a[0]["pai_high"]) != (c[0]["pai_low"], c[0]["pai_high"])
    none = backtest(train, test, X0, Y0, CELL, 30, 30, coverage=0.05, methods=("naive",), n_boot=0)
    assert none[0]["pai_low"] is None and none[0]["pai"] == a[0]["pai"]


def test_backtest_weighted_mask_and_no_hits():
    train = (np.array([50.0]), np.array([50.0]), np.array([1]))
    test = (np.array([50.0, 250.0, 250.0]), np.array([50.0, 250.0, 50.0]), np.array([2, 2, 2]),
            np.array([1.0, 3.0, 6.0]))
    mask = np.ones((3, 3), dtype=bool)
    mask[0, 2] = False                                  # the harm-6 event's cell is outside the study area
    rows = backtest(train, test, X0, Y0, CELL, 3, 3, mask, coverage=0.1, methods=("naive",), n_boot=50)
    r = rows[0]
    assert r["cells"] == 1 and r["area_share"] == 1 / 8
    assert r["hits"] == 1.0 and r["test_events"] == 4.0 and r["test_events_outside"] == 6.0
    assert r["hit_rate"] == 0.25 and r["pai"] == 2.0 and r["weighted"]
    missed = backtest(train, (np.array([250.0]), np.array([250.0]), np.array([2])), X0, Y0, CELL, 3, 3,
                      coverage=0.1, methods=("naive",), n_boot=50)[0]
    assert missed["hit_rate"] == 0.0 and missed["pai"] == 0.0
    assert missed["hit_rate_low"] == missed["hit_rate_high"] == 0.0


def test_rolling_backtest(events):
    x, y, t = events
    month = t // 30                                     # 4 "months"
    out = rolling_backtest((x, y, month), [1, 2, 3], 1, 0.05, X0, Y0, CELL, 30, 30, bandwidth=250.0)
    assert len(out["months"]) == 9
    for s in out["summary"]:
        pais = [r["pai"] for r in out["months"] if r["method"] == s["method"]]
        assert s["months"] == 3 and s["pai_mean"] == pytest.approx(np.mean(pais))
        assert s["pai_low"] <= s["pai_mean"] <= s["pai_high"]
        assert s["pai_sd"] == pytest.approx(np.std(pais, ddof=1))
    # the per-month rows are plain backtests of that month against the month before
    keep_tr, keep_te = month == 1, month == 2
    one = backtest((x[keep_tr], y[keep_tr], month[keep_tr]), (x[keep_te], y[keep_te], month[keep_te]),
                   X0, Y0, CELL, 30, 30, coverage=0.05, methods=("prospective",), now=2, time_unit=1,
                   time_bandwidth=2, n_boot=0)[0]
    row = [r for r in out["months"] if r["month"] == 2 and r["method"] == "prospective"][0]
    assert row["pai"] == one["pai"] and row["hits"] == one["hits"]


def test_rolling_backtest_month_without_events(events):
    x, y, t = events
    month = t // 30
    out = rolling_backtest((x, y, month), [1, 7], 1, 0.05, X0, Y0, CELL, 30, 30, methods=("naive",))
    s = out["summary"][0]
    assert s["months"] == 1 and s["months_without_events"] == 1 and s["pai_low"] is None
