"""`vrp sna`: the Strategic Needs Assessment written as HTML pages and one PDF.

assemble (vrp.reports.sna) -> places (boundaries, hotspot cells) -> figures (vrp.reports.maps,
vrp.reports.charts) -> findings -> Jinja2 templates -> DIR/index.html, DIR/districts/*.html and
DIR/sna.pdf (WeasyPrint). Every page is self-contained: styles and figures are inline, so nothing
refers to anything outside DIR (no CDN, no web fonts, no tiles) and the folder can be mailed or
put on a shared drive as it is. The HTML holds no clock time: the same inputs give the same bytes.
"""
from __future__ import annotations

import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import Callable

import numpy as np
import shapely
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markdown_it import MarkdownIt

from vrp.errors import NothingToShow
from vrp.lake.read import DATASET_INFO, current_snapshots, loaded_datasets
from vrp.measures.catalogue import workspace_measures
from vrp.measures.compute import PARTNERSHIP
from vrp.measures.report import merge_reasons
from vrp.places.events import area_polygons
from vrp.places.hotspots import Query, place_counts
from vrp.reports import charts, findings, maps
from vrp.quality import quality_report
from vrp.reports.sna import HOTSPOT_CELL, Protect, assemble, concentration, input_hash, period_label, software_version
from vrp.status import workspace_status

HOTSPOTS_PER_AREA = {"partnership": 20, "district": 10}
RECOMMENDATIONS = Path("sna") / "recommendations.md"
NOUN = {"crimes": "serious violence offences", "police_uk": "serious violence offences (police.uk approximation)"}


def recommendations(ws) -> tuple[str | None, str]:
    """The analyst's recommendations (Markdown in WORKSPACE/sna/recommendations.md) as HTML, and
    the text they came from; (None, "") when there is no file. Raw HTML in the file is escaped,
    so the report cannot be made to load or run anything."""
    path = ws.root / RECOMMENDATIONS
    if not path.exists():
        return None, ""
    text = path.read_text(encoding="utf-8")
    return MarkdownIt("commonmark", {"html": False}).enable("table").render(text), text


# ---------------------------------------------------------------------------------------------
# Places: boundaries and hotspot cells


def boundaries(con, districts: list) -> dict | None:
    """LSOA polygons (BNG), each district's outline (union of its LSOAs) and the partnership's."""
    if "boundaries" not in loaded_datasets(con):
        return None
    found, level = area_polygons(con, "lsoa")
    if found is None:
        return None
    codes, geoms = found
    geoms = shapely.make_valid(geoms)
    district_of = dict(con.execute("SELECT lsoa_code, district_code FROM area_lsoas").fetchall())
    outlines = {}
    # LSOAs tile their districts without overlaps (ONS publishes them as a coverage), so the
    # coverage union gives each outline some forty times faster than a general union.
    for d in districts:
        mine = [g for c, g in zip(codes, geoms) if district_of.get(c) == d.code]
        if mine:
            outlines[d.code] = shapely.coverage_union_all(mine)
    partnership = shapely.coverage_union_all(list(outlines.values())) if outlines else None
    return {"lsoa": dict(zip(codes, geoms)), "district_of": district_of, "outlines": outlines,
            "partnership": partnership}


def hotspots(ws, con, scope, districts: list, protect, geo: dict | None) -> dict:
    """250 m cells ranked by count, partnership-wide and within each district (a cell belongs to
    the district holding its centre), with the share of serious violence and of area they hold,
    and the cell-level concentration. Cell counts pass the same suppression as everything else;
    for partners only cells holding at least the threshold's count are listed."""
    try:
        pc = place_counts(ws, Query(definition=scope.definition.id, start=scope.start, end=scope.end,
                                    cell=HOTSPOT_CELL), con, allow_empty=True)
    except NothingToShow:  # no located record and no boundary: the report has no hotspot section
        return {}
    u = pc.units
    polygons = u.polygons()
    # A cell with fewer offences than the suppression threshold is no hotspot and could not be shown.
    minimum = protect.rule.min_count if protect.active else 1
    owner = np.full(u.n, "", dtype=object)
    if geo:
        for code, outline in geo["outlines"].items():
            owner[shapely.contains_xy(outline, u.x, u.y) & (owner == "")] = code
    out = {}
    for area in [PARTNERSHIP, *[d.code for d in districts]]:
        inside = np.ones(u.n, bool) if area == PARTNERSHIP else owner == area
        if not inside.any() or pc.count[inside].sum() == 0:
            out[area] = None
            continue
        idx = np.flatnonzero(inside)
        n = HOTSPOTS_PER_AREA["partnership" if area == PARTNERSHIP else "district"]
        order = idx[np.lexsort((u.ids[idx], -pc.count[idx]))][:n]
        order = order[pc.count[order] >= minimum]
        if not len(order):
            out[area] = None
            continue
        total, area_km2 = int(pc.count[inside].sum()), float(u.area_km2[inside].sum())
        held = int(pc.count[order].sum())
        shown = protect.table({i: int(pc.count[i]) for i in order}, [])
        cells = [{"rank": k + 1, "cell": u.ids[i], "easting": int(round(u.x[i])), "northing": int(round(u.y[i])),
                  "count": shown[i], "share": (round(100 * pc.count[i] / total, 1) if protect.rate_ok(shown[i]) else None)}
                 for k, i in enumerate(order)]
        summary = {"n": len(order), "area_share": 100 * float(u.area_km2[order].sum()) / area_km2,
                   "share": round(100 * held / total, 1) if protect.rate_ok(held) else None,
                   "cell_concentration": concentration(pc.count[inside].astype(float)), "cells_in_area": int(inside.sum())}
        out[area] = {"cells": cells, "summary": summary, "polygons": list(polygons[order])}
    return out


# ---------------------------------------------------------------------------------------------
# Figures for one chapter


def _bars_rows(rows: list[dict], series: str | None = None) -> list[dict]:
    return [{"category": r["category"], "count": r["count"], **({"series": series} if series else {})} for r in rows]


def chapter_figures(content: dict, chapter: dict, geo: dict | None, hot: dict | None, breaks: list | None) -> dict:
    """The figures of one chapter, keyed by name; absent when the data cannot draw them."""
    key, figs = chapter["slug"], {}
    v = chapter["volume"]
    figs["monthly"] = charts.monthly_trend(f"{key}-monthly", v["monthly"], unit="offences")
    if chapter["mix"]["rows"]:
        figs["mix"] = charts.bars(f"{key}-mix", _bars_rows(chapter["mix"]["rows"]), category_label="Offence group")
    w = chapter["when"]
    if w:
        if chapter["code"] == PARTNERSHIP:
            figs["heat"] = charts.hour_weekday(f"{key}-heat", w["grid"])
        figs["hours"] = charts.bars(f"{key}-hours", _bars_rows(w["hours"]), category_label="Hour of day",
                                    horizontal=False)
        figs["days"] = charts.bars(f"{key}-days", _bars_rows(w["days"]), category_label="Day of week")
    if chapter["code"] == PARTNERSHIP and content["seasonality"]:
        rows = [{"category": r["category"], "count": r["count"]} for r in content["seasonality"]["rows"]]
        figs["season"] = charts.bars(f"{key}-season", rows, category_label="Calendar month", unit="offences a year",
                                     horizontal=False)
    if chapter["victims"]:
        rows = _bars_rows(chapter["victims"]["ages"]["rows"], "Victims")
        series = ["Victims"]
        if chapter["suspects"]:
            rows += _bars_rows(chapter["suspects"]["rows"], "Suspects and offenders")
            series.append("Suspects and offenders")
        figs["ages"] = charts.bars(f"{key}-ages", rows, category_label="Age band", unit="people", series=series)
    if chapter["locations"] and chapter["locations"]["rows"]:
        figs["locations"] = charts.bars(f"{key}-locations", _bars_rows(chapter["locations"]["rows"]),
                                        category_label="Location type")
    if chapter["code"] == PARTNERSHIP and content["comparison"]:
        rows = [{"label": r["name"], "value": r["rate"], "low": r["ci_low"], "high": r["ci_high"]}
                for r in sorted(content["comparison"], key=lambda r: (r["rate"] is None, -(r["rate"] or 0)))]
        figs["comparison"] = charts.comparison(f"{key}-comparison", rows, measure_label="per 1,000 residents",
                                               reference=v["rate"], reference_label="partnership")
    dep = chapter["deprivation"]
    if dep:
        rows = [{"label": decile_label(r["decile"]), "value": r["rate"], "low": r["ci_low"], "high": r["ci_high"]}
                for r in dep["rows"]]
        figs["deprivation"] = charts.comparison(f"{key}-deprivation", rows, measure_label="per 1,000 residents",
                                                reference=v["rate"], reference_label="partnership")
    p = chapter["places"]
    if p["lorenz"] and chapter["code"] == PARTNERSHIP:
        figs["lorenz"] = charts.lorenz(f"{key}-lorenz", *p["lorenz"], unit_label="LSOAs")
    if geo:
        codes = list(p["counts"])
        names = content["lsoa_names"]
        areas = [(c, names.get(c, c), geo["lsoa"][c]) for c in codes if c in geo["lsoa"]]
        if chapter["code"] == PARTNERSHIP:
            outline = geo["partnership"]
            labels = [(d.name, geo["outlines"][d.code]) for d in content["districts"] if d.code in geo["outlines"]]
        else:
            outline, labels = geo["outlines"].get(chapter["code"]), None
        values = {c: (None if p["counts"][c] is None else float(p["counts"][c])) for c in codes}
        figs["map"] = maps.choropleth(
            f"{key}-map", areas, values, title=f"Serious violence by LSOA, {chapter['name']}",
            legend_title="offences", outline=outline, labels=labels, value_format="{:,.0f}",
            highlight=hot["polygons"] if hot else None, highlight_label="250 m hotspot cell", breaks=breaks)
    return figs


def decile_label(decile: int) -> str:
    return f"Decile {decile}" + {1: " (most deprived)", 10: " (least deprived)"}.get(decile, "")


def _map_breaks(content: dict) -> list[float] | None:
    """One set of class breaks for every LSOA map (from the partnership's published counts), so a
    colour means the same count in every chapter. LSOAs hold similar numbers of residents (about
    1,500), so counts compare like with like and need no rate, whose small-number rule would
    withhold most of the map."""
    counts = [float(c) for c in content["chapters"][0]["places"]["counts"].values() if c is not None]
    return maps.class_breaks(counts, "{:,.0f}") if len(set(counts)) > 1 else None


# ---------------------------------------------------------------------------------------------
# Sources, gaps and provenance


def source_register(ws, scope, quality: dict | None) -> list[dict]:
    """Every dataset in the workspace with coverage, as-at dates and quality notes."""
    notes: dict[str, list[str]] = {}
    for c in (quality or {}).get("checks", []):
        if c["severity"] != "ok" and c["count"]:
            notes.setdefault(c["dataset"], []).append(f"{c['detail']} ({c['count']:,} of {c['total']:,})"
                                                      if "%" not in c["detail"] else c["detail"])
    rows = []
    for d in workspace_status(ws)["datasets"]:
        if d["dataset"] in ("classifications",):
            continue
        period = d["period_from"] if d["period_from"] == d["period_to"] else f"{d['period_from']} to {d['period_to']}"
        rows.append({"dataset": d["dataset"], "description": d["description"], "tier": d["access_tier"],
                     "rows": d["rows"], "period": str(period).replace("_to_", " to "),
                     "as_at": d["as_at_to"], "quarantined": d["rows_quarantined"],
                     "used": d["dataset"] == scope.dataset or d["dataset"] in USED_BY_REPORT,
                     "notes": notes.get(d["dataset"], [])})
    return rows


USED_BY_REPORT = {"lsoa_lookup", "boundaries", "population", "people_police", "homicides", "ed_attendances",
                  "admissions", "deprivation"}

EXPECTED = [
    ("crimes", "Force crime extract", "offence codes, knife flag, victim age and sex, time of day, location type"),
    ("homicides", "Homicide records", "homicide measures K3 and K3a"),
    ("ed_attendances", "ED assault attendances (ISTV)", "violence not reported to the police (L2)"),
    ("admissions", "Hospital admissions for assault", "headline measure K1 and K1a"),
    ("people_police", "Police person extract", "suspect and offender ages, repeat status"),
    ("deprivation", "Index of Multiple Deprivation", "serious violence by deprivation decile"),
    ("boundaries", "LSOA boundaries", "maps"),
    ("population", "Population by LSOA and age", "rates per resident"),
]

POLICE_UK_LIMITS = [
    "police.uk publishes crime types, not Home Office offence codes, so serious violence is approximated by "
    "robbery and possession of weapons, a lower bound: GBH, wounding and homicide sit inside the broad "
    "\"Violence and sexual offences\" type with common assault and stalking.",
    "There is no knife or sharp-instrument flag, so knife-enabled serious violence (headline measure K2) cannot be "
    "derived.",
    "There are no victim or suspect ages or sexes, so the under-25 measures and age profiles cannot be derived.",
    "Dates are months only: time of day, day of week and the night-time economy cannot be analysed.",
    "Locations are snapped to anonymised map points, so cells and streets are approximate and near repeats by "
    "day cannot be tested.",
    "Crimes are not linked to people, so repeat victims, repeat perpetrators and cohorts cannot be derived.",
]


def data_gaps(scope, loaded: set[str]) -> list[str]:
    gaps = []
    if scope.dataset == "police_uk":
        gaps += POLICE_UK_LIMITS
    for dataset, name, gives in EXPECTED:
        if dataset not in loaded:
            gaps.append(f"{name} not loaded ({DATASET_INFO[dataset]['description']}): without it the report cannot "
                        f"show {gives}.")
    gaps.append("Risk and protective factors (school exclusions, children in need, NEET, substance misuse, "
                "exploitation), service mapping and the voice of young people and communities are not yet held "
                "in the workspace; they belong in the narrative the partnership adds.")
    return gaps


# ---------------------------------------------------------------------------------------------
# Writing


def _env() -> Environment:
    folder = resources.files("vrp.reports") / "templates"
    env = Environment(loader=FileSystemLoader(str(folder)), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["n"] = lambda x: "" if x is None else f"{x:,}"
    env.filters["f1"] = lambda x: "" if x is None else f"{x:,.1f}"
    env.filters["f2"] = lambda x: "" if x is None else f"{x:,.2f}"
    env.filters["period"] = lambda p: period_label(*p) if p else ""
    env.filters["decile"] = decile_label
    return env


def write_sna(ws, out: Path, start: str | None = None, end: str | None = None, definition_id: str | None = None,
              step: Callable[[str], None] = lambda label: None, pdf: bool = True) -> dict:
    """Write the report; return the paths written and a summary of what it holds. A failure part way
    leaves any earlier report in `out` as it was: files are built in a temporary folder first."""
    content = assemble(ws, start, end, definition_id, step)
    scope, con = content["scope"], content["con"]
    protect = Protect(scope.rule, scope.protect)
    loaded = loaded_datasets(con)
    step("maps: boundaries and hotspot cells")
    with ThreadPoolExecutor(max_workers=1) as background:
        quality = background.submit(quality_report, ws)  # its own lake connection; runs beside the maps
        geo = boundaries(con, content["districts"])
        hot = hotspots(ws, con, scope, content["districts"], protect, geo)
        quality = quality.result()
    names = {m.id: m for m in workspace_measures(ws).values()}
    for ch in content["chapters"]:
        for r in ch["measures"]:
            r["name"] = names[r["measure"]].name if r["measure"] in names else r["measure"]
    breaks = _map_breaks(content)
    comparison_of = {r["code"]: r for r in content["comparison"]}
    noun = NOUN[scope.dataset]
    register = source_register(ws, scope, quality)
    rec_html, rec_text = recommendations(ws)
    cohorts = _cohorts(ws)
    provenance = _provenance(ws, scope, content["chapters"], [rec_text, repr(cohorts)])
    chapters = content["chapters"]
    for ch in chapters:
        h = hot.get(ch["code"])
        ch["hotspots"] = None if h is None else {k: v for k, v in h.items() if k != "polygons"}
        ch["findings"] = _findings(ch, content, comparison_of.get(ch["code"]), scope, noun)
        if ch["code"] == PARTNERSHIP:
            ch["findings"] += findings.quality_findings(quality, scope, set(content["frame"]["category"].dropna()))

    def draw(ch: dict) -> dict:
        step(f"figures: {ch['name']}")
        return chapter_figures(content, ch, geo, hot.get(ch["code"]), breaks)

    # vl-convert renders outside the GIL, so chapters are drawn on every core; results keep their order.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for ch, figs in zip(chapters, pool.map(draw, chapters)):
            ch["figures"] = figs
    overview, districts = chapters[0], chapters[1:]
    context = {"partnership": ws.partnership_name or "Partnership", "scope": scope, "p": provenance,
               "overview": overview, "districts": districts, "comparison": content["comparison"],
               "register": register, "gaps": data_gaps(scope, loaded), "recommendations": rec_html,
               "recommendations_path": str(RECOMMENDATIONS), "cohorts": cohorts, "noun": noun,
               "seasonality": content["seasonality"], "skipped": merge_reasons(content["skipped_measures"])}
    step("writing HTML and PDF")
    return _write(out, context, pdf)


def _write(out: Path, context: dict, pdf: bool) -> dict:
    env = _env()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".sna-", dir=out.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the report is for sharing
    (staging / "districts").mkdir()
    paths = {"index": out / "index.html", "districts": []}
    (staging / "index.html").write_text(env.get_template("index.html").render(**context, page="index", root=""),
                                        encoding="utf-8")
    for ch in context["districts"]:
        text = env.get_template("district.html").render(**context, chapter=ch, page=ch["slug"], root="../")
        (staging / "districts" / f"{ch['slug']}.html").write_text(text, encoding="utf-8")
        paths["districts"].append(out / "districts" / f"{ch['slug']}.html")
    if pdf:
        from weasyprint import HTML

        printable = env.get_template("print.html").render(**context, page="print", root="")
        document = HTML(string=printable, base_url=str(staging)).render()
        document.write_pdf(staging / "sna.pdf")
        paths["pdf"], paths["pages"] = out / "sna.pdf", len(document.pages)
    _replace(staging, out)
    return paths


def _replace(staging: Path, out: Path) -> None:
    """Swap the finished report into place (the previous one is removed only once this one exists)."""
    import shutil

    if out.exists():
        old = out.with_name(f".{out.name}.old")
        if old.exists():
            shutil.rmtree(old)
        os.replace(out, old)
        os.replace(staging, out)
        shutil.rmtree(old)
    else:
        os.replace(staging, out)


def _provenance(ws, scope, chapters: list[dict], extra: list[str]) -> dict:
    """What the footer and the data annex print: versions, dates, the disclosure rule, the input
    hash (lake snapshots plus everything else the report read) and the command to make it again."""
    measure_versions = sorted({(r["measure"], r["measure_version"], r["definition"], r["definition_version"])
                               for ch in chapters for r in ch["measures"]})
    hashed = [f"{scope.definition.id}|{scope.definition.version}|{scope.start}|{scope.end}|{scope.rule.id}",
              *[f"{m}|{v}|{d}|{dv}" for m, v, d, dv in measure_versions], *extra]
    return {"definition": scope.definition, "period": scope.label, "start": scope.start, "end": scope.end,
            "previous": scope.previous, "as_at": scope.as_at, "software": software_version(),
            "input_hash": input_hash(ws, hashed), "sdc_rule": scope.rule.id if scope.protect else None,
            "sdc_text": scope.rule.describe() if scope.protect else None, "measure_versions": measure_versions,
            "dataset": scope.dataset, "command": _command(ws, scope)}


def _command(ws, scope) -> str:
    """The command that writes this report again from the same workspace, even after later loads:
    `--as-at` the newest snapshot it read."""
    newest = max((s.as_at for s in current_snapshots(ws)), default=None)
    return (f"vrp sna --out DIR --from {scope.start} --to {scope.end} --definition {scope.definition.id}"
            + (f" --as-at {newest.isoformat()}" if newest else ""))


def _cohorts(ws) -> list[dict] | None:
    """Cohort sizes and age bands at the partner tier (suppressed), or None when none were built."""
    from vrp.people.cohort_store import summary

    return summary(ws, tier="partner")["cohorts"] or None


def _findings(ch: dict, content: dict, comparison_row: dict | None, scope, noun: str) -> list[str]:
    out = findings.volume_findings(ch, scope, noun)
    if ch["code"] == PARTNERSHIP:
        out += findings.highest_rate_finding(content["comparison"])
    else:
        out += findings.comparison_finding(comparison_row)
    out += findings.place_findings(ch, ch["hotspots"])
    out += findings.deprivation_findings(ch)
    out += findings.people_findings(ch)
    out += findings.measure_findings(ch)
    return out
