"""Benchmark: whole `vrp` commands as a user waits for them, side by side with their anchors.

    .venv/bin/python bench/commands.py --repeat 5                  # all four cases
    .venv/bin/python bench/commands.py --repeat 3 --only ingest,status

Every measurement is a whole process started from outside (wall clock, ``subprocess``), the way a
user runs the command: interpreter start-up, imports, the workspace, the work and the output. The
command and its anchor run alternately (their order swapped on every repeat), and the medians of
``--repeat`` runs are reported with their ratio (command / anchor), and beside it the median of
the ratios of each adjacent pair, which is steadier when the machine's speed drifts; CPU seconds
(user + system of the command's process) are reported too, as the host of a shared virtual machine
can take wall time away. Cases:

* ``ingest``: ``vrp ingest police-uk`` of the 12 Hampshire 2025 files into a fresh workspace
  (``vrp init`` before each run, not timed) against a whole ``python -c`` process that imports
  DuckDB and materialises the same files as a table of strings with the dialect spelled out (as
  bench/ingest_policeuk.py does in-process). Target: at most 2x.
* ``gistar``: ``vrp hotspots gistar`` (analytic, the default) over every police.uk crime type of
  2025 on 275 m cells (100,440 cells over the data's extent), reading the lake, locating and
  counting the crimes, building the grid and queen weights, Gi* with q-values and the printed
  table, against esda 2.9's ``G_Local(y, w, transform="B", star=True, permutations=0)`` call alone
  (in its own process, only the call timed) on the same counts and the same weights; the z-scores
  must agree to 1e-8 (checked on every run). Target: the whole command faster than the call.
* ``help``, ``status``: ``vrp --help`` and ``vrp status`` (the Gi* workspace: the lookup and a
  year of police.uk) against a bare interpreter (``python -c pass``). Target: under 0.5 s.

Bytecode is cached in a temporary ``PYTHONPYCACHEPREFIX`` and every command runs once before the
timed runs, as a user's second run would find it (nothing is written into the repository).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VRP_SHARED_DATA", ROOT.parent / "shared" / "data"))
POLICE = SHARED / "policeuk-hampshire-street-2025"
LOOKUP = SHARED / "geo-hips" / "hips_lsoa21_to_lad.csv"
PYTHON = sys.executable
VRP = str(Path(sys.executable).with_name("vrp"))
DIALECT = "all_varchar = true, header = true, delim = ',', quote = '\"', escape = '\"'"
CELL = 275
CASES = ("ingest", "gistar", "help", "status")
TARGETS = {"ingest": "<= 2x the DuckDB read", "gistar": "< 1x esda's G_Local call",
           "help": "< 0.5 s", "status": "< 0.5 s"}

ALL_TYPES_DEFINITION = """\
id = "policeuk-all"
version = "1"
name = "Every police.uk crime type"
dataset = "police_uk"
kind = "local"
description = "Every street-level crime and anti-social behaviour report: the benchmark's largest point set."

[[rules]]
id = "all"
crime_type = ["Anti-social behaviour", "Bicycle theft", "Burglary", "Criminal damage and arson", "Drugs",
              "Other crime", "Other theft", "Possession of weapons", "Public order", "Robbery", "Shoplifting",
              "Theft from the person", "Vehicle crime", "Violence and sexual offences"]
"""

DUCKDB_READ = textwrap.dedent("""\
    import sys, duckdb
    listing = "[" + ", ".join("'" + f + "'" for f in sys.argv[2:]) + "]"
    con = duckdb.connect()
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv({listing}, {sys.argv[1]})")
    print(con.execute("SELECT count(*) FROM t").fetchone()[0])
    """)

# Setup (not timed): the command's own counts and weights, for esda to take the very same input.
EXPORT = textwrap.dedent("""\
    import sys
    import numpy as np
    from vrp.places.hotspots import Query, place_counts, weights_for
    from vrp.places.local_stats import gistar
    from vrp.workspace import open_workspace
    ws, cell, out = open_workspace(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    pc = place_counts(ws, Query("policeuk-all", cell=cell))
    w = weights_for(pc, "queen")
    np.savez(out, y=pc.value, indptr=w.indptr, indices=w.indices, z=gistar(pc.value, w).z)
    print(pc.units.n)
    """)

# The anchor: esda's G_Local call alone (W built from the same sparse matrix beforehand, not timed).
ESDA = textwrap.dedent("""\
    import json, sys, time, warnings
    warnings.simplefilter("ignore")
    import numpy as np
    from scipy import sparse
    import esda, libpysal
    d = np.load(sys.argv[1])
    n = d["y"].size
    w = libpysal.weights.WSP(sparse.csr_matrix((np.ones(d["indices"].size), d["indices"], d["indptr"]), shape=(n, n))).to_W(silence_warnings=True)
    start = time.perf_counter()
    g = esda.getisord.G_Local(d["y"], w, transform="B", star=True, permutations=0)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "cells": int(n), "max_abs_z_difference": float(np.max(np.abs(g.Zs - d["z"])))}))
    """)


def environment(tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "VRP_WORKSPACE")}
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    return env


class Runner:
    """Runs one whole process: (wall seconds, CPU seconds of the child, stdout)."""

    def __init__(self, env: dict):
        self.env = env

    def __call__(self, argv: list[str]) -> tuple[float, float, str]:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, env=self.env, text=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the child is reaped: its CPU is in here
        if proc.returncode:
            raise SystemExit(f"{' '.join(argv[:4])} ... failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return wall, cpu, proc.stdout


def setup(tmp: Path, runner: Runner) -> dict:
    files = sorted(POLICE.glob("*.csv.gz"))
    if len(files) != 12 or not LOOKUP.is_file():
        raise SystemExit(f"needs the Hampshire 2025 files and the LSOA lookup under {SHARED} (set VRP_SHARED_DATA)")
    ws = tmp / "gistar-ws"
    runner([VRP, "init", str(ws)])
    (ws / "definitions" / "policeuk-all.toml").write_text(ALL_TYPES_DEFINITION)
    runner([VRP, "ingest", "reference", "lsoa-lookup", str(LOOKUP), "--workspace", str(ws)])
    runner([VRP, "ingest", "police-uk", str(POLICE), "--workspace", str(ws)])
    weights = tmp / "weights.npz"
    cells = int(runner([PYTHON, "-c", EXPORT, str(ws), str(CELL), str(weights)])[2].split()[-1])
    return {"files": files, "ws": ws, "weights": weights, "cells": cells}


def fresh_workspace(tmp: Path, runner: Runner, k: list[int]) -> Path:
    k[0] += 1
    ws = tmp / f"ingest-ws-{k[0]}"
    runner([VRP, "init", str(ws)])
    return ws


def measure(case: str, ctx: dict, tmp: Path, runner: Runner, k: list[int]) -> tuple[dict, dict]:
    """One run of the command and one of its anchor: ({wall, cpu} for each)."""
    if case == "ingest":
        ws = fresh_workspace(tmp, runner, k)
        ours = lambda: runner([VRP, "ingest", "police-uk", str(POLICE), "--workspace", str(ws)])  # noqa: E731
        anchor = lambda: runner([PYTHON, "-c", DUCKDB_READ, DIALECT, *map(str, ctx["files"])])  # noqa: E731
    elif case == "gistar":
        ours = lambda: runner([VRP, "hotspots", "gistar", "--cell", str(CELL), "--definition", "policeuk-all",  # noqa: E731
                               "--workspace", str(ctx["ws"])])
        anchor = lambda: runner([PYTHON, "-c", ESDA, str(ctx["weights"])])  # noqa: E731
    else:
        argv = [VRP, "--help"] if case == "help" else [VRP, "status", "--workspace", str(ctx["ws"])]
        ours = lambda: runner(argv)  # noqa: E731
        anchor = lambda: runner([PYTHON, "-c", "pass"])  # noqa: E731
    first_anchor = k[1] % 2 == 0
    k[1] += 1
    results = {}
    for name, fn in ([("anchor", anchor), ("vrp", ours)] if first_anchor else [("vrp", ours), ("anchor", anchor)]):
        wall, cpu, out = fn()
        results[name] = {"wall": wall, "cpu": cpu, "out": out}
    if case == "gistar":  # the anchor is the G_Local call alone, as timed inside its process
        info = json.loads(results["anchor"]["out"].strip().splitlines()[-1])
        results["anchor"].update(wall=info["seconds"], cpu=None, z=info["max_abs_z_difference"])
        if not info["max_abs_z_difference"] <= 1e-8:
            raise SystemExit(f"vrp's z-scores differ from esda's by {info['max_abs_z_difference']:g} (> 1e-8)")
    if case == "ingest":
        shutil.rmtree(ws, ignore_errors=True)
    return results["vrp"], results["anchor"]


def anchor_name(case: str) -> str:
    return {"ingest": "DuckDB process reading the files (all_varchar)",
            "gistar": "esda G_Local(star=True, permutations=0) call alone",
            "help": "python -c pass", "status": "python -c pass"}[case]


def command_line(case: str) -> str:
    return {"ingest": "vrp ingest police-uk policeuk-hampshire-street-2025/ (fresh workspace)",
            "gistar": f"vrp hotspots gistar --cell {CELL} --definition policeuk-all",
            "help": "vrp --help", "status": "vrp status"}[case]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", default=",".join(CASES), help="comma-separated: " + ", ".join(CASES))
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    cases = [c for c in args.only.split(",") if c]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        raise SystemExit(f"unknown case {unknown[0]!r} (expected {', '.join(CASES)})")
    tmp = Path(tempfile.mkdtemp(prefix="vrp-bench-commands-"))
    try:
        runner = Runner(environment(tmp))
        ctx = setup(tmp, runner)
        k = [0, 0]
        for case in cases:  # warm-up: bytecode cached, files in the page cache
            measure(case, ctx, tmp, runner, k)
        load_before = os.getloadavg()
        runs = {c: {"vrp": [], "anchor": []} for c in cases}
        for _ in range(args.repeat):
            for case in cases:
                ours, theirs = measure(case, ctx, tmp, runner, k)
                runs[case]["vrp"].append(ours)
                runs[case]["anchor"].append(theirs)
        results = {"date": date.today().isoformat(), "machine": machine(), "repeat": args.repeat,
                   "load_average_before": [round(x, 2) for x in load_before],
                   "load_average_after": [round(x, 2) for x in os.getloadavg()], "cases": {}}
        for case in cases:
            v = statistics.median(r["wall"] for r in runs[case]["vrp"])
            a = statistics.median(r["wall"] for r in runs[case]["anchor"])
            pairs = [r["wall"] / q["wall"] for r, q in zip(runs[case]["vrp"], runs[case]["anchor"])]
            entry = {"command": command_line(case), "anchor": anchor_name(case), "target": TARGETS[case],
                     "vrp_s": round(v, 3), "anchor_s": round(a, 3), "ratio": round(v / a, 2),
                     "median_of_paired_ratios": round(statistics.median(pairs), 2),
                     "vrp_cpu_s": round(statistics.median(r["cpu"] for r in runs[case]["vrp"]), 3),
                     "vrp_runs_s": [round(r["wall"], 3) for r in runs[case]["vrp"]],
                     "anchor_runs_s": [round(r["wall"], 3) for r in runs[case]["anchor"]]}
            if case == "gistar":
                entry["cells"] = ctx["cells"]
                entry["max_abs_z_difference"] = max(r["z"] for r in runs[case]["anchor"])
            results["cases"][case] = entry
        text = json.dumps(results, indent=2)
        print(text)
        if args.json:
            args.json.write_text(text + "\n")
        print(file=sys.stderr)
        for case, e in results["cases"].items():
            print(f"{case:7s} vrp {e['vrp_s']:7.3f} s   anchor {e['anchor_s']:7.3f} s   ratio {e['ratio']:5.2f} "
                  f"(paired {e['median_of_paired_ratios']:5.2f})   target {e['target']}", file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def machine() -> str:
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor()
    return f"{os.cpu_count()} vCPU {model}, Python {platform.python_version()}"


if __name__ == "__main__":
    main()
