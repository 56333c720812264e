"""Cohort lists with the safeguards a risk list needs (docs/people.md, "Safeguards").

- A list is built from one rule, so victims and perpetrators are never in one list.
- Each entry keeps the rule version, its score components, a review date, a retention date and the
  human review decision. A new build replaces the rule's previous list (carrying forward decisions
  still in date): no old list lingers beside the new one.
- Removal deletes the entry; so does reaching the retention date. Both are logged, without scores.
- Every read of a list (which names people, by person id or by name) writes an audit event first.
  Aggregates (sizes, age shares, overlap) are not audited, and leave the analyst tier only through
  small-number suppression.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from vrp.audit import current_user, record, require_purpose
from vrp.classify import definitions_in_use
from vrp.definitions import get_definition
from vrp.disclosure import rule_from_config, suppress
from vrp.errors import VrpError
from vrp.people.cohorts import age_shares, build_cohort, composition, get_rule, load_rules, overlap_counts
from vrp.people.history import build_history
from vrp.people.identities import read_identities
from vrp.store import CohortEntry, CohortRun

DECISIONS = ("accept", "remove")
TIERS = ("analyst", "partner")


def rule_dirs(ws) -> list:
    """The workspace's own cohort rules (cohorts/*.toml), when it has the folder."""
    folder = ws.root / "cohorts"
    return [folder] if folder.is_dir() else []


def _days(ws, name: str, default: int) -> int:
    return int(ws.config.get("cohorts", {}).get(name, default))


def _sv_definition(ws, definition_id: str | None):
    if definition_id:
        return get_definition(definition_id, [ws.definitions_dir])
    crimes = [d for d in definitions_in_use(ws, None) if d.dataset == "crimes"]
    if not crimes:
        raise VrpError("no serious-violence definition for the crime extract in use: pass --definition")
    return crimes[0]


def purge_expired(ws, today: date | None = None) -> int:
    """Delete every entry past its retention date (deleted, not hidden) and log how many."""
    today = today or date.today()
    with Session(ws.engine) as session, session.begin():
        expired = session.scalars(select(CohortEntry).where(CohortEntry.expires_on < today)).all()
        if not expired:
            return 0
        runs = sorted({e.run_id for e in expired})
        session.execute(delete(CohortEntry).where(CohortEntry.expires_on < today))
        record(ws, "cohort retention deletion", f"cohort runs {','.join(map(str, runs))}", "retention period reached",
               rows=len(expired), session=session)
    return len(expired)


def build(ws, rule_ids: list[str] | None = None, as_at: date | None = None, definition_id: str | None = None,
          harm_scheme: str = "cchi-2023", today: date | None = None) -> dict:
    """Build the cohort lists; returns aggregates only (sizes, age shares, composition, overlap)."""
    today = today or date.today()
    purge_expired(ws, today)
    rules = [get_rule(r, rule_dirs(ws)) for r in rule_ids] if rule_ids else list(load_rules(rule_dirs(ws)).values())
    history = build_history(ws, _sv_definition(ws, definition_id), harm_scheme)
    events = history.events
    as_at = as_at or (events["event_date"].max().date() if len(events) else today)
    out = {"as_at": as_at.isoformat(), "link_run": history.link_run,
           "definition": f"{history.definition.id} v{history.definition.version}", "harm_scheme": harm_scheme,
           "people_in_history": int(events["person_id"].nunique()), "unlinked_records": history.unlinked_records,
           "unmatched_crime_refs": history.unmatched_crime_refs, "cohorts": [],
           "victim_offender_overlap": overlap_counts(events, as_at)}
    for rule in rules:
        entries = build_cohort(rule, events, as_at)
        listed = entries[entries["in_cohort"]]
        run_id, carried = _store(ws, rule, listed, as_at, history, today, len(entries))
        out["cohorts"].append({"rule": rule.id, "version": rule.version, "list_role": rule.list_role, "run_id": run_id,
                               "people_scored": len(entries), "listed": len(listed), "decisions_carried": carried,
                               "ages": age_shares(listed), "composition": composition(listed, events, as_at, rule=rule)})
    return out


def _store(ws, rule, listed: pd.DataFrame, as_at: date, history, today: date, scored: int) -> tuple[int, int]:
    """Save the new list, carry forward in-date review decisions, delete the rule's older lists."""
    review_days, retention_days = _days(ws, "review_days", 90), _days(ws, "retention_days", 365)
    with Session(ws.engine) as session, session.begin():
        old = session.scalars(select(CohortEntry).join(CohortRun, CohortRun.id == CohortEntry.run_id)
                              .where(CohortRun.rule_id == rule.id)).all()
        decided = {e.person_id: e for e in old if e.decision != "pending" and e.review_date >= today}
        run = CohortRun(rule_id=rule.id, rule_version=rule.version, list_role=rule.list_role, as_at=as_at,
                        built_at=datetime.now(), user=current_user(), link_run=history.link_run,
                        definition=f"{history.definition.id} v{history.definition.version}", people_scored=scored,
                        summary=json.dumps({"listed": len(listed), "harm_scheme": history.harm_scheme}))
        session.add(run)
        session.flush()
        run_id = run.id
        carried = 0
        for row in listed.itertuples(index=False):
            before = decided.get(row.person_id)
            carried += before is not None
            session.add(CohortEntry(
                run_id=run.id, person_id=row.person_id, list_role=rule.list_role, rank=int(row.rank),
                score=float(row.score), band=row.band if isinstance(row.band, str) else None,
                components=json.dumps(row.components, sort_keys=True, default=str), events=int(row.events),
                last_event=pd.Timestamp(row.last_event).date() if pd.notna(row.last_event) else None,
                age_at_last_event=None if pd.isna(row.age_at_last_event) else int(row.age_at_last_event),
                sex=row.sex if isinstance(row.sex, str) else None,
                review_date=before.review_date if before else today + timedelta(days=review_days),
                expires_on=today + timedelta(days=retention_days),
                decision=before.decision if before else "pending", reviewed_by=before.reviewed_by if before else None,
                reviewed_at=before.reviewed_at if before else None, review_notes=before.review_notes if before else None))
        if old:
            session.execute(delete(CohortEntry).where(CohortEntry.id.in_([e.id for e in old])))
        record(ws, "cohort build", f"cohort {rule.id} run {run.id}", "cohort rebuilt", rows=len(listed),
               detail={"rule_version": rule.version, "replaced_entries": len(old), "decisions_carried": carried},
               session=session)
    return run_id, carried


def _latest_run(session: Session, rule_id: str) -> CohortRun:
    run = session.scalars(select(CohortRun).where(CohortRun.rule_id == rule_id).order_by(CohortRun.id.desc())).first()
    if run is None:
        raise VrpError(f"no {rule_id} cohort has been built: run `vrp cohorts build --rule {rule_id}` first")
    return run


def show(ws, rule_id: str, purpose: str | None, identify: bool = False, today: date | None = None) -> dict:
    """One rule's list (person ids, scores and components; names too with identify). Audited."""
    purpose = require_purpose(purpose)
    today = today or date.today()
    purge_expired(ws, today)
    with Session(ws.engine) as session:
        run = _latest_run(session, rule_id)
        entries = session.scalars(select(CohortEntry).where(CohortEntry.run_id == run.id)
                                  .order_by(CohortEntry.rank)).all()
        rows = [_entry_row(e, today) for e in entries]
        header = {"rule": run.rule_id, "version": run.rule_version, "list_role": run.list_role, "run_id": run.id,
                  "as_at": run.as_at.isoformat(), "built_at": run.built_at.isoformat(timespec="seconds"),
                  "definition": run.definition, "link_run": run.link_run}
        if not rows:  # an empty list is an answer: say what was looked at
            header["note"] = (f"nobody is on the {run.rule_id} list built {header['built_at'][:10]} as at "
                              f"{header['as_at']}: none of the {run.people_scored:,} people scored met the rule, "
                              "or the panel removed them")
    record(ws, "cohort read", f"cohort {rule_id} run {header['run_id']}", purpose, rows=len(rows),
           detail={"identified": identify})
    if identify and rows:
        _add_identities(ws, rows, purpose, rule_id)
    return {**header, "entries": rows}


def _entry_row(e: CohortEntry, today: date) -> dict:
    return {"rank": e.rank, "person_id": e.person_id, "score": e.score, "band": e.band,
            "components": json.loads(e.components), "events": e.events,
            "last_event": e.last_event.isoformat() if e.last_event else None, "age_at_last_event": e.age_at_last_event,
            "sex": e.sex, "review_date": e.review_date.isoformat(), "review_overdue": e.review_date < today,
            "expires_on": e.expires_on.isoformat(), "decision": e.decision, "reviewed_by": e.reviewed_by,
            "review_notes": e.review_notes}


def _add_identities(ws, rows: list[dict], purpose: str, rule_id: str) -> None:
    """Names and dates of birth of the listed people (the identifiable tier's view): the latest
    record of each person, read through the audited identity store."""
    from vrp.lake.read import connect

    con = connect(ws)
    try:
        links = con.execute("SELECT record_key, person_id FROM person_links").df()
    finally:
        con.close()
    wanted = {r["person_id"] for r in rows}
    keys = links[links["person_id"].isin(wanted)]
    people = read_identities(ws, purpose, action="cohort identify", detail={"rule": rule_id, "people": len(wanted)})
    people = people.merge(keys, on="record_key").sort_values(["person_id", "event_date"])
    latest = people.groupby("person_id").last()
    for row in rows:
        if row["person_id"] in latest.index:
            p = latest.loc[row["person_id"]]
            row.update(first_name=p["first_name"], surname=p["surname"],
                       dob=p["dob"].isoformat() if pd.notna(p["dob"]) else None, postcode=p["postcode"])


def review(ws, rule_id: str, person_id: str, decision: str, reviewer: str, notes: str, purpose: str | None,
           today: date | None = None) -> dict:
    """A human decision on one entry: accept (kept, next review date set) or remove (deleted now)."""
    purpose = require_purpose(purpose)
    if decision not in DECISIONS:
        raise VrpError(f"decision must be {' or '.join(DECISIONS)} (got {decision!r})")
    if not reviewer.strip():
        raise VrpError("a review needs the reviewer's name (--reviewer)")
    today = today or date.today()
    purge_expired(ws, today)
    with Session(ws.engine) as session, session.begin():
        run = _latest_run(session, rule_id)
        entry = session.scalars(select(CohortEntry).where(CohortEntry.run_id == run.id,
                                                          CohortEntry.person_id == person_id)).first()
        if entry is None:
            raise VrpError(f"{person_id} is not on the current {rule_id} list")
        if decision == "remove":
            session.delete(entry)
            outcome = {"rule": rule_id, "person_id": person_id, "decision": "removed", "deleted": True}
        else:
            entry.decision, entry.reviewed_by, entry.reviewed_at = "accepted", reviewer, datetime.now()
            entry.review_notes = notes
            entry.review_date = today + timedelta(days=_days(ws, "review_days", 90))
            outcome = {"rule": rule_id, "person_id": person_id, "decision": "accepted",
                       "next_review": entry.review_date.isoformat()}
        record(ws, f"cohort {'removal' if decision == 'remove' else 'review'}", f"cohort {rule_id} run {run.id}",
               purpose, rows=1, detail={"person_id": person_id, "reviewer": reviewer, "notes": notes}, session=session)
    return outcome


def summary(ws, tier: str = "analyst", today: date | None = None) -> dict:
    """Sizes and age bands of the current lists: aggregates, suppressed beyond the analyst tier."""
    if tier not in TIERS:
        raise VrpError(f"unknown tier {tier!r} (expected {' or '.join(TIERS)})")
    purge_expired(ws, today)
    rule = rule_from_config(ws.config.get("disclosure"))
    out = []
    with Session(ws.engine) as session:
        rule_ids = sorted(set(session.scalars(select(CohortRun.rule_id))))
        for rule_id in rule_ids:
            run = _latest_run(session, rule_id)
            entries = session.scalars(select(CohortEntry).where(CohortEntry.run_id == run.id)).all()
            bands = {"under 18": 0, "18-24": 0, "25 and over": 0, "age unknown": 0}
            for e in entries:
                age = e.age_at_last_event
                bands["age unknown" if age is None else "under 18" if age < 18 else "18-24" if age < 25
                      else "25 and over"] += 1
            counts = {"listed": len(entries), **bands}
            hidden = set()
            if tier != "analyst":
                hidden = suppress(counts, [("listed", list(bands))], rule).suppressed
            out.append({"rule": rule_id, "version": run.rule_version, "list_role": run.list_role,
                        "as_at": run.as_at.isoformat(), "tier": tier, "sdc_rule": rule.id if tier != "analyst" else None,
                        **{k: (None if k in hidden else v) for k, v in counts.items()},
                        "suppressed": sorted(hidden),
                        "pending_review": None if tier != "analyst" else sum(e.decision == "pending" for e in entries)})
    result = {"tier": tier, "cohorts": out}
    if not out:  # the CLI refuses with this line; a report simply has no cohort section
        result["note"] = NO_LISTS
    return result


NO_LISTS = "no cohort list has been built: run `vrp cohorts build` first (after `vrp link partners`)"
