"""Acceptance on the real Hampshire police.uk data and ONS reference files in ../shared/data."""
from __future__ import annotations

import duckdb
import pytest

from tests.conftest import workspace_state
from vrp.ingest.police_uk import ingest_police_uk
from vrp.ingest.reference import ingest_lsoa_lookup, ingest_population
from vrp.quality import quality_report
from vrp.query import counts
from vrp.workspace import init_workspace


@pytest.fixture(scope="module")
def hampshire(shared_data, tmp_path_factory):
    ws = init_workspace(tmp_path_factory.mktemp("hants") / "ws", "HIPS")
    ingest_lsoa_lookup(ws, shared_data / "geo-hips" / "hips_lsoa21_to_lad.csv")
    ingest_lsoa_lookup(ws, shared_data / "geo-hips" / "hips_lsoa11_to_lad.csv")
    summary = ingest_police_uk(ws, [shared_data / "policeuk-hampshire-street-2025"])
    return ws, summary


def test_every_row_accounted_for(hampshire):
    _, summary = hampshire
    assert summary["rows_in"] == 164_975
    assert summary["rows_loaded"] + summary["rows_quarantined"] == 164_975
    assert summary["files_loaded"] == 12


def test_reingest_changes_nothing(hampshire, shared_data):
    ws, _ = hampshire
    before = workspace_state(ws)
    again = ingest_police_uk(ws, [shared_data / "policeuk-hampshire-street-2025"])
    assert again["files_unchanged"] == 12 and again["rows_in"] == 0
    assert workspace_state(ws) == before


def test_counts_by_district_and_crime_type_equal_independent_query(hampshire, shared_data):
    """The dialect is spelled out: DuckDB's sniffer, left to itself, misreads the quoted LSOA names
    with commas ("Bournemouth, Christchurch and Poole 019C") in some of these files."""
    ws, _ = hampshire
    ours = {(r["district"], r["crime_type"]): r["count"] for r in counts(ws, ["district", "crime_type"])}
    raw = duckdb.sql(f"""
        SELECT l.LADNM AS district, c."Crime type" AS crime_type, count(*) AS n
        FROM read_csv('{shared_data}/policeuk-hampshire-street-2025/*.csv.gz', all_varchar = true,
                      header = true, delim = ',', quote = '"', escape = '"') c
        LEFT JOIN read_csv('{shared_data}/geo-hips/hips_lsoa21_to_lad.csv', all_varchar = true) l
          ON l.LSOA21CD = c."LSOA code"
        GROUP BY ALL""").fetchall()
    theirs = {(d, t): n for d, t, n in raw}
    assert ours == theirs
    assert sum(n for (d, _), n in ours.items() if d is None) == 99  # rows that geocode outside HIPS


def test_possession_of_weapons_spike_is_flagged(hampshire):
    ws, _ = hampshire
    report = quality_report(ws)
    (anomalies,) = [c for c in report["checks"] if c["dataset"] == "police_uk" and c["check"] == "monthly_anomalies"]
    spikes = {(a["series"], a["month"]): a for a in anomalies["examples"]}
    pow_aug = spikes[("Possession of weapons", "2025-08")]
    assert pow_aug["direction"] == "high" and pow_aug["count"] >= 700
    assert not any(s == "Possession of weapons" and m != "2025-08" for s, m in spikes)
    (outside,) = [c for c in report["checks"] if c["check"] == "outside_area"]
    assert outside["count"] == 99


def test_2018_19_files_with_lsoa_2011_load(shared_data, tmp_path):
    ws = init_workspace(tmp_path / "old")
    ingest_lsoa_lookup(ws, shared_data / "geo-hips" / "hips_lsoa11_to_lad.csv")
    summary = ingest_police_uk(ws, [shared_data / "policeuk-hampshire-street-2018-19"])
    assert summary["rows_in"] == 64_744 == summary["rows_loaded"] + summary["rows_quarantined"]
    by_month = {r["month"]: r["count"] for r in counts(ws, ["month"])}
    assert list(by_month) == ["2018-10", "2018-11", "2018-12", "2019-01", "2019-02"]
    report = {c["check"]: c for c in quality_report(ws)["checks"] if c["dataset"] == "police_uk"}
    assert report["missing_lsoa"]["count"] == 2
    in_hips = sum(r["count"] for r in counts(ws, ["district"]) if r["district"])
    assert in_hips > 64_000


def test_population_loads_census_layout(shared_data, tmp_path):
    ws = init_workspace(tmp_path / "pop")
    s = ingest_population(ws, shared_data / "ons-census2021-lsoa-age" / "census2021_lsoa21_usual_residents_by_age6.csv.gz")
    assert s["rows_loaded"] == 214_032
    import vrp.lake as lake

    assert lake.connect(ws).execute("SELECT sum(population) FROM population").fetchone()[0] == 59_597_114


@pytest.fixture(scope="module")
def hampshire_with_population(hampshire, shared_data):
    ws, _ = hampshire
    ingest_population(ws, shared_data / "ons-census2021-lsoa-age" / "census2021_lsoa21_usual_residents_by_age6.csv.gz")
    return ws


@pytest.mark.parametrize("measure, crime_type", [("S3-policeuk", "Possession of weapons"), ("ROB-policeuk", "Robbery")])
def test_measure_rates_by_district_equal_an_independent_computation(hampshire_with_population, shared_data,
                                                                   measure, crime_type):
    """S3 and robbery for calendar 2025, per 100,000 residents (Census 2021), straight from the
    files: counts via the LSOA 2021 lookup, population summed over each district's LSOAs."""
    from scipy import stats

    from vrp.measures.report import measure_rows

    rows = {r["area_code"]: r for r in measure_rows(hampshire_with_population, [measure], "district", "calendar_year")}
    raw = duckdb.sql(f"""
        WITH crimes AS (
            SELECT l.LADCD AS district, count(*) AS n
            FROM read_csv('{shared_data}/policeuk-hampshire-street-2025/*.csv.gz', all_varchar = true,
                          header = true, delim = ',', quote = '"', escape = '"') c
            JOIN read_csv('{shared_data}/geo-hips/hips_lsoa21_to_lad.csv', all_varchar = true) l
              ON l.LSOA21CD = c."LSOA code"
            WHERE c."Crime type" = '{crime_type}' GROUP BY ALL),
        people AS (
            SELECT l.LADCD AS district, sum(p.usual_residents::BIGINT) AS residents
            FROM read_csv('{shared_data}/ons-census2021-lsoa-age/census2021_lsoa21_usual_residents_by_age6.csv.gz', all_varchar = true, header = true, delim = ',', quote = '"') p
            JOIN read_csv('{shared_data}/geo-hips/hips_lsoa21_to_lad.csv', all_varchar = true) l
              ON l.LSOA21CD = p.lsoa21_code GROUP BY ALL)
        SELECT district, n, residents FROM crimes JOIN people USING (district)""").fetchall()
    assert len(raw) == 14 and set(rows) == {d for d, _, _ in raw} | {"partnership"}
    for district, n, residents in raw:
        row = rows[district]
        assert (row["period"], row["count"], row["population"]) == ("2025", n, residents)
        assert row["rate"] == pytest.approx(n / residents * 100_000, rel=1e-12)
        assert row["ci_low"] == pytest.approx(stats.chi2.ppf(0.025, 2 * n) / 2 / residents * 1e5, rel=1e-9)
        assert row["ci_high"] == pytest.approx(stats.chi2.ppf(0.975, 2 * n + 2) / 2 / residents * 1e5, rel=1e-9)
    total = rows["partnership"]
    assert total["count"] == sum(n for _, n, _ in raw)
    assert total["population"] == sum(r for _, _, r in raw) == 1_998_091
