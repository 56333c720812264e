"""Harm-weight tables (vrp.places.harm): coverage of the shipped definitions, anchors, provenance,
unmapped-code reporting, the police.uk coarse table and the DuckDB / pyarrow join helpers."""
from __future__ import annotations

import json
import math

import duckdb
import numpy as np
import pandas as pd
import pytest

from vrp.definitions import load_definitions, offence_codes
from vrp.definitions.engine import POLICE_UK_CRIME_TYPES
from vrp.errors import VrpError
from vrp.places import harm
from vrp.places.harm import (category_weights, harm_sql, harm_table, list_schemes, load_scheme,
                             policeuk_groups, starting_point_days, weigh)

CODE_SCHEMES = ("css", "cchi")


def _definition_values(dataset: str, column: str) -> set[str]:
    values = set()
    for d in load_definitions().values():
        if d.dataset != dataset:
            continue
        for cond in [*d.filters, *(c for r in d.rules for c in r.conditions)]:
            if cond.column == column and cond.op == "in":
                values.update(cond.value)
    return values


# ---------------------------------------------------------------------------------------------
# Coverage and anchors


@pytest.mark.parametrize("family", CODE_SCHEMES)
def test_every_code_of_every_shipped_crimes_definition_has_a_weight(family):
    codes = _definition_values("crimes", "offence_code")
    assert len(codes) >= 40  # the shipped Home Office definitions use at least this many codes
    scheme = load_scheme(family)
    assert sorted(codes - set(scheme.weights)) == []


@pytest.mark.parametrize("family", CODE_SCHEMES)
def test_every_home_office_code_in_the_shipped_table_has_a_weight(family):
    scheme = load_scheme(family)
    assert set(scheme.weights) == set(offence_codes())
    assert set(scheme.basis) == set(offence_codes())


@pytest.mark.parametrize("family", [*CODE_SCHEMES, "policeuk"])
def test_weights_are_positive_and_finite(family):
    scheme = load_scheme(family)
    values = np.array(list(scheme.weights.values()))
    assert values.size > 0 and np.all(np.isfinite(values)) and np.all(values > 0)


@pytest.mark.parametrize("family", CODE_SCHEMES)
def test_murder_weighs_the_most(family):
    scheme = load_scheme(family)
    assert scheme.weights["1"] == max(scheme.weights.values())
    # and more than any non-homicide offence except conspiracy to murder, which the CCHI scores as murder
    others = {k: w for k, w in scheme.weights.items() if k not in ("1", "4.1", "4.2", "4.10", "3A")}
    assert scheme.weights["1"] > max(others.values())


def test_css_anchors_match_the_ons_2016_release():
    css = load_scheme("css")
    assert css.id == "css-2016"
    assert css.weights["1"] == pytest.approx(7978.793081)
    assert round(css.weights["1"]) == 7979            # ONS: murder 7,979
    assert round(css.weights["2"]) == 4663            # attempted murder 4,663
    assert css.weights["92E"] == 3                    # cannabis possession 3, the lowest weight
    assert css.weights["92E"] == min(css.weights.values())
    # all homicide codes share one ONS weight
    assert css.weights["4.1"] == css.weights["4.2"] == css.weights["4.10"] == css.weights["1"]


def test_css_published_rows_match_the_code_keyed_transcription():
    """Rounded values of the code-keyed transcription (pastebin p3SfA3L3) for the codes we still use."""
    transcription = {"1": 7979, "2": 4663, "4.3": 15, "4.4": 1092, "4.6": 1595, "4.8": 112, "5D": 1965,
                     "5E": 1326, "37.1": 722, "4.7": 1006, "4.9": 136, "8N": 184}
    css = load_scheme("css")
    for code, rounded in transcription.items():
        assert round(css.weights[code]) == rounded, code
        assert css.basis[code] == "published", code
        assert "pastebin.com/p3SfA3L3" in css.notes[code], code


def test_cchi_anchors_match_the_cchi_method():
    cchi = load_scheme("cchi")
    assert cchi.id == "cchi-2023"
    assert cchi.weights["1"] == 5475           # murder: 15-year minimum-term starting point
    assert cchi.weights["4.1"] == 730          # unlawful act manslaughter, culpability D: 2 years
    assert cchi.weights["5D"] == 1460          # s.18 GBH, culpability B harm 3: 4 years
    assert cchi.weights["19C"] == 1825         # rape, category 3B: 5 years
    assert cchi.weights["19E"] == 2920         # rape of a child under 13, category 3B: 8 years
    assert cchi.weights["34A"] == cchi.weights["34B"] == 365
    assert cchi.weights["105A"] == 1           # common assault: Band A fine = 1 day of minimum-wage work
    assert cchi.weights["46"] == 1 and cchi.weights["39"] == 2


def test_cchi_derived_rows_recompute_from_their_starting_point():
    cchi = load_scheme("cchi")
    derived = [k for k, b in cchi.basis.items() if b == "derived"]
    assert len(derived) >= 30
    for key in derived:
        assert key in cchi.starting_points, key
    for key, sp in cchi.starting_points.items():
        assert starting_point_days(sp, cchi.conversion) == pytest.approx(cchi.weights[key]), (key, sp)


def test_starting_point_days_exact_values():
    conv = load_scheme("cchi").conversion
    # fines: ceil(120 x band% / (10.42 x 8)) whole days of minimum-wage work
    bands = {"A": 1, "B": 2, "C": 3, "D": 4, "E": 6, "F": 9}
    for band, expected in bands.items():
        assert starting_point_days(f"Band {band} fine", conv) == expected
    assert starting_point_days("Low level community order", conv) == 5        # 40 h / 8
    assert starting_point_days("Medium level community order", conv) == 10    # 80 h / 8
    assert starting_point_days("High level community order", conv) == 18.75   # 150 h / 8
    assert starting_point_days("4 years' custody", conv) == 1460
    assert starting_point_days("18 months", conv) == 547.5
    assert starting_point_days("26 weeks", conv) == 182
    assert starting_point_days("1 year", conv) == 365
    with pytest.raises(VrpError, match="cannot read sentencing starting point"):
        starting_point_days("life imprisonment", conv)
    with pytest.raises(VrpError, match="hourly_wage"):
        starting_point_days("Band A fine", {"relevant_weekly_income": 120, "fine_band_percent": {"A": 50}})


# ---------------------------------------------------------------------------------------------
# Provenance and metadata


@pytest.mark.parametrize("family", [*CODE_SCHEMES, "policeuk"])
def test_metadata_and_row_provenance_are_present(family):
    s = load_scheme(family)
    for attr in ("id", "family", "version", "name", "unit", "keyed_on", "date", "method", "limits"):
        assert getattr(s, attr), attr
    assert s.source and all(src.strip() for src in s.source)
    assert set(s.basis.values()) <= set(harm.BASES)
    assert all(len(s.notes[k]) > 20 for k in s.keys)
    d = s.as_dict()
    assert d["rows"] == len(s.keys) and sum(d["rows_by_basis"].values()) == len(s.keys)
    json.dumps(d), json.dumps(s.records())  # JSON-ready


def test_list_schemes_and_resolution():
    ids = [s.id for s in list_schemes()]
    assert ids == ["cchi-2023", "css-2016", "policeuk-coarse-2026"]
    assert load_scheme("css") is load_scheme("CSS-2016")
    assert load_scheme("cchi").id == "cchi-2023"
    assert load_scheme("policeuk").id == "policeuk-coarse-2026"
    with pytest.raises(VrpError, match="unknown harm scheme 'nope'.*known: cchi, cchi-2023, css"):
        load_scheme("nope")


def test_cchi_excludes_proactive_offences_css_does_not():
    cchi, css = load_scheme("cchi"), load_scheme("css")
    assert cchi.exclude_proactive and not css.exclude_proactive
    assert {"10A", "10B", "10C", "10D", "81", "90", "92A", "92C", "92D", "92E", "802"} == set(cchi.excluded)
    assert cchi.proactive == css.proactive == frozenset(cchi.excluded)
    assert css.excluded == {}


# ---------------------------------------------------------------------------------------------
# weigh: unmapped codes are NaN and reported, never zero


def test_weigh_normalises_spellings_and_reports_unmapped_codes_with_row_counts():
    css = load_scheme("css")
    codes = ["05D", "4/1", " 8n ", "X9", "X9", "", None, float("nan"), "999", "8N"]
    w, report = weigh(codes, css)
    assert w[0] == css.weights["5D"] and w[1] == css.weights["4.1"] and w[2] == css.weights["8N"]
    assert np.isnan(w[3:9]).all() and w[9] == css.weights["8N"]
    assert report.n_rows == 10 and report.n_unmapped == 6 and report.n_weighted == 4 and report.n_excluded == 0
    assert report.unmapped == (("", 3), ("X9", 2), ("999", 1))
    assert not report.complete
    assert report.total == pytest.approx(css.weights["5D"] + css.weights["4.1"] + 2 * css.weights["8N"])
    assert report.message() == ("6 rows (3 distinct codes) have no weight in css-2016: "
                                "(blank) (3), 'X9' (2), '999' (1)")
    json.dumps(report.as_dict())


def test_weigh_excludes_cchi_proactive_codes_with_zero_and_reports_them():
    cchi = load_scheme("cchi")
    codes = pd.Series(["10D", "10D", "5D", "92E", None])
    w, report = weigh(codes, "cchi")
    assert list(w[:4]) == [0.0, 0.0, 1460.0, 0.0] and np.isnan(w[4])
    assert report.n_excluded == 3 and report.n_weighted == 1 and report.n_unmapped == 1
    assert [(k, n) for k, _, n in report.excluded] == [("10D", 2), ("92E", 1)]
    assert all("proactively detected" in reason for _, reason, _ in report.excluded)
    w2, report2 = weigh(codes, cchi, include_excluded=True)
    assert list(w2[:4]) == [cchi.weights["10D"], cchi.weights["10D"], 1460.0, cchi.weights["92E"]]
    assert report2.n_excluded == 0 and report2.n_weighted == 4
    # the same codes under the CSS are weighted, not excluded
    w3, report3 = weigh(codes, "css")
    assert report3.n_excluded == 0 and w3[0] == 55.0


def test_weigh_police_uk_crime_types_reports_asb_and_unknown_types():
    pu = load_scheme("policeuk")
    types = ["Robbery", "Anti-social behaviour", "Violence and sexual offences", "Violent crime", "Robbery"]
    w, report = weigh(types, pu)
    assert w[0] == w[4] == 746.0 and w[1] == 0.0 and np.isnan(w[3])
    assert w[2] == pu.weights["Violence and sexual offences"]
    assert report.unmapped == (("Violent crime", 1),)
    assert report.excluded[0][0] == "Anti-social behaviour" and report.excluded[0][2] == 1
    assert "distinct crime types" in report.message()


def test_weigh_empty_and_complete_inputs():
    w, report = weigh([], "css")
    assert w.size == 0 and report.n_rows == 0 and report.complete
    w, report = weigh(np.array(["1", "34B"]), "css")
    assert report.complete and report.message() == "all 2 rows weighted with css-2016 (0 excluded by rule)"


# ---------------------------------------------------------------------------------------------
# police.uk coarse table


def test_policeuk_table_covers_all_14_types_and_the_shipped_police_uk_definitions():
    pu = load_scheme("policeuk")
    assert pu.keyed_on == "crime_type" and pu.base_scheme == "css-2016"
    assert set(pu.keys) == set(POLICE_UK_CRIME_TYPES) and len(pu.keys) == 14
    used = _definition_values("police_uk", "crime_type")
    assert used and used <= set(pu.weights)
    assert set(pu.excluded) == {"Anti-social behaviour"}
    assert all(pu.basis[k] == "coarse" and "COARSE" in pu.notes[k] for k in pu.weights)


def test_policeuk_weights_are_the_median_css_weight_of_their_codes():
    pu, css = load_scheme("policeuk"), load_scheme("css")
    groups = policeuk_groups()
    computed = category_weights(css, groups, statistic=pu.statistic)
    assert set(computed) == set(pu.weights)
    for t, w in computed.items():
        assert pu.weights[t] == pytest.approx(w, abs=1e-6), t
    assert pu.weights["Robbery"] == 746.0 and pu.weights["Burglary"] == 438.0 and pu.weights["Drugs"] == 10.0


def test_policeuk_groups_cover_every_non_fraud_code():
    groups = policeuk_groups()
    codes = offence_codes()
    assert set(groups.values()) == set(POLICE_UK_CRIME_TYPES) - {"Anti-social behaviour"}
    assert set(groups) == {c for c, o in codes.items() if o.offence_group != "Fraud offences"}
    assert groups["34B"] == "Robbery" and groups["10D"] == "Possession of weapons" and groups["5D"] == "Violence and sexual offences"


def test_category_weights_with_a_local_offence_mix_is_the_count_weighted_mean():
    css = load_scheme("css")
    groups = {"8N": "V", "105A": "V", "34A": "R", "34B": "R", "10D": "W"}
    out = category_weights(css, groups, counts={"8N": 3, "105A": 1, "34A": 1, "34B": 3, "10D": 0})
    assert out["V"] == pytest.approx((3 * 184.094705907588 + 16.0743773639636) / 4)
    assert out["R"] == 746.0
    assert math.isnan(out["W"])
    assert category_weights(css, {"8N": "V", "105A": "V"}, statistic="mean")["V"] == pytest.approx(
        (184.094705907588 + 16.0743773639636) / 2)
    with pytest.raises(VrpError, match="has no weight"):
        category_weights(css, {"ZZ": "V"})
    with pytest.raises(VrpError, match="offence-code scheme"):
        category_weights("policeuk", {"8N": "V"})


# ---------------------------------------------------------------------------------------------
# DuckDB and pyarrow joins


def test_harm_sql_join_gives_the_same_total_and_unmapped_rows_as_weigh():
    crimes = pd.DataFrame({"offence_code": ["5D", "8N", "8N", "10D", "X9", "34B"]})
    con = duckdb.connect()
    con.register("crimes", crimes)
    total, unmapped, excluded = con.execute(
        f"SELECT sum(harm_weight), count(*) FILTER (WHERE harm_weight IS NULL), "
        f"count(*) FILTER (WHERE harm_excluded) "
        f"FROM crimes LEFT JOIN {harm_sql('cchi')} USING (offence_code)").fetchone()
    _, report = weigh(crimes["offence_code"], "cchi")
    assert total == pytest.approx(report.total) and unmapped == report.n_unmapped == 1
    assert excluded == report.n_excluded == 1
    # the pyarrow table joins the same way
    table = harm_table("cchi")
    assert table.num_rows == 139 and table.column_names == ["offence_code", "harm_weight", "harm_basis", "harm_excluded"]
    con.register("harm_t", table)
    total2 = con.execute("SELECT sum(harm_weight) FROM crimes LEFT JOIN harm_t USING (offence_code)").fetchone()[0]
    assert total2 == pytest.approx(total)
    with pytest.raises(VrpError, match="plain lower-case SQL name"):
        harm_sql("css", weight_column="w; DROP TABLE x")


def test_harm_sql_police_uk_keeps_asb_weightless_when_excluded_rows_are_included():
    con = duckdb.connect()
    rows = dict(con.execute(f"SELECT crime_type, harm_weight FROM {harm_sql('policeuk', include_excluded=True)}").fetchall())
    assert rows["Anti-social behaviour"] is None and rows["Robbery"] == 746.0


# ---------------------------------------------------------------------------------------------
# User-supplied scheme files


def _write_scheme(d, stem, toml_extra="", rows="offence_code,weight,basis,source_note\n1,100,published,user table row\n"):
    (d / f"{stem}.toml").write_text(
        f'id = "{stem}"\nfamily = "css"\nversion = "2099"\nname = "n"\nunit = "u"\nkeyed_on = "offence_code"\n'
        f'method = "m"\n{toml_extra}', encoding="utf-8")
    (d / f"{stem}.csv").write_text(rows, encoding="utf-8")


def test_user_scheme_directory_adds_editions_and_the_latest_wins(tmp_path):
    _write_scheme(tmp_path, "css-2099")
    assert load_scheme("css", extra_dirs=[tmp_path]).id == "css-2099"
    assert load_scheme("css").id == "css-2016"  # shipped resolution unchanged without the directory
    assert "css-2099" in [s.id for s in list_schemes([tmp_path])]
    w, report = weigh(["1", "2"], load_scheme("css-2099", [tmp_path]))
    assert w[0] == 100 and report.unmapped == (("2", 1),)


@pytest.mark.parametrize("rows,message", [
    ("offence_code,weight,basis,source_note\nZZ9,1,published,x\n", "line 2: 'ZZ9' is not a known Home Office offence code"),
    ("offence_code,weight,basis,source_note\n1,-3,published,x\n", "line 2: weight must be a positive number"),
    ("offence_code,weight,basis,source_note\n1,0,published,x\n", "line 2: weight must be a positive number"),
    ("offence_code,weight,basis,source_note\n1,abc,published,x\n", "line 2: weight 'abc' is not a number"),
    ("offence_code,weight,basis,source_note\n1,3,published,\n", "line 2: source_note is required"),
    ("offence_code,weight,basis,source_note\n1,3,guess,x\n", "line 2: basis 'guess' must be one of"),
    ("offence_code,weight,basis,source_note\n1,3,published,x\n01,4,published,y\n", "line 3: duplicate offence_code '1'"),
    ("offence_code,weight,basis,source_note\n1,3,excluded,x\n", "line 2: an excluded row has no weight"),
    ("offence_code,weight,source_note\n1,3,x\n", "missing column 'basis'"),
    ("offence_code,weight,basis,source_note\n", "the table has no rows"),
])
def test_bad_user_tables_are_refused_with_file_and_line(tmp_path, rows, message):
    _write_scheme(tmp_path, "css-2099", rows=rows)
    with pytest.raises(VrpError, match=message):
        load_scheme("css", extra_dirs=[tmp_path])


def test_bad_user_metadata_is_refused(tmp_path):
    _write_scheme(tmp_path, "css-2016")
    with pytest.raises(VrpError, match="duplicate harm scheme id 'css-2016'"):
        list_schemes([tmp_path])
    (tmp_path / "css-2016.toml").unlink()
    (tmp_path / "css-2016.csv").unlink()
    _write_scheme(tmp_path, "x-1", toml_extra='colour = "red"\n')
    with pytest.raises(VrpError, match="unknown key 'colour'"):
        list_schemes([tmp_path])
    with pytest.raises(VrpError, match="no such harm-scheme directory"):
        list_schemes([tmp_path / "missing"])
