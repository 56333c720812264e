"""`vrp measures ...` as a user runs it: JSON shapes, charts on disk, one-line errors."""
from __future__ import annotations

import json
import subprocess
import sys


def vrp(partnership, *args):
    return subprocess.run([sys.executable, "-m", "vrp", *args, "--workspace", str(partnership.ws.root)],
                          capture_output=True, text=True)


def test_list_shows_measures_with_versions(partnership):
    out = vrp(partnership, "measures", "list", "--json")
    assert out.returncode == 0
    rows = json.loads(out.stdout)
    k2 = next(r for r in rows if r["id"] == "K2")
    assert (k2["version"], k2["definition"], k2["age_band"], k2["rate_per"]) == ("2026.1", "ho-knife-enabled", "0-24", 100000)


def test_show_json_has_one_object_per_area_and_period(partnership):
    out = vrp(partnership, "measures", "show", "--measure", "K2", "--by", "district", "--period", "calendar_year",
              "--tier", "partner", "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert {(r["area_code"], r["period"]) for r in rows} == {(a, y) for a in ("partnership", "E06000001", "E06000002")
                                                              for y in ("2023", "2024")}
    required = {"measure", "area", "period", "count", "population", "rate", "rate_per", "ci_low", "ci_high", "suppressed"}
    assert all(required <= set(r) for r in rows)
    later = [r for r in rows if r["period"] == "2024"]
    assert all({"baseline_period", "difference", "pct_change", "p_value", "verdict", "sentence"} <= set(r) for r in later)


def test_spc_and_chart(partnership, tmp_path):
    out = vrp(partnership, "measures", "spc", "--measure", "ROB-policeuk", "--to", "2025-03", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert len(data["points"]) == 27 and data["upper"] > data["mean"] > data["lower"]
    out = vrp(partnership, "measures", "chart", "--measure", "ROB-policeuk", "--to", "2025-03", "--out", str(tmp_path), "--json")
    assert out.returncode == 0, out.stderr
    files = json.loads(out.stdout)
    assert sorted(p.rsplit(".", 1)[1] for p in files) == ["png", "png", "svg", "svg"]
    svg = (tmp_path / "rob-policeuk-test-vrp-trend.svg").read_text()
    assert svg.startswith("<svg") and "ROB-policeuk v2026.1" in svg and "http" not in svg.replace("http://www.w3.org", "")
    assert (tmp_path / "rob-policeuk-test-vrp-spc.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_errors_are_one_line_with_a_non_zero_exit(partnership):
    for args, message in [(("measures", "show", "--measure", "K9"), "unknown measure 'K9'"),
                          (("measures", "show", "--measure", "K2", "--by", "ward"), "unknown --by 'ward'"),
                          (("measures", "show", "--measure", "K2", "--from", "2024-13"), "--from '2024-13' is not a YYYY-MM month"),
                          (("measures", "spc", "--measure", "K2", "--area", "Nowhere"), "unknown area 'Nowhere'")]:
        out = vrp(partnership, *args)
        assert out.returncode == 1 and message in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
