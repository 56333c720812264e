"""Person-level ingest: identifiers pseudonymised, identities only in the identifiable store, bad
rows quarantined with file, line and field, and reads of identities audited (only those)."""
import duckdb
import pytest
from tests.conftest import write_csv
from tests.test_cli import vrp
from vrp.audit import events
from vrp.errors import VrpError
from vrp.ingest.people import ingest_people
from vrp.lake.read import connect
from vrp.people.identities import read_identities

pytestmark = pytest.mark.backends  # app state on SQLite and on PostgreSQL

POLICE = """record_id,person_ref,first_name,surname,dob,sex,postcode,address,event_date,crime_ref,role
L1,P001,Jack,Smith,2008-03-14,M,so14 7lp,1 High Street,2025-02-01,C1,S
L2,P001,Jack,Smyth,2008-03-14,M,SO14 7LP,,2025-03-14,C2,suspect
L3,P002,Amy,Jones,1990-12-01,F,PO1 2AB,,2025-05-01,C2,victim
,P003,Bob,Brown,1980-01-01,M,,,2025-05-01,C3,victim
L5,P004,Ann,Lee,2026-01-01,F,,,2025-05-01,C3,victim
L6,P005,Ann,Lee,1999-01-01,F,,,2025-05-01,C3,witness
L7,P006,Ann,Lee,01/01/1999,F,,,2025-05-01,C3,victim
"""
EDUCATION = """UPN,Forename,Surname,DOB,Sex,Postcode,Exclusion Start,Category,Reason,School URN,Ref
A1,Jack,Smith,14/03/2008,M,SO14 7LP,03/02/2025,Suspension,OW,123456,E1
A1,Jack,Smith,14/03/2008,M,SO14 7LP,03/02/2025,detention,OW,123456,E2
"""
MAPPING = """dataset = "people_education"
source = "wessex-schools"
date_format = "%d/%m/%Y"
[columns]
record_id = "Ref"
person_ref = "UPN"
first_name = "Forename"
surname = "Surname"
dob = "DOB"
sex = "Sex"
postcode = "Postcode"
event_date = "Exclusion Start"
event_type = "Category"
reason = "Reason"
school = "School URN"
"""


def test_police_links_pseudonymised_and_quarantined(ws, tmp_path):
    summary = ingest_people(ws, "people_police", [write_csv(tmp_path / "police.csv", POLICE)], as_at=None)
    assert (summary["rows_in"], summary["rows_loaded"], summary["rows_quarantined"]) == (7, 3, 4)
    reasons = {(q["line"], q["field"]): q["reason"] for q in summary["quarantine_sample"]}
    assert reasons[(5, "record_id")] == "record id is blank"
    assert reasons[(6, "dob")] == "date of birth '2026-01-01' is after the event date"
    assert "unknown role 'witness'" in reasons[(7, "role")]
    assert "not a date in the format %Y-%m-%d" in reasons[(8, "dob")]
    con = connect(ws)
    rows = con.execute("SELECT * FROM people_police ORDER BY event_date").df()
    # nothing identifying in the lake: no names, no date of birth, no full postcode, no raw ids
    assert not {"first_name", "surname", "dob", "postcode", "address", "record_id", "person_ref"} & set(rows.columns)
    lake_text = "".join(str(v) for v in rows.to_numpy().ravel())
    for secret in ("Smith", "Jack", "2008-03-14", "7LP", "P001", "L1"):
        assert secret not in lake_text
    assert rows["age_at_event"].tolist() == [16, 17, 34]  # birthday on the event day counts
    assert rows["postcode_district"].tolist() == ["SO14", "SO14", "PO1"]
    assert rows["person_key"][0] == rows["person_key"][1] != rows["person_key"][2]
    assert rows["role"].tolist() == ["suspect", "suspect", "victim"]
    # the identifiable store is not a DuckDB view and sits outside the lake
    assert not any("identifiable" in str(p) for p in ws.lake.rglob("*"))
    with pytest.raises(duckdb.CatalogException):
        con.execute("SELECT * FROM identifiable")
    assert events(ws) == []  # loading writes no audit events: nothing identifiable was read


def test_partner_mapping_and_closed_exclusion_types(ws, tmp_path):
    mapping = write_csv(tmp_path / "edu.toml", MAPPING)
    summary = ingest_people(ws, "people_education", [write_csv(tmp_path / "edu.csv", EDUCATION)], str(mapping))
    assert (summary["rows_loaded"], summary["rows_quarantined"]) == (1, 1)
    assert summary["quarantine_sample"][0]["field"] == "Category"
    row = connect(ws).execute("SELECT event_type, reason, school, age_at_event FROM people_education").fetchone()
    assert row == ("suspension", "OW", "123456", 16)


def test_identities_only_with_a_purpose_and_every_read_audited(ws, tmp_path):
    ingest_people(ws, "people_police", [write_csv(tmp_path / "police.csv", POLICE)])
    with pytest.raises(VrpError, match="needs a purpose"):
        read_identities(ws, "", action="test")
    assert events(ws) == []
    people = read_identities(ws, "MASH referral 123", action="test read")
    assert sorted(people["surname"]) == ["Jones", "Smith", "Smyth"]
    log = events(ws)
    assert len(log) == 1 and log[0]["action"] == "test read" and log[0]["purpose"] == "MASH referral 123"
    assert log[0]["rows"] == 3 and log[0]["object"] == "identifiable:people_police"


def test_audit_log_is_append_only(ws, tmp_path):
    import sqlalchemy

    ingest_people(ws, "people_police", [write_csv(tmp_path / "police.csv", POLICE)])
    read_identities(ws, "check", action="test read")
    with ws.engine.begin() as conn, pytest.raises(sqlalchemy.exc.DatabaseError, match="append-only"):
        conn.execute(sqlalchemy.text("DELETE FROM audit_log"))
    with ws.engine.begin() as conn, pytest.raises(sqlalchemy.exc.DatabaseError, match="append-only"):
        conn.execute(sqlalchemy.text("UPDATE audit_log SET purpose = 'x'"))
    assert len(events(ws)) == 1


def test_cli_ingest_people_unknown_dataset(ws, tmp_path):
    result = vrp("ingest", "people", "people_social_care", str(write_csv(tmp_path / "x.csv", POLICE)), ws=ws.root)
    assert result.returncode == 1 and "unknown person dataset 'people_social_care'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
