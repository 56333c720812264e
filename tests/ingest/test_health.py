"""Health partners' files: ED assault attendances (`vrp ingest ed-attendances`) and hospital
admission aggregates (`vrp ingest admissions`)."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import pytest

from tests.conftest import workspace_state, write_csv
from vrp.errors import InputError, VrpError
from vrp.ingest.health import (classify_weapon, ingest_admissions, ingest_ed_attendances, normalise_cause,
                               parse_admission_age_band, parse_period, patient_identifier)
from vrp.ingest.values import Invalid
from vrp.lake import connect, current_snapshots

pytestmark = pytest.mark.backends  # app state on SQLite and on PostgreSQL

AS_AT = date(2025, 6, 1)


def vrp(*args):
    return subprocess.run([sys.executable, "-m", "vrp", *args], capture_output=True, text=True)


# ---------------------------------------------------------------- ED attendances

ED_HEADER = ("record_id,site_code,attendance_date,attendance_time,assault_date,assault_time,assault_method,"
             "location_type,location_text,lsoa_code,age,sex\n")
ED_ROWS = [
    'A1,rxx01,2024-03-02,23:10,2024-03-02,22:50,stabbed with kitchen knife,Street,"Castle St, by the bus stop",E01000001,19,M',
    "A2,RXX01,2024-03-03,1:05,2024-03-02,23:50,punched,Licensed Premises,The Red Lion,,25,F",
    "A3,RXX02,2024-03-31,21:00,,,glass bottle,home,,e01000002,,",
    "A4,RXX02,2024-04-01,02:00:30,2024-03-31,,,,,,,unknown",
    "A5,RXX02,2024-04-02,12:00,2024-04-02,11:00,hit with a baseball bat,,,,40,x",
]
ED_MAPPING = """
dataset = "ed_attendances"
date_format = "%d/%m/%Y"
[columns]
record_id = "Attendance ID"
site_code = "Site"
attendance_date = "Arrival Date"
attendance_time = "Arrival Time"
assault_method = "Method"
lsoa_code = "Incident LSOA"
sex = "Gender"
[values.sex]
"Not known" = "unknown"
[values.weapon]
"screwdriver" = "knife_sharp"
"K01" = "knife_sharp"
"B" = "glass_bottle"
"""


def ed_file(tmp_path, rows, name="ed.csv", header=ED_HEADER):
    return write_csv(tmp_path / name, header + "\n".join(rows) + "\n")


def test_ed_file_loads_every_field(ws, tmp_path):
    summary = ingest_ed_attendances(ws, [ed_file(tmp_path, ED_ROWS)], as_at=AS_AT)
    assert (summary["rows_in"], summary["rows_loaded"], summary["rows_quarantined"]) == (5, 5, 0)
    con = connect(ws)
    rows = {r[0]: r for r in con.execute("""SELECT record_id, site_code, attendance_date, attendance_time, assault_date,
        assault_time, assault_method, weapon, location_type, location_text, lsoa_code, age, sex, month
        FROM ed_attendances""").fetchall()}
    assert rows["A1"] == ("A1", "RXX01", date(2024, 3, 2), "23:10", date(2024, 3, 2), "22:50", "stabbed with kitchen knife",
                          "knife_sharp", "street", "Castle St, by the bus stop", "E01000001", 19, "male", "2024-03")
    assert rows["A2"][3:] == ("01:05", date(2024, 3, 2), "23:50", "punched", "body_part", "licensed_premises",
                              "The Red Lion", None, 25, "female", "2024-03")
    assert rows["A3"][7:] == ("glass_bottle", "home", None, "E01000002", None, None, "2024-03")
    assert rows["A4"][3:8] == ("02:00", date(2024, 3, 31), None, None, "unknown") and rows["A4"][12:] == ("unknown", "2024-04")
    assert rows["A5"][7] == "blunt" and rows["A5"][12] == "other"
    # Snapshots by ED site and attendance month.
    assert {(s.source, s.period) for s in current_snapshots(ws, "ed_attendances")} == {
        ("RXX01", "2024-03"), ("RXX02", "2024-03"), ("RXX02", "2024-04")}


@pytest.mark.parametrize("text,weapon", [
    ("stabbed", "knife_sharp"), ("KNIFE", "knife_sharp"), ("bladed article", "knife_sharp"), ("machete", "knife_sharp"),
    ("scissors", "knife_sharp"), ("sharp object", "knife_sharp"), ("glassed", "glass_bottle"), ("hit with bottle", "glass_bottle"),
    ("baseball bat", "blunt"), ("hit with stick", "blunt"), ("hammer", "blunt"), ("blunt object", "blunt"),
    ("iron bar", "blunt"), ("punched", "body_part"), ("fist", "body_part"), ("kicked", "body_part"),
    ("feet", "body_part"), ("head butt", "body_part"), ("hand", "body_part"), ("shot", "firearm"),
    ("gunshot wound", "firearm"), ("firearm", "firearm"), ("", "unknown"), ("  ", "unknown"), ("Not known", "unknown"),
    ("bitten", "other"), ("pushed over", "other"), ("assaulted in an establishment", "other"),
    ("battered", "other"), ("punched then stabbed", "knife_sharp"), ("knife_sharp", "knife_sharp"),
])
def test_weapon_keyword_classifier(text, weapon):
    assert classify_weapon(text) == weapon


def test_weapon_value_map_comes_before_the_keywords():
    table = {"k01": "knife_sharp", "stick of rock": "other"}
    assert classify_weapon("K01", table) == "knife_sharp" and classify_weapon("Stick of rock", table) == "other"


@pytest.mark.parametrize("row,field,reason", [
    (",RXX01,2024-03-02,,,,punched,,,,,", "record_id", "record id is blank"),
    ("B1,,2024-03-02,,,,punched,,,,,", "site_code", "site code is blank"),
    ("B2,RXX01,,,,,punched,,,,,", "attendance_date", "attendance date is blank"),
    ("B3,RXX01,2024-02-30,,,,punched,,,,,", "attendance_date", "'2024-02-30' is not a date in the format %Y-%m-%d"),
    ("B4,RXX01,2025-07-01,,,,punched,,,,,", "attendance_date", "after the as-at date"),
    ("B5,RXX01,2024-03-02,24:00,,,punched,,,,,", "attendance_time", "attendance time '24:00' is not a time HH:MM"),
    ("B6,RXX01,2024-03-02,,2024-03-04,,punched,,,,,", "assault_date", "assault date '2024-03-04' is after the attendance date"),
    ("B7,RXX01,2024-03-02,,03/02/2024,,punched,,,,,", "assault_date", "not a date"),
    ("B8,RXX01,2024-03-02,10:00,2024-03-02,11:30,punched,,,,,", "assault_time", "after the attendance time on the same day"),
    ("B9,RXX01,2024-03-02,,,noon,punched,,,,,", "assault_time", "not a time"),
    ("B10,RXX01,2024-03-02,,,,punched,,,E1234,,", "lsoa_code", "'E1234' is not an LSOA code"),
    ("B11,RXX01,2024-03-02,,,,punched,,,,230,", "age", "age '230' is outside 0..120"),
    ("B12,RXX01,2024-03-02,,,,punched,,,,adult,", "age", "age 'adult' is not a number"),
    ("B13,RXX01,2024-03-02,,,,punched,,,,,Q", "sex", "unknown sex 'Q'"),
    ("B14,RXX01,2024-03-02,,,,punched", "", "wrong number of fields"),
])
def test_ed_row_faults_go_to_quarantine(ws, tmp_path, row, field, reason):
    summary = ingest_ed_attendances(ws, [ed_file(tmp_path, ED_ROWS[:2] + [row] + ED_ROWS[2:])], as_at=AS_AT)
    assert (summary["rows_in"], summary["rows_loaded"], summary["rows_quarantined"]) == (6, 5, 1)
    (q,) = summary["quarantine_sample"]
    assert (q["line"], q["field"]) == (4, field) and reason in q["reason"]


@pytest.mark.parametrize("column", ["NHS Number", "nhs_number", "NHSNo", "Patient Name", "name", "Forename", "Surname",
                                    "First Name", "DOB", "Date of Birth", "date_of_birth", "Postcode", "Patient Postcode",
                                    "Home Address", "address_line_1", "Telephone", "Phone Number", "Hospital Number",
                                    "MRN", "Patient ID"])
def test_a_patient_identifier_column_refuses_the_whole_file(ws, tmp_path, column):
    good = ed_file(tmp_path, ED_ROWS[:1], "good.csv")
    bad = ed_file(tmp_path, [row + ",x" for row in ED_ROWS], "bad.csv", ED_HEADER.rstrip("\n") + f",{column}\n")
    before = workspace_state(ws)
    with pytest.raises(InputError) as err:
        ingest_ed_attendances(ws, [good, bad], as_at=AS_AT)
    message = str(err.value)
    assert message.startswith(f"{bad}, line 1") and f"holds a patient identifier column '{column}'" in message
    assert "ED data must be anonymised before it leaves the NHS" in message and "\n" not in message
    assert workspace_state(ws) == before


@pytest.mark.parametrize("column", ["record_id", "Attendance ID", "Site Code", "Location Description", "Venue Name",
                                    "Incident LSOA", "Age", "Gender", "Assault Method", "Arrival Date", "count",
                                    "area_code", "period"])
def test_ordinary_columns_are_not_patient_identifiers(column):
    assert not patient_identifier(column)


def test_ed_mapping_with_weapon_values_and_site_sources(ws, tmp_path):
    mapping = write_csv(tmp_path / "ed.toml", ED_MAPPING)
    header = "Attendance ID,Site,Arrival Date,Arrival Time,Method,Incident LSOA,Gender,Triage notes\n"
    rows = ["E1,RXX01,02/03/2024,23:00,K01,E01000001,Male,x", "E2,RXX01,02/03/2024,,screwdriver,,Not known,",
            "E3,RXX02,02/03/2024,,b,,Female,", "E4,RXX02,02/03/2024,,stabbed,,Female,"]
    summary = ingest_ed_attendances(ws, [ed_file(tmp_path, rows, "mapped.csv", header)], str(mapping), as_at=AS_AT)
    assert summary["rows_loaded"] == 4
    got = connect(ws).execute("SELECT record_id, assault_method, weapon, sex FROM ed_attendances ORDER BY 1").fetchall()
    assert got == [("E1", "K01", "knife_sharp", "male"), ("E2", "screwdriver", "knife_sharp", "unknown"),
                   ("E3", "b", "glass_bottle", "female"), ("E4", "stabbed", "knife_sharp", "female")]
    assert {s.source for s in current_snapshots(ws, "ed_attendances")} == {"RXX01", "RXX02"}


def test_ed_source_option_and_mapping_checks(ws, tmp_path):
    ingest_ed_attendances(ws, [ed_file(tmp_path, ED_ROWS)], source="Wessex EDs", as_at=AS_AT)
    assert {s.source for s in current_snapshots(ws, "ed_attendances")} == {"Wessex EDs"}
    wrong = write_csv(tmp_path / "wrong.toml", 'dataset = "ed_attendances"\n[values.weapon]\nK = "knife"\n')
    with pytest.raises(VrpError, match="maps 'k' to 'knife', which is not one of knife_sharp"):
        ingest_ed_attendances(ws, [], str(wrong))
    other = write_csv(tmp_path / "other.toml", 'dataset = "admissions"\n')
    with pytest.raises(VrpError, match="is for dataset 'admissions', not 'ed_attendances'"):
        ingest_ed_attendances(ws, [], str(other))


@pytest.mark.parametrize("content,message", [
    (ED_HEADER.replace("site_code,", "site,") + ED_ROWS[0] + "\n", "header has no column 'site_code'"),
    (ED_HEADER.replace(",assault_method", ",method") + ED_ROWS[0] + "\n", "header has no column 'assault_method'"),
    (ED_HEADER + ED_ROWS[0] + "\n" + "A9,RXX01,2024-03-02,,,,coup de t\xeate,,,,,\n", "line 3: not UTF-8"),
])
def test_ed_file_level_faults(ws, tmp_path, content, message):
    bad = write_csv(tmp_path / "bad.csv", content.encode("latin-1"))
    before = workspace_state(ws)
    with pytest.raises(InputError, match=message):
        ingest_ed_attendances(ws, [bad], as_at=AS_AT)
    assert workspace_state(ws) == before


def test_ed_reload_is_a_no_op_and_cli(ws, tmp_path):
    path = ed_file(tmp_path, ED_ROWS + ["Z,RXX01,2024-02-30,,,,punched,,,,,"])
    r = vrp("ingest", "ed-attendances", str(path), "--workspace", str(ws.root), "--as-at", "2025-01-31", "--json")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert (summary["dataset"], summary["rows_in"], summary["rows_loaded"], summary["rows_quarantined"]) == (
        "ed_attendances", 6, 5, 1)
    assert (summary["quarantine_sample"][0]["line"], summary["quarantine_sample"][0]["field"]) == (7, "attendance_date")
    before = workspace_state(ws)
    again = json.loads(vrp("ingest", "ed-attendances", str(path), "--workspace", str(ws.root), "--json").stdout)
    assert (again["files_unchanged"], again["rows_in"]) == (1, 0) and workspace_state(ws) == before
    bad = ed_file(tmp_path, [ED_ROWS[0] + ",1"], "ids.csv", ED_HEADER.rstrip("\n") + ",NHS Number\n")
    r = vrp("ingest", "ed-attendances", str(bad), "--workspace", str(ws.root))
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1
    assert "holds a patient identifier column 'NHS Number'" in r.stderr and workspace_state(ws) == before


# ---------------------------------------------------------------- admissions

ADM_HEADER = "period,area_code,age_band,sex,cause,diagnosis_position,admission_method,counting_unit,count\n"
ADM_ROWS = [
    "2023/24,E06000001,0-17,persons,X99,any,emergency,fae,4",
    "2023/24,e06000001,25+,,x85 - y09,,,,\"1,204\"",
    "2023,E23000001,all,Male,X99,primary,all,FCE,*",
    "2023-07,E01000001,18-24,F,X99,,,admissions,<5",
    "2024-01,W06000015,0-24,,W25,,,,c",
    "2024-02,E07000001,Under 18,,X99,,,,0",
]


def adm_file(tmp_path, rows, name="admissions.csv", header=ADM_HEADER):
    return write_csv(tmp_path / name, header + "\n".join(rows) + "\n")


def test_admissions_load_every_field(ws, tmp_path):
    summary = ingest_admissions(ws, [adm_file(tmp_path, ADM_ROWS)], as_at=AS_AT)
    assert (summary["rows_in"], summary["rows_loaded"], summary["rows_quarantined"]) == (6, 6, 0)
    rows = connect(ws).execute("""SELECT period_start, period_end, area_code, area_level, age_band, age_min, age_max,
        sex, cause, diagnosis_position, admission_method, counting_unit, "count", source_suppressed, month
        FROM admissions ORDER BY period_start, area_code, age_band""").fetchall()
    assert rows == [
        ("2023-01", "2023-12", "E23000001", "pfa", "all", 0, 120, "male", "X99", "primary", "all", "fce", None, True, "2023-01"),
        ("2023-04", "2024-03", "E06000001", "district", "0-17", 0, 17, "persons", "X99", "any", "emergency", "fae", 4, False, "2023-04"),
        ("2023-04", "2024-03", "E06000001", "district", "25+", 25, 120, "persons", "X85-Y09", "any", "emergency", "fae", 1204, False, "2023-04"),
        ("2023-07", "2023-07", "E01000001", "lsoa", "18-24", 18, 24, "female", "X99", "any", "emergency", "admissions", None, True, "2023-07"),
        ("2024-01", "2024-01", "W06000015", "district", "0-24", 0, 24, "persons", "W25", "any", "emergency", "fae", None, True, "2024-01"),
        ("2024-02", "2024-02", "E07000001", "district", "0-17", 0, 17, "persons", "X99", "any", "emergency", "fae", 0, False, "2024-02"),
    ]
    assert {(s.source, s.period) for s in current_snapshots(ws, "admissions")} == {
        ("nhs", m) for m in ("2023-01_to_2023-12", "2023-04_to_2024-03", "2023-07", "2024-01", "2024-02")}


def test_admissions_keep_the_period_as_supplied(ws, tmp_path):
    """The stored `period` column is the supplied text, as the lake's views show it."""
    ingest_admissions(ws, [adm_file(tmp_path, ADM_ROWS)], as_at=AS_AT)
    periods = sorted(r[0] for r in connect(ws).execute("SELECT period FROM admissions").fetchall())
    assert periods == ["2023", "2023-07", "2023/24", "2023/24", "2024-01", "2024-02"]


@pytest.mark.parametrize("text,expected", [
    ("2024-07", ("2024-07", "2024-07")), ("2024/25", ("2024-04", "2025-03")), ("1999/00", ("1999-04", "2000-03")),
    ("2024", ("2024-01", "2024-12")), (" 2024/25 ", ("2024-04", "2025-03")),
])
def test_periods(text, expected):
    assert parse_period(text) == expected


@pytest.mark.parametrize("text", ["2024/26", "2024-13", "2024-25", "24/25", "FY2024", "Q1 2024", "2024/2025"])
def test_bad_periods(text):
    with pytest.raises(Invalid):
        parse_period(text)


@pytest.mark.parametrize("text,expected", [
    ("0-17", ("0-17", 0, 17)), ("18 - 24", ("18-24", 18, 24)), ("25+", ("25+", 25, 120)), ("all", ("all", 0, 120)),
    ("0-120", ("all", 0, 120)), ("65 and over", ("65+", 65, 120)), ("under 18", ("0-17", 0, 17)), ("ALL", ("all", 0, 120)),
])
def test_age_bands(text, expected):
    assert parse_admission_age_band(text) == expected


@pytest.mark.parametrize("text,expected", [("x99", "X99"), ("X85-Y09", "X85-Y09"), ("x85 - y09", "X85-Y09"),
                                           ("X85\u2013Y09", "X85-Y09"), ("W2.5", "W25")])
def test_causes(text, expected):
    assert normalise_cause(text) == expected


@pytest.mark.parametrize("row,field,reason", [
    ("2023/25,E06000001,0-17,,X99,,,,1", "period", "period '2023/25' is not YYYY-MM"),
    ("FY23,E06000001,0-17,,X99,,,,1", "period", "period 'FY23' is not"),
    (",E06000001,0-17,,X99,,,,1", "period", "period is blank"),
    ("2026/27,E06000001,0-17,,X99,,,,1", "period", "starts after the as-at date"),
    ("2023/24,TOTAL,0-17,,X99,,,,1", "area_code", "area code 'TOTAL' is not an LSOA, local authority or police force area code"),
    ("2023/24,E10000001,0-17,,X99,,,,1", "area_code", "is not an LSOA, local authority"),
    ("2023/24,E06000001,old,,X99,,,,1", "age_band", "age band 'old' has no recognisable age range"),
    ("2023/24,E06000001,30-20,,X99,,,,1", "age_band", "no recognisable age range"),
    ("2023/24,E06000001,,,X99,,,,1", "age_band", "age band is blank"),
    ("2023/24,E06000001,0-17,other,X99,,,,1", "sex", "unknown sex 'other'"),
    ("2023/24,E06000001,0-17,,X9,,,,1", "cause", "cause 'X9' is not an ICD-10 code or range"),
    ("2023/24,E06000001,0-17,,Y09-X85,,,,1", "cause", "is not an ICD-10 code or range"),
    ("2023/24,E06000001,0-17,,,,,,1", "cause", "cause is blank"),
    ("2023/24,E06000001,0-17,,X99,secondary,,,1", "diagnosis_position", "unknown diagnosis position 'secondary'"),
    ("2023/24,E06000001,0-17,,X99,,elective,,1", "admission_method", "unknown admission method 'elective'"),
    ("2023/24,E06000001,0-17,,X99,,,spells,1", "counting_unit", "unknown counting unit 'spells'"),
    ("2023/24,E06000001,0-17,,X99,,,,n/a", "count", "count 'n/a' is not a number or a suppression marker"),
    ("2023/24,E06000001,0-17,,X99,,,,", "count", "count is blank"),
    ("2023/24,E06000001,0-17,,X99,,,,-3", "count", "count '-3' is not a whole number"),
    ("2023/24,E06000001,0-17,,X99,,,,2.5", "count", "count '2.5' is not a whole number"),
])
def test_admission_row_faults_go_to_quarantine(ws, tmp_path, row, field, reason):
    summary = ingest_admissions(ws, [adm_file(tmp_path, ADM_ROWS[:1] + [row] + ADM_ROWS[1:])], as_at=AS_AT)
    assert (summary["rows_in"], summary["rows_loaded"], summary["rows_quarantined"]) == (7, 6, 1)
    (q,) = summary["quarantine_sample"]
    assert (q["line"], q["field"]) == (3, field) and reason in q["reason"]


@pytest.mark.parametrize("header,message", [
    (ADM_HEADER.replace("count\n", "admissions\n"), "header has no column 'count'"),
    (ADM_HEADER.replace("age_band,", "ages,"), "header has no column 'age_band'"),
    (ADM_HEADER.rstrip("\n") + ",patient_postcode\n", "holds a patient identifier column 'patient_postcode'; admissions data must be aggregate"),
])
def test_admission_file_level_faults(ws, tmp_path, header, message):
    extra = ",x" if "postcode" in header else ""
    bad = adm_file(tmp_path, [r + extra for r in ADM_ROWS], "bad.csv", header)
    before = workspace_state(ws)
    with pytest.raises(InputError, match=message):
        ingest_admissions(ws, [bad], as_at=AS_AT)
    assert workspace_state(ws) == before


def test_admissions_mapping_reload_and_cli(ws, tmp_path):
    mapping = write_csv(tmp_path / "ics.toml", """dataset = "admissions"
source = "Wessex ICB"
[columns]
period = "Financial Year"
area_code = "LA Code"
age_band = "Age Group"
cause = "ICD-10"
count = "FAEs"
""")
    path = adm_file(tmp_path, ["2023/24,E06000001,0-17,X99,3", "2023/24,E06000001,18-24,X99,*"], "ics.csv",
                    "Financial Year,LA Code,Age Group,ICD-10,FAEs\n")
    r = vrp("ingest", "admissions", str(path), "--mapping", str(mapping), "--workspace", str(ws.root), "--json")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert (summary["dataset"], summary["rows_in"], summary["rows_loaded"], summary["rows_quarantined"]) == ("admissions", 2, 2, 0)
    assert [s.source for s in current_snapshots(ws, "admissions")] == ["Wessex ICB"]
    assert connect(ws).execute('SELECT sum("count"), count(*) FILTER (WHERE source_suppressed) FROM admissions').fetchone() == (3, 1)
    before = workspace_state(ws)
    assert ingest_admissions(ws, [path], str(mapping))["files_unchanged"] == 1 and workspace_state(ws) == before
    r = vrp("ingest", "admissions", str(tmp_path / "missing.csv"), "--workspace", str(ws.root))
    assert r.returncode == 1 and "missing.csv: no such file or folder" in r.stderr
