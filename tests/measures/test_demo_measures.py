"""Every shipped measure on the demo partnership, checked against the generator's ground truth
(counted from the simulated values, not from the files)."""
from __future__ import annotations

import json

import pytest

from vrp.demo import generate
from vrp.ingest.extract import ingest_police_extract
from vrp.ingest.health import ingest_admissions, ingest_ed_attendances
from vrp.ingest.homicides import ingest_homicides
from vrp.ingest.police_uk import ingest_police_uk
from vrp.ingest.reference import ingest_lsoa_lookup, ingest_population
from vrp.measures.catalogue import load_measures
from vrp.measures.report import measure_rows
from vrp.workspace import init_workspace


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    base = tmp_path_factory.mktemp("demo-measures")
    m = generate(base / "files", seed=7, years=(2023, 2024, 2025), scale=0.4)
    ws = init_workspace(base / "ws", "Wessex")
    ingest_lsoa_lookup(ws, m.lsoa_lookup)
    ingest_population(ws, m.population)
    ingest_police_extract(ws, m.extracts, str(m.mapping))
    ingest_police_uk(ws, m.police_uk)
    ingest_homicides(ws, [m.homicides], str(m.homicides_mapping))
    ingest_ed_attendances(ws, m.ed_attendances, str(m.ed_mapping))
    ingest_admissions(ws, [m.admissions])
    return ws, json.loads(m.ground_truth.read_text())


def yearly(ws, measure, period="calendar_year"):
    return {(r["period"], r["area_code"]): r for r in measure_rows(ws, [measure], "district", period)}


def test_every_shipped_measure_computes(demo):
    ws, _ = demo
    rows = measure_rows(ws, ["all"], "partnership")
    assert {r["measure"] for r in rows} == set(load_measures())
    assert all(r["count"] is not None and r["as_at"] for r in rows)


@pytest.mark.parametrize("measure, key", [
    ("K2", "knife_u25"), ("K2b", "knife_all"), ("S1", "vwi"), ("S2", "vwoi"), ("S3", "pow"), ("ROB", "robbery"),
])
def test_crime_measures_equal_ground_truth(demo, measure, key):
    ws, truth = demo
    got = yearly(ws, measure)
    expected = {(y, d): c[key] for y, by_d in truth["measure_counts"].items() for d, c in by_d.items()}
    assert {k: r["count"] for k, r in got.items() if k[1] != "partnership"} == expected
    for year in truth["measure_counts"]:
        assert got[(year, "partnership")]["count"] == sum(c[key] for c in truth["measure_counts"][year].values())


def test_non_domestic_knife_filter_through_a_workspace_measure(demo):
    ws, truth = demo
    (ws.measures_dir / "knife-nd.toml").write_text(
        'id = "KND"\nversion = "1"\nname = "Knife-enabled, non-domestic"\nkind = "local"\n'
        'description = "d"\ndefinition = "ho-knife-enabled-nondomestic"\nper = 100000\n')
    got = yearly(ws, "KND")
    expected = {(y, d): c["knife_nondomestic"] for y, by_d in truth["measure_counts"].items() for d, c in by_d.items()}
    assert {k: r["count"] for k, r in got.items() if k[1] != "partnership"} == expected


def test_rates_use_age_matched_residents(demo):
    ws, truth = demo
    all_ages = yearly(ws, "K2b")
    under_25 = yearly(ws, "K2")
    for district in truth["districts"]:
        key = ("2024", district["code"])
        assert all_ages[key]["population"] == district["population"]
        assert 0 < under_25[key]["population"] < district["population"]
        assert under_25[key]["rate"] == pytest.approx(under_25[key]["count"] / under_25[key]["population"] * 1e5)


@pytest.mark.parametrize("measure, key", [("K3", "non_domestic_sharp_0_24"), ("K3a", "non_domestic")])
def test_homicide_measures_equal_ground_truth(demo, measure, key):
    ws, truth = demo
    got = yearly(ws, measure)
    assert got, "no complete calendar year of homicide records"
    for (year, area), row in got.items():
        by_district = truth["homicides"]["counts"][year]
        expected = sum(c[key] for c in by_district.values()) if area == "partnership" else by_district[area][key]
        assert row["count"] == expected
        assert row["rate_per"] == 1_000_000


def test_ed_knife_attendances_with_unattributed_equal_ground_truth(demo):
    ws, truth = demo
    got = yearly(ws, "L2")
    weapons = truth["ed_attendances"]["weapon_counts"]
    for year, by_district in weapons.items():
        for district, counts in by_district.items():
            assert got[(year, district)]["count"] == counts["knife_sharp"]
        unattributed = truth["ed_attendances"]["no_lsoa"][year]["knife_sharp"]
        assert got.get((year, "unattributed"), {"count": 0})["count"] == unattributed
        assert got[(year, "partnership")]["count"] == unattributed + sum(c["knife_sharp"] for c in by_district.values())
        assert got[(year, "partnership")]["rate"] is None  # a count only


@pytest.mark.parametrize("measure, bands, cause", [("K1", ("0-17", "18-24"), "X99"), ("K1-all", ("0-17", "18-24", "25+"), "X99"),
                                                  ("K1a", ("0-17", "18-24", "25+"), "X85-Y09")])
def test_admission_measures_equal_ground_truth(demo, measure, bands, cause):
    ws, truth = demo
    got = yearly(ws, measure, "financial_year")
    suppressed = {(c["period"], c["area_code"], c["age_band"], c["cause"]) for c in truth["admissions"]["suppressed_cells"]}
    for fy, by_district in truth["admissions"]["counts"].items():
        for district, by_band in by_district.items():
            row = got[(fy, district)]
            assert row["count"] == sum(by_band[b][cause] or 0 for b in bands)
            assert row["source_suppressed_cells"] == sum((fy, district, b, cause) in suppressed for b in bands)


def test_admissions_cannot_be_split_into_months(demo):
    from vrp.errors import VrpError

    ws, _ = demo
    with pytest.raises(VrpError, match="cannot be split into"):
        measure_rows(ws, ["K1"], "district", "quarter")


def test_partner_tier_never_shows_a_small_count(demo):
    ws, _ = demo
    rows = measure_rows(ws, ["all"], "district", "financial_year", tier="partner")
    for r in rows:
        threshold = 6 if r["measure"].startswith("K1") else 5
        if r["definition"].startswith("policeuk"):
            continue  # open data, already public by LSOA and month
        assert r["count"] is None or r["count"] == 0 or r["count"] >= threshold
        assert r["rate"] is None or r["count"] >= 10
