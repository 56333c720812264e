"""Health partners' data: emergency department assault attendances (ISTV minimum data set) ->
dataset `ed_attendances`, and hospital admission aggregates (NHS England / ICB) -> dataset
`admissions` (docs/schemas.md).

Neither may hold patient identifiers: ED records are anonymised by the provider before they leave
the NHS, admissions are aggregate counts. A file with a column that looks like a patient
identifier is refused whole, before anything is read from it.
"""
from __future__ import annotations

import re
from datetime import date
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vrp.errors import InputError
from vrp.ingest.checks import Check, apply_checks, blank, null_if_blank, out_of_range, parse_number
from vrp.ingest.extract import SEX
from vrp.ingest.files import read_header
from vrp.ingest.load import ingest_files
from vrp.ingest.mapping import (DatasetFields, Mapping, check_mapped_header, check_value_targets, coded_column,
                                load_mapping, mapped_column, required_date)
from vrp.ingest.values import Invalid, map_distinct, strict_date

LSOA_CODE = r"^[EW]01\d{6}$"

# ---- Patient identifiers --------------------------------------------------------------------

# Header names are compared in lower case with everything but letters and digits removed
# ("NHS Number", "nhs_number" and "NHSNumber" are all "nhsnumber").
_ID_CONTAINS = ("nhsnumber", "dateofbirth", "birthdate", "postcode", "postalcode", "address", "phone",
                "hospitalnumber", "hospitalno", "medicalrecordnumber", "casenotenumber", "forename", "surname",
                "firstname", "lastname", "familyname", "givenname", "middlename", "fullname", "patientname",
                "patientid", "patientnumber", "mobilenumber")
_ID_EXACT = re.compile(r"(patient)?(nhs|nhsno|nhsnum|names?|dob|mrn|hospno|hospitalid|mobile|zip|zipcode)")


def patient_identifier(header_name: str) -> bool:
    """Whether a column name looks like a patient identifier (NHS number, name, date of birth,
    postcode, address, phone, hospital number / MRN)."""
    norm = re.sub(r"[^a-z0-9]", "", header_name.lower())
    return any(token in norm for token in _ID_CONTAINS) or _ID_EXACT.fullmatch(norm) is not None


def refuse_patient_identifiers(path: Path, header: list[str], what: str) -> None:
    for name in header:
        if patient_identifier(name):
            raise InputError(path, f"holds a patient identifier column '{name}'; {what}", line=1, field=name)


# ---- ED assault attendances (ISTV) ------------------------------------------------------------

ED_DATASET = "ed_attendances"
ED_FIELDS = DatasetFields(
    ED_DATASET,
    fields=("record_id", "site_code", "attendance_date", "attendance_time", "assault_date", "assault_time",
            "assault_method", "location_type", "location_text", "lsoa_code", "age", "sex"),
    required=("record_id", "site_code", "attendance_date", "assault_method"),
    value_fields=("weapon",),
    default_source="site",
)
ED_SCHEMA = pa.schema([
    ("record_id", pa.string()), ("site_code", pa.string()), ("attendance_date", pa.date32()),
    ("attendance_time", pa.string()), ("assault_date", pa.date32()), ("assault_time", pa.string()),
    ("assault_method", pa.string()), ("weapon", pa.string()), ("location_type", pa.string()),
    ("location_text", pa.string()), ("lsoa_code", pa.string()), ("age", pa.int16()), ("sex", pa.string()),
    ("month", pa.string()), ("source_file", pa.string()), ("ingest_run", pa.string()), ("as_at", pa.date32()),
])
ED_REFUSAL = "ED data must be anonymised before it leaves the NHS"

WEAPONS = ("knife_sharp", "glass_bottle", "blunt", "body_part", "firearm", "other", "unknown")
# The built-in classifier for free-text assault methods: the first category with a keyword in the
# text wins, in this order (most serious first). Keywords match at the start of a word ("stab"
# matches "stabbed", not "establishment"); those ending in "$" match the whole word only.
WEAPON_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("firearm", ("gun", "firearm", "shot", "pistol", "rifle")),
    ("knife_sharp", ("knife", "knives", "blade", "stab", "sharp", "machete", "scissor", "slash")),
    ("glass_bottle", ("glass", "bottle")),
    ("blunt", ("bat$", "bats$", "baseball bat", "baton", "stick", "hammer", "blunt", "bar$", "bars$", "iron bar",
               "crowbar")),
    ("body_part", ("fist", "punch", "kick", "feet$", "foot$", "head", "hand$", "hands$", "stamp", "elbow", "knee")),
    ("unknown", ("unknown$", "not known$", "n/k$")),
)
_WEAPON_RES = tuple(
    (weapon, re.compile("|".join(r"\b" + (re.escape(k[:-1]) + r"\b" if k.endswith("$") else re.escape(k))
                                 for k in words)))
    for weapon, words in WEAPON_KEYWORDS)
_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)(:[0-5]\d)?")


def classify_weapon(text: str, table: dict[str, str] | None = None) -> str:
    """Assault method (a code or free text) -> the controlled weapon list. The mapping's
    [values.weapon] table is looked up first (case-insensitive), then the keyword classifier."""
    key = text.strip().lower()
    if not key:
        return "unknown"
    if table and key in table:
        return table[key]
    if key in WEAPONS:
        return key
    for weapon, pattern in _WEAPON_RES:
        if pattern.search(key):
            return weapon
    return "other"


def parse_time(text: str) -> str:
    """'9:05', '09:05' or '09:05:30' -> '09:05'."""
    match = _TIME.fullmatch(text.strip())
    if not match:
        raise Invalid(text)
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def normalise_ed(batch: pa.RecordBatch, as_at: date, mapping: Mapping) -> tuple[pa.Table, np.ndarray, list]:
    """Validate and translate one batch of ED assault attendances onto the canonical schema."""
    col = partial(mapped_column, batch, mapping)
    h = mapping.field_label  # the partner's name for a field, in messages
    checks: list[Check] = []
    out: dict[str, pa.Array] = {}

    out["record_id"] = null_if_blank(col("record_id"))
    checks.append(Check(h("record_id"), pc.is_null(out["record_id"]), "record id is blank"))
    out["site_code"] = pc.utf8_upper(null_if_blank(col("site_code")))
    checks.append(Check(h("site_code"), pc.is_null(out["site_code"]), "site code is blank"))

    fmt = mapping.date_format
    attended, date_checks = required_date(batch, mapping, "attendance_date", as_at, "attendance date")
    checks += date_checks
    out["attendance_date"] = attended
    out["attendance_time"], bad = map_distinct(col("attendance_time"), parse_time, pa.string())
    checks.append(Check(h("attendance_time"), bad, "attendance time {value!r} is not a time HH:MM"))
    assaulted, bad = map_distinct(col("assault_date"), strict_date(fmt), pa.date32())
    checks += [Check(h("assault_date"), bad, f"{{value!r}} is not a date in the format {fmt}"),
               Check(h("assault_date"), pc.greater(assaulted, attended), "assault date {value!r} is after the attendance date")]
    out["assault_date"] = assaulted
    out["assault_time"], bad = map_distinct(col("assault_time"), parse_time, pa.string())
    checks += [Check(h("assault_time"), bad, "assault time {value!r} is not a time HH:MM"),
               Check(h("assault_time"), pc.and_(pc.equal(assaulted, attended),
                                                pc.greater(out["assault_time"], out["attendance_time"])),
                     "assault time {value!r} is after the attendance time on the same day")]

    out["assault_method"] = null_if_blank(col("assault_method"))
    table = mapping.values.get("weapon")
    weapon, _ = map_distinct(col("assault_method"), partial(classify_weapon, table=table), pa.string())
    out["weapon"] = pc.fill_null(weapon, "unknown")
    out["location_type"] = coded_column(batch, mapping, "location_type", {}, None, checks)
    out["location_text"] = null_if_blank(col("location_text"))
    out["lsoa_code"] = pc.utf8_upper(null_if_blank(col("lsoa_code")))
    checks.append(Check(h("lsoa_code"), pc.invert(pc.match_substring_regex(out["lsoa_code"], LSOA_CODE)),
                        "{value!r} is not an LSOA code"))

    age, bad = parse_number(col("age"))
    checks += [Check(h("age"), bad, "age {value!r} is not a number"),
               Check(h("age"), out_of_range(age, 0, 120), "age {value!r} is outside 0..120"),
               Check(h("age"), pc.not_equal(age, pc.floor(age)), "age {value!r} is not a whole number")]
    out["age"] = pc.cast(pc.if_else(out_of_range(age, 0, 120), None, pc.floor(age)), pa.int16())
    out["sex"] = coded_column(batch, mapping, "sex", SEX, {"male", "female", "other", "unknown"}, checks,
                        "unknown sex {value!r}")
    out["month"] = pc.strftime(attended, format="%Y-%m")

    good, failures = apply_checks(batch, checks)
    return pa.table(out).filter(pa.array(good)), good, failures


def ingest_ed_attendances(ws, paths: list[Path], mapping_name: str | None = None, source: str | None = None,
                          as_at: date | None = None, progress=None) -> dict:
    """Load ED assault attendance files. Snapshots are by source and attendance month; the source is
    --source, else the mapping's `source`, else each row's site code."""
    mapping = load_mapping(ws, mapping_name, ED_FIELDS)
    check_value_targets(mapping, "weapon", WEAPONS)
    check_value_targets(mapping, "sex", ("male", "female", "other", "unknown"))
    label = source or (mapping.source if mapping.source_given else None)

    def check_header(path: Path, header: list[str]) -> None:
        refuse_patient_identifiers(path, header, ED_REFUSAL)
        check_mapped_header(path, header, mapping, ED_FIELDS.required)

    def partition(table: pa.Table):
        keys = pa.table({"s": table.column("site_code") if label is None else pa.repeat(label, table.num_rows),
                         "m": table.column("month")})
        groups = keys.group_by(["s", "m"]).aggregate([])
        for site, month in zip(groups.column("s").to_pylist(), groups.column("m").to_pylist()):
            mask = pc.and_(pc.equal(keys.column("s"), site), pc.equal(keys.column("m"), month))
            yield site, month, table.filter(mask)

    return ingest_files(ws, ED_DATASET, ED_SCHEMA, paths, columns=read_header, check_header=check_header,
                        normalise=partial(normalise_ed, mapping=mapping), partition=partition, as_at=as_at,
                        command=f"ingest ed-attendances --mapping {mapping.name}", progress=progress, multiline=True)


# ---- Hospital admission aggregates --------------------------------------------------------------

ADM_DATASET = "admissions"
ADM_FIELDS = DatasetFields(
    ADM_DATASET,
    fields=("period", "area_code", "age_band", "sex", "cause", "diagnosis_position", "admission_method",
            "counting_unit", "count"),
    required=("period", "area_code", "age_band", "cause", "count"),
    default_source="nhs",
)
ADM_SCHEMA = pa.schema([
    ("period", pa.string()), ("period_start", pa.string()), ("period_end", pa.string()), ("area_code", pa.string()),
    ("area_level", pa.string()), ("age_band", pa.string()), ("age_min", pa.int16()), ("age_max", pa.int16()),
    ("sex", pa.string()), ("cause", pa.string()), ("diagnosis_position", pa.string()),
    ("admission_method", pa.string()), ("counting_unit", pa.string()), ("count", pa.int64()),
    ("source_suppressed", pa.bool_()), ("month", pa.string()),
    ("source_file", pa.string()), ("ingest_run", pa.string()), ("as_at", pa.date32()),
])
ADM_REFUSAL = "admissions data must be aggregate counts, never patient-level records"
SUPPRESSED = ("*", "c", "<5", "<6", "<8")
AREA_LEVELS = ((r"^[EW]01\d{6}$", "lsoa"), (r"^(E06|E07|E08|E09|W06)\d{6}$", "district"), (r"^E23\d{6}$", "pfa"))
ADM_SEX = ("persons", "male", "female")
POSITIONS = ("any", "primary")
METHODS = ("emergency", "all")
UNITS = ("fae", "fce", "admissions")
_ADM_VALUES = {
    "sex": ({"m": "male", "f": "female", "p": "persons", "person": "persons", "all": "persons"}, ADM_SEX),
    "diagnosis_position": ({"any position": "any", "all positions": "any", "primary diagnosis": "primary",
                            "primary position": "primary"}, POSITIONS),
    "admission_method": ({"emergency admissions": "emergency", "emergency admission": "emergency",
                          "all admissions": "all"}, METHODS),
    "counting_unit": ({"first finished admission episode": "fae", "first finished admission episodes": "fae",
                       "finished consultant episode": "fce", "finished consultant episodes": "fce",
                       "admission": "admissions"}, UNITS),
}
_DEFAULTS = {"sex": "persons", "diagnosis_position": "any", "admission_method": "emergency", "counting_unit": "fae"}
_CAUSE = re.compile(r"[A-Z]\d{2}(-[A-Z]\d{2})?")


def parse_period(text: str) -> tuple[str, str]:
    """'2024-07' -> (2024-07, 2024-07); '2024/25' -> (2024-04, 2025-03); '2024' -> (2024-01, 2024-12)."""
    text = text.strip()
    if re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        return text, text
    if match := re.fullmatch(r"(\d{4})/(\d{2})", text):
        year = int(match.group(1))
        if int(match.group(2)) != (year + 1) % 100:
            raise Invalid(text)
        return f"{year}-04", f"{year + 1}-03"
    if re.fullmatch(r"\d{4}", text):
        return f"{text}-01", f"{text}-12"
    raise Invalid(text)


def parse_admission_age_band(text: str) -> tuple[str, int, int]:
    """'0-17' -> ('0-17', 0, 17); '25+' -> ('25+', 25, 120); 'all' -> ('all', 0, 120)."""
    t = text.strip().lower()
    if t in ("all", "all ages"):
        return "all", 0, 120
    if match := re.fullmatch(r"(\d{1,3})\s*(-|to)\s*(\d{1,3})", t):
        low, high = int(match.group(1)), int(match.group(3))
    elif match := re.fullmatch(r"(\d{1,3})\s*(\+|and over|plus)", t):
        low, high = int(match.group(1)), 120
    elif match := re.fullmatch(r"(under|<)\s*(\d{1,3})", t):
        low, high = 0, int(match.group(2)) - 1
    else:
        raise Invalid(text)
    if not 0 <= low <= high <= 120:
        raise Invalid(text)
    label = "all" if (low, high) == (0, 120) else f"{low}+" if high == 120 else f"{low}-{high}"
    return label, low, high


def normalise_cause(text: str) -> str:
    """ICD-10 code or range, upper case without dots or spaces: 'x85 - y09' -> 'X85-Y09'."""
    code = re.sub(r"[\s.]", "", text.upper()).replace("\u2013", "-").replace("\u2014", "-")
    if not _CAUSE.fullmatch(code) or ("-" in code and code[4:] < code[:3]):
        raise Invalid(text)
    return code


def normalise_admissions(batch: pa.RecordBatch, as_at: date, mapping: Mapping) -> tuple[pa.Table, np.ndarray, list]:
    """Validate and translate one batch of admission aggregates onto the canonical schema."""
    col = partial(mapped_column, batch, mapping)
    h = mapping.field_label  # the partner's name for a field, in messages
    checks: list[Check] = []
    out: dict[str, pa.Array] = {}

    out["period"] = null_if_blank(col("period"))
    out["period_start"], bad = map_distinct(col("period"), lambda t: parse_period(t)[0], pa.string())
    out["period_end"], _ = map_distinct(col("period"), lambda t: parse_period(t)[1], pa.string())
    checks += [Check(h("period"), blank(col("period")), "period is blank"),
               Check(h("period"), bad, "period {value!r} is not YYYY-MM, a financial year YYYY/YY or a year YYYY"),
               Check(h("period"), pc.greater(out["period_start"], as_at.strftime("%Y-%m")),
                     "period {value!r} starts after the as-at date")]

    area = pc.utf8_upper(null_if_blank(col("area_code")))
    level = pa.nulls(batch.num_rows, pa.string())
    for pattern, name in reversed(AREA_LEVELS):
        level = pc.if_else(pc.fill_null(pc.match_substring_regex(area, pattern), False), name, level)
    out["area_code"], out["area_level"] = area, level
    checks.append(Check(h("area_code"), pc.is_null(level),
                        "area code {value!r} is not an LSOA, local authority or police force area code"))

    band = col("age_band")
    out["age_band"], bad = map_distinct(band, lambda t: parse_admission_age_band(t)[0], pa.string())
    out["age_min"], _ = map_distinct(band, lambda t: parse_admission_age_band(t)[1], pa.int16())
    out["age_max"], _ = map_distinct(band, lambda t: parse_admission_age_band(t)[2], pa.int16())
    checks += [Check(h("age_band"), blank(band), "age band is blank"),
               Check(h("age_band"), bad, "age band {value!r} has no recognisable age range")]

    for name, reason in (("sex", "unknown sex {value!r} (expected persons, male or female)"),
                         ("diagnosis_position", "unknown diagnosis position {value!r} (expected any or primary)"),
                         ("admission_method", "unknown admission method {value!r} (expected emergency or all)"),
                         ("counting_unit", "unknown counting unit {value!r} (expected fae, fce or admissions)")):
        defaults, allowed = _ADM_VALUES[name]
        out[name] = pc.fill_null(coded_column(batch, mapping, name, defaults, set(allowed), checks, reason), _DEFAULTS[name])

    out["cause"], bad = map_distinct(col("cause"), normalise_cause, pa.string())
    checks += [Check(h("cause"), blank(col("cause")), "cause is blank"),
               Check(h("cause"), bad, "cause {value!r} is not an ICD-10 code or range (e.g. X99, X85-Y09)")]

    raw = pc.utf8_trim_whitespace(col("count"))
    suppressed = pc.is_in(pc.utf8_lower(raw), value_set=pa.array(SUPPRESSED))
    value, bad = parse_number(pc.replace_substring(pc.if_else(suppressed, "", raw), ",", ""))
    checks += [Check(h("count"), pc.and_(blank(raw), pc.invert(suppressed)), "count is blank"),
               Check(h("count"), bad, "count {value!r} is not a number or a suppression marker (*, c, <5, <6, <8)"),
               Check(h("count"), pc.or_(pc.less(value, 0), pc.not_equal(value, pc.floor(value))),
                     "count {value!r} is not a whole number of admissions")]
    out["count"] = pc.cast(pc.if_else(pc.or_(bad, pc.fill_null(pc.less(value, 0), False)), None, value),
                           pa.int64(), safe=False)
    out["source_suppressed"] = pc.fill_null(suppressed, False)
    out["month"] = out["period_start"]

    good, failures = apply_checks(batch, checks)
    return pa.table(out).filter(pa.array(good)), good, failures


def ingest_admissions(ws, paths: list[Path], mapping_name: str | None = None, source: str | None = None,
                      as_at: date | None = None, progress=None) -> dict:
    """Load admission aggregate files. Snapshots are by source (--source, else the mapping's
    `source`, else "nhs") and first month of the period."""
    mapping = load_mapping(ws, mapping_name, ADM_FIELDS)
    for name, (_, allowed) in _ADM_VALUES.items():
        check_value_targets(mapping, name, allowed)
    label = source or (mapping.source if mapping.source_given else ADM_FIELDS.default_source)

    def check_header(path: Path, header: list[str]) -> None:
        refuse_patient_identifiers(path, header, ADM_REFUSAL)
        check_mapped_header(path, header, mapping, ADM_FIELDS.required)

    def partition(table: pa.Table):
        """One snapshot per supplied period: '2024-04' for a month, '2024-04_to_2025-03' for a
        longer one, so a monthly file never replaces the financial-year file it overlaps."""
        keys = pc.if_else(pc.equal(table.column("period_start"), table.column("period_end")), table.column("period_start"),
                          pc.binary_join_element_wise(table.column("period_start"), table.column("period_end"), "_to_"))
        for key in pc.unique(keys).to_pylist():
            yield label, key, table.filter(pc.equal(keys, key))

    return ingest_files(ws, ADM_DATASET, ADM_SCHEMA, paths, columns=read_header, check_header=check_header,
                        normalise=partial(normalise_admissions, mapping=mapping), partition=partition, as_at=as_at,
                        command=f"ingest admissions --mapping {mapping.name}", progress=progress)
