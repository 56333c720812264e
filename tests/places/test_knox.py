"""Knox test: NRC's published observed table, its labelling bug, band edges, and exact agreement with a
naive all-pairs implementation that uses the same random permutations."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import pdist

from vrp.errors import VrpError
from vrp.places.knox import knox, monte_carlo_summary

FIXTURES = Path(__file__).parent / "fixtures"

# Near Repeat Calculator 1.3 verbose output for chicago_be_month1.csv (wsteenbeek/NearRepeat,
# inst/extdata/chicago_be_month1_NRverbose_2019-09-23_143005.csv): 100 m x 3 bands, 7 days x 3 bands,
# Manhattan distance, 20 "iterations" (19 simulations).
NRC_OBSERVED = [[28, 5, 5, 2], [44, 13, 8, 4], [97, 56, 19, 16], [77, 67, 45, 20],
                [182194, 146149, 95237, 45879]]
NRC_SPACE = ("Same location", "1 to 100", "101 to 200", "201 to 300", "More than 300")
NRC_TIME = ("0 to 7", "8 to 14", "15 to 21", "More than 21")
# (row, column) -> (observed, the 19 simulated counts, NRC's p value, NRC's "Obs over Mean Exp")
NRC_CELLS = {
    (1, 1): (28, [20, 18, 10, 16, 17, 22, 16, 18, 20, 13, 16, 19, 11, 23, 19, 19, 13, 16, 16], 0.05, 1.65217391304348),
    (4, 1): (77, [80, 77, 88, 99, 82, 74, 76, 70, 82, 89, 79, 90, 91, 91, 86, 78, 73, 83, 71], 0.75, 0.938422065426555),
    (2, 2): (13, [21, 15, 17, 23, 24, 25, 24, 22, 22, 29, 22, 20, 22, 29, 17, 19, 19, 19, 23], 1.0, 0.599514563106796),
    (4, 3): (45, [52, 38, 36, 22, 37, 53, 48, 49, 47, 35, 39, 38, 38, 47, 36, 41, 46, 45, 51], 0.5, 1.07142857142857),
    (1, 4): (2, [3, 2, 7, 4, 2, 1, 4, 4, 0, 2, 2, 2, 6, 3, 2, 5, 8, 5, 4], 0.9, 0.575757575757576),
    (5, 2): (146149, [146152, 146146, 146136, 146132, 146131, 146118, 146131, 146126, 146140, 146102, 146129,
                      146135, 146124, 146156, 146130, 146116, 146133, 146149, 146127], 0.2, 1.00011453214878),
}


@pytest.fixture(scope="module")
def chicago():
    return pd.read_csv(FIXTURES / "chicago_be_month1.csv", header=None, names=["x", "y", "date"], parse_dates=["date"])


def naive_knox(x, y, t, s_breaks, t_breaks, iterations, seed, metric):
    """All n(n-1)/2 pairs every time (the R NearRepeat approach), same permutation stream as knox()."""
    xy = np.column_stack([x, y]).astype(float)
    d = pdist(xy, "cityblock" if metric == "manhattan" else "euclidean")
    s = np.asarray(s_breaks, float)
    rows = np.where(d == 0, 0, np.searchsorted(s, d, side="right"))
    tb = np.asarray(t_breaks, float)
    n_cols = len(tb)

    def table(tt):
        cols = np.searchsorted(tb, pdist(tt[:, None], "cityblock"), side="right") - 1
        return np.bincount(rows * n_cols + cols, minlength=(len(s) + 1) * n_cols).reshape(len(s) + 1, n_cols)

    t = np.asarray(t, float)
    rng = np.random.default_rng(seed)
    obs = table(t)
    sims = np.array([table(t[rng.permutation(t.size)]) for _ in range(iterations)])
    return obs, sims


# --- the Near Repeat Calculator's own numbers ---------------------------------------------------------------

def test_nrc_compatible_reproduces_nrc_observed_table_and_labels(chicago):
    r = knox(chicago.x, chicago.y, chicago.date, (0, 100, 200, 300), (0, 7, 14, 21), iterations=19, seed=1,
             metric="manhattan", nrc_compatible=True)
    assert r.observed.tolist() == NRC_OBSERVED
    assert r.space_labels == NRC_SPACE and r.time_labels == NRC_TIME
    assert r.space_intervals == ("[0, 1)", "[1, 100)", "[100, 200)", "[200, 300)", "[300, inf)")
    assert r.time_intervals == ("[0, 7)", "[7, 14)", "[14, 21)", "[21, inf)")
    assert r.label_note and "Near Repeat Calculator" in r.label_note
    assert r.n_events == 970 and r.n_pairs == 970 * 969 // 2 == int(r.observed.sum())


def test_default_mode_counts_the_same_pairs_with_true_labels(chicago):
    # no two events in this file are between 0 and 1 m apart, so only the labels differ from the NRC's
    r = knox(chicago.x, chicago.y, chicago.date, (0, 100, 200, 300), (0, 7, 14, 21), iterations=19, seed=1,
             metric="manhattan")
    assert r.observed.tolist() == NRC_OBSERVED
    assert r.space_labels == ("0 m (same location)", ">0 to <100 m", "100 to <200 m", "200 to <300 m", "300 m or more")
    assert r.time_labels == ("0 to <7 days", "7 to <14 days", "14 to <21 days", "21 days or more")
    assert r.space_intervals[:2] == ("[0, 0]", "(0, 100)") and r.label_note is None


@pytest.mark.parametrize("cell", sorted(NRC_CELLS))
def test_p_value_and_ratio_formulas_match_nrc_verbose_output(cell):
    obs, sims, nrc_p, nrc_ratio = NRC_CELLS[cell]
    s = monte_carlo_summary(np.array([[obs]]), np.array(sims).reshape(-1, 1, 1))
    assert s["p_value"][0, 0] == pytest.approx(nrc_p, abs=1e-12)
    assert s["ratio"][0, 0] == pytest.approx(nrc_ratio, rel=1e-12)
    assert s["expected_median"][0, 0] == np.median(sims)


def test_pathological_example_nrc_mislabels_and_we_do_not():
    # tobydavies/NearRepeat data/pathological_example.csv: two events 100 m and 3 days apart
    x, y = [0, 0], [0, 100]
    t = pd.to_datetime(["01/01/2019", "04/01/2019"], dayfirst=True)
    nrc = knox(x, y, t, (0, 200, 400), (0, 3, 6), iterations=9, seed=0, nrc_compatible=True)
    assert nrc.observed[1].tolist() == [0, 1, 0] and nrc.observed.sum() == 1
    assert (nrc.space_labels[1], nrc.time_labels[1]) == ("1 to 200", "4 to 6")   # NRC's wording, as it prints
    nrc100 = knox(x, y, t, (0, 100, 200), (0, 3, 6), iterations=9, seed=0, nrc_compatible=True)
    assert nrc100.observed[2, 1] == 1 and nrc100.space_labels[2] == "101 to 200"
    ours = knox(x, y, t, (0, 100, 200), (0, 3, 6), iterations=9, seed=0)
    i, j = np.argwhere(ours.observed == 1)[0]
    assert (ours.space_labels[i], ours.time_labels[j]) == ("100 to <200 m", "3 to <6 days")
    assert (ours.space_intervals[i], ours.time_intervals[j]) == ("[100, 200)", "[3, 6)")


# --- exact bands -------------------------------------------------------------------------------------------

def test_band_edges_hand_made():
    # pairs exactly on the breaks: distance 0, 100, 200 (euclidean 3-4-5 triangles too) and gaps 0, 7, 14, 21
    x = [0, 0, 0, 60, 0]
    y = [0, 0, 100, 80, 200]
    t = [0, 7, 14, 21, 0]
    r = knox(x, y, t, (0, 100, 200), (0, 7, 14), iterations=9, seed=3)
    # pairs: (0,1) d0 dt7; (0,2) d100 dt14; (0,3) d100 dt21; (0,4) d200 dt0; (1,2) d100 dt7; (1,3) d100 dt14;
    # (1,4) d200 dt7; (2,3) d=sqrt(3600+400)=63.2 dt7; (2,4) d100 dt14; (3,4) d=sqrt(3600+14400)=134.2 dt21
    expect = np.zeros((4, 3), int)
    for row, col in [(0, 1), (2, 2), (2, 2), (3, 0), (2, 1), (2, 2), (3, 1), (1, 1), (2, 2), (2, 2)]:
        expect[row, col] += 1
    assert r.observed.tolist() == expect.tolist()
    assert r.n_close_pairs == 8  # all but the two pairs at exactly 200 m


def test_manhattan_and_euclidean_differ_as_expected():
    x, y, t = [0, 60], [0, 80], [0, 1]   # euclidean 100, manhattan 140
    e = knox(x, y, t, (0, 100, 150), (0, 7), iterations=9, seed=0)
    m = knox(x, y, t, (0, 100, 150), (0, 7), iterations=9, seed=0, metric="manhattan")
    assert e.observed[2, 0] == 1 and m.observed[2, 0] == 1
    e2 = knox(x, y, t, (0, 101, 150), (0, 7), iterations=9, seed=0)
    m2 = knox(x, y, t, (0, 101, 150), (0, 7), iterations=9, seed=0, metric="manhattan")
    assert e2.observed[1, 0] == 1 and m2.observed[2, 0] == 1


def test_datetimes_are_measured_to_the_second_and_nrc_uses_dates():
    t = pd.to_datetime(["2024-01-01 23:00", "2024-01-08 01:00", "2024-01-08 00:30"])
    x, y = [0, 10, 20], [0, 0, 0]
    r = knox(x, y, t, (0, 50), (0, 7), iterations=9, seed=0)
    # gaps: 6d2h (< 7), 6d1.5h (< 7), 0.5h
    assert r.observed[1].tolist() == [3, 0]
    nrc = knox(x, y, t, (0, 50), (0, 7), iterations=9, seed=0, nrc_compatible=True)
    # by date: 7 days, 7 days, 0 days
    assert nrc.observed[1].tolist() == [1, 2]
    days = knox(x, y, [0.0, 6 + 2 / 24, 6 + 1.5 / 24], (0, 50), (0, 7), iterations=9, seed=0)
    assert days.observed.tolist() == r.observed.tolist()
    aware = knox(x, y, pd.Series(t).dt.tz_localize("Europe/London"), (0, 50), (0, 7), iterations=9, seed=0)
    assert aware.observed.tolist() == r.observed.tolist()
    py = knox(x, y, [d.to_pydatetime() for d in t], (0, 50), (0, 7), iterations=9, seed=0)
    iso = knox(x, y, [d.isoformat() for d in t], (0, 50), (0, 7), iterations=9, seed=0)
    assert py.observed.tolist() == iso.observed.tolist() == r.observed.tolist()


# --- Monte Carlo: exact agreement with the naive all-pairs reference -----------------------------------------

@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
def test_matches_naive_all_pairs_with_the_same_permutations(metric):
    rng = np.random.default_rng(7)
    n = 300
    # integer coordinates on a 10 m lattice and whole days, so many pairs sit exactly on band edges
    x = rng.integers(0, 60, n) * 10.0
    y = rng.integers(0, 60, n) * 10.0
    t = rng.integers(0, 120, n).astype(float)
    sb, tb = (0, 50, 100, 200), (0, 3, 7, 14, 28)
    r = knox(x, y, t, sb, tb, iterations=49, seed=11, metric=metric)
    obs, sims = naive_knox(x, y, t, sb, tb, 49, 11, metric)
    assert r.observed.tolist() == obs.tolist()
    assert np.array_equal(r.expected_mean, sims.mean(axis=0))
    assert np.array_equal(r.expected_median, np.median(sims, axis=0))
    assert np.array_equal(r.p_value, ((sims >= obs).sum(axis=0) + 1) / 50)
    assert r.observed.sum() == n * (n - 1) // 2
    assert np.allclose(r.expected_mean.sum(), n * (n - 1) // 2)
    # column totals never change under permutation; the beyond row is what the close rows leave
    assert np.allclose(r.expected_mean.sum(axis=0), r.observed.sum(axis=0))


def test_many_time_bands_agree_with_all_pairs():
    # more than 16 columns takes the binary-search branch of the binning
    rng = np.random.default_rng(1)
    n = 300
    x, y, t = rng.integers(0, 50, n) * 10.0, rng.integers(0, 50, n) * 10.0, rng.integers(0, 100, n) * 1.0
    tb = tuple(range(0, 60, 3))
    r = knox(x, y, t, (0, 50, 100), tb, iterations=9, seed=2)
    obs, sims = naive_knox(x, y, t, (0, 50, 100), tb, 9, 2, "euclidean")
    assert r.observed.shape == (4, 20) and r.observed.tolist() == obs.tolist()
    assert np.array_equal(r.expected_mean, sims.mean(axis=0))


def test_floating_point_gaps_at_band_edges_agree_with_all_pairs():
    # times in tenths of a day: hundreds of gaps are 0.3 up to rounding (0.30000000000000004 etc.); the
    # beyond row (counted from sorted times, without pairs) must bin them exactly as the pairs are binned
    rng = np.random.default_rng(9)
    n = 400
    x, y = rng.integers(0, 30, n) * 10.0, rng.integers(0, 30, n) * 10.0
    t = rng.integers(0, 300, n) * 0.1
    sb, tb = (0, 30, 70), (0, 0.3, 0.7, 1.1)
    assert (np.abs(pdist(t[:, None]) - 0.3) < 1e-9).sum() > 100
    r = knox(x, y, t, sb, tb, iterations=5, seed=1)
    obs, sims = naive_knox(x, y, t, sb, tb, 5, 1, "euclidean")
    assert r.observed.tolist() == obs.tolist()
    assert np.array_equal(r.expected_mean, sims.mean(axis=0))


def test_planted_near_repeats_are_significant_and_noise_is_not():
    rng = np.random.default_rng(5)
    n = 400
    x, y = rng.uniform(0, 5000, n), rng.uniform(0, 5000, n)
    t = rng.uniform(0, 365, n)
    noise = knox(x, y, t, (0, 100, 200), (0, 7, 14), iterations=199, seed=1)
    # 40 follow-ups within 50 m and 3 days of a random earlier event
    src = rng.integers(0, n, 40)
    x2 = np.concatenate([x, x[src] + rng.uniform(-35, 35, 40)])
    y2 = np.concatenate([y, y[src] + rng.uniform(-35, 35, 40)])
    t2 = np.concatenate([t, t[src] + rng.uniform(0, 3, 40)])
    planted = knox(x2, y2, t2, (0, 100, 200), (0, 7, 14), iterations=199, seed=1)
    assert planted.p_value[1, 0] == pytest.approx(1 / 200)
    assert planted.ratio[1, 0] > 3
    assert noise.p_value[1, 0] > 0.05


def test_seed_makes_it_deterministic(chicago):
    args = (chicago.x, chicago.y, chicago.date, (0, 100, 200), (0, 7, 14))
    a = knox(*args, iterations=29, seed=123)
    b = knox(*args, iterations=29, seed=123)
    c = knox(*args, iterations=29, seed=124)
    assert np.array_equal(a.expected_mean, b.expected_mean) and np.array_equal(a.p_value, b.p_value)
    assert not np.array_equal(a.expected_mean, c.expected_mean)
    assert a.seed == 123


def test_records_and_as_dict_are_json_ready():
    r = knox([0, 0, 500], [0, 30, 0], [0, 2, 40], (0, 100), (0, 7), iterations=9, seed=0)
    d = json.loads(json.dumps(r.as_dict()))
    assert d["observed"] == r.observed.tolist() and d["space_labels"][0] == "0 m (same location)"
    recs = r.records()
    assert len(recs) == 3 * 2
    assert recs[0]["space_band"] == "0 m (same location)" and recs[0]["time_interval"] == "[0, 7)"
    # 0 observed over 0 expected is undefined, and reported as None rather than NaN
    assert recs[0]["observed"] == 0 and recs[0]["knox_ratio"] is None
    json.dumps(recs)


def test_labels_for_uneven_and_fractional_breaks():
    r = knox([0, 1], [0, 1], [0, 1], (0, 50, 125.5, 1000), (0, 1, 2.5), iterations=1, seed=0)
    assert r.space_labels == ("0 m (same location)", ">0 to <50 m", "50 to <125.5 m", "125.5 to <1000 m",
                              "1000 m or more")
    assert r.time_labels == ("0 to <1 days", "1 to <2.5 days", "2.5 days or more")


@pytest.mark.parametrize("kwargs, match", [
    ({"space_bands": (100, 200)}, "starting at 0"),
    ({"space_bands": (0, 200, 100)}, "increasing"),
    ({"time_bands": (0,)}, "time_bands"),
    ({"iterations": 0}, "iterations"),
    ({"metric": "chebyshev"}, "metric"),
    ({"nrc_compatible": True, "space_bands": (0, 1, 2)}, "above 1"),
])
def test_bad_arguments_raise_vrp_error(kwargs, match):
    args = {"space_bands": (0, 100), "time_bands": (0, 7)} | kwargs
    with pytest.raises(VrpError, match=match):
        knox([0, 1, 2], [0, 1, 2], [0, 1, 2], **args)


def test_bad_events_raise_vrp_error():
    with pytest.raises(VrpError, match="at least 2"):
        knox([0], [0], [0], (0, 100), (0, 7))
    with pytest.raises(VrpError, match="same length"):
        knox([0, 1], [0, 1], [0], (0, 100), (0, 7))
    with pytest.raises(VrpError, match="missing"):
        knox([0, np.nan], [0, 1], [0, 1], (0, 100), (0, 7))
    with pytest.raises(VrpError, match="missing"):
        knox([0, 1], [0, 1], pd.to_datetime(["2024-01-01", None]), (0, 100), (0, 7))
    with pytest.raises(VrpError, match="numbers of days or datetimes"):
        knox([0, 1], [0, 1], ["monday", "tuesday"], (0, 100), (0, 7))
