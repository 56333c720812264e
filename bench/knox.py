"""Benchmark: the Knox test (vrp.places.knox) against a naive all-pairs implementation, in one run.

    .venv/bin/python bench/knox.py                    # 12,334 events, 200 m / 7 days, 99 iterations
    .venv/bin/python bench/knox.py --naive-n 2000     # a quicker naive reference

The anchor is Toby Davies' Python Knox test (tobydavies/NearRepeat, notebook "Runtime benchmarking"):
12,334 Chicago burglaries of 2014, one spatial band of 200 m, one temporal band of 7 days, 99 iterations,
3.96 s on his laptop (Intel i7-5500U, 16 GB); the Near Repeat Calculator took about 510 s for the same
run. Neither is installed here (Davies' code needs scikit-learn's radius graph per iteration; pointpats
is not a dependency), so those figures are printed as claimed, not re-measured.

Measured in this run, each in a fresh process (median of --repeat runs, peak RSS per process):

* vrp: knox() on 12,334 synthetic events with the same density and clustering as a year of burglary
  in a 600 km2 city (seeded; 1 band 200 m x 7 days, 99 iterations), plus the NRC-style table
  (100 m x 5 bands, 7 days x 5 bands, 999 iterations);
* naive: the all-pairs method (spatial bands of all n(n-1)/2 pairs once, then every iteration the time
  gaps of all pairs of permuted times and a bincount, as R's NearRepeat does), plain numpy/scipy, on
  the first --naive-n events, against vrp on the same subset with the same seed: the tables must be
  identical, and the ratio is reported. The naive time for all 12,334 events is extrapolated as n^2.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

N_EVENTS = 12_334
CLAIMED = {"davies_python_knox_s": 3.96, "davies_machine": "Intel i7-5500U laptop, 16 GB (2019 notebook)",
           "near_repeat_calculator_s": 510}


def events(n: int = N_EVENTS, seed: int = 2014):
    """Clustered synthetic events over 24 x 25 km, times in whole days over a year, with near repeats."""
    rng = np.random.default_rng(seed)
    n_rep = n // 10
    n_base = n - n_rep
    centres = rng.uniform([0, 0], [24_000, 25_000], (400, 2))
    in_cluster = rng.random(n_base) < 0.6
    xy = np.where(in_cluster[:, None], centres[rng.integers(0, 400, n_base)] + rng.normal(0, 300, (n_base, 2)),
                  rng.uniform([0, 0], [24_000, 25_000], (n_base, 2)))
    t = rng.integers(0, 365, n_base).astype(float)
    src = rng.integers(0, n_base, n_rep)
    xy = np.vstack([xy, xy[src] + rng.uniform(-100, 100, (n_rep, 2))])
    t = np.concatenate([t, np.minimum(364, t[src] + rng.integers(0, 8, n_rep))])
    order = rng.permutation(n)
    return xy[order, 0], xy[order, 1], t[order]


def naive_knox(x, y, t, s_breaks, t_breaks, iterations: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """All pairs, every iteration: the reference, with the same permutation stream as vrp's knox()."""
    from scipy.spatial.distance import pdist

    d = pdist(np.column_stack([x, y]), "euclidean")
    s = np.asarray(s_breaks, float)
    rows = np.where(d == 0, 0, np.searchsorted(s, d, side="right")).astype(np.intp)
    del d
    tb = np.asarray(t_breaks, float)
    n_cols = len(tb)
    rows *= n_cols
    size = (len(s) + 1) * n_cols

    def table(tt):
        cols = np.searchsorted(tb, pdist(tt[:, None], "cityblock"), side="right") - 1
        return np.bincount(rows + cols, minlength=size).reshape(len(s) + 1, n_cols)

    rng = np.random.default_rng(seed)
    obs = table(t)
    sims = np.array([table(t[rng.permutation(t.size)]) for _ in range(iterations)])
    return obs, sims


def run(kind: str, naive_n: int) -> dict:
    from vrp.places.knox import knox

    x, y, t = events()
    if kind == "vrp-anchor":
        start = time.perf_counter()
        r = knox(x, y, t, (0, 200), (0, 7), iterations=99, seed=1)
        out = {"seconds": time.perf_counter() - start, "close_pairs": r.n_close_pairs,
               "knox_ratio_0_200m_0_7d": round(float(r.ratio[1, 0]), 3), "p": float(r.p_value[1, 0])}
    elif kind == "vrp-nrc-table":
        start = time.perf_counter()
        r = knox(x, y, t, (0, 100, 200, 300, 400, 500), (0, 7, 14, 21, 28, 35), iterations=999, seed=1)
        out = {"seconds": time.perf_counter() - start, "close_pairs": r.n_close_pairs}
    elif kind == "vrp-subset":
        start = time.perf_counter()
        r = knox(x[:naive_n], y[:naive_n], t[:naive_n], (0, 200), (0, 7), iterations=99, seed=1)
        out = {"seconds": time.perf_counter() - start, "observed": r.observed.tolist(),
               "expected_mean": r.expected_mean.tolist()}
    else:  # naive-subset
        start = time.perf_counter()
        obs, sims = naive_knox(x[:naive_n], y[:naive_n], t[:naive_n], (0, 200), (0, 7), 99, 1)
        out = {"seconds": time.perf_counter() - start, "observed": obs.tolist(),
               "expected_mean": sims.mean(axis=0).tolist()}
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def in_child(kind: str, naive_n: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--naive-n", str(naive_n)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--naive-n", type=int, default=3000, help="events in the naive all-pairs comparison")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run(args.child, args.naive_n)))
        return
    kinds = ("vrp-anchor", "vrp-nrc-table", "vrp-subset", "naive-subset")
    runs = {k: [] for k in kinds}
    for _ in range(args.repeat):
        for k in kinds:
            runs[k].append(in_child(k, args.naive_n))
    med = {k: statistics.median(r["seconds"] for r in v) for k, v in runs.items()}
    same = (runs["vrp-subset"][0]["observed"] == runs["naive-subset"][0]["observed"]
            and runs["vrp-subset"][0]["expected_mean"] == runs["naive-subset"][0]["expected_mean"])
    naive_full = med["naive-subset"] * (N_EVENTS / args.naive_n) ** 2
    print(json.dumps({
        "events": N_EVENTS, "repeat": args.repeat, "close_pairs_200m": runs["vrp-anchor"][0]["close_pairs"],
        "vrp_200m_7d_99it_s": round(med["vrp-anchor"], 3),
        "anchor_ratio_vs_davies_claimed": round(CLAIMED["davies_python_knox_s"] / med["vrp-anchor"], 1),
        "vrp_nrc_table_5x5_999it_s": round(med["vrp-nrc-table"], 2),
        "naive_n": args.naive_n, "naive_subset_s": round(med["naive-subset"], 2),
        "vrp_subset_s": round(med["vrp-subset"], 3),
        "ratio_naive_over_vrp_subset": round(med["naive-subset"] / med["vrp-subset"], 1),
        "tables_identical_to_naive": same,
        "naive_full_extrapolated_s": round(naive_full, 1),
        "knox_ratio_0_200m_0_7d": runs["vrp-anchor"][0]["knox_ratio_0_200m_0_7d"],
        "claimed": CLAIMED,
        "peak_rss_mb": {k: round(max(r["peak_rss_mb"] for r in v)) for k, v in runs.items()},
    }, indent=2))


if __name__ == "__main__":
    main()
