"""The demo partnership's person-level files through ingest, linkage and cohorts, checked against
the generator's ground truth: linkage quality, stable ids across incremental runs, cohorts equal to
the truth, and audit events exactly at the identifiable reads."""
from __future__ import annotations

import json
from datetime import date, timedelta

import pandas as pd
import pytest
from sqlalchemy import text

from vrp.audit import events
from vrp.demo import generate
from vrp.errors import VrpError
from vrp.ingest.extract import ingest_police_extract
from vrp.ingest.people import ingest_people
from vrp.ingest.values import pseudonymiser
from vrp.lake.read import connect
from vrp.people import cohort_store
from vrp.people.link import link_partners
from tests.conftest import make_workspace

pytestmark = pytest.mark.backends  # app state on SQLite and on PostgreSQL

AS_AT = date(2025, 12, 31)


def _ingest(ws, manifest, names):
    out = {}
    for path in manifest.people:
        dataset = path.stem
        if dataset in names:
            mapping = str(manifest.people_mapping) if dataset == "people_education" else None
            out[dataset] = ingest_people(ws, dataset, [path], mapping)
    return out


@pytest.fixture(scope="module")
def demo(tmp_path_factory, backend):
    base = tmp_path_factory.mktemp("people")
    manifest = generate(base / "files", seed=11, years=(2024, 2025), scale=0.15)
    ws = make_workspace(base / "ws", backend, "Wessex")
    ingest_police_extract(ws, manifest.extracts, str(manifest.mapping))
    truth = json.loads(manifest.ground_truth.read_text())["people"]
    first = _ingest(ws, manifest, {"people_police", "people_youth_justice", "people_education"})
    run1 = link_partners(ws, "demo linkage", truth=manifest.people_truth, as_at=AS_AT)
    links1 = connect(ws).execute("SELECT record_key, person_id FROM person_links").df()
    second = _ingest(ws, manifest, {"people_probation", "people_ed"})
    run2 = link_partners(ws, "demo linkage", truth=manifest.people_truth, as_at=AS_AT)
    links2 = connect(ws).execute("SELECT record_key, person_id FROM person_links").df()
    run3 = link_partners(ws, "demo linkage", as_at=AS_AT)
    audit_after_linking = events(ws)
    built = cohort_store.build(ws, as_at=AS_AT)
    return dict(ws=ws, manifest=manifest, truth=truth, loads={**first, **second}, runs=(run1, run2, run3),
                links=(links1, links2), audit_after_linking=audit_after_linking, built=built)


def test_rows_in_equal_loaded_plus_quarantined_at_the_true_lines(demo):
    for dataset, summary in demo["loads"].items():
        name = f"{dataset}.csv"
        expected = demo["truth"]["files"][name]
        assert summary["rows_in"] == expected["rows"]
        assert summary["rows_quarantined"] == expected["bad_rows"]
        assert sorted(q["line"] for q in summary["quarantine_sample"]) == sorted(f["line"] for f in demo["truth"]["faults"][name])


def test_linkage_against_ground_truth(demo):
    quality = demo["runs"][1]["quality"]
    assert quality["records_without_truth"] == 0
    assert quality["pairwise"]["precision"] >= 0.99 and quality["pairwise"]["recall"] >= 0.99
    groups = {(r["by"], r["group"]) for r in quality["error_rates"]}
    assert {("agency", "people_ed"), ("sex", "female"), ("age_band", "under 18")} <= groups


def test_incremental_runs_keep_existing_person_ids(demo):
    run1, run2, run3 = demo["runs"]
    links1, links2 = demo["links"]
    assert run2["model"] == "reused" and run2["ids"]["records_new"] == run2["records"] - run1["records"]
    both = links1.merge(links2, on="record_key", suffixes=("_1", "_2"))
    changed = both[both["person_id_1"] != both["person_id_2"]]
    # an id only changes when new records join two known people: the retired id's records move to the survivor
    assert set(changed["person_id_1"]) == set(run2["ids"]["ids_retired"])
    assert len(changed) == run2["ids"]["records_changed_id"] <= 0.001 * len(both)
    assert run2["ids"]["ids_kept"] == run1["people"] - len(run2["ids"]["ids_retired"])
    # a re-run with nothing new changes nothing
    assert run3["ids"]["records_changed_id"] == 0 and run3["ids"]["ids_new"] == 0 and run3["ids"]["ids_retired"] == []


def _true_person(demo) -> pd.Series:
    ws = demo["ws"]
    truth = pd.read_csv(demo["manifest"].people_truth, dtype=str)
    pseudonymise = pseudonymiser(ws.pseudonym_key)
    truth["record_key"] = [pseudonymise(f"{d}:{r}") for d, r in zip(truth["dataset"], truth["record_id"])]
    links = connect(ws).execute("SELECT record_key, person_id FROM person_links").df().merge(truth, on="record_key")
    return links.groupby("person_id")["person"].agg(lambda s: s.mode().iloc[0])


def test_cohorts_equal_the_generators_ground_truth(demo):
    truth = demo["truth"]["cohorts"]["cohorts"]
    person = _true_person(demo)
    lists = {c["rule"]: cohort_store.show(demo["ws"], c["rule"], "test against ground truth")["entries"]
             for c in demo["built"]["cohorts"]}
    for rule in ("repeat-sv-perpetrators", "repeat-victims", "hkc"):
        got = {person[e["person_id"]]: e for e in lists[rule]}
        expected = {m["person"]: m for m in truth[rule]["members"]}
        assert set(got) == set(expected), rule
        assert sum(e["age_at_last_event"] is not None and e["age_at_last_event"] < 18 for e in got.values()) == \
            truth[rule]["under_18"]
    for p, e in ((person[e["person_id"]], e) for e in lists["hkc"]):
        assert e["score"] == pytest.approx({m["person"]: m["score"] for m in truth["hkc"]["members"]}[p])
    # rfg: the top 20; people tied at the cut-off score may be ordered differently by id
    rfg, cutoff = lists["rfg"], truth["rfg"]["cutoff_score"]
    above = {person[e["person_id"]] for e in rfg if e["score"] > cutoff}
    assert above == {m["person"] for m in truth["rfg"]["members"] if m["score"] > cutoff}
    assert len(rfg) == 20 and min(e["score"] for e in rfg) == cutoff
    first = next(m for m in truth["rfg"]["members"])
    top = next(e for e in rfg if person[e["person_id"]] == first["person"])
    c = top["components"]
    assert (c["recency"], c["frequency"], c["gravity"]) == (first["R"], first["F"], first["G"])
    overlap = demo["built"]["victim_offender_overlap"]["both"]
    assert abs(overlap - truth["victim-offender-overlap"]["people"]) <= 0.02 * truth["victim-offender-overlap"]["people"]


def test_victims_and_perpetrators_never_share_a_list(demo):
    for c in demo["built"]["cohorts"]:
        entries = cohort_store.show(demo["ws"], c["rule"], "check roles")["entries"]
        assert {c["list_role"]} == ({"victim"} if c["rule"] == "repeat-victims" else {"perpetrator"})
        assert entries  # every default list has people in the demo


def test_audit_events_exactly_at_identifiable_reads(demo):
    ws = demo["ws"]
    reads = [e for e in demo["audit_after_linking"] if e["action"] == "link partners"]
    assert len(reads) == 3 and all(e["purpose"] == "demo linkage" for e in reads)
    before = len(events(ws))
    cohort_store.summary(ws, "partner")
    cohort_store.summary(ws, "analyst")
    assert len(events(ws)) == before  # aggregates are not identifiable reads
    with pytest.raises(VrpError, match="purpose"):
        cohort_store.show(ws, "hkc", None)
    assert len(events(ws)) == before
    data = cohort_store.show(ws, "hkc", "panel meeting 2026-01-12", identify=True)
    new = events(ws)[: len(events(ws)) - before]
    assert [e["action"] for e in reversed(new)] == ["cohort read", "cohort identify"]
    assert all(e["purpose"] == "panel meeting 2026-01-12" for e in new)
    assert all(e.get("surname") and e.get("dob") for e in data["entries"])


def test_review_removal_deletes_and_retention_purges(demo, tmp_path):
    ws = demo["ws"]
    entries = cohort_store.show(ws, "repeat-sv-perpetrators", "panel")["entries"]
    keep, drop = entries[0]["person_id"], entries[1]["person_id"]
    accepted = cohort_store.review(ws, "repeat-sv-perpetrators", keep, "accept", "A. Analyst (YOS)", "agreed plan",
                                   "panel")
    assert accepted["decision"] == "accepted"
    removed = cohort_store.review(ws, "repeat-sv-perpetrators", drop, "remove", "B. Chair (CSP)", "no longer active",
                                  "panel")
    assert removed["deleted"]
    after = cohort_store.show(ws, "repeat-sv-perpetrators", "panel")["entries"]
    ids = [e["person_id"] for e in after]
    assert drop not in ids and len(ids) == len(entries) - 1
    assert next(e for e in after if e["person_id"] == keep)["decision"] == "accepted"
    with ws.engine.connect() as con:  # deleted, not hidden: no row anywhere
        assert con.execute(text("SELECT count(*) FROM cohort_entries WHERE person_id = :p"), {"p": drop}).scalar() == 0
    log = events(ws, "cohort removal")
    assert log[0]["detail"]["person_id"] == drop and "score" not in log[0]["detail"]
    # rebuilding carries the in-date decision forward and does not bring back a shadow copy
    rebuilt = cohort_store.build(ws, ["repeat-sv-perpetrators"], as_at=AS_AT)
    assert rebuilt["cohorts"][0]["decisions_carried"] == 1
    # past the retention date every entry is deleted and the deletion logged
    later = date.today() + timedelta(days=366)
    purged = cohort_store.purge_expired(ws, later)
    assert purged > 0
    with ws.engine.connect() as con:
        assert con.execute(text("SELECT count(*) FROM cohort_entries")).scalar() == 0
    assert events(ws, "cohort retention deletion")[0]["rows"] == purged
