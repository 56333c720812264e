"""Cohort rules and scoring on small hand-made histories with hand-worked expected cohorts."""
from __future__ import annotations

import dataclasses
import json
from datetime import date
from importlib import resources

import numpy as np
import pandas as pd
import pytest

from vrp.people.cohorts import (
    ENTRY_COLUMNS, CohortRuleError, EventFilter, age_band, age_shares, build_cohort, cohort_summary,
    composition, get_rule, load_rules, overlap_counts, parse_rule, reference_population, window_start,
)

AS_AT = date(2025, 12, 31)


def ev(pid, key, when, source="people_police", role="suspect", crime=None, **values) -> dict:
    """One history row (contract section 3) with neutral defaults."""
    row = dict(person_id=pid, record_key=key, source=source, role=role, event_date=pd.Timestamp(when),
               crime_ref=crime, offence_code=None, offence_group=None, offence_subgroup=None,
               serious_violence=False, knife_enabled=False, harm=np.nan, event_type=None, reason=None,
               knife_related=False, weapon=None, age_at_event=20, sex="male")
    row.update(values)
    return row


def history(*rows) -> pd.DataFrame:
    df = pd.DataFrame(list(rows))
    df["age_at_event"] = df["age_at_event"].astype("Int64")
    return df


def sv(pid, key, when, crime, role="suspect", **values) -> dict:
    return ev(pid, key, when, role=role, crime=crime, serious_violence=True, **values)


def by_person(entries: pd.DataFrame) -> dict[str, dict]:
    return {r["person_id"]: r for r in entries.to_dict("records")}


def shipped_text(rule_id: str) -> str:
    return resources.files("vrp.people").joinpath("data", "cohorts", f"{rule_id}.toml").read_text("utf-8")


# ---------------------------------------------------------------------------------------------
# Rule files


def test_default_rules_load_with_their_roles_and_kinds():
    rules = load_rules()
    assert {(r.id, r.version, r.list_role, r.kind, r.window_months) for r in rules.values()} == {
        ("repeat-sv-perpetrators", "1", "perpetrator", "repeat", 12),
        ("repeat-victims", "1", "victim", "repeat", 12),
        ("rfg", "1", "perpetrator", "rfg", 24),
        ("hkc", "1", "perpetrator", "index", 24),
    }
    hkc = rules["hkc"]
    assert hkc.age_under == 25 and not hkc.allow_victim_inputs and hkc.victim_inputs() == []
    assert [(i.name, i.weight) for i in hkc.index.inputs] == [
        ("knife_possession", 4), ("knife_enabled", 3), ("yj_knife", 2), ("school_weapon", 1), ("ed_knife_injury", 0)]
    assert [i.name for i in hkc.index.active] == ["knife_possession", "knife_enabled", "yj_knife", "school_weapon"]
    for rule in rules.values():
        json.dumps(rule.as_dict())
        assert rule.sources and rule.description


def test_window_starts_the_day_after_the_same_day_n_months_earlier():
    assert window_start(AS_AT, 12) == pd.Timestamp("2025-01-01")
    assert window_start(date(2025, 6, 30), 24) == pd.Timestamp("2023-07-01")
    assert window_start(date(2025, 2, 28), 12) == pd.Timestamp("2024-02-29")


def _rule_with(rule_id: str, old: str, new: str):
    text = shipped_text(rule_id)
    assert old in text
    return parse_rule(text.replace(old, new), f"{rule_id}-local.toml")


@pytest.mark.parametrize("old, new, message", [
    ('window_months = 12', 'window_months = 12\ncolour = "red"',
     "repeat-sv-perpetrators-local.toml: unknown top-level key 'colour'"),
    ('list_role = "perpetrator"', 'list_role = "offender"',
     "'list_role' 'offender' must be one of perpetrator, victim"),
    ('kind = "repeat"', 'kind = "matrix"', "'kind' 'matrix' must be one of repeat, rfg, index"),
    ('flags = ["serious_violence"]', 'flag = ["serious_violence"]', "qualifying[1]: unknown key 'flag'"),
    ('flags = ["serious_violence"]', 'flags = ["knife_related"]',
     "qualifying[1]: people_police rows have no 'knife_related' flag"),
    ('flags = ["serious_violence"]', 'offence_code = ["99Z"]',
     "offence_code '99Z' is not a known Home Office offence code"),
    ('roles = ["suspect", "offender"]', 'roles = ["suspect", "victim"]',
     "a perpetrator rule never reads police victim rows"),
    ('roles = ["suspect", "offender"]', 'roles = ["subject"]', "role 'subject' is not a people_police role"),
    ('min_events = 2', 'min_events = 0', "[repeat] 'min_events' must be a whole number of at least 1"),
    ('window_months = 12', 'window_months = "12"', "'window_months' must be a whole number of at least 1"),
    ('[repeat]', '[rfg]\ntop_n = 3\n\n[repeat]', "'rfg' is not used by kind 'repeat'"),
    ('sources = [', 'old_sources = [', "unknown top-level key 'old_sources'"),
])
def test_rule_file_errors_name_the_file_and_key(old, new, message):
    with pytest.raises(CohortRuleError) as err:
        _rule_with("repeat-sv-perpetrators", old, new)
    assert message in str(err.value)
    assert str(err.value).startswith("repeat-sv-perpetrators-local.toml: ")


@pytest.mark.parametrize("rule_id, old, new, message", [
    ("repeat-victims", 'roles = ["victim"]', 'roles = ["suspect"]', "a victim rule reads only victim records"),
    ("repeat-victims", 'source = "people_police"\nroles = ["victim"]', 'source = "people_youth_justice"',
     "a victim rule reads only victim records"),
    ("repeat-victims", 'window_months = 12', 'window_months = 12\nallow_victim_inputs = true',
     "'allow_victim_inputs' applies only to perpetrator rules"),
    ("hkc", 'name = "ed_knife_injury"\nweight = 0', 'name = "ed_knife_injury"\nweight = 2',
     "input 'ed_knife_injury': ED attendances record victimisation"),
    ("hkc", '{ months = 24, factor = 0.5 },', '{ months = 18, factor = 0.5 },', "the last step must be months = 24"),
    ("hkc", 'cohort_band = "high"', 'cohort_band = "red"',
     "'cohort_band' must be one of the bands: high, medium, low"),
    ("hkc", '{ band = "high", at_least = 6 },\n  { band = "medium", at_least = 3 },',
     '{ band = "medium", at_least = 3 },\n  { band = "high", at_least = 6 },', "bands must be listed highest first"),
    ("hkc", 'weapon = ["knife_sharp"]', 'weapon = ["knife"]', "weapon 'knife' must be one of"),
    ("hkc", 'reason = ["OW"]', 'offence_code = ["10D"]', "people_education rows have no 'offence_code'"),
    ("rfg", '{ max_days = 180, points = 4 },', '{ max_days = 80, points = 4 },', "'max_days' must increase"),
])
def test_rule_semantics_errors(rule_id, old, new, message):
    with pytest.raises(CohortRuleError) as err:
        _rule_with(rule_id, old, new)
    assert message in str(err.value)


def test_partnership_rules_add_to_the_shipped_ones_but_cannot_reuse_an_id(tmp_path):
    local = shipped_text("hkc").replace('id = "hkc"', 'id = "hkc-local"').replace('cohort_band = "high"',
                                                                                 'cohort_band = "medium"')
    (tmp_path / "hkc-local.toml").write_text(local, encoding="utf-8")
    rule = get_rule("hkc-local", extra_dirs=[tmp_path])
    assert rule.index.cohort_band == "medium" and rule.path == "hkc-local.toml"
    assert set(load_rules([tmp_path])) == {"hkc", "hkc-local", "repeat-sv-perpetrators", "repeat-victims", "rfg"}
    (tmp_path / "hkc-copy.toml").write_text(shipped_text("hkc"), encoding="utf-8")
    with pytest.raises(CohortRuleError, match="hkc-copy.toml: duplicate cohort rule id 'hkc'"):
        load_rules([tmp_path])
    with pytest.raises(CohortRuleError, match="unknown cohort rule 'nope'; available: hkc, "):
        get_rule("nope")
    with pytest.raises(CohortRuleError, match="no such cohort-rule directory"):
        load_rules([tmp_path / "missing"])


# ---------------------------------------------------------------------------------------------
# repeat-sv-perpetrators


def test_repeat_sv_perpetrators_window_edges_and_duplicate_crimes():
    h = history(
        # A: one crime exactly 12 months before the as-at date (outside), one the day after (inside)
        sv("A", "a1", "2024-12-31", "C1"), sv("A", "a2", "2025-01-01", "C2"),
        # B: first and last day of the window
        sv("B", "b1", "2025-01-01", "C3", age_at_event=16),
        sv("B", "b2", "2025-12-31", "C4", role="offender", age_at_event=17),
        # C: one crime in the window, one after the as-at date
        sv("C", "c1", "2025-06-01", "C5"), sv("C", "c2", "2026-01-01", "C6"),
        # D: suspect and offender on C7 (three rows) count once; a non-SV crime does not count
        sv("D", "d1", "2025-03-01", "C7", sex="F"), sv("D", "d2", "2025-03-01", "C7", role="offender", sex="F"),
        sv("D", "d3", "2025-03-01", "C7", sex="F"),
        ev("D", "d4", "2025-04-01", crime="C8", sex="F"),
        sv("D", "d5", "2025-05-01", "C9", age_at_event=None, sex="F"),
    )
    entries = build_cohort(get_rule("repeat-sv-perpetrators"), h, AS_AT)
    assert list(entries.columns) == list(ENTRY_COLUMNS)
    assert list(entries["person_id"]) == ["B", "D", "C", "A"]          # score, then later last event
    assert list(entries["rank"]) == [1, 2, 3, 4]
    got = by_person(entries)
    assert got["B"]["score"] == 2.0 and got["B"]["in_cohort"] and got["B"]["events"] == 2
    assert got["B"]["components"] == {"sv_offences": 2, "first_in_window": "2025-01-01",
                                      "last_in_window": "2025-12-31"}
    assert got["B"]["record_keys"] == ["b1", "b2"] and got["B"]["age_at_last_event"] == 17
    assert got["D"]["components"] == {"sv_offences": 2, "first_in_window": "2025-03-01",
                                      "last_in_window": "2025-05-01"}
    assert got["D"]["record_keys"] == ["d1", "d2", "d3", "d5"]
    assert got["D"]["sex"] == "female" and pd.isna(got["D"]["age_at_last_event"])
    assert (got["A"]["score"], got["A"]["in_cohort"], got["A"]["record_keys"]) == (1.0, False, ["a2"])
    assert (got["C"]["score"], got["C"]["in_cohort"], got["C"]["record_keys"]) == (1.0, False, ["c1"])
    assert got["A"]["first_event"] == pd.Timestamp("2025-01-01")
    assert set(entries["rule_id"]) == {"repeat-sv-perpetrators"} and set(entries["band"]) == {None}
    json.dumps([list(entries["components"]), list(entries["record_keys"])])


def test_entries_do_not_depend_on_row_order():
    h = history(sv("A", "a1", "2025-02-01", "C1"), sv("A", "a2", "2025-03-01", "C2"),
                sv("B", "b1", "2025-03-01", "C3"), sv("B", "b2", "2025-02-01", "C4"),
                sv("B", "b3", "2025-02-01", "C4", role="offender"))
    rule = get_rule("repeat-sv-perpetrators")
    first = build_cohort(rule, h, AS_AT)
    again = build_cohort(rule, h.sample(frac=1, random_state=3).reset_index(drop=True), AS_AT)
    pd.testing.assert_frame_equal(first, again)
    assert list(first["person_id"]) == ["A", "B"]   # same score and last event: person_id decides


def test_empty_history_gives_an_empty_frame_with_every_column():
    entries = build_cohort(get_rule("rfg"), history(ev("A", "a1", "2020-01-01", crime="C1")), AS_AT)
    assert entries.empty and list(entries.columns) == list(ENTRY_COLUMNS)


def test_missing_history_column_is_one_line_error():
    h = history(sv("A", "a1", "2025-02-01", "C1")).drop(columns=["serious_violence"])
    with pytest.raises(CohortRuleError, match="history has no column.*serious_violence"):
        build_cohort(get_rule("repeat-sv-perpetrators"), h, AS_AT)


# ---------------------------------------------------------------------------------------------
# repeat-victims


def test_repeat_victims_need_two_crimes_of_the_same_subgroup():
    vwi, rob = "Violence with injury", "Robbery of personal property"
    h = history(
        ev("V1", "v1", "2025-02-01", role="victim", crime="C1", offence_subgroup=vwi, sex="female", age_at_event=15),
        ev("V1", "v2", "2025-05-01", role="victim", crime="C2", offence_subgroup=vwi, sex="female", age_at_event=16),
        ev("V1", "v3", "2025-07-01", role="victim", crime="C3", offence_subgroup=rob, sex="female", age_at_event=16),
        ev("V2", "w1", "2025-02-01", role="victim", crime="C4", offence_subgroup=vwi),
        ev("V2", "w2", "2025-03-01", role="victim", crime="C5", offence_subgroup=rob),
        # the same crime recorded twice is one crime
        ev("V4", "x1", "2025-04-01", role="victim", crime="C6", offence_subgroup=vwi),
        ev("V4", "x2", "2025-04-01", role="victim", crime="C6", offence_subgroup=vwi),
        # suspect rows never make anyone a victim
        ev("S1", "s1", "2025-04-01", role="suspect", crime="C7", offence_subgroup=vwi),
        ev("S1", "s2", "2025-05-01", role="offender", crime="C8", offence_subgroup=vwi),
        # one crime before the window
        ev("V5", "y1", "2024-12-31", role="victim", crime="C9", offence_subgroup=vwi),
        ev("V5", "y2", "2025-01-01", role="victim", crime="C10", offence_subgroup=vwi),
    )
    entries = build_cohort(get_rule("repeat-victims"), h, AS_AT)
    assert list(entries["person_id"]) == ["V1", "V4", "V2", "V5"]
    got = by_person(entries)
    assert (got["V1"]["score"], got["V1"]["in_cohort"], got["V1"]["events"]) == (2.0, True, 3)
    assert got["V1"]["components"] == {
        "events": 3, "by_offence_subgroup": {vwi: 2, rob: 1}, "repeated": {vwi: 2},
        "first_in_window": "2025-02-01", "last_in_window": "2025-07-01"}
    assert got["V1"]["age_at_last_event"] == 16 and got["V1"]["list_role"] == "victim"
    assert (got["V2"]["score"], got["V2"]["in_cohort"]) == (1.0, False)
    assert got["V2"]["components"]["repeated"] == {}
    assert (got["V4"]["score"], got["V4"]["events"], got["V4"]["record_keys"]) == (1.0, 1, ["x1", "x2"])
    assert (got["V5"]["score"], got["V5"]["record_keys"]) == (1.0, ["y2"])


# ---------------------------------------------------------------------------------------------
# rfg


def _rfg_history() -> pd.DataFrame:
    vap = "Violence against the person"
    return history(
        # R1: 30 days, 1 crime, harm 2000 (gravity 4): 5 x 1 x 4 = 20
        sv("R1", "r1", "2025-12-01", "C1", harm=2000.0),
        # R2: six VAP crimes (no SV flag), last 90 days before: 5 x min(6, 5) x 1 = 25
        *[ev("R2", f"r2-{i}", f"2025-0{i}-02", crime=f"C2{i}", offence_group=vap, harm=10.0) for i in range(1, 6)],
        ev("R2", "r2-6", "2025-10-02", crime="C26", offence_group=vap, harm=10.0),
        # R3: SV and VAP at once (counted once each), last 180 days before, harm 365 (gravity 3): 4 x 2 x 3 = 24
        sv("R3", "r3-1", "2025-03-01", "C31", offence_group=vap, harm=20.0),
        sv("R3", "r3-2", "2025-07-04", "C32", offence_group=vap, harm=365.0),
        # R4, R5: score 20 like R1; R5's last event is later, R4 loses to R1 on person_id
        sv("R4", "r4", "2025-12-01", "C4", harm=1825.0),
        sv("R5", "r5", "2025-12-20", "C5", harm=5000.0),
        # R6: 726 days, no harm weight (gravity 1): 1 x 1 x 1 = 1
        sv("R6", "r6", "2024-01-05", "C6"),
        # R7: exactly 24 months before: outside the window
        sv("R7", "r7", "2023-12-31", "C7", harm=5000.0),
        # R8: not violent
        ev("R8", "r8", "2025-12-01", crime="C8", offence_group="Theft offences", harm=50.0),
        # R9: exactly 548 days: recency 2; harm 29.9 (gravity 1): 2 x 1 x 1 = 2
        sv("R9", "r9", "2024-07-01", "C9", harm=29.9),
    )


def test_rfg_scores_bands_and_tie_breaks():
    entries = build_cohort(get_rule("rfg"), _rfg_history(), AS_AT)
    assert list(entries["person_id"]) == ["R2", "R3", "R5", "R1", "R4", "R9", "R6"]
    assert list(entries["score"]) == [25.0, 24.0, 20.0, 20.0, 20.0, 2.0, 1.0]
    assert entries["in_cohort"].all()                       # top 20 of 7
    got = by_person(entries)
    assert got["R3"]["components"] == {"recency": 4, "frequency": 2, "gravity": 3, "events": 2,
                                       "days_since_last_event": 180, "highest_harm": 365.0}
    assert got["R2"]["components"] == {"recency": 5, "frequency": 5, "gravity": 1, "events": 6,
                                       "days_since_last_event": 90, "highest_harm": 10.0}
    assert got["R4"]["components"]["gravity"] == 4 and got["R1"]["components"]["gravity"] == 4
    assert got["R9"]["components"]["recency"] == 2 and got["R9"]["components"]["days_since_last_event"] == 548
    assert got["R6"]["components"] == {"recency": 1, "frequency": 1, "gravity": 1, "events": 1,
                                       "days_since_last_event": 726, "highest_harm": None}
    assert got["R3"]["record_keys"] == ["r3-1", "r3-2"]


def test_rfg_lists_exactly_top_n():
    rule = _rule_with("rfg", "top_n = 20", "top_n = 4")
    entries = build_cohort(rule, _rfg_history(), AS_AT)
    assert list(entries.loc[entries["in_cohort"], "person_id"]) == ["R2", "R3", "R5", "R1"]


# ---------------------------------------------------------------------------------------------
# hkc


def _hkc_history() -> pd.DataFrame:
    return history(
        # K1 (16): possession 10D within 12 months 4; knife-enabled 12-24 months 3 x 0.5; school OW 1 -> 6.5 high
        ev("K1", "k1a", "2025-06-01", crime="C1", offence_code="10D", age_at_event=15),
        ev("K1", "k1b", "2024-06-01", role="offender", crime="C2", knife_enabled=True, age_at_event=14),
        ev("K1", "k1c", "2025-09-01", source="people_education", role="subject", reason="OW", age_at_event=16),
        ev("K1", "k1d", "2025-09-15", source="people_education", role="subject", reason="PA", age_at_event=16),
        # K2 (24): code "090" exactly 12 months before (factor 0.5) 2; YJ knife the day after (factor 1) 2 -> 4 medium
        ev("K2", "k2a", "2024-12-31", crime="C3", offence_code="090", age_at_event=23),
        ev("K2", "k2b", "2025-01-01", source="people_youth_justice", role="subject", knife_related=True,
           age_at_event=24),
        # K3: 25 at the latest event: not scored
        ev("K3", "k3a", "2025-01-10", crime="C4", offence_code="10D", age_at_event=24),
        ev("K3", "k3b", "2025-11-01", crime="C5", offence_code="10D", age_at_event=25),
        # K4: age unknown: not scored
        ev("K4", "k4", "2025-11-01", crime="C6", offence_code="10D", age_at_event=None),
        # K5 (20): ED knife injuries and a knife crime as victim never count; school OW 1 -> low
        ev("K5", "k5a", "2025-10-01", source="people_ed", role="subject", weapon="knife_sharp"),
        ev("K5", "k5b", "2025-10-02", source="people_ed", role="subject", weapon="knife_sharp"),
        ev("K5", "k5c", "2025-10-03", role="victim", crime="C7", knife_enabled=True),
        ev("K5", "k5d", "2025-02-01", source="people_education", role="subject", reason="ow"),
        # K6 (19): one crime that is both possession and knife-enabled counts in both inputs: 4 + 3 = 7
        ev("K6", "k6", "2025-03-01", crime="C8", offence_code="10D", knife_enabled=True, age_at_event=19),
        # K7 (17): only ED knife injuries: not scored at all
        ev("K7", "k7", "2025-10-01", source="people_ed", role="subject", weapon="knife_sharp", age_at_event=17),
    )


def test_hkc_index_recency_factor_age_limit_and_bands():
    entries = build_cohort(get_rule("hkc"), _hkc_history(), AS_AT)
    assert list(entries["person_id"]) == ["K6", "K1", "K2", "K5"]
    assert list(entries["score"]) == [7.0, 6.5, 4.0, 1.0]
    assert list(entries["band"]) == ["high", "high", "medium", "low"]
    assert list(entries["in_cohort"]) == [True, True, False, False]
    got = by_person(entries)
    assert got["K1"]["components"] == {
        "knife_possession": {"count": 1, "points": 4}, "knife_enabled": {"count": 1, "points": 1.5},
        "yj_knife": {"count": 0, "points": 0}, "school_weapon": {"count": 1, "points": 1}}
    assert (got["K1"]["events"], got["K1"]["age_at_last_event"]) == (3, 16)
    assert got["K1"]["record_keys"] == ["k1b", "k1a", "k1c"]            # by event date
    assert got["K2"]["components"]["knife_possession"] == {"count": 1, "points": 2}
    assert got["K2"]["components"]["yj_knife"] == {"count": 1, "points": 2}
    assert got["K2"]["age_at_last_event"] == 24
    assert (got["K6"]["events"], got["K6"]["record_keys"]) == (1, ["k6"])
    assert got["K5"]["record_keys"] == ["k5d"] and "ed_knife_injury" not in got["K5"]["components"]


def test_ed_inputs_count_only_when_the_rule_allows_victim_inputs():
    text = (shipped_text("hkc").replace('id = "hkc"', 'id = "hkc-with-ed"')
            .replace('window_months = 24', 'window_months = 24\nallow_victim_inputs = true')
            .replace('name = "ed_knife_injury"\nweight = 0', 'name = "ed_knife_injury"\nweight = 2'))
    rule = parse_rule(text, "hkc-with-ed.toml")
    entries = build_cohort(rule, _hkc_history(), AS_AT)
    got = by_person(entries)
    assert got["K5"]["components"]["ed_knife_injury"] == {"count": 2, "points": 4}
    assert got["K5"]["score"] == 5.0 and got["K7"]["score"] == 2.0
    summary = cohort_summary(rule, entries)
    assert summary["allow_victim_inputs"] is True
    assert summary["victim_inputs"] == ["ed_knife_injury: people_ed rows, role subject, weapon knife_sharp"]
    assert "counts victimisation records" in summary["warnings"][0]
    shipped = cohort_summary(get_rule("hkc"), build_cohort(get_rule("hkc"), _hkc_history(), AS_AT))
    assert (shipped["victim_inputs"], shipped["warnings"]) == ([], [])
    assert shipped["bands"] == {"high": 2, "medium": 1, "low": 1}
    assert (shipped["people_scored"], shipped["cohort_size"]) == (4, 2)


# ---------------------------------------------------------------------------------------------
# Victims and perpetrators are never mixed


def _victim_rows() -> list[dict]:
    """Victimisation of people who are also perpetrators in the fixtures, and of new people."""
    return [
        sv("R1", "vr1", "2025-11-01", "V1", role="victim", harm=9000.0, knife_enabled=True, offence_code="10D"),
        sv("R6", "vr6a", "2025-11-02", "V2", role="victim", harm=9000.0),
        sv("R6", "vr6b", "2025-11-03", "V3", role="victim", harm=9000.0),
        sv("K1", "vk1", "2025-11-04", "V4", role="victim", knife_enabled=True, age_at_event=16),
        sv("NEW", "vn1", "2025-11-05", "V5", role="victim", knife_enabled=True, offence_code="90"),
        sv("NEW", "vn2", "2025-11-06", "V6", role="victim", knife_enabled=True),
        ev("K1", "ek1", "2025-11-07", source="people_ed", role="subject", weapon="knife_sharp", age_at_event=16),
        ev("NEW", "en1", "2025-11-08", source="people_ed", role="subject", weapon="knife_sharp"),
    ]


@pytest.mark.parametrize("rule_id, fixture", [
    ("repeat-sv-perpetrators", _rfg_history), ("rfg", _rfg_history), ("hkc", _hkc_history)])
def test_victim_rows_never_change_a_perpetrator_list(rule_id, fixture):
    rule = get_rule(rule_id)
    base = fixture()
    with_victims = pd.concat([base, history(*_victim_rows())], ignore_index=True)
    pd.testing.assert_frame_equal(build_cohort(rule, base, AS_AT), build_cohort(rule, with_victims, AS_AT))


def test_police_victim_rows_are_dropped_even_if_a_filter_asks_for_them():
    """Second line of defence: a rule built in code, past the loader's checks, still cannot read them."""
    rule = get_rule("repeat-sv-perpetrators")
    leaky = dataclasses.replace(rule, qualifying=(
        EventFilter("people_police", ("suspect", "offender", "victim"), flags=("serious_violence",)),))
    h = history(sv("A", "a1", "2025-02-01", "C1"), *_victim_rows())
    assert list(build_cohort(leaky, h, AS_AT)["person_id"]) == ["A"]


def test_perpetrator_rows_never_change_the_victim_list():
    vwi = "Violence with injury"
    base = history(ev("V1", "v1", "2025-02-01", role="victim", crime="C1", offence_subgroup=vwi),
                   ev("V1", "v2", "2025-03-01", role="victim", crime="C2", offence_subgroup=vwi))
    more = pd.concat([base, history(
        sv("V1", "s1", "2025-04-01", "C3", offence_subgroup=vwi),
        ev("V1", "y1", "2025-04-02", source="people_youth_justice", role="subject", knife_related=True),
        sv("P9", "s2", "2025-04-01", "C4", offence_subgroup=vwi),
        sv("P9", "s3", "2025-05-01", "C5", offence_subgroup=vwi),
    )], ignore_index=True)
    rule = get_rule("repeat-victims")
    pd.testing.assert_frame_equal(build_cohort(rule, base, AS_AT), build_cohort(rule, more, AS_AT))


# ---------------------------------------------------------------------------------------------
# Aggregates


def test_overlap_counts_people_who_are_both_victim_and_perpetrator():
    h = history(
        ev("A", "a1", "2025-03-01", role="victim", crime="C1"),
        ev("A", "a2", "2025-04-01", role="suspect", crime="C2"),
        ev("B", "b1", "2025-03-01", role="victim", crime="C1"),
        ev("C", "c1", "2025-03-01", role="offender", crime="C1"),
        ev("D", "d1", "2025-05-01", role="suspect", crime="C3"),
        ev("D", "d2", "2024-12-31", role="victim", crime="C4"),          # outside 12 months, inside 24
        ev("E", "e1", "2025-05-01", source="people_ed", role="subject", weapon="knife_sharp"),
        ev("E", "e2", "2025-05-02", source="people_youth_justice", role="subject"),
    )
    assert overlap_counts(h, AS_AT) == {
        "window_months": 12, "window_start": "2025-01-01", "window_end": "2025-12-31",
        "victims": 2, "perpetrators": 3, "both": 1,
        "share_of_perpetrators_also_victims": 1 / 3, "share_of_victims_also_perpetrators": 0.5}
    assert overlap_counts(h, AS_AT, window_months=24)["both"] == 2


def test_age_shares_of_the_cohort():
    entries = pd.DataFrame({
        "in_cohort": [True, True, True, True, True, True, False],
        "age_at_last_event": pd.array([16, 17, 18, 24, 30, None, 10], dtype="Int64")})
    assert age_shares(entries) == {
        "cohort_size": 6, "under_18": 2, "under_18_share": 2 / 6, "under_25": 4, "under_25_share": 4 / 6,
        "age_unknown": 1, "age_unknown_share": 1 / 6}
    empty = age_shares(entries[entries["in_cohort"] & False])
    assert empty["cohort_size"] == 0 and empty["under_18_share"] is None


def test_age_bands():
    assert [age_band(a) for a in (0, 17, 18, 24, 25, 34, 35, 49, 50, None)] == [
        "0-17", "0-17", "18-24", "18-24", "25-34", "25-34", "35-49", "35-49", "50+", "unknown"]


def test_composition_against_the_reference_population():
    h = history(
        sv("A", "a1", "2025-02-01", "C1", age_at_event=16), sv("A", "a2", "2025-03-01", "C2", age_at_event=17),
        sv("B", "b1", "2025-02-01", "C3", age_at_event=19, sex="F"),
        sv("B", "b2", "2025-03-01", "C4", age_at_event=19, sex="F"),
        sv("C", "c1", "2025-02-01", "C5", age_at_event=30),
        sv("D", "d1", "2025-02-01", "C6", age_at_event=40),
        ev("E", "e1", "2025-02-01", crime="C7", age_at_event=15),                     # not SV: not in the reference
    )
    rule = get_rule("repeat-sv-perpetrators")
    entries = build_cohort(rule, h, AS_AT)
    assert list(reference_population(rule, h, AS_AT).index) == ["A", "B", "C", "D"]
    rows = composition(entries, h, AS_AT)
    assert rows == composition(entries, h, AS_AT, rule=rule)
    table = {(r["dimension"], r["value"]):
             (r["cohort"], r["cohort_share"], r["reference"], r["reference_share"], r["ratio"]) for r in rows}
    assert table == {
        ("sex", "male"): (1, 0.5, 3, 0.75, 0.5 / 0.75),
        ("sex", "female"): (1, 0.5, 1, 0.25, 2.0),
        ("age_band", "0-17"): (1, 0.5, 1, 0.25, 2.0),
        ("age_band", "18-24"): (1, 0.5, 1, 0.25, 2.0),
        ("age_band", "25-34"): (0, 0.0, 1, 0.25, 0.0),
        ("age_band", "35-49"): (0, 0.0, 1, 0.25, 0.0),
    }
    assert [r["value"] for r in rows] == ["male", "female", "0-17", "18-24", "25-34", "35-49"]
    with pytest.raises(CohortRuleError, match="cannot break down by 'postcode'"):
        composition(entries, h, AS_AT, by=("postcode",))


def test_composition_finds_a_local_rule_through_the_entries(tmp_path):
    """A workspace rule is not among the shipped ones: the entries carry the rule they were built with."""
    (tmp_path / "sv-local.toml").write_text(
        shipped_text("repeat-sv-perpetrators").replace('id = "repeat-sv-perpetrators"', 'id = "sv-local"'))
    rule = get_rule("sv-local", [tmp_path])
    h = history(sv("A", "a1", "2025-02-01", "C1"), sv("A", "a2", "2025-03-01", "C2"),
                sv("B", "b1", "2025-02-01", "C3", sex="F"))
    listed = build_cohort(rule, h, AS_AT).query("in_cohort")
    assert [(r["value"], r["cohort"], r["reference"]) for r in composition(listed, h, AS_AT, by=("sex",))] == [
        ("male", 1, 1), ("female", 0, 1)]
    nobody = build_cohort(rule, h, date(2024, 1, 1))
    assert composition(nobody, h, date(2024, 1, 1)) == []            # nobody scored, nobody in the reference
    bare = listed.copy()
    bare.attrs.clear()
    with pytest.raises(CohortRuleError, match="unknown cohort rule 'sv-local'"):
        composition(bare, h, AS_AT)
    assert composition(bare.iloc[:0], h, AS_AT) == []


def test_rows_of_single_role_sources_count_whatever_their_role_column_says():
    h = history(
        ev("Y", "y1", "2025-05-01", source="people_youth_justice", role=None, knife_related=True, age_at_event=15),
        ev("Y", "y2", "2025-06-01", source="people_education", role="", reason="OW", age_at_event=15),
        ev("Y", "y3", "2025-07-01", source="people_youth_justice", role="subject", age_at_event=15),   # not knife
    )
    entries = build_cohort(get_rule("hkc"), h, AS_AT)
    assert entries["score"].tolist() == [3.0] and entries["record_keys"].tolist() == [["y1", "y2"]]
