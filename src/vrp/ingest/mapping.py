"""Column mappings: how a force's own headers and code values map onto the canonical crime schema."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from vrp.errors import VrpError

# Canonical input fields of a force crime extract (docs/schemas.md). victim_id and suspect_ids are
# raw person identifiers: they are pseudonymised at ingest and never stored.
INPUT_FIELDS = (
    "crime_ref", "recorded_date", "committed_from", "committed_to", "offence_code", "offence_subcode",
    "offence_description", "knife_flag", "knife_flag_method", "firearm_flag", "domestic_flag", "victim_age",
    "victim_sex", "easting", "northing", "latitude", "longitude", "lsoa_code", "location_type", "crime_status",
    "victim_id", "suspect_ids",
)
REQUIRED = ("crime_ref", "recorded_date", "offence_code")


@dataclass
class Mapping:
    name: str
    source: str = "force"
    date_format: str = "%Y-%m-%d"
    datetime_format: str = "%Y-%m-%dT%H:%M:%S"
    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    lenient: bool = False  # canonical headers: optional fields may be absent from the file

    def header_for(self, canonical: str) -> str | None:
        return self.columns.get(canonical)


def mapping_from_dict(name: str, data: dict, where: str) -> Mapping:
    unknown = set(data) - {"source", "date_format", "datetime_format", "columns", "values"}
    if unknown:
        raise VrpError(f"{where}: unknown mapping key '{sorted(unknown)[0]}'")
    columns = dict(data.get("columns", {}))
    bad = [c for c in list(columns) + list(data.get("values", {})) if c not in INPUT_FIELDS]
    if bad:
        raise VrpError(f"{where}: '{bad[0]}' is not a canonical field (see docs/schemas.md)")
    values = {f: {str(k).strip().lower(): str(v) for k, v in m.items()} for f, m in data.get("values", {}).items()}
    return Mapping(name=name, source=data.get("source", name), date_format=data.get("date_format", "%Y-%m-%d"),
                   datetime_format=data.get("datetime_format", "%Y-%m-%dT%H:%M:%S"), columns=columns, values=values)


def load_mapping(ws, name_or_path: str | None) -> Mapping:
    """A mapping named in vrp.toml [mappings.NAME], or a standalone TOML file; None: canonical headers."""
    if not name_or_path:
        return Mapping(name="canonical", columns={f: f for f in INPUT_FIELDS}, lenient=True)
    configured = ws.config.get("mappings", {})
    if name_or_path in configured:
        return mapping_from_dict(name_or_path, configured[name_or_path], f"{ws.root / 'vrp.toml'} [mappings.{name_or_path}]")
    path = Path(name_or_path)
    if not path.is_file():
        known = ", ".join(sorted(configured)) or "none"
        raise VrpError(f"mapping '{name_or_path}' is neither in vrp.toml (mappings: {known}) nor a file")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise VrpError(f"{path}: {exc}") from None
    return mapping_from_dict(path.stem, data, str(path))
