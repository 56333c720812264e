"""Loading and validating definition files; the shipped set; SQL generation and quoting."""

import re
from pathlib import Path
from textwrap import dedent

import duckdb
import pytest

from vrp.definitions import (
    offence_codes,
    DATASET_COLUMNS,
    Condition,
    DefinitionError,
    classify,
    filters_sql,
    get_definition,
    knife_collection_codes,
    load_definition,
    load_definitions,
    sql_literal,
)

SCHEMAS_MD = Path(__file__).resolve().parents[2] / "docs" / "schemas.md"

HEADER = """
id = "my-sv"
version = "1"
name = "My SV"
dataset = "crimes"
kind = "local"
description = "test"
"""


def write(tmp_path: Path, body: str, name: str = "mine.toml", header: str = HEADER) -> Path:
    path = tmp_path / name
    path.write_text(dedent(header) + dedent(body), encoding="utf-8")
    return path


def load_error(path: Path) -> str:
    with pytest.raises(DefinitionError) as info:
        load_definition(path)
    message = str(info.value)
    assert message.startswith(f"{path.name}: ") and "\n" not in message
    return message


# --- the shipped set ------------------------------------------------------------------------


def test_shipped_definitions():
    defs = load_definitions()
    assert set(defs) == {"hips-sv", "ho-knife-enabled", "ho-knife-enabled-u25",
                         "ho-knife-enabled-nondomestic", "ho-homicide", "policeuk-sv-approx",
                         "ho-violence-with-injury", "ho-violence-without-injury", "ho-possession-of-weapons",
                         "ho-robbery", "policeuk-possession-of-weapons", "policeuk-robbery",
                         "homicide-index-nondomestic", "homicide-index-nondomestic-sharp", "ed-assault-knife",
                         "hes-assault-sharp-object", "hes-assault-any"}
    assert {d.kind for d in defs.values()} == {"local", "home-office", "approximation"}
    assert all(d.version and d.description and d.sources and d.path.name == f"{d.id}.toml" for d in defs.values())
    assert [r.id for r in defs["hips-sv"].rules] == [
        "murder", "attempted_murder", "gbh_with_intent", "gbh_without_intent", "robbery",
        "possession_of_weapons", "violent_disorder", "riot", "vwi_knife",
    ]
    approx = defs["policeuk-sv-approx"]
    assert approx.dataset == "police_uk" and approx.filters == ()
    for blind_spot in ("offence code", "knife flag", "victim age", "domestic", "Violence and sexual offences",
                       "Public order", "lower bound", "never the HIPS"):
        assert blind_spot in approx.limits.replace("\n", " ")


def test_violence_definitions_follow_the_code_table():
    """S1/S2 take their classes from the code table's subgroups (S1 without the driving classes,
    which HOCR 2020+ counts separately)."""
    defs = load_definitions()
    table = offence_codes()

    def codes(defn):
        return {c for r in defn.rules for cond in r.conditions if cond.column == "offence_code" for c in cond.value}

    vwi = {c for c, o in table.items() if o.offence_subgroup == "Violence with injury"}
    vwoi = {c for c, o in table.items() if o.offence_subgroup == "Violence without injury"}
    assert codes(defs["ho-violence-with-injury"]) == vwi - {"4.4", "4.6", "4.7", "4.8", "4.9", "37.1"}
    assert codes(defs["ho-violence-without-injury"]) == vwoi
    assert codes(defs["ho-possession-of-weapons"]) == {"10A", "10B", "10C", "10D", "81", "90"}


def test_knife_enabled_definitions_follow_the_code_table():
    defs = load_definitions()
    base = defs["ho-knife-enabled"]
    codes = {code for r in base.rules for c in r.conditions if c.column == "offence_code" for code in c.value}
    assert codes == knife_collection_codes()
    assert not codes & {"10A", "10B", "10C", "10D", "81", "90"}  # possession is not knife-enabled
    assert all(Condition("knife_flag", "in", ("yes",)) in r.conditions for r in base.rules)
    for variant, extra in [("ho-knife-enabled-u25", Condition("victim_age", "max", 24)),
                           ("ho-knife-enabled-nondomestic", Condition("domestic_flag", "is", False))]:
        assert defs[variant].rules == base.rules
        assert defs[variant].filters == (*base.filters, extra)


def _schema_columns(section: str, stop: str, cell: int) -> set[str]:
    text = SCHEMAS_MD.read_text(encoding="utf-8")
    body = text[text.index(section):]
    body = body[:body.index(stop)]
    names: set[str] = set()
    for line in body.splitlines():
        cells = line.split("|")
        if line.startswith("| ") and len(cells) > cell + 1:
            names |= set(re.findall(r"`(\w+)`", cells[cell + 1]))
    return names


def test_column_lists_match_docs_schemas():
    crimes = _schema_columns("## Force crime extract", "### Column mappings", 0)
    assert set(DATASET_COLUMNS["crimes"]) == crimes - {"suspect_pids", "victim_pid", "suspect_ids", "victim_id"}
    police_uk = _schema_columns("## police.uk street-level crime", "File-level faults", 1)
    assert set(DATASET_COLUMNS["police_uk"]) == police_uk
    homicides = _schema_columns("## Homicides", "**Recorded choice", 0)
    assert set(DATASET_COLUMNS["homicides"]) == homicides - {"victim_pid"}
    ed = _schema_columns("## ED assault attendances", "**Weapon.**", 0)
    assert set(DATASET_COLUMNS["ed_attendances"]) == ed
    admissions = _schema_columns("## Hospital admissions", "Every variant", 0)
    assert set(DATASET_COLUMNS["admissions"]) == admissions


# --- user files and load errors ----------------------------------------------------------------


def test_user_definition_loads_alongside_shipped(tmp_path):
    write(tmp_path, """
        [filters]
        crime_status = ["confirmed"]
        victim_age_min = 10
        victim_age_max = 17

        [[rules]]
        id = "stabbing"
        label = "Knife GBH"
        offence_code = ["05d", "4/1", "034b"]
        knife_flag = ["yes"]
    """)
    defs = load_definitions([tmp_path])
    assert "hips-sv" in defs and defs["my-sv"].path == tmp_path / "mine.toml"
    rule = defs["my-sv"].rules[0]
    assert rule.label == "Knife GBH"
    assert rule.conditions[0] == Condition("offence_code", "in", ("5D", "4.1", "34B"))  # normalised
    assert defs["my-sv"].filters[1:] == (Condition("victim_age", "min", 10), Condition("victim_age", "max", 17))
    assert get_definition("my-sv", [tmp_path]).id == "my-sv"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('[[rules]]\nid = "r"\nsuspect_pids = ["x"]\n', "unknown column 'suspect_pids'"),
        ('[[rules]]\nid = "r"\ncrime_type = ["Robbery"]\n', "unknown column 'crime_type'"),
        ('[filters]\nwibble = true\n[[rules]]\nid = "r"\noffence_code = ["1"]\n', "unknown column 'wibble'"),
        ('[[rules]]\nid = "r"\noffence_code = ["99Z"]\n', "'99Z' is not a known Home Office offence code"),
        ('[[rules]]\nid = "r"\noffence_code = ["1"]\n[[rules]]\nid = "r"\noffence_code = ["2"]\n', "duplicate rule id 'r'"),
        ('[[rules]]\nid = "r"\nlabel = "nothing"\n', "rule 'r': empty rule"),
        ('[[rules]]\nid = "r"\nknife_flag = ["Yes"]\n', "'knife_flag' value 'Yes'"),
        ('[[rules]]\nid = "r"\noffence_code = "1"\n', "'offence_code' must be a non-empty list"),
        ('[[rules]]\nid = "r"\noffence_code = []\n', "'offence_code' must be a non-empty list"),
        ('[[rules]]\nid = "r"\ndomestic_flag = ["yes"]\n', "'domestic_flag' is a boolean column"),
        ('[[rules]]\nid = "r"\nknife_flag = true\n', "'knife_flag' is not a boolean column"),
        ('[[rules]]\nid = "r"\nknife_flag_min = 3\n', "'knife_flag_min': 'knife_flag' is not a numeric column"),
        ('[[rules]]\nid = "r"\nvictim_age_max = "24"\n', "'victim_age_max' must be a number"),
        ('[[rules]]\nid = "r"\nrecorded_date = ["2025-01-01"]\n', "'recorded_date' is a date column"),
        ('[[rules]]\nid = "r"\nrecorded_date_min = 2025\n', "'recorded_date' is not a numeric column"),
        ('[[rules]]\nid = "r"\neasting = [1]\n', "use easting_min / easting_max"),
        ('[[rules]]\nid = "r"\nvictim_age = ["24"]\n', "'victim_age' must be a non-empty list of integers"),
        ('colour = "red"\n[[rules]]\nid = "r"\noffence_code = ["1"]\n', "unknown top-level key 'colour'"),
        ("", "'rules' must be a non-empty array"),
        ('[[rules]]\nid = "r"\noffence_code = ["1"\n', "not valid TOML"),
    ],
)
def test_load_errors_name_file_and_key(tmp_path, body, expected):
    assert expected in load_error(write(tmp_path, body))


@pytest.mark.parametrize(
    ("replace", "expected"),
    [
        (('dataset = "crimes"', 'dataset = "hospital"'), "'dataset' 'hospital' must be one of"),
        (('kind = "local"', 'kind = "approximation"'), "'limits' is required"),
        (('version = "1"', "version = 1"), "'version' is required and must be a non-empty string"),
        (('id = "my-sv"', 'id = "My SV"'), "'id' 'My SV'"),
    ],
)
def test_header_errors(tmp_path, replace, expected):
    path = write(tmp_path, '[[rules]]\nid = "r"\noffence_code = ["1"]\n', header=HEADER.replace(*replace))
    assert expected in load_error(path)


def test_duplicate_definition_id_is_an_error(tmp_path):
    write(tmp_path, '[[rules]]\nid = "r"\noffence_code = ["1"]\n', name="a.toml")
    write(tmp_path, '[[rules]]\nid = "r"\noffence_code = ["2"]\n', name="b.toml")
    with pytest.raises(DefinitionError, match=r"^b\.toml: duplicate definition id 'my-sv'"):
        load_definitions([tmp_path])
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    write(shadow, '[[rules]]\nid = "r"\noffence_code = ["1"]\n', name="hips.toml",
          header=HEADER.replace('"my-sv"', '"hips-sv"'))
    with pytest.raises(DefinitionError, match=r"^hips\.toml: duplicate definition id 'hips-sv'"):
        load_definitions([shadow])


def test_missing_extra_dir_and_unknown_id(tmp_path):
    with pytest.raises(DefinitionError, match="no such definitions directory"):
        load_definitions([tmp_path / "nope"])
    with pytest.raises(DefinitionError, match="unknown definition 'nope'; available: .*hips-sv"):
        get_definition("nope")


# --- SQL --------------------------------------------------------------------------------------


def test_condition_sql_and_describe():
    assert Condition("offence_code", "in", ("5D", "8N")).sql() == "coalesce(\"offence_code\" IN ('5D', '8N'), false)"
    assert Condition("offence_code", "in", ("5D", "8N")).describe() == "offence code is one of 5D, 8N"
    assert Condition("knife_flag", "in", ("yes",)).describe() == "knife flag is yes"
    assert Condition("domestic_flag", "is", True).sql() == 'coalesce("domestic_flag" IS TRUE, false)'
    assert Condition("domestic_flag", "is", False).sql() == 'coalesce("domestic_flag" IS NOT TRUE, false)'
    assert Condition("domestic_flag", "is", False).describe() == "domestic flag is not true (false or missing)"
    assert Condition("victim_age", "max", 24).sql() == 'coalesce("victim_age" <= 24, false)'
    assert Condition("victim_age", "min", 10).describe() == "victim age is at least 10"
    assert filters_sql(load_definitions()["policeuk-sv-approx"]) == "TRUE"


def test_sql_literal_escapes_quotes():
    assert sql_literal("o'brien") == "'o''brien'"
    assert Condition("offence_subcode", "in", ("o'brien",)).sql() == "coalesce(\"offence_subcode\" IN ('o''brien'), false)"
    with pytest.raises(TypeError):
        sql_literal(float("nan"))


def test_quoted_values_cannot_inject_sql(tmp_path):
    evil = "x'); DROP TABLE crimes; --"
    write(tmp_path, f"""
        [[rules]]
        id = "odd"
        offence_subcode = ["{evil.replace('"', '')}", "it's"]
    """)
    defn = load_definitions([tmp_path])["my-sv"]
    con = duckdb.connect()
    con.execute("CREATE TABLE crimes (crime_ref VARCHAR, offence_subcode VARCHAR)")
    con.execute("INSERT INTO crimes VALUES ('a', ?), ('b', 'it''s'), ('c', 'x'), ('d', NULL)", [evil])
    rows = classify(con, "crimes", defn, "crime_ref").order("crime_ref").fetchall()
    assert [(r[0], r[3]) for r in rows] == [("a", True), ("b", True), ("c", False), ("d", False)]
    assert con.sql("SELECT count(*) FROM crimes").fetchone() == (4,)
