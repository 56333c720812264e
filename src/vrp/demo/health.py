"""Health partners' files for the synthetic partnership: emergency department assault attendances
(ISTV, one file per year) and hospital admission aggregates (one file, by financial year).

Part of the police's violence with injury turns up at an ED (knife wounds most often); the EDs also
see assaults never reported to the police, so they hold more attendances than the police hold
crimes. A fraction of the attendances - most stabbings, few punches - are admitted, and the
admissions file counts them by district of residence, financial year, age band and ICD-10 cause,
as NHS England would supply them. No file holds a patient identifier.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vrp.demo.crimes import STREETS_PER_LSOA, Streets, _day_weights
from vrp.demo.geography import DEPRIVATION_EFFECT, DISTRICTS, Geography
from vrp.demo.table import Table, format_dates, length, take, write_csv

# ---- ED attendances ---------------------------------------------------------------------------

SITES = {"R9W01": "Portwell General Hospital", "R9W02": "Kingsmere Royal Infirmary"}
# The ED each district's residents go to.
SITE_OF_DISTRICT = ("R9W01", "R9W02", "R9W01", "R9W01", "R9W02", "R9W01")
HEADER = ("Attendance ID", "Site Code", "Arrival Date", "Arrival Time", "Assault Date", "Assault Time",
          "Assault Method", "Location Type", "Location Description", "Incident LSOA", "Age", "Gender")
WEAPONS = ("knife_sharp", "glass_bottle", "blunt", "body_part", "firearm", "other", "unknown")
VWI_CODES = ("5D", "8N", "8P", "8S", "2")
# Chance that a confirmed violence-with-injury crime's victim attends an ED.
ATTEND_P = {"2": .8, "5D": .6, "8N": .25, "8P": .25, "8S": .25}
KNIFE_ATTEND_P = .7
UNREPORTED_RATIO = .9  # attendances not known to the police, per attendance that is
LSOA_SHARE = .7        # rows where the provider geocoded the assault location to an LSOA
AGE_BLANK_SHARE = .02
# Weapons when the crime gives no knife or firearm, and for assaults not reported to the police.
LINKED_WEAPONS = (("glass_bottle", .15), ("blunt", .15), ("body_part", .60), ("other", .05), ("unknown", .05))
UNREPORTED_WEAPONS = (("knife_sharp", .05), ("glass_bottle", .15), ("blunt", .10), ("body_part", .58),
                      ("firearm", .002), ("other", .058), ("unknown", .06))
# Free-text methods as ED reception staff type them; each reads back to its weapon through the
# ingest's keyword classifier or the mapping's [values.weapon] table.
METHOD_TEXTS = {
    "knife_sharp": ("stabbed with knife", "kitchen knife", "bladed article", "Stabbed", "knife wound to arm",
                    "slashed with blade", "screwdriver"),
    "glass_bottle": ("glass bottle", "hit with bottle", "glassed", "broken glass"),
    "blunt": ("hit with bat", "baseball bat", "hammer", "hit with stick", "pool cue", "iron bar"),
    "body_part": ("punched", "kicked", "punched and kicked", "fists", "head butt", "stamped on"),
    "firearm": ("shot", "gunshot wound"),
    "other": ("pushed over", "bitten", "thrown against wall", "corrosive substance"),
    "unknown": ("", "unknown", "Not known"),
}
# The crime's location word -> the ED's location type; unreported assaults draw from the mix.
LOCATION_OF_CRIME = {"Street": "Street", "Dwelling": "Home", "Licensed Premises": "Pub/Club", "School": "School",
                     "Public Transport": "Public transport", "Open Space": "Park", "Shop": "Shop", "Other": "Other"}
UNREPORTED_LOCATIONS = (("Street", .35), ("Pub/Club", .30), ("Home", .20), ("Park", .05), ("Other", .10))
VENUES = ("The Red Lion", "The Kings Arms", "Club Neon", "The Crown", "The White Hart", "Vaults Bar",
          "The Anchor", "Lava Lounge", "The Plough", "The Bell")
FAULTS = (("impossible_date", "attendance_date"), ("assault_after_attendance", "assault_date"),
          ("age_out_of_range", "age"))
# Chance that an attendance is admitted, by weapon.
ADMIT_P = {"knife_sharp": .35, "firearm": .6, "glass_bottle": .12, "blunt": .12, "body_part": .05, "other": .05,
           "unknown": .05}

MAPPING_TOML = '''\
# Column mapping for the EDs' ISTV assault attendance files (ed_attendances_<year>.csv), written by
# `vrp demo-data`. Standalone form of a [mappings.NAME] table with dataset = "ed_attendances":
#   vrp ingest ed-attendances ed_attendances_2024.csv --mapping ed_mapping.toml
# No source is set: snapshots are kept per ED site code.
dataset = "ed_attendances"
date_format = "%d/%m/%Y"

[columns]  # canonical name = the provider's header
record_id = "Attendance ID"
site_code = "Site Code"
attendance_date = "Arrival Date"
attendance_time = "Arrival Time"
assault_date = "Assault Date"
assault_time = "Assault Time"
assault_method = "Assault Method"
location_type = "Location Type"
location_text = "Location Description"
lsoa_code = "Incident LSOA"
age = "Age"
sex = "Gender"

[values.sex]
Male = "male"
Female = "female"
"Not known" = "unknown"

[values.location_type]
"Street" = "street"
"Pub/Club" = "licensed_premises"
"Home" = "home"
"Park" = "open_space"
"Shop" = "retail"
"School" = "school"
"Public transport" = "transport"
"Other" = "other"

[values.weapon]  # assault method -> weapon, where the keyword classifier would get it wrong
"screwdriver" = "knife_sharp"
"pool cue" = "blunt"
"corrosive substance" = "other"
'''


def _draw(rng: np.random.Generator, options: tuple[tuple[str, float], ...], n: int) -> np.ndarray:
    values, p = zip(*options)
    return np.array(values, dtype=object)[rng.choice(len(values), n, p=np.array(p) / sum(p))]


def simulate_year(rng: np.random.Generator, confirmed: Table, geo: Geography, streets: Streets, year: int) -> Table:
    """The year's ED assault attendances (both EDs), in arrival order: some of the confirmed valid
    violence-with-injury crimes, plus assaults the police never heard of."""
    linked = _linked(rng, confirmed)
    n_unreported = int(rng.poisson(UNREPORTED_RATIO * length(linked)))
    unreported = _unreported(rng, n_unreported, geo, streets, year)
    table = {k: np.concatenate([linked[k], unreported[k]]) for k in linked}
    n = length(table)
    table["arrival"] = table["assault"] + rng.integers(20, 241, n).astype("timedelta64[m]")
    table["method_text"] = np.array([METHOD_TEXTS[w][i % len(METHOD_TEXTS[w])]
                                     for w, i in zip(table["weapon"].tolist(), rng.integers(0, 1000, n).tolist())],
                                    dtype=object)
    table["lsoa_written"] = rng.random(n) < LSOA_SHARE
    table["age_written"] = rng.random(n) >= AGE_BLANK_SHARE
    table["admitted"] = rng.random(n) < np.array([ADMIT_P[w] for w in table["weapon"].tolist()])
    table["site"] = np.array(SITE_OF_DISTRICT, dtype=object)[geo.district[table["lsoa"]]]
    table["location_text"] = _location_text(rng, table)
    table = take(table, np.argsort(table["arrival"], kind="stable"))
    seq = {s: 0 for s in SITES}
    ids = []
    for site in table["site"].tolist():
        seq[site] += 1
        ids.append(f"{site}-{year % 100:02d}-{seq[site]:05d}")
    table["record_id"] = np.array(ids, dtype=object)
    return table


def _linked(rng: np.random.Generator, confirmed: Table) -> Table:
    codes = confirmed["code"].astype(str)
    vwi = np.isin(codes, VWI_CODES)
    p = np.array([ATTEND_P.get(c, 0.0) for c in codes.tolist()])
    p = np.where(confirmed["knife"] == "Y", np.maximum(p, KNIFE_ATTEND_P), p)
    rows = take(confirmed, vwi & (rng.random(len(codes)) < p))
    n = length(rows)
    weapon = np.where(rows["knife"] == "Y", "knife_sharp",
                      np.where(rows["firearm"], "firearm", _draw(rng, LINKED_WEAPONS, n))).astype(object)
    age = np.where(rows["victim_age"] >= 0, rows["victim_age"], 16 + rng.gamma(2.0, 7.0, n).astype(np.int64))
    sex = np.array([{"M": "Male", "F": "Female"}.get(s, "Not known") for s in rows["victim_sex"].tolist()], dtype=object)
    location = np.array([LOCATION_OF_CRIME[w] for w in rows["location_type"].tolist()], dtype=object)
    return {"assault": rows["committed_to"].astype("datetime64[m]"), "weapon": weapon, "lsoa": rows["lsoa"],
            "street": rows["street"].astype(object), "age": age.astype(np.int64), "sex": sex, "location": location,
            "crime_ref": rows["crime_ref"].astype(object)}


def _unreported(rng: np.random.Generator, n: int, geo: Geography, streets: Streets, year: int) -> Table:
    """Assaults only the ED knows of: town centres at night, mostly young men, mostly fists."""
    p = _day_weights(year)
    p[-1] = 0  # no assault on 31 December, so every arrival falls inside the year
    day = rng.choice(len(p), n, p=p / p.sum())
    hour_w = np.array([8, 7, 6, 4, 2, 1, 1, 1, 2, 2, 3, 3, 4, 4, 4, 4, 5, 5, 6, 6, 7, 8, 9, 9], float)
    minute = rng.choice(24, n, p=hour_w / hour_w.sum()) * 60 + rng.integers(0, 60, n)
    assault = (np.datetime64(f"{year}-01-01").astype("datetime64[m]") + (day * 1440 + minute).astype("timedelta64[m]"))
    w = geo.population.sum(1) * np.exp(DEPRIVATION_EFFECT * geo.deprivation) * geo.hotspot
    lsoa = rng.choice(geo.n, n, p=w / w.sum())
    street = streets.names[lsoa, rng.integers(0, STREETS_PER_LSOA - 4, n)]
    sex = np.where(rng.random(n) < .7, "Male", "Female").astype(object)
    return {"assault": assault, "weapon": _draw(rng, UNREPORTED_WEAPONS, n), "lsoa": lsoa,
            "street": street.astype(object), "age": np.clip(14 + rng.gamma(2.0, 7.0, n), 0, 90).astype(np.int64),
            "sex": sex, "location": _draw(rng, UNREPORTED_LOCATIONS, n), "crime_ref": np.full(n, "", dtype=object)}


def _location_text(rng: np.random.Generator, table: Table) -> np.ndarray:
    """Venue or street as typed at registration; never an address for assaults at home."""
    n = length(table)
    venue = np.array(VENUES, dtype=object)[rng.integers(0, len(VENUES), n)]
    at_venue = np.char.add(np.char.add(venue.astype(str), ", "), table["street"].astype(str)).astype(object)
    text = np.where(table["location"] == "Pub/Club", at_venue, table["street"])
    return np.where(np.isin(table["location"], ("Home", "Other")), "", text).astype(object)


def format_rows(table: Table, geo: Geography) -> Table:
    """The provider's strings, in HEADER order."""
    arrival, assault = table["arrival"], table["assault"]
    return {
        "Attendance ID": table["record_id"],
        "Site Code": table["site"],
        "Arrival Date": format_dates(arrival),
        "Arrival Time": _hhmm(arrival),
        "Assault Date": format_dates(assault),
        "Assault Time": _hhmm(assault),
        "Assault Method": table["method_text"],
        "Location Type": table["location"],
        "Location Description": table["location_text"],
        "Incident LSOA": np.where(table["lsoa_written"], geo.code[table["lsoa"]], "").astype(object),
        "Age": np.where(table["age_written"], table["age"].astype(str), "").astype(object),
        "Gender": table["sex"],
    }


def _hhmm(stamps: np.ndarray) -> np.ndarray:
    minutes = (stamps - stamps.astype("datetime64[D]").astype("datetime64[m]")).astype(np.int64)
    return np.array([f"{m // 60:02d}:{m % 60:02d}" for m in minutes.tolist()], dtype=object)


def choose_bad_rows(rng: np.random.Generator, n: int) -> list[tuple[int, str, str]]:
    """One or two rows to corrupt, each with a different fault: (row, fault, canonical field)."""
    k = min(int(rng.integers(1, 3)), n)
    rows = np.sort(rng.choice(n, k, replace=False)) if k else []
    kinds = rng.permutation(len(FAULTS))[:k]
    return [(int(r), *FAULTS[i]) for r, i in zip(rows, kinds)]


def write_file(table: Table, geo: Geography, bad: list[tuple[int, str, str]], year: int, path: Path) -> tuple[int, list[dict]]:
    out = {h: np.asarray(v, dtype=object).copy() for h, v in format_rows(table, geo).items()}
    column = {"attendance_date": "Arrival Date", "assault_date": "Assault Date", "age": "Age"}
    records = []
    for row, fault, field in bad:
        if fault == "impossible_date":
            out["Arrival Date"][row] = f"31/02/{year}"
        elif fault == "assault_after_attendance":
            later = table["arrival"][row].astype("datetime64[D]") + np.timedelta64(2, "D")
            out["Assault Date"][row] = format_dates(np.array([later]))[0]
        else:  # age_out_of_range
            out["Age"][row] = "230"
        records.append({"line": row + 2, "record_id": str(table["record_id"][row]), "field": field, "fault": fault,
                        "value": str(out[column[field]][row])})
    return write_csv(path, HEADER, out), records


# ---- Admission aggregates ---------------------------------------------------------------------

ADMISSIONS_HEADER = ("period", "area_code", "age_band", "sex", "cause", "diagnosis_position", "admission_method",
                     "counting_unit", "count")
AGE_BANDS = (("0-17", 0, 17), ("18-24", 18, 24), ("25+", 25, 200))
CAUSES = ("X99", "X85-Y09")  # X99 (assault by sharp object) is inside X85-Y09 (all assault)


def financial_years(years: tuple[int, ...]) -> list[int]:
    """Start years of the financial years (April-March) wholly inside the generated years."""
    return [y for y in years if y + 1 in years]


def fy_label(start: int) -> str:
    return f"{start}/{(start + 1) % 100:02d}"


def admission_cells(attendances: Table, geo: Geography, years: tuple[int, ...]) -> list[dict]:
    """Every cell (financial year x district x age band x cause), in file order, with its count of
    admitted attendances (by the district of the assault's LSOA, standing in for residence)."""
    admitted = take(attendances, attendances["admitted"])
    month = admitted["arrival"].astype("datetime64[M]").astype(np.int64)  # months since 1970-01
    fy_start = 1970 + (month - 3) // 12  # April..March belongs to the year it starts in
    district = geo.district[admitted["lsoa"]]
    knife = admitted["weapon"] == "knife_sharp"
    cells = []
    for fy in financial_years(years):
        for d, dist in enumerate(DISTRICTS):
            for band, low, high in AGE_BANDS:
                rows = (fy_start == fy) & (district == d) & (admitted["age"] >= low) & (admitted["age"] <= high)
                for cause in CAUSES:
                    count = int((rows & knife).sum()) if cause == "X99" else int(rows.sum())
                    cells.append({"period": fy_label(fy), "area_code": dist.code, "age_band": band, "cause": cause,
                                  "count": count})
    return cells


def write_admissions(rng: np.random.Generator, cells: list[dict], path: Path) -> tuple[int, list[dict], list[dict]]:
    """Write the cells (canonical headers) with 1-2 suppressed at source (`*`) and one 'TOTAL' row
    (a spreadsheet total that is not an area) per file; return (rows, suppressed cells, bad rows)."""
    n = len(cells)
    small = [i for i, c in enumerate(cells) if 1 <= c["count"] <= 4] or list(range(n))
    k = min(int(rng.integers(1, 3)), len(small))
    hidden = set(rng.choice(small, k, replace=False).tolist()) if k else set()
    rows = [[c["period"], c["area_code"], c["age_band"], "persons", c["cause"], "any", "emergency", "fae",
             "*" if i in hidden else str(c["count"])] for i, c in enumerate(cells)]
    bad = []
    if n:
        at = int(rng.integers(0, n + 1))
        first = cells[min(at, n - 1)]["period"]
        total = sum(c["count"] for c in cells if c["period"] == first and c["cause"] == "X85-Y09")
        rows.insert(at, [first, "TOTAL", "all", "persons", "X85-Y09", "any", "emergency", "fae", str(total)])
        bad.append({"line": at + 2, "field": "area_code", "fault": "total_row", "value": "TOTAL"})
    line_of = {}
    for line, row in enumerate(rows, start=2):
        line_of.setdefault((row[0], row[1], row[2], row[4]), line)
    suppressed = [{"line": line_of[(c["period"], c["area_code"], c["age_band"], c["cause"])], "period": c["period"],
                   "area_code": c["area_code"], "age_band": c["age_band"], "cause": c["cause"],
                   "true_count": c["count"]} for i, c in enumerate(cells) if i in hidden]
    table = {h: np.array([r[j] for r in rows], dtype=object) for j, h in enumerate(ADMISSIONS_HEADER)}
    if not rows:
        table = {h: np.array([], dtype=object) for h in ADMISSIONS_HEADER}
    return write_csv(path, ADMISSIONS_HEADER, table), sorted(suppressed, key=lambda s: s["line"]), bad
