"""Cohorts: versioned rules that turn a person-event history into scored, ranked entries.

A cohort rule is DATA (`data/cohorts/<id>.toml`, docs: "Cohort rules"): which events qualify, over
which window, and how a person's qualifying events become a score. Three kinds:

* `repeat`: a count of qualifying events (optionally of the same offence subgroup, or another field)
  against a threshold: repeat serious-violence perpetrators, repeat victims;
* `rfg`: recency x frequency x gravity points, top N: a priority list of violent perpetrators;
* `index`: weighted inputs with a recency factor, banded: the habitual knife carrier index.

Every rule is either a `perpetrator` or a `victim` list (`list_role`), never both: a victim rule
only ever sees victim records (police victim rows, ED assault attendances), a perpetrator rule never
sees a police victim row, and reads ED attendances (which are victimisation) only when the rule
says `allow_victim_inputs = true`. The loader rejects files that break this, and `build_cohort`
drops the rows a rule may not see before it applies the rule's own filters.

Everything here is pure: the input is the person-event history of contract section 3 (a DataFrame
built by the I/O layer), the outputs are DataFrames and dicts. The only I/O is reading rule files.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from vrp.datafile import data_file_sources, read_toml
from vrp.definitions.offences import is_known_offence_code, normalise_offence_code
from vrp.errors import VrpError


class CohortRuleError(VrpError):
    """A cohort rule file (or its use) is invalid; the message is one line naming file and key."""


POLICE, YOUTH_JUSTICE, EDUCATION, PROBATION, ED = (
    "people_police", "people_youth_justice", "people_education", "people_probation", "people_ed")
SOURCES = (POLICE, YOUTH_JUSTICE, EDUCATION, PROBATION, ED)
LIST_ROLES = ("perpetrator", "victim")
KINDS = ("repeat", "rfg", "index")
VICTIM, SUBJECT = "victim", "subject"
PERPETRATOR_ROLES = ("suspect", "offender")
_ROLES = {POLICE: ("suspect", "offender", "victim")}          # every other source: ("subject",)
# Boolean history columns a filter may require to be true, and the sources whose rows carry them.
_FLAGS = {"serious_violence": (POLICE,), "knife_enabled": (POLICE,), "knife_related": (YOUTH_JUSTICE,)}
# Text history columns a filter may test against a list of values, and the sources that carry them.
_TEXT_FIELDS = {
    "offence_code": (POLICE, YOUTH_JUSTICE, PROBATION),
    "offence_group": (POLICE, YOUTH_JUSTICE, PROBATION),
    "offence_subgroup": (POLICE, YOUTH_JUSTICE, PROBATION),
    "event_type": (YOUTH_JUSTICE, EDUCATION, PROBATION),
    "reason": (EDUCATION,),
    "weapon": (ED,),
}
WEAPONS = frozenset({"knife_sharp", "glass_bottle", "blunt", "body_part", "firearm", "other", "unknown"})
SEXES = ("male", "female", "other", "unknown")
AGE_BANDS = ((0, 17, "0-17"), (18, 24, "18-24"), (25, 34, "25-34"), (35, 49, "35-49"), (50, None, "50+"))
UNKNOWN_AGE = "unknown"
ENTRY_COLUMNS = ("person_id", "rule_id", "rule_version", "list_role", "score", "rank", "band", "in_cohort",
                 "events", "first_event", "last_event", "age_at_last_event", "sex", "components", "record_keys")
# Columns every history must have; a rule adds the columns its filters read (and `harm` for rfg).
_BASE_COLUMNS = ("person_id", "record_key", "source", "role", "event_date", "crime_ref", "age_at_event", "sex")

_ID = re.compile(r"[a-z0-9][a-z0-9._-]*")
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_TOP_KEYS = {"id", "version", "name", "description", "limits", "sources", "list_role", "kind",
             "window_months", "age_under", "allow_victim_inputs", "qualifying", "repeat", "rfg", "index",
             "inputs"}
_REQUIRED = ("id", "version", "name", "description", "list_role", "kind")
_FILTER_KEYS = {"source", "roles", "flags", *_TEXT_FIELDS}
_SECTIONS = {"repeat": ("repeat", "qualifying"), "rfg": ("rfg", "qualifying"), "index": ("index", "inputs")}


# ---------------------------------------------------------------------------------------------
# Rules


@dataclass(frozen=True)
class EventFilter:
    """Which history rows an input reads: one source, its roles, flags that must be true, and lists of
    accepted values for text fields (an empty tuple means "any value"). Values are kept as written
    (offence codes normalised); text compares case-insensitively."""

    source: str
    roles: tuple[str, ...]
    flags: tuple[str, ...] = ()
    offence_code: tuple[str, ...] = ()
    offence_group: tuple[str, ...] = ()
    offence_subgroup: tuple[str, ...] = ()
    event_type: tuple[str, ...] = ()
    reason: tuple[str, ...] = ()
    weapon: tuple[str, ...] = ()

    def columns(self) -> set[str]:
        """History columns the filter reads beyond the base columns."""
        return set(self.flags) | {f for f in _TEXT_FIELDS if getattr(self, f)}

    def reads_victim_rows(self) -> bool:
        """True when the rows it reads record victimisation (police victim rows, ED attendances)."""
        return self.source == ED or (self.source == POLICE and VICTIM in self.roles)

    def mask(self, rows: pd.DataFrame) -> pd.Series:
        """Boolean per row of a prepared history (see `_prepare`): True when the row passes."""
        keep = rows["source"].eq(self.source)
        if self.source == POLICE:   # other sources have one role (subject): a blank role must not hide rows
            keep &= rows["role"].isin(self.roles)
        for flag in self.flags:
            keep &= rows[flag]
        for name in _TEXT_FIELDS:
            wanted = getattr(self, name)
            if wanted:
                keep &= rows["_key_" + name].isin([_text_key(name, v) for v in wanted])
        return keep

    def describe(self) -> str:
        """Plain English, e.g. "people_police rows, role suspect or offender, serious_violence true"."""
        parts = [f"{self.source} rows, role {' or '.join(self.roles)}"]
        parts += [f"{flag} true" for flag in self.flags]
        for name in _TEXT_FIELDS:
            wanted = getattr(self, name)
            if wanted:
                parts.append(f"{name} {wanted[0]}" if len(wanted) == 1 else f"{name} one of {', '.join(wanted)}")
        return ", ".join(parts)


@dataclass(frozen=True)
class IndexInput:
    """One input of an index rule: each qualifying event scores `weight` x its recency factor.
    A weight of 0 switches the input off: its rows are never read."""

    name: str
    weight: float
    filter: EventFilter


@dataclass(frozen=True)
class RepeatSpec:
    """Kind `repeat`: a person qualifies with at least `min_events` distinct qualifying events; with
    `same`, at least `min_events` sharing one value of that field (e.g. offence_subgroup)."""

    min_events: int
    same: str | None
    count_name: str


@dataclass(frozen=True)
class RfgSpec:
    """Kind `rfg`: score = recency points x min(events, frequency_cap) x gravity points; top_n listed."""

    recency: tuple[tuple[int, float], ...]      # (max_days, points), max_days increasing
    recency_otherwise: float
    frequency_cap: int
    gravity: tuple[tuple[float, float], ...]    # (below, points), below increasing
    gravity_otherwise: float
    gravity_missing: float
    top_n: int


@dataclass(frozen=True)
class IndexSpec:
    """Kind `index`: score = sum over inputs of weight x recency factor per event, then banded."""

    inputs: tuple[IndexInput, ...]
    recency: tuple[tuple[int, float], ...]      # (months, factor), months increasing, last = window
    bands: tuple[tuple[str, str, float], ...]   # (band, "at_least" | "above", threshold), highest first
    cohort_band: str

    @property
    def active(self) -> tuple[IndexInput, ...]:
        """The inputs that count (weight > 0)."""
        return tuple(i for i in self.inputs if i.weight > 0)


@dataclass(frozen=True)
class CohortRule:
    """A loaded, validated cohort rule. `id` and `version` are stamped on every entry."""

    id: str
    version: str
    name: str
    description: str
    limits: str
    sources: tuple[str, ...]
    list_role: str
    kind: str
    window_months: int
    age_under: int | None
    allow_victim_inputs: bool
    qualifying: tuple[EventFilter, ...] = ()
    repeat: RepeatSpec | None = None
    rfg: RfgSpec | None = None
    index: IndexSpec | None = None
    path: str | None = None

    def inputs(self) -> list[tuple[str, tuple[EventFilter, ...]]]:
        """(input name, filters; a row qualifies when it passes any) of every input that counts."""
        if self.index is not None:
            return [(i.name, (i.filter,)) for i in self.index.active]
        return [("events", self.qualifying)]

    def columns(self) -> set[str]:
        """History columns the rule reads."""
        cols = set(_BASE_COLUMNS)
        for _, filters in self.inputs():
            for f in filters:
                cols |= f.columns()
        if self.rfg is not None:
            cols.add("harm")
        if self.repeat is not None and self.repeat.same:
            cols.add(self.repeat.same)
        return cols

    def victim_inputs(self) -> list[str]:
        """For a perpetrator rule: the counted inputs that read victimisation records (allowed only by
        `allow_victim_inputs = true`). Always empty for a victim rule."""
        if self.list_role == "victim":
            return []
        return [f"{name}: {f.describe()}" for name, filters in self.inputs() for f in filters
                if f.reads_victim_rows()]

    def as_dict(self) -> dict:
        """The rule as JSON-ready data (for describe commands and report metadata)."""
        out: dict[str, Any] = {
            "id": self.id, "version": self.version, "name": self.name, "list_role": self.list_role,
            "kind": self.kind, "window_months": self.window_months, "age_under": self.age_under,
            "allow_victim_inputs": self.allow_victim_inputs, "victim_inputs": self.victim_inputs(),
            "description": self.description, "limits": self.limits, "sources": list(self.sources)}
        if self.qualifying:
            out["qualifying"] = [f.describe() for f in self.qualifying]
        if self.repeat is not None:
            out["repeat"] = {"min_events": self.repeat.min_events, "same": self.repeat.same,
                             "count_name": self.repeat.count_name}
        if self.rfg is not None:
            r = self.rfg
            out["rfg"] = {"recency": [{"max_days": d, "points": p} for d, p in r.recency],
                          "recency_otherwise": r.recency_otherwise, "frequency_cap": r.frequency_cap,
                          "gravity": [{"below": b, "points": p} for b, p in r.gravity],
                          "gravity_otherwise": r.gravity_otherwise, "gravity_missing": r.gravity_missing,
                          "top_n": r.top_n}
        if self.index is not None:
            x = self.index
            out["index"] = {"inputs": [{"name": i.name, "weight": i.weight, "on": i.weight > 0,
                                        "filter": i.filter.describe()} for i in x.inputs],
                            "recency": [{"months": m, "factor": f} for m, f in x.recency],
                            "bands": [{"band": b, op: t} for b, op, t in x.bands], "cohort_band": x.cohort_band}
        return out


# ---------------------------------------------------------------------------------------------
# Loading


def load_rule(path: str | Path) -> CohortRule:
    """Load and validate one rule file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CohortRuleError(f"{path.name}: cannot read: {exc}") from None
    return parse_rule(text, path.name)


def load_rules(extra_dirs: Iterable[str | Path] = ()) -> dict[str, CohortRule]:
    """The shipped rules plus every `*.toml` in `extra_dirs` (a file path is also accepted).

    Ids are unique across all of them: a partnership's own file reusing a shipped id is an error,
    not a silent override, so entries stamped `hkc` version 1 always mean the shipped rule. A local
    variant takes its own id (e.g. `hkc-local`).
    """
    def missing(extra: Path) -> NoReturn:
        raise CohortRuleError(f"{extra}: no such cohort-rule directory")

    found: dict[str, CohortRule] = {}
    shipped = resources.files("vrp.people").joinpath("data", "cohorts")
    for path, text in data_file_sources(shipped, extra_dirs, missing):
        _add(found, parse_rule(text, path.name) if text is not None else load_rule(path))
    return found


def get_rule(rule_id: str, extra_dirs: Iterable[str | Path] = ()) -> CohortRule:
    """One rule by id, with a one-line error listing the ids that exist."""
    found = load_rules(extra_dirs)
    if rule_id not in found:
        raise CohortRuleError(f"unknown cohort rule '{rule_id}'; available: {', '.join(sorted(found))}")
    return found[rule_id]


def _add(found: dict[str, CohortRule], rule: CohortRule) -> None:
    if rule.id in found:
        raise CohortRuleError(f"{rule.path}: duplicate cohort rule id '{rule.id}' (also in "
                              f"{found[rule.id].path}); give a local variant its own id")
    found[rule.id] = rule


def parse_rule(text: str, name: str) -> CohortRule:
    """Validate a rule file's text (`name` is used in error messages)."""
    def fail(message: str) -> NoReturn:
        raise CohortRuleError(f"{name}: {message}".replace("\n", " "))

    data = read_toml(text, _TOP_KEYS, _REQUIRED, fail, key_label="top-level key")
    if not _ID.fullmatch(data["id"]):
        fail(f"'id' {data['id']!r} must be lower case letters, digits, '-', '_' or '.'")
    list_role, kind = data["list_role"], data["kind"]
    if list_role not in LIST_ROLES:
        fail(f"'list_role' {list_role!r} must be one of {', '.join(LIST_ROLES)}")
    if kind not in KINDS:
        fail(f"'kind' {kind!r} must be one of {', '.join(KINDS)}")
    for section in ("repeat", "rfg", "index", "qualifying", "inputs"):
        if section in data and section not in _SECTIONS[kind]:
            fail(f"'{section}' is not used by kind '{kind}' (it uses {' and '.join(_SECTIONS[kind])})")
        if section in _SECTIONS[kind] and section not in data:
            fail(f"kind '{kind}' needs '{section}'")
    sources = data.get("sources")
    if not isinstance(sources, list) or not sources or not all(isinstance(s, str) and s.strip() for s in sources):
        fail("'sources' is required: a non-empty list of strings saying where the rule comes from")
    limits = data.get("limits", "")
    if not isinstance(limits, str):
        fail("'limits' must be a string")
    window = _int(data, "window_months", "", fail, minimum=1)
    age_under = _int(data, "age_under", "", fail, minimum=1, required=False)
    allow = data.get("allow_victim_inputs", False)
    if not isinstance(allow, bool):
        fail("'allow_victim_inputs' must be true or false")
    if allow and list_role == "victim":
        fail("'allow_victim_inputs' applies only to perpetrator rules")

    qualifying, repeat, rfg, index = (), None, None, None
    if kind in ("repeat", "rfg"):
        raw = data["qualifying"]
        if not isinstance(raw, list) or not raw:
            fail("'qualifying' must be a non-empty array of [[qualifying]] tables")
        qualifying = tuple(_filter(r, f"qualifying[{i}]", fail) for i, r in enumerate(raw, 1))
        for i, f in enumerate(qualifying, 1):
            _check_role(list_role, allow, f, None, f"qualifying[{i}]", fail)
    if kind == "repeat":
        repeat = _repeat(data["repeat"], fail)
        if repeat.same and any(f.source not in _TEXT_FIELDS[repeat.same] for f in qualifying):
            fail(f"[repeat] same = '{repeat.same}': not every qualifying source has that field")
    elif kind == "rfg":
        rfg = _rfg(data["rfg"], fail)
    else:
        index = _index(data["index"], data["inputs"], window, fail)
        for i in index.inputs:
            _check_role(list_role, allow, i.filter, i.weight, f"input '{i.name}'", fail)
    return CohortRule(
        id=data["id"], version=data["version"], name=data["name"].strip(),
        description=" ".join(data["description"].split()), limits=" ".join(limits.split()),
        sources=tuple(s.strip() for s in sources), list_role=list_role, kind=kind, window_months=window,
        age_under=age_under, allow_victim_inputs=allow, qualifying=qualifying, repeat=repeat, rfg=rfg,
        index=index, path=name)


def _check_role(list_role: str, allow: bool, f: EventFilter, weight: float | None, where: str, fail) -> None:
    """The list_role safeguard: victims and perpetrators are never in one list."""
    if list_role == "victim":
        if not (f.source == ED or (f.source == POLICE and f.roles == (VICTIM,))):
            fail(f"{where}: a victim rule reads only victim records (people_police with roles = [\"victim\"], "
                 f"or people_ed), not {f.source} with role {', '.join(f.roles)}")
        return
    if f.source == POLICE and VICTIM in f.roles:
        fail(f"{where}: a perpetrator rule never reads police victim rows; remove 'victim' from roles")
    if f.source == ED and weight != 0 and not allow:
        off = " or weight = 0" if weight is not None else ""
        fail(f"{where}: ED attendances record victimisation; a perpetrator rule may count them only "
             f"with allow_victim_inputs = true{off}")


def _filter(raw: Any, where: str, fail, extra_keys: Iterable[str] = ()) -> EventFilter:
    if not isinstance(raw, dict):
        fail(f"{where} must be a table")
    allowed = _FILTER_KEYS | set(extra_keys)
    for key in raw:
        if key not in allowed:
            fail(f"{where}: unknown key '{key}'")
    source = raw.get("source")
    if source not in SOURCES:
        fail(f"{where}: 'source' must be one of {', '.join(SOURCES)}")
    valid_roles = _ROLES.get(source, (SUBJECT,))
    roles = _strings(raw, "roles", where, fail)
    if not roles:
        if source == POLICE:
            fail(f"{where}: 'roles' is required for people_police (suspect, offender, victim)")
        roles = (SUBJECT,)
    for role in roles:
        if role not in valid_roles:
            fail(f"{where}: role '{role}' is not a {source} role ({', '.join(valid_roles)})")
    flags = _strings(raw, "flags", where, fail)
    for flag in flags:
        if flag not in _FLAGS:
            fail(f"{where}: flag '{flag}' must be one of {', '.join(_FLAGS)}")
        if source not in _FLAGS[flag]:
            fail(f"{where}: {source} rows have no '{flag}' flag")
    fields: dict[str, tuple[str, ...]] = {}
    for name, carriers in _TEXT_FIELDS.items():
        values = _strings(raw, name, where, fail)
        if not values:
            continue
        if source not in carriers:
            fail(f"{where}: {source} rows have no '{name}'")
        if name == "offence_code":
            for v in values:
                if not is_known_offence_code(v):
                    fail(f"{where}: offence_code '{v}' is not a known Home Office offence code")
            values = tuple(normalise_offence_code(v) for v in values)
        if name == "weapon":
            for v in values:
                if v not in WEAPONS:
                    fail(f"{where}: weapon '{v}' must be one of {', '.join(sorted(WEAPONS))}")
        fields[name] = values
    return EventFilter(source=source, roles=tuple(dict.fromkeys(roles)), flags=flags, **fields)


def _strings(raw: dict, key: str, where: str, fail) -> tuple[str, ...]:
    """A string or list of strings as a tuple of stripped values; absent -> ()."""
    if key not in raw:
        return ()
    value = raw[key]
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) and v.strip() for v in values):
        fail(f"{where}: '{key}' must be a non-empty string or list of non-empty strings "
             "(leave the key out to accept any value)")
    return tuple(v.strip() for v in values)


def _int(table: dict, key: str, where: str, fail, minimum: int, required: bool = True) -> int | None:
    label = f"{where} '{key}'".strip()
    if key not in table:
        if required:
            fail(f"{label} is required")
        return None
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        fail(f"{label} must be a whole number of at least {minimum}")
    return value


def _number(table: dict, key: str, where: str, fail, default: float | None = None) -> float:
    label = f"{where} '{key}'".strip()
    if key not in table:
        if default is None:
            fail(f"{label} is required")
        return default
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        fail(f"{label} must be a number, at least 0")
    return value


def _table(value: Any, where: str, allowed: set[str], fail) -> dict:
    if not isinstance(value, dict):
        fail(f"'{where}' must be a table ([{where}])")
    for key in value:
        if key not in allowed:
            fail(f"[{where}]: unknown key '{key}'")
    return value


def _steps(raw: Any, where: str, key: str, value: str, fail, integer_key: bool) -> tuple[tuple, ...]:
    """A list of {key = bound, value = number} tables with strictly increasing bounds."""
    if not isinstance(raw, list) or not raw:
        fail(f"{where} must be a non-empty list of {{ {key} = ..., {value} = ... }} tables")
    steps, previous = [], None
    for i, step in enumerate(raw, 1):
        if not isinstance(step, dict) or set(step) != {key, value}:
            fail(f"{where}[{i}] must be {{ {key} = ..., {value} = ... }}")
        bound = step[key]
        if integer_key and (isinstance(bound, bool) or not isinstance(bound, int) or bound < 0):
            fail(f"{where}[{i}] '{key}' must be a whole number, at least 0")
        bound = _number(step, key, f"{where}[{i}]", fail)
        if previous is not None and bound <= previous:
            fail(f"{where}: '{key}' must increase from one step to the next")
        previous = bound
        steps.append((bound, _number(step, value, f"{where}[{i}]", fail)))
    return tuple(steps)


def _repeat(raw: Any, fail) -> RepeatSpec:
    table = _table(raw, "repeat", {"min_events", "same", "count_name"}, fail)
    same = table.get("same")
    if same is not None and same not in _TEXT_FIELDS:
        fail(f"[repeat] 'same' must be one of {', '.join(_TEXT_FIELDS)}")
    count_name = table.get("count_name", "events")
    if not isinstance(count_name, str) or not _NAME.fullmatch(count_name):
        fail("[repeat] 'count_name' must be a lower-case name (letters, digits, '_')")
    return RepeatSpec(_int(table, "min_events", "[repeat]", fail, minimum=1), same, count_name)


def _rfg(raw: Any, fail) -> RfgSpec:
    table = _table(raw, "rfg", {"recency", "recency_otherwise", "frequency_cap", "gravity",
                                "gravity_otherwise", "gravity_missing", "top_n"}, fail)
    recency = _steps(table.get("recency"), "[rfg] recency", "max_days", "points", fail, integer_key=True)
    gravity = _steps(table.get("gravity"), "[rfg] gravity", "below", "points", fail, integer_key=False)
    return RfgSpec(
        recency=tuple((int(d), p) for d, p in recency),
        recency_otherwise=_number(table, "recency_otherwise", "[rfg]", fail),
        frequency_cap=_int(table, "frequency_cap", "[rfg]", fail, minimum=1),
        gravity=gravity, gravity_otherwise=_number(table, "gravity_otherwise", "[rfg]", fail),
        gravity_missing=_number(table, "gravity_missing", "[rfg]", fail),
        top_n=_int(table, "top_n", "[rfg]", fail, minimum=1))


def _index(raw: Any, raw_inputs: Any, window: int, fail) -> IndexSpec:
    table = _table(raw, "index", {"recency", "bands", "cohort_band"}, fail)
    recency = tuple((int(m), f) for m, f in
                    _steps(table.get("recency"), "[index] recency", "months", "factor", fail, integer_key=True))
    if recency[-1][0] != window:
        fail(f"[index] recency: the last step must be months = {window} (the window), so every event has a factor")
    bands_raw = table.get("bands")
    if not isinstance(bands_raw, list) or not bands_raw:
        fail("[index] bands must be a non-empty list of { band = ..., at_least = ... } (or above = ...) tables")
    bands, previous = [], None
    for i, b in enumerate(bands_raw, 1):
        ops = [k for k in ("at_least", "above") if isinstance(b, dict) and k in b]
        if not isinstance(b, dict) or len(ops) != 1 or set(b) != {"band", ops[0]}:
            fail(f"[index] bands[{i}] must be {{ band = \"name\", at_least = n }} "
                 f"or {{ band = \"name\", above = n }}")
        if not isinstance(b["band"], str) or not b["band"].strip() or any(b["band"] == x[0] for x in bands):
            fail(f"[index] bands[{i}] 'band' must be a distinct non-empty name")
        threshold = _number(b, ops[0], f"[index] bands[{i}]", fail)
        if previous is not None and threshold > previous:
            fail("[index] bands must be listed highest first (thresholds must not increase)")
        previous = threshold
        bands.append((b["band"], ops[0], threshold))
    cohort_band = table.get("cohort_band")
    if cohort_band not in [b[0] for b in bands]:
        fail(f"[index] 'cohort_band' must be one of the bands: {', '.join(b[0] for b in bands)}")
    if not isinstance(raw_inputs, list) or not raw_inputs:
        fail("'inputs' must be a non-empty array of [[inputs]] tables")
    inputs: list[IndexInput] = []
    for i, r in enumerate(raw_inputs, 1):
        where = f"inputs[{i}]"
        name = r.get("name") if isinstance(r, dict) else None
        if not isinstance(name, str) or not _NAME.fullmatch(name) or any(x.name == name for x in inputs):
            fail(f"{where}: 'name' must be a distinct lower-case name (letters, digits, '_')")
        where = f"input '{name}'"
        weight = _number(r, "weight", where, fail)
        inputs.append(IndexInput(name, weight, _filter(r, where, fail, extra_keys=("name", "weight"))))
    spec = IndexSpec(tuple(inputs), recency, tuple(bands), cohort_band)
    if not spec.active:
        fail("every input has weight 0: nothing would be counted")
    return spec


# ---------------------------------------------------------------------------------------------
# Qualifying events


def window_start(as_at: date | pd.Timestamp, months: int) -> pd.Timestamp:
    """The first day of a window of `months` ending at `as_at` (inclusive): the day after the same
    calendar day `months` earlier. 12 months to 2025-12-31 -> 2025-01-01, so an event exactly 12
    months before the as-at date is outside."""
    return _day(as_at) - pd.DateOffset(months=months) + pd.Timedelta(days=1)


def _day(value: date | pd.Timestamp | str) -> pd.Timestamp:
    return pd.Timestamp(value).normalize()


def _prepare(history: pd.DataFrame, columns: Iterable[str], as_at: pd.Timestamp, months: int) -> pd.DataFrame:
    """The history rows with a person id inside the window, with comparable values: source and
    role lower case, dates as days, flags as plain booleans (missing = false), sex canonical, and a
    `_key_<field>` column per text field for case-insensitive matching."""
    columns = sorted(set(columns))
    missing = [c for c in columns if c not in history.columns]
    if missing:
        raise CohortRuleError(f"the person-event history has no column(s) {', '.join(missing)}")
    rows = history.loc[history["person_id"].notna(), columns].copy()
    rows["person_id"] = rows["person_id"].astype(str)
    rows["record_key"] = rows["record_key"].astype(str)
    for col in ("source", "role"):
        rows[col] = rows[col].astype("string").str.strip().str.lower().fillna("")
    rows["event_date"] = pd.to_datetime(rows["event_date"]).dt.normalize()
    rows = rows[(rows["event_date"] >= window_start(as_at, months)) & (rows["event_date"] <= as_at)]
    for flag in _FLAGS:
        if flag in rows:
            rows[flag] = rows[flag].eq(True).fillna(False).astype(bool)
    for name in _TEXT_FIELDS:
        if name in rows:
            values = rows[name].astype(object)
            keys = {v: _text_key(name, v) for v in values.dropna().unique()}
            rows["_key_" + name] = values.map(keys).astype(object)
    sexes = rows["sex"].astype(object)
    rows["sex"] = sexes.map({v: _sex(v) for v in sexes.dropna().unique()}).fillna("unknown")
    rows["age_at_event"] = pd.to_numeric(rows["age_at_event"], errors="coerce").astype("Int64")
    return rows


def _text_key(field: str, value: str) -> str:
    return normalise_offence_code(value) if field == "offence_code" else str(value).strip().casefold()


def _sex(value: Any) -> str:
    """Canonical sex: male / female / other / unknown (partner letters M, F, X, U are accepted)."""
    if not isinstance(value, str):
        return "unknown"
    v = value.strip().lower()
    return {"m": "male", "f": "female", "x": "other", "u": "unknown"}.get(v, v if v in SEXES else "unknown")


def _visible(rule: CohortRule, rows: pd.DataFrame) -> pd.DataFrame:
    """The rows the rule's list_role lets it see, whatever its filters say (second line of defence
    behind the loader's checks): victim rules see only police victim rows and ED attendances;
    perpetrator rules never see police victim rows, and see ED attendances only when allowed."""
    police_victim = rows["source"].eq(POLICE) & rows["role"].eq(VICTIM)
    ed = rows["source"].eq(ED)
    if rule.list_role == "victim":
        return rows[police_victim | ed]
    keep = ~police_victim if rule.allow_victim_inputs else ~police_victim & ~ed
    return rows[keep]


def _events(rule: CohortRule, history: pd.DataFrame, as_at: pd.Timestamp) -> pd.DataFrame:
    """One row per (person, input, event): the rule's qualifying events in its window.

    An event is a police crime (person, crime_ref) - however many rows record the person on it -
    or one record of another source. Columns: person_id, input, event_id, event_date, harm,
    age_at_event, sex (last known), same (the repeat rule's `same` value), record_keys (sorted).
    """
    rows = _visible(rule, _prepare(history, rule.columns(), as_at, rule.window_months))
    parts = []
    for name, filters in rule.inputs():
        keep = pd.Series(False, index=rows.index)
        for f in filters:
            keep |= f.mask(rows)
        parts.append(rows[keep.fillna(False).astype(bool)].assign(input=name))
    ev = pd.concat(parts) if parts else rows.iloc[:0].assign(input="")
    police_crime = ev["source"].eq(POLICE) & ev["crime_ref"].notna()
    ev["event_id"] = np.where(police_crime, "crime:" + ev["crime_ref"].astype(str), "record:" + ev["record_key"])
    ev["sex_known"] = ev["sex"].where(ev["sex"].ne("unknown"))
    ev["harm"] = pd.to_numeric(ev["harm"], errors="coerce") if "harm" in ev else np.nan
    same = rule.repeat.same if rule.repeat is not None else None
    ev["same"] = ev[same].astype("string").str.strip() if same else pd.NA
    event = ["person_id", "input", "event_id"]
    ev = ev.sort_values([*event, "record_key"])
    grouped = ev.groupby(event, sort=True)
    out = grouped.agg(event_date=("event_date", "max"), harm=("harm", "max"), age_at_event=("age_at_event", "max"),
                      sex=("sex_known", "last"), same=("same", "first"))
    out["record_keys"] = _runs(ev.drop_duplicates([*event, "record_key"]), event, "record_key")
    return out.reset_index()


def _runs(frame: pd.DataFrame, keys: list[str], column: str) -> list[list]:
    """The values of `column` in each run of equal `keys`, for a frame sorted by `keys`: the same
    groups in the same order as `groupby(keys, sort=True)`, without a Python call per group."""
    if frame.empty:
        return []
    key = frame[keys].to_numpy(object)
    starts = np.flatnonzero(np.r_[True, (key[1:] != key[:-1]).any(axis=1)])
    return [list(run) for run in np.split(frame[column].to_numpy(object), starts[1:])]


def _people(events: pd.DataFrame) -> pd.DataFrame:
    """One row per person with qualifying events: events (distinct, across inputs), first_event,
    last_event, age_at_last_event (the oldest age recorded on the latest day), sex (the latest known),
    record_keys (by event date, then key)."""
    cols = ["events", "first_event", "last_event", "age_at_last_event", "sex", "record_keys"]
    if events.empty:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="person_id", dtype=object))
    ev = events.sort_values(["person_id", "event_date", "event_id", "input"])
    g = ev.groupby("person_id", sort=True)
    people = g.agg(events=("event_id", "nunique"), first_event=("event_date", "min"),
                   last_event=("event_date", "max"), sex=("sex", "last"))
    people["sex"] = people["sex"].fillna("unknown")
    latest = ev[ev["event_date"].eq(ev["person_id"].map(people["last_event"]))]
    people["age_at_last_event"] = latest.groupby("person_id")["age_at_event"].max().astype("Int64")
    keys = ev[["person_id", "record_keys"]].explode("record_keys").drop_duplicates()
    people["record_keys"] = _runs(keys, ["person_id"], "record_keys")
    return people[cols]


# ---------------------------------------------------------------------------------------------
# Scoring


def build_cohort(rule: CohortRule, history: pd.DataFrame, as_at: date | pd.Timestamp) -> pd.DataFrame:
    """Score every person with a qualifying event under `rule`, as at `as_at` (inclusive).

    One row per person scored, ranked (score descending, later last event first, then person_id),
    with the columns of ENTRY_COLUMNS: `in_cohort` says who is listed; `components` (a dict of
    JSON-ready values) and `record_keys` explain the score. People whose age at their last
    qualifying event is unknown or not under `age_under` (when the rule has one) are not scored.
    """
    day = _day(as_at)
    events = _events(rule, history, day)
    people = _people(events)
    if rule.age_under is not None:
        age = people["age_at_last_event"]
        people = people[age.notna() & (age < rule.age_under)]
    events = events[events["person_id"].isin(people.index)]
    score = {"repeat": _score_repeat, "rfg": _score_rfg, "index": _score_index}[rule.kind]
    scored = people.join(score(rule, events, people, day))
    return _entries(rule, scored)


def _score_repeat(rule: CohortRule, events: pd.DataFrame, people: pd.DataFrame, as_at) -> pd.DataFrame:
    """Score = the count of distinct qualifying events (with `same`: the largest count sharing one value)."""
    spec = rule.repeat
    rows = []
    by_value: dict[str, dict[str, int]] = {}
    if spec.same:
        counts = events.dropna(subset=["same"]).groupby(["person_id", "same"])["event_id"].nunique()
        for (pid, value), n in counts.items():
            by_value.setdefault(pid, {})[value] = int(n)
    for pid, n, first, last in zip(people.index, people["events"], people["first_event"], people["last_event"]):
        comp: dict[str, Any] = {spec.count_name: int(n)}
        if spec.same:
            values = dict(sorted(by_value.get(pid, {}).items(), key=lambda kv: (-kv[1], kv[0])))
            score = max(values.values(), default=0)
            comp[f"by_{spec.same}"] = values
            comp["repeated"] = {v: count for v, count in values.items() if count >= spec.min_events}
        else:
            score = int(n)
        comp["first_in_window"], comp["last_in_window"] = _iso(first), _iso(last)
        rows.append({"person_id": pid, "score": float(score), "band": None,
                     "in_cohort": score >= spec.min_events, "components": comp})
    return _frame(rows)


def _score_rfg(rule: CohortRule, events: pd.DataFrame, people: pd.DataFrame, as_at: pd.Timestamp) -> pd.DataFrame:
    """Score = R x F x G (the listed people are the top_n by rank, set in `_entries`)."""
    spec = rule.rfg
    harm = events["harm"].to_numpy(float)
    gravity = np.select([harm < b for b, _ in spec.gravity], [p for _, p in spec.gravity], spec.gravity_otherwise)
    gravity = np.where(np.isnan(harm), spec.gravity_missing, gravity)
    per_person = events.assign(gravity=gravity).groupby("person_id").agg(
        gravity=("gravity", "max"), highest_harm=("harm", "max")).to_dict("index")
    rows = []
    for pid, n, last in zip(people.index, people["events"], people["last_event"]):
        days = int((as_at - last).days)
        recency = next((pts for max_days, pts in spec.recency if days <= max_days), spec.recency_otherwise)
        frequency = min(int(n), spec.frequency_cap)
        g = per_person[pid]
        comp = {"recency": _plain(recency), "frequency": frequency, "gravity": _plain(g["gravity"]),
                "events": int(n), "days_since_last_event": days,
                "highest_harm": None if pd.isna(g["highest_harm"]) else float(g["highest_harm"])}
        rows.append({"person_id": pid, "score": float(recency * frequency * g["gravity"]), "band": None,
                     "in_cohort": None, "components": comp})
    return _frame(rows)


def _score_index(rule: CohortRule, events: pd.DataFrame, people: pd.DataFrame, as_at: pd.Timestamp) -> pd.DataFrame:
    """Score = sum over the inputs' events of weight x recency factor; banded; listed from cohort_band up."""
    spec = rule.index
    dates = events["event_date"]
    factor = np.select([dates >= window_start(as_at, months) for months, _ in spec.recency],
                       [f for _, f in spec.recency], np.nan)
    weight = events["input"].map({i.name: i.weight for i in spec.active}).to_numpy(float)
    points = events.assign(points=weight * factor).groupby(["person_id", "input"]).agg(
        count=("event_id", "nunique"), points=("points", "sum"))
    band_names = [b for b, _, _ in spec.bands]
    listed = set(band_names[:band_names.index(spec.cohort_band) + 1])
    found = {key: (int(n), float(p)) for key, n, p in zip(points.index, points["count"], points["points"])}
    rows = []
    for pid in people.index:
        comp, total = {}, 0.0
        for inp in spec.active:
            count, pts = found.get((pid, inp.name), (0, 0.0))
            comp[inp.name] = {"count": count, "points": _plain(round(pts, 9))}
            total += pts
        total = round(total, 9)
        band = next((b for b, op, t in spec.bands if (total >= t if op == "at_least" else total > t)), None)
        rows.append({"person_id": pid, "score": total, "band": band, "in_cohort": band in listed,
                     "components": comp})
    return _frame(rows)


def _frame(rows: list[dict]) -> pd.DataFrame:
    cols = ["score", "band", "in_cohort", "components"]
    if not rows:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="person_id", dtype=object))
    return pd.DataFrame(rows).set_index("person_id")[cols]


def _entries(rule: CohortRule, scored: pd.DataFrame) -> pd.DataFrame:
    """Rank, stamp and order the scored people into the ENTRY_COLUMNS frame."""
    out = scored.reset_index().rename(columns={"index": "person_id"})
    out = out.sort_values(["score", "last_event", "person_id"], ascending=[False, False, True], kind="stable")
    out = out.reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1, dtype="int64")
    if rule.kind == "rfg":
        out["in_cohort"] = out["rank"] <= rule.rfg.top_n
    out["rule_id"], out["rule_version"], out["list_role"] = rule.id, rule.version, rule.list_role
    out = out.reindex(columns=list(ENTRY_COLUMNS))
    types = {"person_id": object, "rule_id": object, "rule_version": object, "list_role": object,
             "score": "float64", "rank": "int64", "band": object, "in_cohort": bool, "events": "int64",
             "first_event": "datetime64[s]", "last_event": "datetime64[s]", "age_at_last_event": "Int64",
             "sex": object, "components": object, "record_keys": object}
    out = out.astype(types)
    out["band"] = out["band"].astype(object).where(out["band"].notna(), None)
    out.attrs["cohort_rule"] = rule     # kept by filtering and sorting, so aggregates know the rule
    return out


def _iso(value) -> str | None:
    return None if pd.isna(value) else pd.Timestamp(value).date().isoformat()


def _plain(value) -> int | float:
    """A JSON-ready number: whole numbers as int, others as float."""
    value = float(value)
    return int(value) if value.is_integer() else value


# ---------------------------------------------------------------------------------------------
# Aggregates


def overlap_counts(history: pd.DataFrame, as_at: date | pd.Timestamp, window_months: int = 12) -> dict:
    """Victim-offender overlap on police crimes in the window: aggregate counts only, never a list.

    victims: people recorded as victim of at least one crime; perpetrators: as suspect or offender of
    at least one; both: in both groups. Shares are None when their denominator is 0.
    """
    day = _day(as_at)
    rows = _prepare(history, _BASE_COLUMNS, day, window_months)
    police = rows[rows["source"].eq(POLICE)]
    victims = set(police.loc[police["role"].eq(VICTIM), "person_id"])
    perpetrators = set(police.loc[police["role"].isin(PERPETRATOR_ROLES), "person_id"])
    both = len(victims & perpetrators)
    return {"window_months": window_months, "window_start": _iso(window_start(day, window_months)),
            "window_end": _iso(day), "victims": len(victims), "perpetrators": len(perpetrators), "both": both,
            "share_of_perpetrators_also_victims": _share(both, len(perpetrators)),
            "share_of_victims_also_perpetrators": _share(both, len(victims))}


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _cohort(entries: pd.DataFrame) -> pd.DataFrame:
    """The listed people of an entries frame (all rows when it has no in_cohort column)."""
    return entries[entries["in_cohort"].astype(bool)] if "in_cohort" in entries else entries


def age_shares(entries: pd.DataFrame) -> dict:
    """Cohort size and how many are under 18 and under 25, by age at their last qualifying event.
    Shares are of the whole cohort (people of unknown age included in the denominator and counted
    separately), None for an empty cohort."""
    ages = pd.to_numeric(_cohort(entries)["age_at_last_event"], errors="coerce")
    size = len(ages)
    under_18, under_25, unknown = int((ages < 18).sum()), int((ages < 25).sum()), int(ages.isna().sum())
    return {"cohort_size": size, "under_18": under_18, "under_18_share": _share(under_18, size),
            "under_25": under_25, "under_25_share": _share(under_25, size),
            "age_unknown": unknown, "age_unknown_share": _share(unknown, size)}


def age_band(age) -> str:
    """The composition age band of an age in years ("unknown" when missing)."""
    if age is None or pd.isna(age):
        return UNKNOWN_AGE
    for low, high, label in AGE_BANDS:
        if age >= low and (high is None or age <= high):
            return label
    return UNKNOWN_AGE


def reference_population(rule: CohortRule, history: pd.DataFrame, as_at: date | pd.Timestamp) -> pd.DataFrame:
    """Everyone the rule draws from: each person with a qualifying event in the window, whatever
    their age or score (person_id index; sex and age_at_last_event as in the entries)."""
    return _people(_events(rule, history, _day(as_at)))


def composition(entries: pd.DataFrame, history: pd.DataFrame, as_at: date | pd.Timestamp,
                by: Sequence[str] = ("sex", "age_band"), rule: CohortRule | None = None) -> list[dict]:
    """The cohort's make-up against its reference population (disproportionality), aggregates only.

    One dict per (dimension, value) present: counts and shares in the cohort and in the reference
    population (`reference_population`), and ratio = cohort share / reference share (above 1: the
    group is over-represented in the list). `rule` defaults to the rule `build_cohort` recorded on
    the entries (`entries.attrs`, kept through filtering), else the shipped rule they name. An empty
    cohort whose rule cannot be told gives [].
    """
    known = {"sex": lambda f: f["sex"].map(_sex),
             "age_band": lambda f: f["age_at_last_event"].map(age_band)}
    for dim in by:
        if dim not in known:
            raise CohortRuleError(f"composition: cannot break down by '{dim}' (use {', '.join(known)})")
    rule = rule or entries.attrs.get("cohort_rule")
    if rule is None and entries.empty:
        return []
    rule = rule or _entries_rule(entries)
    cohort = _cohort(entries)
    reference = reference_population(rule, history, as_at)
    order = {"sex": list(SEXES), "age_band": [b[2] for b in AGE_BANDS] + [UNKNOWN_AGE]}
    out = []
    for dim in by:
        c = known[dim](cohort).value_counts()
        r = known[dim](reference).value_counts()
        for value in [v for v in order[dim] if v in c.index or v in r.index]:
            nc, nr = int(c.get(value, 0)), int(r.get(value, 0))
            share_c, share_r = _share(nc, len(cohort)), _share(nr, len(reference))
            ratio = share_c / share_r if share_c is not None and share_r else None
            out.append({"rule_id": rule.id, "rule_version": rule.version, "dimension": dim, "value": value,
                        "cohort": nc, "cohort_share": share_c, "reference": nr, "reference_share": share_r,
                        "ratio": ratio})
    return out


def _entries_rule(entries: pd.DataFrame) -> CohortRule:
    ids = sorted(set(zip(entries["rule_id"], entries["rule_version"])))
    if len(ids) != 1:
        raise CohortRuleError("composition needs entries of one rule (or pass rule=)")
    rule = get_rule(ids[0][0])
    if rule.version != ids[0][1]:
        raise CohortRuleError(f"the entries were built with {ids[0][0]} version {ids[0][1]}, the shipped rule "
                              f"is version {rule.version}: pass rule=")
    return rule


def cohort_summary(rule: CohortRule, entries: pd.DataFrame) -> dict:
    """What a reviewer needs before reading a list: the rule, how many were scored and listed, bands,
    age shares, and whether a perpetrator list was allowed to count victimisation records."""
    if len(entries) and set(zip(entries["rule_id"], entries["rule_version"])) != {(rule.id, rule.version)}:
        raise CohortRuleError(f"cohort_summary: the entries were not built with {rule.id} version {rule.version}")
    cohort = _cohort(entries)
    summary = {"rule_id": rule.id, "rule_version": rule.version, "name": rule.name, "list_role": rule.list_role,
               "kind": rule.kind, "window_months": rule.window_months, "people_scored": len(entries),
               "cohort_size": len(cohort), "age": age_shares(entries),
               "allow_victim_inputs": rule.allow_victim_inputs, "victim_inputs": rule.victim_inputs(),
               "warnings": []}
    if rule.index is not None:
        summary["bands"] = {b: int(entries["band"].eq(b).sum()) for b, _, _ in rule.index.bands}
    if summary["victim_inputs"]:
        summary["warnings"].append(
            f"{rule.id} is a perpetrator list that counts victimisation records "
            f"({'; '.join(summary['victim_inputs'])}): a person can be listed partly for having been hurt")
    return summary
