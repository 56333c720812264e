"""Gi*, Gi, local Moran's I and general G: equal to esda 2.9 (literal documented numbers and computed
side by side), exact under enumeration of the permutation null, and honest about multiple testing."""
from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from scipy import sparse, stats

from vrp.errors import VrpError
from vrp.places.local_stats import fdr_q, gistar, global_g, local_moran
from vrp.places.neighbours import distance_band, grid_neighbours

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.filterwarnings("ignore::FutureWarning")]
esda = pytest.importorskip("esda")
libpysal = pytest.importorskip("libpysal")

# esda's documented fixture (esda.getisord docstrings)
POINTS = [(10, 10), (20, 10), (40, 10), (15, 20), (30, 20), (30, 30)]
Y = np.array([2, 3, 3.2, 5, 8, 7])
GISTAR_Z = [-1.39727626, -0.28917762, 0.65064964, -0.28917762, 1.23452088, 2.02424331]
GI_Z = [-1.0136729, -0.04361589, 1.31558703, -0.31412676, 1.15373986, 1.77833941]
GLOBAL_G = 0.55709779


@pytest.fixture(scope="module")
def fixture_w():
    xy = np.array(POINTS, dtype=float)
    return distance_band(xy[:, 0], xy[:, 1], 15)


@pytest.fixture(scope="module")
def fixture_wl():
    return libpysal.weights.DistanceBand(POINTS, threshold=15)


@pytest.fixture(scope="module")
def planted():
    """A 60 x 50 queen grid of Poisson counts, many zeros, with a planted 6 x 6 cluster."""
    nx, ny = 60, 50
    rng = np.random.default_rng(2024)
    surface = rng.poisson(0.6, size=(ny, nx)).astype(float)
    surface[20:26, 30:36] += rng.poisson(3.0, size=(6, 6))
    cluster = np.zeros((ny, nx), dtype=bool)
    cluster[20:26, 30:36] = True
    return nx, ny, surface.ravel(), cluster.ravel()


def esda_local_g(y, nx, ny, star):
    w = libpysal.weights.lat2W(ny, nx, rook=False)
    return esda.G_Local(y, w, transform="B", star=star, permutations=0)


# ------------------------------------------------------------------------------------ esda fixture

def test_gistar_equals_esda_documented_fixture(fixture_w, fixture_wl):
    result = gistar(Y, fixture_w)
    np.testing.assert_allclose(result.z, GISTAR_Z, rtol=0, atol=1e-8)
    reference = esda.G_Local(Y, fixture_wl, transform="B", star=True, permutations=0)
    np.testing.assert_allclose(result.z, reference.Zs, rtol=0, atol=1e-8)
    np.testing.assert_allclose(result.g, reference.Gs, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(result.value, Y)


def test_gi_equals_esda_documented_fixture(fixture_w, fixture_wl):
    result = gistar(Y, fixture_w, star=False)
    np.testing.assert_allclose(result.z, GI_Z, rtol=0, atol=1e-8)
    reference = esda.G_Local(Y, fixture_wl, transform="B", star=False, permutations=0)
    np.testing.assert_allclose(result.z, reference.Zs, rtol=0, atol=1e-8)
    np.testing.assert_allclose(result.g, reference.Gs, rtol=0, atol=1e-12)


def test_global_g_equals_esda(fixture_w, fixture_wl):
    result = global_g(Y, fixture_w)
    assert result.g == pytest.approx(GLOBAL_G, abs=1e-8)
    reference = esda.G(Y, fixture_wl, permutations=0)
    assert result.g == pytest.approx(reference.G, abs=1e-12)
    assert result.expected == pytest.approx(reference.EG, abs=1e-12)
    assert result.variance == pytest.approx(reference.VG, abs=1e-12)
    assert result.z == pytest.approx(reference.z_norm, abs=1e-8)
    assert result.p == pytest.approx(2 * reference.p_norm, abs=1e-12)    # esda's p_norm is one-sided
    assert json.loads(json.dumps(result.as_dict()))["g"] == result.g


def test_global_g_on_a_grid_equals_esda(planted):
    nx, ny, y, _ = planted
    result = global_g(y, grid_neighbours(nx, ny))
    reference = esda.G(y, libpysal.weights.lat2W(ny, nx, rook=False), permutations=0)
    assert result.g == pytest.approx(reference.G, rel=1e-12)
    assert result.z == pytest.approx(reference.z_norm, abs=1e-8)
    assert result.z > 3                                                 # the planted cluster


# ------------------------------------------------------------------------------------ realistic grid

def test_gistar_equals_esda_on_a_planted_grid(planted):
    nx, ny, y, cluster = planted
    assert (y == 0).mean() > 0.4
    result = gistar(y, grid_neighbours(nx, ny, "queen"))
    reference = esda_local_g(y, nx, ny, star=True)
    np.testing.assert_allclose(result.z, reference.Zs, rtol=0, atol=1e-8)
    np.testing.assert_allclose(result.g, reference.Gs, rtol=1e-12, atol=0)
    # two-sided: ours = 2 * min(p_norm, 1 - p_norm), esda's p_norm being one-sided
    one_sided = reference.p_norm
    np.testing.assert_allclose(result.p, 2 * np.minimum(one_sided, 1 - one_sided), rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(result.q, stats.false_discovery_control(result.p), rtol=1e-12)
    assert result.significant[cluster].mean() > 0.5
    assert result.significant[~cluster].mean() < 0.02


def test_gi_equals_esda_on_a_planted_grid(planted):
    nx, ny, y, _ = planted
    result = gistar(y, grid_neighbours(nx, ny, "queen"), star=False)
    reference = esda_local_g(y, nx, ny, star=False)
    np.testing.assert_allclose(result.z, reference.Zs, rtol=0, atol=1e-8)
    np.testing.assert_allclose(result.g, reference.Gs, rtol=1e-12, atol=0)


def test_harm_weighted_gistar_is_gistar_on_harm_totals():
    # harm totals per cell (sums of offence weights), not integers
    rng = np.random.default_rng(8)
    harm = rng.choice([0, 0, 0, 1.0, 2.5, 12.0, 365.0], size=40 * 30) * rng.poisson(1.2, size=40 * 30)
    result = gistar(harm, grid_neighbours(40, 30))
    reference = esda_local_g(harm, 40, 30, star=True)
    np.testing.assert_allclose(result.z, reference.Zs, rtol=0, atol=1e-8)
    assert not np.allclose(result.z, gistar((harm > 0) * 1.0, grid_neighbours(40, 30)).z)


def test_alternatives_are_the_normal_tails(fixture_w):
    two = gistar(Y, fixture_w)
    high = gistar(Y, fixture_w, alternative="greater")
    low = gistar(Y, fixture_w, alternative="less")
    np.testing.assert_allclose(high.p, stats.norm.sf(two.z))
    np.testing.assert_allclose(low.p, stats.norm.cdf(two.z))
    np.testing.assert_allclose(two.p, 2 * np.minimum(high.p, low.p))


# ------------------------------------------------------------------------------------ exact nulls

def small_grid():
    """A 4 x 3 queen grid with tied integer counts: every null can be enumerated."""
    y = np.array([0, 3, 1, 0, 2, 5, 4, 1, 0, 1, 3, 0], dtype=float)
    return y, grid_neighbours(4, 3, "queen")


def test_gistar_z_is_exactly_standardised_under_random_permutation(fixture_w):
    # Gi*: all n values permuted over the locations; E[z] = 0 and Var[z] = 1 at every cell
    w = fixture_w.toarray() + np.eye(6)
    z = gistar(Y, fixture_w).z
    mean, sd = Y.mean(), Y.std()
    card = w.sum(axis=1)
    sims = np.array([(w @ Y[list(perm)] - card * mean) for perm in itertools.permutations(range(6))])
    scale = sd * np.sqrt(card * (6 - card) / 5)
    np.testing.assert_allclose((sims / scale).mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose((sims / scale).var(axis=0), 1, atol=1e-12)
    observed = (w @ Y - card * mean) / scale
    np.testing.assert_allclose(z, observed, atol=1e-12)


def test_gi_z_is_exactly_standardised_under_permutation_of_the_others(fixture_w):
    # Gi: y_i is not in G_i; the other n - 1 values are permuted over the other locations
    y, w = Y[:5], fixture_w[:5][:, :5]
    z = gistar(y, w, star=False).z
    for i in range(5):
        others = [j for j in range(5) if j != i]
        sims = []
        for perm in itertools.permutations(others):
            yy = y.copy()
            yy[others] = y[list(perm)]
            sims.append(gistar(yy, w, star=False).z[i])
        assert np.mean(sims) == pytest.approx(0, abs=1e-12)
        assert np.var(sims) == pytest.approx(1, abs=1e-12)
        assert z[i] == pytest.approx(sims[0], abs=1e-12)


def test_local_moran_z_is_exactly_standardised_under_total_randomisation(fixture_w):
    # esda's EI/VI are the moments of n/(n-1) * Is (Anselin's scaling); our z uses them on that
    # statistic, so z has mean 0 and variance 1 over all 120 arrangements of the values
    y, w = Y[:5], fixture_w[:5][:, :5]
    sims = np.array([local_moran(y[list(perm)], w).z for perm in itertools.permutations(range(5))])
    assert sims.shape == (120, 5)
    # every arrangement's z at cell i uses the same moments, so the z's moments are the null's
    np.testing.assert_allclose(sims.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(sims.var(axis=0), 1, atol=1e-12)


def exact_conditional_tails(y, w, i):
    """P(neighbour sum >= observed) and P(<= observed) over all k_i-subsets of the other values."""
    w = sparse.csr_array(w)
    nbrs = w.indices[w.indptr[i]:w.indptr[i + 1]]
    observed = y[nbrs].sum()
    others = np.delete(y, i)
    sums = np.array([sum(c) for c in itertools.combinations(others, nbrs.size)])
    return np.mean(sums >= observed - 1e-9), np.mean(sums <= observed + 1e-9)


def test_permutation_p_matches_the_exact_conditional_distribution():
    y, w = small_grid()
    permutations = 19_999
    result = gistar(y, w, permutations=permutations, seed=11)
    greater = gistar(y, w, permutations=permutations, seed=11, alternative="greater")
    moran = local_moran(y, w, permutations=permutations, seed=11, alternative="greater")
    mean = y.mean()
    for i in range(y.size):
        ge, le = exact_conditional_tails(y, w, i)
        assert result.p_sim[i] == pytest.approx(min(1, 2 * min(ge, le)), abs=0.02)
        assert greater.p_sim[i] == pytest.approx(ge, abs=0.015)
        # local Moran's I rises with the neighbours' sum above the mean, falls below it
        expected = ge if y[i] > mean else le
        assert moran.p_sim[i] == pytest.approx(expected, abs=0.015)


def test_permutation_p_is_deterministic_with_a_seed_and_bounded():
    y, w = small_grid()
    a = gistar(y, w, permutations=99, seed=5)
    b = gistar(y, w, permutations=99, seed=5)
    c = gistar(y, w, permutations=99, seed=6)
    np.testing.assert_array_equal(a.p_sim, b.p_sim)
    assert not np.array_equal(a.p_sim, c.p_sim)
    assert (a.p_sim >= 2 / 100).all() and (a.p_sim <= 1).all()
    np.testing.assert_allclose(a.p_sim * 100 / 2 % 1, 0, atol=1e-9)   # multiples of 2/(P+1) (or 1)


def test_permutation_p_is_uniform_without_spatial_structure():
    nx, ny = 50, 40
    w = grid_neighbours(nx, ny)
    rng = np.random.default_rng(99)
    fractions = []
    for rep in range(3):
        y = rng.gamma(1.5, 2.0, size=nx * ny)        # continuous: no ties, so p_sim is not conservative
        p = gistar(y, w, permutations=199, seed=rep).p_sim
        fractions.append([np.mean(p <= a) for a in (0.05, 0.1, 0.25, 0.5)])
        assert stats.kstest(p, "uniform").statistic < 0.05
    np.testing.assert_allclose(np.mean(fractions, axis=0), [0.05, 0.1, 0.25, 0.5], atol=0.02)


def test_planted_cluster_cells_get_small_permutation_p(planted):
    nx, ny, y, cluster = planted
    result = gistar(y, grid_neighbours(nx, ny), permutations=999, seed=1, alternative="greater")
    core = np.zeros((ny, nx), dtype=bool)
    core[21:25, 31:35] = True                         # cells whose whole neighbourhood is planted
    assert (result.p_sim[core.ravel()] <= 0.002).all()
    assert np.median(result.p_sim[cluster]) < 0.01
    assert np.median(result.p_sim[~cluster]) > 0.3


def uncompiled_esda(monkeypatch):
    """esda's own conditional randomisation, run as plain Python: numba would spend ~35 s
    compiling it, which a unit test cannot afford. Same code, same random draws, same result."""
    import esda.crand as crand
    import esda.getisord as getisord
    import esda.significance as significance

    for name in ("compute_chunk", "vec_permutations", "_prepare_univariate", "_permutation_significance"):
        monkeypatch.setattr(crand, name, getattr(crand, name).py_func)
    monkeypatch.setattr(crand, "boolean", bool)
    monkeypatch.setattr(getisord, "_prepare_univariate", crand._prepare_univariate)
    monkeypatch.setattr(getisord, "_g_local_star_crand", getisord._g_local_star_crand.py_func)
    return significance._permutation_significance.py_func


def test_permutation_p_agrees_with_esda_two_sided_in_distribution(monkeypatch):
    significance = uncompiled_esda(monkeypatch)
    nx, ny = 25, 25
    rows, cols = np.mgrid[0:ny, 0:nx]
    trend = 3 * np.exp(-((cols - 7) ** 2 + (rows - 17) ** 2) / 25) + 2 * np.exp(-((cols - 18) ** 2 + (rows - 5) ** 2) / 16)
    y = np.random.default_rng(5).gamma(2.0, 1.0 + trend).ravel()
    reference = esda.G_Local(y, libpysal.weights.lat2W(ny, nx, rook=False), transform="B", star=True,
                             permutations=499, n_jobs=1, seed=3)
    esda_two_sided = significance(reference.Gs, reference.rGs, alternative="two-sided")
    ours = gistar(y, grid_neighbours(nx, ny), permutations=499, seed=3)
    assert np.corrcoef(esda_two_sided, ours.p_sim)[0, 1] > 0.95
    assert np.median(np.abs(esda_two_sided - ours.p_sim)) < 0.05
    # esda's default p_sim is the one-sided "directed" one: about half of a two-sided p
    assert np.median(ours.p_sim / reference.p_sim) == pytest.approx(2, rel=0.15)


# ------------------------------------------------------------------------------------ local Moran

def test_local_moran_equals_esda_on_a_grid():
    nx, ny = 40, 30
    rows, cols = np.divmod(np.arange(nx * ny), nx)
    y = np.random.default_rng(4).lognormal(0, 1, nx * ny) + 2 * (np.hypot(rows - 10, cols - 25) < 6)
    result = local_moran(y, grid_neighbours(nx, ny, "queen"))
    reference = esda.Moran_Local(y, libpysal.weights.lat2W(ny, nx, rook=False), permutations=0)
    np.testing.assert_allclose(result.moran_i, reference.Is, rtol=0, atol=1e-8)
    np.testing.assert_array_equal(result.quadrant, reference.q)
    n = y.size
    z = (reference.Is * n / (n - 1) - reference.EI) / np.sqrt(reference.VI)
    np.testing.assert_allclose(result.z, z, rtol=0, atol=1e-8)
    np.testing.assert_allclose(result.p, 2 * stats.norm.sf(np.abs(z)), rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(result.q, stats.false_discovery_control(result.p))


def test_local_moran_on_the_fixture_equals_esda(fixture_w, fixture_wl):
    result = local_moran(Y, fixture_w)
    reference = esda.Moran_Local(Y, fixture_wl, permutations=0)
    np.testing.assert_allclose(result.moran_i, reference.Is, rtol=0, atol=1e-8)
    np.testing.assert_array_equal(result.quadrant, reference.q)
    assert [r["quadrant"] for r in result.records()] == ["LL", "LH", "LH", "HL", "HL", "HH"]


def test_local_moran_quadrant_at_the_mean_counts_as_low():
    y = np.array([1.0, 2, 3, 2, 2, 2])           # mean 2: cells 1, 3, 4, 5 sit exactly on it
    w = distance_band(np.arange(6.0), np.zeros(6), 1)
    result = local_moran(y, w, permutations=99, seed=1)
    # cell 1's neighbours average 2 (low), cell 3's 2.5 (high)
    assert result.quadrant.tolist() == [3, 3, 4, 2, 3, 3]
    wl = libpysal.weights.DistanceBand(np.column_stack([np.arange(6.0), np.zeros(6)]), threshold=1)
    np.testing.assert_array_equal(result.quadrant, esda.Moran_Local(y, wl, permutations=0).q)
    assert result.moran_i[1] == 0 and result.p_sim[1] == 1       # I = 0 whatever the neighbours


def test_local_moran_permutations_find_a_cold_cluster():
    nx, ny = 30, 30
    y = np.random.default_rng(3).gamma(4.0, 1.0, nx * ny).reshape(ny, nx)
    y[5:11, 5:11] *= 0.1
    w = grid_neighbours(nx, ny)
    core = np.zeros((ny, nx), dtype=bool)
    core[6:10, 6:10] = True
    few = local_moran(y.ravel(), w, permutations=999, seed=2)
    assert (few.quadrant[core.ravel()] == 3).all()
    assert (few.p_sim[core.ravel()] <= 0.01).all()
    # ...but 999 permutations cannot survive BH over 900 cells unless 36 sit at the floor: say so
    assert few.as_dict()["significant"] == 0 and "36 of the 900 cells" in few.warnings[0]
    enough = local_moran(y.ravel(), w, permutations=9999, seed=2)
    assert enough.as_dict()["significant_by_quadrant"]["LL"] >= 10


# ------------------------------------------------------------------------------------ multiple testing

def test_fdr_q_values():
    p = np.array([0.01, 0.04, 0.03, 0.2])
    np.testing.assert_allclose(fdr_q(p), [0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.2])
    np.testing.assert_allclose(fdr_q(p, "by"), stats.false_discovery_control(p, method="by"))
    with_nan = fdr_q([0.01, np.nan, 0.04, 0.03, 0.2])
    assert np.isnan(with_nan[1])
    np.testing.assert_allclose(with_nan[[0, 2, 3, 4]], fdr_q(p))           # NaN does not count in n
    assert fdr_q([]).shape == (0,)
    with pytest.raises(VrpError, match="'bh' or 'by'"):
        fdr_q(p, "holm")
    with pytest.raises(VrpError, match="between 0 and 1"):
        fdr_q([0.5, 1.5])


def test_gistar_q_uses_the_method_asked_for(planted):
    nx, ny, y, _ = planted
    w = grid_neighbours(nx, ny)
    bh, by = gistar(y, w), gistar(y, w, fdr="by")
    np.testing.assert_allclose(by.q, stats.false_discovery_control(bh.p, method="by"))
    assert by.significant.sum() <= bh.significant.sum()


def test_permutation_floor_warning_states_the_numbers():
    nx, ny = 50, 50
    y = np.random.default_rng(1).poisson(1.0, nx * ny).astype(float)
    result = gistar(y, grid_neighbours(nx, ny), permutations=999, seed=1)
    (message,) = result.warnings
    # floor 2/1000 = 0.002 > 0.05/2500 = 2e-05; BH needs 0.002 * 2500 / 0.05 = 100 cells at the floor
    assert "999 permutations are too few for 2500 cells" in message
    assert "p_sim, 0.002," in message and "alpha/n = 2e-05" in message
    assert "at least 100 of the 2500 cells" in message
    assert "99999 permutations are needed" in message                   # ceil(2 * 2500 / 0.05) - 1
    assert "\n" not in message
    assert gistar(y, grid_neighbours(nx, ny)).warnings == ()             # analytic: no floor


@pytest.mark.parametrize("alternative, enough", [("two-sided", 239), ("greater", 119)])
def test_permutation_floor_warning_boundary(fixture_w, alternative, enough):
    # n = 6, alpha = 0.05: a lone cell passes BH when floor <= 0.05/6, i.e. P >= ceil(s * 6 / 0.05) - 1
    assert gistar(Y, fixture_w, permutations=enough, seed=1, alternative=alternative).warnings == ()
    (message,) = gistar(Y, fixture_w, permutations=enough - 1, seed=1, alternative=alternative).warnings
    assert f"{enough} permutations are needed" in message


def test_permutation_floor_warning_when_nothing_can_ever_pass(fixture_w):
    (message,) = gistar(Y, fixture_w, permutations=19, seed=1).warnings
    assert "no cell can be significant at alpha = 0.05 after BH whatever the data" in message
    (message,) = gistar(Y, fixture_w, permutations=299, seed=1, fdr="by").warnings
    assert "BY threshold" in message and "under BY" in message


# ------------------------------------------------------------------------------------ results and input

def test_records_and_summary(fixture_w):
    plain = gistar(Y, fixture_w)
    assert list(plain.records()[0]) == ["value", "g", "z", "p", "q"]
    assert plain.records()[5]["z"] == pytest.approx(GISTAR_Z[5], abs=1e-8)
    with_sim = gistar(Y, fixture_w, permutations=99, seed=1)
    rows = with_sim.records(ids=["a", "b", "c", "d", "e", "f"])
    assert list(rows[0]) == ["id", "value", "g", "z", "p", "q", "p_sim", "q_sim"]
    assert rows[2]["id"] == "c" and rows[2]["p_sim"] == with_sim.p_sim[2]
    summary = json.loads(json.dumps(with_sim.as_dict()))
    assert summary["statistic"] == "Gi*" and summary["permutations"] == 99 and summary["seed"] == 1
    assert summary["inference"] == "permutation" and len(summary["warnings"]) == 1
    assert gistar(Y, fixture_w, star=False).as_dict()["statistic"] == "Gi"
    with pytest.raises(VrpError, match="6 cells"):
        plain.records(ids=[1, 2])


def test_islands_are_reported_not_hidden():
    mask = np.zeros((5, 5), dtype=bool)
    mask[:2, :3] = True
    mask[4, 4] = True                                   # cut off from the rest
    w = grid_neighbours(5, 5, "queen", mask=mask)
    y = np.array([1.0, 0, 2, 3, 1, 0, 4])
    star = gistar(y, w, permutations=99, seed=1)
    gi = gistar(y, w, star=False, permutations=99, seed=1)
    assert np.isfinite(star.z).all()
    assert np.isnan(gi.z[-1]) and np.isnan(gi.p[-1]) and np.isnan(gi.q[-1]) and gi.p_sim[-1] == 1
    assert np.isfinite(gi.q[:-1]).all()
    assert any("1 cell have no neighbours" in m or "1 cell has no neighbours" in m for m in star.warnings)
    assert not gi.significant[-1]


def test_weights_are_not_modified(fixture_w):
    before = fixture_w.copy()
    gistar(Y, fixture_w, permutations=9, seed=1)
    local_moran(Y, fixture_w, permutations=9, seed=1)
    assert abs(fixture_w - before).max() == 0 and fixture_w.nnz == before.nnz


@pytest.mark.parametrize("kwargs, message", [
    ({"y": [-1, 2, 3, 4, 5, 6]}, "zero or more"),
    ({"y": [np.nan, 2, 3, 4, 5, 6]}, "finite"),
    ({"y": [1, 2, 3]}, "3 x 3|6 x 6"),
    ({"y": [0, 0, 0, 0, 0, 0]}, "all values are zero"),
    ({"w": np.eye(6)}, "scipy.sparse"),
    ({"w": sparse.csr_array(np.eye(6))}, "self-weights"),
    ({"w": "two"}, "scipy.sparse"),
    ({"permutations": -1}, "permutations"),
    ({"permutations": 9.5}, "permutations"),
    ({"alternative": "lesser"}, "alternative"),
    ({"fdr": "none"}, "fdr"),
    ({"alpha": 1.5}, "alpha"),
])
def test_gistar_rejects_bad_input(fixture_w, kwargs, message):
    args = {"y": Y, "w": fixture_w, **kwargs}
    y, w = args.pop("y"), args.pop("w")
    with pytest.raises(VrpError, match=message):
        gistar(y, w, **args)


def test_graded_weights_and_constant_values_are_rejected(fixture_w):
    with pytest.raises(VrpError, match="binary"):
        gistar(Y, fixture_w * 0.5)
    with pytest.raises(VrpError, match="all values are equal"):
        gistar(np.full(6, 3.0), fixture_w)
    with pytest.raises(VrpError, match="all values are equal"):
        local_moran(np.full(6, 3.0), fixture_w)
    with pytest.raises(VrpError, match="all values are equal"):
        global_g(np.full(6, 3.0), fixture_w)
    assert math.isfinite(local_moran(-Y, fixture_w).z[0])               # Moran takes any real values
