"""The Strategic Needs Assessment on real data: Hampshire's 2025 police.uk files, ONS boundaries and
Census 2021 population from ../shared/data (fails on CI when they are missing)."""
from __future__ import annotations

import pytest

from tests.reports.test_sna import assert_self_contained
from vrp.ingest.police_uk import ingest_police_uk
from vrp.ingest.reference import ingest_boundaries, ingest_lsoa_lookup, ingest_population
from vrp.measures.report import measure_rows
from vrp.lake.write import slug
from vrp.reports.write import write_sna
from vrp.workspace import init_workspace

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def hampshire(shared_data, tmp_path_factory):
    base = tmp_path_factory.mktemp("hips-sna")
    ws = init_workspace(base / "ws", "Hampshire and Isle of Wight VRP")
    geo = shared_data / "geo-hips"
    ingest_lsoa_lookup(ws, geo / "hips_lsoa21_to_lad.csv")
    ingest_lsoa_lookup(ws, geo / "hips_lsoa11_to_lad.csv")
    ingest_boundaries(ws, geo / "hips_lsoa21.geojson")
    ingest_population(ws, shared_data / "ons-census2021-lsoa-age" / "census2021_lsoa21_usual_residents_by_age6.csv.gz")
    ingest_police_uk(ws, [shared_data / "policeuk-hampshire-street-2025"])
    paths = write_sna(ws, base / "sna", "2025-01", "2025-12", pdf=False)
    return ws, paths


def test_fourteen_district_chapters_equal_vrp_measures_show(hampshire):
    ws, paths = hampshire
    assert len(paths["districts"]) == 14
    assert {p.stem for p in paths["districts"]} >= {"portsmouth", "southampton", "isle-of-wight", "basingstoke-and-deane"}
    rows = measure_rows(ws, ["all"], "district", "custom", "2025-01", "2025-12", "previous", "partner")
    assert {r["measure"] for r in rows} == {"L1-policeuk", "ROB-policeuk", "S3-policeuk"}
    pages = {"partnership": paths["index"], **{p.stem: p for p in paths["districts"]}}
    for r in rows:
        page = pages["partnership" if r["area_code"] == "partnership" else slug(r["area"])]
        cell = f'<td class="num">{r["count"]:,}</td>\n<td class="num">{r["rate"]:,.1f}</td>'
        assert cell in page.read_text(encoding="utf-8"), (page.name, r["measure"])


def test_volumes_are_the_police_uk_approximation_and_add_up(hampshire):
    ws, paths = hampshire
    rows = {r["area"]: r for r in measure_rows(ws, ["L1-policeuk"], "district", "custom", "2025-01", "2025-12")}
    index = paths["index"].read_text(encoding="utf-8")
    assert f'{rows["Hampshire and Isle of Wight VRP"]["count"]:,} serious violence offences (police.uk approximation)' in index
    assert sum(r["count"] for a, r in rows.items() if a != "Hampshire and Isle of Wight VRP") == \
        rows["Hampshire and Isle of Wight VRP"]["count"]
    assert "police.uk publishes crime types, not Home Office offence codes" in index
    # the August 2025 publication anomaly is named where the trend is read, not only in the register
    assert ("Data quality: Possession of weapons in 2025-08 (734) is far above the other months (typically 161), "
            "and 9 other series moved sharply the same month") in index


def test_no_page_refers_outside_the_report(hampshire):
    _, paths = hampshire
    assert_self_contained(paths["index"].parent, 15)
