"""Benchmark: Gi* on a large queen grid, vrp against esda 2.9 (the reference implementation).

    .venv/bin/python bench/gistar.py                            # 300 x 300 cells, 999 permutations
    .venv/bin/python bench/gistar.py --cells 10000 --repeat 1   # a quick run

Poisson(0.5) counts on a square queen grid (``--cells``, rounded to a square), in one run:

1. analytic Gi* (both sides in one fresh process): vrp (``grid_neighbours`` + ``gistar``) against esda (``libpysal.weights.lat2W``
   + ``G_Local(star=True, transform='B', permutations=0)``), weights construction and statistic
   timed separately; the largest |z difference| is printed and must be <= 1e-8;
2. ``--permutations`` conditional permutations: vrp (pure numpy) against esda with numba
   (``G_Local`` defaults: ``n_jobs=-1``, ``keep_simulations=True``), each side in a fresh process so
   that peak RSS (``resource.getrusage`` maxrss of that process) is its own; esda makes a warm-up
   call on a small grid first so numba's JIT compilation is not timed. The agreement of the
   p-values is printed too: vrp's two-sided p_sim against twice esda's one-sided ("directed") p_sim.

Medians of ``--repeat`` runs are reported with ratios (esda time / vrp time).
"""
from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np

SEED = 20240501


def counts(side: int) -> np.ndarray:
    return np.random.default_rng(SEED).poisson(0.5, side * side).astype(float)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def analytic(side: int, repeat: int) -> dict:
    """Weights + analytic Gi*, both sides in one process (so the z-scores can be compared)."""
    import esda
    import libpysal

    from vrp.places.local_stats import gistar
    from vrp.places.neighbours import grid_neighbours

    y = counts(side)
    times = {"vrp_weights": [], "vrp_gistar": [], "esda_weights": [], "esda_gistar": []}
    for _ in range(repeat):
        t0 = time.perf_counter()
        w = grid_neighbours(side, side, "queen")
        t1 = time.perf_counter()
        ours = gistar(y, w)
        t2 = time.perf_counter()
        wl = libpysal.weights.lat2W(side, side, rook=False)
        t3 = time.perf_counter()
        ref = esda.G_Local(y, wl, transform="B", star=True, permutations=0)
        t4 = time.perf_counter()
        for key, seconds in zip(times, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
            times[key].append(seconds)
    diff = float(np.max(np.abs(ours.z - ref.Zs)))
    if not diff <= 1e-8:
        raise SystemExit(f"z-scores differ from esda by {diff:g} (> 1e-8)")
    med = {k: statistics.median(v) for k, v in times.items()}
    vrp_total, esda_total = med["vrp_weights"] + med["vrp_gistar"], med["esda_weights"] + med["esda_gistar"]
    return {
        "max_abs_z_difference": diff,
        **{f"{k}_s": round(v, 4) for k, v in med.items()},
        "ratio_weights": round(med["esda_weights"] / med["vrp_weights"], 1),
        "ratio_gistar": round(med["esda_gistar"] / med["vrp_gistar"], 1),
        "ratio_total": round(esda_total / vrp_total, 1),
    }


def child(kind: str, side: int, permutations: int, repeat: int) -> None:
    """One run in this (fresh) process; prints a JSON line."""
    warnings.simplefilter("ignore")
    if kind == "analytic":
        print(json.dumps(analytic(side, repeat)))
        return
    y = counts(side)
    if kind == "vrp":
        from vrp.places.local_stats import gistar
        from vrp.places.neighbours import grid_neighbours

        w = grid_neighbours(side, side, "queen")
        start = time.perf_counter()
        p_sim = gistar(y, w, permutations=permutations, seed=1).p_sim
    else:
        import esda
        import libpysal

        esda.G_Local(counts(20), libpysal.weights.lat2W(20, 20, rook=False), transform="B", star=True,
                     permutations=permutations, seed=2)               # warm-up: numba compiles here
        w = libpysal.weights.lat2W(side, side, rook=False)
        start = time.perf_counter()
        p_sim = esda.G_Local(y, w, transform="B", star=True, permutations=permutations, seed=1).p_sim
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_rss_mb(), "p_sim": np.asarray(p_sim).tolist()}))


def in_child(kind: str, side: int, permutations: int, repeat: int = 1) -> dict:
    """Run ``child`` in a fresh interpreter. The parent imports only numpy, so the peak RSS the
    child inherits across fork + exec (Linux keeps the high-water mark) is below its own."""
    out = subprocess.run([sys.executable, __file__, "--child", kind, str(side), str(permutations), str(repeat)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=90_000, help="grid cells (rounded to a square)")
    parser.add_argument("--permutations", type=int, default=999)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], *map(int, args.child[1:]))
        return
    side = max(3, round(math.sqrt(args.cells)))
    result = {"grid": f"{side} x {side} queen", "cells": side * side, "values": "Poisson(0.5) counts",
              "analytic": in_child("analytic", side, args.permutations, args.repeat)}
    runs = {"vrp": [], "esda": []}
    for _ in range(args.repeat):
        for kind in runs:
            runs[kind].append(in_child(kind, side, args.permutations))
    med = {k: statistics.median(r["seconds"] for r in v) for k, v in runs.items()}
    ours, theirs = np.array(runs["vrp"][0]["p_sim"]), np.minimum(1, 2 * np.array(runs["esda"][0]["p_sim"]))
    result["permutation"] = {
        "permutations": args.permutations, "repeat": args.repeat,
        "vrp_s": round(med["vrp"], 3), "esda_numba_s": round(med["esda"], 3),
        "ratio": round(med["esda"] / med["vrp"], 1),
        "peak_rss_mb": {k: round(max(r["peak_rss_mb"] for r in v)) for k, v in runs.items()},
        "p_sim_correlation_vs_2x_esda_directed": round(float(np.corrcoef(ours, theirs)[0, 1]), 4),
        "p_sim_median_abs_difference": round(float(np.median(np.abs(ours - theirs))), 4),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
