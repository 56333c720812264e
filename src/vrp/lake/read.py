"""Reading the lake: the current snapshot of every dataset as a DuckDB view."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vrp.errors import WorkspaceError
from vrp.store import Snapshot

if TYPE_CHECKING:
    import duckdb

# Person-level partner datasets (vrp.ingest.people): pseudonymised in the lake, identities kept apart.
PERSON_DATASETS = {
    "people_police": "Police person-to-crime links (suspects, offenders, victims)",
    "people_youth_justice": "Youth justice service events (outcomes, orders)",
    "people_education": "School suspensions and permanent exclusions",
    "people_probation": "Probation orders and licences",
    "people_ed": "Emergency department assault attendances with patient identity (where a DSA allows)",
}

# The dataset register's defaults: what each dataset is and who may read it.
DATASET_INFO = {
    "police_uk": dict(description="police.uk street-level crime (open data)", classification="OFFICIAL",
                      access_tier="public", personal_data=False),
    "crimes": dict(description="Force crime extract (pseudonymised, record level)", classification="OFFICIAL-SENSITIVE",
                   access_tier="analyst", personal_data=True),
    "lsoa_lookup": dict(description="LSOA to local authority (district) lookup", classification="OFFICIAL",
                        access_tier="public", personal_data=False),
    "boundaries": dict(description="Area boundaries (polygons)", classification="OFFICIAL",
                       access_tier="public", personal_data=False),
    "population": dict(description="Population by LSOA and age band", classification="OFFICIAL",
                       access_tier="public", personal_data=False),
    "deprivation": dict(description="Index of Multiple Deprivation by LSOA", classification="OFFICIAL",
                        access_tier="public", personal_data=False),
    "homicides": dict(description="Homicide records / Homicide Index (one row per victim, pseudonymised)",
                      classification="OFFICIAL-SENSITIVE", access_tier="analyst", personal_data=True),
    "ed_attendances": dict(description="Emergency department assault attendances (ISTV, anonymised record level)",
                           classification="OFFICIAL-SENSITIVE", access_tier="analyst", personal_data=False),
    "admissions": dict(description="Hospital admissions for assault (NHS aggregate counts)", classification="OFFICIAL",
                       access_tier="partner", personal_data=False),
    **{name: dict(description=f"{text} (pseudonymised person level)", classification="OFFICIAL-SENSITIVE",
                  access_tier="analyst", personal_data=True) for name, text in PERSON_DATASETS.items()},
    "person_links": dict(description="Linked person ids: which records are one person (pseudonymised)",
                         classification="OFFICIAL-SENSITIVE", access_tier="analyst", personal_data=True),
}

HINTS = {
    "police_uk": "vrp ingest police-uk FILES",
    "crimes": "vrp ingest police-extract FILES --mapping NAME",
    "lsoa_lookup": "vrp ingest reference lsoa-lookup FILE",
    "boundaries": "vrp ingest reference boundaries FILE",
    "population": "vrp ingest reference population FILE",
    "deprivation": "vrp ingest reference deprivation FILE",
    "homicides": "vrp ingest homicides FILES [--mapping NAME]",
    "ed_attendances": "vrp ingest ed-attendances FILES [--mapping NAME]",
    "admissions": "vrp ingest admissions FILES [--mapping NAME]",
    **{name: f"vrp ingest people {name} FILES [--mapping NAME]" for name in PERSON_DATASETS},
    "person_links": "vrp link partners",
}


def current_snapshots(ws, dataset: str | None = None) -> list[Snapshot]:
    """Per (dataset, source, period), the snapshot with the latest as-at date (then the latest run),
    among those loaded on or before `ws.as_at` when the workspace is read as at a date."""
    with Session(ws.engine) as session:
        ranked = select(
            Snapshot.id,
            func.row_number().over(
                partition_by=(Snapshot.dataset, Snapshot.source, Snapshot.period),
                order_by=(Snapshot.as_at.desc(), Snapshot.run_id.desc()),
            ).label("rank"),
        )
        if dataset:
            ranked = ranked.where(Snapshot.dataset == dataset)
        if ws.as_at is not None:
            ranked = ranked.where(Snapshot.as_at <= ws.as_at)
        sub = ranked.subquery()
        rows = session.scalars(
            select(Snapshot).join(sub, Snapshot.id == sub.c.id).where(sub.c.rank == 1)
            .order_by(Snapshot.dataset, Snapshot.period, Snapshot.source)
        ).all()
        session.expunge_all()
        return list(rows)


def connect(ws) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with one view per loaded dataset over its current snapshots."""
    import duckdb  # here: commands that only read the register (vrp status) do not need it

    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    by_dataset: dict[str, list[str]] = {}
    for snap in current_snapshots(ws):
        by_dataset.setdefault(snap.dataset, []).append(str(ws.lake / snap.path))
    for dataset, files in by_dataset.items():
        listing = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
        con.execute(f"CREATE VIEW {dataset} AS SELECT * FROM read_parquet([{listing}], union_by_name = true, hive_partitioning = false)")
    con.execute("CREATE TABLE _loaded(dataset VARCHAR)")
    if by_dataset:  # literals, not bound parameters: binding Python values makes DuckDB import pandas
        con.execute("INSERT INTO _loaded VALUES " + ", ".join("('" + d.replace("'", "''") + "')" for d in by_dataset))
    return con


def loaded_datasets(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in con.execute("SELECT dataset FROM _loaded").fetchall()}


def require_dataset(con: duckdb.DuckDBPyConnection, dataset: str) -> None:
    if dataset not in loaded_datasets(con):
        raise WorkspaceError(f"no {dataset} data loaded: run `{HINTS.get(dataset, 'vrp ingest')}` first")
