"""`vrp explain CRIME_REF`: why one crime is or is not serious violence under each definition."""
from __future__ import annotations

from vrp.classify import definitions_in_use
from vrp.definitions import RecordNotFound, explain
from vrp.errors import VrpError
from vrp.lake.read import loaded_datasets
from vrp.query import KEY_COLUMN, open_lake


def explain_crime(ws, crime_ref: str, ids: list[str] | None = None) -> dict:
    con = open_lake(ws)
    loaded = loaded_datasets(con)
    definitions = [d for d in definitions_in_use(ws, ids) if d.dataset in loaded and d.dataset in KEY_COLUMN]
    explanations, found_in = [], set()
    for defn in definitions:
        try:
            result = explain(con, defn.dataset, defn, KEY_COLUMN[defn.dataset], crime_ref)
        except RecordNotFound:
            continue
        found_in.add(defn.dataset)
        explanations.extend(result if isinstance(result, list) else [result])
    if not explanations:
        searched = ", ".join(sorted({d.dataset for d in definitions})) or "no crime data loaded"
        raise VrpError(f"no crime with reference {crime_ref!r} in {searched}")
    return {"crime_ref": crime_ref, "datasets": sorted(found_in), "explanations": explanations}
