"""Force crime extracts -> dataset `crimes`, the canonical crime-level schema (docs/schemas.md)."""
from __future__ import annotations

from datetime import date, timedelta
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyproj import Transformer

from vrp.definitions.offences import is_known_offence_code, knife_collection_codes, normalise_offence_code
from vrp.ingest.checks import Check, apply_checks, blank, null_if_blank, out_of_range, parse_number
from vrp.ingest.files import read_header
from vrp.ingest.load import ingest_files
from vrp.ingest.mapping import (REQUIRED, Mapping, check_mapped_header, coded_column, load_mapping, mapped_column,
                                required_date)
from vrp.ingest.values import Invalid, map_distinct, pseudonymiser, strict_datetime

SCHEMA = pa.schema([
    ("crime_ref", pa.string()), ("recorded_date", pa.date32()), ("committed_from", pa.timestamp("s")),
    ("committed_to", pa.timestamp("s")), ("offence_code", pa.string()), ("offence_subcode", pa.string()),
    ("offence_description", pa.string()), ("knife_flag", pa.string()), ("knife_flag_method", pa.string()),
    ("firearm_flag", pa.bool_()), ("domestic_flag", pa.bool_()), ("victim_age", pa.int16()),
    ("victim_sex", pa.string()), ("easting", pa.float64()), ("northing", pa.float64()), ("latitude", pa.float64()),
    ("longitude", pa.float64()), ("lsoa_code", pa.string()), ("location_type", pa.string()),
    ("crime_status", pa.string()), ("suspect_pids", pa.list_(pa.string())), ("victim_pid", pa.string()),
    ("month", pa.string()), ("source_file", pa.string()), ("ingest_run", pa.string()), ("as_at", pa.date32()),
])
# The raw person ids behind the pseudonyms, kept in the identifiable store (never the lake).
RAW_IDS = pa.schema([("victim_id", pa.string()), ("suspect_ids", pa.string()), ("ingest_run", pa.string()),
                     ("as_at", pa.date32())])
YES_NO = {"y": "true", "yes": "true", "true": "true", "1": "true", "n": "false", "no": "false", "false": "false", "0": "false"}
KNIFE = {"y": "yes", "n": "no", "n/a": "not_applicable", "na": "not_applicable", "not applicable": "not_applicable"}
SEX = {"m": "male", "f": "female", "u": "unknown", "x": "other"}
STATUS = {"c": "confirmed", "recorded": "confirmed"}
BNG_TO_WGS84 = Transformer.from_crs(27700, 4326, always_xy=True)
WGS84_TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)


def offence_code(text: str) -> str:
    """A known Home Office offence code in canonical form (else Invalid: the row is quarantined)."""
    code = normalise_offence_code(text)
    if not is_known_offence_code(code):
        raise Invalid(text)
    return code


def normalise(batch: pa.RecordBatch, as_at: date, mapping: Mapping, pseudonymise) -> tuple[pa.Table, np.ndarray, list]:
    """Validate and translate one batch of a force's rows onto the canonical schema."""
    col = partial(mapped_column, batch, mapping)
    h = mapping.field_label  # the partner's name for a field, in messages
    checks: list[Check] = []
    out: dict[str, pa.Array] = {}

    out["crime_ref"] = null_if_blank(col("crime_ref"))
    checks.append(Check(h("crime_ref"), pc.is_null(out["crime_ref"]), "crime reference is blank"))

    recorded, date_checks = required_date(batch, mapping, "recorded_date", as_at, "recorded date")
    checks += date_checks
    parse_dt = strict_datetime(mapping.datetime_format, mapping.date_format)
    for name in ("committed_from", "committed_to"):
        out[name], bad = map_distinct(col(name), parse_dt, pa.timestamp("s"))
        checks.append(Check(h(name), bad, f"{{value!r}} is not a date-time in the format {mapping.datetime_format}"))
    checks.append(Check(h("committed_from"), pc.greater(out["committed_from"], out["committed_to"]),
                        "committed-from {value!r} is after committed-to"))
    latest = pc.cast(pc.add(recorded, pa.scalar(timedelta(days=1))), pa.timestamp("s"))
    checks.append(Check(h("committed_from"), pc.greater_equal(out["committed_from"], latest),
                        "committed-from {value!r} is after the recorded date"))
    out["recorded_date"] = recorded

    out["offence_code"], bad = map_distinct(col("offence_code"), offence_code, pa.string())
    checks += [Check(h("offence_code"), blank(col("offence_code")), "offence code is blank"),
               Check(h("offence_code"), bad, "unknown Home Office offence code {value!r}")]
    out["offence_subcode"] = coded_column(batch, mapping, "offence_subcode", {}, None, checks)
    out["offence_description"] = null_if_blank(col("offence_description"))

    knife = coded_column(batch, mapping, "knife_flag", KNIFE, {"yes", "no", "not_applicable"}, checks,
                   "unknown knife flag {value!r} (expected yes, no or not applicable)")
    outside_collection = pc.invert(pc.is_in(out["offence_code"], value_set=pa.array(sorted(knife_collection_codes()))))
    out["knife_flag"] = pc.if_else(pc.and_(pc.is_null(knife), outside_collection), "not_applicable", knife)
    out["knife_flag_method"] = coded_column(batch, mapping, "knife_flag_method", {}, None, checks)
    for flag in ("firearm_flag", "domestic_flag"):
        out[flag] = coded_column(batch, mapping, flag, YES_NO, {"true", "false"}, checks,
                           "unknown flag value {value!r} (expected yes or no)", out_type=pa.bool_())

    age, bad = parse_number(col("victim_age"))
    checks += [Check(h("victim_age"), bad, "victim age {value!r} is not a number"),
               Check(h("victim_age"), out_of_range(age, 0, 120), "victim age {value!r} is outside 0..120"),
               Check(h("victim_age"), pc.not_equal(age, pc.floor(age)), "victim age {value!r} is not a whole number")]
    out["victim_age"] = pc.cast(pc.if_else(out_of_range(age, 0, 120), None, pc.floor(age)), pa.int16())
    out["victim_sex"] = coded_column(batch, mapping, "victim_sex", SEX, {"male", "female", "other", "unknown"}, checks,
                               "unknown victim sex {value!r}")

    _location(batch, mapping, col, h, checks, out)
    out["lsoa_code"] = pc.utf8_upper(null_if_blank(col("lsoa_code")))
    out["location_type"] = coded_column(batch, mapping, "location_type", {}, None, checks)
    status = coded_column(batch, mapping, "crime_status", STATUS, {"confirmed", "cancelled", "transferred"}, checks,
                    "unknown crime status {value!r} (expected confirmed, cancelled or transferred)")
    out["crime_status"] = pc.fill_null(status, "confirmed")

    out["victim_pid"], _ = map_distinct(col("victim_id"), pseudonymise, pa.string())
    out["suspect_pids"] = _pseudonymise_list(col("suspect_ids"), pseudonymise)
    # the raw ids go to the identifiable store only (re-identification by the identifiable tier, re-keying)
    out["victim_id"], out["suspect_ids"] = null_if_blank(col("victim_id")), null_if_blank(col("suspect_ids"))
    out["month"] = pc.strftime(recorded, format="%Y-%m")

    good, failures = apply_checks(batch, checks)
    table = pa.table(out).filter(pa.array(good))
    return table, good, failures


def _location(batch, mapping, col, h, checks, out) -> None:
    """Numbers in range, and both coordinate systems filled from whichever the force gave."""
    ranges = {"easting": (0, 700_000), "northing": (0, 1_300_000), "latitude": (49, 61), "longitude": (-9, 3)}
    for name, (low, high) in ranges.items():
        out[name], bad = parse_number(col(name))
        checks += [Check(h(name), bad, f"{name} {{value!r}} is not a number"),
                   Check(h(name), out_of_range(out[name], low, high), f"{name} {{value!r}} is outside {low}..{high}")]
    e, n = out["easting"].to_numpy(zero_copy_only=False), out["northing"].to_numpy(zero_copy_only=False)
    lat, lon = out["latitude"].to_numpy(zero_copy_only=False), out["longitude"].to_numpy(zero_copy_only=False)
    need_ll = np.isnan(lat) & ~np.isnan(e) & ~np.isnan(n)
    if need_ll.any():
        lon[need_ll], lat[need_ll] = BNG_TO_WGS84.transform(e[need_ll], n[need_ll])
    need_en = np.isnan(e) & ~np.isnan(lat) & ~np.isnan(lon)
    if need_en.any():
        e[need_en], n[need_en] = WGS84_TO_BNG.transform(lon[need_en], lat[need_en])
    for name, arr in (("easting", e), ("northing", n), ("latitude", lat), ("longitude", lon)):
        out[name] = pa.array(arr, pa.float64(), from_pandas=True)


def _pseudonymise_list(raw: pa.Array, pseudonymise) -> pa.Array:
    """'id1;id2' -> [hmac(id1), hmac(id2)]; blank items dropped, a blank cell is an empty list."""
    ids = pc.split_pattern(pc.fill_null(raw, ""), ";")
    flat = pc.utf8_trim_whitespace(pc.list_flatten(ids))
    keep = pc.invert(blank(flat))
    hashed, _ = map_distinct(flat.filter(keep), pseudonymise, pa.string())
    parents = pc.list_parent_indices(ids).filter(keep).to_numpy()
    counts = np.bincount(parents, minlength=len(raw))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), hashed)


def header_checker(mapping: Mapping):
    return partial(check_mapped_header, mapping=mapping, required=REQUIRED)


def ingest_police_extract(ws, paths: list[Path], mapping_name: str | None = None, as_at: date | None = None,
                          progress=None) -> dict:
    mapping = load_mapping(ws, mapping_name)
    pseudonymise = pseudonymiser(ws.pseudonym_key)

    def partition(table: pa.Table):
        for month in pc.unique(table.column("month")).to_pylist():
            yield mapping.source, month, table.filter(pc.equal(table.column("month"), month))

    return ingest_files(ws, "crimes", SCHEMA, paths, columns=read_header, check_header=header_checker(mapping),
                        normalise=partial(normalise, mapping=mapping, pseudonymise=pseudonymise),
                        partition=partition, as_at=as_at, command=f"ingest police-extract --mapping {mapping.name}",
                        progress=progress, multiline=True, identifiable=RAW_IDS)
