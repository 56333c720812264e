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
            "force": FORCE, "prolific_min_offences": PROLIFIC_MIN, "districts": districts}


def _nested(district: np.ndarray, key: np.ndarray) -> dict[str, dict[str, int]]:
    """{district: {key: count}} with both levels sorted."""
    out: dict[str, dict[str, int]] = {}
    pairs, counts = np.unique(np.char.add(np.char.add(district.astype(str), "|"), key.astype(str)),
                              return_counts=True)
    for pair, n in zip(pairs.tolist(), counts.tolist()):
        d, k = pair.split("|")
        out.setdefault(d, {})[k] = n
    return out
