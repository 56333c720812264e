"""police.uk street-level crime files -> dataset `police_uk` (schema: docs/schemas.md)."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vrp.errors import InputError
from vrp.ingest.arrow import bools, scalar
from vrp.ingest.checks import MONTH, Check, apply_checks, not_in, null_if_blank, out_of_range, parse_number
from vrp.ingest.load import ingest_files

HEADER = ["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
          "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context"]
COLUMNS = ["crime_id", "month", "reported_by", "falls_within", "longitude", "latitude", "location",
           "lsoa_code", "lsoa_name", "crime_type", "last_outcome_category", "context"]
CRIME_TYPES = frozenset({
    "Anti-social behaviour", "Bicycle theft", "Burglary", "Criminal damage and arson", "Drugs", "Other crime",
    "Other theft", "Possession of weapons", "Public order", "Robbery", "Shoplifting", "Theft from the person",
    "Vehicle crime", "Violence and sexual offences",
})
KEEP_BLANK = ("reported_by", "falls_within", "crime_type")  # trimmed, but a blank stays a blank
SCHEMA = pa.schema([(c, pa.float64() if c in ("longitude", "latitude") else pa.string()) for c in COLUMNS] + [
    ("source_file", pa.string()), ("ingest_run", pa.string()), ("as_at", pa.date32())])


def check_header(path: Path, header: list[str]) -> None:
    if header != HEADER:
        if len(header) != len(HEADER):
            raise InputError(path, f"header has {len(header)} columns, a police.uk street file has {len(HEADER)}: "
                                   f"{', '.join(HEADER)}", line=1)
        wrong = next(i for i, (a, b) in enumerate(zip(header, HEADER)) if a != b)
        raise InputError(path, f"header column {wrong + 1} is '{header[wrong]}', expected '{HEADER[wrong]}'",
                         line=1, field=header[wrong])


def normalise(batch: pa.RecordBatch, as_at: date) -> tuple[pa.Table, np.ndarray, list]:
    """Validate a batch of raw strings; return the good rows in the canonical schema."""
    lon, lon_bad = parse_number(batch.column("longitude"))
    lat, lat_bad = parse_number(batch.column("latitude"))
    month = pc.utf8_trim_whitespace(batch.column("month"))
    checks = [
        Check("month", pc.invert(pc.match_substring_regex(month, MONTH)), "month {value!r} is not a YYYY-MM month"),
        Check("month", pc.greater(month, scalar(as_at.strftime("%Y-%m"))), "month {value!r} is after the as-at date"),
        Check("longitude", lon_bad, "longitude {value!r} is not a number"),
        Check("latitude", lat_bad, "latitude {value!r} is not a number"),
        Check("longitude", out_of_range(lon, -180, 180), "longitude {value!r} is outside -180..180"),
        Check("latitude", out_of_range(lat, -90, 90), "latitude {value!r} is outside -90..90"),
        Check("crime_type", not_in(batch.column("crime_type"), CRIME_TYPES), "unknown crime type {value!r}"),
    ]
    good, failures = apply_checks(batch, checks)
    parsed = {"month": month, "longitude": lon, "latitude": lat}
    cols = {c: parsed[c] if c in parsed else pc.utf8_trim_whitespace(batch.column(c)) if c in KEEP_BLANK
            else null_if_blank(batch.column(c)) for c in COLUMNS}
    table = pa.Table.from_arrays(list(cols.values()), names=list(cols))
    if not good.all():
        table = table.filter(bools(good))
    return table, good, failures


def partition(table: pa.Table):
    """Snapshots are per source (the reporting force) and month."""
    if table.num_rows == 0:
        return
    sources, months = pc.unique(table.column("reported_by")), pc.unique(table.column("month"))
    if len(sources) == len(months) == 1 and not (sources.null_count or months.null_count):
        yield sources[0].as_py() or "unknown", months[0].as_py(), table  # the usual file: one force, one month
        return
    keys = pa.table({"s": table.column("reported_by"), "m": table.column("month")}).group_by(["s", "m"]).aggregate([])
    for source, month in zip(keys.column("s").to_pylist(), keys.column("m").to_pylist()):
        mask = pc.and_(pc.equal(table.column("reported_by"), source), pc.equal(table.column("month"), month))
        yield source or "unknown", month, table.filter(mask)


def ingest_police_uk(ws, paths: list[Path], as_at: date | None = None, progress=None) -> dict:
    return ingest_files(ws, "police_uk", SCHEMA, paths, columns=COLUMNS, check_header=check_header,
                        normalise=normalise, partition=partition, as_at=as_at,
                        command="ingest police-uk", progress=progress)
