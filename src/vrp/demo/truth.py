"""The ground truth: what a correct ingest and correct definitions must find in the demo files.

Counts are taken from the simulated values, not by re-reading the files, so a test that recomputes
them from the CSVs checks the writers as well as whatever reads them.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

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


# ---- People: the default cohorts as perfect linkage gives them --------------------------------

SV_DEFINITION = "hips-sv"
HARM_SCHEME = "cchi-2023"
VAP = "Violence against the person"
PERPETRATOR_ROLES = ("suspect", "offender")
HKC_WEIGHTS = {"knife_possession": 4, "knife_enabled": 3, "yj_knife": 2, "school_weapon": 1, "ed_knife_injury": 0}
HKC_POSSESSION_CODES = ("10D", "90")
RFG_TOP = 20
AGE_RULE = ("age = the highest age_at_event (from the row's written dob) among the person's qualifying rows on "
            "their latest qualifying date; none known on that date: age_unknown (not eligible for hkc)")


def crime_attributes(crimes: Table) -> dict[str, np.ndarray]:
    """Per crime row: canonical offence code, HO offence group and subgroup, serious violence by the
    hips-sv definition (vrp's definition engine run over each distinct combination of the crimes'
    canonical offence code, sub-code tag and knife flag), the knife flag and the cchi-2023 harm
    weight (vrp.places.harm.weigh defaults: CCHI's proactive offences weigh 0, unknown codes NaN)."""
    import duckdb

    from vrp.definitions.engine import get_definition, is_match_sql
    from vrp.definitions.offences import offence_codes
    from vrp.places.harm import weigh

    frame = pd.DataFrame({"offence_code": crimes["code"].astype(str), "subcode": crimes["subcode"].astype(str),
                          "knife": crimes["knife"].astype(str)})
    row, _ = pd.factorize(frame["offence_code"] + "|" + frame["subcode"] + "|" + frame["knife"])
    combos = frame.iloc[np.unique(row, return_index=True)[1]].reset_index(drop=True)
    combos["offence_subcode"] = [SUBCODE_TAGS.get(s, s) or None for s in combos["subcode"].tolist()]
    combos["knife_flag"] = [{"Y": "yes", "N": "no", "N/A": "not_applicable"}.get(k) for k in combos["knife"].tolist()]
    combos["crime_status"] = "confirmed"
    con = duckdb.connect()
    con.register("combos", combos)
    match = con.sql(f"SELECT {is_match_sql(get_definition(SV_DEFINITION))} AS m FROM combos").fetchnumpy()["m"]
    con.close()
    table = offence_codes()
    codes = combos["offence_code"].tolist()
    per_combo = {"offence_code": np.array(codes, dtype=object),
                 "offence_group": np.array([table[c].offence_group for c in codes], dtype=object),
                 "offence_subgroup": np.array([table[c].offence_subgroup for c in codes], dtype=object),
                 "serious_violence": np.asarray(match, dtype=bool),
                 "knife_enabled": (combos["knife_flag"] == "yes").to_numpy(),
                 "harm": weigh(codes, HARM_SCHEME)[0]}
    return {k: v[row] for k, v in per_combo.items()}


def people_cohorts(events, as_at: str) -> dict:
    """The default cohorts (contract section 4) from a person-event history, in plain pandas.

    Age rule for the age counts (and hkc's under-25 test): a person's age is the highest
    age_at_event among their qualifying rows on their latest qualifying date; with no known age on
    that date it is unknown (counted as age_unknown, not eligible for hkc). Qualifying rows:
    repeat-sv - their SV suspect/offender rows in the 12-month window; repeat-victims - all their
    victim rows in the window; rfg - the rows scored; hkc - the rows of inputs with a weight above 0
    in the 24-month window."""
    a = pd.Timestamp(as_at)
    start12 = a - pd.DateOffset(months=12) + pd.Timedelta(days=1)
    start24 = a - pd.DateOffset(months=24) + pd.Timedelta(days=1)
    e = events[(events["event_date"] >= start24) & (events["event_date"] <= a)]
    police = e[e["source"] == "people_police"]
    perp = police[police["role"].isin(PERPETRATOR_ROLES)]
    victim = police[police["role"] == "victim"]
    in12 = lambda df: df[df["event_date"] >= start12]  # noqa: E731
    cohorts = {
        "repeat-sv-perpetrators": _repeat_sv(in12(perp[perp["serious_violence"]])),
        "repeat-victims": _repeat_victims(in12(victim)),
        "rfg": _rfg(perp[perp["serious_violence"] | (perp["offence_group"] == VAP)], a),
        "hkc": _hkc(e, start12),
    }
    overlap = set(in12(perp)["person_id"]) & set(in12(victim)["person_id"])
    cohorts["victim-offender-overlap"] = {"people": len(overlap)}
    return {"as_at": as_at, "age_rule": AGE_RULE, "window_12_months": [str(start12.date()), str(a.date())],
            "window_24_months": [str(start24.date()), str(a.date())], "cohorts": cohorts}


def _latest_ages(rows) -> dict[str, int]:
    """person_id -> the highest age_at_event on the person's latest qualifying date (absent when
    none is known on that date)."""
    latest = rows["event_date"].eq(rows.groupby("person_id")["event_date"].transform("max"))
    oldest = rows[latest].groupby("person_id")["age_at_event"].max()
    return {p: int(v) for p, v in oldest.items() if pd.notna(v)}


def _with_ages(members: list[dict], rows) -> dict:
    """Attach each member's age and the cohort's under-18 / under-25 counts and shares."""
    ages = _latest_ages(rows[rows["person_id"].isin([m["person"] for m in members])])
    for m in members:
        m["age"] = ages.get(m["person"])
    known = [m["age"] for m in members if m["age"] is not None]
    n = len(members)
    under18, under25 = sum(x < 18 for x in known), sum(x < 25 for x in known)
    return {"count": n, "under_18": under18, "under_25": under25, "age_unknown": n - len(known),
            "share_under_18": round(under18 / n, 4) if n else None,
            "share_under_25": round(under25 / n, 4) if n else None, "members": members}


def _repeat_sv(sv) -> dict:
    """People suspect/offender on 2+ distinct serious-violence crimes in the 12-month window."""
    crimes = sv.drop_duplicates(["person_id", "crime_ref"])
    g = crimes.groupby("person_id").agg(n=("crime_ref", "size"), first=("event_date", "min"),
                                        last=("event_date", "max"))
    g = g[g["n"] >= 2]
    members = [{"person": p, "sv_offences": int(r.n), "first_in_window": str(r.first.date()),
                "last_in_window": str(r.last.date())} for p, r in g.iterrows()]
    return _with_ages(members, sv)


def _repeat_victims(victims) -> dict:
    """People victim on 2+ distinct crimes of one offence subgroup in the 12-month window."""
    crimes = victims[victims["offence_subgroup"].notna()].drop_duplicates(["person_id", "crime_ref"])
    g = crimes.groupby(["person_id", "offence_subgroup"]).size()
    g = g[g >= 2]
    members = {}
    for (p, subgroup), n in g.items():
        members.setdefault(p, {})[subgroup] = int(n)
    return _with_ages([{"person": p, "subgroups": s} for p, s in sorted(members.items())], victims)


def gravity_band(harm: np.ndarray) -> np.ndarray:
    """rfg gravity: harm < 30 -> 1 (NaN too), < 365 -> 2, < 1825 -> 3, otherwise 4."""
    harm = np.nan_to_num(np.asarray(harm, dtype=float), nan=0.0)
    return np.select([harm < 30, harm < 365, harm < 1825], [1, 2, 3], 4)


def recency_points(days: np.ndarray) -> np.ndarray:
    """rfg recency from days between the last event and the as-at date."""
    days = np.asarray(days)
    return np.select([days <= 90, days <= 180, days <= 365, days <= 548], [5, 4, 3, 2], 1)


def _rfg(rows, a) -> dict:
    """Recency x frequency x gravity over SV or violence-against-the-person perpetrator events in the
    24-month window; top RFG_TOP by score, later last event, then person id."""
    crimes = rows.copy()
    crimes["band"] = gravity_band(crimes["harm"].to_numpy())
    g = crimes.groupby("person_id").agg(last=("event_date", "max"), crimes=("crime_ref", "nunique"),
                                        g=("band", "max"))
    g["r"] = recency_points((a - g["last"]).dt.days.to_numpy())
    g["f"] = g["crimes"].clip(upper=5)
    g["score"] = g["r"] * g["f"] * g["g"]
    g = g.reset_index().sort_values(["score", "last", "person_id"], ascending=[False, False, True])
    top = g.head(RFG_TOP)
    cutoff = int(top["score"].iloc[-1]) if len(top) else None
    members = [{"person": r.person_id, "R": int(r.r), "F": int(r.f), "G": int(r.g), "score": int(r.score),
                "crimes": int(r.crimes), "last_event": str(r.last.date())} for r in top.itertuples()]
    out = _with_ages(members, crimes)
    out |= {"scored_people": len(g), "cutoff_score": cutoff,
            "people_at_cutoff_score": int((g["score"] == cutoff).sum()) if cutoff is not None else 0}
    return out


def _hkc(e, start12) -> dict:
    """Habitual knife carrier index: weighted, recency-discounted knife inputs in the 24-month window;
    under-25s (age at their latest scored input) with score >= 6 are the high band."""
    perp = e[(e["source"] == "people_police") & e["role"].isin(PERPETRATOR_ROLES)]
    hits = {
        "knife_possession": perp[perp["offence_code"].isin(HKC_POSSESSION_CODES)],
        "knife_enabled": perp[perp["knife_enabled"]],
        "yj_knife": e[(e["source"] == "people_youth_justice") & e["knife_related"]],
        "school_weapon": e[(e["source"] == "people_education") & (e["reason"] == "OW")],
        "ed_knife_injury": e[(e["source"] == "people_ed") & (e["weapon"] == "knife_sharp")],
    }
    parts = []
    for name, rows in hits.items():
        if name in ("knife_possession", "knife_enabled"):
            rows = rows.drop_duplicates(["person_id", "crime_ref"])  # a crime counts once per person
        factor = np.where(rows["event_date"] >= start12, 1.0, 0.5)
        parts.append(rows.assign(input=name, points=HKC_WEIGHTS[name] * factor))
    every = pd.concat(parts, ignore_index=True)
    score = every.groupby("person_id")["points"].sum()
    scored_rows = pd.concat([rows for name, rows in hits.items() if HKC_WEIGHTS[name] > 0], ignore_index=True)
    ages = _latest_ages(scored_rows)  # every scored row, a crime's duplicate rows included
    eligible = {p for p, age in ages.items() if age < 25}
    counts = every.groupby(["person_id", "input"]).agg(count=("points", "size"), points=("points", "sum"))
    members = []
    for p in sorted(p for p, s in score.items() if s >= 6 and p in eligible):
        components = {name: {"count": int(counts.loc[(p, name), "count"]) if (p, name) in counts.index else 0,
                             "points": float(counts.loc[(p, name), "points"]) if (p, name) in counts.index else 0.0}
                      for name in HKC_WEIGHTS}
        members.append({"person": p, "score": float(score[p]), "components": components})
    bands = {"high": 0, "medium": 0, "low": 0}
    for p, s in score.items():
        if p in eligible and s > 0:
            bands["high" if s >= 6 else "medium" if s >= 3 else "low"] += 1
    return _with_ages(members, scored_rows) | {"band_counts": bands}
