"""Force homicide records / Home Office Homicide Index -> dataset `homicides` (docs/schemas.md).

One row per victim. The method of killing and the relationship of the victim to the principal
suspect are closed lists; `domestic` is derived from the relationship, never read from the file.
"""
from __future__ import annotations

from datetime import date
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vrp.ingest.checks import Check, apply_checks, blank, null_if_blank, out_of_range, parse_number
from vrp.ingest.extract import SEX
from vrp.ingest.files import read_header
from vrp.ingest.load import ingest_files
from vrp.ingest.mapping import (DatasetFields, Mapping, check_mapped_header, check_value_targets, coded_column,
                                load_mapping, mapped_column, required_date)
from vrp.ingest.values import map_distinct, pseudonymiser, strict_date

DATASET = "homicides"
DEFAULT_SOURCE = "homicide-index"
FIELDS = DatasetFields(
    DATASET,
    fields=("case_ref", "recorded_date", "offence_date", "victim_id", "victim_age", "victim_sex", "method",
            "relationship", "lsoa_code", "case_status"),
    required=("case_ref", "recorded_date", "method", "relationship"),
    default_source=DEFAULT_SOURCE,
)
SCHEMA = pa.schema([
    ("case_ref", pa.string()), ("recorded_date", pa.date32()), ("offence_date", pa.date32()),
    ("victim_pid", pa.string()), ("victim_age", pa.int16()), ("victim_sex", pa.string()), ("method", pa.string()),
    ("relationship", pa.string()), ("domestic", pa.bool_()), ("lsoa_code", pa.string()),
    ("case_status", pa.string()), ("month", pa.string()),
    ("source_file", pa.string()), ("ingest_run", pa.string()), ("as_at", pa.date32()),
])

METHODS = ("sharp_instrument", "blunt_instrument", "hitting_kicking", "shooting", "strangulation", "poisoning",
           "other", "unknown")
RELATIONSHIPS = ("partner", "ex_partner", "family", "friend_acquaintance", "stranger", "other_known", "no_suspect",
                 "not_known")
# Home Office domestic homicide: the principal suspect is a partner, ex-partner or family member.
# Everything else is non-domestic, including no suspect and not known (a recorded choice, as the
# Home Office "non-domestic" tables do; docs/schemas.md).
DOMESTIC = ("partner", "ex_partner", "family")
STATUSES = ("homicide", "no_longer_homicide")
LSOA_CODE = r"^[EW]01\d{6}$"


def _spellings(allowed: tuple[str, ...], extra: dict[str, str]) -> dict[str, str]:
    """Built-in value map: each canonical value also written with spaces or hyphens, plus the usual
    Homicide Index labels. A mapping's own value table is applied first."""
    out = {}
    for value in allowed:
        out[value.replace("_", " ")] = value
        out[value.replace("_", "-")] = value
    return out | extra


METHOD_VALUES = _spellings(METHODS, {
    "sharp instrument": "sharp_instrument", "knife": "sharp_instrument", "knife or sharp instrument": "sharp_instrument",
    "blunt instrument": "blunt_instrument", "hitting, kicking etc": "hitting_kicking",
    "hitting, kicking, etc.": "hitting_kicking", "hitting/kicking": "hitting_kicking", "shot": "shooting",
    "strangulation, asphyxiation": "strangulation", "asphyxiation": "strangulation", "poison": "poisoning",
    "poison or drugs": "poisoning", "not known": "unknown",
})
RELATIONSHIP_VALUES = _spellings(RELATIONSHIPS, {
    "ex partner": "ex_partner", "expartner": "ex_partner", "spouse": "partner", "family member": "family",
    "other family": "family", "friend/acquaintance": "friend_acquaintance", "friend or acquaintance": "friend_acquaintance",
    "friend": "friend_acquaintance", "acquaintance": "friend_acquaintance", "other known": "other_known",
    "no suspect": "no_suspect", "unknown": "not_known",
})
STATUS_VALUES = _spellings(STATUSES, {"no longer recorded as homicide": "no_longer_homicide"})


# The raw victim id behind each pseudonym, kept in the identifiable store so the key can be rotated.
RAW_IDS = pa.schema([("victim_id", pa.string()), ("ingest_run", pa.string()), ("as_at", pa.date32())])


def normalise(batch: pa.RecordBatch, as_at: date, mapping: Mapping, pseudonymise) -> tuple[pa.Table, np.ndarray, list]:
    """Validate and translate one batch of homicide rows onto the canonical schema."""
    col = partial(mapped_column, batch, mapping)
    h = mapping.field_label  # the partner's name for a field, in messages
    checks: list[Check] = []
    out: dict[str, pa.Array] = {}

    out["case_ref"] = null_if_blank(col("case_ref"))
    checks.append(Check(h("case_ref"), pc.is_null(out["case_ref"]), "case reference is blank"))

    recorded, date_checks = required_date(batch, mapping, "recorded_date", as_at, "recorded date")
    checks += date_checks
    out["recorded_date"] = recorded
    out["offence_date"], bad = map_distinct(col("offence_date"), strict_date(mapping.date_format), pa.date32())
    checks += [Check(h("offence_date"), bad, f"{{value!r}} is not a date in the format {mapping.date_format}"),
               Check(h("offence_date"), pc.greater(out["offence_date"], recorded),
                     "offence date {value!r} is after the recorded date")]

    out["victim_pid"], _ = map_distinct(col("victim_id"), pseudonymise, pa.string())
    out["victim_id"] = null_if_blank(col("victim_id"))  # to the identifiable store only (re-keying)
    age, bad = parse_number(col("victim_age"))
    checks += [Check(h("victim_age"), bad, "victim age {value!r} is not a number"),
               Check(h("victim_age"), out_of_range(age, 0, 120), "victim age {value!r} is outside 0..120"),
               Check(h("victim_age"), pc.not_equal(age, pc.floor(age)), "victim age {value!r} is not a whole number")]
    out["victim_age"] = pc.cast(pc.if_else(out_of_range(age, 0, 120), None, pc.floor(age)), pa.int16())
    out["victim_sex"] = coded_column(batch, mapping, "victim_sex", SEX, {"male", "female", "other", "unknown"}, checks,
                               "unknown victim sex {value!r}")

    out["method"] = coded_column(batch, mapping, "method", METHOD_VALUES, set(METHODS), checks,
                           "unknown method of killing {value!r} (expected one of " + ", ".join(METHODS) + ")")
    checks.append(Check(h("method"), blank(col("method")), "method of killing is blank (use unknown)"))
    relationship = coded_column(batch, mapping, "relationship", RELATIONSHIP_VALUES, set(RELATIONSHIPS), checks,
                          "unknown relationship {value!r} (expected one of " + ", ".join(RELATIONSHIPS) + ")")
    checks.append(Check(h("relationship"), blank(col("relationship")), "relationship is blank (use not_known)"))
    out["relationship"] = relationship
    out["domestic"] = pc.fill_null(pc.is_in(relationship, value_set=pa.array(DOMESTIC)), False)

    out["lsoa_code"] = pc.utf8_upper(null_if_blank(col("lsoa_code")))
    checks.append(Check(h("lsoa_code"), pc.invert(pc.match_substring_regex(out["lsoa_code"], LSOA_CODE)),
                        "{value!r} is not an LSOA code"))
    status = coded_column(batch, mapping, "case_status", STATUS_VALUES, set(STATUSES), checks,
                    "unknown case status {value!r} (expected homicide or no_longer_homicide)")
    out["case_status"] = pc.fill_null(status, "homicide")
    out["month"] = pc.strftime(recorded, format="%Y-%m")

    good, failures = apply_checks(batch, checks)
    return pa.table(out).filter(pa.array(good)), good, failures


def ingest_homicides(ws, paths: list[Path], mapping_name: str | None = None, source: str | None = None,
                     as_at: date | None = None, progress=None) -> dict:
    """Load homicide files (one row per victim); snapshots by source and recorded month."""
    mapping = load_mapping(ws, mapping_name, FIELDS)
    for name, allowed in (("method", METHODS), ("relationship", RELATIONSHIPS), ("case_status", STATUSES),
                          ("victim_sex", ("male", "female", "other", "unknown"))):
        check_value_targets(mapping, name, allowed)
    label = source or (mapping.source if mapping.source_given else DEFAULT_SOURCE)

    def partition(table: pa.Table):
        for month in pc.unique(table.column("month")).to_pylist():
            yield label, month, table.filter(pc.equal(table.column("month"), month))

    def check_header(path: Path, header: list[str]) -> None:
        check_mapped_header(path, header, mapping, FIELDS.required)

    return ingest_files(ws, DATASET, SCHEMA, paths, columns=read_header, check_header=check_header,
                        identifiable=RAW_IDS,
                        normalise=partial(normalise, mapping=mapping, pseudonymise=pseudonymiser(ws.pseudonym_key)),
                        partition=partition, as_at=as_at, command=f"ingest homicides --mapping {mapping.name}",
                        progress=progress, multiline=True)
