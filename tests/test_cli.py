"""The command as a user runs it: exit codes, one-line errors, --json on every reporting command."""
import json
import subprocess
import sys

import pytest

from tests.conftest import write_csv
from vrp.ingest.police_uk import HEADER
from vrp.quality import find_anomalies

ROWS = [
    "c1,2025-01,Test Police,Test Police,-1.40,50.90,On or near A,E01000001,Alpha 001A,Robbery,Under investigation,",
    "c2,2025-01,Test Police,Test Police,-1.40,50.90,On or near A,E01000001,Alpha 001A,Possession of weapons,,",
    "c3,2025-02,Test Police,Test Police,-1.40,50.90,On or near B,E01000002,Beta 001A,Burglary,,",
    "c4,2025-02,Test Police,Test Police,-1.40,50.90,On or near C,E01000099,Gamma 001A,Robbery,,",
    "c4,2025-02,Test Police,Test Police,-1.40,50.90,On or near C,E01000002,Alpha 001B,Drugs,,",
]


def vrp(*args, ws=None):
    env_args = ["--workspace", str(ws)] if ws else []
    return subprocess.run([sys.executable, "-m", "vrp", *args, *env_args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def cli_ws(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    ws = tmp / "ws"
    assert vrp("init", str(ws)).returncode == 0
    write_csv(tmp / "lookup.csv", "LSOA21CD,LSOA21NM,LADCD,LADNM\nE01000001,Alpha 001A,E07000001,Alpha\n"
                                  "E01000002,Beta 001A,E07000002,Beta\n")
    write_csv(tmp / "2025-01-test-street.csv", ",".join(HEADER) + "\n" + "\n".join(ROWS) + "\n")
    r = vrp("ingest", "reference", "lsoa-lookup", str(tmp / "lookup.csv"), "--json", ws=ws)
    assert r.returncode == 0, r.stderr
    r = vrp("ingest", "police-uk", str(tmp / "2025-01-test-street.csv"), "--json", "--as-at", "2025-03-01", ws=ws)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert {k: summary[k] for k in ("rows_in", "rows_loaded", "rows_quarantined")} == {"rows_in": 5, "rows_loaded": 5, "rows_quarantined": 0}
    assert summary["files"][0]["status"] == "loaded"
    return tmp, ws


def test_counts_json(cli_ws):
    _, ws = cli_ws
    r = vrp("counts", "--by", "district,crime_type", "--json", ws=ws)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert {"district": "Alpha", "crime_type": "Robbery", "count": 1} in rows
    assert {"district": None, "crime_type": "Robbery", "count": 1} in rows  # outside the area
    r = vrp("counts", "--by", "month", "--definition", "policeuk-sv-approx", "--from", "2025-02", "--json", ws=ws)
    assert json.loads(r.stdout) == [{"month": "2025-02", "count": 1}]


def test_status_quality_explain_json(cli_ws):
    _, ws = cli_ws
    status = json.loads(vrp("status", "--json", ws=ws).stdout)
    (pu,) = [d for d in status["datasets"] if d["dataset"] == "police_uk"]
    assert (pu["rows"], pu["period_from"], pu["period_to"], pu["as_at_to"]) == (5, "2025-01", "2025-02", "2025-03-01")
    quality = {c["check"]: c for c in json.loads(vrp("quality", "--json", ws=ws).stdout)["checks"] if c["dataset"] == "police_uk"}
    assert quality["outside_area"]["count"] == 1
    assert quality["duplicate_ids"]["count"] == 1 and quality["duplicate_ids"]["examples"][0]["id"] == "c4"
    assert quality["district_name_mismatch"]["count"] == 1  # "Alpha 001B" lies in Beta by the lookup
    expl = json.loads(vrp("explain", "c1", "--json", "--definition", "policeuk-sv-approx", ws=ws).stdout)
    assert expl["explanations"][0]["is_match"] is True and expl["explanations"][0]["rules_matched"] == ["robbery"]
    text = vrp("explain", "c3", "--definition", "policeuk-sv-approx", ws=ws).stdout
    assert "Burglary" in text and "NO MATCH" in text.upper()


@pytest.mark.parametrize("args,message", [
    (["counts", "--by", "colour"], "unknown field 'colour'"),
    (["counts", "--from", "2025-13"], "--from '2025-13' is not a YYYY-MM month"),
    (["explain", "nope"], "no crime with reference 'nope'"),
    (["ingest", "police-uk", "/no/such/file.csv"], "/no/such/file.csv: no such file or folder"),
])
def test_errors_are_one_line_and_exit_non_zero(cli_ws, args, message):
    _, ws = cli_ws
    r = vrp(*args, ws=ws)
    assert r.returncode != 0
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_bad_file_error_names_file_and_line(cli_ws):
    tmp, ws = cli_ws
    bad = write_csv(tmp / "bad.csv", ",".join(HEADER) + ",Extra\n")
    r = vrp("ingest", "police-uk", str(bad), ws=ws)
    assert r.returncode == 1 and f"{bad}, line 1: header has 13 columns" in r.stderr


def test_no_workspace_is_a_clear_error(tmp_path):
    r = subprocess.run([sys.executable, "-m", "vrp", "status"], capture_output=True, text=True, cwd=tmp_path,
                       env={"PATH": "/usr/bin:/bin"})
    assert r.returncode == 1 and "not a vrp workspace" in r.stderr


def test_anomaly_finder():
    counts = [100, 104, 96, 101, 99, 300, 102, 98]
    months = [f"2025-{m:02d}" for m in range(1, 9)]
    (flag,) = find_anomalies("x", counts, months, 5.0, 20)
    assert flag["month"] == "2025-06" and flag["direction"] == "high" and flag["expected"] == 100.0
    assert find_anomalies("small", [1, 0, 2, 9, 1, 0, 1], months[:7], 5.0, 20) == []  # under the minimum change
