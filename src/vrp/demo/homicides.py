"""The force's homicide records (Homicide Index style): one row per victim of every confirmed, valid
murder, manslaughter or infanticide in the extracts, written with the force's own headers and
labels and read through `homicides_mapping.toml`.

The method of killing follows the crime's flags (knife flag Y -> sharp instrument, firearm ->
shooting); the relationship to the principal suspect follows the domestic-abuse flag (partner,
ex-partner or family for domestic crimes, never for the others). One or two extra rows carry a
deliberate fault each, so the ingest shows quarantine.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vrp.demo.geography import FORCE
from vrp.demo.table import Table, format_dates, length, take, write_csv

HOMICIDE_CODES = ("1", "4.1", "4.2", "4.10")
HEADER = ("Case Number", "Crime Number", "Date Recorded", "Date of Offence", "Victim URN", "Victim Age",
          "Victim Sex", "Method of Killing", "Relationship to Principal Suspect", "LSOA", "Status")

METHOD_LABELS = {
    "sharp_instrument": "Sharp instrument", "blunt_instrument": "Blunt instrument",
    "hitting_kicking": "Hitting, kicking etc", "shooting": "Shooting", "strangulation": "Strangulation",
    "poisoning": "Poisoning", "other": "Other", "unknown": "Not known",
}
RELATIONSHIP_LABELS = {
    "partner": "Partner", "ex_partner": "Ex-partner", "family": "Family member",
    "friend_acquaintance": "Friend/acquaintance", "stranger": "Stranger", "other_known": "Other known",
    "no_suspect": "No suspect", "not_known": "Not known",
}
# Methods when the knife flag is not Y (and no firearm), and relationships by domestic flag.
OTHER_METHODS = (("blunt_instrument", .20), ("hitting_kicking", .30), ("shooting", .10),
                 ("strangulation", .15), ("other", .15), ("unknown", .10))
DOMESTIC_RELATIONSHIPS = (("partner", .50), ("ex_partner", .20), ("family", .30))
OTHER_RELATIONSHIPS = (("friend_acquaintance", .40), ("stranger", .25), ("other_known", .15),
                       ("no_suspect", .10), ("not_known", .10))
DOMESTIC = ("partner", "ex_partner", "family")
# (fault, canonical field it breaks)
FAULTS = (("unknown_method", "method"), ("offence_after_recorded", "offence_date"))

MAPPING_TOML = f'''\
# Column mapping for Wessex Constabulary homicide records (homicides.csv), written by
# `vrp demo-data`. Standalone form of a [mappings.NAME] table with dataset = "homicides":
#   vrp ingest homicides homicides.csv --mapping homicides_mapping.toml
dataset = "homicides"
source = "{FORCE}"
date_format = "%d/%m/%Y"

[columns]  # canonical name = the force's header ("Crime Number" is not mapped: it is not loaded)
case_ref = "Case Number"
recorded_date = "Date Recorded"
offence_date = "Date of Offence"
victim_id = "Victim URN"             # raw id: hashed at ingest, never stored
victim_age = "Victim Age"
victim_sex = "Victim Sex"
method = "Method of Killing"
relationship = "Relationship to Principal Suspect"
lsoa_code = "LSOA"
case_status = "Status"

[values.victim_sex]
M = "male"
F = "female"
U = "unknown"

[values.method]
{chr(10).join(f'"{label}" = "{value}"' for value, label in METHOD_LABELS.items())}

[values.relationship]
{chr(10).join(f'"{label}" = "{value}"' for value, label in RELATIONSHIP_LABELS.items())}

[values.case_status]
"Homicide" = "homicide"
"No longer recorded as homicide" = "no_longer_homicide"
'''


def _draw(rng: np.random.Generator, options: tuple[tuple[str, float], ...], n: int) -> np.ndarray:
    values, p = zip(*options)
    return np.array(values, dtype=object)[rng.choice(len(values), n, p=np.array(p) / sum(p))]


def simulate_year(rng: np.random.Generator, confirmed: Table, year: int) -> Table:
    """The year's homicide victims: the confirmed valid crimes with a homicide code, in recording
    order, with method, relationship and a case number."""
    victims = take(confirmed, np.isin(confirmed["code"].astype(str), HOMICIDE_CODES))
    n = length(victims)
    method = np.where(victims["knife"] == "Y", "sharp_instrument",
                      np.where(victims["firearm"], "shooting", _draw(rng, OTHER_METHODS, n))).astype(object)
    relationship = np.where(victims["domestic"], _draw(rng, DOMESTIC_RELATIONSHIPS, n),
                            _draw(rng, OTHER_RELATIONSHIPS, n)).astype(object)
    case = np.array([f"WXH/{year % 100:02d}/{i:03d}" for i in range(1, n + 1)], dtype=object)
    return {**victims, "method": method, "relationship": relationship, "case_ref": case}


def format_rows(victims: Table) -> Table:
    """The force's strings, in HEADER order."""
    return {
        "Case Number": victims["case_ref"],
        "Crime Number": victims["crime_ref"].astype(object),
        "Date Recorded": format_dates(victims["recorded"]),
        "Date of Offence": format_dates(victims["committed_from"]),
        "Victim URN": victims["victim_urn"].astype(object),
        "Victim Age": np.where(victims["victim_age"] >= 0, victims["victim_age"].astype(str), "").astype(object),
        "Victim Sex": victims["victim_sex"].astype(object),
        "Method of Killing": np.array([METHOD_LABELS[m] for m in victims["method"].tolist()], dtype=object),
        "Relationship to Principal Suspect": np.array([RELATIONSHIP_LABELS[r] for r in victims["relationship"].tolist()],
                                                      dtype=object),
        "LSOA": victims["lsoa_code"].astype(object),
        "Status": np.full(length(victims), "Homicide", dtype=object),
    }


def write_file(rng: np.random.Generator, victims: Table, years: tuple[int, ...], lsoa_codes: np.ndarray,
               path: Path) -> tuple[int, list[dict]]:
    """Write every victim plus 1-2 faulty extra rows at random places; return (rows, bad-row records)."""
    rows = format_rows(victims)
    n = length(victims)
    k = int(rng.integers(1, 3))
    kinds = rng.permutation(len(FAULTS))[:k]
    bad_rows = [_bad_row(rng, FAULTS[i][0], years, lsoa_codes, j) for j, i in enumerate(kinds)]
    positions = np.sort(rng.choice(n + k, k, replace=False))  # final row positions of the bad rows
    order, records, good_i = [], [], 0
    for pos in range(n + k):
        if pos in positions:
            j = int(np.flatnonzero(positions == pos)[0])
            order.append(("bad", j))
            fault, field = FAULTS[kinds[j]]
            value = bad_rows[j]["Method of Killing"] if field == "method" else bad_rows[j]["Date of Offence"]
            records.append({"line": pos + 2, "case_ref": bad_rows[j]["Case Number"], "field": field,
                            "fault": fault, "value": value})
        else:
            order.append(("good", good_i))
            good_i += 1
    out = {h: np.array([rows[h][i] if kind == "good" else bad_rows[i][h] for kind, i in order], dtype=object)
           for h in HEADER}
    return write_csv(path, HEADER, out), records


def _bad_row(rng: np.random.Generator, fault: str, years: tuple[int, ...], lsoa_codes: np.ndarray, j: int) -> dict:
    """A victim row outside the extracts with exactly one fault."""
    year = int(rng.choice(years))
    day = np.datetime64(f"{year}-01-01") + np.timedelta64(int(rng.integers(10, 350)), "D")
    offence = day - np.timedelta64(int(rng.integers(1, 5)), "D")
    row = {
        "Case Number": f"WXH/{year % 100:02d}/9{j + 1:02d}", "Crime Number": "",
        "Date Recorded": format_dates(np.array([day]))[0], "Date of Offence": format_dates(np.array([offence]))[0],
        "Victim URN": "", "Victim Age": str(int(rng.integers(18, 60))), "Victim Sex": "M",
        "Method of Killing": "Hitting, kicking etc", "Relationship to Principal Suspect": "Stranger",
        "LSOA": str(lsoa_codes[int(rng.integers(0, len(lsoa_codes)))]), "Status": "Homicide",
    }
    if fault == "unknown_method":
        row["Method of Killing"] = "Drowning"
    else:  # offence_after_recorded
        row["Date of Offence"] = format_dates(np.array([day + np.timedelta64(3, "D")]))[0]
    return row
