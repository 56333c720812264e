"""Column mappings: how a partner's own headers and code values map onto a canonical schema.

A mapping belongs to one dataset (`dataset = "..."`, default `crimes`, the force extract): each
dataset says which canonical input fields a mapping may name (`DatasetFields`).
"""
from __future__ import annotations

import tomllib
from datetime import date
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from vrp.errors import InputError, VrpError
from vrp.ingest.checks import Check, blank
from vrp.ingest.values import map_distinct, strict_date, value_map

# Canonical input fields of a force crime extract (docs/schemas.md). victim_id and suspect_ids are
# raw person identifiers: they are pseudonymised at ingest and never stored.
INPUT_FIELDS = (
    "crime_ref", "recorded_date", "committed_from", "committed_to", "offence_code", "offence_subcode",
    "offence_description", "knife_flag", "knife_flag_method", "firearm_flag", "domestic_flag", "victim_age",
    "victim_sex", "easting", "northing", "latitude", "longitude", "lsoa_code", "location_type", "crime_status",
    "victim_id", "suspect_ids",
)
REQUIRED = ("crime_ref", "recorded_date", "offence_code")


@dataclass(frozen=True)
class DatasetFields:
    """What a mapping for one dataset may say: the input columns it can name (`fields`), those a
    file must have (`required`), and derived fields that take a value map but no column."""

    dataset: str
    fields: tuple[str, ...]
    required: tuple[str, ...]
    value_fields: tuple[str, ...] = ()
    default_source: str = "force"


CRIMES = DatasetFields("crimes", INPUT_FIELDS, REQUIRED)


@dataclass
class Mapping:
    name: str
    source: str = "force"
    date_format: str = "%Y-%m-%d"
    datetime_format: str = "%Y-%m-%dT%H:%M:%S"
    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    lenient: bool = False  # canonical headers: optional fields may be absent from the file
    dataset: str = "crimes"
    source_given: bool = False  # the mapping names its source (else the dataset's default applies)

    def header_for(self, canonical: str) -> str | None:
        return self.columns.get(canonical)

    def field_label(self, canonical: str) -> str:
        """The partner's own header for a field (else its canonical name): what messages name."""
        return self.columns.get(canonical) or canonical


def mapping_from_dict(name: str, data: dict, where: str, spec: DatasetFields = CRIMES) -> Mapping:
    unknown = set(data) - {"dataset", "source", "date_format", "datetime_format", "columns", "values"}
    if unknown:
        raise VrpError(f"{where}: unknown mapping key '{sorted(unknown)[0]}'")
    dataset = str(data.get("dataset", "crimes"))
    if dataset != spec.dataset:
        raise VrpError(f"{where}: mapping '{name}' is for dataset '{dataset}', not '{spec.dataset}' "
                       f"(set dataset = \"{spec.dataset}\" in a mapping for these files)")
    columns = dict(data.get("columns", {}))
    bad = [c for c in columns if c not in spec.fields]
    bad += [c for c in data.get("values", {}) if c not in spec.fields + spec.value_fields]
    if bad:
        raise VrpError(f"{where}: '{bad[0]}' is not a canonical field of {spec.dataset} (see docs/schemas.md)")
    values = {f: {str(k).strip().lower(): str(v) for k, v in m.items()} for f, m in data.get("values", {}).items()}
    return Mapping(name=name, source=data.get("source", name), date_format=data.get("date_format", "%Y-%m-%d"),
                   datetime_format=data.get("datetime_format", "%Y-%m-%dT%H:%M:%S"), columns=columns, values=values,
                   dataset=dataset, source_given="source" in data)


def load_mapping(ws, name_or_path: str | None, spec: DatasetFields = CRIMES) -> Mapping:
    """A mapping named in vrp.toml [mappings.NAME], or a standalone TOML file; None: canonical headers."""
    if not name_or_path:
        return Mapping(name="canonical", source=spec.default_source, columns={f: f for f in spec.fields},
                       lenient=True, dataset=spec.dataset)
    configured = ws.config.get("mappings", {})
    if name_or_path in configured:
        return mapping_from_dict(name_or_path, configured[name_or_path],
                                 f"{ws.root / 'vrp.toml'} [mappings.{name_or_path}]", spec)
    path = Path(name_or_path)
    if not path.is_file():
        known = ", ".join(sorted(configured)) or "none"
        raise VrpError(f"mapping '{name_or_path}' is neither in vrp.toml (mappings: {known}) nor a file")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise VrpError(f"{path}: {exc}") from None
    return mapping_from_dict(path.stem, data, str(path), spec)


def check_mapped_header(path: Path, header: list[str], mapping: Mapping, required: tuple[str, ...]) -> None:
    """File-level checks of a header against a mapping: no duplicate columns, every required field
    mapped and present, every mapped column present (optional ones may be absent from a file with
    canonical headers)."""
    if len(set(header)) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise InputError(path, f"column '{dup}' appears twice in the header", line=1, field=dup)
    for name in required:
        if mapping.header_for(name) is None:
            raise InputError(path, f"mapping '{mapping.name}' gives no column for required field '{name}'")
    for canonical, column in mapping.columns.items():
        if column not in header and (not mapping.lenient or canonical in required):
            raise InputError(path, f"header has no column '{column}' (mapped to {canonical}); "
                                   f"it has: {', '.join(header)}", line=1, field=column)


def check_value_targets(mapping: Mapping, name: str, allowed) -> None:
    """A value map into a closed list must translate into that list (caught before any file is read)."""
    for source, target in mapping.values.get(name, {}).items():
        if target not in allowed:
            raise VrpError(f"mapping '{mapping.name}': [values.{name}] maps '{source}' to '{target}', "
                           f"which is not one of {', '.join(allowed)}")


# ---- Reading a batch through a mapping ---------------------------------------------------------


def mapped_column(batch: pa.RecordBatch, mapping: Mapping, name: str) -> pa.Array:
    """The batch's column for a canonical field, or nulls when the mapping names none."""
    header = mapping.header_for(name)
    if header is None or header not in batch.schema.names:
        return pa.nulls(batch.num_rows, pa.string())
    return batch.column(header)


def coded_column(batch, mapping, name, defaults, allowed, checks, reason="", out_type=pa.string()):
    """A code column through the mapping's value table. A closed list (`allowed`) quarantines
    values it cannot translate, with `reason`; an open one keeps them, in lower case."""
    raw = mapped_column(batch, mapping, name)
    values, bad = map_distinct(raw, value_map(mapping.values.get(name), defaults, allowed), pa.string())
    if allowed is not None:
        checks.append(Check(mapping.field_label(name), bad, reason))
    return pc.cast(values, out_type)


def required_date(batch, mapping, name: str, as_at: date, label: str) -> tuple[pa.Array, list[Check]]:
    """A required date field in the mapping's date format, with the checks every adapter applies:
    blank, not a date, after the as-at date (data cannot describe the future) or before 1900."""
    raw = mapped_column(batch, mapping, name)
    header = mapping.field_label(name)
    dates, bad = map_distinct(raw, strict_date(mapping.date_format), pa.date32())
    return dates, [Check(header, blank(raw), f"{label} is blank"),
                   Check(header, bad, f"{{value!r}} is not a date in the format {mapping.date_format}"),
                   Check(header, pc.greater(dates, pa.scalar(as_at, pa.date32())), f"{label} {{value!r}} is after the as-at date"),
                   Check(header, pc.less(dates, pa.scalar(date(1900, 1, 1), pa.date32())), f"{label} {{value!r}} is before 1900")]
