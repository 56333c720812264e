"""Place analysis on the real Hampshire police.uk 2025 data and ONS LSOA boundaries (../shared/data)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from vrp.ingest.police_uk import ingest_police_uk
from vrp.ingest.reference import ingest_boundaries, ingest_lsoa_lookup
from vrp.places.events import area_polygons
from vrp.places.hotspots import Query, backtest_report, local_statistic, place_counts, select_hotspots, weights_for
from vrp.query import open_lake
from vrp.workspace import init_workspace

# City-centre night-time economies (WGS84): Southampton's Bargate / Above Bar and Portsmouth's
# Guildhall / Commercial Road.
CITY_CENTRES = {"Southampton": (-1.4045, 50.9035), "Portsmouth": (-1.0920, 50.7975)}
TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)


@pytest.fixture(scope="module")
def hips(shared_data, tmp_path_factory):
    ws = init_workspace(tmp_path_factory.mktemp("hips-places") / "ws", "HIPS")
    ingest_lsoa_lookup(ws, shared_data / "geo-hips" / "hips_lsoa21_to_lad.csv")
    ingest_boundaries(ws, shared_data / "geo-hips" / "hips_lsoa21.geojson")
    ingest_police_uk(ws, [shared_data / "policeuk-hampshire-street-2025"])
    return ws


def lsoa_names(ws, rows) -> list[str]:
    con = open_lake(ws)
    (codes, polys), _ = area_polygons(con, level="lsoa")
    names = dict(con.execute("SELECT lsoa_code, lookup_lsoa_name FROM area_lsoas").fetchall())
    pt, poly = shapely.STRtree(polys).query(shapely.points([r["x"] for r in rows], [r["y"] for r in rows]),
                                            predicate="within")
    out = [""] * len(rows)
    for p, q in zip(pt, poly):
        out[p] = names[codes[q]]
    return out


def test_top_hotspots_are_the_southampton_and_portsmouth_city_centres(hips):
    data = select_hotspots(hips, Query(start="2025-01", end="2025-12", cell=150), n=19)
    rows = data["rows"]
    names = lsoa_names(hips, rows)
    cities = [n.rsplit(" ", 1)[0] for n in names]
    assert all(c in ("Southampton", "Portsmouth") for c in cities[:3]), cities[:3]
    assert sum(c in ("Southampton", "Portsmouth") for c in cities) >= 12, cities
    for city, (lon, lat) in CITY_CENTRES.items():
        cx, cy = TO_BNG.transform(lon, lat)
        best = next(r for r, c in zip(rows, cities) if c == city)
        assert np.hypot(best["x"] - cx, best["y"] - cy) < 1_500, (city, best)


def test_backtest_train_jan_sep_test_oct_dec_gives_each_method_a_pai(hips):
    data = backtest_report(hips, Query(cell=150), ("2025-01", "2025-09"), ("2025-10", "2025-12"), coverage=0.01)
    rows = {r["method"]: r for r in data["methods"]}
    assert set(rows) == {"naive", "kde", "prospective"}
    for r in rows.values():
        assert r["pai"] > 5 and r["pai_low"] < r["pai"] < r["pai_high"]   # far better than chance (PAI 1)
        assert r["test_events"] > 500


def test_gistar_on_the_real_grid_equals_esda(hips):
    """Analytic Gi* z on the real 500 m grid of the partnership (queen neighbours within the
    boundary, zero cells included) equals esda's G_Local(star=True, transform='B') to 1e-8."""
    esda = pytest.importorskip("esda")
    from libpysal.weights import WSP, WSP2W

    pc = place_counts(hips, Query(start="2025-01", end="2025-12", cell=500))
    ours = local_statistic(pc, "gistar")
    w = weights_for(pc, "queen")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wsp = WSP2W(WSP(w.tocsr()))
        ref = esda.G_Local(pc.value, wsp, transform="B", star=True, permutations=0)
    z = np.array([r["z"] for r in ours["rows"]], dtype=float)
    assert len(z) == pc.units.n > 15_000
    assert np.nanmax(np.abs(z - ref.Zs)) < 1e-8
