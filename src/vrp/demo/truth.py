"""The ground truth: what a correct ingest and correct definitions must find in the demo files.

Counts are taken from the simulated values, not by re-reading the files, so a test that recomputes
them from the CSVs checks the writers as well as whatever reads them.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from vrp.demo.geography import DISTRICTS, FORCE, PARTNERSHIP, Geography
from vrp.demo.offences import SUBCODE_TAGS
from vrp.demo.table import Table, length, take

PROLIFIC_MIN = 5  # offences (confirmed, valid rows, all years) that make a suspect "prolific"


def counts_by_district(good: Table, geo: Geography) -> dict[str, dict[str, dict[str, int]]]:
    """Confirmed-crime counts as {district code: {key: n}}: by offence code, knife-yes by offence
    code, and by canonical sub-code tag (gbh_s20, abh_s47, riot)."""
    confirmed = take(good, good["status"] == "Confirmed")
    district = geo.district_codes()[confirmed["lsoa"]]
    code = confirmed["code"].astype(str)
    tag = np.array([SUBCODE_TAGS.get(s, "") for s in confirmed["subcode"].tolist()], dtype=str)
    knife = confirmed["knife"] == "Y"
    return {
        "offences": _nested(district, code),
        "knife_yes": _nested(district[knife], code[knife]),
        "subcode_tags": _nested(district[tag != ""], tag[tag != ""]),
    }


def monthly_confirmed(good: Table) -> dict[str, int]:
    recorded = good["recorded"][good["status"] == "Confirmed"].astype("datetime64[M]")
    months, counts = np.unique(recorded, return_counts=True)
    return {str(m): int(c) for m, c in zip(months, counts)}


def prolific_suspects(suspect_lists: list[np.ndarray]) -> list[dict]:
    """Suspects named on at least PROLIFIC_MIN confirmed valid crimes, most prolific first."""
    counts: Counter[str] = Counter()
    for joined in suspect_lists:
        named = joined[joined != ""]
        if len(named):
            counts.update(";".join(named.tolist()).split(";"))
    ranked = sorted(((n, urn) for urn, n in counts.items() if n >= PROLIFIC_MIN), key=lambda t: (-t[0], t[1]))
    return [{"suspect_urn": urn, "offences": n} for n, urn in ranked]


def extract_summary(rows: int, bad_records: list[dict], crimes: Table) -> dict:
    """Row counts for one extract file: all rows, planted faults, valid rows by status."""
    is_bad = np.zeros(length(crimes), dtype=bool)
    is_bad[[r["line"] - 2 for r in bad_records]] = True
    status, counts = np.unique(crimes["status"][~is_bad], return_counts=True)
    by_status = dict(zip(np.char.lower(status.astype(str)).tolist(), counts.tolist()))
    return {"rows": rows, "bad_rows": len(bad_records), "good_rows": int((~is_bad).sum()),
            "status": {s: int(by_status.get(s, 0)) for s in ("confirmed", "cancelled", "transferred")}}


def policeuk_summary(rows: Table) -> dict:
    types, counts = np.unique(rows["Crime type"].astype(str), return_counts=True)
    by_type = dict(zip(types.tolist(), counts.tolist()))
    asb = int(by_type.get("Anti-social behaviour", 0))
    total = length(rows)
    return {"rows": total, "crimes": total - asb, "anti_social_behaviour": asb, "crime_types": by_type}


def header(seed: int, scale: float, years: tuple[int, ...], geo: Geography) -> dict:
    """Identity of the run and the partnership's districts."""
    districts = [{"code": d.code, "name": d.name, "lsoas": int((geo.district == i).sum()),
                  "population": int(geo.population[geo.district == i].sum())}
                 for i, d in enumerate(DISTRICTS)]
    return {"seed": seed, "scale": scale, "years": list(years), "partnership": PARTNERSHIP,
            "force": FORCE, "prolific_min_offences": PROLIFIC_MIN, "districts": districts,
            # the town-centre LSOAs where the simulation piles up night-time violence: the hotspots
            "hotspot_lsoas": sorted(str(c) for c in geo.code[geo.hotspot > 1])}


def _nested(district: np.ndarray, key: np.ndarray) -> dict[str, dict[str, int]]:
    """{district: {key: count}} with both levels sorted."""
    out: dict[str, dict[str, int]] = {}
    pairs, counts = np.unique(np.char.add(np.char.add(district.astype(str), "|"), key.astype(str)),
                              return_counts=True)
    for pair, n in zip(pairs.tolist(), counts.tolist()):
        d, k = pair.split("|")
        out.setdefault(d, {})[k] = n
    return out


# ---- Measures, homicides and health files ------------------------------------------------------

KNIFE_MEASURE_CODES = ("5D", "8N", "8P", "8S", "34A", "34B", "3B", "1", "4.1", "4.2", "4.10", "2", "19C", "19D",
                       "19E", "19F", "19G", "19H", "17A", "17B", "20A", "20B")
POW_CODES = ("10A", "10B", "10C", "10D", "81", "90")
ROBBERY_CODES = ("34A", "34B")
MEASURES = ("knife_u25", "knife_all", "knife_nondomestic", "vwi", "vwoi", "pow", "robbery")


def _subgroup_codes(subgroup: str) -> tuple[str, ...]:
    from vrp.definitions.offences import offence_codes

    return tuple(c.code for c in offence_codes().values() if c.offence_subgroup == subgroup)


def measure_counts(good: Table, geo: Geography) -> dict[str, dict[str, int]]:
    """{district code: {measure: n}} for one year's confirmed valid crimes, every district and
    measure present (zeros included)."""
    confirmed = take(good, good["status"] == "Confirmed")
    code = confirmed["code"].astype(str)
    district = geo.district[confirmed["lsoa"]]
    knife = np.isin(code, KNIFE_MEASURE_CODES) & (confirmed["knife"] == "Y")
    age = confirmed["victim_age"]
    masks = {
        "knife_u25": knife & (age >= 0) & (age <= 24),
        "knife_all": knife,
        "knife_nondomestic": knife & ~confirmed["domestic"].astype(bool),
        "vwi": np.isin(code, _subgroup_codes("Violence with injury")),
        "vwoi": np.isin(code, _subgroup_codes("Violence without injury")),
        "pow": np.isin(code, POW_CODES),
        "robbery": np.isin(code, ROBBERY_CODES),
    }
    return {d.code: {m: int((masks[m] & (district == i)).sum()) for m in MEASURES} for i, d in enumerate(DISTRICTS)}


HOMICIDE_COUNTS = ("all", "non_domestic", "non_domestic_sharp_0_24")


def homicide_counts(victims: Table, geo: Geography, years: tuple[int, ...]) -> dict[str, dict[str, dict[str, int]]]:
    """{year: {district: {all, non_domestic, non_domestic_sharp_0_24}}} of the valid homicide rows
    (year of the recorded date), zeros included. Non-domestic includes no suspect and not known."""
    year = victims["recorded"].astype("datetime64[Y]").astype(np.int64) + 1970
    district = geo.district[victims["lsoa"]]
    non_domestic = ~np.isin(victims["relationship"].astype(str), ("partner", "ex_partner", "family"))
    age = victims["victim_age"]
    sharp_young = non_domestic & (victims["method"] == "sharp_instrument") & (age >= 0) & (age <= 24)
    masks = {"all": np.ones(length(victims), dtype=bool), "non_domestic": non_domestic,
             "non_domestic_sharp_0_24": sharp_young}
    return {str(y): {d.code: {k: int((masks[k] & (year == y) & (district == i)).sum()) for k in HOMICIDE_COUNTS}
                     for i, d in enumerate(DISTRICTS)} for y in years}


def ed_counts(valid: Table, geo: Geography, weapons: tuple[str, ...]) -> tuple[dict, dict]:
    """For one year's valid ED rows: {district: {weapon: n}} for rows with an LSOA (every district
    and weapon, zeros included), and {weapon: n} for rows without one."""
    written = valid["lsoa_written"]
    district = geo.district[valid["lsoa"]]
    weapon = valid["weapon"].astype(str)
    by_district = {d.code: {w: int((written & (district == i) & (weapon == w)).sum()) for w in weapons}
                   for i, d in enumerate(DISTRICTS)}
    no_lsoa = {w: int((~written & (weapon == w)).sum()) for w in weapons}
    return by_district, no_lsoa


def admission_counts(cells: list[dict], suppressed: list[dict]) -> dict:
    """{financial year: {district: {age band: {cause: count}}}} as written: null where suppressed."""
    hidden = {(s["period"], s["area_code"], s["age_band"], s["cause"]) for s in suppressed}
    out: dict = {}
    for c in cells:
        key = (c["period"], c["area_code"], c["age_band"], c["cause"])
        out.setdefault(c["period"], {}).setdefault(c["area_code"], {}).setdefault(c["age_band"], {})[c["cause"]] = (
            None if key in hidden else c["count"])
    return out
