"""Stable person ids across linkage runs.

A linkage run gives clusters of records; people downstream (cohort reviews, case notes, panel
minutes) refer to a person id. Re-running linkage must not renumber people: a cluster keeps the id
that most of its records already had; a record new to the partnership joins an existing cluster and
takes its id; only a cluster with no previously linked record gets a new id. When new evidence
joins two known people, the id held by more records survives and the other is retired (reported).
"""
from __future__ import annotations

import hashlib

import pandas as pd


def new_person_id(founding_record: str) -> str:
    """An id derived from the cluster's first record key: deterministic, opaque, never sequential
    (a sequence would leak how many people the partnership holds and in what order they arrived)."""
    return "P" + hashlib.sha256(founding_record.encode("utf-8")).hexdigest()[:12].upper()


def assign_person_ids(clusters: pd.DataFrame, previous: pd.DataFrame | None = None) -> tuple[pd.DataFrame, dict]:
    """clusters: record_key, cluster_id; previous: record_key, person_id (the last run's links).

    Returns (record_key, person_id) for every clustered record, and a report of what changed."""
    clusters = clusters[["record_key", "cluster_id"]].astype("string")
    prev = (previous[["record_key", "person_id"]].astype("string") if previous is not None and len(previous)
            else pd.DataFrame({"record_key": pd.Series(dtype="string"), "person_id": pd.Series(dtype="string")}))
    founder = clusters.groupby("cluster_id")["record_key"].min()
    held = clusters.merge(prev, on="record_key", how="inner")
    votes = held.groupby(["cluster_id", "person_id"]).size().rename("records").reset_index()
    votes["founder"] = votes["cluster_id"].map(founder)
    votes = votes.sort_values(["records", "person_id", "founder"], ascending=[False, True, True], kind="stable")

    chosen: dict[str, str] = {}
    taken: set[str] = set()
    for cluster_id, person_id in zip(votes["cluster_id"], votes["person_id"]):
        if cluster_id not in chosen and person_id not in taken:
            chosen[cluster_id] = person_id
            taken.add(person_id)
    kept = len(chosen)
    for cluster_id in founder.index:
        if cluster_id not in chosen:
            chosen[cluster_id] = new_person_id(founder[cluster_id])

    out = pd.DataFrame({"record_key": clusters["record_key"],
                        "person_id": clusters["cluster_id"].map(chosen).astype("string")})
    out = out.sort_values("record_key", ignore_index=True)
    before = prev.set_index("record_key")["person_id"]
    now = out.set_index("record_key")["person_id"]
    common = before.index.intersection(now.index)
    report = {
        "records": len(out), "people": int(out["person_id"].nunique()),
        "records_new": int((~now.index.isin(before.index)).sum()),
        "ids_kept": kept, "ids_new": len(chosen) - kept,
        "ids_retired": sorted(set(prev["person_id"]) - taken),
        "records_changed_id": int((before.loc[common] != now.loc[common]).sum()),
    }
    return out, report
