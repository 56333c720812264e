"""Record-by-record behaviour of every shipped definition, classification shape, and explain()."""

import datetime as dt
import json

import duckdb
import pytest

from vrp.definitions import (
    DefinitionError,
    RecordNotFound,
    classify,
    classify_sql,
    explain,
    format_explanation,
    is_match_sql,
    load_definitions,
    matched_rules_sql,
)

DEFS = load_definitions()

CRIMES_DDL = """
CREATE OR REPLACE TABLE crimes (
    crime_ref VARCHAR, recorded_date DATE, committed_from TIMESTAMP, committed_to TIMESTAMP,
    offence_code VARCHAR, offence_subcode VARCHAR, offence_description VARCHAR,
    knife_flag VARCHAR, knife_flag_method VARCHAR, firearm_flag BOOLEAN, domestic_flag BOOLEAN,
    victim_age INTEGER, victim_sex VARCHAR, easting DOUBLE, northing DOUBLE, latitude DOUBLE,
    longitude DOUBLE, lsoa_code VARCHAR, location_type VARCHAR, crime_status VARCHAR,
    suspect_pids VARCHAR[], victim_pid VARCHAR, month VARCHAR)
"""
POLICE_UK_DDL = """
CREATE TABLE police_uk (
    crime_id VARCHAR, month VARCHAR, reported_by VARCHAR, falls_within VARCHAR, longitude DOUBLE,
    latitude DOUBLE, location VARCHAR, lsoa_code VARCHAR, lsoa_name VARCHAR, crime_type VARCHAR,
    last_outcome_category VARCHAR, context VARCHAR)
"""


_SHARED = duckdb.connect()  # one connection for the many one-record checks (connecting is slow)


def crimes_db(*records: dict, con: duckdb.DuckDBPyConnection | None = None) -> duckdb.DuckDBPyConnection:
    """In-memory `crimes` table; each record gets a ref C1, C2, ... unless it has one."""
    con = con or duckdb.connect()
    con.execute(CRIMES_DDL)
    for i, rec in enumerate(records, 1):
        row = {"crime_ref": f"C{i}", "recorded_date": dt.date(2025, 5, 1), "month": "2025-05",
               "crime_status": "confirmed", "knife_flag_method": "ndqis", **rec}
        con.execute(f"INSERT INTO crimes ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
    return con


def fired(definition_id: str, **record) -> list[str] | None:
    """Rules fired for one record; None when the record does not match at all."""
    con = crimes_db(record, con=_SHARED)
    ((_, did, version, is_match, rules),) = classify(con, "crimes", DEFS[definition_id], "crime_ref").fetchall()
    assert (did, version) == (definition_id, DEFS[definition_id].version)
    assert is_match == bool(rules)  # is_match_sql and matched_rules_sql agree
    return rules if is_match else None


# --- HIPS serious violence ----------------------------------------------------------------------

NA = "not_applicable"


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        # one record per rule, firing exactly that rule
        ({"offence_code": "1", "knife_flag": "no"}, ["murder"]),
        ({"offence_code": "2", "knife_flag": "no"}, ["attempted_murder"]),
        ({"offence_code": "5D", "knife_flag": "no"}, ["gbh_with_intent"]),
        ({"offence_code": "8N", "offence_subcode": "gbh_s20", "knife_flag": "no"}, ["gbh_without_intent"]),
        ({"offence_code": "8P", "offence_subcode": "gbh_s20"}, ["gbh_without_intent"]),
        ({"offence_code": "34A", "knife_flag": "no"}, ["robbery"]),
        ({"offence_code": "34B", "knife_flag": "no"}, ["robbery"]),
        *[({"offence_code": c, "knife_flag": NA}, ["possession_of_weapons"]) for c in ("10A", "10B", "10C", "10D", "81", "90")],
        ({"offence_code": "62A", "knife_flag": NA}, ["violent_disorder"]),
        ({"offence_code": "66", "offence_subcode": "riot", "knife_flag": NA}, ["riot"]),
        *[({"offence_code": c, "offence_subcode": "abh_s47", "knife_flag": "yes"}, ["vwi_knife"]) for c in ("8N", "8P")],
        *[({"offence_code": c, "knife_flag": "yes"}, ["vwi_knife"]) for c in ("4.3", "5E", "8S")],
        # two rules at once: still one row, both ids
        ({"offence_code": "5D", "knife_flag": "yes"}, ["gbh_with_intent", "vwi_knife"]),
        ({"offence_code": "2", "knife_flag": "yes"}, ["attempted_murder", "vwi_knife"]),
        ({"offence_code": "8N", "offence_subcode": "gbh_s20", "knife_flag": "yes"}, ["gbh_without_intent", "vwi_knife"]),
        # near misses
        ({"offence_code": "8N", "offence_subcode": "abh_s47", "knife_flag": "no"}, None),
        ({"offence_code": "8N", "offence_subcode": "abh_s47", "knife_flag": None}, None),  # missing flag is not "yes"
        ({"offence_code": "8N", "knife_flag": "no"}, None),  # no sub-code: cannot be shown to be s.20
        ({"offence_code": "66", "knife_flag": NA}, None),  # 66 without the riot tag
        ({"offence_code": "66", "offence_subcode": "gbh_s20", "knife_flag": NA}, None),
        ({"offence_code": "4.1", "knife_flag": "no"}, None),  # manslaughter excluded (local decision)
        ({"offence_code": "4.1", "knife_flag": "yes"}, None),  # and not a VWI class
        ({"offence_code": "3B", "knife_flag": "yes"}, None),  # threats to kill: knife-enabled but not HIPS
        ({"offence_code": "105A", "knife_flag": NA}, None),
        ({"offence_code": "9A", "offence_subcode": "riot", "knife_flag": NA}, None),  # riot tag only counts in 66
        ({"offence_code": "5D", "knife_flag": "no", "crime_status": "cancelled"}, None),
        ({"offence_code": "5D", "knife_flag": "yes", "crime_status": "cancelled"}, None),
        ({"offence_code": "34B", "crime_status": "transferred"}, None),
        ({"offence_code": "34B", "crime_status": None}, None),
    ],
)
def test_hips_sv_record_by_record(record, expected):
    assert fired("hips-sv", **record) == expected


# --- Home Office knife-enabled -------------------------------------------------------------------

KNIFE_GROUPS = {
    "assault_with_injury": ["5D", "8N", "8P", "8S"], "robbery": ["34A", "34B"], "threats_to_kill": ["3B"],
    "homicide": ["1", "4.1", "4.2", "4.10"], "attempted_murder": ["2"],
    "rape": ["19C", "19D", "19E", "19F", "19G", "19H"], "sexual_assault": ["17A", "17B", "20A", "20B"],
}


@pytest.mark.parametrize(("rule", "code"), [(r, c) for r, codes in KNIFE_GROUPS.items() for c in codes])
def test_knife_enabled_each_group(rule, code):
    for definition_id in ("ho-knife-enabled", "ho-knife-enabled-u25", "ho-knife-enabled-nondomestic"):
        assert fired(definition_id, offence_code=code, knife_flag="yes", victim_age=19, domestic_flag=False) == [rule]
        assert fired(definition_id, offence_code=code, knife_flag="no", victim_age=19) is None
        assert fired(definition_id, offence_code=code, knife_flag=None, victim_age=19) is None


@pytest.mark.parametrize(
    "record",
    [
        {"offence_code": "10D", "knife_flag": NA},  # possession is never knife-enabled
        {"offence_code": "10D", "knife_flag": "yes"},
        {"offence_code": "90", "knife_flag": "yes"},
        {"offence_code": "5E", "knife_flag": "yes"},  # outside the 7 groups
        {"offence_code": "62A", "knife_flag": "yes"},
        {"offence_code": "8N", "knife_flag": "yes", "crime_status": "cancelled"},
    ],
)
def test_knife_enabled_near_misses(record):
    assert fired("ho-knife-enabled", victim_age=19, **record) is None


@pytest.mark.parametrize(("age", "inside"), [(0, True), (17, True), (24, True), (25, False), (80, False), (None, False)])
def test_knife_enabled_u25_age_boundary(age, inside):
    assert (fired("ho-knife-enabled-u25", offence_code="34B", knife_flag="yes", victim_age=age) is not None) is inside
    assert fired("ho-knife-enabled", offence_code="34B", knife_flag="yes", victim_age=age) == ["robbery"]


@pytest.mark.parametrize(("domestic", "inside"), [(True, False), (False, True), (None, True)])
def test_knife_enabled_nondomestic(domestic, inside):
    result = fired("ho-knife-enabled-nondomestic", offence_code="8N", knife_flag="yes", domestic_flag=domestic)
    assert (result == ["assault_with_injury"]) is inside and (result is None) is not inside


# --- homicide ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"offence_code": "1"}, ["murder"]),
        ({"offence_code": "4.1"}, ["manslaughter"]),
        ({"offence_code": "4.2"}, ["infanticide"]),
        ({"offence_code": "4.10"}, ["corporate_manslaughter"]),
        ({"offence_code": "2"}, None),  # attempted murder is not homicide
        ({"offence_code": "4.3"}, None),
        ({"offence_code": "1", "crime_status": "cancelled"}, None),
    ],
)
def test_homicide(record, expected):
    assert fired("ho-homicide", **record) == expected


# --- police.uk approximation -----------------------------------------------------------------------


def test_policeuk_approximation():
    con = duckdb.connect()
    con.execute(POLICE_UK_DDL)
    types = ["Robbery", "Possession of weapons", "Violence and sexual offences", "Public order", "Drugs", None]
    for i, crime_type in enumerate(types):
        con.execute("INSERT INTO police_uk (crime_id, month, crime_type) VALUES (?, '2025-05', ?)", [f"P{i}", crime_type])
    rows = classify(con, "police_uk", DEFS["policeuk-sv-approx"], "crime_id").order("crime_id").fetchall()
    assert [(r[0], r[3], r[4]) for r in rows] == [
        ("P0", True, ["robbery"]), ("P1", True, ["possession_of_weapons"]), ("P2", False, []),
        ("P3", False, []), ("P4", False, []), ("P5", False, []),
    ]
    with pytest.raises(DefinitionError, match="no column.*offence_code.*dataset crimes"):
        classify(con, "police_uk", DEFS["hips-sv"], "crime_id")


# --- domain-spec §10 acceptance checks 1-3 ---------------------------------------------------------


def test_spec_10_1_hips_examples():
    assert fired("hips-sv", offence_code="5D") is not None
    assert fired("hips-sv", offence_code="34B") is not None
    assert fired("hips-sv", offence_code="8N", offence_subcode="gbh_s20") is not None
    assert fired("hips-sv", offence_code="8N", offence_subcode="abh_s47", knife_flag="no") is None
    assert fired("hips-sv", offence_code="8N", offence_subcode="abh_s47", knife_flag="yes") == ["vwi_knife"]


def test_spec_10_2_two_clauses_count_once():
    con = crimes_db(
        {"offence_code": "5D", "knife_flag": "yes"},  # gbh_with_intent + vwi_knife
        {"offence_code": "34B", "knife_flag": "yes"},  # robbery only (34B is not VWI)
        {"offence_code": "8N", "offence_subcode": "abh_s47", "knife_flag": "no"},
    )
    rel = classify(con, "crimes", DEFS["hips-sv"], "crime_ref")
    assert rel.columns == ["crime_ref", "definition_id", "definition_version", "is_match", "rules_matched"]
    rows = rel.order("crime_ref").fetchall()
    assert [(r[0], r[4]) for r in rows] == [("C1", ["gbh_with_intent", "vwi_knife"]), ("C2", ["robbery"]), ("C3", [])]
    sql = f"SELECT count(*) FILTER (WHERE is_match) FROM ({classify_sql('crimes', DEFS['hips-sv'], 'crime_ref')})"
    assert con.sql(sql).fetchone() == (2,)


def test_spec_10_3_possession_knife_flag_not_applicable():
    record = {"offence_code": "10D", "knife_flag": NA, "victim_age": 17}
    assert fired("ho-knife-enabled-u25", **record) is None  # K2 excludes it
    assert fired("hips-sv", **record) == ["possession_of_weapons"]


def test_classify_accepts_a_query_and_keeps_one_row_per_input():
    con = crimes_db(*[{"offence_code": c, "knife_flag": "yes"} for c in ("5D", "2", "8N", "3B", "10D")])
    rel = classify(con, "SELECT * FROM crimes WHERE offence_code <> '3B'", DEFS["hips-sv"], "crime_ref")
    assert len(rel.fetchall()) == 4
    expr = f"SELECT crime_ref FROM crimes WHERE {is_match_sql(DEFS['hips-sv'])} ORDER BY crime_ref"
    assert con.sql(expr).fetchall() == [("C1",), ("C2",), ("C3",), ("C5",)]
    assert con.sql(f"SELECT {matched_rules_sql(DEFS['hips-sv'])} FROM crimes WHERE crime_ref = 'C4'").fetchone() == ([],)


# --- explain -------------------------------------------------------------------------------------


def test_explain_reports_values_and_the_rule_that_fired():
    con = crimes_db({"offence_code": "8N", "offence_subcode": "abh_s47", "knife_flag": "yes", "victim_age": 19})
    expl = explain(con, "crimes", DEFS["hips-sv"], "crime_ref", "C1")
    json.dumps(expl)  # JSON-able
    assert (expl["definition"], expl["version"], expl["kind"], expl["key"]) == ("hips-sv", "2026.1", "local", "C1")
    assert expl["is_match"] is True and expl["filters_passed"] is True
    assert expl["rules_matched"] == ["vwi_knife"]
    assert expl["filters"] == [{"condition": "crime status is confirmed", "column": "crime_status",
                                "value": "confirmed", "passed": True}]
    rules = {r["id"]: r for r in expl["rules"]}
    assert [r["id"] for r in expl["rules"] if r["matched"]] == ["vwi_knife"]
    assert [(c["column"], c["value"], c["passed"]) for c in rules["vwi_knife"]["conditions"]] == [
        ("offence_code", "8N", True), ("knife_flag", "yes", True)]
    assert [(c["column"], c["value"], c["passed"]) for c in rules["gbh_without_intent"]["conditions"]] == [
        ("offence_code", "8N", True), ("offence_subcode", "abh_s47", False)]
    text = format_explanation(expl)
    assert "hips-sv v2026.1" in text and "MATCH (rules fired: vwi_knife)" in text
    assert "✓ offence code is one of 2, 4.3, 5D, 5E, 8N, 8P, 8S  [offence_code = 8N]" in text
    assert "✗ offence subcode is gbh_s20  [offence_subcode = abh_s47]" in text


def test_explain_failed_filter_and_missing_values():
    con = crimes_db({"offence_code": "5D", "crime_status": "cancelled"})
    expl = explain(con, "crimes", DEFS["hips-sv"], "crime_ref", "C1")
    assert expl["is_match"] is False and expl["filters_passed"] is False and expl["rules_matched"] == []
    assert [r["id"] for r in expl["rules"] if r["matched"]] == ["gbh_with_intent"]
    vwi = next(r for r in expl["rules"] if r["id"] == "vwi_knife")
    assert vwi["conditions"][1] == {"condition": "knife flag is yes", "column": "knife_flag", "value": None, "passed": False}
    text = format_explanation(expl)
    assert "NO MATCH (a rule holds but the filters fail)" in text
    assert "✗ crime status is confirmed  [crime_status = cancelled]" in text
    assert "[knife_flag = missing]" in text


def test_explain_agrees_with_classify_for_every_record():
    records = [
        {"offence_code": c, "offence_subcode": s, "knife_flag": k, "victim_age": a, "domestic_flag": d, "crime_status": st}
        for c, s, k, a, d, st in [
            ("5D", None, "yes", 24, False, "confirmed"), ("8N", "gbh_s20", None, 25, True, "confirmed"),
            ("8N", "abh_s47", "yes", None, None, "confirmed"), ("10D", None, NA, 16, False, "confirmed"),
            ("1", None, "yes", 30, True, "cancelled"), ("66", "riot", NA, 20, None, "confirmed"),
            ("4.1", None, "yes", 22, False, "confirmed"), ("34B", None, "no", 15, False, "confirmed"),
        ]
    ]
    con = crimes_db(*records)
    for defn in (d for d in DEFS.values() if d.dataset == "crimes"):
        for ref, _, _, is_match, rules in classify(con, "crimes", defn, "crime_ref").fetchall():
            expl = explain(con, "crimes", defn, "crime_ref", ref)
            assert (expl["is_match"], expl["rules_matched"]) == (is_match, rules), (defn.id, ref)


def test_explain_unknown_key_and_duplicate_keys():
    con = crimes_db({"crime_ref": "A", "offence_code": "34B"}, {"crime_ref": "A", "offence_code": "9A"})
    with pytest.raises(RecordNotFound, match="no record with crime_ref = 'Z'") as info:
        explain(con, "crimes", DEFS["hips-sv"], "crime_ref", "Z")
    assert isinstance(info.value, KeyError)
    both = explain(con, "crimes", DEFS["hips-sv"], "crime_ref", "A")
    assert isinstance(both, list) and [e["is_match"] for e in both] == [True, False]
    assert format_explanation(both).count("hips-sv v2026.1") == 2


def test_format_explanation_shows_limits_for_approximations():
    con = duckdb.connect()
    con.execute(POLICE_UK_DDL)
    con.execute("INSERT INTO police_uk (crime_id, crime_type) VALUES ('P1', 'Violence and sexual offences')")
    expl = explain(con, "police_uk", DEFS["policeuk-sv-approx"], "crime_id", "P1")
    assert expl["is_match"] is False and expl["filters"] == [] and expl["limits"]
    text = format_explanation(expl)
    assert "limits: police.uk has no Home Office offence code" in text
    assert "[crime_type = Violence and sexual offences]" in text
