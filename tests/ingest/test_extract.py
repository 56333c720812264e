from datetime import date

import pytest

from tests.conftest import workspace_state, write_csv
from vrp.errors import InputError, VrpError
from vrp.ingest.extract import ingest_police_extract
from vrp.lake import connect

pytestmark = pytest.mark.backends  # app state on SQLite and on PostgreSQL

HEADER = "Ref,Recorded,From,To,Class,Sub,Knife,DA,Age,Sex,E,N,Lat,Lon,LSOA,Status,Victim,Suspects\n"
MAPPING = """
source = "Test Constabulary"
date_format = "%d/%m/%Y"
datetime_format = "%d/%m/%Y %H:%M"
[columns]
crime_ref = "Ref"
recorded_date = "Recorded"
committed_from = "From"
committed_to = "To"
offence_code = "Class"
offence_subcode = "Sub"
knife_flag = "Knife"
domestic_flag = "DA"
victim_age = "Age"
victim_sex = "Sex"
easting = "E"
northing = "N"
latitude = "Lat"
longitude = "Lon"
lsoa_code = "LSOA"
crime_status = "Status"
victim_id = "Victim"
suspect_ids = "Suspects"
[values.offence_subcode]
S20 = "gbh_s20"
[values.crime_status]
Confirmed = "confirmed"
Void = "cancelled"
"""
ROWS = [
    "A1,03/01/2024,02/01/2024 22:00,02/01/2024 23:00,05D,,Y,N,19,M,450000,120000,,,E01000001,Confirmed,PNC-1,PNC-7;PNC-8",
    "A2,04/01/2024,,,008N,S20,,Y,30,F,,,50.9,-1.4,E01000002,Void,PNC-2,",
    "A3,05/01/2024,,,10D,,,N,16,M,,,,,,Confirmed,, PNC-7 ; ",
    "A4,06/01/2024,,,4/1,,N,,55,U,450000,120000,,,E01000001,Confirmed,,",
]


@pytest.fixture
def files(tmp_path):
    mapping = write_csv(tmp_path / "force.toml", MAPPING)
    return tmp_path, mapping


def extract(tmp_path, rows, name="force.csv"):
    return write_csv(tmp_path / name, HEADER + "\n".join(rows) + "\n")


def test_mapped_extract_normalises_onto_canonical_schema(ws, files):
    tmp, mapping = files
    summary = ingest_police_extract(ws, [extract(tmp, ROWS)], str(mapping), as_at=date(2024, 6, 1))
    assert (summary["rows_in"], summary["rows_loaded"], summary["rows_quarantined"]) == (4, 4, 0)
    con = connect(ws)
    rows = {r[0]: r for r in con.execute("""SELECT crime_ref, offence_code, offence_subcode, knife_flag, domestic_flag,
        victim_sex, crime_status, round(latitude, 3), round(easting, -2), month, len(suspect_pids), victim_pid FROM crimes""").fetchall()}
    assert rows["A1"][1:7] == ("5D", None, "yes", False, "male", "confirmed")
    assert rows["A2"][1:7] == ("8N", "gbh_s20", None, True, "female", "cancelled")  # in the knife collection: blank stays missing
    assert rows["A3"][3] == "not_applicable"  # possession is outside the knife collection
    assert rows["A4"][1] == "4.1" and rows["A4"][3] == "no"
    assert rows["A1"][7] == pytest.approx(50.977, abs=1e-3)  # lat/long filled from BNG
    assert rows["A2"][8] == pytest.approx(442100, abs=200)   # BNG filled from lat/long
    assert rows["A1"][9] == "2024-01" and rows["A1"][10] == 2 and rows["A3"][10] == 1
    # Person ids are pseudonymised: stable within the workspace, never the raw value.
    suspects = con.execute("SELECT suspect_pids FROM crimes WHERE crime_ref IN ('A1', 'A3') ORDER BY crime_ref").fetchall()
    assert suspects[1][0][0] == suspects[0][0][0]
    raw = b"".join(p.read_bytes() for p in ws.lake.rglob("*.parquet"))
    assert b"PNC-" not in raw


@pytest.mark.parametrize("row,field,reason", [
    ("B1,31/02/2024,,,5D,,Y,N,19,M,,,,,,Confirmed,,", "Recorded", "'31/02/2024' is not a date"),
    ("B2,03/01/2030,,,5D,,Y,N,19,M,,,,,,Confirmed,,", "Recorded", "after the as-at date"),
    ("B3,03/01/2024,,,999Z,,Y,N,19,M,,,,,,Confirmed,,", "Class", "unknown Home Office offence code '999Z'"),
    ("B4,03/01/2024,,,5D,,Maybe,N,19,M,,,,,,Confirmed,,", "Knife", "unknown knife flag 'Maybe'"),
    ("B5,03/01/2024,,,5D,,Y,N,230,M,,,,,,Confirmed,,", "Age", "outside 0..120"),
    ("B6,03/01/2024,,,5D,,Y,N,19,M,abc,120000,,,,Confirmed,,", "E", "easting 'abc' is not a number"),
    ("B7,03/01/2024,05/01/2024 10:00,,5D,,Y,N,19,M,,,,,,Confirmed,,", "From", "after the recorded date"),
    ("B8,03/01/2024,02/01/2024 10:00,01/01/2024 10:00,5D,,Y,N,19,M,,,,,,Confirmed,,", "From", "after committed-to"),
    (",03/01/2024,,,5D,,Y,N,19,M,,,,,,Confirmed,,", "Ref", "crime reference is blank"),
    ("B9,03/01/2024,,,5D,,Y,N,19,M,,,,,,Lost,,", "Status", "unknown crime status 'Lost'"),
    ("B10,03/01/2024,,,5D,,Y,maybe,19,M,,,,,,Confirmed,,", "DA", "unknown flag value 'maybe'"),
])
def test_row_faults_go_to_quarantine(ws, files, row, field, reason):
    tmp, mapping = files
    summary = ingest_police_extract(ws, [extract(tmp, ROWS[:1] + [row])], str(mapping), as_at=date(2024, 6, 1))
    assert summary["rows_in"] == 2 and summary["rows_loaded"] == 1 and summary["rows_quarantined"] == 1
    (q,) = summary["quarantine_sample"]
    assert (q["line"], q["field"]) == (3, field) and reason in q["reason"]


def test_mapped_header_missing_is_a_file_error(ws, files):
    tmp, mapping = files
    path = write_csv(tmp / "bad.csv", HEADER.replace("Recorded", "Date") + ROWS[0] + "\n")
    before = workspace_state(ws)
    with pytest.raises(InputError, match="bad.csv, line 1, field 'Recorded': header has no column 'Recorded'"):
        ingest_police_extract(ws, [path], str(mapping))
    assert workspace_state(ws) == before


def test_canonical_headers_need_no_mapping(ws, tmp_path):
    path = write_csv(tmp_path / "c.csv", "crime_ref,recorded_date,offence_code,knife_flag\nX1,2024-02-01,34B,yes\nX2,2024-02-02,46,\n")
    summary = ingest_police_extract(ws, [path], None, as_at=date(2024, 6, 1))
    assert summary["rows_loaded"] == 2
    assert connect(ws).execute("SELECT knife_flag FROM crimes ORDER BY crime_ref").fetchall() == [("yes",), ("not_applicable",)]


def test_unknown_mapping_is_an_error(ws):
    with pytest.raises(VrpError, match="mapping 'nope' is neither in vrp.toml"):
        ingest_police_extract(ws, [], "nope")


def test_mapping_from_vrp_toml(ws, files):
    tmp, _ = files
    cfg = ws.root / "vrp.toml"
    cfg.write_text(cfg.read_text() + "\n" + MAPPING.replace("[columns]", "[mappings.test.columns]")
                   .replace("[values.offence_subcode]", "[mappings.test.values.offence_subcode]")
                   .replace("[values.crime_status]", "[mappings.test.values.crime_status]")
                   .replace('source = "Test Constabulary"', '[mappings.test]\nsource = "Test Constabulary"'))
    from vrp.workspace import open_workspace

    summary = ingest_police_extract(open_workspace(ws.root), [extract(tmp, ROWS)], "test", as_at=date(2024, 6, 1))
    assert summary["rows_loaded"] == 4


def test_quoted_free_text_may_span_lines_and_later_lines_stay_exact(ws, tmp_path):
    path = write_csv(tmp_path / "m.csv", 'crime_ref,recorded_date,offence_code,offence_description\n'
                                         'M1,2024-02-01,34B,"phone taken,\nvictim pushed"\nM2,2024-02-30,34B,x\n')
    summary = ingest_police_extract(ws, [path], None, as_at=date(2024, 6, 1))
    assert summary["rows_loaded"] == 1 and summary["quarantine_sample"][0]["line"] == 4
    assert connect(ws).execute("SELECT offence_description FROM crimes").fetchone()[0] == "phone taken,\nvictim pushed"
