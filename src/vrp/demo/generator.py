"""`generate()`: write a whole synthetic partnership's partner files into one folder.

The Wessex Violence Reduction Partnership is fictional (six districts, ~200 LSOAs, one force), but
every file it produces has the exact layout of the real file it stands in for, so the full
pipeline - ingest, quarantine, definitions, reports - can be demonstrated and tested without any
real or personal data. The same seed always gives byte-identical files.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vrp.demo import extract, health, homicides, people, policeuk, reference, truth
from vrp.demo.crimes import SuspectPool, Streets, build_streets, build_suspects, simulate_year
from vrp.demo.geography import Geography, build_geography
from vrp.demo.table import Table, length, take

Progress = Callable[[str, int, int], None]

EXTRACT_NAME = "wessex_crimes_{year}.csv"
MAPPING_NAME = "wessex_mapping.toml"
LOOKUP_NAME = "lsoa21_to_lad.csv"
BOUNDARIES_NAME = "boundaries_lsoa21.geojson"
POPULATION_NAME = "population_census2021.csv"
DEPRIVATION_NAME = "imd2019_lsoa.csv"
POLICE_UK_DIR = "police_uk"
GROUND_TRUTH_NAME = "ground_truth.json"
HOMICIDES_NAME = "homicides.csv"
HOMICIDES_MAPPING_NAME = "homicides_mapping.toml"
ED_NAME = "ed_attendances_{year}.csv"
ED_MAPPING_NAME = "ed_mapping.toml"
ADMISSIONS_NAME = "admissions.csv"

# Sub-streams of the seed: fixed labels, so adding a year never changes another year's data.
_GEOGRAPHY, _STREETS, _SUSPECTS, _DEPRIVATION = 0, 1, 2, 3
_HOMICIDE_FAULTS, _ADMISSIONS = 4, 5      # whole-run streams
_PEOPLE = 6                               # whole-run stream, sub-labelled (seed, 6, part)
_POLICE_UK, _HOMICIDES, _ED = 1, 2, 3     # per-year streams: (seed, year, label)


@dataclass
class DemoManifest:
    """What `generate` wrote, by role, and the data-row count of every file (header excluded)."""

    out_dir: Path
    seed: int
    years: tuple[int, ...]
    extracts: list[Path] = field(default_factory=list)
    mapping: Path | None = None
    lsoa_lookup: Path | None = None
    boundaries: Path | None = None
    population: Path | None = None
    deprivation: Path | None = None
    police_uk: list[Path] = field(default_factory=list)
    homicides: Path | None = None
    homicides_mapping: Path | None = None
    ed_attendances: list[Path] = field(default_factory=list)
    ed_mapping: Path | None = None
    admissions: Path | None = None
    people: list[Path] = field(default_factory=list)  # police, youth justice, education, probation, ED
    people_mapping: Path | None = None                 # the education file's column mapping
    people_truth: Path | None = None                   # record -> true person, and whether it loads
    ground_truth: Path | None = None
    row_counts: dict[str, int] = field(default_factory=dict)  # path relative to out_dir -> rows

    def paths(self) -> list[Path]:
        """Every written file, references first (the order they should be ingested in)."""
        single = [self.lsoa_lookup, self.boundaries, self.population, self.deprivation, self.mapping,
                  self.homicides_mapping, self.ed_mapping, self.people_mapping]
        health = [p for p in [self.homicides, *self.ed_attendances, self.admissions] if p]
        truths = [p for p in [self.people_truth, self.ground_truth] if p]
        return [p for p in single if p] + self.extracts + self.police_uk + health + self.people + truths


def generate(out_dir: Path, seed: int = 42, years: tuple[int, ...] = (2022, 2023, 2024, 2025),
             scale: float = 1.0, progress: Progress | None = None) -> DemoManifest:
    """Write the demo partnership into `out_dir` (created if needed) and return the manifest.

    `scale` multiplies crime volumes (1.0 = ~25,000 crimes a year); the geography is fixed.
    Files of an earlier run with other years are removed from `police_uk/` so the folder can be
    ingested as a whole."""
    years = _check_args(years, scale)
    out_dir = Path(out_dir)
    (out_dir / POLICE_UK_DIR).mkdir(parents=True, exist_ok=True)
    report = _Reporter(progress, total=4 + 3 * len(years))
    manifest = DemoManifest(out_dir=out_dir, seed=seed, years=years)

    report("geography")
    geo = build_geography(_rng(seed, _GEOGRAPHY))
    streets = build_streets(_rng(seed, _STREETS), geo.n)
    suspects = build_suspects(_rng(seed, _SUSPECTS), geo, scale)
    _write_reference(manifest, geo, seed)
    _write_health_mappings(manifest)

    gt = truth.header(seed, scale, years, geo)
    gt |= {"extracts": {}, "bad_rows": {}, "confirmed_counts": {}, "knife_yes_counts": {},
           "subcode_tag_counts": {}, "monthly_confirmed": {}, "police_uk": {}}
    health_gt = {"homicides": {}, "ed_attendances": {"files": {}, "faults": {}, "weapon_counts": {}, "no_lsoa": {}},
                 "admissions": {}, "measure_counts": {}}
    suspect_lists, victims, attendances, police_years = [], [], [], []
    for year in years:
        report(f"crimes {year}")
        good = _write_year(manifest, gt, geo, seed, year, scale, streets, suspects, police_years)
        suspect_lists.append(good["suspects"][good["status"] == "Confirmed"])
        health_gt["measure_counts"][str(year)] = truth.measure_counts(good, geo)
        report(f"police.uk {year}")
        _write_policeuk_year(manifest, gt, geo, streets, seed, year, good)
        report(f"ED {year}")
        confirmed = take(good, good["status"] == "Confirmed")
        victims.append(homicides.simulate_year(_rng(seed, year, _HOMICIDES), confirmed, year))
        attendances.append(_write_ed_year(manifest, health_gt["ed_attendances"], geo, streets, seed, year, confirmed))

    report("homicides and admissions")
    _write_homicides(manifest, health_gt, geo, seed, years, victims)
    _write_admissions(manifest, health_gt, geo, seed, years, attendances)
    report("people")
    people_gt = _write_people(manifest, geo, streets, suspects, seed, years, police_years, attendances)
    report("ground truth")
    _remove_stale_policeuk(manifest)
    _remove_stale_ed(manifest)
    gt["prolific_suspects"] = truth.prolific_suspects(suspect_lists)
    gt |= health_gt
    gt["people"] = people_gt
    gt["files"] = dict(sorted(manifest.row_counts.items()))
    manifest.ground_truth = out_dir / GROUND_TRUTH_NAME
    manifest.ground_truth.write_text(json.dumps(gt, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    report("done")
    return manifest


def _check_args(years: tuple[int, ...], scale: float) -> tuple[int, ...]:
    years = tuple(sorted({int(y) for y in years}))
    if not years or years[0] < 2000 or years[-1] > 2100:
        raise ValueError(f"years must be a non-empty set of calendar years, got {years!r}")
    if not 0 < scale <= 20:
        raise ValueError(f"scale must be in (0, 20], got {scale!r}")
    return years


def _rng(seed: int, *stream: int) -> np.random.Generator:
    """An independent generator for one named part of the data, derived from the seed."""
    return np.random.default_rng([seed, *stream])


def _write_reference(manifest: DemoManifest, geo: Geography, seed: int) -> None:
    out = manifest.out_dir
    manifest.lsoa_lookup = out / LOOKUP_NAME
    manifest.boundaries = out / BOUNDARIES_NAME
    manifest.population = out / POPULATION_NAME
    manifest.deprivation = out / DEPRIVATION_NAME
    manifest.mapping = out / MAPPING_NAME
    counts = manifest.row_counts
    counts[LOOKUP_NAME] = reference.write_lookup(geo, manifest.lsoa_lookup)
    counts[BOUNDARIES_NAME] = reference.write_boundaries(geo, manifest.boundaries)
    counts[POPULATION_NAME] = reference.write_population(geo, manifest.population)
    counts[DEPRIVATION_NAME] = reference.write_deprivation(_rng(seed, _DEPRIVATION), geo,
                                                           manifest.deprivation)
    manifest.mapping.write_text(extract.MAPPING_TOML, encoding="utf-8")


def _write_year(manifest: DemoManifest, gt: dict, geo: Geography, seed: int, year: int, scale: float,
                streets: Streets, suspects: SuspectPool, police_years: list[people.PoliceYear]) -> Table:
    """Simulate and write one extract; record its truth; return its valid (unfaulted) rows and keep
    every row (with which ones load) in `police_years` for the person-level files."""
    rng = _rng(seed, year)
    crimes = simulate_year(rng, year, scale, geo, streets, suspects)
    extract.assign_refs(crimes, year)
    bad = extract.choose_bad_rows(rng, crimes)
    table = extract.format_extract(rng, crimes, bad, year)
    name = EXTRACT_NAME.format(year=year)
    path = manifest.out_dir / name
    rows = extract.write_extract(table, path)
    manifest.extracts.append(path)
    manifest.row_counts[name] = rows

    records = extract.bad_row_records(bad, crimes, table)
    is_good = np.ones(rows, dtype=bool)
    is_good[[row for row, _, _ in bad]] = False
    good = take(crimes, is_good)
    police_years.append(people.PoliceYear(crimes, is_good))
    counts = truth.counts_by_district(good, geo)
    gt["extracts"][name] = truth.extract_summary(rows, records, crimes)
    gt["bad_rows"][name] = records
    gt["confirmed_counts"][str(year)] = counts["offences"]
    gt["knife_yes_counts"][str(year)] = counts["knife_yes"]
    gt["subcode_tag_counts"][str(year)] = counts["subcode_tags"]
    gt["monthly_confirmed"] |= truth.monthly_confirmed(good)
    return good


def _write_policeuk_year(manifest: DemoManifest, gt: dict, geo: Geography, streets: Streets, seed: int,
                         year: int, good: Table) -> None:
    """Monthly police.uk files for the year's confirmed valid crimes."""
    rng = _rng(seed, year, _POLICE_UK)
    confirmed = take(good, good["status"] == "Confirmed")
    rows = policeuk.published_rows(rng, confirmed, geo, streets)
    folder = manifest.out_dir / POLICE_UK_DIR
    for name, frame in policeuk.write_month_files(rows, folder).items():
        manifest.police_uk.append(folder / name)
        manifest.row_counts[f"{POLICE_UK_DIR}/{name}"] = length(frame)
        gt["police_uk"][name] = truth.policeuk_summary(frame)


def _write_health_mappings(manifest: DemoManifest) -> None:
    """The column mappings for the homicide and ED files (the admissions file has canonical headers)."""
    manifest.homicides_mapping = manifest.out_dir / HOMICIDES_MAPPING_NAME
    manifest.homicides_mapping.write_text(homicides.MAPPING_TOML, encoding="utf-8")
    manifest.ed_mapping = manifest.out_dir / ED_MAPPING_NAME
    manifest.ed_mapping.write_text(health.MAPPING_TOML, encoding="utf-8")


def _write_ed_year(manifest: DemoManifest, ed_gt: dict, geo: Geography, streets: Streets, seed: int, year: int,
                   confirmed: Table) -> Table:
    """The year's ED attendance file (both sites) with 1-2 faulty rows; returns every attendance."""
    rng = _rng(seed, year, _ED)
    table = health.simulate_year(rng, confirmed, geo, streets, year)
    bad = health.choose_bad_rows(rng, length(table))
    name = ED_NAME.format(year=year)
    path = manifest.out_dir / name
    rows, records = health.write_file(table, geo, bad, year, path)
    manifest.ed_attendances.append(path)
    manifest.row_counts[name] = rows
    is_good = np.ones(rows, dtype=bool)
    is_good[[row for row, _, _ in bad]] = False
    valid = take(table, is_good)
    ed_gt["files"][name] = {"rows": rows, "bad_rows": len(records), "good_rows": int(is_good.sum()),
                            "linked_to_crimes": int((valid["crime_ref"] != "").sum()),
                            "no_lsoa": int((~valid["lsoa_written"]).sum())}
    ed_gt["faults"][name] = records
    ed_gt["weapon_counts"][str(year)], ed_gt["no_lsoa"][str(year)] = truth.ed_counts(valid, geo, health.WEAPONS)
    return table


def _write_homicides(manifest: DemoManifest, gt: dict, geo: Geography, seed: int, years: tuple[int, ...],
                     victims: list[Table]) -> None:
    """One homicide file for all years: the victims of the extracts' homicides."""
    allv = {k: np.concatenate([v[k] for v in victims]) for k in victims[0]}
    manifest.homicides = manifest.out_dir / HOMICIDES_NAME
    rows, records = homicides.write_file(_rng(seed, _HOMICIDE_FAULTS), allv, years, geo.code, manifest.homicides)
    manifest.row_counts[HOMICIDES_NAME] = rows
    gt["homicides"] = {"file": HOMICIDES_NAME, "rows": rows, "bad_rows": len(records), "good_rows": length(allv),
                       "faults": records, "crime_refs": [str(r) for r in allv["crime_ref"].tolist()],
                       "counts": truth.homicide_counts(allv, geo, years)}


def _write_admissions(manifest: DemoManifest, gt: dict, geo: Geography, seed: int, years: tuple[int, ...],
                      attendances: list[Table]) -> None:
    """Admission aggregates for the financial years wholly inside the generated years."""
    every = {k: np.concatenate([a[k] for a in attendances]) for k in attendances[0]}
    cells = health.admission_cells(every, geo, years)
    manifest.admissions = manifest.out_dir / ADMISSIONS_NAME
    rows, suppressed, bad = health.write_admissions(_rng(seed, _ADMISSIONS), cells, manifest.admissions)
    manifest.row_counts[ADMISSIONS_NAME] = rows
    gt["admissions"] = {"file": ADMISSIONS_NAME, "rows": rows, "cells": len(cells), "bad_rows": len(bad), "faults": bad,
                        "financial_years": [health.fy_label(y) for y in health.financial_years(years)],
                        "suppressed_cells": suppressed, "counts": truth.admission_counts(cells, suppressed)}


def _write_people(manifest: DemoManifest, geo: Geography, streets: Streets, suspects: SuspectPool, seed: int,
                  years: tuple[int, ...], police_years: list[people.PoliceYear], attendances: list[Table]) -> dict:
    """The five person-level partner files, the education mapping and people_truth.csv; returns the
    "people" section of the ground truth."""
    result = people.write_people(manifest.out_dir, lambda *part: _rng(seed, _PEOPLE, *part), geo, streets,
                                 suspects, police_years, attendances, years)
    for f in result.files:
        manifest.people.append(manifest.out_dir / f.name)
        manifest.row_counts[f.name] = f.rows
    manifest.people_mapping = manifest.out_dir / people.EDUCATION_MAPPING_NAME
    manifest.people_truth = manifest.out_dir / people.TRUTH_NAME
    manifest.row_counts[people.TRUTH_NAME] = result.truth_rows
    return result.ground_truth


def _remove_stale_ed(manifest: DemoManifest) -> None:
    """Delete ED files a previous run (with other years) left behind."""
    keep = set(manifest.ed_attendances)
    for path in manifest.out_dir.glob("ed_attendances_*.csv"):
        if path not in keep:
            path.unlink()


def _remove_stale_policeuk(manifest: DemoManifest) -> None:
    """Delete month files a previous run (with other years) left behind."""
    keep = set(manifest.police_uk)
    for path in (manifest.out_dir / POLICE_UK_DIR).glob("*-wessex-street.csv"):
        if path not in keep:
            path.unlink()


class _Reporter:
    """Calls `progress(stage, done, total)` as each stage starts (and once more when finished)."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0

    def __call__(self, stage: str) -> None:
        if self.progress:
            self.progress(stage, min(self.done, self.total), self.total)
        self.done += 1
