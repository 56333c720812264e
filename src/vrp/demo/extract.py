"""Write the simulated crimes the way Wessex Constabulary's records system exports them.

The force uses its own headers and spellings (dd/mm/YYYY dates, `008N` / `4/1` offence classes,
Y/N flags, `S20`/`RIOT` sub-codes), so an ingest has to go through the column mapping written next
to the extracts. A handful of rows per file carry one deliberate fault each, so a real ingest shows
quarantine; the ground truth lists every one of them by line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vrp.demo.geography import FORCE, to_wgs84
from vrp.demo.table import Table, format_dates, format_datetimes, format_fixed, length, write_csv

HEADER = ("Occurrence Number", "Date Recorded", "Committed From", "Committed To", "HO Class",
          "HO Subclass", "Offence", "Knife/Sharp Instrument", "Firearm", "DA Flag", "Victim Age",
          "Victim Sex", "Easting", "Northing", "Latitude", "Longitude", "LSOA", "Location Type",
          "Status", "Victim URN", "Suspect URNs")

# (fault name, canonical field it breaks)
FAULTS = (
    ("impossible_date", "recorded_date"),
    ("unknown_offence_code", "offence_code"),
    ("non_numeric_easting", "easting"),
    ("victim_age_out_of_range", "victim_age"),
    ("blank_crime_ref", "crime_ref"),
    ("committed_after_recorded", "committed_from"),
)
LATLON_ONLY_SHARE = 0.03  # rows located by latitude/longitude only (blank easting/northing)

MAPPING_TOML = f'''\
# Column mapping for Wessex Constabulary crime extracts (wessex_crimes_<year>.csv), written by
# `vrp demo-data`. Standalone form of a [mappings.wessex] table (docs/schemas.md):
#   vrp ingest police-extract wessex_crimes_2024.csv --mapping wessex_mapping.toml
source = "{FORCE}"
date_format = "%d/%m/%Y"
datetime_format = "%d/%m/%Y %H:%M"

[columns]  # canonical name = the force's header
crime_ref = "Occurrence Number"
recorded_date = "Date Recorded"
committed_from = "Committed From"
committed_to = "Committed To"
offence_code = "HO Class"            # written 008N, 05D, 4/1: ingest normalises, no value map
offence_subcode = "HO Subclass"
offence_description = "Offence"
knife_flag = "Knife/Sharp Instrument"
firearm_flag = "Firearm"
domestic_flag = "DA Flag"
victim_age = "Victim Age"
victim_sex = "Victim Sex"
easting = "Easting"
northing = "Northing"
latitude = "Latitude"
longitude = "Longitude"
lsoa_code = "LSOA"
location_type = "Location Type"
crime_status = "Status"
victim_id = "Victim URN"             # raw id: hashed at ingest, never stored
suspect_ids = "Suspect URNs"         # several ids separated by ";"

[values.knife_flag]  # force value = canonical value; blank stays missing inside the collection
Y = "yes"
N = "no"
"N/A" = "not_applicable"

[values.firearm_flag]
Y = "true"
N = "false"

[values.domestic_flag]
Y = "true"
N = "false"

[values.victim_sex]
M = "male"
F = "female"
U = "unknown"

[values.location_type]
"Street" = "street"
"Dwelling" = "dwelling"
"Licensed Premises" = "licensed_premises"
"School" = "school"
"Public Transport" = "transport"
"Open Space" = "open_space"
"Shop" = "retail"
"Other" = "other"

[values.crime_status]
Confirmed = "confirmed"
Cancelled = "cancelled"
Transferred = "transferred"

[values.offence_subcode]  # other force sub-codes (AFFRAY, S4, S4A, S5) are kept as given
S20 = "gbh_s20"
S47 = "abh_s47"
RIOT = "riot"
'''


def assign_refs(crimes: Table, year: int) -> None:
    """Occurrence numbers in recording order: WX/<yy>/<6-digit sequence>."""
    seq = np.char.zfill(np.arange(1, length(crimes) + 1).astype(str), 6)
    crimes["crime_ref"] = np.char.add(f"WX/{year % 100:02d}/", seq)


def choose_bad_rows(rng: np.random.Generator, crimes: Table) -> list[tuple[int, str, str]]:
    """Pick 5-10 confirmed rows to corrupt, one fault each; every fault kind appears when k >= 6.
    Returns (row, fault, canonical field) in file order."""
    k = int(rng.integers(5, 11))
    confirmed = np.flatnonzero(crimes["status"] == "Confirmed")
    rows = np.sort(rng.choice(confirmed, k, replace=False))
    kinds = np.concatenate([rng.permutation(len(FAULTS)), rng.integers(0, len(FAULTS), max(0, k - 6))])
    kinds = rng.permutation(kinds[:k])
    return [(int(r), *FAULTS[i]) for r, i in zip(rows, kinds)]


def format_extract(rng: np.random.Generator, crimes: Table, bad: list[tuple[int, str, str]],
                   year: int) -> Table:
    """The extract as the force's strings (columns in HEADER order), with the faults applied."""
    n = length(crimes)
    latlon_only = rng.random(n) < LATLON_ONLY_SHARE
    latlon_only[[row for row, _, _ in bad]] = False
    committed_to = format_datetimes(crimes["committed_to"])
    out = {
        "Occurrence Number": crimes["crime_ref"].astype(object),
        "Date Recorded": format_dates(crimes["recorded"]),
        "Committed From": format_datetimes(crimes["committed_from"]),
        "Committed To": np.where(crimes["to_blank"], "", committed_to).astype(object),
        "HO Class": force_style_codes(rng, crimes["code"]),
        "HO Subclass": crimes["subcode"],
        "Offence": np.where(crimes["description_override"] != "", crimes["description_override"],
                            crimes["description"]),
        "Knife/Sharp Instrument": crimes["knife"],
        "Firearm": np.where(crimes["firearm"], "Y", "N"),
        "DA Flag": np.where(crimes["domestic"], "Y", "N"),
        "Victim Age": np.where(crimes["victim_age"] >= 0, crimes["victim_age"].astype(str), ""),
        "Victim Sex": crimes["victim_sex"],
        **_coordinates(crimes, latlon_only),
        "LSOA": crimes["lsoa_code"],
        "Location Type": crimes["location_type"],
        "Status": crimes["status"],
        "Victim URN": crimes["victim_urn"],
        "Suspect URNs": crimes["suspects"],
    }
    out = {h: np.asarray(out[h]).astype(object) for h in HEADER}
    _apply_faults(out, crimes, bad, year)
    return out


def force_style_codes(rng: np.random.Generator, codes: np.ndarray) -> np.ndarray:
    """Home Office codes as a force writes them: zero-padded (`008N`, `05D`), `/` for `.`, some
    lower case. All spellings normalise back to the canonical code."""
    style = rng.choice(4, len(codes), p=[.62, .2, .15, .03])
    codes = codes.astype(str)
    out = np.where(style == 1, np.char.zfill(codes, 3), codes)
    out = np.where(style == 2, np.char.zfill(codes, 4), out)
    out = np.where(style == 3, np.char.lower(codes), out)
    return np.char.replace(out, ".", "/")


def write_extract(table: Table, path: Path) -> int:
    return write_csv(path, HEADER, table)


def _coordinates(crimes: Table, latlon_only: np.ndarray) -> Table:
    """Easting/Northing for most rows; a few rows carry only WGS84 latitude/longitude."""
    east, north = crimes["easting"], crimes["northing"]
    lon, lat = to_wgs84(east, north)
    return {
        "Easting": np.where(latlon_only, "", east.astype(str)),
        "Northing": np.where(latlon_only, "", north.astype(str)),
        "Latitude": np.where(latlon_only, format_fixed(lat, 6), ""),
        "Longitude": np.where(latlon_only, format_fixed(lon, 6), ""),
    }


def _apply_faults(out: Table, crimes: Table, bad: list[tuple[int, str, str]], year: int) -> None:
    """Overwrite one field of each bad row so that exactly one validation rule fails."""
    for row, fault, _ in bad:
        if fault == "impossible_date":
            out["Date Recorded"][row] = f"31/02/{year}"
        elif fault == "unknown_offence_code":
            out["HO Class"][row], out["HO Subclass"][row] = "999Z", ""
        elif fault == "non_numeric_easting":
            east = out["Easting"][row]
            out["Easting"][row] = east[:2] + "O" + east[3:]
        elif fault == "victim_age_out_of_range":
            out["Victim Age"][row] = "230"
        elif fault == "blank_crime_ref":
            out["Occurrence Number"][row] = ""
        elif fault == "committed_after_recorded":
            after = crimes["recorded"][row].astype("datetime64[m]") + np.timedelta64(2 * 1440 + 615, "m")
            window = np.array([after, after + np.timedelta64(85, "m")])
            out["Committed From"][row], out["Committed To"][row] = format_datetimes(window)


def bad_row_records(bad: list[tuple[int, str, str]], crimes: Table, out: Table) -> list[dict]:
    """Ground-truth entries for the planted faults: file line (header = 1), the row's crime ref
    (as generated, even where the fault blanked it), field, fault and the value written."""
    column = {"recorded_date": "Date Recorded", "offence_code": "HO Class", "easting": "Easting",
              "victim_age": "Victim Age", "crime_ref": "Occurrence Number",
              "committed_from": "Committed From"}
    return [{"line": row + 2, "crime_ref": str(crimes["crime_ref"][row]), "field": field,
             "fault": fault, "value": str(out[column[field]][row])}
            for row, fault, field in bad]
