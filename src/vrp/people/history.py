"""The person-event history cohorts are built from: one row per linked person per event, from the
pseudonymised lake only (no identities). Police links take their offence, date, knife flag and
serious-violence classification from the crime extract, so a cohort counts crimes exactly as the
partnership's measures do.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from vrp.definitions import Definition, is_match_sql
from vrp.errors import VrpError
from vrp.lake.read import loaded_datasets
from vrp.places.harm import weigh
from vrp.query import open_lake

COLUMNS = ["person_id", "record_key", "source", "role", "event_date", "crime_ref", "offence_code", "offence_group",
           "offence_subgroup", "serious_violence", "knife_enabled", "event_type", "reason", "knife_related", "weapon",
           "age_at_event", "sex"]


@dataclass
class History:
    events: pd.DataFrame
    link_run: str
    definition: Definition
    harm_scheme: str
    unlinked_records: int          # person records not in the latest linkage (run vrp link partners)
    unmatched_crime_refs: int      # police links whose crime is not in the crime extract


def _source_sql(dataset: str) -> str:
    """Non-police datasets as history rows (their own offence code, if any, gives group and subgroup)."""
    has = lambda column, kind="VARCHAR": column if column in _OWN[dataset] else f"NULL::{kind}"  # noqa: E731
    return f"""
        SELECT l.person_id, p.record_key, '{dataset}' AS source, 'subject' AS role, p.event_date,
               NULL::VARCHAR AS crime_ref, {has('offence_code')} AS offence_code, o.offence_group, o.offence_subgroup,
               FALSE AS serious_violence, FALSE AS knife_enabled, {has('event_type')} AS event_type,
               {has('reason')} AS reason, coalesce({has('knife_related', 'BOOLEAN')}, FALSE) AS knife_related,
               {has('weapon')} AS weapon, p.age_at_event, p.sex
        FROM {dataset} p JOIN person_links l USING (record_key)
        LEFT JOIN ho_offences o ON o.code = {has('offence_code')}"""


_OWN = {"people_youth_justice": {"event_type", "offence_code", "knife_related"},
        "people_education": {"event_type", "reason"},
        "people_probation": {"event_type", "offence_code"},
        "people_ed": {"weapon"}}


def build_history(ws, definition: Definition, harm_scheme: str = "cchi-2023") -> History:
    """Every linked person's events across the loaded person datasets, with harm weights."""
    con = open_lake(ws)
    try:
        loaded = loaded_datasets(con)
        if "person_links" not in loaded:
            raise VrpError("no person links: run `vrp link partners` first")
        parts = []
        unmatched = 0
        if "people_police" in loaded:
            if "crimes" not in loaded:
                raise VrpError("police person links need the crime extract: run `vrp ingest police-extract` first")
            con.execute(f"""CREATE TEMP TABLE crime_facts AS
                SELECT crime_ref, arg_max(recorded_date, as_at) AS recorded_date,
                       arg_max(offence_code, as_at) AS offence_code, arg_max(knife_flag, as_at) AS knife_flag,
                       arg_max({is_match_sql(definition)}, as_at) AS serious_violence
                FROM crimes WHERE crime_status = 'confirmed' GROUP BY crime_ref""")
            parts.append("""
                SELECT l.person_id, p.record_key, 'people_police' AS source, p.role, c.recorded_date AS event_date,
                       p.crime_ref, c.offence_code, o.offence_group, o.offence_subgroup,
                       coalesce(c.serious_violence, FALSE) AS serious_violence,
                       coalesce(c.knife_flag = 'yes', FALSE) AS knife_enabled, NULL::VARCHAR AS event_type,
                       NULL::VARCHAR AS reason, FALSE AS knife_related, NULL::VARCHAR AS weapon, p.age_at_event, p.sex
                FROM people_police p JOIN person_links l USING (record_key)
                JOIN crime_facts c ON c.crime_ref = p.crime_ref
                LEFT JOIN ho_offences o ON o.code = c.offence_code""")
            unmatched = con.execute("""SELECT count(*) FROM people_police p
                WHERE NOT EXISTS (SELECT 1 FROM crime_facts c WHERE c.crime_ref = p.crime_ref)""").fetchone()[0]
        parts += [_source_sql(d) for d in _OWN if d in loaded]
        if not parts:
            raise VrpError("no person-level data loaded: run `vrp ingest people DATASET FILES` first")
        events = con.execute(" UNION ALL ".join(parts) + " ORDER BY person_id, event_date, record_key").df()
        person_tables = [d for d in ["people_police", *_OWN] if d in loaded]
        unlinked = con.execute("SELECT " + " + ".join(
            f"(SELECT count(*) FROM {d} WHERE record_key NOT IN (SELECT record_key FROM person_links))"
            for d in person_tables)).fetchone()[0]
        link_run = con.execute("SELECT max(link_run) FROM person_links").fetchone()[0]
    finally:
        con.close()
    events = events[COLUMNS]
    events["event_date"] = pd.to_datetime(events["event_date"])
    events["age_at_event"] = events["age_at_event"].astype("Int64")
    weights, _report = weigh(events["offence_code"].fillna("").to_numpy(dtype=object), harm_scheme)
    events["harm"] = np.where(events["offence_code"].isna(), np.nan, weights)
    return History(events=events, link_run=link_run or "", definition=definition, harm_scheme=harm_scheme,
                   unlinked_records=int(unlinked), unmatched_crime_refs=int(unmatched))
