import json
from datetime import date

import pytest

from tests.conftest import write_csv
from vrp.errors import InputError
from vrp.ingest.reference import (ingest_boundaries, ingest_deprivation, ingest_lsoa_lookup, ingest_population,
                                  parse_age_band)
from vrp.lake import connect

pytestmark = pytest.mark.backends  # app state on SQLite and on PostgreSQL


def test_lookup_vintage_from_header_and_bad_rows(ws, tmp_path):
    path = write_csv(tmp_path / "l.csv", "LSOA11CD,LSOA11NM,LADCD,LADNM\nE01000001,A 001A,E06000045,Southampton\n"
                                         "nonsense,B 001B,E06000045,Southampton\nE01000001,A 001A,E06000045,Southampton\n")
    s = ingest_lsoa_lookup(ws, path)
    assert (s["rows_in"], s["rows_loaded"], s["rows_quarantined"]) == (3, 1, 2)
    assert [q["line"] for q in s["quarantine_sample"]] == [3, 4]
    assert "appears twice" in s["quarantine_sample"][1]["reason"]
    assert connect(ws).execute("SELECT vintage, district_name FROM lsoa_lookup").fetchall() == [("2011", "Southampton")]


def test_lookup_without_code_column_is_rejected(ws, tmp_path):
    path = write_csv(tmp_path / "l.csv", "code,name\nE01000001,x\n")
    with pytest.raises(InputError, match="no LSOA code column"):
        ingest_lsoa_lookup(ws, path)


@pytest.mark.parametrize("label,band", [("Aged 15 years and under", (0, 15)), ("Aged 16 to 24 years", (16, 24)),
                                        ("Aged 65 years and over", (65, 120)), ("25-34", (25, 34))])
def test_age_bands(label, band):
    assert parse_age_band(label) == band


def test_population_census_layout(ws, tmp_path):
    path = write_csv(tmp_path / "p.csv", "lsoa21_code,lsoa21_name,age_group,usual_residents\n"
                                         "E01000001,A 001A,Aged 15 years and under,100\nE01000001,A 001A,Aged 16 to 24 years,50\n"
                                         "E01000001,A 001A,Aged 25 to 34 years,x\nE01000001,A 001A,Teenagers,5\n")
    s = ingest_population(ws, path)
    assert s["rows_loaded"] == 2 and s["rows_quarantined"] == 2
    got = connect(ws).execute("SELECT sum(population) FILTER (WHERE age_max <= 24), min(year) FROM population").fetchone()
    assert got == (150, 2021)


def test_deprivation(ws, tmp_path):
    path = write_csv(tmp_path / "d.csv", "lsoa11_code,lsoa11_name,index_of_multiple_deprivation_imd_rank,"
                                         "index_of_multiple_deprivation_imd_decile,crime_rank,crime_decile\nE01000001,A,100,1,5,1\n")
    ingest_deprivation(ws, path)
    assert connect(ws).execute("SELECT imd_rank, imd_decile, crime_decile, income_rank FROM deprivation").fetchone() == (100, 1, 1, None)


def test_boundaries_geojson(ws, tmp_path):
    square = [[-1.40, 50.90], [-1.39, 50.90], [-1.39, 50.91], [-1.40, 50.91], [-1.40, 50.90]]
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"LSOA21CD": "E01000001", "LSOA21NM": "A 001A"},
         "geometry": {"type": "Polygon", "coordinates": [square]}},
        {"type": "Feature", "properties": {"LSOA21CD": "E01000002", "LSOA21NM": "A 001B"}, "geometry": None}]}
    path = write_csv(tmp_path / "b.geojson", json.dumps(fc))
    s = ingest_boundaries(ws, path, as_at=date(2025, 1, 1))
    assert (s["rows_loaded"], s["rows_quarantined"], s["level"]) == (1, 1, "lsoa21")
    area = connect(ws).execute("SELECT area_km2 FROM boundaries").fetchone()[0]
    assert area == pytest.approx(0.70 * 1.11, rel=0.05)  # ~0.70 km east-west x 1.11 km north-south
    assert ingest_boundaries(ws, path)["files_unchanged"] == 1


def test_unreadable_boundaries(ws, tmp_path):
    path = write_csv(tmp_path / "b.geojson", "{not json")
    with pytest.raises(InputError, match="cannot be read"):
        ingest_boundaries(ws, path)
