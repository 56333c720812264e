"""Benchmark: the whole Strategic Needs Assessment for HIPS from a year of real data.

    .venv/bin/python bench/sna.py --repeat 3

Builds (once, cached under build/bench-sna-hips) a workspace holding Hampshire's 2025 police.uk
files, the ONS LSOA lookup (2011 and 2021) and LSOA 2021 boundaries, and Census 2021 population
from ../shared/data (or $VRP_SHARED_DATA). Then, in fresh processes, it times `vrp sna` end to
end (start-up, assembling, maps, 29 figures, 15 HTML pages and the PDF) against the target of one
minute on the 2-core machine, reports the median with its ratio to the target and peak RSS, checks
that every run wrote byte-identical HTML, and times the phases once in-process.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VRP_SHARED_DATA", ROOT.parent / "shared" / "data"))
TARGET = 60.0


def build() -> Path:
    base = ROOT / "build" / "bench-sna-hips"
    ws = base / "workspace"
    if (base / ".built").exists():
        return ws
    geo = SHARED / "geo-hips"
    vrp = [sys.executable, "-m", "vrp"]
    w = ["--workspace", str(ws)]
    steps = [["init", str(ws), "--name", "Hampshire and Isle of Wight Violence Reduction Partnership"],
             ["ingest", "reference", "lsoa-lookup", str(geo / "hips_lsoa21_to_lad.csv"), *w],
             ["ingest", "reference", "lsoa-lookup", str(geo / "hips_lsoa11_to_lad.csv"), *w],
             ["ingest", "reference", "boundaries", str(geo / "hips_lsoa21.geojson"), *w],
             ["ingest", "reference", "population",
              str(SHARED / "ons-census2021-lsoa-age" / "census2021_lsoa21_usual_residents_by_age6.csv.gz"), *w],
             ["ingest", "police-uk", str(SHARED / "policeuk-hampshire-street-2025"), *w]]
    for step in steps:
        subprocess.run([*vrp, *step], check=True, stdout=subprocess.DEVNULL)
    (base / ".built").touch()
    return ws


def run_once(ws: Path, out: Path) -> tuple[float, float, float, dict]:
    """Wall seconds, CPU seconds (user + system: unaffected by time the virtual machine's host
    takes away, which on a shared 2-core machine can double the wall time), peak RSS, paths."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    before, cpu_before = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "vrp", "sna", "--out", str(out), "--from", "2025-01", "--to", "2025-12",
                           "--workspace", str(ws), "--json"], check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = max(before, usage.ru_maxrss) / 1024
    return seconds, usage.ru_utime + usage.ru_stime - cpu_before, peak, json.loads(done.stdout)


def html_digest(out: Path) -> str:
    digest = hashlib.sha256()
    for page in sorted(out.rglob("*.html")):
        digest.update(page.relative_to(out).as_posix().encode() + page.read_bytes())
    return digest.hexdigest()


def phases(ws: Path) -> list[tuple[str, float]]:
    """Seconds spent before each step label of one in-process run."""
    from vrp.reports.write import write_sna
    from vrp.workspace import open_workspace

    marks, start = [], time.perf_counter()
    write_sna(open_workspace(ws), ROOT / "build" / "bench-sna-hips" / "phases", "2025-01", "2025-12",
              step=lambda label: marks.append((label, time.perf_counter() - start)))
    marks.append(("(end)", time.perf_counter() - start))
    return marks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not SHARED.is_dir():
        raise SystemExit(f"shared data not found at {SHARED} (set VRP_SHARED_DATA)")
    ws = build()
    times, cpus, peaks, digests = [], [], [], set()
    for k in range(args.repeat):
        out = ROOT / "build" / "bench-sna-hips" / f"run{k}"
        seconds, cpu, peak, paths = run_once(ws, out)
        times.append(seconds)
        cpus.append(cpu)
        peaks.append(peak)
        digests.add(html_digest(out))
        print(f"run {k + 1}: {seconds:.1f} s wall, {cpu:.1f} s CPU, peak RSS {peak:.0f} MB, "
              f"{len(paths['districts'])} district chapters, PDF {paths['pdf_pages']} pages", flush=True)
    median = statistics.median(times)
    print(f"\nvrp sna, HIPS 2025 police.uk: median {median:.1f} s wall of {args.repeat} (min {min(times):.1f}, "
          f"max {max(times):.1f}), median {statistics.median(cpus):.1f} s CPU; target {TARGET:.0f} s, "
          f"ratio {median / TARGET:.2f}; peak RSS {max(peaks):.0f} MB")
    print(f"HTML byte-identical across runs: {'yes' if len(digests) == 1 else 'NO'}")
    print("\nphases (one in-process run, seconds from the start):")
    previous = 0.0
    for label, at in phases(ws):
        print(f"  {at:6.1f}  (+{at - previous:4.1f})  {label}")
        previous = at


if __name__ == "__main__":
    main()
