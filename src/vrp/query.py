"""The crime datasets as analysts query them: current snapshot, district from the LSOA lookup,
and whether each row is inside the partnership area."""
from __future__ import annotations

import re

import duckdb

from vrp import coverage as cover
from vrp.definitions import Definition, get_definition, is_match_sql
from vrp.definitions.engine import sql_literal
from vrp.definitions.offences import offence_codes
from vrp.errors import NothingToShow, VrpError
from vrp.lake import connect, require_dataset
from vrp.lake.read import loaded_datasets

CRIME_DATASETS = ("police_uk", "crimes")
# Record-level datasets located by an LSOA code, which open_lake gives a district and in_area.
LOCATED_DATASETS = CRIME_DATASETS + ("homicides", "ed_attendances")
# Record-level datasets and the column that names a record (aggregates such as admissions have none).
KEY_COLUMN = {"police_uk": "crime_id", "crimes": "crime_ref", "homicides": "case_ref", "ed_attendances": "record_id"}
# Fields `vrp counts --by` accepts: name -> (SQL over the enriched relation, datasets that have it)
FIELDS = {
    "district": ("district_name", CRIME_DATASETS),
    "district_code": ("district_code", CRIME_DATASETS),
    "lsoa": ("lsoa_code", CRIME_DATASETS),
    "month": ("month", CRIME_DATASETS),
    "year": ("substr(month, 1, 4)", CRIME_DATASETS),
    "crime_type": ("crime_type", ("police_uk",)),
    "offence_code": ("offence_code", ("crimes",)),
    "offence_group": ("offence_group", ("crimes",)),
    "knife_flag": ("knife_flag", ("crimes",)),
    "location_type": ("location_type", ("crimes",)),
}
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def open_lake(ws) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection over the current lake, with the Home Office code table and area views."""
    con = connect(ws)
    codes = offence_codes()
    con.execute("CREATE TABLE ho_offences(code VARCHAR, description VARCHAR, offence_group VARCHAR, offence_subgroup VARCHAR)")
    # One statement of literals: bound parameters cost a call each, and make DuckDB import pandas.
    con.execute("INSERT INTO ho_offences VALUES " + ", ".join(
        "(" + ", ".join(sql_literal(v) for v in (c.code, c.description, c.offence_group, c.offence_subgroup)) + ")"
        for c in codes.values()))
    loaded = loaded_datasets(con)
    if "lsoa_lookup" in loaded:
        # One district per LSOA code; where both vintages hold a code, the newer one wins.
        con.execute("""CREATE VIEW lsoa_districts AS
            SELECT lsoa_code, arg_max(district_code, vintage) AS district_code,
                   arg_max(district_name, vintage) AS district_name, arg_max(lsoa_name, vintage) AS lookup_lsoa_name,
                   string_agg(DISTINCT vintage, ',' ORDER BY vintage) AS vintages
            FROM lsoa_lookup GROUP BY lsoa_code""")
        area = ws.area_districts
        in_area = ("d.district_code IN (" + ", ".join("'" + c.replace("'", "''") + "'" for c in area) + ")"
                   if area else "d.district_code IS NOT NULL")
        con.execute(f"CREATE VIEW area_lsoas AS SELECT d.* FROM lsoa_districts d WHERE {in_area}")
    for dataset in LOCATED_DATASETS:
        if dataset in loaded:
            con.execute(f"CREATE VIEW {dataset}_enriched AS {_enriched_sql(dataset, 'lsoa_lookup' in loaded)}")
    return con


def _enriched_sql(dataset: str, have_lookup: bool) -> str:
    extra, joins = [], []
    if have_lookup:
        extra += ["a.district_code", "a.district_name", "a.lsoa_code IS NOT NULL AS in_area"]
        joins.append("LEFT JOIN area_lsoas a ON a.lsoa_code = c.lsoa_code")
    else:
        extra += ["NULL::VARCHAR AS district_code", "NULL::VARCHAR AS district_name", "NULL::BOOLEAN AS in_area"]
    if dataset == "crimes":
        extra.append("o.offence_group")
        joins.append("LEFT JOIN ho_offences o ON o.code = c.offence_code")
    return f"SELECT c.*, {', '.join(extra)} FROM {dataset} c {' '.join(joins)}"


def choose_dataset(con, requested: str | None, fields: list[str], definitions: list[Definition]) -> str:
    """The dataset a question is about: as asked, else as the definition or fields imply, else what is loaded."""
    if requested:
        if requested not in CRIME_DATASETS:
            raise VrpError(f"unknown dataset '{requested}' (expected one of {', '.join(CRIME_DATASETS)})")
        return requested
    implied = {d.dataset for d in definitions}
    implied |= {FIELDS[f][1][0] for f in fields if f in FIELDS and len(FIELDS[f][1]) == 1}
    if len(implied) > 1:
        raise VrpError("the definitions and fields asked for belong to different datasets: "
                       f"{', '.join(sorted(implied))}")
    if implied:
        return implied.pop()
    loaded = [d for d in ("crimes", "police_uk") if d in loaded_datasets(con)]
    if not loaded:
        raise VrpError("no crime data loaded: run `vrp ingest police-uk` or `vrp ingest police-extract` first")
    return loaded[0]


def check_month(value: str | None, option: str) -> str | None:
    if value is not None and not MONTH.match(value):
        raise VrpError(f"{option} {value!r} is not a YYYY-MM month")
    return value


def require_records(ws, con, dataset: str, definitions: list[Definition]) -> None:
    """The dataset a question counts must be loaded; if not, say which definitions the loaded data have."""
    if dataset in loaded_datasets(con):
        return
    asked = [d for d in definitions if d.dataset == dataset]
    if asked:
        raise NothingToShow(cover.definition_not_loaded(ws, con, asked[0]))
    require_dataset(con, dataset)


def counts(ws, by: list[str], definition_ids: list[str] | None = None, start: str | None = None,
           end: str | None = None, dataset: str | None = None, all_statuses: bool = False,
           notes: list[str] | None = None) -> list[dict]:
    """Crimes counted by the given fields, optionally only those matching one or more definitions.

    With several definitions each group is counted once per definition, with a `definition` key.
    Force extracts count confirmed crimes only (as police statistics do) unless all_statuses.
    Months asked for with no data raise `NothingToShow` when none is loaded; otherwise `notes`
    gets one line naming the months left out, or, for a count of zero, what was looked at.
    """
    check_month(start, "--from"), check_month(end, "--to")
    unknown = [f for f in by if f not in FIELDS]
    if unknown:
        raise VrpError(f"unknown field '{unknown[0]}' for --by (expected: {', '.join(FIELDS)})")
    con = open_lake(ws)
    definitions = [get_definition(d, [ws.definitions_dir]) for d in (definition_ids or [])]
    dataset = choose_dataset(con, dataset, by, definitions)
    require_records(ws, con, dataset, definitions)
    if start and end and end < start:
        raise VrpError(f"--to {end} is before --from {start}")
    missing = cover.require_months(ws, dataset, start, end)
    wrong = [f for f in by if dataset not in FIELDS[f][1]]
    if wrong:
        raise VrpError(f"field '{wrong[0]}' does not exist in {dataset} data")
    if "district" in by or "district_code" in by:
        require_dataset(con, "lsoa_lookup")
    where = ["TRUE"]
    if start:
        where.append(f"month >= '{start}'")
    if end:
        where.append(f"month <= '{end}'")
    if dataset == "crimes" and not all_statuses:
        where.append("crime_status = 'confirmed'")
    select = ", ".join(f"{FIELDS[f][0]} AS {f}" for f in by)
    parts = []
    for defn in definitions or [None]:
        if defn is not None and defn.dataset != dataset:
            raise VrpError(f"definition '{defn.id}' classifies {defn.dataset} data, not {dataset}")
        match = is_match_sql(defn) if defn else "TRUE"
        label = f"'{defn.id}' AS definition, " if definition_ids and len(definition_ids) > 1 else ""
        cols = f"{label}{select}, " if select else label
        grouping = "GROUP BY ALL" if (select or label) else ""
        parts.append(f"SELECT {cols}count(*) AS count FROM {dataset}_enriched "
                     f"WHERE {' AND '.join(where)} AND ({match}) {grouping}")
    keys = (["definition"] if definition_ids and len(definition_ids) > 1 else []) + by
    order = "ORDER BY " + ", ".join(f"{k} NULLS LAST" for k in keys) if keys else ""
    result = con.execute(f"SELECT * FROM ({' UNION ALL '.join(parts)}) {order}")
    names = [d[0] for d in result.description]
    rows = [dict(zip(names, row)) for row in result.fetchall()]
    if notes is not None:
        zero = _zero_note(ws, con, dataset, definitions, rows, where, start, end)
        notes += [zero] if zero else [cover.gap_note(dataset, missing)] if missing else []
    return rows


def _zero_note(ws, con, dataset: str, definitions: list[Definition], rows: list[dict], where: list[str],
               start: str | None, end: str | None) -> str | None:
    """For a count of zero (or a definition that matched nothing), what was looked at."""
    several = len(definitions) > 1
    empty = [d.id for d in definitions
             if not sum(r["count"] for r in rows if not several or r["definition"] == d.id)]
    if sum(r["count"] for r in rows) and not empty:
        return None
    months = cover.range_text(ws, dataset, start, end)
    n = con.execute(f"SELECT count(*) FROM {dataset}_enriched WHERE {' AND '.join(where)}").fetchone()[0]
    status = " confirmed" if dataset == "crimes" and "crime_status = 'confirmed'" in where else ""
    if not definitions or not n:
        hint = " (--all-statuses counts cancelled and transferred crimes too)" if status else ""
        return f"no{status} {cover.noun(dataset)} records in {months}: the count is 0{hint}"
    return (f"none of the {n:,}{status} {cover.noun(dataset)} records in {months} match "
            f"{' or '.join(empty)}: the count is 0")
