"""Stability: Spearman and top-k Jaccard between periods with event-resampling intervals, and the
persistent / emerging / fading / intermittent classification with its bootstrap confidence."""
from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import spearmanr

from vrp.errors import VrpError
from vrp.places.stability import CLASSES, classify_hotspots, rank_stability, spearman, top_units


# --- top units ---------------------------------------------------------------------------------------------

def test_top_units_include_ties_and_never_zero():
    v = np.array([5, 3, 0, 3, 3, 1, 0, 0, 0, 0], float)
    # k = ceil(0.2 * 10) = 2; the 2nd highest is 3 and all three 3s are tied with it
    assert top_units(v, 0.2).tolist() == [True, True, False, True, True, False, False, False, False, False]
    assert top_units(v, 0.1).tolist() == [True] + [False] * 9
    # fewer positive units than k: the zeros stay cold
    assert top_units([0, 2, 0, 0], 0.75).tolist() == [False, True, False, False]
    # 7% of 100 is 7 units, not 8 (0.07 * 100 = 7.000000000000001)
    assert top_units(np.arange(100, dtype=float), 0.07).sum() == 7
    # harm values (not whole numbers) follow the same rule
    assert top_units([0.5, 2.25, 2.25, 1.0], 0.25).tolist() == [False, True, True, False]


# --- rank_stability ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(4))
def test_spearman_equals_scipy(seed):
    rng = np.random.default_rng(seed)
    a, b = rng.poisson(1.0, 300), rng.poisson(1.0, 300)      # many ties, many zeros
    assert spearman(a, b) == pytest.approx(spearmanr(a, b).statistic, abs=1e-12)
    r = rank_stability(a, b, bootstrap=0)
    assert r.spearman == pytest.approx(spearmanr(a, b).statistic, abs=1e-12)
    # harm (non-integer) and very large counts take the general ranking path
    h, big = a * 1.37 + rng.random(300), b * 10_000
    assert spearman(h, big) == pytest.approx(spearmanr(h, big).statistic, abs=1e-12)
    # a constant period has no ranking
    assert np.isnan(spearman(np.ones(5), np.arange(5)))


def test_jaccard_by_hand():
    a = np.array([9, 8, 7, 0, 0, 0, 1, 0, 0, 0], float)   # k = 3 at 30%: top {0, 1, 2}
    b = np.array([9, 0, 7, 8, 0, 0, 1, 0, 0, 0], float)   # top {0, 2, 3}
    r = rank_stability(a, b, top_fraction=0.3, bootstrap=0)
    assert (r.n_top_a, r.n_top_b, r.n_top_both) == (3, 3, 2)
    assert r.jaccard == pytest.approx(2 / 4)
    assert r.spearman_low is None and r.jaccard_high is None and r.bootstrap == 0


def test_identical_periods_are_perfectly_stable():
    v = np.array([10, 0, 3, 7, 0, 1, 25, 2], float)
    r = rank_stability(v, v, top_fraction=0.25, bootstrap=0)
    assert r.spearman == pytest.approx(1.0) and r.jaccard == 1.0


def test_intervals_contain_the_estimate_and_seed_is_deterministic():
    rng = np.random.default_rng(11)
    risk = rng.gamma(0.6, 2.0, 400)
    a, b = rng.poisson(risk), rng.poisson(risk)
    r1 = rank_stability(a, b, bootstrap=99, seed=5)
    r2 = rank_stability(a, b, bootstrap=99, seed=5)
    r3 = rank_stability(a, b, bootstrap=99, seed=6)
    assert r1 == r2 and r1 != r3
    assert r1.spearman_low <= r1.spearman <= r1.spearman_high
    assert r1.jaccard_low <= r1.jaccard <= r1.jaccard_high
    assert -1 <= r1.spearman_low and r1.spearman_high <= 1 and 0 <= r1.jaccard_low and r1.jaccard_high <= 1
    assert r1.spearman_high - r1.spearman_low > 0.01
    # event resampling adds noise: replicate correlations run below the observed one (why the shift)
    assert r1.spearman_replicate_median < r1.spearman
    json.dumps(r1.as_dict())


def test_stable_risk_gives_a_high_narrow_interval_and_noise_a_low_one():
    rng = np.random.default_rng(2)
    rate = np.full(300, 0.2)
    rate[:15] = 40.0
    stable = rank_stability(rng.poisson(rate), rng.poisson(rate), bootstrap=49, seed=1)
    assert stable.jaccard == 1.0 and stable.jaccard_low == 1.0
    noise = rank_stability(rng.poisson(3.0, 300), rng.poisson(3.0, 300), bootstrap=49, seed=1)
    assert noise.spearman_low < 0 < noise.spearman_high
    assert noise.jaccard_high < 0.5


# --- classify_hotspots ------------------------------------------------------------------------------------

def history(hot_periods_by_unit: dict[int, list[int]], n_periods=5, n_units=20):
    """Counts that make exactly the listed units hot: 10 events in a hot unit-period, 0 elsewhere."""
    m = np.zeros((n_periods, n_units))
    for unit, periods in hot_periods_by_unit.items():
        m[periods, unit] = 10
    return m


HANDMADE = {0: [0, 1, 2, 3, 4], 1: [0, 1, 2, 3], 2: [4], 3: [0, 1], 4: [1, 4], 6: [0, 1, 2, 4], 7: [2, 3]}


def test_each_class_by_hand():
    # 20 units, top 25% -> k = 5, at most 4 hot units per period here, so hot = the listed units
    c = classify_hotspots(history(HANDMADE), top_fraction=0.25, persistent_share=0.8, bootstrap=0)
    assert c.classes[[0, 1, 2, 3, 4, 5, 6, 7]].tolist() == [
        "persistent",     # 5 of 5
        "persistent",     # 4 of 5 >= 0.8 * 5, even though not hot recently
        "emerging",       # only the last period
        "fading",         # early only
        "intermittent",   # early and recent, 2 of 5
        "never",
        "persistent",     # 4 of 5
        "fading",         # periods 2 and 3, not the last
    ]
    assert c.n_hot_periods[:8].tolist() == [5, 4, 1, 2, 2, 0, 4, 2]
    assert c.counts() == {"persistent": 3, "emerging": 1, "fading": 2, "intermittent": 1, "never": 13}
    assert np.isnan(c.confidence).all() and c.reported.sum() == 7


def test_recent_periods_and_persistent_share_change_the_rules():
    m = history(HANDMADE)
    two = classify_hotspots(m, top_fraction=0.25, recent_periods=2, bootstrap=0)
    assert two.classes[7] == "intermittent"   # period 3 is now recent, period 2 earlier
    assert two.classes[1] == "persistent"
    strict = classify_hotspots(m, top_fraction=0.25, persistent_share=1.0, bootstrap=0)
    assert strict.classes[[0, 1, 6]].tolist() == ["persistent", "fading", "intermittent"]
    # hot only in the recent periods but in enough of them: persistent wins over emerging
    late = classify_hotspots(history({0: [1, 2, 3, 4]}), top_fraction=0.25, recent_periods=4, bootstrap=0)
    assert late.classes[0] == "persistent"


def test_planted_stable_hotspots_get_high_confidence():
    rng = np.random.default_rng(4)
    rate = np.full(200, 0.3)
    rate[:10] = 30.0
    m = rng.poisson(rate, (4, 200))
    c = classify_hotspots(m, top_fraction=0.05, bootstrap=49, seed=1)
    assert (c.classes[:10] == "persistent").all()
    assert c.confidence[:10].min() >= 0.95
    assert np.allclose(c.class_shares.sum(axis=1), 1.0)


def test_pure_noise_gets_low_confidence():
    rng = np.random.default_rng(1)
    m = rng.poisson(3.0, (4, 200))
    c = classify_hotspots(m, top_fraction=0.05, bootstrap=49, seed=1)
    hot_once = c.classes != "never"
    assert hot_once.sum() > 10
    assert c.confidence[hot_once].mean() < 0.6
    # every observed hot unit is reported; replicates add more
    assert c.reported[hot_once].all() and c.reported.sum() >= hot_once.sum()


def test_classification_is_deterministic_with_a_seed_and_records_are_json():
    rng = np.random.default_rng(8)
    m = rng.poisson(rng.gamma(0.5, 2.0, 150), (5, 150))
    a = classify_hotspots(m, bootstrap=29, seed=3)
    b = classify_hotspots(m, bootstrap=29, seed=3)
    assert np.array_equal(a.confidence, b.confidence) and np.array_equal(a.classes, b.classes)
    recs = a.records()
    assert len(recs) == a.reported.sum()
    r0 = recs[0]
    assert r0["class"] in CLASSES and r0["confidence"] == pytest.approx(a.confidence[r0["unit"]])
    assert r0["hot_periods"] == np.flatnonzero(a.hot[:, r0["unit"]]).tolist()
    d = json.loads(json.dumps(a.as_dict()))
    assert sum(d["counts"].values()) == 150 and len(d["n_hot_by_period"]) == 5


def test_harm_values_need_bootstrap_zero():
    m = np.array([[1.5, 0, 2.0, 0], [0, 2.5, 1.0, 0]])
    with pytest.raises(VrpError, match="whole-number counts"):
        classify_hotspots(m, top_fraction=0.25, bootstrap=9)
    c = classify_hotspots(m, top_fraction=0.25, bootstrap=0)
    assert c.classes.tolist() == ["never", "emerging", "fading", "never"]   # k = 1: only the top unit


@pytest.mark.parametrize("call, match", [
    (lambda: classify_hotspots(np.ones((1, 5))), "at least 2 periods"),
    (lambda: classify_hotspots(np.ones((3, 5)), recent_periods=3), "recent_periods"),
    (lambda: classify_hotspots(np.ones((3, 5)), persistent_share=0), "persistent_share"),
    (lambda: classify_hotspots(-np.ones((3, 5))), "non-negative"),
    (lambda: classify_hotspots(np.ones((3, 5)), top_fraction=0), "top_fraction"),
    (lambda: top_units([], 0.1), "no units"),
    (lambda: rank_stability([1, 2], [1, 2, 3]), "same units"),
    (lambda: rank_stability([0, 0], [1, 2]), "no events"),
    (lambda: rank_stability([1, 2], [1, 2], bootstrap=-1), "bootstrap"),
])
def test_bad_input_raises_vrp_error(call, match):
    with pytest.raises(VrpError, match=match):
        call()
