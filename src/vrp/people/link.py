"""`vrp link partners` and `vrp link dedupe`: linkage as the user runs it.

partners: the identities of every current person record (an audited read) -> Splink -> clusters ->
stable person ids -> dataset `person_links` in the lake (record_key, dataset, person_id; no
identities) and a link run in the app state with the trained model and a quality report.
dedupe: any person CSV -> record_id, person_id, with the same linkage and the same id rules.
"""
from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from vrp.audit import current_user
from vrp.errors import InputError, NothingToShow
from vrp.lake import FileLoad, Load
from vrp.lake.read import connect, loaded_datasets
from vrp.people.identities import read_identities
from vrp.people.ids import assign_person_ids
from vrp.people.linkage import PERSON_COLUMNS, link_records, load_settings
from vrp.people.quality import (age_band, error_rates_by, link_rates_by, pairwise_scores, record_errors,
                                weight_histogram)
from vrp.store import LinkRun

LINKS_SCHEMA = pa.schema([("record_key", pa.string()), ("dataset", pa.string()), ("person_id", pa.string()),
                          ("link_run", pa.string()), ("as_at", pa.date32())])


def previous_links(ws) -> pd.DataFrame | None:
    con = connect(ws)
    try:
        if "person_links" not in loaded_datasets(con):
            return None
        return con.execute("SELECT record_key, person_id FROM person_links").df()
    finally:
        con.close()


def latest_model(ws) -> dict | None:
    with Session(ws.engine) as session:
        run = session.scalars(select(LinkRun).order_by(LinkRun.id.desc()).limit(1)).first()
        return json.loads(run.model) if run else None


def link_partners(ws, purpose: str | None, settings_name: str | None = None, threshold: float | None = None,
                  backend: str = "duckdb", retrain: bool = False, truth: Path | None = None,
                  as_at: date | None = None, progress=None) -> dict:
    """Link every current person record across the partnership's datasets into stable person ids."""
    as_at = as_at or date.today()
    settings = load_settings(settings_name, tuple(d for d in [ws.root / "linkage"] if d.is_dir())).with_threshold(
        threshold or ws.config.get("linkage", {}).get("threshold"))
    people = read_identities(ws, purpose, action="link partners", detail={"settings": settings.id})
    if people.empty:
        raise NothingToShow("no person-level records loaded: run `vrp ingest people DATASET FILES` first")
    if len(people) < 2:
        raise NothingToShow("only one person-level record is loaded: linkage needs at least two")
    records = pd.DataFrame({"record_id": people["record_key"], "first_name": people["first_name"],
                            "surname": people["surname"], "dob": people["dob"].astype("string"),
                            "sex": people["sex"], "postcode": people["postcode"], "address": people["address"],
                            "person_key": people["person_key"], "dataset": people["dataset"]})
    model = None if retrain else latest_model(ws)
    result = link_records(records, settings, backend=backend, model=model, progress=progress)
    clusters = result.clusters.rename(columns={"record_id": "record_key"})
    links, changes = assign_person_ids(clusters, previous_links(ws))
    links = links.merge(people[["record_key", "dataset"]], on="record_key")
    run_uuid = uuid.uuid4().hex
    report = quality_report(people, links, result, truth, as_at)
    summary = {"link_run": run_uuid, "as_at": as_at.isoformat(), "settings": f"{settings.id} v{settings.version}",
               "threshold": settings.threshold, "backend": backend, "model": "reused" if model else "trained",
               "records": len(links), "people": changes["people"], "by_dataset": _by_dataset(links),
               "ids": changes, "seconds": {k: round(v, 2) for k, v in result.seconds.items()}, "quality": report}
    _write(ws, links, run_uuid, as_at, settings, backend, result.model, summary)
    return summary


def _by_dataset(links: pd.DataFrame) -> list[dict]:
    people_in = links.groupby("dataset")["person_id"].nunique()
    return [{"dataset": d, "records": int(n), "people": int(people_in[d])}
            for d, n in links.groupby("dataset").size().items()]


def _write(ws, links: pd.DataFrame, run_uuid: str, as_at: date, settings, backend: str, model: dict,
           summary: dict) -> None:
    table = pa.Table.from_pandas(links.assign(link_run=run_uuid, as_at=as_at)[LINKS_SCHEMA.names],
                                 schema=LINKS_SCHEMA, preserve_index=False)
    with Load(ws, "person_links", LINKS_SCHEMA, as_at, "link partners") as load:
        load.write("linkage", "all", table)
        file_load = FileLoad(path=ws.root / "link-partners", sha256=f"link-{run_uuid}", size=0)
        file_load.rows_loaded = table.num_rows
        load.add_file(file_load)
        load.commit()
    with Session(ws.engine) as session, session.begin():
        session.add(LinkRun(uuid=run_uuid, at=datetime.now(), as_at=as_at, user=current_user(),
                            settings_id=settings.id, settings_version=settings.version, backend=backend,
                            threshold=settings.threshold, records=summary["records"], people=summary["people"],
                            model=json.dumps(model), summary=json.dumps(summary, default=str)))


def quality_report(people: pd.DataFrame, links: pd.DataFrame, result, truth: Path | None, as_at: date) -> dict:
    """Match-weight distribution and rates by age band (at the as-at date), sex and agency; with a
    truth file (dataset, record_id, person), pairwise precision, recall and F1 and error rates by group."""
    frame = people.merge(links[["record_key", "person_id"]], on="record_key")
    dob = pd.to_datetime(frame["dob"], errors="coerce")
    groups = {"age_band": age_band(((pd.Timestamp(as_at) - dob).dt.days / 365.25).floordiv(1)),
              "sex": frame["sex"], "agency": frame["dataset"]}
    report = {"match_weights": weight_histogram(result.pairs),
              "link_rates": [row for name, g in groups.items() for row in link_rates_by(g, frame["person_id"], name)]}
    if truth is None:
        return report
    labels = read_truth(truth)
    frame = frame.merge(labels, on=["dataset", "record_id"], how="left")
    report["truth_file"] = str(truth)
    report["records_without_truth"] = int(frame["person"].isna().sum())
    report["pairwise"] = pairwise_scores(frame["person_id"], frame["person"])
    errors = record_errors(frame["person_id"], frame["person"].fillna(frame["record_key"]))
    groups = {k: pd.Series(v.to_numpy(), index=frame.index) for k, v in groups.items()}
    report["error_rates"] = [row for name, g in groups.items() for row in error_rates_by(g, errors, name)]
    return report


def _read_csv(path: Path, **options) -> pd.DataFrame:
    """A CSV of strings, or a one-line error naming the file."""
    try:
        return pd.read_csv(path, dtype="string", **options)
    except (OSError, ValueError) as exc:
        raise InputError(path, f"cannot be read as CSV ({exc})") from None


def read_truth(path: Path) -> pd.DataFrame:
    """Ground truth or clerical labels: dataset, record_id, person (the true person of each record)."""
    labels = _read_csv(path)
    missing = {"dataset", "record_id", "person"} - set(labels.columns)
    if missing:
        raise InputError(path, f"truth file needs columns dataset, record_id, person (missing {', '.join(sorted(missing))})",
                         line=1)
    return labels[["dataset", "record_id", "person"]].drop_duplicates(["dataset", "record_id"])


# ---- vrp link dedupe FILE ---------------------------------------------------------------------


def read_person_csv(path: Path) -> pd.DataFrame:
    frame = _read_csv(path, keep_default_na=False, na_values=[""])
    if "record_id" not in frame.columns:
        raise InputError(path, f"header has no record_id column; it has: {', '.join(frame.columns)}", line=1)
    blank = frame["record_id"].isna()
    if blank.any():
        raise InputError(path, "record_id is blank", line=int(blank.to_numpy().argmax()) + 2, field="record_id")
    dup = frame["record_id"].duplicated()
    if dup.any():
        line = int(dup.to_numpy().argmax()) + 2
        raise InputError(path, f"record_id {frame['record_id'].iloc[line - 2]!r} appears twice", line=line,
                         field="record_id")
    known = [c for c in PERSON_COLUMNS if c in frame.columns and c not in ("person_key", "dataset")]
    if not known:
        raise InputError(path, "no person columns: expected some of first_name, surname, dob, sex, postcode, "
                               "address, town, birth_place, email, national_id", line=1)
    return frame


def dedupe_file(path: Path, out: Path, settings_name: str | None = None, threshold: float | None = None,
                backend: str = "duckdb", previous: Path | None = None, truth_column: str | None = None,
                progress=None) -> dict:
    """Deduplicate one person file; with --previous, people keep the ids of an earlier output."""
    frame = read_person_csv(path)
    if len(frame) < 2:
        raise InputError(path, f"{len(frame)} record{'' if len(frame) == 1 else 's'}: deduplication needs at least two")
    if truth_column and truth_column not in frame.columns:
        raise InputError(path, f"no column {truth_column!r} for the truth", line=1)
    settings = load_settings(settings_name).with_threshold(threshold)
    columns = ["record_id"] + [c for c in PERSON_COLUMNS if c in frame.columns and c not in ("person_key", "dataset")]
    result = link_records(frame[columns], settings, backend=backend, progress=progress)
    earlier = read_person_csv_ids(previous) if previous is not None else None
    links, changes = assign_person_ids(result.clusters.rename(columns={"record_id": "record_key"}), earlier)
    links = links.rename(columns={"record_key": "record_id"})
    ordered = frame[["record_id"]].merge(links, on="record_id", how="left")
    tmp = out.with_name(out.name + ".tmp")
    ordered.to_csv(tmp, index=False)
    tmp.replace(out)
    summary = {"input": str(path), "output": str(out), "settings": f"{settings.id} v{settings.version}",
               "threshold": settings.threshold, "backend": backend, "records": len(ordered),
               "people": int(ordered["person_id"].nunique()), "comparisons": result.comparisons_used,
               "ids": changes, "seconds": {k: round(v, 2) for k, v in result.seconds.items()}}
    if truth_column:
        truth = frame.set_index("record_id")[truth_column]
        summary["pairwise"] = pairwise_scores(ordered["person_id"], ordered["record_id"].map(truth))
    return summary


def read_person_csv_ids(path: Path) -> pd.DataFrame:
    frame = _read_csv(path)
    if not {"record_id", "person_id"} <= set(frame.columns):
        raise InputError(path, "an earlier output needs columns record_id, person_id", line=1)
    return frame.rename(columns={"record_id": "record_key"})[["record_key", "person_id"]]
