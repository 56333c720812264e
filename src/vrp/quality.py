"""Data-quality checks a VRP analyst runs before trusting a load (`vrp quality`)."""
from __future__ import annotations

from collections import defaultdict

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vrp.definitions.offences import knife_collection_codes
from vrp.errors import NothingToShow
from vrp.lake.read import loaded_datasets
from vrp.query import CRIME_DATASETS, KEY_COLUMN, open_lake
from vrp.store import IngestRun, QuarantineRow, SourceFile

LSOA_PATTERN = r"^[EW]0\d{7}$"


def _check(dataset, name, count, total, detail, examples=None, severity=None) -> dict:
    severity = severity or ("ok" if count == 0 else "warning")
    return {"dataset": dataset, "check": name, "severity": severity, "count": int(count), "total": int(total),
            "detail": detail, "examples": examples or []}


def quality_report(ws) -> dict:
    con = open_lake(ws)
    loaded = loaded_datasets(con)
    checks: list[dict] = []
    for dataset in CRIME_DATASETS:
        if dataset in loaded:
            checks += _crime_checks(ws, con, dataset, "lsoa_lookup" in loaded)
    checks += _quarantine_checks(ws)
    if not loaded and not checks:
        raise NothingToShow("nothing to check: no data loaded yet (load police.uk files with `vrp ingest police-uk "
                            "FILES` or a force extract with `vrp ingest police-extract FILES --mapping NAME`)")
    notes = [] if loaded & set(CRIME_DATASETS) else [
        "no crime data loaded: only quarantined rows are checked (the area, LSOA, id, location and monthly checks "
        "need `vrp ingest police-uk FILES` or `vrp ingest police-extract FILES --mapping NAME`)"]
    return {"workspace": str(ws.root), "checks": checks, "notes": notes,
            "summary": {s: sum(c["severity"] == s for c in checks) for s in ("ok", "warning", "error")}}


def _scalar(con, sql: str):
    return con.execute(sql).fetchone()[0]


def _examples(con, sql: str) -> list:
    return [dict(zip([d[0] for d in con.description], r)) for r in con.execute(sql).fetchall()]


def _crime_checks(ws, con, dataset: str, have_lookup: bool) -> list[dict]:
    rel, key = f"{dataset}_enriched", KEY_COLUMN[dataset]
    total = _scalar(con, f"SELECT count(*) FROM {rel}")
    out = []
    if have_lookup:
        n = _scalar(con, f"SELECT count(*) FROM {rel} WHERE regexp_matches(lsoa_code, '{LSOA_PATTERN}') AND NOT in_area")
        ex = _examples(con, f"""SELECT lsoa_code, {'lsoa_name, ' if dataset == 'police_uk' else ''}count(*) AS rows
            FROM {rel} WHERE regexp_matches(lsoa_code, '{LSOA_PATTERN}') AND NOT in_area
            GROUP BY ALL ORDER BY rows DESC, lsoa_code LIMIT 5""")
        out.append(_check(dataset, "outside_area", n, total, "rows whose LSOA is not in the partnership area", ex))
    else:
        out.append(_check(dataset, "outside_area", 0, total, "no LSOA lookup loaded: area not checked", severity="warning"))
    n = _scalar(con, f"SELECT count(*) FROM {rel} WHERE lsoa_code IS NULL")
    out.append(_check(dataset, "missing_lsoa", n, total, "rows with no LSOA code"))
    n = _scalar(con, f"SELECT count(*) FROM {rel} WHERE lsoa_code IS NOT NULL AND NOT regexp_matches(lsoa_code, '{LSOA_PATTERN}')")
    ex = _examples(con, f"SELECT lsoa_code, count(*) AS rows FROM {rel} WHERE lsoa_code IS NOT NULL AND NOT "
                        f"regexp_matches(lsoa_code, '{LSOA_PATTERN}') GROUP BY ALL ORDER BY rows DESC LIMIT 5")
    out.append(_check(dataset, "unknown_lsoa", n, total, "LSOA codes that are not LSOA codes", ex))
    dup = _examples(con, f"SELECT {key} AS id, count(*) AS rows FROM {rel} WHERE {key} IS NOT NULL "
                         f"GROUP BY ALL HAVING count(*) > 1 ORDER BY rows DESC, id LIMIT 5")
    n = _scalar(con, f"SELECT count(*) FROM (SELECT {key} FROM {rel} WHERE {key} IS NOT NULL GROUP BY ALL HAVING count(*) > 1)")
    out.append(_check(dataset, "duplicate_ids", n, total, f"{key} values that occur more than once", dup))
    n = _scalar(con, f"SELECT count(*) FROM {rel} WHERE latitude IS NULL OR longitude IS NULL")
    out.append(_check(dataset, "no_location", n, total, "rows with no coordinates"))
    if dataset == "police_uk":
        out += _police_uk_checks(con, rel, total, have_lookup)
    else:
        out.append(_knife_completeness(con, rel))
    out.append(_monthly_anomalies(ws, con, dataset, rel))
    return out


def _police_uk_checks(con, rel: str, total: int, have_lookup: bool) -> list[dict]:
    out = []
    n = _scalar(con, f"SELECT count(*) FROM {rel} WHERE crime_id IS NULL AND crime_type <> 'Anti-social behaviour'")
    asb = _scalar(con, f"SELECT count(*) FROM {rel} WHERE crime_id IS NULL AND crime_type = 'Anti-social behaviour'")
    out.append(_check("police_uk", "blank_ids", n, total,
                      f"crimes with a blank Crime ID ({asb} Anti-social behaviour rows have none, as published)"))
    if have_lookup:
        where = ("district_name IS NOT NULL AND lsoa_name IS NOT NULL AND "
                 "regexp_replace(lsoa_name, ' [0-9]{3}[A-Z]$', '') <> district_name")
        n = _scalar(con, f"SELECT count(*) FROM {rel} WHERE {where}")
        ex = _examples(con, f"SELECT lsoa_code, lsoa_name, district_name, count(*) AS rows FROM {rel} WHERE {where} "
                            "GROUP BY ALL ORDER BY rows DESC LIMIT 5")
        out.append(_check("police_uk", "district_name_mismatch", n, total,
                          "rows whose LSOA name does not start with the district the lookup gives", ex))
    return out


def _knife_completeness(con, rel: str) -> dict:
    codes = ", ".join(f"'{c}'" for c in sorted(knife_collection_codes()))
    in_scope, missing = con.execute(f"""SELECT count(*), count(*) FILTER (WHERE knife_flag IS NULL)
        FROM {rel} WHERE offence_code IN ({codes}) AND crime_status = 'confirmed'""").fetchone()
    worst = _examples(con, f"""SELECT month, count(*) AS in_scope, count(*) FILTER (WHERE knife_flag IS NULL) AS missing,
        round(100.0 * count(*) FILTER (WHERE knife_flag IS NOT NULL) / count(*), 1) AS complete_pct
        FROM {rel} WHERE offence_code IN ({codes}) AND crime_status = 'confirmed'
        GROUP BY month ORDER BY complete_pct, month LIMIT 5""")
    pct = 100.0 * (in_scope - missing) / in_scope if in_scope else 100.0
    return _check("crimes", "knife_flag_completeness", missing, in_scope,
                  f"knife flag recorded on {pct:.1f}% of offences in the Home Office knife-enabled collection", worst)


def _monthly_anomalies(ws, con, dataset: str, rel: str) -> dict:
    """Months far from the median of the other months of the same series (robust z, Poisson floor)."""
    series_col = "crime_type" if dataset == "police_uk" else "coalesce(offence_group, 'Unknown')"
    where = "in_area" if _scalar(con, f"SELECT count(*) FILTER (WHERE in_area) FROM {rel}") else "TRUE"
    rows = con.execute(f"SELECT {series_col} AS series, month, count(*) FROM {rel} WHERE {where} "
                       "GROUP BY ALL ORDER BY series, month").fetchall()
    months = sorted({r[1] for r in rows})
    by_series: dict[str, dict[str, int]] = defaultdict(dict)
    for series, month, n in rows:
        by_series[series][month] = n
    z_limit = float(ws.quality_setting("anomaly_z", 5.0))
    min_change = float(ws.quality_setting("anomaly_min_change", 20))
    flagged = [a for series, counts in by_series.items()
               for a in find_anomalies(series, [counts.get(m, 0) for m in months], months, z_limit, min_change)]
    flagged.sort(key=lambda a: -abs(a["z"]))
    detail = (f"months more than {z_limit:g} robust SDs from the median of the other months "
              f"({len(months)} months, {len(by_series)} series)")
    return _check(dataset, "monthly_anomalies", len(flagged), len(months) * len(by_series), detail, flagged[:20])


def find_anomalies(series: str, counts: list[int], months: list[str], z_limit: float, min_change: float) -> list[dict]:
    """Each month against the median of the other months; spread = max(1.4826 MAD, sqrt(median)).

    Leaving the month out keeps a spike from inflating its own baseline; the Poisson floor keeps
    small, naturally noisy series from being flagged for ordinary variation.
    """
    values = np.asarray(counts, dtype=float)
    if len(values) < 6:
        return []
    out = []
    for i, x in enumerate(values):
        others = np.delete(values, i)
        median = float(np.median(others))
        spread = max(1.4826 * float(np.median(np.abs(others - median))), np.sqrt(max(median, 1.0)))
        z = (x - median) / spread
        if abs(z) >= z_limit and abs(x - median) >= min_change:
            out.append({"series": series, "month": months[i], "count": int(x), "expected": round(median, 1),
                        "z": round(float(z), 1), "direction": "high" if z > 0 else "low"})
    return out


def _quarantine_checks(ws) -> list[dict]:
    """Rows held back per dataset, over the files loaded by the as-at date when one is set."""
    files = select(SourceFile.id).join(IngestRun, SourceFile.run_id == IngestRun.id)
    if ws.as_at is not None:
        files = files.where(IngestRun.as_at <= ws.as_at)
    with Session(ws.engine) as session:
        rows = session.execute(
            select(SourceFile.dataset, func.count(QuarantineRow.id))
            .join(QuarantineRow, QuarantineRow.file_id == SourceFile.id, isouter=True)
            .where(SourceFile.id.in_(files)).group_by(SourceFile.dataset)
        ).all()
        reasons = session.execute(
            select(SourceFile.dataset, QuarantineRow.field, func.count())
            .join(SourceFile, QuarantineRow.file_id == SourceFile.id).where(SourceFile.id.in_(files))
            .group_by(SourceFile.dataset, QuarantineRow.field).order_by(func.count().desc())
        ).all()
        totals = dict(session.execute(select(SourceFile.dataset, func.sum(SourceFile.rows_in))
                                      .where(SourceFile.id.in_(files)).group_by(SourceFile.dataset)).all())
    out = []
    for dataset, n in rows:
        ex = [{"field": f, "rows": c} for d, f, c in reasons if d == dataset][:5]
        out.append(_check(dataset, "quarantined_rows", n, totals.get(dataset, 0) or 0,
                          "rows held back at ingest (see `vrp quarantine`)", ex))
    return out
