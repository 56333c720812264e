"""Homicide records (`vrp ingest homicides`): canonical and mapped headers, the closed lists, the
derived domestic flag, quarantine with exact lines, file-level faults and re-loads."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import pyarrow.parquet as pq
import pytest

from tests.conftest import workspace_state, write_csv
from vrp.errors import InputError, VrpError
from vrp.ingest.homicides import ingest_homicides
from vrp.ingest.values import pseudonymiser
from vrp.lake import connect, current_snapshots

pytestmark = pytest.mark.backends  # app state on SQLite and on PostgreSQL

AS_AT = date(2025, 6, 1)
HEADER = "case_ref,recorded_date,offence_date,victim_id,victim_age,victim_sex,method,relationship,lsoa_code,case_status\n"
ROWS = [
    "H1,2024-03-02,2024-03-01,V-1,19,M,sharp_instrument,stranger,E01000001,",
    "H2,2024-04-02,,V-2,40,female,hitting kicking,partner,e01000002,homicide",
    "H3,2024-04-09,2024-04-01,,,,shooting,no_suspect,,",
    "H4,2024-05-01,2024-04-30,V-4,71,F,Strangulation,Family,E01000003,no_longer_homicide",
    "H5,2024-05-02,,V-5,2,U,blunt-instrument,ex-partner,,",
    "H6,2024-05-03,,V-6,30,M,unknown,not_known,,",
    "H7,2024-05-04,,V-7,30,M,other,friend_acquaintance,,",
    "H8,2024-05-05,,V-8,30,M,poisoning,other_known,,",
]
FORCE_HEADER = "Case No,Recorded,Offence Date,Victim URN,Age,Sex,Method of Killing,Relationship,LSOA,Status,Notes\n"
FORCE_MAPPING = """
dataset = "homicides"
source = "Test Constabulary"
date_format = "%d/%m/%Y"
[columns]
case_ref = "Case No"
recorded_date = "Recorded"
offence_date = "Offence Date"
victim_id = "Victim URN"
victim_age = "Age"
victim_sex = "Sex"
method = "Method of Killing"
relationship = "Relationship"
lsoa_code = "LSOA"
case_status = "Status"
[values.method]
"Knife" = "sharp_instrument"
"Kicked" = "hitting_kicking"
[values.relationship]
"Wife" = "partner"
"Son" = "family"
"None identified" = "no_suspect"
"""


def homicide_file(tmp_path, rows, name="homicides.csv", header=HEADER):
    return write_csv(tmp_path / name, header + "\n".join(rows) + "\n")


def test_canonical_file_loads_every_field_and_derives_domestic(ws, tmp_path):
    summary = ingest_homicides(ws, [homicide_file(tmp_path, ROWS)], as_at=AS_AT)
    assert (summary["rows_in"], summary["rows_loaded"], summary["rows_quarantined"]) == (8, 8, 0)
    con = connect(ws)
    rows = {r[0]: r for r in con.execute("""SELECT case_ref, recorded_date, offence_date, victim_age, victim_sex, method,
        relationship, domestic, lsoa_code, case_status, month, victim_pid FROM homicides""").fetchall()}
    assert rows["H1"][:11] == ("H1", date(2024, 3, 2), date(2024, 3, 1), 19, "male", "sharp_instrument", "stranger",
                               False, "E01000001", "homicide", "2024-03")
    assert rows["H2"][2:11] == (None, 40, "female", "hitting_kicking", "partner", True, "E01000002", "homicide", "2024-04")
    assert rows["H3"][3:10] == (None, None, "shooting", "no_suspect", False, None, "homicide")
    assert rows["H4"][5:10] == ("strangulation", "family", True, "E01000003", "no_longer_homicide")
    assert rows["H5"][5:8] == ("blunt_instrument", "ex_partner", True)
    # Home Office domestic homicide: partner, ex-partner, family. No suspect / not known count as non-domestic.
    assert {k: r[7] for k, r in rows.items()} == {"H1": False, "H2": True, "H3": False, "H4": True, "H5": True,
                                                  "H6": False, "H7": False, "H8": False}
    # The victim id is pseudonymised with the workspace key (so it links to crimes.victim_pid) and never stored raw.
    assert rows["H1"][11] == pseudonymiser(ws.pseudonym_key)("V-1") and rows["H3"][11] is None
    raw = b"".join(p.read_bytes() for p in ws.lake.rglob("*.parquet"))
    assert b"V-1" not in raw
    assert {(s.source, s.period) for s in current_snapshots(ws, "homicides")} == {
        ("homicide-index", m) for m in ("2024-03", "2024-04", "2024-05")}
    stored = pq.read_table(next(ws.lake.glob("homicides/**/*.parquet"))).schema.names
    assert stored[-3:] == ["source_file", "ingest_run", "as_at"] and "domestic" in stored


def test_domestic_is_never_read_from_the_file(ws, tmp_path):
    path = homicide_file(tmp_path, ["D1,2024-03-02,,,,,other,stranger,,,true"], header=HEADER.rstrip("\n") + ",domestic\n")
    ingest_homicides(ws, [path], as_at=AS_AT)
    assert connect(ws).execute("SELECT domestic FROM homicides").fetchall() == [(False,)]


@pytest.mark.parametrize("row,field,reason", [
    (",2024-03-02,,,,,other,stranger,,", "case_ref", "case reference is blank"),
    ("B1,2024-02-30,,,,,other,stranger,,", "recorded_date", "'2024-02-30' is not a date in the format %Y-%m-%d"),
    ("B2,,,,,,other,stranger,,", "recorded_date", "recorded date is blank"),
    ("B3,2026-01-01,,,,,other,stranger,,", "recorded_date", "after the as-at date"),
    ("B4,2024-03-02,2024-03-05,,,,other,stranger,,", "offence_date", "offence date '2024-03-05' is after the recorded date"),
    ("B5,2024-03-02,,,,,drowning,stranger,,", "method", "unknown method of killing 'drowning'"),
    ("B6,2024-03-02,,,,,,stranger,,", "method", "method of killing is blank"),
    ("B7,2024-03-02,,,,,other,cousin,,", "relationship", "unknown relationship 'cousin'"),
    ("B8,2024-03-02,,,,,other,,,", "relationship", "relationship is blank"),
    ("B9,2024-03-02,,,230,,other,stranger,,", "victim_age", "outside 0..120"),
    ("B10,2024-03-02,,,12.5,,other,stranger,,", "victim_age", "not a whole number"),
    ("B11,2024-03-02,,,,Q,other,stranger,,", "victim_sex", "unknown victim sex 'Q'"),
    ("B12,2024-03-02,,,,,other,stranger,Portwell,", "lsoa_code", "'Portwell' is not an LSOA code"),
    ("B13,2024-03-02,,,,,other,stranger,,closed", "case_status", "unknown case status 'closed'"),
    ("B14,2024-03-02,,,,,other,stranger", "", "wrong number of fields"),
])
def test_row_faults_go_to_quarantine_with_line_and_field(ws, tmp_path, row, field, reason):
    summary = ingest_homicides(ws, [homicide_file(tmp_path, ROWS[:2] + [row] + ROWS[2:3])], as_at=AS_AT)
    assert (summary["rows_in"], summary["rows_loaded"], summary["rows_quarantined"]) == (4, 3, 1)
    (q,) = summary["quarantine_sample"]
    assert (q["file"], q["line"], q["field"]) == ("homicides.csv", 4, field) and reason in q["reason"]
    assert connect(ws).execute("SELECT count(*) FROM homicides").fetchone()[0] == 3


def test_mapped_force_headers_and_value_maps(ws, tmp_path):
    mapping = write_csv(tmp_path / "force_homicides.toml", FORCE_MAPPING)
    rows = ["WX-1,02/03/2024,01/03/2024,V9,33,M,Knife,Wife,E01000001,Homicide,free text",
            "WX-2,05/03/2024,,V10,5,F,Kicked,Son,,,",
            "WX-3,06/03/2024,,,,,Sharp instrument,None identified,,,",
            "WX-4,31/03/2024,,,,,Spell,Son,,,"]
    summary = ingest_homicides(ws, [homicide_file(tmp_path, rows, "force.csv", FORCE_HEADER)], str(mapping), as_at=AS_AT)
    assert (summary["rows_loaded"], summary["rows_quarantined"]) == (3, 1)
    q = summary["quarantine_sample"][0]
    assert (q["line"], q["field"]) == (5, "Method of Killing")  # the partner's own header, in the message
    got = connect(ws).execute("SELECT case_ref, method, relationship, domestic FROM homicides ORDER BY 1").fetchall()
    assert got == [("WX-1", "sharp_instrument", "partner", True), ("WX-2", "hitting_kicking", "family", True),
                   ("WX-3", "sharp_instrument", "no_suspect", False)]
    assert {s.source for s in current_snapshots(ws, "homicides")} == {"Test Constabulary"}


def test_source_option_labels_the_snapshots(ws, tmp_path):
    ingest_homicides(ws, [homicide_file(tmp_path, ROWS[:1])], source="Home Office HI", as_at=AS_AT)
    assert [s.source for s in current_snapshots(ws, "homicides")] == ["Home Office HI"]


@pytest.mark.parametrize("content,message", [
    (HEADER.replace(",method,", ",weapon,") + ROWS[0] + "\n", "header has no column 'method' (mapped to method)"),
    (HEADER.replace("case_ref,", "case_ref,case_ref,") + "\n", "column 'case_ref' appears twice in the header"),
    (HEADER + "H1,2024-03-02,,,,,other,stranger,,\nH2,2024-03-02,,,,,other,stranger,Caf\xe9,\n", "line 3: not UTF-8"),
    ("", "file is empty"),
])
def test_file_level_faults_are_one_line_errors_and_change_nothing(ws, tmp_path, content, message):
    ingest_homicides(ws, [homicide_file(tmp_path, ROWS[:1], "good.csv")], as_at=AS_AT)
    data = content.encode("latin-1") if "\xe9" in content else content.encode()
    bad = write_csv(tmp_path / "bad.csv", data)
    before = workspace_state(ws)
    with pytest.raises(InputError) as err:
        ingest_homicides(ws, [homicide_file(tmp_path, ROWS[1:3], "other.csv"), bad], as_at=AS_AT)
    assert str(err.value).startswith(str(bad)) and message in str(err.value) and "\n" not in str(err.value)
    assert workspace_state(ws) == before


def test_mapping_for_another_dataset_or_outside_the_closed_list_is_refused(ws, tmp_path):
    crimes = write_csv(tmp_path / "crimes.toml", '[columns]\ncrime_ref = "Ref"\n')
    with pytest.raises(VrpError, match="is for dataset 'crimes', not 'homicides'"):
        ingest_homicides(ws, [], str(crimes))
    wrong = write_csv(tmp_path / "wrong.toml", 'dataset = "homicides"\n[values.method]\nKnife = "stabbing"\n')
    with pytest.raises(VrpError, match="maps 'knife' to 'stabbing', which is not one of sharp_instrument"):
        ingest_homicides(ws, [], str(wrong))
    field = write_csv(tmp_path / "field.toml", 'dataset = "homicides"\n[columns]\ndomestic = "DA"\n')
    with pytest.raises(VrpError, match="'domestic' is not a canonical field of homicides"):
        ingest_homicides(ws, [], str(field))


def test_loading_the_same_file_again_is_a_no_op(ws, tmp_path):
    path = homicide_file(tmp_path, ROWS)
    ingest_homicides(ws, [path], as_at=AS_AT)
    before = workspace_state(ws)
    again = ingest_homicides(ws, [path], as_at=AS_AT)
    assert (again["files_loaded"], again["files_unchanged"], again["rows_in"], again["run_id"]) == (0, 1, 0, None)
    assert workspace_state(ws) == before


def vrp(*args):
    return subprocess.run([sys.executable, "-m", "vrp", *args], capture_output=True, text=True)


def test_cli_json_and_errors(ws, tmp_path):
    path = homicide_file(tmp_path, ROWS[:3] + ["X,2024-03-02,,,,,drowning,stranger,,"])
    r = vrp("ingest", "homicides", str(path), "--workspace", str(ws.root), "--as-at", "2025-01-31", "--json")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert (summary["dataset"], summary["as_at"], summary["rows_in"], summary["rows_loaded"]) == ("homicides", "2025-01-31", 4, 3)
    assert summary["quarantine_sample"] == [{"file": "homicides.csv", "line": 5, "field": "method",
                                             "reason": summary["quarantine_sample"][0]["reason"]}]
    bad = homicide_file(tmp_path, ROWS[:1], "bad.csv", HEADER.replace("relationship", "rel"))
    r = vrp("ingest", "homicides", str(bad), "--workspace", str(ws.root))
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1
    assert f"{bad}, line 1, field 'relationship': header has no column 'relationship'" in r.stderr


def test_mapping_named_in_vrp_toml(ws, tmp_path):
    from vrp.workspace import open_workspace

    cfg = ws.root / "vrp.toml"
    body = FORCE_MAPPING.replace("[columns]", "[mappings.hi.columns]").replace("[values.method]", "[mappings.hi.values.method]")
    body = body.replace("[values.relationship]", "[mappings.hi.values.relationship]")
    cfg.write_text(cfg.read_text() + "\n[mappings.hi]" + body)
    rows = ["WX-1,02/03/2024,01/03/2024,V9,33,M,Knife,Wife,E01000001,Homicide,"]
    summary = ingest_homicides(open_workspace(ws.root), [homicide_file(tmp_path, rows, "force.csv", FORCE_HEADER)], "hi",
                               as_at=AS_AT)
    assert summary["rows_loaded"] == 1
    assert connect(ws).execute("SELECT method, domestic FROM homicides").fetchall() == [("sharp_instrument", True)]
