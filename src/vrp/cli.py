"""The `vrp` command: a thin layer over the same functions the web and the reports call.

Every command finds its workspace from --workspace, else $VRP_WORKSPACE, else the current folder.
Every reporting command has --json. Errors are one line on stderr and a non-zero exit.
"""
from __future__ import annotations

import json
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
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


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
def init(directory: Path, name: Annotated[str, typer.Option(help="Partnership name.")] = "Violence Reduction Partnership") -> None:
    """Create a workspace (configuration, lake, app-state database, pseudonymisation key)."""
    from vrp.workspace import init_workspace

    ws = init_workspace(directory, name)
    console.print(f"workspace ready: {ws.root}")


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
    rows = run(_workspace(workspace), fields, definition, start, end, dataset, all_statuses)
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
    _print_json(rows) if json_ else console.print(_table(rows, title="Quarantine"))


@app.command()
def status(workspace: WorkspaceOpt = None, json_: JsonOpt = False) -> None:
    """Datasets in the workspace: periods, rows, as-at dates."""
    from vrp.status import workspace_status

    result = workspace_status(_workspace(workspace))
    if json_:
        _print_json(result)
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
                  period: Annotated[Optional[str], typer.Option("--period", help="month, quarter, financial_year, calendar_year, rolling_12 or custom (default: the measure's).")] = None,
                  start: FromOpt = None, end: ToOpt = None,
                  compare: Annotated[str, typer.Option("--compare", help="Change against the previous period or the same period a year ago (year_ago).")] = "previous",
                  tier: TierOpt = "analyst", workspace: WorkspaceOpt = None, json_: JsonOpt = False) -> None:
    """Counts, rates with 95% intervals and changes with their test, by area and period."""
    from vrp.measures.report import measure_rows

    skipped: list[str] = []
    rows = measure_rows(_workspace(workspace), measure, by, period, start, end, compare, tier, skipped)
    for note in skipped:
        err.print(f"[yellow]skipped[/] {note}", highlight=False)
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


def main() -> None:
    try:
        app()
    except VrpError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise SystemExit(1) from None
