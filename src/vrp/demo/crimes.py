"""Simulate one year of recorded crime for the synthetic force, fully vectorised.

The result is a table of *true* values (canonical codes, numbers, timestamps); turning them into the
force's own spellings, planting faulty rows and writing files happens in `extract` and `policeuk`.
Everything random comes from the generator passed in, so a (seed, year) pair always gives the same
year whatever other years are generated alongside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vrp.demo import offences as off
from vrp.demo.geography import DEPRIVATION_EFFECT, DISTRICTS, Geography
from vrp.demo.table import Table, take

CRIMES_PER_YEAR = 25_000   # at scale 1, in the base year
BASE_YEAR = 2022
TREND = 0.03               # gentle year-on-year rise
STREETS_PER_LSOA = 12      # named street points per LSOA; crimes cluster around them
STATUS = ("Confirmed", "Cancelled", "Transferred")
STATUS_P = (.984, .011, .005)

_STREET_STEMS = (
    "Church", "Mill", "Station", "Victoria", "Kings", "Queens", "Park", "High", "Chapel", "Orchard",
    "Meadow", "Manor", "Alder", "Beech", "Willow", "Oak", "Elm", "Ash", "Hazel", "Rowan", "Barley",
    "Market", "Bridge", "Castle", "Abbey", "Priory", "Windmill", "Brook", "Fairfield", "Greenacre",
    "Harbour", "Quay", "Bell", "Forge", "Tannery", "Linden", "Cedar", "Heather", "Foxglove", "Kestrel",
    "Heron", "Wessex", "Saxon", "Alfred", "Avon", "Downs", "Ridgeway", "Chalk", "Flint", "Well",
)
_STREET_KINDS = ("Road", "Street", "Lane", "Close", "Avenue", "Way", "Gardens", "Crescent", "Drive",
                 "Place", "Walk", "Grove")
# police.uk anonymised map points that are not streets; shops and pubs gravitate to these.
SPECIAL_POINTS = ("Supermarket", "Shopping Area", "Nightclub", "Parking Area")
_SPECIAL_FOR = {"Shop": (0, 1), "Licensed Premises": (2,), "Open Space": (3,)}


@dataclass
class Streets:
    """Per LSOA, STREETS_PER_LSOA named points at unit-square positions inside the cell."""

    names: np.ndarray   # (n_lsoa, STREETS_PER_LSOA) str
    u: np.ndarray       # (n_lsoa, STREETS_PER_LSOA)
    v: np.ndarray


@dataclass
class SuspectPool:
    """People who offend: an id, a home district and a heavy-tailed propensity to offend."""

    urn: np.ndarray
    district: np.ndarray
    weight: np.ndarray


def build_streets(rng: np.random.Generator, n_lsoa: int) -> Streets:
    """Give every LSOA its street names (unique within the LSOA) and the special map points."""
    pool = np.array([f"{s} {k}" for s in _STREET_STEMS for k in _STREET_KINDS])
    n_named = STREETS_PER_LSOA - len(SPECIAL_POINTS)
    pick = np.argsort(rng.random((n_lsoa, len(pool))), axis=1)[:, :n_named]
    names = np.concatenate([pool[pick], np.tile(np.array(SPECIAL_POINTS), (n_lsoa, 1))], axis=1)
    u, v = rng.uniform(0.1, 0.9, (2, n_lsoa, STREETS_PER_LSOA))
    return Streets(names, u, v)


def build_suspects(rng: np.random.Generator, geo: Geography, scale: float) -> SuspectPool:
    """A pool where most people offend once or twice and a few are prolific (Pareto weights)."""
    n = max(200, int(40_000 * scale))
    share = np.bincount(geo.district, weights=geo.crime_weight, minlength=len(DISTRICTS))
    district = rng.choice(len(DISTRICTS), n, p=share / share.sum())
    weight = np.minimum(rng.pareto(2.0, n) + 0.2, 40.0)
    urn = np.array([f"P{i:08d}" for i in rng.choice(90_000_000, n, replace=False) + 10_000_000])
    return SuspectPool(urn, district, weight)


def simulate_year(rng: np.random.Generator, year: int, scale: float, geo: Geography,
                  streets: Streets, suspects: SuspectPool) -> Table:
    """All crimes recorded in `year`, sorted by recorded time, with their true attribute values."""
    mean = CRIMES_PER_YEAR * scale * (1 + TREND * (year - BASE_YEAR))
    n = int(rng.poisson(mean))
    code_idx = rng.choice(len(off.OFFENCES), n, p=off.shares())
    table = _offence_columns(code_idx)
    flags = _flags(rng, code_idx)
    table.update(flags)
    table.update(_subcodes(rng, table["code"]))
    table["lsoa"] = _lsoas(rng, code_idx, geo)
    table["location_type"] = _location_types(rng, code_idx, flags["domestic"])
    table.update(_places(rng, table["lsoa"], table["location_type"], geo, streets))
    table.update(_times(rng, year, code_idx))
    table.update(_victims(rng, code_idx, flags["domestic"], year))
    table["suspects"] = _suspects(rng, code_idx, flags["domestic"], table["lsoa"], geo, suspects)
    table["status"] = np.array(STATUS)[rng.choice(3, n, p=STATUS_P)]
    table["lsoa_code"] = geo.code[table["lsoa"]]
    return take(table, np.lexsort((table["committed_to"], table["recorded"])))


def _offence_columns(code_idx: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "code_idx": code_idx,
        "code": off.column("code")[code_idx].astype(str),
        "description": off.column("label")[code_idx].astype(str),
        "crime_type": off.column("crime_type")[code_idx].astype(str),
    }


def _flags(rng: np.random.Generator, code_idx: np.ndarray) -> dict[str, np.ndarray]:
    """Knife (Y/N/N/A/blank), firearm and domestic-abuse flags at each offence's own rates."""
    n = len(code_idx)
    in_collection = np.isin(off.column("code")[code_idx], list(off.KNIFE_COLLECTION))
    knife_y = rng.random(n) < off.column("knife")[code_idx]
    knife = np.where(in_collection, np.where(knife_y, "Y", "N"), "N/A")
    missing = rng.random(n) < np.where(in_collection, 0.03, 0.005)
    knife = np.where(missing, "", knife)
    firearm = rng.random(n) < off.column("firearm")[code_idx]
    domestic = rng.random(n) < off.column("domestic")[code_idx]
    return {"knife": knife, "firearm": firearm, "domestic": domestic}


def _subcodes(rng: np.random.Generator, codes: np.ndarray) -> dict[str, np.ndarray]:
    """The force's sub-code (S20/S47, RIOT/AFFRAY, S4/S4A/S5) and its more specific description."""
    sub = np.full(len(codes), "", dtype=object)
    desc_override = np.full(len(codes), "", dtype=object)
    for code, options in off.SUBCODES.items():
        rows = np.flatnonzero(codes == code)
        values, probs, descs = zip(*options)
        pick = rng.choice(len(values), len(rows), p=np.array(probs) / sum(probs))
        sub[rows] = np.array(values, dtype=object)[pick]
        desc_override[rows] = np.array([d or "" for d in descs], dtype=object)[pick]
    return {"subcode": sub.astype(str), "description_override": desc_override.astype(str)}


def _lsoas(rng: np.random.Generator, code_idx: np.ndarray, geo: Geography) -> np.ndarray:
    """Place each crime in an LSOA: town-centre offences pile into hotspots, burglary spreads out."""
    base = geo.population.sum(1) * np.exp(DEPRIVATION_EFFECT * geo.deprivation)
    weights = {
        "centre": base * geo.hotspot,
        "general": geo.crime_weight,
        "residential": base * geo.hotspot ** 0.2,
    }
    spatial = off.column("spatial")[code_idx]
    lsoa = np.zeros(len(code_idx), dtype=np.int64)
    for kind, w in weights.items():
        rows = np.flatnonzero(spatial == kind)
        lsoa[rows] = rng.choice(geo.n, len(rows), p=w / w.sum())
    return lsoa


def _location_types(rng: np.random.Generator, code_idx: np.ndarray, domestic: np.ndarray) -> np.ndarray:
    """Force location words by offence profile; domestic abuse mostly happens at home."""
    profile = np.where(domestic, "domestic", off.column("location")[code_idx])
    out = np.empty(len(code_idx), dtype=object)
    for key, p in off.LOCATION_MIX.items():
        rows = np.flatnonzero(profile == key)
        pp = np.array(p) / sum(p)
        out[rows] = np.array(off.LOCATION_WORDS, dtype=object)[rng.choice(len(pp), len(rows), p=pp)]
    return out.astype(str)


def _places(rng: np.random.Generator, lsoa: np.ndarray, location_type: np.ndarray, geo: Geography,
            streets: Streets) -> dict[str, np.ndarray]:
    """A street point for each crime and an exact BNG point (integer metres) scattered around it."""
    n = len(lsoa)
    n_named = STREETS_PER_LSOA - len(SPECIAL_POINTS)
    street = rng.integers(0, n_named, n)
    for word, specials in _SPECIAL_FOR.items():
        rows = np.flatnonzero((location_type == word) & (rng.random(n) < 0.6))
        street[rows] = n_named + np.array(specials)[rng.integers(0, len(specials), len(rows))]
    u = np.clip(streets.u[lsoa, street] + rng.normal(0, 0.04, n), 0.02, 0.98)
    v = np.clip(streets.v[lsoa, street] + rng.normal(0, 0.04, n), 0.02, 0.98)
    east, north = geo.points(lsoa, u, v)
    return {"street": streets.names[lsoa, street], "easting": np.round(east).astype(np.int64),
            "northing": np.round(north).astype(np.int64)}


def _day_weights(year: int) -> np.ndarray:
    """Relative chance of each day of the year: summer peak, busier weekends, slow upward drift.
    1 January gets zero weight so every crime can be committed at least a day before recording."""
    days = np.arange(np.datetime64(f"{year}-01-01"), np.datetime64(f"{year + 1}-01-01"))
    doy = np.arange(len(days))
    season = 1 + 0.10 * np.cos(2 * np.pi * (doy - 196) / 365.25)
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    weekend = np.where(weekday >= 5, 1.10, 1.0)
    drift = 1 + TREND * doy / len(days)
    w = season * weekend * drift
    w[0] = 0
    return w / w.sum()


def _times(rng: np.random.Generator, year: int, code_idx: np.ndarray) -> dict[str, np.ndarray]:
    """Recorded date and committed window: from <= to, and `to` falls on a day before recording.

    Keeping the whole window on earlier days (not the recording day itself) means the rule
    "committed must not be after the recorded date" holds however an ingest compares a timestamp
    with a date. Windows are clipped to start no earlier than 1 January of the year."""
    n = len(code_idx)
    start = np.datetime64(f"{year}-01-01")
    p = _day_weights(year)
    rec_day = rng.choice(len(p), n, p=p)
    late = (rng.random(n) < 0.05) * rng.integers(0, 60, n)  # some crimes are reported weeks later
    lag = np.minimum(rng.geometric(0.45, n) + late, rec_day)
    hours = off.column("hours")[code_idx]
    hour = np.zeros(n, dtype=np.int64)
    for key, w in off.HOUR_WEIGHTS.items():
        rows = np.flatnonzero(hours == key)
        hour[rows] = rng.choice(24, len(rows), p=w / w.sum())
    to_min = (rec_day - lag) * 1440 + hour * 60 + rng.integers(0, 60, n)
    span = off.column("span")[code_idx]
    minutes = np.where(span == "hours", rng.integers(0, 14 * 60, n),
                       np.where(span == "days", rng.integers(0, 30 * 1440, n), 0))
    minutes = np.where((span == "instant") & (rng.random(n) < 0.25), rng.integers(1, 90, n), minutes)
    from_min = np.maximum(to_min - minutes, 0)
    return {
        "recorded": start + rec_day.astype("timedelta64[D]"),
        "committed_from": start.astype("datetime64[m]") + from_min.astype("timedelta64[m]"),
        "committed_to": start.astype("datetime64[m]") + to_min.astype("timedelta64[m]"),
        "to_blank": (from_min == to_min) & (rng.random(n) < 0.3),
    }


def _victims(rng: np.random.Generator, code_idx: np.ndarray, domestic: np.ndarray,
             year: int) -> dict[str, np.ndarray]:
    """Victim URN, age and sex by victim profile; offences against the state have no victim.
    Domestic-abuse victims come from a small pool shared by all years, so repeat victimisation
    shows up; other victims are drawn per year (V<year><7 digits>) and repeat only occasionally."""
    n = len(code_idx)
    profile = off.column("victim")[code_idx]
    age = np.full(n, -1, dtype=np.int64)
    male = np.zeros(n, dtype=bool)
    for key, (p_male, floor, shape, scale) in off.VICTIM_PROFILES.items():
        rows = np.flatnonzero(profile == key)
        if key == "child":
            age[rows] = rng.integers(0, 16, len(rows))
        else:
            age[rows] = np.clip(floor + rng.gamma(shape, scale, len(rows)), 0, 90).astype(np.int64)
        male[rows] = rng.random(len(rows)) < p_male
    has_victim = np.not_equal(profile, None)
    male = np.where(domestic, rng.random(n) < 0.25, male)
    sex = np.where(male, "M", "F")
    sex = np.where(rng.random(n) < 0.02, "U", sex)
    sex = np.where(has_victim, sex, "")
    age = np.where(has_victim & (rng.random(n) < 0.03), -1, age)  # age not recorded
    pool = np.where(domestic, max(50, n // 8), max(500, 2 * n))
    victim = np.char.zfill((rng.random(n) * pool).astype(np.int64).astype(str), 7)
    prefix = np.where(domestic, "V0000", f"V{year}")  # the repeat pool spans all years
    urn = np.char.add(prefix, victim)
    return {"victim_age": age, "victim_sex": sex, "victim_urn": np.where(has_victim, urn, "")}


def _suspects(rng: np.random.Generator, code_idx: np.ndarray, domestic: np.ndarray, lsoa: np.ndarray,
              geo: Geography, pool: SuspectPool) -> np.ndarray:
    """';'-joined suspect URNs: 1-3 per crime when there is a suspect, mostly local people."""
    n = len(code_idx)
    p_suspect = np.maximum(off.column("suspect")[code_idx], np.where(domestic, 0.95, 0))
    count = np.where(rng.random(n) < p_suspect, rng.choice([1, 2, 3], n, p=[.85, .11, .04]), 0)
    district = geo.district[lsoa]
    picks = np.full((n, 3), -1, dtype=np.int64)
    for slot in range(3):
        need = count > slot
        picks[need, slot] = _draw_suspects(rng, district[need], pool)
    picks[:, 1] = np.where(picks[:, 1] == picks[:, 0], -1, picks[:, 1])
    picks[:, 2] = np.where((picks[:, 2] == picks[:, 0]) | (picks[:, 2] == picks[:, 1]), -1, picks[:, 2])
    urns = np.where(picks >= 0, pool.urn[np.maximum(picks, 0)], "")
    joined = urns[:, 0]
    for slot in (1, 2):
        joined = np.where(urns[:, slot] != "", np.char.add(np.char.add(joined, ";"), urns[:, slot]), joined)
    return joined


def _draw_suspects(rng: np.random.Generator, district: np.ndarray, pool: SuspectPool) -> np.ndarray:
    """Pick suspects for crimes in the given districts: 90% from the home district, weighted."""
    out = np.empty(len(district), dtype=np.int64)
    local = rng.random(len(district)) < 0.9
    everyone = pool.weight / pool.weight.sum()
    rows = np.flatnonzero(~local)
    out[rows] = rng.choice(len(pool.urn), len(rows), p=everyone)
    for d in range(len(DISTRICTS)):
        rows = np.flatnonzero(local & (district == d))
        members = np.flatnonzero(pool.district == d)
        w = pool.weight[members]
        out[rows] = members[rng.choice(len(members), len(rows), p=w / w.sum())]
    return out
