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

PROLIFIC_MIN = 5  # offences (confirmed, valid rows, all years) that make a suspect "prolific"


def counts_by_district(good: pd.DataFrame, geo: Geography) -> dict[str, dict[str, dict[str, int]]]:
    """Confirmed-crime counts: {district code: {code: n}}, plus knife-yes and sub-code tag counts."""
    confirmed = good[good["status"] == "Confirmed"]
    district = geo.district_codes()[confirmed["lsoa"].to_numpy()]
    frame = pd.DataFrame({"district": district, "code": confirmed["code"].to_numpy(),
                          "knife": confirmed["knife"].to_numpy(),
                          "tag": confirmed["subcode"].map(SUBCODE_TAGS).fillna("").to_numpy()})
    return {
        "offences": _nested(frame, "code"),
        "knife_yes": _nested(frame[frame["knife"] == "Y"], "code"),
        "subcode_tags": _nested(frame[frame["tag"] != ""], "tag"),
    }


def monthly_confirmed(good: pd.DataFrame) -> dict[str, int]:
    confirmed = good[good["status"] == "Confirmed"]
    months = pd.DatetimeIndex(confirmed["recorded"]).strftime("%Y-%m")
    return {m: int(c) for m, c in sorted(Counter(months).items())}


def prolific_suspects(suspect_lists: list[np.ndarray]) -> list[dict]:
    """Suspects named on at least PROLIFIC_MIN confirmed valid crimes, most prolific first."""
    counts: Counter[str] = Counter()
    for joined in suspect_lists:
        named = joined[joined != ""]
        if len(named):
            counts.update(";".join(named).split(";"))
    ranked = sorted(((n, urn) for urn, n in counts.items() if n >= PROLIFIC_MIN), key=lambda t: (-t[0], t[1]))
    return [{"suspect_urn": urn, "offences": n} for n, urn in ranked]


def extract_summary(frame: pd.DataFrame, bad_records: list[dict], crimes: pd.DataFrame) -> dict:
    """Row counts for one extract file: all rows, planted faults, valid rows by status."""
    is_bad = np.zeros(len(crimes), dtype=bool)
    is_bad[[r["line"] - 2 for r in bad_records]] = True
    status = Counter(crimes.loc[~is_bad, "status"].str.lower())
    return {"rows": len(frame), "bad_rows": len(bad_records), "good_rows": int((~is_bad).sum()),
            "status": {s: int(status.get(s, 0)) for s in ("confirmed", "cancelled", "transferred")}}


def policeuk_summary(frame: pd.DataFrame) -> dict:
    types = Counter(frame["Crime type"])
    asb = int(types.get("Anti-social behaviour", 0))
    return {"rows": len(frame), "crimes": len(frame) - asb, "anti_social_behaviour": asb,
            "crime_types": {t: int(n) for t, n in sorted(types.items())}}


def header(seed: int, scale: float, years: tuple[int, ...], geo: Geography) -> dict:
    """Identity of the run and the partnership's districts."""
    districts = [{"code": d.code, "name": d.name, "lsoas": int((geo.district == i).sum()),
                  "population": int(geo.population[geo.district == i].sum())}
                 for i, d in enumerate(DISTRICTS)]
    return {"seed": seed, "scale": scale, "years": list(years), "partnership": PARTNERSHIP,
            "force": FORCE, "prolific_min_offences": PROLIFIC_MIN, "districts": districts}


def _nested(frame: pd.DataFrame, key: str) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for (district, value), n in frame.groupby(["district", key]).size().items():
        out.setdefault(str(district), {})[str(value)] = int(n)
    return {d: dict(sorted(v.items())) for d, v in sorted(out.items())}
