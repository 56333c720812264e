"""Classifying the loaded crimes by serious-violence definitions (`vrp classify`).

Counts classify on the fly with the same SQL; this command writes the result into the lake as a
versioned dataset (`classifications`: key, definition id and version, match, rules matched) so
that every published figure can be traced to the rule that put each crime in it, and it shows
definitions side by side with their overlap.
"""
from __future__ import annotations

from datetime import date
from itertools import combinations

import pyarrow as pa

from vrp.definitions import Definition, get_definition, is_match_sql, load_definitions, matched_rules_sql
from vrp.errors import VrpError
from vrp.lake.read import DATASET_INFO, loaded_datasets
from vrp.query import KEY_COLUMN, open_lake

SCHEMA = pa.schema([("dataset", pa.string()), ("key", pa.string()), ("month", pa.string()),
                    ("definition_id", pa.string()), ("definition_version", pa.string()), ("is_match", pa.bool_()),
                    ("rules_matched", pa.list_(pa.string())), ("source_file", pa.string()),
                    ("ingest_run", pa.string()), ("as_at", pa.date32())])
DATASET_INFO.setdefault("classifications", dict(
    description="Serious-violence classification of each crime, per definition version",
    classification="OFFICIAL-SENSITIVE", access_tier="analyst", personal_data=False))


def definitions_in_use(ws, ids: list[str] | None) -> list[Definition]:
    if ids:
        return [get_definition(i, [ws.definitions_dir]) for i in ids]
    configured = ws.config.get("definitions", {}).get("in_use")
    available = load_definitions([ws.definitions_dir])
    return [available[i] for i in configured if i in available] if configured else list(available.values())


def classify_workspace(ws, ids: list[str] | None = None, write: bool = True) -> dict:
    con = open_lake(ws)
    loaded = loaded_datasets(con)
    definitions = [d for d in definitions_in_use(ws, ids) if d.dataset in loaded and d.dataset in KEY_COLUMN]
    if not definitions:
        raise VrpError("nothing to classify: no loaded dataset matches the definitions in use")
    for dataset in sorted({d.dataset for d in definitions}):
        _classify_dataset(con, dataset, [d for d in definitions if d.dataset == dataset])
    results = [_summarise(con, d) for d in definitions]
    overlaps = [_overlap(con, a, b) for a, b in combinations(definitions, 2) if a.dataset == b.dataset]
    run_id = _write(ws, con, definitions) if write else None
    return {"definitions": results, "overlaps": overlaps, "run_id": run_id}


def _classify_dataset(con, dataset: str, definitions: list[Definition]) -> None:
    """One scan of the dataset, one match column and one rules column per definition, so that
    definitions are compared row by row without relying on the order of separate scans."""
    columns = ", ".join(f"{is_match_sql(d)} AS {_match(d)}, {matched_rules_sql(d)} AS {_rules(d)}" for d in definitions)
    con.execute(f"CREATE TEMP TABLE cls_{dataset} AS SELECT CAST({KEY_COLUMN[dataset]} AS VARCHAR) AS key, month, "
                f"{columns} FROM {dataset}")


def _ident(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text)


def _match(defn: Definition) -> str:
    return f"match_{_ident(defn.id)}"


def _rules(defn: Definition) -> str:
    return f"rules_{_ident(defn.id)}"


def _summarise(con, defn: Definition) -> dict:
    table = f"cls_{defn.dataset}"
    total, matched = con.execute(f"SELECT count(*), count(*) FILTER (WHERE {_match(defn)}) FROM {table}").fetchone()
    rules = dict(con.execute(f"SELECT r, count(*) FROM (SELECT unnest({_rules(defn)}) AS r FROM {table}) GROUP BY r").fetchall())
    return {"definition": defn.id, "version": defn.version, "name": defn.name, "kind": defn.kind,
            "dataset": defn.dataset, "records": total, "matched": matched,
            "rules": [{"rule": r.id, "label": r.label, "records": rules.get(r.id, 0)} for r in defn.rules],
            "limits": defn.limits or None}


def _overlap(con, a: Definition, b: Definition) -> dict:
    x, y = _match(a), _match(b)
    both, only_a, only_b = con.execute(f"""SELECT count(*) FILTER (WHERE {x} AND {y}),
        count(*) FILTER (WHERE {x} AND NOT {y}), count(*) FILTER (WHERE {y} AND NOT {x}) FROM cls_{a.dataset}""").fetchone()
    return {"a": a.id, "b": b.id, "both": both, "only_a": only_a, "only_b": only_b}


def _write(ws, con, definitions: list[Definition]) -> int | None:
    from vrp.lake import FileLoad, Load  # here: the writing side is not needed to read definitions

    as_at = con.execute("SELECT max(as_at) FROM (" + " UNION ALL ".join(
        f"SELECT max(as_at) AS as_at FROM {d}" for d in sorted({x.dataset for x in definitions})) + ")").fetchone()[0]
    with Load(ws, "classifications", SCHEMA, as_at or date.today(), "classify") as load:
        for defn in definitions:
            table = con.execute(f"""SELECT '{defn.dataset}' AS dataset, key, month, '{defn.id}' AS definition_id,
                ? AS definition_version, {_match(defn)} AS is_match, {_rules(defn)} AS rules_matched,
                'classify' AS source_file, '{load.uuid}' AS ingest_run, DATE '{load.as_at}' AS as_at
                FROM cls_{defn.dataset}""", [defn.version]).to_arrow_table()
            load.write(defn.id, defn.version, table)
            file_load = FileLoad(path=ws.root / f"classify-{defn.id}", sha256=f"{load.uuid}-{defn.id}", size=0)
            file_load.rows_loaded = table.num_rows
            load.add_file(file_load)
        return load.commit()
