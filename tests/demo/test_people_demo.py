"""Person-level demo files: deterministic, in their layouts, with the documented identity errors,
faulty rows exactly where the ground truth says, and cohorts that the files themselves reproduce.

The checks re-read the written CSVs and recompute what the ground truth claims with their own
code (their own date and code parsing, their own serious-violence rules), so they test the files
a user would ingest rather than the generator's arrays.
"""
from __future__ import annotations

import csv
import json
import re
import time
import tomllib
from collections import Counter, defaultdict
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pytest

from vrp.demo import generate
from vrp.demo.people import (EDUCATION_HEADERS, HEADERS, NICKNAMES, ErrorRates, corrupt, synthetic_people,
                             synthetic_people_with_truth, typo)

SMALL = {"seed": 7, "years": (2023, 2024), "scale": 0.1}
AS_AT = date(2024, 12, 31)
WINDOW_12 = (date(2024, 1, 1), AS_AT)
WINDOW_24 = (date(2023, 1, 1), AS_AT)
FILES = {"people_police": "people_police.csv", "people_youth_justice": "people_youth_justice.csv",
         "people_education": "people_education.csv", "people_probation": "people_probation.csv",
         "people_ed": "people_ed.csv"}
ROLES = {"suspect": "suspect", "offender": "offender", "victim": "victim", "S": "suspect", "O": "offender",
         "V": "victim"}
REASONS = {"PP", "PA", "VP", "VA", "BU", "DA", "DM", "TH", "PD", "SM", "RA", "MT", "OW", "OT"}
POSTCODE = re.compile(r"WX\d{1,2} ?\d[A-Z]{2}")


# ---------------------------------------------------------------- fixtures and readers

@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("people_small"), **SMALL)


@pytest.fixture(scope="module")
def gt(small) -> dict:
    return json.loads(small.ground_truth.read_text(encoding="utf-8"))


def read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def canonical_rows(manifest, dataset: str) -> list[dict[str, str]]:
    """A file's rows under canonical names (the education file through its mapping)."""
    _, rows = read(manifest.out_dir / FILES[dataset])
    if dataset == "people_education":
        mapping = tomllib.loads(manifest.people_mapping.read_text())["columns"]
        rows = [{k: r[v] for k, v in mapping.items()} for r in rows]
    return rows


def parse_date(text: str, dataset: str) -> date | None:
    """None for blank; ValueError for text that is not a date."""
    if not text:
        return None
    fmt = "%d/%m/%Y" if dataset == "people_education" else "%Y-%m-%d"
    return datetime.strptime(text, fmt).date()


def age_on(dob: date, on: date) -> int:
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


def fault_of(dataset: str, row: dict[str, str]) -> str | None:
    """An independent version of the checks a people ingest applies: the field that fails, or None."""
    if not row["record_id"].strip():
        return "record_id"
    try:
        event = parse_date(row["event_date"], dataset)
    except ValueError:
        return "event_date"
    if event is None:
        return "event_date"
    try:
        dob = parse_date(row["dob"], dataset)
    except ValueError:
        return "dob"
    if dob and dob > event:
        return "dob"
    if row["sex"] not in ("M", "F", "U", "X", ""):
        return "sex"
    if dataset == "people_police":
        if not row["crime_ref"]:
            return "crime_ref"
        if row["role"] not in ROLES:
            return "role"
    if dataset == "people_youth_justice" and row["knife_related"] not in ("Y", "N"):
        return "knife_related"
    if dataset == "people_education":
        if row["event_type"] not in ("suspension", "permanent_exclusion") or row["reason"] not in REASONS:
            return "event_type"
    if dataset == "people_probation":
        if row["rosh"] not in ("low", "medium", "high", "very high"):
            return "rosh"
        end = parse_date(row["end_date"], dataset)
        if end and end < event:
            return "end_date"
    return None


@pytest.fixture(scope="module")
def files(small) -> dict[str, list[dict[str, str]]]:
    return {d: canonical_rows(small, d) for d in FILES}


@pytest.fixture(scope="module")
def truth_rows(small) -> list[dict[str, str]]:
    return read(small.people_truth)[1]


@pytest.fixture(scope="module")
def person_of(truth_rows) -> dict[tuple[str, str], str]:
    return {(r["dataset"], r["record_id"]): r["person"] for r in truth_rows}


# ---------------------------------------------------------------- determinism, manifest, layouts

def people_bytes(manifest) -> dict[str, bytes]:
    paths = [*manifest.people, manifest.people_mapping, manifest.people_truth]
    out = {p.name: p.read_bytes() for p in paths}
    out["people section"] = json.dumps(json.loads(manifest.ground_truth.read_text())["people"]).encode()
    return out


def test_same_seed_gives_byte_identical_people_files(tmp_path):
    tiny = {"seed": 3, "years": (2024,), "scale": 0.03}
    first, second = generate(tmp_path / "a", **tiny), generate(tmp_path / "b", **tiny)
    assert people_bytes(first) == people_bytes(second)
    other = generate(tmp_path / "c", **{**tiny, "seed": 4})
    assert people_bytes(other)["people_police.csv"] != people_bytes(first)["people_police.csv"]


def test_manifest_lists_the_people_files_with_row_counts(small, gt):
    assert [p.name for p in small.people] == list(FILES.values())
    assert small.people_mapping.name == "people_education_mapping.toml"
    assert small.people_truth.name == "people_truth.csv"
    assert {*small.people, small.people_mapping, small.people_truth} <= set(small.paths())
    for path in [*small.people, small.people_truth]:
        assert small.row_counts[path.name] == len(read(path)[1])
        assert gt["files"][path.name] == small.row_counts[path.name]
    truth_rows = sum(small.row_counts[p.name] for p in small.people)
    assert small.row_counts["people_truth.csv"] == truth_rows


def test_headers_are_canonical_except_the_education_partners_own(small):
    for dataset, name in FILES.items():
        header = read(small.out_dir / name)[0]
        if dataset == "people_education":
            assert header == [EDUCATION_HEADERS[h] for h in HEADERS[dataset]]
        else:
            assert header == list(HEADERS[dataset])
    assert read(small.people_truth)[0] == ["dataset", "record_id", "person", "loads"]


def test_education_mapping_reads_every_partner_header(small):
    mapping = tomllib.loads(small.people_mapping.read_text())
    assert mapping["dataset"] == "people_education" and mapping["date_format"] == "%d/%m/%Y"
    assert mapping["source"]
    header = read(small.out_dir / "people_education.csv")[0]
    assert sorted(mapping["columns"].values()) == sorted(header)
    assert set(mapping["columns"]) == set(HEADERS["people_education"])
    assert {"UPN", "Forename", "Surname", "DOB", "Sex", "Postcode", "Exclusion Start", "Category", "Reason",
            "School URN"} <= set(header)


def test_values_are_in_their_controlled_lists(files):
    for dataset, rows in files.items():
        good = [r for r in rows if fault_of(dataset, r) is None]
        assert len(good) >= len(rows) - 5
        assert all(POSTCODE.fullmatch(r["postcode"]) for r in good if r["postcode"]), dataset
        assert {r["sex"] for r in good} <= {"M", "F", "U"}
    police = files["people_police"]
    assert Counter(ROLES.get(r["role"]) for r in police).keys() >= {"suspect", "offender", "victim"}
    assert {r["role"] for r in police} >= {"S", "O", "V"}  # a few written as letters
    assert {r["knife_related"] for r in files["people_youth_justice"]} == {"Y", "N"}
    assert {r["event_type"] for r in files["people_education"]} == {"suspension", "permanent_exclusion"}
    assert "OW" in {r["reason"] for r in files["people_education"]}


def test_only_the_police_file_carries_police_urns(files):
    refs = {d: {r["person_ref"] for r in rows} for d, rows in files.items()}
    urn = re.compile(r"P\d{8}|V\d{11}")
    assert all(urn.fullmatch(r) for r in refs["people_police"])
    others = set().union(*(refs[d] for d in FILES if d != "people_police"))
    assert not others & refs["people_police"] and not any(urn.fullmatch(r) for r in others)
    assert all(re.fullmatch(r"999\d{7}", r) and nhs_check_digit_ok(r) for r in refs["people_ed"])


def nhs_check_digit_ok(number: str) -> bool:
    check = 11 - sum(int(d) * w for d, w in zip(number[:9], range(10, 1, -1))) % 11
    return (0 if check == 11 else check) == int(number[9])


# ---------------------------------------------------------------- faults and truth rows

def test_planted_faults_are_exactly_the_rows_that_fail_the_checks(small, files, gt):
    for dataset, rows in files.items():
        name = FILES[dataset]
        found = [(line, fault_of(dataset, r)) for line, r in enumerate(rows, start=2) if fault_of(dataset, r)]
        expected = [(f["line"], f["field"]) for f in gt["people"]["faults"][name]]
        assert found == expected, name
        assert 2 <= len(expected) <= (5 if dataset == "people_police" else 4)
        summary = gt["people"]["files"][name]
        assert (summary["rows"], summary["good_rows"], summary["bad_rows"]) == (
            len(rows), len(rows) - len(expected), len(expected))
    kinds = [f["fault"] for f in gt["people"]["faults"]["people_police.csv"]]
    assert sorted(kinds) == ["blank_record_id", "dob_after_event", "dob_not_a_date", "event_date_not_a_date",
                             "unknown_role"]


def test_truth_csv_has_one_row_per_record_and_marks_the_faulty_ones(small, files, truth_rows, gt):
    expected = []
    for dataset, rows in files.items():
        bad = {f["line"]: f["record_id"] for f in gt["people"]["faults"][FILES[dataset]]}
        expected += [(dataset, bad.get(line, r["record_id"]), "false" if line in bad else "true")
                     for line, r in enumerate(rows, start=2)]
    assert [(t["dataset"], t["record_id"], t["loads"]) for t in truth_rows] == expected
    assert all(re.fullmatch(r"T\d{7}", t["person"]) for t in truth_rows)


# ---------------------------------------------------------------- people and identity errors

def test_a_realistic_share_of_suspects_are_also_victims_under_another_urn(files, person_of):
    refs = defaultdict(set)
    for r in files["people_police"]:
        if r["record_id"]:
            refs[person_of["people_police", r["record_id"]]].add(r["person_ref"][0])
    suspects = [p for p, kinds in refs.items() if "P" in kinds]
    both = [p for p in suspects if "V" in refs[p]]
    assert 0.09 <= len(both) / len(suspects) <= 0.16


def test_ages_match_the_extract_and_offenders_are_young(small, files, person_of):
    extract = {}
    for path in small.extracts:
        for r in read(path)[1]:
            extract[r["Occurrence Number"]] = r
    victims, suspect_ages = [], []
    for r in files["people_police"]:
        if fault_of("people_police", r) or not r["dob"]:
            continue
        age = age_on(parse_date(r["dob"], "x"), parse_date(r["event_date"], "x"))
        written = extract.get(r["crime_ref"], {}).get("Victim Age", "")  # a blanked crime ref is not found
        if ROLES[r["role"]] == "victim" and written.isdigit():
            victims.append(age == int(written))
        elif ROLES[r["role"]] != "victim":
            suspect_ages.append(age)
    # exact for each victim's first crime with an age; later crimes' ages were drawn independently
    assert np.mean(victims) > 0.6
    ages = np.array(suspect_ages)
    assert 0.35 <= np.mean((ages >= 14) & (ages <= 24)) <= 0.75 and 0.08 <= np.mean(ages < 18) <= 0.35
    assert ages.min() >= 9


def test_agency_subjects_have_the_right_ages(files):
    def ages(dataset):
        out = []
        for r in files[dataset]:
            if not fault_of(dataset, r) and r["dob"]:
                out.append(age_on(parse_date(r["dob"], dataset), parse_date(r["event_date"], dataset)))
        return np.array(out)

    youth = ages("people_youth_justice")  # under 18 at the offence; the outcome can come after the birthday
    assert np.mean(youth < 18) > 0.85 and np.mean(youth <= 18) > 0.97
    assert np.mean(ages("people_probation") >= 18) > 0.93
    education = ages("people_education")
    assert np.mean((education >= 5) & (education <= 16)) > 0.93


def test_ed_patients_are_victims_of_recorded_crimes(files, person_of):
    victims = {person_of["people_police", r["record_id"]] for r in files["people_police"]
               if r["record_id"] and ROLES.get(r["role"]) == "victim"}
    patients = [person_of["people_ed", r["record_id"]] for r in files["people_ed"] if r["record_id"]]
    assert patients and all(p in victims for p in patients)


def test_error_rates_are_within_the_documented_bounds(gt):
    for name, f in gt["people"]["files"].items():
        clean = f["clean_name_dob"] / f["rows"]
        assert 0.74 <= clean <= 0.9, name
    police = gt["people"]["files"]["people_police.csv"]
    rows, errors = police["rows"], police["errors"]
    assert 0.03 <= errors["first_typo"] / rows <= 0.05 and 0.015 <= errors["dob_missing"] / rows <= 0.025
    assert errors["nickname"] > 0 and errors["swapped"] > 0 and errors["dob_transposed"] > 0
    assert police["moved"] > 0 and police["surname_changed"] > 0


def test_most_records_agree_with_the_persons_usual_details(files, person_of):
    """Independent of the generator: a person's most common (first name, surname, dob) across their
    police records stands in for the truth; 75-90% of records of people with 4+ records match it."""
    by_person = defaultdict(list)
    for r in files["people_police"]:
        if r["record_id"]:
            by_person[person_of["people_police", r["record_id"]]].append((r["first_name"], r["surname"], r["dob"]))
    matches = [t == Counter(ts).most_common(1)[0][0] for ts in by_person.values() if len(ts) >= 4 for t in ts]
    assert len(matches) > 300 and 0.75 <= np.mean(matches) <= 0.92


def test_typo_makes_one_small_edit_and_keeps_the_first_letter():
    for r in [(0.0, 0.5, 0.3), (0.3, 0.1, 0.9), (0.6, 0.9, 0.1), (0.9, 0.5, 0.5)]:
        out = typo("Matthews", r)
        assert out != "Matthews" and out[0] == "M" and edit_distance(out, "Matthews") <= 2
    assert typo("Matthews", (0.0, 0.0, 0.0)) == "Mbtthews"   # wrong letter at position 1
    assert typo("Matthews", (0.3, 0.0, 0.0)) == "Mtthews"    # dropped letter
    assert typo("Matthews", (0.6, 0.0, 0.0)) == "Maatthews"  # doubled letter
    assert typo("Matthews", (0.9, 0.0, 0.0)) == "Mtathews"   # neighbours swapped


def test_corrupt_applies_each_error_kind_at_its_rate():
    n = 20_000
    rng = np.random.default_rng(5)
    first = np.array(["Robert"] * n, dtype=object)
    surname = np.array(["Smith"] * n, dtype=object)
    dob = np.full(n, np.datetime64("1990-03-07"))
    sex = np.array(["M"] * n, dtype=object)
    postcode = np.array(["WX4 7AB"] * n, dtype=object)
    address = np.array(["3 Mill Lane, Portwell"] * n, dtype=object)
    rates = ErrorRates(nickname=.1, first_typo=0, surname_typo=0, swapped=0, dob_transposed=.1, dob_year=0,
                       dob_missing=.05, first_missing=0, surname_missing=0, sex_unknown=0, postcode_missing=0,
                       postcode_no_space=.2, address_missing=0)
    fields, flags = corrupt(rng, first, surname, dob, sex, postcode, address, rates)
    assert abs(np.mean(fields["first_name"] != "Robert") - 0.1) < 0.01
    assert set(fields["first_name"]) == {"Robert", *NICKNAMES["Robert"]}
    assert set(fields["dob"][~np.isnat(fields["dob"])].astype(str)) == {"1990-03-07", "1990-07-03"}
    assert abs(flags["dob_missing"].mean() - 0.05) < 0.008 and abs(flags["dob_transposed"].mean() - 0.095) < 0.01
    assert set(fields["postcode"]) == {"WX4 7AB", "WX47AB"} and (fields["surname"] == "Smith").all()


# ---------------------------------------------------------------- cohorts recomputed from the files

SV_CODES = {"1", "2", "5D", "34A", "34B", "10A", "10B", "10C", "10D", "81", "90", "62A"}
KNIFE_VWI = {"2", "4.3", "5D", "5E", "8N", "8P", "8S"}


def norm_code(raw: str) -> str:
    return re.sub(r"^0+(?=\d)", "", raw.strip().upper().replace("/", "."))


def hips_sv(row: dict[str, str]) -> bool:
    """The hips-sv rules written out by hand (confirmed crimes only)."""
    code, sub = norm_code(row["HO Class"]), row["HO Subclass"]
    return row["Status"] == "Confirmed" and (
        code in SV_CODES or (code in ("8N", "8P") and sub == "S20") or (code == "66" and sub == "RIOT")
        or (code in KNIFE_VWI and row["Knife/Sharp Instrument"] == "Y"))


@pytest.fixture(scope="module")
def police_events_24(small, files, person_of):
    """(person, crime_ref, role group, event date, age, extract row) for loading police rows whose
    crime loads, inside the 24-month window."""
    gt = json.loads(small.ground_truth.read_text())
    crimes = {}
    for path in small.extracts:
        bad = {b["line"] for b in gt["bad_rows"][path.name]}
        for line, r in enumerate(read(path)[1], start=2):
            if line not in bad:
                crimes[r["Occurrence Number"]] = r
    out = []
    for r in files["people_police"]:
        if fault_of("people_police", r) or r["crime_ref"] not in crimes:
            continue
        on = parse_date(r["event_date"], "x")
        if not WINDOW_24[0] <= on <= WINDOW_24[1]:
            continue
        group = "victim" if ROLES[r["role"]] == "victim" else "perpetrator"
        age = age_on(parse_date(r["dob"], "x"), on) if r["dob"] else None
        out.append((person_of["people_police", r["record_id"]], r["crime_ref"], group, on, age, crimes[r["crime_ref"]]))
    return out


@pytest.fixture(scope="module")
def police_events(police_events_24):
    """The same inside the 12-month window."""
    return [e for e in police_events_24 if e[3] >= WINDOW_12[0]]


def latest_age(rows: list[tuple]) -> int | None:
    """The documented age rule: the highest known age on the latest date (None if none is known)."""
    latest = max(e[3] for e in rows)
    return max((e[4] for e in rows if e[3] == latest and e[4] is not None), default=None)


def test_repeat_sv_perpetrators_recomputed_from_the_files(gt, police_events):
    sv = [e for e in police_events if e[2] == "perpetrator" and hips_sv(e[5])]
    crimes = defaultdict(set)
    for person, ref, *_ in sv:
        crimes[person].add(ref)
    cohort = gt["people"]["cohorts"]["cohorts"]["repeat-sv-perpetrators"]
    assert {m["person"]: m["sv_offences"] for m in cohort["members"]} == {
        p: len(refs) for p, refs in crimes.items() if len(refs) >= 2}
    for m in cohort["members"]:
        assert m["age"] == latest_age([e for e in sv if e[0] == m["person"]])
        assert m["sv_offences"] >= 2 and m["first_in_window"] <= m["last_in_window"]
    assert cohort["count"] == len(cohort["members"]) >= 1
    assert cohort["under_18"] == sum(m["age"] is not None and m["age"] < 18 for m in cohort["members"])


def test_victim_offender_overlap_recomputed_from_the_files(gt, police_events):
    groups = defaultdict(set)
    for person, _, group, *_ in police_events:
        groups[person].add(group)
    expected = sum(1 for g in groups.values() if len(g) == 2)
    assert gt["people"]["cohorts"]["cohorts"]["victim-offender-overlap"] == {"people": expected} and expected > 0


def test_repeat_victims_recomputed_from_the_files(gt, police_events):
    from vrp.definitions.offences import offence_codes

    table = offence_codes()
    crimes = defaultdict(set)
    for person, ref, group, _, _, row in police_events:
        if group == "victim":
            crimes[person, table[norm_code(row["HO Class"])].offence_subgroup].add(ref)
    expected = defaultdict(dict)
    for (person, subgroup), refs in crimes.items():
        if len(refs) >= 2:
            expected[person][subgroup] = len(refs)
    members = gt["people"]["cohorts"]["cohorts"]["repeat-victims"]["members"]
    assert {m["person"]: m["subgroups"] for m in members} == expected and members
    for m in members:  # age at the latest victim event in the window, whatever its subgroup
        assert m["age"] == latest_age([e for e in police_events if e[0] == m["person"] and e[2] == "victim"])


def test_rfg_recomputed_from_the_files(gt, police_events_24):
    from vrp.definitions.offences import offence_codes
    from vrp.places.harm import weigh

    table = offence_codes()
    rows = [e for e in police_events_24 if e[2] == "perpetrator" and (
        hips_sv(e[5]) or table[norm_code(e[5]["HO Class"])].offence_group == "Violence against the person")]
    harm = dict(zip([e[1] for e in rows], weigh([norm_code(e[5]["HO Class"]) for e in rows], "cchi-2023")[0]))
    by_person = defaultdict(list)
    for e in rows:
        by_person[e[0]].append(e)
    scores = []
    for person, events in by_person.items():
        last = max(e[3] for e in events)
        days = (AS_AT - last).days
        r = 5 if days <= 90 else 4 if days <= 180 else 3 if days <= 365 else 2 if days <= 548 else 1
        f = min(len({e[1] for e in events}), 5)
        worst = max(0 if np.isnan(harm[e[1]]) else harm[e[1]] for e in events)
        g = 1 if worst < 30 else 2 if worst < 365 else 3 if worst < 1825 else 4
        scores.append((-r * f * g, -last.toordinal(), person, r, f, g))
    top = sorted(scores)[:20]
    members = gt["people"]["cohorts"]["cohorts"]["rfg"]["members"]
    assert [(m["person"], m["R"], m["F"], m["G"]) for m in members] == [(p, r, f, g) for _, _, p, r, f, g in top]
    for m in members:
        assert m["age"] == latest_age(by_person[m["person"]])


def test_hkc_recomputed_from_the_files(gt, files, person_of, police_events_24):
    inputs = []  # (person, input, weight, date, age)
    seen = set()
    for person, ref, group, on, age, row in police_events_24:
        code = norm_code(row["HO Class"])
        if group == "perpetrator" and code in ("10D", "90") and (person, ref, 4) not in seen:
            inputs.append((person, 4, on, age))
        if group == "perpetrator" and row["Knife/Sharp Instrument"] == "Y" and (person, ref, 3) not in seen:
            inputs.append((person, 3, on, age))
        seen |= {(person, ref, 4), (person, ref, 3)}
    for dataset, weight, hit in (("people_youth_justice", 2, lambda r: r["knife_related"] == "Y"),
                                 ("people_education", 1, lambda r: r["reason"] == "OW")):
        for r in files[dataset]:
            if fault_of(dataset, r) or not hit(r):
                continue
            on = parse_date(r["event_date"], dataset)
            age = age_on(parse_date(r["dob"], dataset), on) if r["dob"] else None
            if WINDOW_24[0] <= on <= WINDOW_24[1]:
                inputs.append((person_of[dataset, r["record_id"]], weight, on, age))
    score, rows = defaultdict(float), defaultdict(list)
    for person, weight, on, age in inputs:
        score[person] += weight * (1.0 if on >= WINDOW_12[0] else 0.5)
        rows[person].append((person, None, None, on, age))
    ages = {p: latest_age(r) for p, r in rows.items()}
    high = {p: s for p, s in score.items() if s >= 6 and ages[p] is not None and ages[p] < 25}
    members = gt["people"]["cohorts"]["cohorts"]["hkc"]["members"]
    assert {m["person"]: m["score"] for m in members} == high


def test_rfg_and_hkc_are_internally_consistent(gt):
    cohorts = gt["people"]["cohorts"]["cohorts"]
    rfg = cohorts["rfg"]["members"]
    assert len(rfg) == 20
    keys = [(-m["score"], -date.fromisoformat(m["last_event"]).toordinal(), m["person"]) for m in rfg]
    assert keys == sorted(keys)
    for m in rfg:
        assert m["score"] == m["R"] * m["F"] * m["G"] and m["F"] == min(m["crimes"], 5)
        assert 1 <= m["R"] <= 5 and 1 <= m["G"] <= 4
    assert cohorts["rfg"]["cutoff_score"] == rfg[-1]["score"]
    for m in cohorts["hkc"]["members"]:
        assert m["score"] >= 6 and m["age"] < 25
        assert m["score"] == sum(c["points"] for c in m["components"].values())
    assert cohorts["hkc"]["band_counts"]["high"] == cohorts["hkc"]["count"]


# ---------------------------------------------------------------- synthetic_people

def edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


@pytest.fixture(scope="module")
def synthetic():
    start = time.perf_counter()
    records, people = synthetic_people_with_truth(50_000, seed=3, dup_rate=0.3)
    return records, people, time.perf_counter() - start


def test_synthetic_people_sizes_and_columns(synthetic):
    records, people, seconds = synthetic
    assert list(records.columns) == ["record_id", "first_name", "surname", "dob", "sex", "postcode", "address",
                                     "person"]
    assert len(records) == 50_000 and records["record_id"].is_unique
    per_person = records["person"].value_counts()
    assert len(per_person) == 35_000 == len(people)
    assert per_person.max() <= 10 and (per_person == 1).mean() > 0.7 and (per_person >= 5).sum() > 100
    assert seconds < 10  # ~0.5 s on a laptop


def test_synthetic_people_is_deterministic():
    assert synthetic_people(2_000, seed=9).equals(synthetic_people(2_000, seed=9))
    assert not synthetic_people(2_000, seed=9).equals(synthetic_people(2_000, seed=10))
    assert len(synthetic_people(1)) == 1 and synthetic_people(100, dup_rate=0)["person"].is_unique
    with pytest.raises(ValueError):
        synthetic_people(10, dup_rate=0.95)


def test_synthetic_people_errors_follow_the_model(synthetic):
    records, people, _ = synthetic
    true = people.set_index("person").loc[records["person"]].reset_index()
    clean = ((records["first_name"] == true["first_name"]) & (records["surname"] == true["surname"])
             & (records["dob"] == true["dob"]))
    assert 0.76 <= clean.mean() <= 0.88
    assert 0.015 <= (records["dob"] == "").mean() <= 0.03
    wrong_dob = records[(records["dob"] != true["dob"]) & (records["dob"] != "")]
    for got, want in zip(wrong_dob["dob"].head(300), true.loc[wrong_dob.index[:300], "dob"]):
        g, w = date.fromisoformat(got), date.fromisoformat(want)
        transposed = (g.year, g.month, g.day) == (w.year, w.day, w.month)
        assert transposed or ((g.month, g.day) == (w.month, w.day) and abs(g.year - w.year) == 1)
    sample = records[records["first_name"] != true["first_name"]].head(400)
    for got, want, surname in zip(sample["first_name"], true.loc[sample.index, "first_name"],
                                  true.loc[sample.index, "surname"]):
        # a nickname, a slip (a swap of neighbours is two edits; 20% get two slips), or the surname
        near = [want, *NICKNAMES.get(want, ()), surname]
        assert got == "" or got in NICKNAMES.get(want, ()) or min(edit_distance(got, n) for n in near) <= 4, (got, want)
    assert records["postcode"].map(lambda p: p == "" or bool(POSTCODE.fullmatch(p))).all()
