"""Measures on a small partnership, checked against tallies made straight from the generated rows
and against scipy; suppression for partners checked on the published rows."""
from __future__ import annotations

import pytest
from scipy import stats

from tests.measures.conftest import GAP, LSOAS, in_district, residents
from vrp.errors import VrpError
from vrp.measures.report import measure_rows, spc_series
from vrp.stats.change import compare_counts

AREA = [l for l, d in LSOAS.items() if d != "E06000009"]
KNIFE_CODES = {"8N", "5D", "34B"}


def by_key(rows):
    return {(r["area_code"], r["period"]): r for r in rows}


def test_counts_equal_an_independent_tally_and_districts_add_up(partnership):
    rows = by_key(measure_rows(partnership.ws, ["ROB-policeuk"], "district", "calendar_year"))
    for year in ("2023", "2024"):
        for district in ("E06000001", "E06000002"):
            expected = sum(n for (l, m), n in partnership.robbery.items() if l in in_district(district) and m[:4] == year)
            assert rows[(district, year)]["count"] == expected
        total = rows[("partnership", year)]["count"]
        assert total == rows[("E06000001", year)]["count"] + rows[("E06000002", year)]["count"]
        outside = sum(n for (l, m), n in partnership.robbery.items() if l == "E01000009" and m[:4] == year)
        assert outside > 0 and total == sum(n for (l, m), n in partnership.robbery.items() if l in AREA and m[:4] == year)


def test_rate_and_exact_interval_match_scipy(partnership):
    row = by_key(measure_rows(partnership.ws, ["ROB-policeuk"], "district", "calendar_year"))[("E06000001", "2024")]
    pop = residents(partnership, in_district("E06000001"))
    k = row["count"]
    assert row["population"] == pop and row["rate_per"] == 100_000
    assert row["rate"] == pytest.approx(k / pop * 1e5)
    assert row["ci_low"] == pytest.approx(stats.chi2.ppf(0.025, 2 * k) / 2 / pop * 1e5)
    assert row["ci_high"] == pytest.approx(stats.chi2.ppf(0.975, 2 * k + 2) / 2 / pop * 1e5)


def test_a_missing_month_is_never_a_zero(partnership):
    rows = measure_rows(partnership.ws, ["ROB-policeuk"], "partnership", "month")
    months = [r["period"] for r in rows]
    assert GAP not in months and "2025-05" in months
    after_gap = by_key(rows)[("partnership", "2025-05")]
    assert "baseline_count" not in after_gap  # its baseline month has no data
    years = {r["period"] for r in measure_rows(partnership.ws, ["ROB-policeuk"], "partnership", "calendar_year")}
    assert years == {"2023", "2024"}  # 2025 contains the gap


def test_change_uses_the_previous_period_and_the_conditional_test(partnership):
    rows = by_key(measure_rows(partnership.ws, ["ROB-policeuk"], "partnership", "quarter"))
    q4, q3 = rows[("partnership", "2024 Q4")], rows[("partnership", "2024 Q3")]
    assert q4["baseline_period"] == "2024 Q3" and q4["baseline_count"] == q3["count"]
    expected = compare_counts(q4["count"], q3["count"])
    assert (q4["difference"], q4["p_value"], q4["verdict"]) == (expected.difference, expected.p_value, expected.verdict)
    assert q4["sentence"] == expected.sentence
    year_ago = by_key(measure_rows(partnership.ws, ["ROB-policeuk"], "partnership", "quarter", compare="year_ago"))
    assert year_ago[("partnership", "2024 Q4")]["baseline_period"] == "2023 Q4"


def test_every_figure_carries_versions_period_and_as_at(partnership):
    row = measure_rows(partnership.ws, ["K2"], "district")[0]
    assert (row["measure"], row["measure_version"], row["definition"], row["definition_version"]) == \
        ("K2", "2026.1", "ho-knife-enabled", "2026.1")
    assert row["as_at"] == "2026-01-31" and row["age_band"] == "0-24" and row["period_type"] == "financial_year"
    assert row["population_year"] == 2021 and row["tier"] == "analyst"


def test_under_25_knife_measure_counts_and_age_matched_population(partnership):
    rows = by_key(measure_rows(partnership.ws, ["K2"], "district", "calendar_year"))
    for district in ("E06000001", "E06000002"):
        lsoas = in_district(district)
        expected = sum(1 for l, m, age, knife, code in partnership.knife
                       if l in lsoas and m[:4] == "2024" and code in KNIFE_CODES and knife == "yes"
                       and age is not None and age <= 24)
        row = rows[(district, "2024")]
        assert row["count"] == expected
        assert row["population"] == residents(partnership, lsoas, (0, 24))


def test_partner_tier_hides_small_counts_and_what_reveals_them(partnership):
    analyst = measure_rows(partnership.ws, ["K2"], "district", "month")
    partner = measure_rows(partnership.ws, ["K2"], "district", "month", tier="partner")
    assert len(analyst) == len(partner) and all(not r["suppressed"] for r in analyst)
    assert any(0 < r["count"] < 5 for r in analyst)  # the test has something to hide
    for r in partner:
        assert r["tier"] == "partner" and r["sdc_rule"].startswith("sdc-default")
        if r["suppressed"]:
            assert r["count"] is None and r["rate"] is None and r["ci_low"] is None
        else:
            assert r["count"] == 0 or r["count"] >= 5
        if r["rate"] is not None:
            assert r["count"] >= 10
        if r.get("verdict") == "suppressed":
            assert r["difference"] is None and r["pct_change"] is None and r["baseline_count"] is None
    # one district suppressed in a month: the partnership total would give it away unless the other is too
    for period in {r["period"] for r in partner}:
        cells = [r for r in partner if r["period"] == period]
        hidden = [r for r in cells if r["suppressed"]]
        assert len(hidden) != 1


def test_open_data_is_not_suppressed(partnership):
    rows = measure_rows(partnership.ws, ["ROB-policeuk"], "district", "month", tier="partner")
    assert any(0 < r["count"] < 5 for r in rows) and not any(r["suppressed"] for r in rows)


def test_population_bands_that_do_not_fit_the_ages_are_an_error(partnership):
    folder = partnership.ws.measures_dir
    (folder / "u18.toml").write_text('id = "U18"\nversion = "1"\nname = "x"\nkind = "local"\ndescription = "d"\n'
                                     'definition = "ho-knife-enabled"\nage = [0, 17]\nper = 100000\n')
    try:
        with pytest.raises(VrpError, match=r"needs residents aged 0-17 but the loaded population's age bands \(0-15, 16-24, 25-120\)"):
            measure_rows(partnership.ws, ["U18"])
    finally:
        (folder / "u18.toml").unlink()


def test_spc_series_of_monthly_counts(partnership):
    data = spc_series(partnership.ws, "ROB-policeuk", "E06000001", end="2025-03")
    values = [p["value"] for p in data["points"]]
    expected = [sum(n for (l, m), n in partnership.robbery.items() if l in in_district("E06000001") and m == month)
                for month in [p["period"] for p in data["points"]]]
    assert values == expected and len(values) == 27
    assert data["mean"] == pytest.approx(sum(values) / len(values))
    assert data["variation"] in ("common cause", "special cause improving", "special cause concerning")


def test_missing_population_is_a_clear_error(tmp_path):
    from vrp.workspace import init_workspace
    from tests.conftest import write_csv
    from vrp.ingest.reference import ingest_lsoa_lookup
    from vrp.ingest.police_uk import HEADER, ingest_police_uk

    ws = init_workspace(tmp_path / "ws")
    ingest_lsoa_lookup(ws, write_csv(tmp_path / "l.csv", "LSOA21CD,LSOA21NM,LAD22CD,LAD22NM\nE01000001,A 001A,E06000001,A\n"))
    ingest_police_uk(ws, [write_csv(tmp_path / "p.csv", ",".join(HEADER) + "\nx,2025-01,P,P,-1,50,X,E01000001,A 001A,Robbery,,\n")])
    with pytest.raises(VrpError, match="S3-policeuk is a rate per 100,000 residents but no population is loaded"):
        measure_rows(ws, ["S3-policeuk"])


def test_period_types_that_fit_never_split_annual_data():
    """Annual NHS admissions cover every month of their years, but cannot be cut into months or
    quarters: the reason offers only period types that keep each financial year whole."""
    from vrp.measures.catalogue import load_measures
    from vrp.measures.compute import no_period_reason
    from vrp.measures.periods import month_index

    years = [(month_index(f"{y}-04"), month_index(f"{y + 1}-03")) for y in (2022, 2023, 2024)]
    covered = {m for first, last in years for m in range(first, last + 1)}
    measure = load_measures()["K1"]  # the shipped measures
    beyond = no_period_reason(measure, "custom", covered, month_index("2025-01"), month_index("2025-12"),
                              data_periods=years)
    assert "no hospital admissions data loaded for 2025-04..2025-12" in beyond
    assert "period types that fit" not in beyond  # nothing in 2025-01..2025-12 keeps a financial year whole
    within = no_period_reason(measure, "calendar_year", covered, None, None, data_periods=years)
    fits = within.split("period types that fit: ")[1].split(", ")
    assert "financial_year" in fits and "month" not in fits and "quarter" not in fits


def test_measures_left_out_for_one_reason_are_named_together():
    from vrp.measures.report import merge_reasons

    assert merge_reasons(["K1: annual data", "K1-all: annual data", "S3: no extract"]) == \
        "K1, K1-all: annual data; S3: no extract"
    assert merge_reasons([]) == ""
