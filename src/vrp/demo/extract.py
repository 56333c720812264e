"""Write the simulated crimes the way Wessex Constabulary's records system exports them.

The force uses its own headers and spellings (dd/mm/YYYY dates, `008N` / `4/1` offence classes,
Y/N flags, `S20`/`RIOT` sub-codes), so an ingest has to go through the column mapping written next
to the extracts. A handful of rows per file carry one deliberate fault each, so a real ingest shows
quarantine; the ground truth lists every one of them by line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from vrp.demo.geography import FORCE, to_wgs84

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


def assign_refs(crimes: pd.DataFrame, year: int) -> None:
    """Occurrence numbers in recording order: WX/<yy>/<6-digit sequence>."""
    seq = np.char.zfill(np.arange(1, len(crimes) + 1).astype(str), 6)
    crimes["crime_ref"] = np.char.add(f"WX/{year % 100:02d}/", seq)


def choose_bad_rows(rng: np.random.Generator, crimes: pd.DataFrame) -> pd.DataFrame:
    """Pick 5-10 confirmed rows to corrupt, one fault each; every fault kind appears when k >= 6."""
    k = int(rng.integers(5, 11))
    confirmed = np.flatnonzero(crimes["status"].to_numpy() == "Confirmed")
    rows = np.sort(rng.choice(confirmed, k, replace=False))
    kinds = np.concatenate([rng.permutation(len(FAULTS)), rng.integers(0, len(FAULTS), max(0, k - 6))])
    kinds = rng.permutation(kinds[:k])
    return pd.DataFrame({"row": rows, "fault": [FAULTS[i][0] for i in kinds],
                         "field": [FAULTS[i][1] for i in kinds]})


def format_extract(rng: np.random.Generator, crimes: pd.DataFrame, bad: pd.DataFrame,
                   year: int) -> pd.DataFrame:
    """The extract as the force's strings, with the planted faults applied."""
    n = len(crimes)
    latlon_only = rng.random(n) < LATLON_ONLY_SHARE
    latlon_only[bad["row"].to_numpy()] = False
    out = pd.DataFrame({
        "Occurrence Number": crimes["crime_ref"],
        "Date Recorded": _dates(crimes["recorded"], "%d/%m/%Y"),
        "Committed From": _dates(crimes["committed_from"], "%d/%m/%Y %H:%M"),
        "Committed To": np.where(crimes["to_blank"], "", _dates(crimes["committed_to"], "%d/%m/%Y %H:%M")),
        "HO Class": force_style_codes(rng, crimes["code"].to_numpy()),
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
    }, columns=list(HEADER)).astype(str)
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


def write_extract(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def _dates(values: pd.Series, fmt: str) -> np.ndarray:
    return pd.DatetimeIndex(values).strftime(fmt).to_numpy(dtype=str)


def _coordinates(crimes: pd.DataFrame, latlon_only: np.ndarray) -> dict[str, np.ndarray]:
    """Easting/Northing for most rows; a few rows carry only WGS84 latitude/longitude."""
    east, north = crimes["easting"].to_numpy(), crimes["northing"].to_numpy()
    lon, lat = to_wgs84(east, north)
    return {
        "Easting": np.where(latlon_only, "", east.astype(str)),
        "Northing": np.where(latlon_only, "", north.astype(str)),
        "Latitude": np.where(latlon_only, np.char.mod("%.6f", lat), ""),
        "Longitude": np.where(latlon_only, np.char.mod("%.6f", lon), ""),
    }


def _apply_faults(out: pd.DataFrame, crimes: pd.DataFrame, bad: pd.DataFrame, year: int) -> None:
    """Overwrite one field of each bad row so that exactly one validation rule fails."""
    for row, fault in zip(bad["row"], bad["fault"]):
        if fault == "impossible_date":
            out.loc[row, "Date Recorded"] = f"31/02/{year}"
        elif fault == "unknown_offence_code":
            out.loc[row, ["HO Class", "HO Subclass"]] = ["999Z", ""]
        elif fault == "non_numeric_easting":
            east = out.loc[row, "Easting"]
            out.loc[row, "Easting"] = east[:2] + "O" + east[3:]
        elif fault == "victim_age_out_of_range":
            out.loc[row, "Victim Age"] = "230"
        elif fault == "blank_crime_ref":
            out.loc[row, "Occurrence Number"] = ""
        elif fault == "committed_after_recorded":
            after = pd.Timestamp(crimes.loc[row, "recorded"]) + pd.Timedelta(days=2, hours=10, minutes=15)
            out.loc[row, "Committed From"] = after.strftime("%d/%m/%Y %H:%M")
            out.loc[row, "Committed To"] = (after + pd.Timedelta(minutes=85)).strftime("%d/%m/%Y %H:%M")


def bad_row_records(bad: pd.DataFrame, crimes: pd.DataFrame, out: pd.DataFrame) -> list[dict]:
    """Ground-truth entries for the planted faults: file line (header = 1), ref, field, value."""
    column = {"recorded_date": "Date Recorded", "offence_code": "HO Class", "easting": "Easting",
              "victim_age": "Victim Age", "crime_ref": "Occurrence Number",
              "committed_from": "Committed From"}
    return [{"line": int(row) + 2, "crime_ref": str(crimes.loc[row, "crime_ref"]), "field": field,
             "fault": fault, "value": str(out.loc[row, column[field]])}
            for row, fault, field in zip(bad["row"], bad["fault"], bad["field"])]
