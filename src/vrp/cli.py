"""The `vrp` command: a thin layer over the same functions the web and the reports call.

Every command finds its workspace from --workspace, else $VRP_WORKSPACE, else the current folder.
Every reporting command has --json. Errors are one line on stderr and a non-zero exit.
"""
from __future__ import annotations

import json
import math
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from vrp.errors import VrpError

app = typer.Typer(help="Data and analysis platform for Violence Reduction Partnerships.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
ingest_app = typer.Typer(help="Load partner files into the workspace lake.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
console = Console()
err = Console(stderr=True)

WorkspaceOpt = Annotated[Optional[Path], typer.Option("--workspace", "-w", help="Workspace folder (else $VRP_WORKSPACE, else .)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
AsAtOpt = Annotated[Optional[str], typer.Option("--as-at", help="As-at date of the data, YYYY-MM-DD (default: today).")]


def _workspace(path: Optional[Path]):
    from vrp.workspace import find_workspace

    return find_workspace(path)


def _as_at(text: Optional[str]) -> Optional[date]:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise VrpError(f"--as-at {text!r} is not a date (YYYY-MM-DD)") from None


def _print_json(data) -> None:
    """JSON on stdout; NaN and infinities (no value) become null, as JSON has no such numbers."""
    sys.stdout.write(json.dumps(_finite(data), indent=2, default=str, allow_nan=False) + "\n")


def _finite(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _notes(notes: list[str]) -> None:
    """Notes on an answer (months left out, a zero and what it counts), one line each on stderr."""
    for note in notes:
        err.print(f"[yellow]note[/] {note}", highlight=False, soft_wrap=True)


def _table(rows: list[dict], title: str | None = None, columns: list[str] | None = None) -> Table:
    columns = columns or (list(rows[0]) if rows else [])
    table = Table(title=title, show_lines=False)
    for col in columns:
        table.add_column(col, justify="right" if rows and isinstance(rows[0].get(col), (int, float)) else "left")
    for row in rows:
        table.add_row(*("—" if row.get(c) is None else f"{row[c]:,}" if isinstance(row.get(c), int) and not isinstance(row.get(c), bool) else str(row[c]) for c in columns))
    return table


def _progress(total: int, label: str):
    """A Rich progress bar on stderr (stdout stays clean for --json)."""
    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        TextColumn("{task.fields[file]}"), console=err, transient=True, disable=not err.is_terminal)
    task = progress.add_task(label, total=total, file="")
    return progress, lambda path: progress.update(task, advance=1, file=Path(path).name)


def _run_ingest(fn, paths: list[Path], as_json: bool, label: str, **kwargs) -> None:
    from vrp.ingest.files import expand_paths

    files = expand_paths(paths)
    progress, advance = _progress(len(files), label)
    with progress:
        summary = fn(paths=files, progress=advance, **kwargs)
    _report_ingest(summary, as_json)


def _report_ingest(summary: dict, as_json: bool) -> None:
    if as_json:
        _print_json(summary)
        return
    console.print(_table(summary["files"], title=f"Ingest into {summary['dataset']} (as at {summary['as_at']})",
                         columns=["file", "status", "rows_in", "rows_loaded", "rows_quarantined"]))
    console.print(f"rows in {summary['rows_in']:,} = loaded {summary['rows_loaded']:,} + quarantined "
                  f"{summary['rows_quarantined']:,}; files loaded {summary['files_loaded']}, "
                  f"unchanged {summary['files_unchanged']}")
    if summary.get("quarantine_sample"):
        console.print(_table(summary["quarantine_sample"][:10], title="First quarantined rows (see `vrp quarantine`)"))


@app.command()
def init(directory: Path, name: Annotated[str, typer.Option(help="Partnership name.")] = "Violence Reduction Partnership",
         database: Annotated[Optional[str], typer.Option("--database", help="PostgreSQL URL for the app state (default: DIR/vrp.db, SQLite).")] = None) -> None:
    """Create a workspace (configuration, lake, app-state database, pseudonymisation key)."""
    from vrp.store import printable
    from vrp.workspace import init_workspace

    ws = init_workspace(directory, name, database=database)
    console.print(f"workspace ready: {ws.root} (app state in {printable(ws.database) if database else ws.db_path})")


@ingest_app.command("police-uk")
def ingest_police_uk(paths: list[Path], workspace: WorkspaceOpt = None, as_at: AsAtOpt = None, json_: JsonOpt = False) -> None:
    """police.uk street-level CSVs: files or folders, plain or .gz."""
    from vrp.ingest.police_uk import ingest_police_uk as run

    _run_ingest(partial_ws(run, workspace), paths, json_, "police.uk", as_at=_as_at(as_at))


@ingest_app.command("police-extract")
def ingest_police_extract(paths: list[Path], workspace: WorkspaceOpt = None,
                          mapping: Annotated[Optional[str], typer.Option(help="Mapping name in vrp.toml, or a mapping TOML file.")] = None,
                          as_at: AsAtOpt = None, json_: JsonOpt = False) -> None:
    """A force crime extract (CSV), through a column mapping onto the canonical crime schema."""
    from vrp.ingest.extract import ingest_police_extract as run

    _run_ingest(partial_ws(run, workspace), paths, json_, "force extract", mapping_name=mapping, as_at=_as_at(as_at))


MappingOpt = Annotated[Optional[str], typer.Option("--mapping", help="Mapping name in vrp.toml, or a mapping TOML file (default: canonical headers).")]
SourceOpt = Annotated[Optional[str], typer.Option("--source", help="Source label of the snapshots (default: the mapping's source, else the dataset's default).")]


@ingest_app.command("homicides")
def ingest_homicides(paths: list[Path], workspace: WorkspaceOpt = None, mapping: MappingOpt = None, source: SourceOpt = None,
                     as_at: AsAtOpt = None, json_: JsonOpt = False) -> None:
    """Force homicide records / Homicide Index (CSV, one row per victim); default source homicide-index."""
    from vrp.ingest.homicides import ingest_homicides as run

    _run_ingest(partial_ws(run, workspace), paths, json_, "homicides", mapping_name=mapping, source=source,
                as_at=_as_at(as_at))


@ingest_app.command("ed-attendances")
def ingest_ed_attendances(paths: list[Path], workspace: WorkspaceOpt = None, mapping: MappingOpt = None,
                          source: SourceOpt = None, as_at: AsAtOpt = None, json_: JsonOpt = False) -> None:
    """Emergency department assault attendances (ISTV, anonymised CSV); default source: each row's site code."""
    from vrp.ingest.health import ingest_ed_attendances as run

    _run_ingest(partial_ws(run, workspace), paths, json_, "ED attendances", mapping_name=mapping, source=source,
                as_at=_as_at(as_at))


@ingest_app.command("admissions")
def ingest_admissions(paths: list[Path], workspace: WorkspaceOpt = None, mapping: MappingOpt = None, source: SourceOpt = None,
                      as_at: AsAtOpt = None, json_: JsonOpt = False) -> None:
    """Hospital admission aggregates (NHS England / ICB CSV, counts only); default source nhs."""
    from vrp.ingest.health import ingest_admissions as run

    _run_ingest(partial_ws(run, workspace), paths, json_, "admissions", mapping_name=mapping, source=source,
                as_at=_as_at(as_at))


@ingest_app.command("people")
def ingest_people(dataset: Annotated[str, typer.Argument(help="people_police | people_youth_justice | people_education | people_probation | people_ed")],
                  paths: list[Path], workspace: WorkspaceOpt = None, mapping: MappingOpt = None, source: SourceOpt = None,
                  as_at: AsAtOpt = None, json_: JsonOpt = False) -> None:
    """Person-level partner files: identifiers pseudonymised, identities kept in the identifiable store."""
    from vrp.ingest.people import ingest_people as run, person_dataset

    person_dataset(dataset)
    _run_ingest(partial_ws(run, workspace), paths, json_, dataset, dataset_name=dataset, mapping_name=mapping,
                source=source, as_at=_as_at(as_at))


@ingest_app.command("reference")
def ingest_reference(kind: Annotated[str, typer.Argument(help="lsoa-lookup | boundaries | population | deprivation")],
                     path: Path, workspace: WorkspaceOpt = None,
                     vintage: Annotated[Optional[str], typer.Option(help="LSOA vintage of a lookup (2011 or 2021); default from the header.")] = None,
                     level: Annotated[Optional[str], typer.Option(help="Boundary level, e.g. lsoa21; default from the code property.")] = None,
                     year: Annotated[Optional[int], typer.Option(help="Reference year of population (2021) or deprivation (2019).")] = None,
                     as_at: AsAtOpt = None, json_: JsonOpt = False) -> None:
    """Reference data: LSOA lookup, boundaries, population by age band, deprivation."""
    from vrp.ingest import reference

    ws = _workspace(workspace)
    when = _as_at(as_at)
    if kind == "lsoa-lookup":
        summary = reference.ingest_lsoa_lookup(ws, path, vintage=vintage, as_at=when)
    elif kind == "boundaries":
        summary = reference.ingest_boundaries(ws, path, level=level, as_at=when)
    elif kind == "population":
        summary = reference.ingest_population(ws, path, year=year or 2021, as_at=when)
    elif kind == "deprivation":
        summary = reference.ingest_deprivation(ws, path, year=year or 2019, as_at=when)
    else:
        raise VrpError(f"unknown reference kind '{kind}' (expected one of {', '.join(reference.KINDS)})")
    _report_ingest(summary, json_)


def partial_ws(fn, workspace: Optional[Path]):
    ws = _workspace(workspace)
    return lambda **kw: fn(ws, **kw)


@app.command()
def definitions(workspace: WorkspaceOpt = None, json_: JsonOpt = False) -> None:
    """The serious-violence definitions available (shipped and the workspace's own)."""
    from vrp.definitions import load_definitions

    ws = _workspace(workspace)
    rows = [{"id": d.id, "version": d.version, "kind": d.kind, "dataset": d.dataset, "rules": len(d.rules), "name": d.name}
            for d in load_definitions([ws.definitions_dir]).values()]
    _print_json(rows) if json_ else console.print(_table(rows, title="Definitions"))


@app.command()
def classify(workspace: WorkspaceOpt = None,
             definition: Annotated[Optional[list[str]], typer.Option("--definition", "-d", help="Definition id (repeat for side by side); default: those in use.")] = None,
             json_: JsonOpt = False) -> None:
    """Classify the loaded crimes by one or more definitions; keep the rules that fired."""
    from vrp.classify import classify_workspace

    result = classify_workspace(_workspace(workspace), definition)
    if json_:
        _print_json(result)
        return
    for d in result["definitions"]:
        console.print(_table(d["rules"], title=f"{d['definition']} v{d['version']} ({d['kind']}, {d['dataset']}): "
                                               f"{d['matched']:,} of {d['records']:,} records"))
        if d["limits"]:
            console.print(f"[yellow]Limits:[/] {' '.join(d['limits'].split())}")
    if result["overlaps"]:
        console.print(_table(result["overlaps"], title="Side by side"))


@app.command()
def explain(crime_ref: str, workspace: WorkspaceOpt = None,
            definition: Annotated[Optional[list[str]], typer.Option("--definition", "-d", help="Definition id (repeatable); default: those in use.")] = None,
            json_: JsonOpt = False) -> None:
    """Why a crime is or is not serious violence under each definition."""
    from vrp.explain import explain_crime

    result = explain_crime(_workspace(workspace), crime_ref, definition)
    if json_:
        _print_json(result)
    else:
        from vrp.definitions import format_explanation

        console.print(format_explanation(result["explanations"]), highlight=False, markup=False)


@app.command()
def counts(by: Annotated[str, typer.Option("--by", help="Comma-separated fields: district, lsoa, month, year, crime_type, offence_code, offence_group, ...")] = "",
           definition: Annotated[Optional[list[str]], typer.Option("--definition", "-d", help="Only crimes matching this definition (repeat for side by side).")] = None,
           start: Annotated[Optional[str], typer.Option("--from", help="First month, YYYY-MM.")] = None,
           end: Annotated[Optional[str], typer.Option("--to", help="Last month, YYYY-MM.")] = None,
           dataset: Annotated[Optional[str], typer.Option(help="police_uk or crimes (default: implied, else what is loaded).")] = None,
           all_statuses: Annotated[bool, typer.Option("--all-statuses", help="Force extracts: count cancelled and transferred crimes too.")] = False,
           workspace: WorkspaceOpt = None, json_: JsonOpt = False) -> None:
    """Count crimes by fields, optionally under a serious-violence definition."""
    from vrp.query import counts as run

    fields = [f.strip() for f in by.split(",") if f.strip()]
    notes: list[str] = []
    rows = run(_workspace(workspace), fields, definition, start, end, dataset, all_statuses, notes)
    _notes(notes)
    if json_:
        _print_json(rows)
    else:
        console.print(_table(rows, title="Counts"))
        console.print(f"total {sum(r['count'] for r in rows):,}")


@app.command()
def quality(workspace: WorkspaceOpt = None, json_: JsonOpt = False) -> None:
    """Data-quality checks: area, LSOAs, duplicate and blank ids, knife flags, monthly anomalies."""
    from vrp.quality import quality_report

    report = quality_report(_workspace(workspace))
    _notes(report["notes"])
    if json_:
        _print_json(report)
        return
    colour = {"ok": "green", "warning": "yellow", "error": "red"}
    table = Table(title="Data quality")
    for col in ("dataset", "check", "result", "count", "of", "detail"):
        table.add_column(col, justify="right" if col in ("count", "of") else "left")
    for c in report["checks"]:
        table.add_row(c["dataset"], c["check"], f"[{colour[c['severity']]}]{c['severity']}[/]", f"{c['count']:,}",
                      f"{c['total']:,}", c["detail"])
    console.print(table)
    for c in report["checks"]:
        if c["severity"] != "ok" and c["examples"]:
            console.print(_table(c["examples"][:10], title=f"{c['dataset']} {c['check']}"))


@app.command()
def quarantine(workspace: WorkspaceOpt = None, limit: Annotated[int, typer.Option(help="Rows to show.")] = 50,
               json_: JsonOpt = False) -> None:
    """Rows held back at ingest: file, line, field, reason."""
    from vrp.status import quarantine_rows

    rows = quarantine_rows(_workspace(workspace), limit)
    if not rows:
        _notes(["no rows are held back: every row of every file loaded so far was loaded (or nothing is loaded yet)"])
    _print_json(rows) if json_ else console.print(_table(rows, title="Quarantine"))


@app.command()
def status(workspace: WorkspaceOpt = None, json_: JsonOpt = False) -> None:
    """Datasets in the workspace: periods, rows, as-at dates."""
    from vrp.status import workspace_status

    result = workspace_status(_workspace(workspace))
    if result.get("note"):  # an empty workspace is a true answer (exit 0), but never a blank one
        err.print(f"[yellow]note[/] {result['note']}", highlight=False, soft_wrap=True)
    if json_:
        _print_json(result)
        return
    if not result["datasets"]:
        return
    rows = [{"dataset": d["dataset"], "periods": f"{d['period_from']} .. {d['period_to']}", "rows": d["rows"],
             "quarantined": d["rows_quarantined"], "as at": d["as_at_to"], "snapshots": d["snapshots_current"],
             "superseded": d["snapshots_superseded"], "tier": d["access_tier"]} for d in result["datasets"]]
    console.print(_table(rows, title=f"{result['partnership']} — {result['workspace']}"))


@app.command("demo-data")
def demo_data(directory: Path, seed: Annotated[int, typer.Option(help="Random seed (same seed, same files).")] = 42,
              scale: Annotated[float, typer.Option(help="Size relative to the default (~25,000 crimes a year).")] = 1.0,
              json_: JsonOpt = False) -> None:
    """Write a deterministic synthetic partnership as partner files."""
    from dataclasses import asdict

    from vrp.demo import generate

    manifest = generate(directory, seed=seed, scale=scale)
    data = asdict(manifest) if hasattr(manifest, "__dataclass_fields__") else manifest
    _print_json(data) if json_ else console.print(f"demo partnership written to {directory}")


measures_app = typer.Typer(help="Outcome measures: rates, confidence intervals, tests of change, SPC.", no_args_is_help=True)
app.add_typer(measures_app, name="measures")
MeasureOpt = Annotated[str, typer.Option("--measure", "-m", help="Measure id (see `vrp measures list`).")]
FromOpt = Annotated[Optional[str], typer.Option("--from", help="First month, YYYY-MM.")]
ToOpt = Annotated[Optional[str], typer.Option("--to", help="Last month, YYYY-MM.")]
TierOpt = Annotated[str, typer.Option("--tier", help="analyst (everything) or partner (small numbers suppressed).")]
SHOW_COLUMNS = ["area", "period", "count", "population", "rate", "ci_low", "ci_high", "verdict"]


@measures_app.command("list")
def measures_list(workspace: WorkspaceOpt = None, json_: JsonOpt = False) -> None:
    """The outcome measures: what each counts, its definition and versions."""
    from vrp.measures.report import list_measures

    rows = list_measures(_workspace(workspace))
    if json_:
        _print_json(rows)
        return
    shown = [{"id": f"{r['id']} v{r['version']}", "name": r["name"], "counts": f"{r['definition']} v{r['definition_version']}",
              "ages": r["age_band"], "per": r["rate_per"]} for r in rows]
    console.print(_table(shown, title="Outcome measures"))


@measures_app.command("show")
def measures_show(measure: Annotated[list[str], typer.Option("--measure", "-m", help="Measure id (repeatable), or all.")],
                  by: Annotated[str, typer.Option("--by", help="partnership, district or lsoa.")] = "district",
                  period: Annotated[Optional[str], typer.Option("--period", help="month, quarter, financial_year, calendar_year, rolling_12 or custom (default: custom, the --from/--to range as one period, when either is given; else the measure's).")] = None,
                  start: FromOpt = None, end: ToOpt = None,
                  compare: Annotated[str, typer.Option("--compare", help="Change against the previous period or the same period a year ago (year_ago).")] = "previous",
                  tier: TierOpt = "analyst", workspace: WorkspaceOpt = None, json_: JsonOpt = False) -> None:
    """Counts, rates with 95% intervals and changes with their test, by area and period."""
    from vrp.measures.report import measure_rows

    skipped: list[str] = []
    notes: list[str] = []
    rows = measure_rows(_workspace(workspace), measure, by, period, start, end, compare, tier, skipped, notes)
    for note in skipped:
        err.print(f"[yellow]skipped[/] {note}", highlight=False, soft_wrap=True)
    _notes(notes)
    if json_:
        _print_json(rows)
        return
    for measure_id in dict.fromkeys(r["measure"] for r in rows):
        mine = [r for r in rows if r["measure"] == measure_id]
        shown = [{**r, "rate": None if r["rate"] is None else round(r["rate"], 1),
                  "ci_low": None if r["ci_low"] is None else round(r["ci_low"], 1),
                  "ci_high": None if r["ci_high"] is None else round(r["ci_high"], 1)} for r in mine]
        first = mine[0]
        console.print(_table(shown, columns=SHOW_COLUMNS,
                             title=f"{measure_id} v{first['measure_version']} ({first['definition']} v{first['definition_version']}), "
                                   f"data as at {first['as_at']}, tier {first['tier']}"))
        for r in mine:
            if r.get("sentence") and r["area_level"] == "partnership":
                console.print(f"{r['period']}: {r['sentence']}", highlight=False)


@measures_app.command("spc")
def measures_spc(measure: MeasureOpt, area: Annotated[str, typer.Option("--area", help="partnership, or a district code or name.")] = "partnership",
                 start: FromOpt = None, end: ToOpt = None,
                 baseline: Annotated[Optional[int], typer.Option("--baseline", help="Months that set the limits (default: all).")] = None,
                 tier: TierOpt = "analyst", workspace: WorkspaceOpt = None, json_: JsonOpt = False) -> None:
    """SPC (XmR) chart data for a monthly series: limits and special-cause flags."""
    from vrp.measures.report import spc_series

    data = spc_series(_workspace(workspace), measure, area, start, end, tier, baseline)
    if json_:
        _print_json(data)
        return
    console.print(_table(data["points"], title=f"{data['measure']} SPC, {data['area']}: {data.get('variation', '')}"))


@measures_app.command("chart")
def measures_chart(measure: MeasureOpt, out: Annotated[Path, typer.Option("--out", help="Folder for the SVG and PNG files.")] = Path("charts"),
                   area: Annotated[str, typer.Option("--area", help="partnership, or a district code or name.")] = "partnership",
                   period: Annotated[Optional[str], typer.Option("--period", help="Period type of the trend chart (default: the measure's).")] = None,
                   start: FromOpt = None, end: ToOpt = None, tier: TierOpt = "analyst",
                   workspace: WorkspaceOpt = None, json_: JsonOpt = False) -> None:
    """Write a trend chart (rate with its 95% band) and an SPC chart as SVG and PNG."""
    from vrp.measures.charts import write_charts

    files = write_charts(_workspace(workspace), measure, out, area, period, start, end, tier)
    _print_json(files) if json_ else [console.print(str(f)) for f in files]


hotspots_app = typer.Typer(help="Places: grids, Gi*, concentration, stability, hotspot selection, forecasts, near repeats.",
                            no_args_is_help=True)
app.add_typer(hotspots_app, name="hotspots")
DefinitionOpt = Annotated[Optional[str], typer.Option("--definition", "-d", help="Definition id (default: the first in use for the data).")]
DatasetOpt = Annotated[Optional[str], typer.Option("--dataset", help="crimes or police_uk (default: as the definition says).")]
WeightOpt = Annotated[str, typer.Option("--weight", help="count, harm-css or harm-cchi.")]
UnitOpt = Annotated[str, typer.Option("--unit", help="square, hex or lsoa.")]
CellOpt = Annotated[Optional[float], typer.Option("--cell", help="Cell size in metres (default: shorter side of the area / 150).")]
OutOpt = Annotated[Optional[Path], typer.Option("--out", help="Write every row to FILE.csv, .geojson or .gpkg.")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed (same seed, same result).")]


def _query(definition, start, end, dataset, weight, unit, cell):
    from vrp.places.hotspots import Query
    from vrp.query import check_month

    check_month(start, "--from"), check_month(end, "--to")
    return Query(definition, start, end, dataset, weight, unit, cell)


def _working(label: str):
    """A progress bar for one long step whose length is not known in advance (stderr only)."""
    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), TimeElapsedColumn(), console=err,
                        transient=True, disable=not err.is_terminal)
    progress.add_task(label, total=None)
    return progress


def _provenance_line(prov: dict) -> str:
    return (f"{prov['definition']} v{prov['definition_version']} ({prov['dataset']}), {prov['from'] or 'start'} to "
            f"{prov['to'] or 'end'}, data as at {prov['as_at']}, weight {prov['weight']}, {prov['events']:,} events"
            + (f", {prov['units']:,} {prov['unit']} units" + (f" of {prov['cell_metres']:g} m" if prov.get('cell_metres') else "")
               + f" over {prov['study_area']}" if "units" in prov else ""))


def _gaps(prov: dict) -> None:
    """One line on stderr when months asked for have no data (left out: a gap, not a zero)."""
    if prov.get("months_without_data"):
        from vrp.coverage import gap_note
        from vrp.measures.periods import month_index

        _notes([gap_note(prov["dataset"], [month_index(m) for m in prov["months_without_data"]])])


def _emit(data: dict, rows_key: str, out: Optional[Path], json_: bool, title: str, columns: list[str],
          polygons=None, top: int = 15, order=None) -> None:
    """Write rows to --out (in unit order), then print JSON or a table of the first rows in
    `order` (a sort key) and the provenance."""
    from vrp.places.export import write_table

    rows = data[rows_key]
    ranked = sorted(rows, key=order) if order else rows
    if out:
        write_table(rows, out, polygons)
    for note in data.get("summary", {}).get("warnings", []) if isinstance(data.get("summary"), dict) else []:
        err.print(f"[yellow]warning[/] {note}", highlight=False)
    for item in data["provenance"].get("unmapped_codes", []):
        err.print(f"[yellow]warning[/] no harm weight for {item['code']!r} ({item['rows']} crimes): not in the harm total",
                  highlight=False)
    _gaps(data["provenance"])
    if json_:
        shown = {k: v for k, v in data.items() if k != "polygons"}
        if out:
            shown = {**shown, rows_key: ranked[:top], "out": str(out), "rows_written": len(rows)}
        _print_json(shown)
        return
    console.print(_table([{c: r.get(c) for c in columns} for r in ranked[:top]], title=title, columns=columns))
    console.print(_provenance_line(data["provenance"]), highlight=False)
    if out:
        console.print(f"{len(rows):,} rows written to {out}")


@hotspots_app.command("grid")
def hotspots_grid(cell: CellOpt = None, definition: DefinitionOpt = None, start: FromOpt = None, end: ToOpt = None,
                  weight: WeightOpt = "count", unit: UnitOpt = "square", dataset: DatasetOpt = None, out: OutOpt = None,
                  workspace: WorkspaceOpt = None, json_: JsonOpt = False) -> None:
    """Counts (and harm) in every cell of the study area, zero-count cells included."""
    from vrp.places.hotspots import grid_rows, place_counts

    with _working("Counting events in cells"):
        pc = place_counts(_workspace(workspace), _query(definition, start, end, dataset, weight, unit, cell))
        rows = grid_rows(pc)
    _emit({"provenance": pc.provenance(), "rows": rows}, "rows", out, json_, "Cells with the most serious violence",
          ["cell_id", "x", "y", "count", "value", "area_km2"], polygons=pc.units.polygons() if out else None,
          order=None if json_ and not out else lambda r: -r["value"])


@hotspots_app.command("gistar")
def hotspots_gistar(cell: CellOpt = None, neighbourhood: Annotated[str, typer.Option("--neighbourhood", help="queen, rook or distance:METRES.")] = "queen",
                    permutations: Annotated[int, typer.Option("--permutations", help="Conditional permutations (0: analytic only).")] = 0,
                    statistic: Annotated[str, typer.Option("--statistic", help="gistar, gi or moran (local Moran's I).")] = "gistar",
                    fdr: Annotated[str, typer.Option("--fdr", help="bh (Benjamini-Hochberg) or by (Benjamini-Yekutieli).")] = "bh",
                    alpha: Annotated[float, typer.Option("--alpha", help="False discovery rate for 'significant'.")] = 0.05,
                    seed: SeedOpt = 1, definition: DefinitionOpt = None, start: FromOpt = None, end: ToOpt = None,
                    weight: WeightOpt = "count", unit: UnitOpt = "square", dataset: DatasetOpt = None, out: OutOpt = None,
                    workspace: WorkspaceOpt = None, json_: JsonOpt = False) -> None:
    """Gi* (or Gi, local Moran's I) for every cell: z, two-sided p, FDR q-value, permutation p."""
    from vrp.places.hotspots import local_statistic, place_counts

    ws = _workspace(workspace)
    with _working(f"{statistic} with {permutations} permutations" if permutations else statistic):
        pc = place_counts(ws, _query(definition, start, end, dataset, weight, unit, cell))
        data = local_statistic(pc, statistic, neighbourhood, permutations, seed, fdr, alpha)
    s = data["summary"]
    title = (f"{s['statistic']}: {s['significant']:,} of {s['cells']:,} cells significant at FDR {s['alpha']} "
             f"({s['inference']}, {s['alternative']})")
    cols = ["cell_id", "x", "y", "value", "z", "p", "q"] + (["p_sim", "q_sim"] if permutations else [])
    _emit(data, "rows", out, json_, title, cols, polygons=pc.units.polygons() if out else None,
          order=None if json_ and not out else lambda r: -(r["z"] if r.get("z") is not None else -math.inf))


@hotspots_app.command("select")
def hotspots_select(n: Annotated[Optional[int], typer.Option("--n", help="Number of hotspots.")] = None,
                    coverage: Annotated[Optional[float], typer.Option("--coverage", help="Share of the study area, e.g. 0.01.")] = None,
                    rank_by: Annotated[str, typer.Option("--rank-by", help="observed (count or harm), kde or prospective.")] = "observed",
                    cell: CellOpt = None, definition: DefinitionOpt = None, start: FromOpt = None, end: ToOpt = None,
                    weight: WeightOpt = "count", unit: UnitOpt = "square", dataset: DatasetOpt = None, out: OutOpt = None,
                    workspace: WorkspaceOpt = None, json_: JsonOpt = False) -> None:
    """Hotspots for patrols: the top N cells (or k% of the area), with shares of violence and area."""
    from vrp.places.hotspots import select_hotspots

    with _working("Selecting hotspots"):
        data = select_hotspots(_workspace(workspace), _query(definition, start, end, dataset, weight, unit, cell),
                               n=n, coverage=coverage, rank_by=rank_by)
    harm = "harm" in (data["rows"][0] if data["rows"] else {})
    cols = ["rank", "cell_id", "count", "cumulative_share_of_count"] + (["harm", "cumulative_share_of_harm"] if harm else []) \
        + ["area_km2", "cumulative_share_of_area"]
    _emit(data, "rows", out, json_, f"Hotspots ranked by {rank_by}", cols, polygons=data["polygons"], top=50)


@hotspots_app.command("concentration")
def hotspots_concentration(cell: CellOpt = None, definition: DefinitionOpt = None, start: FromOpt = None, end: ToOpt = None,
                           weight: WeightOpt = "count", unit: UnitOpt = "square", dataset: DatasetOpt = None,
                           workspace: WorkspaceOpt = None, json_: JsonOpt = False) -> None:
    """How concentrated serious violence is: share in the top 1/5/10% of places, Gini, and the
    fewest places holding a quarter and a half of it."""
    from vrp.places.hotspots import concentration_summary, place_counts

    with _working("Counting events in cells"):
        data = concentration_summary(place_counts(_workspace(workspace), _query(definition, start, end, dataset, weight, unit, cell)))
    _gaps(data["provenance"])
    if json_:
        _print_json(data)
        return
    s = data["summary"]
    rows = [{"measure": f"share in the top {f['fraction']:.0%} of places", "value": f"{f['share']:.1%}"} for f in s["top_shares"]]
    rows += [{"measure": f"fewest places holding {m['target']:.0%}", "value": f"{m['n_units']:,} ({m['unit_share']:.2%} of places)"}
             for m in s["smallest"]]
    rows.append({"measure": "Gini coefficient", "value": f"{s['gini']:.3f}"})
    console.print(_table(rows, title=f"Concentration over {s['n_units']:,} places ({s['n_zero_units']:,} with none)"))
    console.print(_provenance_line(data["provenance"]), highlight=False)


@hotspots_app.command("stability")
def hotspots_stability(start: Annotated[str, typer.Option("--from", help="First month, YYYY-MM.")],
                       end: Annotated[str, typer.Option("--to", help="Last month, YYYY-MM.")],
                       period_months: Annotated[int, typer.Option("--period-months", help="Length of each period compared.")] = 3,
                       top: Annotated[float, typer.Option("--top", help="Share of places that count as hot in a period.")] = 0.05,
                       bootstrap: Annotated[int, typer.Option("--bootstrap", help="Resamples for intervals and confidence.")] = 199,
                       seed: SeedOpt = 1, cell: CellOpt = None, definition: DefinitionOpt = None,
                       weight: WeightOpt = "count", unit: UnitOpt = "square", dataset: DatasetOpt = None, out: OutOpt = None,
                       workspace: WorkspaceOpt = None, json_: JsonOpt = False) -> None:
    """Do hotspots stay hot? Rank correlation and top-k overlap between periods, and each hotspot
    classed persistent / emerging / fading / intermittent with its confidence."""
    from vrp.places.hotspots import stability_report

    with _working(f"Stability with {bootstrap} resamples"):
        data = stability_report(_workspace(workspace), _query(definition, start, end, dataset, weight, unit, cell),
                                period_months, top, bootstrap, seed)
    if out:
        from vrp.places.export import write_table

        write_table([{**r, "hot_periods": ";".join(r["hot_periods"]), "values": ";".join(map(str, r["values"]))}
                     for r in data["units"]], out if out.suffix == ".csv" else out.with_suffix(".csv"))
    _gaps(data["provenance"])
    if json_:
        _print_json(data)
        return
    console.print(_table([{"periods": f"{p['from_period']} -> {p['to_period']}", "spearman": _ci(p, "spearman"),
                           "top_overlap_jaccard": _ci(p, "jaccard")} for p in data["pairs"]],
                         title="Stability between consecutive periods (95% bootstrap intervals)"))
    console.print(_table([{"class": k, "places": v} for k, v in data["classes"].items() if k != "never"],
                         title=f"Hotspot classes (top {top:.0%} of places in each period)"))
    console.print(_table([{"cell_id": r["cell_id"], "class": r["class"], "hot_in": f"{r['n_hot_periods']} of {len(r['values'])} periods",
                           "confidence": "—" if r["confidence"] is None else f"{r['confidence']:.0%}"}
                          for r in data["units"][:15]], title="Hotspots (confidence: share of resamples giving the same class)"))
    console.print(_provenance_line(data["provenance"]), highlight=False)


def _ci(row: dict, key: str) -> str:
    low, high = row.get(f"{key}_low"), row.get(f"{key}_high")
    return f"{row[key]:.3f}" + (f" ({low:.3f} to {high:.3f})" if low is not None and high is not None else "")


@hotspots_app.command("knox")
def hotspots_knox(space_bands: Annotated[str, typer.Option("--space-bands", help="Distance breaks in metres, e.g. 0,100,200,300.")] = "0,100,200,300,400",
                  time_bands: Annotated[str, typer.Option("--time-bands", help="Time breaks in days (months for police.uk), e.g. 0,7,14,21,28.")] = "0,7,14,21,28",
                  iterations: Annotated[int, typer.Option("--iterations", help="Monte Carlo permutations of the times.")] = 999,
                  metric: Annotated[str, typer.Option("--metric", help="euclidean or manhattan.")] = "euclidean",
                  nrc_compatible: Annotated[bool, typer.Option("--nrc-compatible", help="Count and label as the Near Repeat Calculator does.")] = False,
                  seed: SeedOpt = 1, definition: DefinitionOpt = None, start: FromOpt = None, end: ToOpt = None,
                  dataset: DatasetOpt = None, workspace: WorkspaceOpt = None, json_: JsonOpt = False) -> None:
    """Near repeats: the Knox test over space-time bands with Monte Carlo p-values and correct band labels."""
    from vrp.places.hotspots import knox_report

    with _working(f"Knox test, {iterations} permutations"):
        data = knox_report(_workspace(workspace), _query(definition, start, end, dataset, "count", "square", None),
                           _breaks(space_bands, "--space-bands"), _breaks(time_bands, "--time-bands"), iterations, seed,
                           metric, nrc_compatible)
    _gaps(data["provenance"])
    if json_:
        _print_json(data)
        return
    rows = [{"space": r["space_interval"], "time": r["time_interval"], "observed": r["observed"],
             "expected": None if r["expected_mean"] is None else round(r["expected_mean"], 1),
             "knox_ratio": None if r["knox_ratio"] is None else round(r["knox_ratio"], 2), "p": r["p_value"]}
            for r in data["rows"]]
    console.print(_table(rows, title=f"Knox test ({data['summary']['metric']} metres, {data['provenance']['time_unit']}), "
                                     f"{data['summary']['iterations']} permutations"))
    if data["summary"].get("label_note"):
        console.print(data["summary"]["label_note"])
    console.print(_provenance_line(data["provenance"]), highlight=False)


def _breaks(text: str, option: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise VrpError(f"{option} {text!r}: expected numbers separated by commas, e.g. 0,100,200") from None


@hotspots_app.command("backtest")
def hotspots_backtest(train_from: Annotated[str, typer.Option("--train-from", help="First training month.")],
                      train_to: Annotated[str, typer.Option("--train-to", help="Last training month.")],
                      test_from: Annotated[str, typer.Option("--test-from", help="First test month.")],
                      test_to: Annotated[str, typer.Option("--test-to", help="Last test month.")],
                      cell: CellOpt = None,
                      coverage: Annotated[float, typer.Option("--coverage", help="Share of the area selected, e.g. 0.05.")] = 0.05,
                      rolling: Annotated[bool, typer.Option("--rolling", help="Score each test month from the months before it.")] = False,
                      definition: DefinitionOpt = None, weight: WeightOpt = "count", dataset: DatasetOpt = None,
                      workspace: WorkspaceOpt = None, json_: JsonOpt = False) -> None:
    """How well each forecast (naive, KDE, prospective) picks next period's hotspots: hit rate, PAI, PEI."""
    from vrp.places.hotspots import backtest_report
    from vrp.query import check_month

    for value, option in ((train_from, "--train-from"), (train_to, "--train-to"), (test_from, "--test-from"), (test_to, "--test-to")):
        check_month(value, option)
    with _working("Backtesting forecasts"):
        data = backtest_report(_workspace(workspace), _query(definition, None, None, dataset, weight, "square", cell),
                               (train_from, train_to), (test_from, test_to), coverage, rolling=rolling)
    _gaps(data["provenance"])
    if rolling:
        rows = [{**s, "pai": s["pai_mean"], "hit_rate": s["hit_rate_mean"], "pei": s["pei_mean"],
                 "months_detail": [m for m in data["months"] if m["method"] == s["method"]], **data["provenance"]}
                for s in data["summary"]]
    else:
        rows = data["methods"]
    if json_:
        _print_json(rows)
        return
    shown = [{"method": r["method"], "hit_rate": _fmt(r["hit_rate"]), "pai": _fmt(r["pai"]),
              "pai_95ci": f"{_fmt(r['pai_low'])} to {_fmt(r['pai_high'])}", "pei": _fmt(r["pei"])} for r in rows]
    prov = data["provenance"]
    console.print(_table(shown, title=f"Forecasts from {prov['train']} scored on {prov['test']}, top {coverage:.0%} of the area"
                                      + (" (rolling, mean over months)" if rolling else "")))
    console.print(_provenance_line(prov), highlight=False)


link_app = typer.Typer(help="People: link person records across agencies into stable person ids (Splink).",
                       no_args_is_help=True)
app.add_typer(link_app, name="link")
PurposeOpt = Annotated[Optional[str], typer.Option("--purpose", help="Why identifiable data is read (written to the audit log).")]
BackendOpt = Annotated[str, typer.Option("--backend", help="Linkage engine: duckdb (default) or spark (national scale).")]
ThresholdOpt = Annotated[Optional[float], typer.Option("--threshold", help="Match probability at which records join (default from the settings).")]
SettingsOpt = Annotated[Optional[str], typer.Option("--settings", help="Linkage settings id or TOML file (default uk-person).")]


def _steps(progress):
    task = progress.add_task("linking", total=None)
    return lambda label: progress.update(task, description=label)


@link_app.command("dedupe")
def link_dedupe(path: Path, out: Annotated[Path, typer.Option("--out", help="CSV to write: record_id, person_id.")],
                settings: SettingsOpt = None, threshold: ThresholdOpt = None, backend: BackendOpt = "duckdb",
                previous: Annotated[Optional[Path], typer.Option("--previous", help="An earlier output: people keep its ids.")] = None,
                truth_column: Annotated[Optional[str], typer.Option("--truth-column", help="Column with the true person, to report precision, recall and F1.")] = None,
                json_: JsonOpt = False) -> None:
    """Deduplicate one person file (record_id plus any of first_name, surname, dob, sex, postcode,
    address, town, birth_place, email, national_id) into record_id, person_id."""
    from vrp.people.link import dedupe_file

    progress = _working("linking")
    with progress:
        summary = dedupe_file(path, out, settings, threshold, backend, previous, truth_column, _steps(progress))
    if json_:
        _print_json(summary)
        return
    console.print(f"{summary['records']:,} records -> {summary['people']:,} people ({summary['settings']}, threshold "
                  f"{summary['threshold']}, {summary['backend']}); written to {out}")
    ids = summary["ids"]
    console.print(f"ids kept {ids['ids_kept']:,}, new {ids['ids_new']:,}, retired {len(ids['ids_retired']):,}")
    if "pairwise" in summary:
        q = summary["pairwise"]
        console.print(f"pairwise precision {q['precision']:.4f}, recall {q['recall']:.4f}, F1 {q['f1']:.4f}")


@link_app.command("partners")
def link_partners_cmd(workspace: WorkspaceOpt = None, purpose: PurposeOpt = None, settings: SettingsOpt = None,
                      threshold: ThresholdOpt = None, backend: BackendOpt = "duckdb",
                      retrain: Annotated[bool, typer.Option("--retrain", help="Train a new model instead of reusing the last run's.")] = False,
                      truth: Annotated[Optional[Path], typer.Option("--truth", help="CSV of dataset, record_id, person: report precision, recall, F1.")] = None,
                      as_at: AsAtOpt = None, json_: JsonOpt = False) -> None:
    """Link every person record in the workspace across agencies into stable person ids."""
    from vrp.people.link import link_partners

    ws = _workspace(workspace)
    progress = _working("linking")
    with progress:
        summary = link_partners(ws, purpose, settings, threshold, backend, retrain, truth, _as_at(as_at), _steps(progress))
    if json_:
        _print_json(summary)
        return
    console.print(_table(summary["by_dataset"], title=f"Person links ({summary['settings']}, threshold "
                                                       f"{summary['threshold']}, model {summary['model']})"))
    ids = summary["ids"]
    console.print(f"{summary['records']:,} records -> {summary['people']:,} people; ids kept {ids['ids_kept']:,}, "
                  f"new {ids['ids_new']:,}, retired {len(ids['ids_retired']):,}; records whose id changed "
                  f"{ids['records_changed_id']:,}")
    quality = summary["quality"]
    if "pairwise" in quality:
        q = quality["pairwise"]
        console.print(f"against {quality['truth_file']}: precision {q['precision']:.4f}, recall {q['recall']:.4f}, "
                      f"F1 {q['f1']:.4f}")
        console.print(_table(quality["error_rates"], title="Linkage errors by group"))
    else:
        console.print(_table(quality["link_rates"], title="Share of records linked to another, by group"))


cohorts_app = typer.Typer(help="Safeguarded cohorts: repeat perpetrators, knife carriers, repeat victims (docs/people.md).",
                          no_args_is_help=True)
app.add_typer(cohorts_app, name="cohorts")
RuleArg = Annotated[str, typer.Argument(help="Cohort rule id (vrp cohorts rules).")]


@cohorts_app.command("rules")
def cohorts_rules(workspace: WorkspaceOpt = None, json_: JsonOpt = False) -> None:
    """The cohort rules available (built in and the workspace's own cohorts/ files)."""
    from vrp.people.cohort_store import rule_dirs
    from vrp.people.cohorts import load_rules

    rows = [{"rule": r.id, "version": r.version, "list_role": r.list_role, "name": r.name}
            for r in load_rules(rule_dirs(_workspace(workspace))).values()]
    _print_json(rows) if json_ else console.print(_table(rows, title="Cohort rules"))


@cohorts_app.command("build")
def cohorts_build(workspace: WorkspaceOpt = None,
                  rule: Annotated[Optional[list[str]], typer.Option("--rule", help="Rule id (repeatable; default all).")] = None,
                  as_at: AsAtOpt = None, definition: DefinitionOpt = None,
                  harm: Annotated[str, typer.Option("--harm", help="Harm weights for gravity.")] = "cchi-2023",
                  json_: JsonOpt = False) -> None:
    """Build the cohort lists from the linked person histories (prints aggregates only)."""
    from vrp.people.cohort_store import build

    progress = _working("building cohorts")
    with progress:
        result = build(_workspace(workspace), rule, _as_at(as_at), definition, harm)
    if json_:
        _print_json(result)
        return
    rows = [{"rule": c["rule"], "version": c["version"], "list": c["list_role"], "scored": c["people_scored"],
             "listed": c["listed"], "under 18": c["ages"].get("under_18"), "under 25": c["ages"].get("under_25"),
             "decisions carried": c["decisions_carried"]} for c in result["cohorts"]]
    console.print(_table(rows, title=f"Cohorts as at {result['as_at']} ({result['definition']}, link run "
                                     f"{result['link_run'][:8]})"))
    o = result["victim_offender_overlap"]
    console.print(f"victim-offender overlap (counts only): {o}")
    if result["unlinked_records"] or result["unmatched_crime_refs"]:
        err.print(f"[yellow]warning[/] {result['unlinked_records']:,} person records not linked (run `vrp link partners`), "
                  f"{result['unmatched_crime_refs']:,} police links to crimes not in the extract", highlight=False)


@cohorts_app.command("show")
def cohorts_show(rule: RuleArg, workspace: WorkspaceOpt = None, purpose: PurposeOpt = None,
                 identify: Annotated[bool, typer.Option("--identify", help="Add names and dates of birth (identifiable tier).")] = False,
                 json_: JsonOpt = False) -> None:
    """One cohort list, with score components and review state (every read is audited)."""
    from vrp.people.cohort_store import show

    data = show(_workspace(workspace), rule, purpose, identify)
    _notes([data["note"]] if data.get("note") else [])
    if json_:
        _print_json(data)
        return
    columns = ["rank", "person_id"] + (["first_name", "surname", "dob"] if identify else []) + [
        "score", "band", "events", "last_event", "age_at_last_event", "review_date", "decision"]
    console.print(_table(data["entries"], title=f"{data['rule']} v{data['version']} ({data['list_role']} list) as at "
                                                 f"{data['as_at']}, {len(data['entries'])} people", columns=columns))
    overdue = sum(r["review_overdue"] for r in data["entries"])
    if overdue:
        err.print(f"[yellow]warning[/] {overdue} entries are past their review date", highlight=False)


@cohorts_app.command("review")
def cohorts_review(rule: RuleArg, person_id: str,
                   decision: Annotated[str, typer.Option("--decision", help="accept or remove (removal deletes the entry).")],
                   reviewer: Annotated[str, typer.Option("--reviewer", help="Who decided (name and role).")],
                   notes: Annotated[str, typer.Option("--notes", help="The panel's rationale.")] = "",
                   workspace: WorkspaceOpt = None, purpose: PurposeOpt = None, json_: JsonOpt = False) -> None:
    """Record the multi-agency panel's decision on one person on a list."""
    from vrp.people.cohort_store import review

    result = review(_workspace(workspace), rule, person_id, decision, reviewer, notes, purpose)
    _print_json(result) if json_ else console.print(result)


@cohorts_app.command("summary")
def cohorts_summary(workspace: WorkspaceOpt = None, tier: TierOpt = "analyst", json_: JsonOpt = False) -> None:
    """Sizes and age bands of the current lists (aggregates; suppressed beyond the analyst tier)."""
    from vrp.people.cohort_store import summary

    data = summary(_workspace(workspace), tier)
    if not data["cohorts"]:
        from vrp.errors import NothingToShow

        raise NothingToShow(data["note"])
    _print_json(data) if json_ else console.print(_table(data["cohorts"], title=f"Cohort lists ({tier} tier)"))


keys_app = typer.Typer(help="The pseudonymisation key.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("rotate")
def keys_rotate(workspace: WorkspaceOpt = None, purpose: PurposeOpt = None, json_: JsonOpt = False) -> None:
    """Replace the pseudonymisation key and re-key every pseudonym in the lake (the old key is destroyed)."""
    from vrp.keys import rotate_key

    progress = _working("re-keying")
    with progress:
        summary = rotate_key(_workspace(workspace), purpose)
    if json_:
        _print_json(summary)
        return
    console.print(f"key rotated: {summary['pseudonyms']:,} pseudonyms re-keyed in {summary['files_rewritten']:,} files"
                  + (" (finished an interrupted rotation)" if summary["resumed"] else ""))


@app.command()
def audit(workspace: WorkspaceOpt = None, action: Annotated[Optional[str], typer.Option("--action", help="Only this action.")] = None,
          limit: Annotated[int, typer.Option(help="Events to show (newest first).")] = 50, json_: JsonOpt = False) -> None:
    """The audit log: every read of identifiable data and every change to a safeguarded list."""
    from vrp.audit import events

    rows = events(_workspace(workspace), action, limit)
    if not rows:
        _notes([f"no audit event with action {action!r}" if action else "the audit log is empty: nothing identifiable "
                "has been read and no safeguarded list changed yet"])
    if json_:
        _print_json(rows)
        return
    console.print(_table([{k: v for k, v in r.items() if k != "detail"} for r in rows], title="Audit log"))


@app.command()
def sna(out: Annotated[Path, typer.Option("--out", help="Folder to write index.html, districts/*.html and sna.pdf into.")],
        start: FromOpt = None, end: ToOpt = None,
        definition: Annotated[Optional[str], typer.Option("--definition", help="Serious-violence definition id (default: the first in use whose data are loaded).")] = None,
        pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="Also write sna.pdf.")] = True,
        as_at: Annotated[Optional[str], typer.Option("--as-at", help="Use the data as they stood on this date, YYYY-MM-DD (a past report, made again).")] = None,
        workspace: WorkspaceOpt = None, json_: JsonOpt = False) -> None:
    """Write the Strategic Needs Assessment: partnership overview and a chapter per district, HTML and PDF."""
    from dataclasses import replace

    from vrp.reports.write import write_sna

    ws = replace(_workspace(workspace), as_at=_as_at(as_at))
    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), TimeElapsedColumn(), console=err,
                        transient=True, disable=not err.is_terminal)
    with progress:
        task = progress.add_task("strategic needs assessment", total=None)
        paths = write_sna(ws, out, start, end, definition, lambda label: progress.update(task, description=label), pdf)
    files = [paths["index"], *paths["districts"], *([paths["pdf"]] if "pdf" in paths else [])]
    if json_:
        _print_json({"index": str(paths["index"]), "districts": [str(p) for p in paths["districts"]],
                     "pdf": str(paths["pdf"]) if "pdf" in paths else None, "pdf_pages": paths.get("pages")})
        return
    console.print(f"Strategic Needs Assessment written ({len(paths['districts'])} district chapters):")
    for f in files:
        console.print(f"  {f}" + (f"  ({paths['pages']} pages)" if f == paths.get("pdf") else ""), highlight=False)


def _fmt(v) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.3f}"


def main() -> None:
    try:
        app()
    except VrpError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise SystemExit(1) from None
    except KeyboardInterrupt:  # a load in progress is abandoned whole (vrp.lake.write), never half-done
        err.print("interrupted: nothing from this command was saved", highlight=False)
        raise SystemExit(130) from None
