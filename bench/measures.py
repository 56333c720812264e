"""Benchmark: every shipped measure for every district and month over five years of demo data.

    .venv/bin/python bench/measures.py                # ~1 million crimes (scale 8, 2021-2025)
    .venv/bin/python bench/measures.py --scale 1      # a quick run

Builds (once, cached under build/bench-measures-<scale>) a demo partnership with five years of
force extracts and the health and homicide files, then, in fresh processes, times:

* vrp: `measure_rows(all measures, by district, by month)`: numerators, coverage, populations,
  exact intervals and a conditional test for every district-month, with provenance on each row;
  and the same for `--tier partner`, which adds disclosure control over the LSOA hierarchy;
* DuckDB alone: the bare numerator counts of the same measures (one GROUP BY district, month per
  measure over the same lake views), the least any implementation must do.

Medians of `--repeat` alternating runs are reported with their ratio; peak RSS per process.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build(scale: float) -> Path:
    """Generate and ingest the demo partnership (skipped when already built)."""
    base = ROOT / "build" / f"bench-measures-{scale:g}"
    ws = base / "workspace"
    if (base / ".built").exists():
        return ws
    from vrp.demo import generate

    files = base / "partner-files"
    manifest = generate(files, seed=11, years=(2021, 2022, 2023, 2024, 2025), scale=scale)
    vrp = [sys.executable, "-m", "vrp"]
    w = ["--workspace", str(ws)]
    steps = [["init", str(ws), "--name", "Wessex Violence Reduction Partnership"],
             ["ingest", "reference", "lsoa-lookup", manifest.lsoa_lookup, *w],
             ["ingest", "reference", "population", manifest.population, *w],
             ["ingest", "police-extract", *manifest.extracts, "--mapping", manifest.mapping, *w],
             ["ingest", "homicides", manifest.homicides, "--mapping", manifest.homicides_mapping, *w],
             ["ingest", "ed-attendances", *manifest.ed_attendances, "--mapping", manifest.ed_mapping, *w],
             ["ingest", "admissions", manifest.admissions, *w],
             ["ingest", "police-uk", str(Path(manifest.police_uk[0]).parent), *w]]
    for step in steps:
        subprocess.run([*vrp, *map(str, step)], check=True, stdout=subprocess.DEVNULL)
    (base / ".built").write_text("ok\n")
    return ws


def run_vrp(ws: Path, tier: str) -> dict:
    from vrp.measures.report import measure_rows
    from vrp.workspace import open_workspace

    workspace = open_workspace(ws)
    start = time.perf_counter()
    rows = measure_rows(workspace, ["all"], "district", "month", tier=tier)
    return {"seconds": time.perf_counter() - start, "rows": len(rows),
            "measures": len({r["measure"] for r in rows})}


def run_duckdb(ws: Path) -> dict:
    """The bare numerators: one GROUP BY district, month per measure, over the same lake views."""
    from vrp.definitions import is_match_sql
    from vrp.lake.read import loaded_datasets
    from vrp.measures.catalogue import workspace_measures
    from vrp.query import open_lake
    from vrp.workspace import open_workspace

    workspace = open_workspace(ws)
    con = open_lake(workspace)
    loaded = loaded_datasets(con)
    start = time.perf_counter()
    rows = 0
    for m in workspace_measures(workspace).values():
        if m.dataset not in loaded:
            continue
        match = is_match_sql(m.definition)
        if m.dataset == "admissions":
            sql = f"SELECT area_code, period_start, sum(count) FROM admissions WHERE {match} GROUP BY ALL"
        else:
            sql = f"SELECT district_code, month, count(*) FROM {m.dataset}_enriched WHERE {match} GROUP BY ALL"
        rows += len(con.execute(sql).fetchall())
    return {"seconds": time.perf_counter() - start, "rows": rows}


def crimes_in(ws: Path) -> int:
    from vrp.query import open_lake
    from vrp.workspace import open_workspace

    return open_lake(open_workspace(ws)).execute("SELECT count(*) FROM crimes").fetchone()[0]


def in_child(kind: str, ws: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, str(ws)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def child(kind: str, ws: Path) -> None:
    result = run_duckdb(ws) if kind == "duckdb" else run_vrp(ws, kind.removeprefix("vrp-"))
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=8.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    ws = build(args.scale)
    runs = {"duckdb": [], "vrp-analyst": [], "vrp-partner": []}
    for _ in range(args.repeat):
        for kind in runs:
            runs[kind].append(in_child(kind, ws))
    median = {k: statistics.median(r["seconds"] for r in v) for k, v in runs.items()}
    print(json.dumps({
        "crimes": crimes_in(ws), "scale": args.scale, "repeat": args.repeat,
        "measures": runs["vrp-analyst"][0]["measures"], "rows": runs["vrp-analyst"][0]["rows"],
        "duckdb_numerators_s": round(median["duckdb"], 2),
        "vrp_analyst_s": round(median["vrp-analyst"], 2), "vrp_partner_s": round(median["vrp-partner"], 2),
        "ratio_analyst": round(median["vrp-analyst"] / median["duckdb"], 1),
        "ratio_partner": round(median["vrp-partner"] / median["duckdb"], 1),
        "peak_rss_mb": {k: round(max(r["peak_rss_mb"] for r in v)) for k, v in runs.items()},
    }, indent=2))


if __name__ == "__main__":
    main()
