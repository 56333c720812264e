"""The synthetic Wessex partnership: deterministic, in the real layouts, and true to its ground truth.

Most checks re-read the written files with the csv module and recompute what the ground truth
claims, so they test the files a user would ingest, not the generator's internal arrays.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import json
import re
import time
import tomllib
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from pyproj import Transformer

from vrp.demo import DemoManifest, generate
from vrp.demo import offences as off

POLICE_UK_HEADER = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
                    "LSOA name,Crime type,Last outcome category,Context")
EXTRACT_HEADER = ("Occurrence Number,Date Recorded,Committed From,Committed To,HO Class,HO Subclass,"
                  "Offence,Knife/Sharp Instrument,Firearm,DA Flag,Victim Age,Victim Sex,Easting,"
                  "Northing,Latitude,Longitude,LSOA,Location Type,Status,Victim URN,Suspect URNs")
IMD_HEADER = ("lsoa11_code,lsoa11_name,lad19_code,lad19_name,index_of_multiple_deprivation_imd_rank,"
              "income_rank,employment_rank,education_skills_and_training_rank,"
              "health_deprivation_and_disability_rank,crime_rank,barriers_to_housing_and_services_rank,"
              "living_environment_rank,index_of_multiple_deprivation_imd_decile,income_decile,"
              "employment_decile,education_skills_and_training_decile,"
              "health_deprivation_and_disability_decile,crime_decile,"
              "barriers_to_housing_and_services_decile,living_environment_decile")
AGE_GROUPS = ["Aged 15 years and under", "Aged 16 to 24 years", "Aged 25 to 34 years",
              "Aged 35 to 49 years", "Aged 50 to 64 years", "Aged 65 years and over"]
POLICE_UK_TYPES = {
    "Anti-social behaviour", "Bicycle theft", "Burglary", "Criminal damage and arson", "Drugs",
    "Other crime", "Other theft", "Possession of weapons", "Public order", "Robbery", "Shoplifting",
    "Theft from the person", "Vehicle crime", "Violence and sexual offences",
}
FORCE = "Wessex Constabulary"
SMALL = {"seed": 7, "years": (2023, 2024), "scale": 0.1}


# ---------------------------------------------------------------- fixtures and readers

@pytest.fixture(scope="module")
def full(tmp_path_factory) -> tuple[DemoManifest, float]:
    """The default run (seed 42, 2022-2025, scale 1), timed."""
    start = time.perf_counter()
    manifest = generate(tmp_path_factory.mktemp("demo_full"))
    return manifest, time.perf_counter() - start


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> DemoManifest:
    return generate(tmp_path_factory.mktemp("demo_small"), **SMALL)


def read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def ground_truth(manifest: DemoManifest) -> dict:
    return json.loads(manifest.ground_truth.read_text(encoding="utf-8"))


def mapping(manifest: DemoManifest) -> dict:
    return tomllib.loads(manifest.mapping.read_text(encoding="utf-8"))


def normalise_code(raw: str) -> str:
    code = raw.strip().upper().replace("/", ".")
    return re.sub(r"^0+(?=\d)", "", code)


def known_codes() -> set[str]:
    return set(off.CODES)


def fault_of(row: dict[str, str], cols: dict[str, str], fmt: dict) -> str | None:
    """An independent re-implementation of the extract checks the planted faults must trip.
    Valid rows get their parsed dates stored under "_recorded", "_from" and "_to"."""
    if not row[cols["crime_ref"]].strip():
        return "crime_ref"
    try:
        recorded = datetime.strptime(row[cols["recorded_date"]], fmt["date_format"])
    except ValueError:
        return "recorded_date"
    if normalise_code(row[cols["offence_code"]]) not in known_codes():
        return "offence_code"
    for field in ("easting", "northing", "latitude", "longitude"):
        value = row[cols[field]].strip()
        if value:
            try:
                float(value)
            except ValueError:
                return field
    age = row[cols["victim_age"]].strip()
    if age and not (age.isdigit() and 0 <= int(age) <= 120):
        return "victim_age"
    start, end = (row[cols[f]].strip() for f in ("committed_from", "committed_to"))
    start_t = datetime.strptime(start, fmt["datetime_format"]) if start else None
    end_t = datetime.strptime(end, fmt["datetime_format"]) if end else None
    if start_t and (start_t.date() > recorded.date() or (end_t and start_t > end_t)):
        return "committed_from"
    if end_t and end_t.date() > recorded.date():
        return "committed_to"
    row["_recorded"], row["_from"], row["_to"] = recorded, start_t, end_t
    return None


@pytest.fixture(scope="module")
def full_extracts(full) -> dict[str, dict]:
    """Per extract file: good rows, bad (line, field) pairs, read back from the CSV."""
    manifest, _ = full
    m = mapping(manifest)
    out = {}
    for path in manifest.extracts:
        header, rows = read_rows(path)
        good, bad = [], []
        for line, row in enumerate(rows, start=2):
            fault = fault_of(row, m["columns"], m)
            (bad.append((line, fault)) if fault else good.append(row))
        out[path.name] = {"header": header, "rows": rows, "good": good, "bad": bad}
    return out


def lookup(manifest: DemoManifest) -> dict[str, dict[str, str]]:
    _, rows = read_rows(manifest.lsoa_lookup)
    return {r["LSOA21CD"]: r for r in rows}


# ---------------------------------------------------------------- determinism and manifest

def file_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_files(small, tmp_path):
    again = generate(tmp_path / "again", **SMALL)
    assert file_bytes(again.out_dir) == file_bytes(small.out_dir)


def test_different_seed_gives_different_files(small, tmp_path):
    other = generate(tmp_path / "other", **{**SMALL, "seed": 8})
    first, second = file_bytes(small.out_dir), file_bytes(other.out_dir)
    assert first.keys() == second.keys()
    for name in ("wessex_crimes_2024.csv", "boundaries_lsoa21.geojson", "population_census2021.csv",
                 "police_uk/2024-06-wessex-street.csv", "ground_truth.json"):
        assert first[name] != second[name], name


def test_a_year_is_the_same_whichever_other_years_are_generated(small, tmp_path):
    alone = generate(tmp_path / "alone", seed=SMALL["seed"], years=(2024,), scale=SMALL["scale"])
    for name in ["wessex_crimes_2024.csv", "police_uk/2024-03-wessex-street.csv"]:
        assert (alone.out_dir / name).read_bytes() == (small.out_dir / name).read_bytes()
    assert not (alone.out_dir / "wessex_crimes_2023.csv").exists()


def test_rerun_with_fewer_years_removes_stale_police_uk_months(tmp_path):
    generate(tmp_path, seed=1, years=(2023, 2024), scale=0.02)
    manifest = generate(tmp_path, seed=1, years=(2024,), scale=0.02)
    on_disk = sorted(p.name for p in (tmp_path / "police_uk").iterdir())
    assert on_disk == sorted(p.name for p in manifest.police_uk)
    assert all(name.startswith("2024-") for name in on_disk) and len(on_disk) == 12


def test_manifest_lists_every_written_file_with_its_row_count(small):
    on_disk = {p for p in small.out_dir.rglob("*") if p.is_file()}
    assert set(small.paths()) == on_disk
    assert [p.name for p in small.extracts] == ["wessex_crimes_2023.csv", "wessex_crimes_2024.csv"]
    assert len(small.police_uk) == 24
    for rel, rows in small.row_counts.items():
        path = small.out_dir / rel
        if path.suffix == ".csv":
            assert len(read_rows(path)[1]) == rows, rel
    features = json.loads(small.boundaries.read_text())["features"]
    assert small.row_counts["boundaries_lsoa21.geojson"] == len(features)
    assert ground_truth(small)["files"] == small.row_counts


def test_progress_reports_every_stage_and_finishes(tmp_path):
    calls = []
    generate(tmp_path, years=(2024,), scale=0.02, progress=lambda s, d, t: calls.append((s, d, t)))
    assert [d for _, d, _ in calls] == sorted(d for _, d, _ in calls)
    assert calls[-1][1] == calls[-1][2] and calls[0][1] == 0
    assert {"geography", "crimes 2024", "police.uk 2024"} <= {s for s, _, _ in calls}


@pytest.mark.parametrize("kwargs", [{"years": ()}, {"scale": 0}, {"scale": -1}, {"years": (1850,)}])
def test_rejects_nonsense_arguments(tmp_path, kwargs):
    with pytest.raises(ValueError):
        generate(tmp_path, **kwargs)


def test_default_scale_is_realistic_and_fast(full):
    manifest, seconds = full
    assert seconds < 20  # ~4 s on a laptop; generous for a loaded CI machine
    for path in manifest.extracts:
        assert 22_000 <= manifest.row_counts[path.name] <= 30_000


# ---------------------------------------------------------------- reference file layouts

def test_lookup_layout_and_lsoa_names_start_with_their_district(small):
    header, rows = read_rows(small.lsoa_lookup)
    assert header == ["LSOA21CD", "LSOA21NM", "LADCD", "LADNM"]
    assert 180 <= len(rows) <= 240
    per_district = Counter(r["LADCD"] for r in rows)
    assert len(per_district) == 6 and all(20 <= n <= 60 for n in per_district.values())
    for r in rows:
        assert re.fullmatch(r"E019\d{5}", r["LSOA21CD"])
        assert re.fullmatch(r"E0[67]9\d{5}", r["LADCD"])
        assert re.fullmatch(re.escape(r["LADNM"]) + r" \d{3}[A-Z]", r["LSOA21NM"]), r
    names = {r["LADNM"] for r in rows}
    assert not any(a != b and b.startswith(a) for a in names for b in names)  # prefixes unambiguous


def test_boundaries_are_closed_wgs84_polygons_with_lookup_properties(small):
    doc = json.loads(small.boundaries.read_text())
    assert doc["type"] == "FeatureCollection"
    lsoas = lookup(small)
    assert [f["properties"]["LSOA21CD"] for f in doc["features"]] == list(lsoas)
    for feature in doc["features"]:
        props = feature["properties"]
        assert set(props) == {"LSOA21CD", "LSOA21NM", "LADCD", "LADNM"}
        assert props == lsoas[props["LSOA21CD"]]
        ring = feature["geometry"]["coordinates"][0]
        assert feature["geometry"]["type"] == "Polygon" and ring[0] == ring[-1] and len(ring) == 5
        assert all(-2.5 < lon < 0 and 50.5 < lat < 52 for lon, lat in ring)


def test_boundaries_tile_the_area_without_overlaps(small):
    shapely = pytest.importorskip("shapely")
    from shapely.geometry import shape
    polygons = [shape(f["geometry"]) for f in json.loads(small.boundaries.read_text())["features"]]
    assert all(p.is_valid for p in polygons)
    union = shapely.union_all(polygons)
    assert union.area == pytest.approx(sum(p.area for p in polygons), rel=1e-6)
    assert union.geom_type == "Polygon"


def test_population_in_census_layout(small):
    header, rows = read_rows(small.population)
    assert header == ["lsoa21_code", "lsoa21_name", "age_group", "usual_residents"]
    lsoas = lookup(small)
    assert [r["age_group"] for r in rows] == AGE_GROUPS * len(lsoas)
    totals = Counter()
    for r in rows:
        assert r["lsoa21_name"] == lsoas[r["lsoa21_code"]]["LSOA21NM"]
        totals[r["lsoa21_code"]] += int(r["usual_residents"])
    assert 1300 <= np.mean(list(totals.values())) <= 1800


def test_deprivation_in_imd_layout(small):
    text = small.deprivation.read_text(encoding="utf-8")
    assert text.splitlines()[0] == IMD_HEADER
    _, rows = read_rows(small.deprivation)
    lsoas = lookup(small)
    assert [r["lsoa11_code"] for r in rows] == list(lsoas)
    for r in rows:
        assert r["lad19_code"] == lsoas[r["lsoa11_code"]]["LADCD"]
        rank, dec = int(r["index_of_multiple_deprivation_imd_rank"]), int(r["index_of_multiple_deprivation_imd_decile"])
        assert 1 <= rank <= 32_844 and dec == max(1, -(-rank * 10 // 32_844))
    assert len({r["index_of_multiple_deprivation_imd_decile"] for r in rows}) >= 6


def test_reference_headers_match_the_real_files(small, shared_data):
    with gzip.open(next((shared_data / "policeuk-hampshire-street-2025").glob("*.csv.gz")), "rt") as f:
        assert f.readline().rstrip("\r\n") == POLICE_UK_HEADER
    with gzip.open(next((shared_data / "imd2019-lsoa").glob("*.csv.gz")), "rt") as f:
        assert f.readline().rstrip("\r\n") == IMD_HEADER
    with gzip.open(next((shared_data / "ons-census2021-lsoa-age").glob("*.csv.gz")), "rt") as f:
        assert f.readline().rstrip("\r\n") == "lsoa21_code,lsoa21_name,age_group,usual_residents"
    real_lookup = (shared_data / "geo-hips" / "hips_lsoa21_to_lad.csv").read_text().splitlines()[0]
    assert real_lookup.split(",")[:4] == read_rows(small.lsoa_lookup)[0]


# ---------------------------------------------------------------- force extract and mapping

def test_extract_header_is_the_forces_own(small):
    for path in small.extracts:
        assert path.read_text(encoding="utf-8").splitlines()[0] == EXTRACT_HEADER


def test_mapping_covers_every_header_and_every_coded_value(small):
    m = mapping(small)
    assert m["source"] == FORCE
    assert m["date_format"] == "%d/%m/%Y" and m["datetime_format"] == "%d/%m/%Y %H:%M"
    assert set(m["columns"].values()) == set(EXTRACT_HEADER.split(","))
    assert m["values"]["offence_subcode"] == {"S20": "gbh_s20", "S47": "abh_s47", "RIOT": "riot"}
    assert set(m["values"]["location_type"].values()) == {
        "street", "dwelling", "licensed_premises", "school", "transport", "open_space", "retail", "other"}
    assert set(m["values"]["crime_status"].values()) == {"confirmed", "cancelled", "transferred"}
    seen = defaultdict(set)
    for path in small.extracts:
        for row in read_rows(path)[1]:
            for field in ("knife_flag", "firearm_flag", "domestic_flag", "victim_sex", "location_type",
                          "crime_status"):
                seen[field].add(row[m["columns"][field]])
    for field, values in seen.items():
        assert values - {""} <= set(m["values"][field]), field


def test_offence_codes_are_force_style_but_normalise_to_real_codes(full_extracts):
    rows = full_extracts["wessex_crimes_2024.csv"]["good"]
    written = Counter(r["HO Class"] for r in rows)
    assert {"008N", "08N", "05D"} & set(written) and any("/" in c for c in written)
    assert any(c.startswith("0") for c in written) and "8N" in written
    assert {normalise_code(c) for c in written} <= known_codes()


def test_offence_codes_agree_with_the_shipped_code_table():
    table = pytest.importorskip("vrp.definitions.offences")
    shipped = table.offence_codes()
    assert set(off.CODES) <= set(shipped)
    assert off.KNIFE_COLLECTION == set(table.knife_collection_codes())


def test_offence_mix_includes_the_serious_codes_at_realistic_rates(full_extracts):
    codes = Counter()
    subcodes = Counter()
    for data in full_extracts.values():
        codes.update(normalise_code(r["HO Class"]) for r in data["good"])
        subcodes.update((normalise_code(r["HO Class"]), r["HO Subclass"]) for r in data["good"])
    total = sum(codes.values())
    share = {c: n / total for c, n in codes.items()}
    for code in ("5D", "34B", "34A", "10D", "10C", "3B", "19C", "20A", "62A", "66", "2", "1", "4.1", "92D"):
        assert codes[code] > 0, code
    assert 0.007 < share["5D"] < 0.014 and 0.01 < share["34B"] < 0.02
    assert 0.12 < share["105A"] < 0.17 and share["2"] < 0.001 and codes["1"] + codes["4.1"] < 40
    s20 = subcodes[("8N", "S20")] / (subcodes[("8N", "S20")] + subcodes[("8N", "S47")])
    assert 0.10 < s20 < 0.20 and subcodes[("66", "RIOT")] > 0
    assert {s for (c, s) in subcodes if c in ("8N", "8P")} == {"S20", "S47"}


def test_knife_flags_follow_the_home_office_collection(full_extracts):
    by_code: dict[str, Counter] = defaultdict(Counter)
    for data in full_extracts.values():
        for r in data["good"]:
            by_code[normalise_code(r["HO Class"])][r["Knife/Sharp Instrument"]] += 1
    for code, flags in by_code.items():
        allowed = {"Y", "N", ""} if code in off.KNIFE_COLLECTION else {"N/A", ""}
        assert set(flags) <= allowed, (code, flags)
    inside = sum((by_code[c] for c in off.KNIFE_COLLECTION), Counter())
    assert 0.015 < inside[""] / sum(inside.values()) < 0.05  # missing flags exist, never "N"
    outside = sum((f for c, f in by_code.items() if c not in off.KNIFE_COLLECTION), Counter())
    assert 0 < outside[""] / sum(outside.values()) < 0.02
    rate = lambda c: by_code[c]["Y"] / sum(by_code[c].values())  # noqa: E731
    assert 0.14 < rate("5D") < 0.27 and 0.10 < rate("34B") < 0.21 and 0.015 < rate("8N") < 0.045


def test_victims_suspects_and_flags_are_plausible(full_extracts):
    rows = full_extracts["wessex_crimes_2024.csv"]["good"]
    def pick(code):
        return [r for r in rows if normalise_code(r["HO Class"]) == code]
    da = lambda rs: sum(r["DA Flag"] == "Y" for r in rs) / len(rs)  # noqa: E731
    assert 0.22 < da(pick("8N")) < 0.38 and 0.22 < da(pick("105A")) < 0.40 and da(pick("34B")) < 0.03
    age = lambda rs: np.median([int(r["Victim Age"]) for r in rs if r["Victim Age"]])  # noqa: E731
    assert age(pick("34B")) < age(pick("105A"))
    assert all(0 <= int(r["Victim Age"]) <= 90 for r in rows if r["Victim Age"])
    assert {r["Victim Sex"] for r in rows} <= {"M", "F", "U", ""}
    no_suspect = sum(r["Suspect URNs"] == "" for r in rows) / len(rows)
    assert 0.3 < no_suspect < 0.5
    status = Counter(r["Status"] for r in rows)
    assert 0.005 < (status["Cancelled"] + status["Transferred"]) / len(rows) < 0.03
    assert any(r["Easting"] == "" and r["Latitude"] != "" for r in rows)


def test_crime_concentrates_in_hotspots_and_deprived_areas(full, full_extracts):
    manifest, _ = full
    per_lsoa = Counter(r["LSOA"] for d in full_extracts.values() for r in d["good"])
    counts = np.array(sorted(per_lsoa.values(), reverse=True))
    assert counts[0] > 8 * np.median(counts)
    _, imd = read_rows(manifest.deprivation)
    rank = np.array([int(r["index_of_multiple_deprivation_imd_rank"]) for r in imd])
    crimes = np.array([per_lsoa[r["lsoa11_code"]] for r in imd])
    rho = np.corrcoef(np.argsort(np.argsort(rank)), np.argsort(np.argsort(crimes)))[0, 1]
    assert rho < -0.5  # more deprived (lower rank) -> more crime


def test_committed_window_is_inside_the_year_and_before_recording(full_extracts, full):
    for name, data in full_extracts.items():
        year = int(name[-8:-4])
        for r in data["good"]:
            recorded, start, end = r["_recorded"], r["_from"], r["_to"] or r["_from"]
            assert start <= end and end.date() <= recorded.date()
            assert recorded.year == start.year == year


def test_planted_bad_rows_are_exactly_the_ground_truth_ones(full, full_extracts):
    gt = ground_truth(full[0])
    faults_seen = set()
    for name, data in full_extracts.items():
        expected = [(b["line"], b["field"]) for b in gt["bad_rows"][name]]
        assert data["bad"] == expected
        assert 5 <= len(expected) <= 10 and gt["extracts"][name]["bad_rows"] == len(expected)
        faults_seen |= {b["fault"] for b in gt["bad_rows"][name]}
        for b in gt["bad_rows"][name]:
            assert data["rows"][b["line"] - 2][m_col(b["field"])] == b["value"]
    assert faults_seen == {"impossible_date", "unknown_offence_code", "non_numeric_easting",
                           "victim_age_out_of_range", "blank_crime_ref", "committed_after_recorded"}


def m_col(field: str) -> str:
    return {"recorded_date": "Date Recorded", "offence_code": "HO Class", "easting": "Easting",
            "victim_age": "Victim Age", "crime_ref": "Occurrence Number",
            "committed_from": "Committed From"}[field]


# ---------------------------------------------------------------- ground truth vs files

def test_ground_truth_counts_equal_counts_recomputed_from_the_csvs(full, full_extracts):
    manifest, _ = full
    gt, m, lsoas = ground_truth(manifest), mapping(manifest), lookup(manifest)
    tags = m["values"]["offence_subcode"]
    for name, data in full_extracts.items():
        year = name[-8:-4]
        offences, knife, subtags = defaultdict(Counter), defaultdict(Counter), defaultdict(Counter)
        for r in data["good"]:
            if r["Status"] != "Confirmed":
                continue
            district, code = lsoas[r["LSOA"]]["LADCD"], normalise_code(r["HO Class"])
            offences[district][code] += 1
            if r["Knife/Sharp Instrument"] == "Y":
                knife[district][code] += 1
            if r["HO Subclass"] in tags:
                subtags[district][tags[r["HO Subclass"]]] += 1
        assert gt["confirmed_counts"][year] == {d: dict(c) for d, c in offences.items()}
        assert gt["knife_yes_counts"][year] == {d: dict(c) for d, c in knife.items()}
        assert gt["subcode_tag_counts"][year] == {d: dict(c) for d, c in subtags.items()}
        status = Counter(r["Status"].lower() for r in data["good"])
        assert gt["extracts"][name] == {"rows": len(data["rows"]), "bad_rows": len(data["bad"]),
                                        "good_rows": len(data["good"]), "status": dict(status)}


def test_prolific_suspects_recomputed_from_the_csvs(full, full_extracts):
    gt = ground_truth(full[0])
    counts = Counter(s for d in full_extracts.values() for r in d["good"] if r["Status"] == "Confirmed"
                     for s in r["Suspect URNs"].split(";") if s)
    expected = sorted(((n, s) for s, n in counts.items() if n >= 5), key=lambda t: (-t[0], t[1]))
    assert gt["prolific_suspects"] == [{"suspect_urn": s, "offences": n} for n, s in expected]
    assert 100 < len(expected) < 0.3 * len(counts)  # a minority ...
    assert expected[0][0] >= 30                    # ... with a heavy tail


def test_monthly_confirmed_counts(full, full_extracts):
    gt = ground_truth(full[0])
    months = Counter()
    for data in full_extracts.values():
        for r in data["good"]:
            if r["Status"] == "Confirmed":
                months[r["_recorded"].strftime("%Y-%m")] += 1
    assert gt["monthly_confirmed"] == dict(sorted(months.items()))
    by_month = [months[f"2024-{m:02d}"] for m in range(1, 13)]
    assert max(by_month) / min(by_month) < 1.5  # mild seasonality


# ---------------------------------------------------------------- police.uk files

def test_police_uk_files_have_the_published_layout(full):
    manifest, _ = full
    names = [p.name for p in manifest.police_uk]
    assert names == [f"{y}-{m:02d}-wessex-street.csv" for y in (2022, 2023, 2024, 2025) for m in range(1, 13)]
    lsoas = lookup(manifest)
    for path in manifest.police_uk[::7]:
        text = path.read_text(encoding="utf-8")
        assert text.splitlines()[0] == POLICE_UK_HEADER
        for r in read_rows(path)[1]:
            assert r["Month"] == path.name[:7]
            assert r["Reported by"] == r["Falls within"] == FORCE
            assert r["Crime type"] in POLICE_UK_TYPES and r["Context"] == ""
            assert r["LSOA name"] == lsoas[r["LSOA code"]]["LSOA21NM"]
            assert r["Location"].startswith("On or near ")
            assert re.fullmatch(r"-?\d+\.\d{6}", r["Longitude"]) and re.fullmatch(r"\d+\.\d{6}", r["Latitude"])
            if r["Crime type"] == "Anti-social behaviour":
                assert r["Crime ID"] == "" and r["Last outcome category"] == ""
            else:
                assert re.fullmatch(r"[0-9a-f]{64}", r["Crime ID"]) and r["Last outcome category"]


def test_police_uk_publishes_exactly_the_confirmed_valid_crimes(full, full_extracts):
    manifest, _ = full
    gt = ground_truth(manifest)
    to_wgs84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    published = {}
    for path in manifest.police_uk:
        rows = read_rows(path)[1]
        types = Counter(r["Crime type"] for r in rows)
        asb = types["Anti-social behaviour"]
        assert gt["police_uk"][path.name] == {"rows": len(rows), "crimes": len(rows) - asb,
                                              "anti_social_behaviour": asb, "crime_types": dict(sorted(types.items()))}
        published |= {r["Crime ID"]: r for r in rows if r["Crime ID"]}
    located = []  # (published row, easting, northing)
    crimes = 0
    for data in full_extracts.values():
        for r in data["good"]:
            cid = hashlib.sha256(f"{FORCE}|{r['Occurrence Number']}".encode()).hexdigest()
            if r["Status"] != "Confirmed":
                assert cid not in published
                continue
            crimes += 1
            pub = published[cid]
            assert pub["Month"] == r["_recorded"].strftime("%Y-%m") and pub["LSOA code"] == r["LSOA"]
            assert pub["Crime type"] == off.BY_CODE[normalise_code(r["HO Class"])].crime_type
            if r["Easting"]:
                located.append((pub, float(r["Easting"]), float(r["Northing"])))
    assert crimes == len(published)
    lon, lat = to_wgs84.transform(np.array([e for _, e, _ in located]), np.array([n for _, _, n in located]))
    assert [(p["Longitude"], p["Latitude"]) for p, _, _ in located] == [
        (f"{x:.6f}", f"{y:.6f}") for x, y in zip(lon, lat)]
    asb = sum(v["anti_social_behaviour"] for v in gt["police_uk"].values())
    assert 0.07 < asb / crimes < 0.13


# ---------------------------------------------------------------- homicides, ED and admissions files

HOMICIDE_HEADER = ("Case Number,Crime Number,Date Recorded,Date of Offence,Victim URN,Victim Age,Victim Sex,"
                   "Method of Killing,Relationship to Principal Suspect,LSOA,Status")
ED_HEADER = ("Attendance ID,Site Code,Arrival Date,Arrival Time,Assault Date,Assault Time,Assault Method,"
             "Location Type,Location Description,Incident LSOA,Age,Gender")
ADMISSIONS_HEADER = "period,area_code,age_band,sex,cause,diagnosis_position,admission_method,counting_unit,count"
HOMICIDE_CODES = {"1", "4.1", "4.2", "4.10"}
DOMESTIC_LABELS = {"Partner", "Ex-partner", "Family member"}


def test_new_files_are_in_the_manifest_with_their_layouts(small):
    assert small.homicides.name == "homicides.csv" and small.admissions.name == "admissions.csv"
    assert [p.name for p in small.ed_attendances] == ["ed_attendances_2023.csv", "ed_attendances_2024.csv"]
    assert tomllib.loads(small.homicides_mapping.read_text())["dataset"] == "homicides"
    assert tomllib.loads(small.ed_mapping.read_text())["dataset"] == "ed_attendances"
    assert small.homicides.read_text().splitlines()[0] == HOMICIDE_HEADER
    assert small.admissions.read_text().splitlines()[0] == ADMISSIONS_HEADER
    for path in small.ed_attendances:
        assert path.read_text().splitlines()[0] == ED_HEADER


def test_no_health_file_has_a_patient_identifier_column(full):
    from vrp.ingest.health import patient_identifier

    manifest, _ = full
    for path in [*manifest.ed_attendances, manifest.admissions]:
        header = read_rows(path)[0]
        assert header and not [h for h in header if patient_identifier(h)], path.name


def test_homicides_are_exactly_the_extracts_homicide_victims(full, full_extracts):
    manifest, _ = full
    gt, lsoas = ground_truth(manifest)["homicides"], lookup(manifest)
    _, rows = read_rows(manifest.homicides)
    faulty = {f["line"] for f in gt["faults"]}
    valid = [r for line, r in enumerate(rows, start=2) if line not in faulty]
    crimes = {r["Occurrence Number"]: r for d in full_extracts.values() for r in d["good"]
              if r["Status"] == "Confirmed" and normalise_code(r["HO Class"]) in HOMICIDE_CODES}
    assert [r["Crime Number"] for r in valid] == gt["crime_refs"]
    assert sorted(gt["crime_refs"]) == sorted(crimes) and len(crimes) >= 10
    counts = defaultdict(Counter)
    for r in valid:
        crime = crimes[r["Crime Number"]]
        assert (r["Date Recorded"], r["Victim URN"], r["Victim Age"], r["Victim Sex"], r["LSOA"]) == (
            crime["Date Recorded"], crime["Victim URN"], crime["Victim Age"], crime["Victim Sex"], crime["LSOA"])
        assert r["Date of Offence"] == crime["Committed From"][:10] and r["Status"] == "Homicide"
        if crime["Knife/Sharp Instrument"] == "Y":
            assert r["Method of Killing"] == "Sharp instrument"
        assert (crime["DA Flag"] == "Y") == (r["Relationship to Principal Suspect"] in DOMESTIC_LABELS)
        key = (r["Date Recorded"][-4:], lsoas[r["LSOA"]]["LADCD"])
        non_domestic = r["Relationship to Principal Suspect"] not in DOMESTIC_LABELS
        counts[key]["all"] += 1
        counts[key]["non_domestic"] += non_domestic
        counts[key]["non_domestic_sharp_0_24"] += (non_domestic and r["Method of Killing"] == "Sharp instrument"
                                                   and r["Victim Age"] != "" and int(r["Victim Age"]) <= 24)
    for year, by_district in gt["counts"].items():
        for district, got in by_district.items():
            assert got == {k: counts[(year, district)][k] for k in got}, (year, district)
    assert gt["rows"] == len(rows) and gt["good_rows"] == len(valid) and 1 <= gt["bad_rows"] <= 2
    for f in gt["faults"]:
        row = rows[f["line"] - 2]
        column = {"method": "Method of Killing", "offence_date": "Date of Offence"}[f["field"]]
        assert row["Case Number"] == f["case_ref"] and row[column] == f["value"] and row["Crime Number"] == ""


def test_ed_attendances_match_their_ground_truth(full):
    from vrp.ingest.health import classify_weapon

    manifest, _ = full
    gt, lsoas = ground_truth(manifest)["ed_attendances"], lookup(manifest)
    weapon_values = {k.lower(): v for k, v in tomllib.loads(manifest.ed_mapping.read_text())["values"]["weapon"].items()}
    for path in manifest.ed_attendances:
        year = path.stem[-4:]
        _, rows = read_rows(path)
        faults = {f["line"]: f for f in gt["faults"][path.name]}
        summary = gt["files"][path.name]
        assert (summary["rows"], summary["bad_rows"], summary["good_rows"]) == (len(rows), len(faults), len(rows) - len(faults))
        assert 1 <= len(faults) <= 2 and summary["linked_to_crimes"] < summary["good_rows"]  # the ED sees more
        by_district, no_lsoa = defaultdict(Counter), Counter()
        for line, r in enumerate(rows, start=2):
            assert r["Site Code"] in {"R9W01", "R9W02"} and r["Attendance ID"].startswith(r["Site Code"])
            if line in faults:
                column = {"attendance_date": "Arrival Date", "assault_date": "Assault Date", "age": "Age"}[faults[line]["field"]]
                assert r[column] == faults[line]["value"] and r["Attendance ID"] == faults[line]["record_id"]
                continue
            assert r["Arrival Date"][-4:] == year
            weapon = classify_weapon(r["Assault Method"], weapon_values)
            if r["Incident LSOA"]:
                by_district[lsoas[r["Incident LSOA"]]["LADCD"]][weapon] += 1
            else:
                no_lsoa[weapon] += 1
            if r["Location Type"] == "Home":
                assert r["Location Description"] == ""  # never an address
        assert gt["weapon_counts"][year] == {d: {w: by_district[d][w] for w in ws} for d, ws in gt["weapon_counts"][year].items()}
        assert gt["no_lsoa"][year] == {w: no_lsoa[w] for w in gt["no_lsoa"][year]}
        assert 0.6 < 1 - summary["no_lsoa"] / summary["good_rows"] < 0.8
        assert sum(gt["weapon_counts"][year][d]["knife_sharp"] for d in gt["weapon_counts"][year]) > 0


def test_admissions_cells_match_their_ground_truth(full):
    manifest, _ = full
    gt = ground_truth(manifest)["admissions"]
    _, rows = read_rows(manifest.admissions)
    assert gt["financial_years"] == ["2022/23", "2023/24", "2024/25"]
    assert gt["rows"] == len(rows) and gt["cells"] == 3 * 6 * 3 * 2 == len(rows) - gt["bad_rows"]
    (fault,) = gt["faults"]
    assert rows[fault["line"] - 2]["area_code"] == "TOTAL"
    hidden = {s["line"]: s for s in gt["suppressed_cells"]}
    assert 1 <= len(hidden) <= 2
    for line, r in enumerate(rows, start=2):
        if line == fault["line"]:
            continue
        assert (r["sex"], r["diagnosis_position"], r["admission_method"], r["counting_unit"]) == ("persons", "any", "emergency", "fae")
        expected = gt["counts"][r["period"]][r["area_code"]][r["age_band"]][r["cause"]]
        if line in hidden:
            assert r["count"] == "*" and expected is None and hidden[line]["cause"] == r["cause"]
        else:
            assert int(r["count"]) == expected
    for by_district in gt["counts"].values():
        for by_band in by_district.values():
            for cell in by_band.values():
                if None not in cell.values():
                    assert cell["X99"] <= cell["X85-Y09"]  # sharp object is one of the assault causes


def test_measure_counts_recomputed_from_the_csvs(full, full_extracts):
    from vrp.definitions.offences import offence_codes

    manifest, _ = full
    gt, lsoas = ground_truth(manifest)["measure_counts"], lookup(manifest)
    subgroup = {c: o.offence_subgroup for c, o in offence_codes().items()}
    knife_codes = {"5D", "8N", "8P", "8S", "34A", "34B", "3B", "1", "4.1", "4.2", "4.10", "2", "19C", "19D", "19E",
                   "19F", "19G", "19H", "17A", "17B", "20A", "20B"}
    for name, data in full_extracts.items():
        year = name[-8:-4]
        counts = defaultdict(Counter)
        for r in data["good"]:
            if r["Status"] != "Confirmed":
                continue
            c, d = counts[lsoas[r["LSOA"]]["LADCD"]], normalise_code(r["HO Class"])
            knife = d in knife_codes and r["Knife/Sharp Instrument"] == "Y"
            c["knife_all"] += knife
            c["knife_u25"] += knife and r["Victim Age"] != "" and int(r["Victim Age"]) <= 24
            c["knife_nondomestic"] += knife and r["DA Flag"] != "Y"
            c["vwi"] += subgroup[d] == "Violence with injury"
            c["vwoi"] += subgroup[d] == "Violence without injury"
            c["pow"] += d in {"10A", "10B", "10C", "10D", "81", "90"}
            c["robbery"] += d in {"34A", "34B"}
        assert set(gt[year]) == {r["LADCD"] for r in lsoas.values()}
        for district, got in gt[year].items():
            assert got == {m: counts[district][m] for m in got}, (year, district)
            assert set(got) == {"knife_u25", "knife_all", "knife_nondomestic", "vwi", "vwoi", "pow", "robbery"}
        assert sum(v["knife_u25"] for v in gt[year].values()) > 0


def test_demo_data_cli_prints_the_new_paths(tmp_path):
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "vrp", "demo-data", str(tmp_path), "--seed", "3", "--scale", "0.02", "--json"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert Path(data["homicides"]).name == "homicides.csv" and Path(data["admissions"]).name == "admissions.csv"
    assert [Path(p).name for p in data["ed_attendances"]] == [f"ed_attendances_{y}.csv" for y in (2022, 2023, 2024, 2025)]
    assert Path(data["homicides_mapping"]).is_file() and Path(data["ed_mapping"]).is_file()


@pytest.fixture(scope="module")
def small_ingested(small, tmp_path_factory):
    """The small demo's extracts, homicides, ED and admissions files through the real ingest."""
    from vrp.ingest.extract import ingest_police_extract
    from vrp.ingest.health import ingest_admissions, ingest_ed_attendances
    from vrp.ingest.homicides import ingest_homicides
    from vrp.workspace import init_workspace

    ws = init_workspace(tmp_path_factory.mktemp("demo_ws") / "ws", "Wessex")
    ingest_police_extract(ws, small.extracts, str(small.mapping))
    summaries = {
        "homicides": ingest_homicides(ws, [small.homicides], str(small.homicides_mapping)),
        "ed_attendances": ingest_ed_attendances(ws, small.ed_attendances, str(small.ed_mapping)),
        "admissions": ingest_admissions(ws, [small.admissions]),
    }
    return ws, summaries


def test_new_files_ingest_with_exactly_the_ground_truth_rows_and_faults(small, small_ingested):
    gt = ground_truth(small)
    _, s = small_ingested
    h = gt["homicides"]
    assert (s["homicides"]["rows_in"], s["homicides"]["rows_loaded"], s["homicides"]["rows_quarantined"]) == (
        h["rows"], h["good_rows"], h["bad_rows"])
    assert [q["line"] for q in s["homicides"]["quarantine_sample"]] == [f["line"] for f in h["faults"]]
    for f in s["ed_attendances"]["files"]:
        name = Path(f["file"]).name
        e = gt["ed_attendances"]["files"][name]
        assert (f["rows_in"], f["rows_loaded"], f["rows_quarantined"]) == (e["rows"], e["good_rows"], e["bad_rows"])
    got = sorted((q["file"], q["line"]) for q in s["ed_attendances"]["quarantine_sample"])
    assert got == sorted((n, f["line"]) for n, fs in gt["ed_attendances"]["faults"].items() for f in fs)
    a = gt["admissions"]
    assert (s["admissions"]["rows_in"], s["admissions"]["rows_loaded"], s["admissions"]["rows_quarantined"]) == (
        a["rows"], a["cells"], a["bad_rows"])
    assert [q["line"] for q in s["admissions"]["quarantine_sample"]] == [f["line"] for f in a["faults"]]


def test_ingested_ed_and_admission_counts_equal_ground_truth(small, small_ingested):
    from vrp.lake import connect

    ws, _ = small_ingested
    gt, lsoas = ground_truth(small), lookup(small)
    con = connect(ws)
    ed = defaultdict(Counter)
    for year, lsoa, weapon, n in con.execute("""SELECT year(attendance_date), lsoa_code, weapon, count(*)
            FROM ed_attendances GROUP BY ALL""").fetchall():
        if lsoa:
            ed[(str(year), lsoas[lsoa]["LADCD"])][weapon] += n
        else:
            ed[(str(year), None)][weapon] += n
    for year, by_district in gt["ed_attendances"]["weapon_counts"].items():
        for district, weapons in by_district.items():
            assert weapons == {w: ed[(year, district)][w] for w in weapons}
        assert gt["ed_attendances"]["no_lsoa"][year] == {w: ed[(year, None)][w] for w in gt["ed_attendances"]["no_lsoa"][year]}
    cells = con.execute("""SELECT period_start, area_code, age_band, cause, "count", source_suppressed
        FROM admissions""").fetchall()
    loaded = {(f"{start[:4]}/{int(start[2:4]) + 1:02d}", area, band, cause): n for start, area, band, cause, n, _ in cells}
    expected = {(fy, d, b, c): n for fy, ds in gt["admissions"]["counts"].items() for d, bs in ds.items()
                for b, cs in bs.items() for c, n in cs.items()}
    assert loaded == expected
    assert sum(s for *_, s in cells) == len(gt["admissions"]["suppressed_cells"])


def test_ingested_homicides_link_to_the_crimes_and_derive_domestic(small, small_ingested):
    from vrp.lake import connect

    ws, _ = small_ingested
    gt = ground_truth(small)["homicides"]
    rows = connect(ws).execute("""SELECT h.case_ref, c.crime_ref, h.domestic, c.domestic_flag, h.relationship,
            h.victim_age IS NOT DISTINCT FROM c.victim_age AND h.lsoa_code = c.lsoa_code AND h.victim_sex = c.victim_sex
        FROM homicides h JOIN crimes c ON h.victim_pid = c.victim_pid AND h.recorded_date = c.recorded_date
        WHERE c.offence_code IN ('1', '4.1', '4.2', '4.10') ORDER BY 1""").fetchall()
    assert sorted(r[1] for r in rows) == sorted(gt["crime_refs"]) and len(rows) == gt["good_rows"] >= 1
    for _, _, domestic, flag, relationship, same in rows:
        assert same and domestic == flag == (relationship in ("partner", "ex_partner", "family"))
