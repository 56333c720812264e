"""Outcome measures as versioned data files (one TOML file per measure).

A measure says what is counted (a serious-violence definition over one dataset, optionally for
an age range), what it is divided by (residents of that age range, per 100,000 or per 1,000,000)
and how it is usually reported (period type, which direction is improvement). The counting rules
live in the definition, so a measure and `vrp counts --definition` can never disagree. Bump
`version` on any change: it is stamped on every figure, beside the definition's own version.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import NoReturn

from vrp.datafile import read_toml
from vrp.definitions import Definition, load_definitions
from vrp.errors import VrpError
from vrp.measures.periods import PERIOD_TYPES

KINDS = ("headline", "evaluation", "local", "open-data")
# The age column a measure's age range applies to, per dataset (None: the data have no ages).
# Admissions are aggregates: their ages are bands, tested through age_min and age_max.
AGE_COLUMN = {"crimes": "victim_age", "homicides": "victim_age", "ed_attendances": "age",
              "admissions": "age_min/age_max", "police_uk": None}
_KEYS = {"id", "version", "name", "kind", "definition", "age", "per", "period", "improvement",
         "description", "limits", "sources", "reference"}
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class MeasureError(VrpError):
    """A measure file is invalid or names something that does not exist; one line naming the file."""


@dataclass(frozen=True)
class Measure:
    id: str
    version: str
    name: str
    kind: str
    definition: Definition
    age_min: int | None
    age_max: int | None
    per: int | None
    period: str
    improvement: str
    description: str
    limits: str
    sources: tuple[str, ...]
    reference: str
    path: Path | None = None

    @property
    def dataset(self) -> str:
        return self.definition.dataset

    @property
    def age_band(self) -> str:
        """'0-24' for an age-specific measure, 'all' otherwise (the population it is a rate of)."""
        return "all" if self.age_min is None else f"{self.age_min}-{self.age_max}"

    def summary(self) -> dict:
        """What `vrp measures list` shows: the measure and the definition it counts."""
        return {"id": self.id, "version": self.version, "name": self.name, "kind": self.kind,
                "definition": self.definition.id, "definition_version": self.definition.version,
                "dataset": self.dataset, "age_band": self.age_band,
                "rate_per": self.per, "period": self.period, "improvement": self.improvement,
                "reference": self.reference, "description": self.description, "limits": self.limits,
                "sources": list(self.sources)}


def _parse(text: str, path: Path, definitions: dict[str, Definition]) -> Measure:
    def fail(message: str) -> NoReturn:
        raise MeasureError(f"{path.name}: {message}")

    data = read_toml(text, _KEYS, ("id", "version", "name", "kind", "definition", "description"), fail)
    if not _ID.fullmatch(data["id"]):
        fail(f"'id' {data['id']!r} must be letters, digits, '.', '_' or '-'")
    if data["kind"] not in KINDS:
        fail(f"'kind' {data['kind']!r} must be one of {', '.join(KINDS)}")
    definition = definitions.get(data["definition"])
    if definition is None:
        fail(f"'definition' {data['definition']!r} is not a known definition")
    age_min, age_max = _age(data.get("age"), definition.dataset, fail)
    per = data.get("per", 0)
    if per not in (0, 1000, 100_000, 1_000_000):
        fail("'per' must be 100000, 1000000, 1000 or 0 (a count with no rate)")
    period = data.get("period", "financial_year")
    if period not in PERIOD_TYPES:
        fail(f"'period' {period!r} must be one of {', '.join(PERIOD_TYPES)}")
    improvement = data.get("improvement", "decrease")
    if improvement not in ("decrease", "increase"):
        fail("'improvement' must be \"decrease\" or \"increase\"")
    sources = data.get("sources", [])
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        fail("'sources' must be a list of strings")
    return Measure(id=data["id"], version=data["version"], name=data["name"], kind=data["kind"],
                   definition=definition, age_min=age_min, age_max=age_max, per=per or None,
                   period=period, improvement=improvement,
                   description=" ".join(data["description"].split()),
                   limits=" ".join(str(data.get("limits", "")).split()), sources=tuple(sources),
                   reference=str(data.get("reference", "")), path=path)


def _age(value, dataset: str, fail) -> tuple[int | None, int | None]:
    if value is None:
        return None, None
    if (not isinstance(value, list) or len(value) != 2 or not all(type(v) is int for v in value)
            or not 0 <= value[0] <= value[1] <= 120):
        fail("'age' must be [youngest, oldest], whole years between 0 and 120")
    if AGE_COLUMN.get(dataset) is None:
        fail(f"'age' cannot be used: {dataset} data hold no ages")
    return value[0], value[1]


def load_measures(measure_dirs: Iterable[str | Path] = (),
                  definition_dirs: Iterable[str | Path] = ()) -> dict[str, Measure]:
    """The shipped measures plus every `*.toml` in `measure_dirs` (a workspace's `measures/`).

    Measures may count the shipped definitions and those in `definition_dirs`. A user measure
    reusing a shipped id is an error, never a silent override.
    """
    definitions = load_definitions([d for d in map(Path, definition_dirs) if d.is_dir()])
    shipped = resources.files("vrp.measures").joinpath("data")
    sources = [(Path(str(f)), f.read_text(encoding="utf-8"))
               for f in sorted(shipped.iterdir(), key=_file_order) if f.name.endswith(".toml")]
    for folder in map(Path, measure_dirs):
        if folder.is_dir():
            sources += [(p, p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.toml"))]
    found: dict[str, Measure] = {}
    for path, text in sources:
        measure = _parse(text, path, definitions)
        if measure.id in found:
            raise MeasureError(f"{path.name}: duplicate measure id '{measure.id}' "
                               f"(also in {found[measure.id].path.name})")
        found[measure.id] = measure
    return found


def _file_order(f) -> tuple[str, str]:
    """K1, K1-all, K1a, K2, ...: a measure's variants follow it."""
    stem = f.name.removesuffix(".toml")
    return stem.split("-")[0], stem


def workspace_measures(ws) -> dict[str, Measure]:
    """The measures a workspace can use: shipped ones and its own, over its own definitions too."""
    return load_measures([ws.measures_dir], [ws.definitions_dir])


def get_measure(ws, measure_id: str, available: dict[str, Measure] | None = None) -> Measure:
    """One measure by id (from `available` when the caller already loaded them)."""
    found = workspace_measures(ws) if available is None else available
    if measure_id not in found:
        raise MeasureError(f"unknown measure '{measure_id}'; available: {', '.join(found)}")
    return found[measure_id]
