"""The same crimes as data.police.uk would publish them: monthly street-level files.

police.uk publishes confirmed crimes only (no cancelled or transferred ones), by recorded month,
in 14 broad categories, with a hashed Crime ID, an "On or near" street and the latest outcome.
Anti-social behaviour incidents (about a tenth extra rows) have no Crime ID and no outcome.
Faulty extract rows are left out: they would never have made it into a published file.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from vrp.demo import offences as off
from vrp.demo.crimes import STREETS_PER_LSOA, Streets
from vrp.demo.geography import FORCE, Geography, to_wgs84
from vrp.demo.table import Table, format_dates, format_fixed, length, take, write_csv

HEADER = ("Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
          "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context")
ASB = "Anti-social behaviour"
ASB_SHARE = 0.10


def crime_id(crime_ref: str) -> str:
    """A 64-hex-character id like police.uk's, derived deterministically from the crime ref."""
    return hashlib.sha256(f"{FORCE}|{crime_ref}".encode()).hexdigest()


def published_rows(rng: np.random.Generator, crimes: Table, geo: Geography, streets: Streets) -> Table:
    """police.uk rows (crimes plus ASB) for one year's publishable crimes, in file order:
    by month, then LSOA name (as the published files group rows by area)."""
    crime_rows = _crime_rows(rng, crimes, geo)
    asb_rows = _asb_rows(rng, crimes, geo, streets)
    rows = {h: np.concatenate([crime_rows[h], asb_rows[h]]) for h in HEADER}
    order = np.lexsort((np.arange(length(rows)), rows["LSOA name"].astype(str),
                        rows["Month"].astype(str)))
    return take(rows, order)


def write_month_files(rows: Table, folder: Path) -> dict[str, Table]:
    """One `<YYYY-MM>-wessex-street.csv` per month; returns the rows written per file name."""
    written = {}
    months = rows["Month"].astype(str)
    unique, starts = np.unique(months, return_index=True)  # rows are sorted by month
    ends = np.append(starts[1:], len(months))
    for month, start, end in zip(unique, starts, ends):
        name = f"{month}-wessex-street.csv"
        written[name] = {h: v[start:end] for h, v in rows.items()}
        write_csv(folder / name, HEADER, written[name])
    return written


def _crime_rows(rng: np.random.Generator, crimes: Table, geo: Geography) -> Table:
    lon, lat = to_wgs84(crimes["easting"], crimes["northing"])
    return _frame(
        ids=np.array([crime_id(r) for r in crimes["crime_ref"].tolist()], dtype=object),
        month=format_dates(crimes["recorded"], "%Y-%m"),
        lon=lon, lat=lat, street=crimes["street"], lsoa=crimes["lsoa"], geo=geo,
        crime_type=crimes["crime_type"], outcome=_outcomes(rng, crimes["suspects"] != ""),
    )


def _asb_rows(rng: np.random.Generator, crimes: Table, geo: Geography, streets: Streets) -> Table:
    """ASB incidents in town centres and deprived areas, spread over the months like crime."""
    n_crimes = length(crimes)
    n = int(rng.poisson(ASB_SHARE * n_crimes)) if n_crimes else 0
    month = format_dates(crimes["recorded"][rng.integers(0, max(n_crimes, 1), n)], "%Y-%m")
    w = geo.crime_weight * geo.hotspot ** 0.5
    lsoa = rng.choice(geo.n, n, p=w / w.sum())
    street = rng.integers(0, STREETS_PER_LSOA, n)
    u = np.clip(streets.u[lsoa, street] + rng.normal(0, 0.04, n), 0.02, 0.98)
    v = np.clip(streets.v[lsoa, street] + rng.normal(0, 0.04, n), 0.02, 0.98)
    east, north = geo.points(lsoa, u, v)
    lon, lat = to_wgs84(np.round(east), np.round(north))
    return _frame(ids=np.full(n, "", dtype=object), month=month, lon=lon, lat=lat,
                  street=streets.names[lsoa, street], lsoa=lsoa, geo=geo,
                  crime_type=np.full(n, ASB), outcome=np.full(n, ""))


def _frame(*, ids, month, lon, lat, street, lsoa, geo: Geography, crime_type, outcome) -> Table:
    n = len(ids)
    columns = {
        "Crime ID": ids,
        "Month": month,
        "Reported by": np.full(n, FORCE),
        "Falls within": np.full(n, FORCE),
        "Longitude": format_fixed(lon, 6),
        "Latitude": format_fixed(lat, 6),
        "Location": np.char.add("On or near ", np.asarray(street, dtype=str)),
        "LSOA code": geo.code[lsoa],
        "LSOA name": geo.name[lsoa],
        "Crime type": crime_type,
        "Last outcome category": outcome,
        "Context": np.full(n, ""),
    }
    return {h: np.asarray(columns[h]).astype(object) for h in HEADER}


def _outcomes(rng: np.random.Generator, has_suspect: np.ndarray) -> np.ndarray:
    """Latest outcome: no-suspect crimes mostly close unsolved; the rest spread over disposals."""
    out = np.empty(len(has_suspect), dtype=object)
    for flag, table in ((False, off.OUTCOMES_NO_SUSPECT), (True, off.OUTCOMES_SUSPECT)):
        rows = np.flatnonzero(has_suspect == flag)
        labels, p = zip(*table)
        out[rows] = np.array(labels, dtype=object)[rng.choice(len(p), len(rows), p=np.array(p) / sum(p))]
    return out
