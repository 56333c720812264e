"""Person-level partner data -> datasets `people_police`, `people_youth_justice`, `people_education`,
`people_probation` and `people_ed` (docs/schemas.md, docs/people.md).

Direct identifiers never reach the lake. At ingest, the record id and the partner's person id become
keyed HMACs (`record_key`, `person_key`); date of birth becomes `birth_year` and `age_at_event`; the
postcode becomes its district. Names, dates of birth, postcodes, addresses and raw ids go to the
identifiable store in the same commit, where only the identifiable tier reads them (audited).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vrp.errors import VrpError
from vrp.ingest.checks import Check, apply_checks, blank, null_if_blank
from vrp.ingest.extract import SEX, YES_NO, offence_code
from vrp.ingest.files import read_header
from vrp.ingest.health import WEAPONS, classify_weapon
from vrp.ingest.load import ingest_files
from vrp.ingest.mapping import (DatasetFields, Mapping, check_mapped_header, check_value_targets, coded_column,
                                load_mapping, mapped_column, required_date)
from vrp.ingest.values import map_distinct, pseudonymiser, strict_date

IDENTITY_FIELDS = ("record_id", "person_ref", "first_name", "surname", "dob", "sex", "postcode", "address",
                   "event_date")
SEXES = ("male", "female", "other", "unknown")
ROLES = ("suspect", "offender", "victim")
EXCLUSIONS = ("suspension", "permanent_exclusion")
ROSH = ("low", "medium", "high", "very_high")


@dataclass(frozen=True)
class PersonDataset:
    """One agency's person-level dataset: its own fields on top of the identity fields."""

    name: str
    fields: tuple[str, ...]
    required: tuple[str, ...]
    lake_columns: tuple[tuple[str, pa.DataType], ...]
    identifiable_columns: tuple[str, ...] = ()  # own fields that stay out of the lake (free text)
    default_source: str = "partner"
    value_fields: tuple[str, ...] = ()  # derived fields a mapping may give a value table for

    @property
    def spec(self) -> DatasetFields:
        return DatasetFields(self.name, IDENTITY_FIELDS + self.fields, ("record_id", "event_date") + self.required,
                             self.value_fields, self.default_source)


PERSON_DATASETS = {d.name: d for d in (
    PersonDataset("people_police", ("crime_ref", "role"), ("crime_ref", "role"),
                  (("crime_ref", pa.string()), ("role", pa.string())), default_source="force"),
    PersonDataset("people_youth_justice", ("event_type", "offence_code", "knife_related"), (),
                  (("event_type", pa.string()), ("offence_code", pa.string()), ("knife_related", pa.bool_())),
                  default_source="yjs"),
    PersonDataset("people_education", ("event_type", "reason", "school"), ("event_type",),
                  (("event_type", pa.string()), ("reason", pa.string()), ("school", pa.string())),
                  default_source="education"),
    PersonDataset("people_probation", ("event_type", "offence_code", "end_date", "rosh"), (),
                  (("event_type", pa.string()), ("offence_code", pa.string()), ("end_date", pa.date32()),
                   ("rosh", pa.string())), default_source="probation"),
    PersonDataset("people_ed", ("assault_method", "site_code"), (),
                  (("weapon", pa.string()), ("site_code", pa.string())), identifiable_columns=("assault_method",),
                  default_source="ed", value_fields=("weapon",)),
)}

_PROVENANCE = (("source_file", pa.string()), ("ingest_run", pa.string()), ("as_at", pa.date32()))
_LAKE_IDENTITY = (("record_key", pa.string()), ("person_key", pa.string()), ("sex", pa.string()),
                  ("birth_year", pa.int16()), ("age_at_event", pa.int16()), ("postcode_district", pa.string()),
                  ("event_date", pa.date32()), ("year", pa.string()))
IDENTIFIABLE_SCHEMA = pa.schema([
    ("record_key", pa.string()), ("person_key", pa.string()), ("record_id", pa.string()), ("person_ref", pa.string()),
    ("first_name", pa.string()), ("surname", pa.string()), ("dob", pa.date32()), ("sex", pa.string()),
    ("postcode", pa.string()), ("address", pa.string()), ("event_date", pa.date32()), ("ingest_run", pa.string()),
    ("as_at", pa.date32()),
])
_POSTCODE = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?)\s*(\d[A-Z]{2})$")


def lake_schema(dataset: PersonDataset) -> pa.Schema:
    return pa.schema(list(_LAKE_IDENTITY) + list(dataset.lake_columns) + list(_PROVENANCE))


def identifiable_schema(dataset: PersonDataset) -> pa.Schema:
    extra = [pa.field(name, pa.string()) for name in dataset.identifiable_columns]
    return pa.schema(list(IDENTIFIABLE_SCHEMA) + extra)


def person_dataset(name: str) -> PersonDataset:
    if name not in PERSON_DATASETS:
        raise VrpError(f"unknown person dataset {name!r} (expected one of {', '.join(PERSON_DATASETS)})")
    return PERSON_DATASETS[name]


def normalise_postcode(text: str) -> str:
    """'so14 7lp' -> 'SO14 7LP'; anything that is not a UK postcode is kept as written (upper case),
    because a malformed postcode still helps linkage and must not cost the person their record."""
    compact = " ".join(text.upper().split())
    match = _POSTCODE.match(compact)
    return f"{match.group(1)} {match.group(2)}" if match else compact


def postcode_district(postcode: pa.Array) -> pa.Array:
    """The outward code ('SO14') of well-formed postcodes, else null: coarse enough for the lake."""
    return pc.extract_regex(postcode, r"^(?P<d>[A-Z]{1,2}\d[A-Z\d]?) \d[A-Z]{2}$").field("d")


def whole_years(born: pa.Array, on: pa.Array) -> pa.Array:
    """Age in completed years on a date (a birthday counts from the day itself)."""
    years = pc.subtract(pc.year(on), pc.year(born))
    before_birthday = pc.less(pc.add(pc.multiply(pc.month(on), 100), pc.day(on)),
                              pc.add(pc.multiply(pc.month(born), 100), pc.day(born)))
    return pc.cast(pc.subtract(years, pc.cast(before_birthday, pa.int64())), pa.int16())


def normalise(batch: pa.RecordBatch, as_at: date, mapping: Mapping, dataset: PersonDataset,
              pseudonymise) -> tuple[pa.Table, np.ndarray, list]:
    """Validate one batch and split it into pseudonymised lake columns and identifiable columns."""
    col = partial(mapped_column, batch, mapping)
    h = mapping.field_label
    checks: list[Check] = []
    out: dict[str, pa.Array] = {}

    record_id = null_if_blank(col("record_id"))
    checks.append(Check(h("record_id"), pc.is_null(record_id), "record id is blank"))
    person_ref = null_if_blank(col("person_ref"))
    out["record_key"] = _keys(dataset.name, record_id, pseudonymise)
    out["person_key"] = _keys(dataset.name, person_ref, pseudonymise)

    event_date, date_checks = required_date(batch, mapping, "event_date", as_at, "event date")
    checks += date_checks
    fmt = mapping.date_format
    dob, bad = map_distinct(col("dob"), strict_date(fmt), pa.date32())
    checks += [Check(h("dob"), bad, f"date of birth {{value!r}} is not a date in the format {fmt}"),
               Check(h("dob"), pc.greater(dob, event_date), "date of birth {value!r} is after the event date"),
               Check(h("dob"), pc.less(dob, pa.scalar(date(1900, 1, 1), pa.date32())),
                     "date of birth {value!r} is before 1900")]
    out["sex"] = coded_column(batch, mapping, "sex", SEX, set(SEXES), checks, "unknown sex {value!r}")
    out["birth_year"] = pc.cast(pc.year(dob), pa.int16())
    out["age_at_event"] = whole_years(dob, event_date)
    postcode, _ = map_distinct(col("postcode"), normalise_postcode, pa.string())
    out["postcode_district"] = postcode_district(postcode)
    out["event_date"] = event_date
    out["year"] = pc.strftime(event_date, format="%Y")
    out.update(_own_fields(batch, mapping, dataset, event_date, checks))

    # identifiable columns: carried to the Load, which writes them to the identifiable store only
    out.update(record_id=record_id, person_ref=person_ref, first_name=null_if_blank(col("first_name")),
               surname=null_if_blank(col("surname")), dob=dob, postcode=postcode,
               address=null_if_blank(col("address")))
    for name in dataset.identifiable_columns:
        out[name] = null_if_blank(col(name))

    good, failures = apply_checks(batch, checks)
    return pa.table(out).filter(pa.array(good)), good, failures


def _keys(dataset: str, ids: pa.Array, pseudonymise) -> pa.Array:
    """HMAC of '<dataset>:<id>': a partner's ids are only comparable within that partner's data."""
    namespaced = pc.binary_join_element_wise(pa.scalar(dataset), ids, ":")
    keys, _ = map_distinct(namespaced, pseudonymise, pa.string())
    return keys


def _own_fields(batch, mapping: Mapping, dataset: PersonDataset, event_date, checks) -> dict[str, pa.Array]:
    col = partial(mapped_column, batch, mapping)
    h = mapping.field_label
    out: dict[str, pa.Array] = {}
    if dataset.name == "people_police":
        out["crime_ref"] = null_if_blank(col("crime_ref"))
        checks.append(Check(h("crime_ref"), pc.is_null(out["crime_ref"]), "crime reference is blank"))
        out["role"] = coded_column(batch, mapping, "role", {"s": "suspect", "o": "offender", "v": "victim"},
                                   set(ROLES), checks, "unknown role {value!r} (expected suspect, offender or victim)")
        checks.append(Check(h("role"), blank(col("role")), "role is blank"))
    if "offence_code" in dataset.fields:
        out["offence_code"], bad = map_distinct(col("offence_code"), offence_code, pa.string())
        checks.append(Check(h("offence_code"), bad, "unknown Home Office offence code {value!r}"))
    if "event_type" in dataset.fields:
        closed = dataset.name == "people_education"
        defaults = {"fixed term exclusion": "suspension", "fixed-term exclusion": "suspension", "fte": "suspension",
                    "permanent exclusion": "permanent_exclusion", "pex": "permanent_exclusion"} if closed else {}
        out["event_type"] = coded_column(batch, mapping, "event_type", defaults, set(EXCLUSIONS) if closed else None,
                                         checks, "unknown exclusion type {value!r} (expected suspension or "
                                                 "permanent exclusion)")
    if dataset.name == "people_youth_justice":
        out["knife_related"] = coded_column(batch, mapping, "knife_related", YES_NO, {"true", "false"}, checks,
                                            "unknown knife-related flag {value!r} (expected yes or no)",
                                            out_type=pa.bool_())
    if dataset.name == "people_education":
        out["reason"] = pc.utf8_upper(null_if_blank(col("reason")))
        out["school"] = null_if_blank(col("school"))
    if dataset.name == "people_probation":
        end, bad = map_distinct(col("end_date"), strict_date(mapping.date_format), pa.date32())
        checks += [Check(h("end_date"), bad, f"end date {{value!r}} is not a date in the format {mapping.date_format}"),
                   Check(h("end_date"), pc.less(end, event_date), "end date {value!r} is before the start date")]
        out["end_date"] = end
        out["rosh"] = coded_column(batch, mapping, "rosh", {"very high": "very_high", "l": "low", "m": "medium",
                                                            "h": "high", "vh": "very_high"}, set(ROSH), checks,
                                   "unknown risk of serious harm level {value!r} (expected low, medium, high or very high)")
    if dataset.name == "people_ed":
        weapon, _ = map_distinct(col("assault_method"), partial(classify_weapon, table=mapping.values.get("weapon")),
                                 pa.string())
        out["weapon"] = pc.fill_null(weapon, "unknown")
        out["site_code"] = pc.utf8_upper(null_if_blank(col("site_code")))
    return out


def ingest_people(ws, dataset_name: str, paths: list[Path], mapping_name: str | None = None,
                  source: str | None = None, as_at: date | None = None, progress=None) -> dict:
    """Load one agency's person-level files. Snapshots are by source and event year."""
    dataset = person_dataset(dataset_name)
    spec = dataset.spec
    mapping = load_mapping(ws, mapping_name, spec)
    check_value_targets(mapping, "sex", SEXES)
    if dataset.name == "people_ed":
        check_value_targets(mapping, "weapon", WEAPONS)
    label = source or (mapping.source if mapping.source_given else dataset.default_source)

    def check_header(path: Path, header: list[str]) -> None:
        check_mapped_header(path, header, mapping, spec.required)

    def partition(table: pa.Table):
        for year in pc.unique(table.column("year")).to_pylist():
            yield label, year, table.filter(pc.equal(table.column("year"), year))

    return ingest_files(ws, dataset.name, lake_schema(dataset), paths, columns=read_header, check_header=check_header,
                        normalise=partial(normalise, mapping=mapping, dataset=dataset,
                                          pseudonymise=pseudonymiser(ws.pseudonym_key)),
                        partition=partition, as_at=as_at, command=f"ingest people {dataset.name} --mapping {mapping.name}",
                        progress=progress, multiline=True, identifiable=identifiable_schema(dataset))
