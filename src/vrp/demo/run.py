"""`make demo`: the main job on built-in demo data, through the same commands a user runs.

generate demo partner files -> init a workspace -> ingest reference data, force extracts, homicide
records, ED assault attendances, hospital admissions and police.uk files -> classify -> quality
report -> summary counts -> outcome measures (analyst and partner tiers), SPC data and charts ->
hotspots (selection as GeoPackage, Gi* for every cell, concentration, forecast backtest,
stability, near repeats) -> person-level files from five agencies -> linkage into person ids
(checked against the ground truth) -> safeguarded cohorts (aggregates, one audited list read) ->
the audit log -> the Strategic Needs Assessment (HTML and PDF) with the analyst's recommendations.
Prints where everything is.
"""
from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path


def vrp(*args: str, capture: bool = False) -> str:
    command = [sys.executable, "-m", "vrp", *args]
    print(f"\n$ vrp {' '.join(shlex.quote(a) for a in args)}", flush=True)
    result = subprocess.run(command, check=False, text=True, capture_output=capture)
    if result.returncode != 0:
        if capture:
            sys.stderr.write(result.stderr)
        raise SystemExit(f"demo stopped: `vrp {args[0]}` failed (exit {result.returncode})")
    return result.stdout if capture else ""


def save(out: Path, name: str, *args: str) -> Path:
    path = out / name
    path.write_text(vrp(*args, "--json", capture=True))
    print(f"  -> {path}")
    return path


def main(base: Path) -> None:
    base = base.resolve()
    files, ws, out = base / "partner-files", base / "workspace", base / "outputs"
    out.mkdir(parents=True, exist_ok=True)
    manifest = json.loads(vrp("demo-data", str(files), "--seed", "42", "--json", capture=True))
    vrp("init", str(ws), "--name", "Wessex Violence Reduction Partnership")
    w = ["--workspace", str(ws)]
    vrp("ingest", "reference", "lsoa-lookup", manifest["lsoa_lookup"], *w)
    vrp("ingest", "reference", "boundaries", manifest["boundaries"], *w)
    vrp("ingest", "reference", "population", manifest["population"], *w)
    vrp("ingest", "reference", "deprivation", manifest["deprivation"], *w)
    vrp("ingest", "police-extract", *manifest["extracts"], "--mapping", manifest["mapping"], *w)
    vrp("ingest", "homicides", manifest["homicides"], "--mapping", manifest["homicides_mapping"], *w)
    vrp("ingest", "ed-attendances", *manifest["ed_attendances"], "--mapping", manifest["ed_mapping"], *w)
    vrp("ingest", "admissions", manifest["admissions"], *w)
    vrp("ingest", "police-uk", str(Path(manifest["police_uk"][0]).parent), *w)
    vrp("classify", *w, "--definition", "hips-sv", "--definition", "ho-knife-enabled", "--definition", "ho-homicide")
    vrp("quality", *w)
    vrp("counts", "--by", "year,district", "--definition", "hips-sv", *w)
    vrp("measures", "show", "--measure", "L1", "--measure", "K2", *w)
    vrp("measures", "chart", "--measure", "L1", "--out", str(out / "charts"), *w)
    save(out, "status.json", "status", *w)
    save(out, "quality.json", "quality", *w)
    save(out, "classification.json", "classify", *w)
    save(out, "counts_hips_sv_by_district_year.json", "counts", "--by", "district,year", "--definition", "hips-sv", *w)
    save(out, "counts_by_offence_code.json", "counts", "--by", "offence_code", "--dataset", "crimes", *w)
    save(out, "measures_by_district_analyst.json", "measures", "show", "--measure", "all", *w)
    save(out, "measures_by_district_partner.json", "measures", "show", "--measure", "all", "--tier", "partner", *w)
    save(out, "spc_l1_partnership.json", "measures", "spc", "--measure", "L1", *w)
    year = ["--from", "2025-01", "--to", "2025-12", "--cell", "250"]
    vrp("hotspots", "select", "--n", "20", *year, "--out", str(out / "hotspots_2025.gpkg"), *w)
    vrp("hotspots", "gistar", *year, "--out", str(out / "gistar_2025.csv"), *w)
    vrp("hotspots", "concentration", *year, *w)
    vrp("hotspots", "backtest", "--train-from", "2025-01", "--train-to", "2025-09", "--test-from", "2025-10",
        "--test-to", "2025-12", "--cell", "250", "--coverage", "0.02", *w)
    save(out, "hotspots_2025.json", "hotspots", "select", "--n", "20", *year, *w)
    save(out, "hotspot_stability.json", "hotspots", "stability", "--from", "2024-01", "--to", "2025-12",
         "--period-months", "6", "--top", "0.01", "--cell", "250", *w)
    save(out, "near_repeats_2025.json", "hotspots", "knox", "--from", "2025-01", "--to", "2025-12",
         "--space-bands", "0,100,200,400", "--time-bands", "0,7,14,28", *w)
    for path in manifest["people"]:
        mapping = ["--mapping", manifest["people_mapping"]] if Path(path).stem == "people_education" else []
        vrp("ingest", "people", Path(path).stem, path, *mapping, *w)
    links = json.loads(save(out, "person_links.json", "link", "partners", "--purpose", "demo: link partner records",
                            "--as-at", "2025-12-31", "--truth", manifest["people_truth"], *w).read_text())
    q = links["quality"]["pairwise"]
    print(f"  {links['records']:,} records -> {links['people']:,} people; against the ground truth: precision "
          f"{q['precision']:.4f}, recall {q['recall']:.4f}, F1 {q['f1']:.4f}")
    vrp("cohorts", "build", "--as-at", "2025-12-31", *w)
    save(out, "cohorts_partner_tier.json", "cohorts", "summary", "--tier", "partner", *w)
    vrp("cohorts", "show", "hkc", "--purpose", "demo: multi-agency knife crime panel", *w)
    vrp("audit", *w)
    recommendations = ws / "sna" / "recommendations.md"
    recommendations.parent.mkdir(exist_ok=True)
    recommendations.write_text(RECOMMENDATIONS, encoding="utf-8")
    report = json.loads(vrp("sna", "--out", str(out / "sna"), *w, "--json", capture=True))
    print(f"\nDemo finished.\n  partner files: {files}\n  workspace:     {ws}  (try: vrp status --workspace {ws})\n"
          f"  outputs:       {out}\n\nStrategic Needs Assessment:\n  HTML: {report['index']}\n"
          f"        {len(report['districts'])} district chapters in {Path(report['index']).parent / 'districts'}\n"
          f"  PDF:  {report['pdf']} ({report['pdf_pages']} pages)")


# What an analyst writes in WORKSPACE/sna/recommendations.md; `vrp sna` merges it into the report.
RECOMMENDATIONS = """\
These recommendations are the demo analyst's, written in `sna/recommendations.md` in the workspace
and merged into the report by `vrp sna`.

1. **Focus place-based work on the persistent hotspot cells** listed in each district chapter:
   agree patrol dosage with police tasking and review it against the next quarter's figures.
2. **Commission detached youth work where victims under 25 are concentrated**, and review the
   under-25 share each quarter against this assessment's baseline.
3. **Close the data gaps named in this report**: agree sharing of ED (ISTV) data from every
   department and a routine person-level extract for the cohort work.
"""


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "build/demo"))
