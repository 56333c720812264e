"""Benchmark: police.uk ingest end to end against DuckDB merely reading the same CSVs, side by side.

    .venv/bin/python bench/ingest_policeuk.py                 # the 12 Hampshire 2025 files
    .venv/bin/python bench/ingest_policeuk.py --national      # plus ~6 million synthetic rows

The DuckDB side materialises the files as a table of strings (the least any load must do); the
vrp side hashes, checks the header, validates every row, writes Parquet snapshots and registers
them. Each is run `--repeat` times alternately; medians are reported with their ratio. Peak memory
is measured in a child process (ru_maxrss), so runs do not inflate each other.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VRP_SHARED_DATA", ROOT.parent / "shared" / "data"))
DIALECT = "all_varchar = true, header = true, delim = ',', quote = '\"', escape = '\"'"


def duckdb_read(files: list[Path]) -> dict:
    import duckdb

    listing = "[" + ", ".join(f"'{f}'" for f in files) + "]"
    con = duckdb.connect()
    start = time.perf_counter()
    rows = con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv({listing}, {DIALECT})").fetchone()[0]
    return {"seconds": time.perf_counter() - start, "rows": rows}


def vrp_ingest(files: list[Path]) -> dict:
    from vrp.ingest.police_uk import ingest_police_uk
    from vrp.workspace import init_workspace

    with tempfile.TemporaryDirectory() as tmp:
        ws = init_workspace(Path(tmp) / "ws")
        start = time.perf_counter()
        summary = ingest_police_uk(ws, files)
        return {"seconds": time.perf_counter() - start, "rows": summary["rows_in"],
                "loaded": summary["rows_loaded"], "quarantined": summary["rows_quarantined"]}


def in_child(kind: str, files: list[Path]) -> dict:
    """Run one measurement in a fresh process; report its time and peak RSS."""
    out = subprocess.run([sys.executable, __file__, "--child", kind, *map(str, files)], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def child(kind: str, files: list[Path]) -> None:
    result = duckdb_read(files) if kind == "duckdb" else vrp_ingest(files)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def side_by_side(files: list[Path], repeat: int) -> dict:
    duck, ours = [], []
    for _ in range(repeat):
        duck.append(in_child("duckdb", files))
        ours.append(in_child("vrp", files))
    d = statistics.median(r["seconds"] for r in duck)
    v = statistics.median(r["seconds"] for r in ours)
    return {"files": len(files), "rows": ours[0]["rows"], "duckdb_read_s": round(d, 2), "vrp_ingest_s": round(v, 2),
            "ratio": round(v / d, 2), "duckdb_peak_rss_mb": round(max(r["peak_rss_mb"] for r in duck)),
            "vrp_peak_rss_mb": round(max(r["peak_rss_mb"] for r in ours)), "repeat": repeat}


def national_files(folder: Path, forces: int) -> list[Path]:
    """~6 million rows: the Hampshire year re-labelled as `forces` forces, one file per force-month."""
    import duckdb

    src = SHARED / "policeuk-hampshire-street-2025"
    con = duckdb.connect()
    con.execute(f"CREATE TABLE hants AS SELECT * FROM read_csv('{src}/*.csv.gz', {DIALECT})")
    for f in range(forces):
        for month in range(1, 13):
            path = folder / f"2025-{month:02d}-force{f:02d}-street.csv"
            con.execute(f"""COPY (SELECT "Crime ID", "Month", 'Force {f:02d}' AS "Reported by", 'Force {f:02d}' AS "Falls within",
                "Longitude", "Latitude", "Location", "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context"
                FROM hants WHERE "Month" = '2025-{month:02d}') TO '{path}' (HEADER, DELIMITER ',')""")
            yield path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--national", action="store_true", help="also ~6 million synthetic rows (36 forces x 12 months)")
    parser.add_argument("--child", nargs="+")
    args = parser.parse_args()
    if args.child:
        child(args.child[0], [Path(p) for p in args.child[1:]])
        return
    files = sorted((SHARED / "policeuk-hampshire-street-2025").glob("*.csv.gz"))
    results = {"hampshire_2025": side_by_side(files, args.repeat)}
    print(json.dumps(results["hampshire_2025"]), flush=True)
    if args.national:
        with tempfile.TemporaryDirectory() as tmp:
            big = list(national_files(Path(tmp), forces=36))
            results["national_synthetic"] = side_by_side(big, 1)
            print(json.dumps(results["national_synthetic"]), flush=True)


if __name__ == "__main__":
    main()
