"""Place analysis over a demo partnership, through the same functions and commands a user runs:
the hotspots found must be the town centres the simulation planted."""
from __future__ import annotations

import csv
import json

import geopandas as gpd
import numpy as np
import pytest
from typer.testing import CliRunner

from vrp.cli import app
from vrp.demo import generate
from vrp.errors import VrpError
from vrp.ingest.extract import ingest_police_extract
from vrp.ingest.police_uk import ingest_police_uk
from vrp.ingest.reference import ingest_boundaries, ingest_lsoa_lookup
from vrp.places.hotspots import Query, backtest_report, concentration_summary, knox_report, local_statistic, \
    place_counts, select_hotspots, split_periods, stability_report
from vrp.query import open_lake
from vrp.workspace import init_workspace

runner = CliRunner()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    base = tmp_path_factory.mktemp("demo-places")
    m = generate(base / "files", seed=7, years=(2024, 2025), scale=0.4)
    ws = init_workspace(base / "ws", "Wessex")
    ingest_lsoa_lookup(ws, m.lsoa_lookup)
    ingest_boundaries(ws, m.boundaries)
    ingest_police_extract(ws, m.extracts, str(m.mapping))
    ingest_police_uk(ws, m.police_uk)
    return ws, json.loads(m.ground_truth.read_text())


def lsoa_of_cells(ws, cell_rows):
    """The LSOA holding each cell centre (from the loaded boundaries)."""
    from vrp.places.events import area_polygons
    import shapely

    (codes, polys), _ = area_polygons(open_lake(ws), level="lsoa")
    pts = shapely.points([r["x"] for r in cell_rows], [r["y"] for r in cell_rows])
    tree = shapely.STRtree(polys)
    pt_i, poly_i = tree.query(pts, predicate="within")
    out = [None] * len(cell_rows)
    for p, q in zip(pt_i, poly_i):
        out[p] = codes[q]
    return out


def test_every_cell_of_the_study_area_is_counted_and_events_add_up(demo):
    ws, _ = demo
    pc = place_counts(ws, Query(start="2024-01", end="2025-12", cell=250))
    assert pc.count.sum() + pc.outside == pc.events.n
    assert pc.outside == 0                                   # boundary loaded: every in-area crime is on the grid
    assert (pc.count == 0).sum() > 0.5 * pc.units.n          # zero-count cells are kept
    prov = pc.provenance()
    assert prov["definition"] == "hips-sv" and prov["definition_version"] and prov["as_at"]
    assert prov["study_area"].startswith("partnership boundary")
    # the grid holds exactly the partnership's area
    from vrp.places.events import study_area
    area, _ = study_area(ws, open_lake(ws))
    assert pc.units.area_km2.sum() == pytest.approx(area.area / 1e6, rel=1e-9)


def test_gistar_hotspots_are_the_planted_town_centres(demo):
    ws, truth = demo
    pc = place_counts(ws, Query(start="2024-01", end="2025-12", cell=250))
    data = local_statistic(pc, "gistar")
    rows = data["rows"]
    assert len(rows) == pc.units.n and {"cell_id", "x", "y", "value", "z", "p", "q"} <= set(rows[0])
    hot = sorted((r for r in rows if r["significant"] and r["z"] > 0), key=lambda r: -r["z"])[:20]
    assert len(hot) == 20
    centres = set(truth["hotspot_lsoas"])
    inside = [code in centres for code in lsoa_of_cells(ws, hot)]
    assert sum(inside) >= 15, f"only {sum(inside)} of the top 20 Gi* cells lie in town-centre LSOAs"


def test_selection_ranks_by_count_with_shares_that_add_up(demo):
    ws, truth = demo
    data = select_hotspots(ws, Query(start="2024-01", end="2025-12", cell=250), n=20)
    rows = data["rows"]
    assert [r["rank"] for r in rows] == list(range(1, 21))
    counts = [r["count"] for r in rows]
    assert counts == sorted(counts, reverse=True)
    assert rows[-1]["cumulative_share_of_count"] == pytest.approx(sum(r["share_of_count"] for r in rows), abs=1e-5)
    assert rows[-1]["cumulative_share_of_area"] < 0.01
    assert sum(c in set(truth["hotspot_lsoas"]) for c in lsoa_of_cells(ws, rows)) >= 15
    by_cover = select_hotspots(ws, Query(start="2024-01", end="2025-12", cell=250), coverage=0.01)
    assert by_cover["rows"][-1]["cumulative_share_of_area"] >= 0.01


def test_harm_weighted_selection_carries_harm_and_scheme(demo):
    ws, _ = demo
    data = select_hotspots(ws, Query(start="2024-01", end="2025-12", cell=250, weight="harm-css"), n=5)
    assert data["provenance"]["weight"].startswith("css")
    harms = [r["harm"] for r in data["rows"]]
    assert harms == sorted(harms, reverse=True) and harms[0] > 0
    assert data["rows"][0]["weight"].startswith("css")


def test_concentration_of_serious_violence(demo):
    ws, _ = demo
    data = concentration_summary(place_counts(ws, Query(start="2024-01", end="2025-12", cell=250)))
    s = data["summary"]
    half = next(m for m in s["smallest"] if m["target"] == 0.5)
    assert 0 < half["unit_share"] < 0.05 and half["value_share"] >= 0.5
    assert 0.8 < s["gini"] < 1
    assert data["lorenz"][0] == {"unit_share": 0.0, "value_share": 0.0} and data["lorenz"][-1]["value_share"] == 1.0


def test_stability_finds_persistent_town_centres(demo):
    ws, truth = demo
    data = stability_report(ws, Query(start="2024-01", end="2025-12", cell=250), period_months=6,
                            top_fraction=0.01, bootstrap=19, seed=3)
    assert len(data["pairs"]) == 3 and all(-1 <= p["spearman"] <= 1 for p in data["pairs"])
    persistent = [u for u in data["units"] if u["class"] == "persistent"]
    assert persistent and all(0 <= u["confidence"] <= 1 for u in persistent)
    assert sum(c in set(truth["hotspot_lsoas"]) for c in lsoa_of_cells(ws, persistent)) >= 0.75 * len(persistent)


def test_split_periods():
    assert split_periods("2025-01", "2025-12", 3) == [("2025-01", "2025-03"), ("2025-04", "2025-06"),
                                                      ("2025-07", "2025-09"), ("2025-10", "2025-12")]
    with pytest.raises(VrpError, match="does not divide"):
        split_periods("2025-01", "2025-10", 3)


def test_backtest_reports_each_method(demo):
    ws, _ = demo
    data = backtest_report(ws, Query(cell=250), ("2024-01", "2024-09"), ("2024-10", "2024-12"), coverage=0.05)
    rows = data["methods"]
    assert [r["method"] for r in rows] == ["naive", "kde", "prospective"]
    for r in rows:
        assert r["pai"] == pytest.approx(r["hit_rate"] / r["area_share"])
        assert r["pai_low"] <= r["pai"] <= r["pai_high"] and 0 <= r["pei"] <= 1
        assert r["pai"] > 2   # concentrated violence: any sensible forecast beats chance


def test_knox_on_days_of_the_force_extract(demo):
    ws, _ = demo
    data = knox_report(ws, Query(start="2024-01", end="2024-06"), [0, 100, 200], [0, 7, 14], iterations=19, seed=2)
    assert data["provenance"]["time_unit"] == "days"
    observed = np.array(data["summary"]["observed"])
    n = data["summary"]["n_events"]
    assert observed.sum() == n * (n - 1) // 2


def test_cli_gistar_writes_every_cell_and_geopackage_opens_in_bng(demo, tmp_path):
    ws, _ = demo
    out = tmp_path / "gistar.csv"
    result = runner.invoke(app, ["hotspots", "gistar", "--cell", "500", "--from", "2024-01", "--to", "2024-12",
                                 "--out", str(out), "--workspace", str(ws.root)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert {"cell_id", "x", "y", "value", "z", "p", "q", "definition_version", "as_at"} <= set(rows[0])
    assert any(float(r["value"]) == 0 for r in rows)
    gpkg = tmp_path / "hotspots.gpkg"
    result = runner.invoke(app, ["hotspots", "select", "--n", "10", "--cell", "250", "--out", str(gpkg),
                                 "--workspace", str(ws.root)])
    assert result.exit_code == 0, result.output
    frame = gpd.read_file(gpkg)
    assert frame.crs.to_epsg() == 27700 and len(frame) == 10
    geojson = tmp_path / "hotspots.geojson"
    assert runner.invoke(app, ["hotspots", "select", "--coverage", "0.005", "--cell", "250", "--out", str(geojson),
                               "--workspace", str(ws.root)]).exit_code == 0
    assert gpd.read_file(geojson).crs.to_epsg() == 4326


def test_cli_backtest_json_is_a_list_of_methods(demo):
    ws, _ = demo
    result = runner.invoke(app, ["hotspots", "backtest", "--train-from", "2024-01", "--train-to", "2024-09",
                                 "--test-from", "2024-10", "--test-to", "2024-12", "--cell", "250", "--coverage", "0.05",
                                 "--json", "--workspace", str(ws.root)])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert isinstance(rows, list) and {r["method"] for r in rows} >= {"naive", "kde", "prospective"}
    assert all({"hit_rate", "pai", "pei"} <= set(r) for r in rows)


def test_cli_bad_options_are_one_line_errors(demo, tmp_path):
    ws, _ = demo
    for args, message in ((["grid", "--weight", "harm-x"], "unknown --weight"),
                          (["grid", "--from", "2024-13"], "not a YYYY-MM month"),
                          (["select", "--n", "5", "--out", str(tmp_path / "x.shp")], "unknown output format"),
                          (["gistar", "--neighbourhood", "distance:far"], "distance:METRES"),
                          (["grid", "--unit", "triangle"], "unknown unit")):
        result = runner.invoke(app, ["hotspots", *args, "--cell", "1000", "--workspace", str(ws.root)])
        assert result.exit_code != 0
        assert message in str(result.exception) or message in result.output
