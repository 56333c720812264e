"""No silent empty answers: every reporting command answers with numbers or says why not, in one
line on stderr, exiting non-zero when what was asked for cannot be computed (docs/measures.md,
"Periods"; docs/architecture.md, "Empty answers").

Workspaces: an empty one; a police.uk-only one like a new user's (demo files, 2024-2025 with
2025-04 missing); and the measures' `partnership` (police.uk and an extract without coordinates).
"""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, datetime

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.conftest import demo_workspace, write_csv
from tests.measures.conftest import partnership  # noqa: F401 (a fixture)
from vrp.cli import app
from vrp.errors import NothingToShow, VrpError
from vrp.ingest.police_uk import ingest_police_uk
from vrp.ingest.reference import ingest_lsoa_lookup
from vrp.measures.report import measure_rows
from vrp.status import workspace_status
from vrp.store import CohortRun
from vrp.workspace import init_workspace

runner = CliRunner()


@dataclass
class Answer:
    code: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stderr.strip().splitlines()


def vrp(*args) -> Answer:
    """Run a command in-process; a VrpError is reported as `vrp.cli.main` reports it."""
    result = runner.invoke(app, [str(a) for a in args])
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit):
        if not isinstance(exc, VrpError):
            raise exc
        assert "\n" not in str(exc), str(exc)
        return Answer(1, result.stdout, result.stderr + f"error: {exc}\n")
    return Answer(result.exit_code, result.stdout, result.stderr)


def refused(answer: Answer, *words: str) -> None:
    """Exit 1, nothing on stdout, one line on stderr holding every word."""
    assert answer.code == 1, answer
    assert answer.stdout == "" and len(answer.lines) == 1, answer
    for w in words:
        assert w in answer.stderr, (w, answer.stderr)


def noted(answer: Answer, *words: str) -> None:
    """Exit 0 with one note line on stderr holding every word."""
    assert answer.code == 0, answer
    assert len(answer.lines) == 1, answer
    for w in words:
        assert w in answer.stderr, (w, answer.stderr)


@pytest.fixture(scope="module")
def empty(tmp_path_factory):
    return init_workspace(tmp_path_factory.mktemp("empty") / "ws", "Empty VRP")


@pytest.fixture(scope="module")
def pu(tmp_path_factory):
    """police.uk only, 2024-01..2025-12 without 2025-04, with lookup, population and boundaries."""
    ws, m = demo_workspace(tmp_path_factory.mktemp("pu"), seed=3, scale=0.1)
    ingest_police_uk(ws, [f for f in m.police_uk if "2025-04" not in f.name], as_at=date(2026, 1, 31))
    return ws


W = "--workspace"
COVER = "the data cover 2024-01 to 2025-12 except 2025-04"


# ---- measures show ----------------------------------------------------------------------------

def test_from_to_without_period_is_one_custom_period(pu):
    custom = measure_rows(pu, ["S3-policeuk"], "district", None, "2024-01", "2024-12")
    year = measure_rows(pu, ["S3-policeuk"], "district", "calendar_year")
    assert {r["period"] for r in custom} == {"2024-01 to 2024-12"}
    assert {r["area_code"]: r["count"] for r in custom} == {r["area_code"]: r["count"] for r in year if r["period"] == "2024"}
    out = vrp("measures", "show", "--measure", "S3-policeuk", "--by", "district", "--from", "2025-05", "--to", "2025-12",
              "--json", W, pu.root)
    assert out.code == 0 and out.stderr == "", out
    rows = json.loads(out.stdout)
    assert len(rows) == 7 and {r["period"] for r in rows} == {"2025-05 to 2025-12"} and all(r["rate"] is not None for r in rows)


def test_show_range_with_a_gap_says_which_month_and_which_periods_fit(pu):
    refused(vrp("measures", "show", "-m", "S3-policeuk", "--from", "2025-01", "--to", "2025-12", "--json", W, pu.root),
            "S3-policeuk: 2025-01 to 2025-12 cannot be reported as one period", "no police.uk data loaded for 2025-04",
            "period types that fit: month, quarter")


def test_show_no_complete_financial_year(pu):
    refused(vrp("measures", "show", "-m", "S3-policeuk", "--period", "financial_year", "--from", "2025-01", "--to",
                "2025-12", W, pu.root),
            "S3-policeuk: no complete financial year (April to March) in 2025-01 to 2025-12", COVER.removeprefix("the "),
            "period types that fit: month, quarter")


def test_show_measure_of_data_not_loaded_names_the_police_uk_version(pu):
    refused(vrp("measures", "show", "--measure", "S3", W, pu.root),
            "S3 counts force crime extracts, none loaded; this workspace holds police.uk data: use S3-policeuk")
    refused(vrp("measures", "show", "-m", "K3", W, pu.root), "K3 counts homicide records, none loaded",
            "`vrp ingest homicides", "these measures can be computed: L1-policeuk, ROB-policeuk, S3-policeuk")


def test_show_months_outside_the_data(pu):
    refused(vrp("measures", "show", "-m", "S3-policeuk", "--from", "2030-01", W, pu.root),
            "S3-policeuk: no police.uk data loaded from 2030-01 on", COVER)
    refused(vrp("measures", "show", "-m", "all", "--from", "2030-01", "--to", "2030-12", W, pu.root),
            "no measure whose data are loaded can be reported: L1-policeuk, ROB-policeuk, S3-policeuk: no police.uk "
            "data loaded for 2030-01 to 2030-12")
    refused(vrp("measures", "show", "-m", "S3-policeuk", "--from", "2025-06", "--to", "2025-01", W, pu.root),
            "--to 2025-01 is before --from 2025-06")


def test_show_notes_periods_left_out_for_a_gap(pu):
    out = vrp("measures", "show", "-m", "S3-policeuk", "--by", "partnership", "--period", "quarter", "--json", W, pu.root)
    noted(out, "note S3-policeuk: 2025 Q2 left out: no police.uk data loaded for 2025-04")
    assert "2025 Q2" not in {r["period"] for r in json.loads(out.stdout)}


def test_show_on_an_empty_workspace(empty):
    refused(vrp("measures", "show", "-m", "all", W, empty.root), "no measure can be computed",
            "`vrp ingest police-uk FILES`")
    refused(vrp("measures", "show", "-m", "S3-policeuk", W, empty.root),
            "S3-policeuk counts police.uk data, none loaded: load them with `vrp ingest police-uk FILES`")


def test_the_new_users_two_commands_through_the_real_cli(pu):
    """What `vrp` itself prints (main's one-line errors), not only the Typer app."""
    def run(*args):
        return subprocess.run([sys.executable, "-m", "vrp", *args, W, str(pu.root)], capture_output=True, text=True)

    out = run("measures", "show", "--measure", "S3-policeuk", "--by", "district", "--from", "2024-01", "--to", "2024-12",
              "--json")
    assert out.returncode == 0 and len(json.loads(out.stdout)) == 7, out.stderr
    out = run("measures", "show", "--measure", "S3")
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.strip().splitlines() == ["error: S3 counts force crime extracts, none loaded; this workspace holds "
                                               "police.uk data: use S3-policeuk (or load them with `vrp ingest "
                                               "police-extract FILES --mapping NAME`)"]


# ---- measures spc | chart ---------------------------------------------------------------------

def test_spc_needs_two_months(pu):
    refused(vrp("measures", "spc", "-m", "S3-policeuk", "--from", "2025-12", "--to", "2025-12", W, pu.root),
            "S3-policeuk: an SPC chart needs at least two months with data; Wessex has 1 (2025-12)")
    refused(vrp("measures", "spc", "-m", "S3-policeuk", "--from", "2030-01", W, pu.root),
            "no police.uk data loaded from 2030-01 on")
    refused(vrp("measures", "spc", "-m", "S3", W, pu.root), "use S3-policeuk")


def test_chart_says_why(pu, tmp_path):
    refused(vrp("measures", "chart", "-m", "S3-policeuk", "--from", "2030-01", "--out", tmp_path, W, pu.root),
            "no police.uk data loaded from 2030-01 on")
    refused(vrp("measures", "chart", "-m", "S3-policeuk", "--area", "Nowhere", "--out", tmp_path, W, pu.root),
            "unknown area 'Nowhere' (expected partnership, a district code or name:")
    assert not list(tmp_path.iterdir())


# ---- counts -----------------------------------------------------------------------------------

def test_counts_empty_workspace_and_months_outside(empty, pu):
    refused(vrp("counts", "--by", "district", W, empty.root), "no crime data loaded")
    refused(vrp("counts", "--by", "district", "--from", "2030-01", "--to", "2030-02", "--json", W, pu.root),
            "no police.uk data loaded for 2030-01 to 2030-02", COVER)


def test_counts_definition_of_data_not_loaded_names_the_loaded_one(pu):
    refused(vrp("counts", "--definition", "ho-possession-of-weapons", W, pu.root),
            "definition ho-possession-of-weapons classifies force crime extracts, none loaded",
            "use --definition policeuk-possession-of-weapons")


def test_counts_zero_says_what_was_looked_at(partnership):  # noqa: F811
    out = vrp("counts", "--by", "district", "--definition", "ho-homicide", "--json", W, partnership.ws.root)
    noted(out, "none of the", "confirmed force crime extract records in 2023-01 to 2025-12 match ho-homicide: the count is 0")
    assert json.loads(out.stdout) == []


def test_counts_note_a_gap(pu):
    out = vrp("counts", "--by", "month", "--from", "2025-03", "--to", "2025-05", "--json", W, pu.root)
    noted(out, "no police.uk data loaded for 2025-04: left out (a missing month is a gap, not a zero)")
    assert [r["month"] for r in json.loads(out.stdout)] == ["2025-03", "2025-05"]


# ---- hotspots ---------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [["grid", "--cell", "1000"], ["gistar", "--cell", "1000"],
                                     ["select", "--n", "5", "--cell", "1000"], ["concentration", "--cell", "1000"],
                                     ["knox", "--iterations", "9"]])
def test_hotspots_months_outside_the_data(pu, command):
    refused(vrp("hotspots", *command, "--from", "2030-01", "--to", "2030-03", W, pu.root),
            "no police.uk data loaded for 2030-01 to 2030-03", COVER)


def test_hotspots_definition_of_data_not_loaded(pu):
    refused(vrp("hotspots", "grid", "-d", "ho-robbery", "--cell", "1000", W, pu.root),
            "use --definition policeuk-robbery")


def test_hotspots_nothing_matches_or_nothing_located(partnership):  # noqa: F811
    root = partnership.ws.root
    refused(vrp("hotspots", "grid", "-d", "policeuk-possession-of-weapons", W, root),
            "in-area police.uk records in 2023-01 to 2025-12 match policeuk-possession-of-weapons: nothing to map")
    refused(vrp("hotspots", "knox", "-d", "policeuk-possession-of-weapons", W, root), "no near repeats to test")
    refused(vrp("hotspots", "concentration", W, root), "hips-sv force crime extract records in 2023-01 to 2025-12 have "
            "no coordinates: nothing to map (police.uk records are located: --dataset police_uk)")


def test_hotspots_grid_notes_a_gap(pu):
    out = vrp("hotspots", "grid", "--from", "2025-03", "--to", "2025-05", "--cell", "1000", "--json", W, pu.root)
    noted(out, "no police.uk data loaded for 2025-04")
    assert json.loads(out.stdout)["provenance"]["months_without_data"] == ["2025-04"]


def test_hotspots_stability_and_backtest_need_data_in_every_window(pu):
    refused(vrp("hotspots", "stability", "--from", "2025-07", "--to", "2026-06", "--period-months", "6", "--cell", "1000",
                "--bootstrap", "9", W, pu.root),
            "no police.uk data loaded for 2026-01..2026-06 (period 2 of 2; stability compares periods that all hold data)")
    refused(vrp("hotspots", "backtest", "--train-from", "2025-01", "--train-to", "2025-06", "--test-from", "2026-01",
                "--test-to", "2026-03", "--cell", "1000", W, pu.root),
            "no police.uk data loaded for 2026-01..2026-03 (the test months; a backtest needs data in both)")


# ---- sna --------------------------------------------------------------------------------------

def test_sna_says_why(empty, partnership, tmp_path):  # noqa: F811
    refused(vrp("sna", "--out", tmp_path / "a", "--no-pdf", W, empty.root), "no crime data loaded")
    refused(vrp("sna", "--out", tmp_path / "b", "--no-pdf", "--definition", "ho-homicide", "--from", "2025-05", "--to",
                "2025-12", W, partnership.ws.root),
            "no in-area force crime extract record in 2025-05 to 2025-12 matches ho-homicide: nothing to assess")
    assert not (tmp_path / "b").exists()


# ---- quality, status, quarantine, audit -------------------------------------------------------

def test_quality(empty, tmp_path):
    refused(vrp("quality", W, empty.root), "nothing to check: no data loaded yet", "`vrp ingest police-uk FILES`")
    ws = init_workspace(tmp_path / "ref", "Reference only")
    ingest_lsoa_lookup(ws, write_csv(tmp_path / "l.csv", "LSOA21CD,LSOA21NM,LAD22CD,LAD22NM\nE01000001,A 001A,E06000001,A\n"))
    out = vrp("quality", "--json", W, ws.root)
    noted(out, "no crime data loaded: only quarantined rows are checked")
    assert [c["check"] for c in json.loads(out.stdout)["checks"]] == ["quarantined_rows"]


def test_status_of_an_empty_workspace_says_how_to_load(empty, pu):
    """Status describes the workspace, so an empty one is an answer (exit 0), with how to load."""
    assert workspace_status(empty)["note"].startswith("nothing loaded yet: load police.uk files with `vrp ingest police-uk")
    out = vrp("status", "--json", W, empty.root)
    assert out.code == 0 and json.loads(out.stdout)["note"].startswith("nothing loaded yet")
    noted(vrp("status", W, empty.root), "nothing loaded yet: load police.uk files with `vrp ingest police-uk")
    assert "note" not in workspace_status(pu)


def test_quarantine_and_audit_say_when_there_is_nothing(empty):
    noted(vrp("quarantine", W, empty.root), "no rows are held back")
    noted(vrp("audit", "--action", "cohort read", W, empty.root), "no audit event with action 'cohort read'")


# ---- cohorts and link -------------------------------------------------------------------------

def test_cohorts_before_any_build(empty):
    refused(vrp("cohorts", "summary", W, empty.root), "no cohort list has been built: run `vrp cohorts build` first")
    refused(vrp("cohorts", "show", "hkc", "--purpose", "test", W, empty.root),
            "no hkc cohort has been built: run `vrp cohorts build --rule hkc` first")
    refused(vrp("cohorts", "build", W, empty.root), "no person links: run `vrp link partners` first")


def test_cohorts_show_an_empty_list(tmp_path):
    ws = init_workspace(tmp_path / "ws", "Cohorts")
    with Session(ws.engine) as session, session.begin():
        session.add(CohortRun(rule_id="hkc", rule_version="1", list_role="perpetrator", as_at=date(2025, 12, 31),
                              built_at=datetime(2026, 1, 5, 9, 0), user="test", link_run="x" * 32,
                              definition="hips-sv 2026.1", people_scored=40))
    out = vrp("cohorts", "show", "hkc", "--purpose", "panel", "--json", W, ws.root)
    noted(out, "nobody is on the hkc list built 2026-01-05 as at 2025-12-31: none of the 40 people scored met the rule")
    assert json.loads(out.stdout)["entries"] == []
    assert vrp("cohorts", "summary", "--json", W, ws.root).code == 0  # a built list, even empty, has a size


def test_link_with_too_few_records(empty, tmp_path):
    refused(vrp("link", "partners", "--purpose", "test", W, empty.root), "no person-level records loaded")
    one = write_csv(tmp_path / "one.csv", "record_id,first_name,surname,dob\n1,Ann,Lee,2000-01-01\n")
    refused(vrp("link", "dedupe", one, "--out", tmp_path / "o.csv"), f"{one}: 1 record: deduplication needs at least two")
    assert not (tmp_path / "o.csv").exists()


def test_nothing_to_show_is_a_vrp_error():
    assert issubclass(NothingToShow, VrpError)
