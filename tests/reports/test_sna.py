"""The Strategic Needs Assessment on the demo partnership: figures equal the measures and the
generator's ground truth, partners never see a small number, the same inputs give the same HTML,
nothing refers outside the report folder, and a police.uk-only workspace says what it cannot show."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.conftest import demo_workspace
from vrp.cli import app
from vrp.disclosure import DisclosureRule, recoverable, suppress
from vrp.errors import VrpError
from vrp.ingest.extract import ingest_police_extract
from vrp.ingest.health import ingest_ed_attendances
from vrp.ingest.homicides import ingest_homicides
from vrp.ingest.police_uk import ingest_police_uk
from vrp.ingest.reference import ingest_lsoa_lookup, ingest_population
from vrp.measures.report import measure_rows
from vrp.query import open_lake
from vrp.reports.sna import PARTNERSHIP, TOTAL, Protect, assemble, period_label
from vrp.reports.write import write_sna
from vrp.workspace import init_workspace


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    base = tmp_path_factory.mktemp("sna")
    ws, m = demo_workspace(base, seed=5, scale=0.3, name="Wessex VRP")
    ingest_police_extract(ws, m.extracts, str(m.mapping))
    ingest_homicides(ws, [m.homicides], str(m.homicides_mapping))
    ingest_ed_attendances(ws, m.ed_attendances, str(m.ed_mapping))
    (ws.root / "sna").mkdir()
    (ws.root / "sna" / "recommendations.md").write_text(
        "## Priority 1: knife crime in Portwell\n\nFund *detached youth work*.\n\n<script>alert(1)</script>\n")
    paths = write_sna(ws, base / "report")
    content = assemble(ws)
    return dict(ws=ws, manifest=m, truth=json.loads(m.ground_truth.read_text()), paths=paths,
                content=content, base=base)


def _counts(content) -> dict:
    return {c["code"]: c["volume"] for c in content["chapters"]}


def test_default_scope_is_the_last_twelve_months_against_the_twelve_before(demo):
    scope = demo["content"]["scope"]
    assert (scope.start, scope.end, scope.previous) == ("2025-01", "2025-12", ("2024-01", "2024-12"))
    assert scope.definition.id == "hips-sv" and scope.protect
    assert period_label("2024-04", "2025-03") == "April 2024 to March 2025"


def test_chapter_figures_equal_vrp_measures_show(demo):
    """The volume of every chapter is the L1 measure (the same definition) that `vrp measures
    show --period custom --tier partner` gives, and the districts add up to the partnership."""
    rows = measure_rows(demo["ws"], ["L1"], "district", "custom", "2025-01", "2025-12", "previous", "partner")
    volumes = _counts(demo["content"])
    assert {r["area_code"]: r["count"] for r in rows} == {code: v["count"] for code, v in volumes.items()}
    assert {r["area_code"]: r["baseline_count"] for r in rows} == {code: v["previous"] for code, v in volumes.items()}
    districts = [v["count"] for code, v in volumes.items() if code != PARTNERSHIP]
    assert sum(districts) == volumes[PARTNERSHIP]["count"]
    chapter_measures = {(r["measure"], r["area_code"]): r["count"] for c in demo["content"]["chapters"] for r in c["measures"]}
    assert all(chapter_measures[("L1", r["area_code"])] == r["count"] for r in rows)


def test_robbery_chapters_equal_the_ground_truth(demo):
    content = assemble(demo["ws"], "2025-01", "2025-12", "ho-robbery")
    truth = demo["truth"]["measure_counts"]
    for code, v in _counts(content).items():
        if code == PARTNERSHIP:
            assert v["count"] == sum(d["robbery"] for d in truth["2025"].values())
        else:
            assert (v["count"], v["previous"]) == (truth["2025"][code]["robbery"], truth["2024"][code]["robbery"])
    assert sum(r["count"] for r in content["chapters"][0]["volume"]["monthly"]) == content["chapters"][0]["volume"]["count"]


def test_rates_and_changes_are_the_exact_ones(demo):
    from scipy import stats

    v = demo["content"]["chapters"][0]["volume"]
    low = stats.chi2.ppf(0.025, 2 * v["count"]) / 2 / v["population"] * 1000
    high = stats.chi2.ppf(0.975, 2 * v["count"] + 2) / 2 / v["population"] * 1000
    assert (v["ci_low"], v["ci_high"]) == (round(low, 2), round(high, 2))
    # exact conditional test: current | total ~ Binomial(total, 1/2) under no change
    p = stats.binomtest(v["count"], v["count"] + v["previous"], 0.5).pvalue
    assert v["change"]["p_value"] == pytest.approx(p, rel=1e-6)


def test_time_of_day_and_ages_equal_an_independent_query(demo):
    ws, content = demo["ws"], demo["content"]
    con = open_lake(ws)
    from vrp.definitions import get_definition, is_match_sql

    match = is_match_sql(get_definition("hips-sv"))
    where = f"in_area AND crime_status = 'confirmed' AND {match} AND month BETWEEN '2025-01' AND '2025-12'"
    hours = dict(con.execute(f"SELECT hour(committed_from), count(*) FROM crimes_enriched WHERE {where} "
                             "AND committed_from IS NOT NULL GROUP BY 1").fetchall())
    shown = {int(r["category"]): r["count"] for r in content["chapters"][0]["when"]["hours"]}
    assert all(shown[h] in (None, hours.get(h, 0)) for h in range(24))
    assert sum(1 for h in range(24) if shown[h] is not None) >= 20
    young = con.execute(f"SELECT count(*) FROM crimes_enriched WHERE {where} AND victim_age < 25").fetchone()[0]
    assert content["chapters"][0]["victims"]["under25"] == young


def test_concentration_equals_a_hand_computation(demo):
    p, frame = demo["content"]["chapters"][0]["places"], demo["content"]["frame"]
    by = frame[frame["current"]].groupby("lsoa_code").size()
    counts = np.sort(np.array([by.get(code, 0) for code in p["counts"]], dtype=float))[::-1]
    cumulative = np.cumsum(counts) / counts.sum()
    need = int(np.argmax(cumulative >= 0.5)) + 1
    c = p["concentration"]
    assert c["half_units"] == need and c["half_unit_share"] == round(100 * need / len(counts), 1)
    assert c["zero_units"] == int((counts == 0).sum())


def test_protect_hides_small_counts_and_their_complements():
    rule = DisclosureRule()
    shown = Protect(rule, True).cross({"A": {"x": 3, "y": 20}, "B": {"x": 10, "y": 12}}, ["x", "y"], ["A", "B"])
    assert shown["A"]["x"] is None
    cells = {(a, c): n for a, row in {"A": {"x": 3, "y": 20}, "B": {"x": 10, "y": 12}}.items() for c, n in row.items()}
    cells.update({("A", TOTAL): 23, ("B", TOTAL): 22, (PARTNERSHIP, "x"): 13, (PARTNERSHIP, "y"): 32,
                  (PARTNERSHIP, TOTAL): 45})
    groups = [(("A", TOTAL), [("A", "x"), ("A", "y")]), (("B", TOTAL), [("B", "x"), ("B", "y")]),
              ((PARTNERSHIP, TOTAL), [(PARTNERSHIP, "x"), (PARTNERSHIP, "y")]),
              ((PARTNERSHIP, "x"), [("A", "x"), ("B", "x")]), ((PARTNERSHIP, "y"), [("A", "y"), ("B", "y")]),
              ((PARTNERSHIP, TOTAL), [("A", TOTAL), ("B", TOTAL)])]
    hidden = {(a, c) for a, row in shown.items() for c, v in row.items() if v is None}
    assert hidden == set(suppress(cells, groups, rule).suppressed)
    assert recoverable(cells, groups, hidden) == set()
    assert Protect(rule, False).cross({"A": {"x": 3}}, ["x"], ["A"])["A"]["x"] == 3  # open data pass through


def _numbers(obj, path=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _numbers(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _numbers(v, f"{path}[{i}]")
    elif isinstance(obj, int) and not isinstance(obj, bool):
        yield path, obj


def test_partners_never_see_a_small_count(demo):
    """Every count the chapters carry (profiles, months, LSOAs, hours) is 0, withheld or >= 5."""
    for chapter in demo["content"]["chapters"]:
        for key in ("volume", "mix", "when", "victims", "suspects", "locations", "places"):
            for path, n in _numbers(chapter[key], f"{chapter['slug']}.{key}"):
                if re.search(r"\.(count|previous|under25|night|timed|total)$|counts\.", path):
                    assert n == 0 or n >= 5, path
    small = [r for c in demo["content"]["chapters"] for r in c["mix"]["rows"] if r["count"] is None]
    assert all(r["share"] is None for r in small)
    for chapter in demo["content"]["chapters"]:  # area totals shown alike in every breakdown
        total = chapter["volume"]["count"]
        assert total is not None
        assert chapter["mix"]["total"] == chapter["victims"]["ages"]["total"] == chapter["victims"]["sexes"]["total"] \
            == chapter["locations"]["total"] == total


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs = []

    def handle_starttag(self, tag, attrs):
        self.refs += [(tag, k, v) for k, v in attrs if k in ("href", "src", "xlink:href", "data")]


def assert_self_contained(out: Path, n_pages: int) -> None:
    """No page refers to anything outside the report folder: links resolve inside it, anchors to
    ids on the page, and there is no URL, stylesheet link, script or @import."""
    pages = sorted(out.rglob("*.html"))
    assert len(pages) == n_pages
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"https?://(?!www\.w3\.org/)", text), page
        assert "@import" not in text and "<link" not in text and "<script" not in text.replace("&lt;script", "")
        parser = _Refs()
        parser.feed(text)
        for tag, attr, value in parser.refs:
            if value.startswith("#"):
                assert f'id="{value[1:]}"' in text, (page.name, value)
                continue
            target = (page.parent / value.split("#")[0]).resolve()
            assert target.is_file() and out.resolve() in target.parents, (page.name, value)


def test_every_page_is_self_contained(demo):
    assert_self_contained(demo["base"] / "report", 1 + len(demo["truth"]["districts"]))


def test_same_inputs_give_byte_identical_html(demo):
    again = write_sna(demo["ws"], demo["base"] / "again", pdf=False)
    first = demo["paths"]
    for a, b in zip([first["index"], *first["districts"]], [again["index"], *again["districts"]]):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert "pdf" not in again


def test_report_content_and_pdf(demo):
    index = demo["paths"]["index"].read_text(encoding="utf-8")
    for heading in ("Key findings", "Volume and trend", "District comparison", "Outcome measures", "When", "Who",
                    "Where", "Data sources", "Data gaps", "Recommendations", "Data annex: versions and reproducibility"):
        assert f">{heading}</h2>" in index, heading
    assert "<h2>Priority 1: knife crime in Portwell</h2>" in index and "<em>detached youth work</em>" in index
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in index  # the analyst's file cannot inject markup
    assert re.search(r"\d+(\.\d)?% of serious violence occurred in \d+\.\d% of small areas", index)
    assert "hips-sv v" in index and "Inputs (SHA-256)" in index and "vrp sna --out DIR --from 2025-01 --to 2025-12 --definition hips-sv --as-at " in index
    assert 'role="img"' in index and index.count("<svg") >= 8
    pdf = demo["paths"]["pdf"]
    assert pdf.read_bytes()[:5] == b"%PDF-" and demo["paths"]["pages"] >= 20


def test_bad_period_fails_in_one_line_and_leaves_the_report(demo):
    before = {p: p.read_bytes() for p in (demo["base"] / "report").rglob("*") if p.is_file()}
    with pytest.raises(VrpError, match=r"not loaded for 2019-01"):
        write_sna(demo["ws"], demo["base"] / "report", "2019-01", "2019-12")
    with pytest.raises(VrpError, match="is not a YYYY-MM month"):
        write_sna(demo["ws"], demo["base"] / "report", "2025-13")
    assert {p: p.read_bytes() for p in (demo["base"] / "report").rglob("*") if p.is_file()} == before


def test_police_uk_only_workspace_says_what_it_cannot_show(demo, tmp_path):
    m = demo["manifest"]
    ws = init_workspace(tmp_path / "ws", "Open data VRP")
    ingest_lsoa_lookup(ws, m.lsoa_lookup)
    ingest_population(ws, m.population)
    ingest_police_uk(ws, m.police_uk)
    result = CliRunner().invoke(app, ["sna", "--out", str(tmp_path / "out"), "--no-pdf", "--workspace", str(ws.root), "--json"])
    assert result.exit_code == 0, result.output
    paths = json.loads(result.stdout)
    assert paths["pdf"] is None and len(paths["districts"]) == len(demo["truth"]["districts"])
    index = Path(paths["index"]).read_text(encoding="utf-8")
    assert "policeuk-sv-approx" in index and "open data (police.uk), no suppression needed" in index
    for text in ("There is no knife or sharp-instrument flag", "Dates are months only", "No boundaries are loaded",
                 "Force crime extract not loaded"):
        assert text in index, text
    assert "victims whose age was recorded" not in index


def test_a_past_report_is_made_again_exactly_with_as_at(demo, tmp_path):
    """Acceptance check 10: after the force revises its extract, `--as-at` the first load's date
    gives the first report byte for byte; without it the revision shows."""
    from datetime import date

    m = demo["manifest"]
    ws = init_workspace(tmp_path / "ws", "Wessex VRP")
    ingest_lsoa_lookup(ws, m.lsoa_lookup, as_at=date(2026, 1, 31))
    ingest_population(ws, m.population, as_at=date(2026, 1, 31))
    ingest_police_extract(ws, m.extracts, str(m.mapping), as_at=date(2026, 1, 31))
    first = write_sna(ws, tmp_path / "first", pdf=False)
    latest = sorted(m.extracts)[-1]
    lines = Path(latest).read_text(encoding="utf-8").splitlines(keepends=True)
    revised = tmp_path / "revised" / Path(latest).name
    revised.parent.mkdir()
    revised.write_text("".join(lines[:1] + lines[1:][::2]), encoding="utf-8")  # half the year's crimes withdrawn
    ingest_police_extract(ws, [revised], str(m.mapping), as_at=date(2026, 2, 28))
    run = lambda out, *extra: CliRunner().invoke(app, ["sna", "--out", str(tmp_path / out), "--no-pdf",  # noqa: E731
                                                       "--workspace", str(ws.root), *extra])
    assert run("again", "--as-at", "2026-01-31").exit_code == 0
    assert run("now").exit_code == 0
    pages = [first["index"], *first["districts"]]
    for page in pages:
        relative = page.relative_to(tmp_path / "first")
        assert (tmp_path / "again" / relative).read_bytes() == page.read_bytes(), relative
    now = (tmp_path / "now" / "index.html").read_text(encoding="utf-8")
    assert now != first["index"].read_text(encoding="utf-8") and "data as at 2026-02-28" in now


def test_quality_findings_name_anomalies_in_the_reported_series_and_period(demo):
    from vrp.reports.findings import quality_findings

    scope = demo["content"]["scope"]
    check = {"dataset": "crimes", "check": "monthly_anomalies", "examples": [
        {"series": "Robbery", "month": "2025-03", "count": 90, "expected": 40.0, "direction": "high"},
        {"series": "Burglary", "month": "2025-03", "count": 5, "expected": 60.0, "direction": "low"},
        {"series": "Robbery", "month": "2023-03", "count": 90, "expected": 40.0, "direction": "high"}]}
    assert quality_findings({"checks": [check]}, scope, {"Robbery"}) == [
        "Data quality: Robbery in 2025-03 (90) is far above the other months (typically 40), and 1 other series "
        "moved sharply the same month, which suggests a recording change: read that month with care."]


def test_deprivation_deciles_equal_an_independent_join(demo, tmp_path):
    from scipy import stats

    from vrp.ingest.reference import ingest_deprivation

    ws = init_workspace(tmp_path / "ws", "Wessex VRP")
    m = demo["manifest"]
    for ingest, path in ((ingest_lsoa_lookup, m.lsoa_lookup), (ingest_population, m.population),
                         (ingest_deprivation, m.deprivation)):
        ingest(ws, path)
    ingest_police_extract(ws, m.extracts, str(m.mapping))
    dep = assemble(ws)["chapters"][0]["deprivation"]
    con = open_lake(ws)
    from vrp.definitions import get_definition, is_match_sql

    truth = dict(con.execute(f"""
        SELECT d.imd_decile, count(*) FROM crimes_enriched c JOIN deprivation d USING (lsoa_code)
        WHERE c.in_area AND c.crime_status = 'confirmed' AND {is_match_sql(get_definition('hips-sv'))}
          AND c.month BETWEEN '2025-01' AND '2025-12' GROUP BY 1""").fetchall())
    shown = {r["decile"]: r["count"] for r in dep["rows"]}
    assert all(n is None or n == truth.get(d, 0) for d, n in shown.items()) and sum(n is not None for n in shown.values()) >= 8
    g = dep["gradient"]
    most, least = (next(r for r in dep["rows"] if r["decile"] == g[k]) for k in ("most", "least"))
    assert g["rr"] == round(truth[g["most"]] / most["population"] / (truth[g["least"]] / least["population"]), 2)
    p_most = most["population"] / (most["population"] + least["population"])
    ci = stats.binomtest(truth[g["most"]], truth[g["most"]] + truth[g["least"]], p_most).proportion_ci(method="exact")
    odds = lambda q: q / (1 - q) * least["population"] / most["population"]  # noqa: E731
    assert (g["low"], g["high"]) == (round(odds(ci.low), 2), round(odds(ci.high), 2))
    assert dep["unmatched_lsoas"] == 0
