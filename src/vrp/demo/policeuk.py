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
import pandas as pd

from vrp.demo import offences as off
from vrp.demo.crimes import STREETS_PER_LSOA, Streets
from vrp.demo.geography import FORCE, Geography, to_wgs84

HEADER = ("Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
          "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context")
ASB = "Anti-social behaviour"
ASB_SHARE = 0.10


def crime_id(crime_ref: str) -> str:
    """A 64-hex-character id like police.uk's, derived deterministically from the crime ref."""
    return hashlib.sha256(f"{FORCE}|{crime_ref}".encode()).hexdigest()


def published_rows(rng: np.random.Generator, crimes: pd.DataFrame, geo: Geography,
                   streets: Streets) -> pd.DataFrame:
    """police.uk rows (crimes plus ASB) for one year's publishable crimes, in file order."""
    crime_rows = _crime_rows(rng, crimes, geo)
    asb_rows = _asb_rows(rng, crimes, geo, streets)
    rows = pd.concat([crime_rows, asb_rows], ignore_index=True)
    order = np.lexsort((np.arange(len(rows)), rows["LSOA name"].to_numpy(), rows["Month"].to_numpy()))
    return rows.iloc[order].reset_index(drop=True)


def write_month_files(rows: pd.DataFrame, folder: Path) -> dict[str, pd.DataFrame]:
    """One `<YYYY-MM>-wessex-street.csv` per month; returns the rows written per file name."""
    written = {}
    for month, frame in rows.groupby("Month", sort=True):
        name = f"{month}-wessex-street.csv"
        frame.to_csv(folder / name, index=False, columns=list(HEADER), lineterminator="\n",
                     encoding="utf-8")
        written[name] = frame
    return written


def _crime_rows(rng: np.random.Generator, crimes: pd.DataFrame, geo: Geography) -> pd.DataFrame:
    lsoa = crimes["lsoa"].to_numpy()
    lon, lat = to_wgs84(crimes["easting"].to_numpy(), crimes["northing"].to_numpy())
    return _frame(
        ids=np.array([crime_id(r) for r in crimes["crime_ref"]], dtype=object),
        month=pd.DatetimeIndex(crimes["recorded"]).strftime("%Y-%m").to_numpy(dtype=str),
        lon=lon, lat=lat, street=crimes["street"].to_numpy(), lsoa=lsoa, geo=geo,
        crime_type=crimes["crime_type"].to_numpy(),
        outcome=_outcomes(rng, crimes["suspects"].to_numpy() != ""),
    )


def _asb_rows(rng: np.random.Generator, crimes: pd.DataFrame, geo: Geography,
              streets: Streets) -> pd.DataFrame:
    """ASB incidents in town centres and deprived areas, spread over the months like crime."""
    n = int(rng.poisson(ASB_SHARE * len(crimes)))
    months = pd.DatetimeIndex(crimes["recorded"]).strftime("%Y-%m").to_numpy(dtype=str)
    month = months[rng.integers(0, len(months), n)] if len(months) else np.array([], dtype=str)
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


def _frame(*, ids, month, lon, lat, street, lsoa, geo: Geography, crime_type, outcome) -> pd.DataFrame:
    return pd.DataFrame({
        "Crime ID": ids,
        "Month": month,
        "Reported by": FORCE,
        "Falls within": FORCE,
        "Longitude": np.char.mod("%.6f", lon),
        "Latitude": np.char.mod("%.6f", lat),
        "Location": np.char.add("On or near ", np.asarray(street, dtype=str)),
        "LSOA code": geo.code[lsoa],
        "LSOA name": geo.name[lsoa],
        "Crime type": crime_type,
        "Last outcome category": outcome,
        "Context": "",
    }, columns=list(HEADER)).astype(str)


def _outcomes(rng: np.random.Generator, has_suspect: np.ndarray) -> np.ndarray:
    """Latest outcome: no-suspect crimes mostly close unsolved; the rest spread over disposals."""
    out = np.empty(len(has_suspect), dtype=object)
    for flag, table in ((False, off.OUTCOMES_NO_SUSPECT), (True, off.OUTCOMES_SUSPECT)):
        rows = np.flatnonzero(has_suspect == flag)
        labels, p = zip(*table)
        out[rows] = np.array(labels, dtype=object)[rng.choice(len(p), len(rows), p=np.array(p) / sum(p))]
    return out.astype(str)

