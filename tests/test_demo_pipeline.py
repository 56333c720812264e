"""The demo partnership through the same ingest a user runs, checked against the generator's ground truth."""
from __future__ import annotations

import json
from collections import Counter

import pytest

from tests.conftest import demo_workspace
from vrp.classify import classify_workspace
from vrp.ingest.extract import ingest_police_extract
from vrp.ingest.police_uk import ingest_police_uk
from vrp.ingest.reference import ingest_deprivation
from vrp.query import counts, open_lake
from vrp.quality import quality_report

HOMICIDE = {"1", "4.1", "4.2", "4.10"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    base = tmp_path_factory.mktemp("demo")
    ws, manifest = demo_workspace(base, seed=7, scale=0.4)
    ingest_deprivation(ws, manifest.deprivation)
    extract = ingest_police_extract(ws, manifest.extracts, str(manifest.mapping))
    police = ingest_police_uk(ws, manifest.police_uk)
    truth = json.loads(manifest.ground_truth.read_text())
    return ws, manifest, truth, extract, police


def test_every_row_accounted_for_and_bad_rows_quarantined_at_their_lines(demo):
    _, manifest, truth, extract, police = demo
    for f in extract["files"]:
        name = f["file"].rsplit("/", 1)[-1]
        assert f["rows_in"] == truth["extracts"][name]["rows"]
        assert f["rows_quarantined"] == truth["extracts"][name]["bad_rows"]
    lines = sorted((q["file"], q["line"]) for q in extract["quarantine_sample"])
    expected = sorted((name, b["line"]) for name, rows in truth["bad_rows"].items() for b in rows)
    assert lines == expected[: len(lines)]
    assert police["rows_quarantined"] == 0
    assert police["rows_in"] == sum(v["rows"] for v in truth["police_uk"].values())


def test_confirmed_counts_by_district_year_and_code_equal_ground_truth(demo):
    ws, _, truth, _, _ = demo
    got = {(r["year"], r["district_code"], r["offence_code"]): r["count"]
           for r in counts(ws, ["year", "district_code", "offence_code"])}
    expected = {(y, d, c): n for y, by_d in truth["confirmed_counts"].items() for d, by_c in by_d.items() for c, n in by_c.items()}
    assert got == expected


def test_definitions_against_ground_truth(demo):
    ws, _, truth, _, _ = demo
    knife = {(r["year"], r["district_code"]): r["count"] for r in counts(ws, ["year", "district_code"], ["ho-knife-enabled"])}
    expected = Counter()
    for y, by_d in truth["knife_yes_counts"].items():
        for d, by_c in by_d.items():
            expected[(y, d)] += sum(by_c.values())
    assert knife == dict(expected)
    homicide = sum(r["count"] for r in counts(ws, [], ["ho-homicide"]))
    assert homicide == sum(n for by_d in truth["confirmed_counts"].values() for by_c in by_d.values()
                           for c, n in by_c.items() if c in HOMICIDE)
    # HIPS: at least the offences that are serious violence whatever the flags, at most those plus
    # every s.20 GBH, riot and knife-enabled violence with injury.
    always = {"1", "2", "5D", "34A", "34B", "10A", "10B", "10C", "10D", "81", "90", "62A"}
    base = sum(n for by_d in truth["confirmed_counts"].values() for by_c in by_d.values() for c, n in by_c.items() if c in always)
    tags = sum(by_t.get("gbh_s20", 0) + by_t.get("riot", 0) for by_d in truth["subcode_tag_counts"].values() for by_t in by_d.values())
    vwi_knife = sum(n for by_d in truth["knife_yes_counts"].values() for by_c in by_d.values()
                    for c, n in by_c.items() if c in {"4.3", "5E", "8N", "8P", "8S"})
    hips = sum(r["count"] for r in counts(ws, [], ["hips-sv"]))
    assert base < hips <= base + tags + vwi_knife


def test_police_uk_counts_by_crime_type_equal_ground_truth(demo):
    ws, _, truth, _, _ = demo
    got = Counter({r["crime_type"]: r["count"] for r in counts(ws, ["crime_type"], dataset="police_uk")})
    expected = Counter()
    for v in truth["police_uk"].values():
        expected.update(v["crime_types"])
    assert got == expected


def test_classify_keeps_rules_and_quality_runs(demo):
    ws, _, _, _, _ = demo
    result = classify_workspace(ws, ["hips-sv", "ho-knife-enabled"])
    (hips,) = [d for d in result["definitions"] if d["definition"] == "hips-sv"]
    assert hips["matched"] == sum(r["count"] for r in counts(ws, [], ["hips-sv"]))
    assert {r["rule"] for r in hips["rules"] if r["records"]} >= {"robbery", "possession_of_weapons", "vwi_knife"}
    (overlap,) = result["overlaps"]
    assert overlap["both"] > 0 and overlap["only_a"] > 0  # possession is HIPS SV but never knife-enabled
    con = open_lake(ws)
    assert con.execute("SELECT count(*) FROM classifications WHERE definition_id = 'hips-sv' AND is_match").fetchone()[0] == hips["matched"]
    report = {(c["dataset"], c["check"]): c for c in quality_report(ws)["checks"]}
    assert report[("crimes", "quarantined_rows")]["count"] > 0
    assert 0 < report[("crimes", "knife_flag_completeness")]["count"] < report[("crimes", "knife_flag_completeness")]["total"]


def test_pseudonymised_suspects_keep_repeat_offending(demo):
    ws, _, truth, _, _ = demo
    con = open_lake(ws)
    per_person = con.execute("SELECT p, count(*) FROM (SELECT unnest(suspect_pids) AS p FROM crimes WHERE crime_status = 'confirmed') GROUP BY p").fetchall()
    prolific = sorted((n for _, n in per_person if n >= truth["prolific_min_offences"]), reverse=True)
    assert prolific == sorted((s["offences"] for s in truth["prolific_suspects"]), reverse=True)
