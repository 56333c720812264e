"""Serious-violence definitions as data: load TOML files, compile them to DuckDB SQL, explain.

A definition is a versioned predicate over one canonical dataset (`crimes`, `police_uk`, ... see
docs/schemas.md): a record matches when it passes every filter and ANY rule; a rule holds when ALL
its conditions hold. Definitions vary by partnership and change every April, so they live in TOML
files (docs/definitions.md), never in code. Classification and :func:`explain` use the very same
SQL per condition, so an explanation can never disagree with a count.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

import duckdb

from vrp.datafile import data_file_sources, read_toml
from vrp.definitions.offences import is_known_offence_code, normalise_offence_code


class DefinitionError(ValueError):
    """A definition file (or its use) is invalid; the message is one line naming file and key."""


class RecordNotFound(KeyError):
    """explain() was asked about a key that is not in the relation."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


# Columns a definition may test, per dataset, with their types (docs/schemas.md). Person
# identifiers (suspect_pids, victim_pid) and load provenance (source_file, run_id, as_at ...) are
# left out on purpose: a definition classifies the crime, not a person or a load.
TEXT, BOOL, INT, DOUBLE, DATE, TIMESTAMP = "text", "boolean", "integer", "double", "date", "timestamp"
DATASET_COLUMNS: dict[str, dict[str, str]] = {
    "crimes": {
        "crime_ref": TEXT, "recorded_date": DATE, "committed_from": TIMESTAMP,
        "committed_to": TIMESTAMP, "offence_code": TEXT, "offence_subcode": TEXT,
        "offence_description": TEXT, "knife_flag": TEXT, "knife_flag_method": TEXT,
        "firearm_flag": BOOL, "domestic_flag": BOOL, "victim_age": INT, "victim_sex": TEXT,
        "easting": DOUBLE, "northing": DOUBLE, "latitude": DOUBLE, "longitude": DOUBLE,
        "lsoa_code": TEXT, "location_type": TEXT, "crime_status": TEXT, "month": TEXT,
    },
    "police_uk": {
        "crime_id": TEXT, "month": TEXT, "reported_by": TEXT, "falls_within": TEXT,
        "longitude": DOUBLE, "latitude": DOUBLE, "location": TEXT, "lsoa_code": TEXT,
        "lsoa_name": TEXT, "crime_type": TEXT, "last_outcome_category": TEXT, "context": TEXT,
    },
    "homicides": {
        "case_ref": TEXT, "recorded_date": DATE, "offence_date": DATE, "victim_age": INT,
        "victim_sex": TEXT, "method": TEXT, "relationship": TEXT, "domestic": BOOL,
        "lsoa_code": TEXT, "case_status": TEXT, "month": TEXT,
    },
    "ed_attendances": {
        "record_id": TEXT, "site_code": TEXT, "attendance_date": DATE, "attendance_time": TEXT,
        "assault_date": DATE, "assault_time": TEXT,
        "assault_method": TEXT, "weapon": TEXT, "location_type": TEXT, "location_text": TEXT,
        "lsoa_code": TEXT, "age": INT, "sex": TEXT, "month": TEXT,
    },
    "admissions": {
        "period": TEXT, "period_start": TEXT, "period_end": TEXT, "area_code": TEXT, "area_level": TEXT,
        "age_band": TEXT, "age_min": INT, "age_max": INT, "sex": TEXT, "cause": TEXT, "diagnosis_position": TEXT,
        "admission_method": TEXT, "counting_unit": TEXT, "count": INT, "source_suppressed": BOOL,
        "month": TEXT,
    },
}
POLICE_UK_CRIME_TYPES = frozenset({
    "Anti-social behaviour", "Bicycle theft", "Burglary", "Criminal damage and arson", "Drugs",
    "Other crime", "Other theft", "Possession of weapons", "Public order", "Robbery",
    "Shoplifting", "Theft from the person", "Vehicle crime", "Violence and sexual offences",
})
# Closed vocabularies: a value outside them (a typo such as "Yes") would silently never match.
ALLOWED_VALUES: dict[str, frozenset[str]] = {
    "knife_flag": frozenset({"yes", "no", "not_applicable"}),
    "knife_flag_method": frozenset({"ndqis", "manual", "derived", "unknown"}),
    "crime_status": frozenset({"confirmed", "cancelled", "transferred"}),
    "victim_sex": frozenset({"male", "female", "other", "unknown"}),
    "crime_type": POLICE_UK_CRIME_TYPES,
    "method": frozenset({"sharp_instrument", "blunt_instrument", "hitting_kicking", "shooting",
                         "strangulation", "poisoning", "other", "unknown"}),
    "relationship": frozenset({"partner", "ex_partner", "family", "friend_acquaintance", "stranger",
                               "other_known", "no_suspect", "not_known"}),
    "case_status": frozenset({"homicide", "no_longer_homicide"}),
    "weapon": frozenset({"knife_sharp", "glass_bottle", "blunt", "body_part", "firearm", "other", "unknown"}),
    "sex": frozenset({"male", "female", "other", "unknown", "persons"}),
    "area_level": frozenset({"lsoa", "district", "pfa"}),
    "diagnosis_position": frozenset({"any", "primary"}),
    "admission_method": frozenset({"emergency", "all"}),
    "counting_unit": frozenset({"fae", "fce", "admissions"}),
}
KINDS = ("local", "home-office", "approximation")
_TOP_KEYS = {"id", "version", "name", "dataset", "kind", "description", "limits", "sources",
             "filters", "rules"}
_RULE_META = {"id", "label", "note"}
_DEFINITION_ID = re.compile(r"[a-z0-9][a-z0-9._-]*")
_RULE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def quote_ident(name: str) -> str:
    """A DuckDB identifier, double-quoted so any column name is safe."""
    return '"' + name.replace('"', '""') + '"'


def sql_literal(value: Any) -> str:
    """A DuckDB literal for a str/int/float/bool; quotes are doubled so values cannot inject SQL."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"cannot write {value!r} as an SQL literal")


@dataclass(frozen=True)
class Condition:
    """One test on one column: op "in" (value: tuple), "is" (bool), "min"/"max" (number)."""

    column: str
    op: str
    value: Any

    def sql(self) -> str:
        """Boolean SQL that is never NULL: a missing value fails the test (coalesce to false)."""
        col = quote_ident(self.column)
        if self.op == "in":
            expr = f"{col} IN ({', '.join(sql_literal(v) for v in self.value)})"
        elif self.op == "is":  # false matches FALSE or NULL: a missing flag means "not flagged"
            expr = f"{col} IS TRUE" if self.value else f"{col} IS NOT TRUE"
        elif self.op in ("min", "max"):
            expr = f"{col} {'>=' if self.op == 'min' else '<='} {sql_literal(self.value)}"
        else:
            raise ValueError(f"unknown condition op {self.op!r}")
        return f"coalesce({expr}, false)"

    def describe(self) -> str:
        """Plain English, e.g. "offence code is one of 5D, 8N"."""
        name = self.column.replace("_", " ")
        if self.op == "in":
            values = [str(v) for v in self.value]
            return f"{name} is {values[0]}" if len(values) == 1 else f"{name} is one of {', '.join(values)}"
        if self.op == "is":
            return f"{name} is true" if self.value else f"{name} is not true (false or missing)"
        return f"{name} is {'at least' if self.op == 'min' else 'at most'} {self.value}"


@dataclass(frozen=True)
class Rule:
    """One clause of a definition; it holds when all its conditions hold."""

    id: str
    label: str
    conditions: tuple[Condition, ...]
    note: str = ""


@dataclass(frozen=True)
class Definition:
    """A loaded, validated definition file. `version` is stamped on every output."""

    id: str
    version: str
    name: str
    dataset: str
    kind: str
    description: str
    limits: str
    sources: tuple[str, ...]
    filters: tuple[Condition, ...]
    rules: tuple[Rule, ...]
    path: Path | None = None

    def columns(self) -> set[str]:
        """Columns the definition reads (the relation it classifies must have them)."""
        return {c.column for c in self.filters} | {c.column for r in self.rules for c in r.conditions}


# ---------------------------------------------------------------------------------------------
# Loading


def _parse(text: str, path: Path) -> Definition:
    def fail(message: str) -> NoReturn:
        raise DefinitionError(f"{path.name}: {message}".replace("\n", " "))

    data = read_toml(text, _TOP_KEYS, ("id", "version", "name", "dataset", "kind", "description"), fail,
                     key_label="top-level key")
    if not _DEFINITION_ID.fullmatch(data["id"]):
        fail(f"'id' {data['id']!r} must be lower case letters, digits, '-', '_' or '.'")
    dataset = data["dataset"]
    if dataset not in DATASET_COLUMNS:
        fail(f"'dataset' {dataset!r} must be one of {', '.join(DATASET_COLUMNS)}")
    if data["kind"] not in KINDS:
        fail(f"'kind' {data['kind']!r} must be one of {', '.join(KINDS)}")
    limits = data.get("limits", "")
    if not isinstance(limits, str):
        fail("'limits' must be a string")
    if data["kind"] == "approximation" and not limits.strip():
        fail("'limits' is required for kind = \"approximation\": say what it cannot see")
    sources = data.get("sources", [])
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        fail("'sources' must be a list of strings")

    filters_raw = data.get("filters", {})
    if not isinstance(filters_raw, dict):
        fail("'filters' must be a table ([filters])")
    filters = tuple(_condition(dataset, k, v, "[filters]", fail) for k, v in filters_raw.items())

    rules_raw = data.get("rules")
    if not isinstance(rules_raw, list) or not rules_raw or not all(isinstance(r, dict) for r in rules_raw):
        fail("'rules' must be a non-empty array of [[rules]] tables")
    rules: list[Rule] = []
    for i, raw in enumerate(rules_raw, 1):
        rule_id = raw.get("id")
        if not isinstance(rule_id, str) or not _RULE_ID.fullmatch(rule_id):
            fail(f"rules[{i}]: 'id' must be a string of letters, digits, '_', '-' or '.'")
        if any(r.id == rule_id for r in rules):
            fail(f"duplicate rule id '{rule_id}'")
        label, note = raw.get("label", rule_id), raw.get("note", "")
        if not isinstance(label, str) or not isinstance(note, str):
            fail(f"rule '{rule_id}': 'label' and 'note' must be strings")
        where = f"rule '{rule_id}'"
        conditions = tuple(_condition(dataset, k, v, where, fail) for k, v in raw.items() if k not in _RULE_META)
        if not conditions:
            fail(f"{where}: empty rule (it has no conditions, so it would match everything)")
        rules.append(Rule(rule_id, label, conditions, note))

    return Definition(
        id=data["id"], version=data["version"], name=data["name"], dataset=dataset,
        kind=data["kind"], description=data["description"].strip(), limits=limits.strip(),
        sources=tuple(sources), filters=filters, rules=tuple(rules), path=path,
    )


def _condition(dataset: str, key: str, value: Any, where: str, fail) -> Condition:
    """Validate one `key = value` pair of a [filters] or [[rules]] table into a Condition."""
    columns = DATASET_COLUMNS[dataset]
    if key in columns:
        ctype = columns[key]
        if isinstance(value, bool):
            if ctype != BOOL:
                fail(f"{where}: '{key}' is not a boolean column; give a list of values")
            return Condition(key, "is", value)
        if ctype == BOOL:
            fail(f"{where}: '{key}' is a boolean column; write {key} = true or {key} = false")
        if ctype in (DATE, TIMESTAMP):
            fail(f"{where}: '{key}' is a {ctype} column; definitions do not test dates "
                 "(choose the period when counting)")
        if ctype == DOUBLE:
            fail(f"{where}: '{key}' is a {ctype} column; use {key}_min / {key}_max")
        expected = str if ctype == TEXT else int
        if not isinstance(value, list) or not value or any(type(v) is not expected for v in value):
            fail(f"{where}: '{key}' must be a non-empty list of {'strings' if ctype == TEXT else 'integers'}")
        if key == "offence_code":
            value = [normalise_offence_code(v) for v in value]
            unknown = [v for v in value if not is_known_offence_code(v)]
            if unknown:
                fail(f"{where}: 'offence_code' {unknown[0]!r} is not a known Home Office offence code")
        allowed = ALLOWED_VALUES.get(key)
        bad = [v for v in value if allowed is not None and v not in allowed]
        if bad:
            fail(f"{where}: '{key}' value {bad[0]!r} is not one of {', '.join(sorted(allowed))}")
        return Condition(key, "in", tuple(dict.fromkeys(value)))
    base, _, bound = key.rpartition("_")
    if bound in ("min", "max") and base in columns:
        if columns[base] not in (INT, DOUBLE):
            fail(f"{where}: '{key}': '{base}' is not a numeric column")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            fail(f"{where}: '{key}' must be a number")
        return Condition(base, bound, value)
    fail(f"{where}: unknown column '{key}' for dataset {dataset}")


def load_definition(path: str | Path) -> Definition:
    """Load and validate one definition file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError(f"{path.name}: cannot read: {exc}") from None
    return _parse(text, path)


def load_definitions(extra_dirs: Iterable[str | Path] = ()) -> dict[str, Definition]:
    """The shipped definitions plus every `*.toml` in `extra_dirs` (a file path is also accepted).

    Ids are unique across all of them: a user file reusing a shipped id is an error rather than a
    silent override, so a figure labelled `hips-sv` always means the shipped (versioned) rules.
    """
    def missing(extra: Path) -> NoReturn:
        raise DefinitionError(f"{extra}: no such definitions directory")

    sources = data_file_sources(resources.files("vrp.definitions").joinpath("data"), extra_dirs, missing)
    found: dict[str, Definition] = {}
    for path, text in sources:
        defn = _parse(text, path) if text is not None else load_definition(path)
        if defn.id in found:
            raise DefinitionError(f"{path.name}: duplicate definition id '{defn.id}' (also in {found[defn.id].path})")
        found[defn.id] = defn
    return found


def get_definition(definition_id: str, extra_dirs: Iterable[str | Path] = ()) -> Definition:
    """One definition by id, with a one-line error listing the ids that exist."""
    found = load_definitions(extra_dirs)
    if definition_id not in found:
        raise DefinitionError(f"unknown definition '{definition_id}'; available: {', '.join(sorted(found))}")
    return found[definition_id]


# ---------------------------------------------------------------------------------------------
# SQL


def rule_sql(rule: Rule) -> str:
    """TRUE when every condition of the rule holds."""
    return "(" + " AND ".join(c.sql() for c in rule.conditions) + ")"


def filters_sql(defn: Definition) -> str:
    """TRUE when the record passes every filter (TRUE when there are none)."""
    return "(" + " AND ".join(c.sql() for c in defn.filters) + ")" if defn.filters else "TRUE"


def is_match_sql(defn: Definition) -> str:
    """The definition as one boolean: filters AND any rule."""
    return f"({filters_sql(defn)} AND ({' OR '.join(rule_sql(r) for r in defn.rules)}))"


def matched_rules_sql(defn: Definition) -> str:
    """VARCHAR[] of the ids of the rules that fire, in file order; empty when the filters fail."""
    cases = ", ".join(f"CASE WHEN {rule_sql(r)} THEN {sql_literal(r.id)} END" for r in defn.rules)
    return (f"CASE WHEN {filters_sql(defn)} THEN list_filter([{cases}]::VARCHAR[], lambda x: x IS NOT NULL) "
            "ELSE []::VARCHAR[] END")


def _source(relation_sql: str) -> str:
    """A FROM item: a table name / table function as is, a query in parentheses."""
    text = relation_sql.strip().rstrip(";")
    return f"({text})" if re.match(r"(select|with|from|values|\()", text, re.IGNORECASE) else text


def classify_sql(relation_sql: str, defn: Definition, key_column: str) -> str:
    """SQL giving one row per input row: key, definition_id, definition_version, is_match,
    rules_matched. A crime that fires several rules is still one row (it counts once)."""
    key = quote_ident(key_column)
    return (f"SELECT {key} AS {key}, {sql_literal(defn.id)} AS definition_id, "
            f"{sql_literal(defn.version)} AS definition_version, {is_match_sql(defn)} AS is_match, "
            f"{matched_rules_sql(defn)} AS rules_matched FROM {_source(relation_sql)} AS src")


def _check_columns(con: duckdb.DuckDBPyConnection, relation_sql: str, defn: Definition, key_column: str) -> None:
    """Fail with a clear message (not a DuckDB binder error) when the relation lacks a column,
    typically a police_uk definition run over `crimes` or the reverse."""
    have = set(con.sql(f"SELECT * FROM {_source(relation_sql)} AS src LIMIT 0").columns)
    missing = sorted(({key_column} | defn.columns()) - have)
    if missing:
        raise DefinitionError(f"{defn.id}: the relation has no column(s) {', '.join(missing)} "
                              f"(this definition classifies dataset {defn.dataset})")


def classify(con: duckdb.DuckDBPyConnection, relation_sql: str, defn: Definition,
             key_column: str) -> duckdb.DuckDBPyRelation:
    """Classify every row of `relation_sql` (a table name or a query); see classify_sql."""
    _check_columns(con, relation_sql, defn, key_column)
    return con.sql(classify_sql(relation_sql, defn, key_column))


# ---------------------------------------------------------------------------------------------
# Explain


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return str(value)


def explain(con: duckdb.DuckDBPyConnection, relation_sql: str, defn: Definition, key_column: str,
            key_value: Any) -> dict | list[dict]:
    """Why a record does or does not match, condition by condition.

    Every condition is evaluated by selecting its own `Condition.sql()`, the same expression the
    classification uses. Returns one dict for the record; if several rows share the key (e.g. a
    relation spanning several snapshots) returns a list with one dict per row, in relation order.
    The key is compared as text, so `key_value` may be given as a string. Raises RecordNotFound.
    """
    _check_columns(con, relation_sql, defn, key_column)
    conditions = [*defn.filters, *(c for r in defn.rules for c in r.conditions)]
    columns = sorted(defn.columns())
    select = [quote_ident(key_column), is_match_sql(defn), matched_rules_sql(defn), filters_sql(defn),
              *(rule_sql(r) for r in defn.rules), *(c.sql() for c in conditions),
              *(quote_ident(c) for c in columns)]
    sql = (f"SELECT {', '.join(select)} FROM {_source(relation_sql)} AS src "
           f"WHERE CAST({quote_ident(key_column)} AS VARCHAR) = ?")
    rows = con.execute(sql, [str(key_value)]).fetchall()
    if not rows:
        raise RecordNotFound(f"no record with {key_column} = {key_value!r}")

    def one(row: tuple) -> dict:
        key, is_match, matched, filters_ok, *rest = row
        rule_hits, rest = rest[:len(defn.rules)], rest[len(defn.rules):]
        passed, values = iter(rest[:len(conditions)]), dict(zip(columns, rest[len(conditions):]))

        def cond(c: Condition) -> dict:
            return {"condition": c.describe(), "column": c.column, "value": _jsonable(values[c.column]),
                    "passed": bool(next(passed))}

        return {
            "definition": defn.id, "version": defn.version, "name": defn.name, "kind": defn.kind,
            "dataset": defn.dataset, "key": _jsonable(key), "is_match": bool(is_match),
            "filters_passed": bool(filters_ok), "rules_matched": list(matched),
            "filters": [cond(c) for c in defn.filters],
            "rules": [{"id": r.id, "label": r.label, "matched": bool(hit),
                       "conditions": [cond(c) for c in r.conditions]} for r, hit in zip(defn.rules, rule_hits)],
            "limits": defn.limits,
        }

    explained = [one(row) for row in rows]
    return explained[0] if len(explained) == 1 else explained


def _show(value: Any) -> str:
    if value is None:
        return "missing"
    if isinstance(value, bool):
        return str(value).lower()
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def format_explanation(expl: Mapping | Iterable) -> str:
    """Plain-text rendering for a terminal: one block per explanation, ✓/✗ per condition.
    Accepts what explain() returns, or a list of them (e.g. one per definition)."""
    if not isinstance(expl, Mapping):
        return "\n\n".join(format_explanation(e) for e in expl)

    def line(c: dict, indent: str) -> str:
        return f"{indent}{'✓' if c['passed'] else '✗'} {c['condition']}  [{c['column']} = {_show(c['value'])}]"

    verdict = "MATCH" if expl["is_match"] else "NO MATCH"
    if expl["rules_matched"]:
        verdict += " (rules fired: " + ", ".join(expl["rules_matched"]) + ")"
    elif not expl["filters_passed"] and any(r["matched"] for r in expl["rules"]):
        verdict += " (a rule holds but the filters fail)"
    out = [f"{expl['definition']} v{expl['version']}: {expl['name']} ({expl['kind']})",
           f"  record {expl['key']}: {verdict}"]
    if expl["filters"]:
        out.append("  filters (all must pass):")
        out += [line(c, "    ") for c in expl["filters"]]
    out.append("  rules (any one is enough):")
    for r in expl["rules"]:
        out.append(f"    {'✓' if r['matched'] else '✗'} {r['id']}: {r['label']}")
        out += [line(c, "        ") for c in r["conditions"]]
    if expl.get("limits"):
        out.append(textwrap.fill(expl["limits"], 100, initial_indent="  limits: ", subsequent_indent="    "))
    return "\n".join(out)
