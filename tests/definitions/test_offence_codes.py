"""The shipped Home Office offence code table and code normalisation."""

import pytest

from vrp.definitions import (
    is_known_offence_code,
    knife_collection_codes,
    normalise_offence_code,
    offence_codes,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("05D", "5D"), ("4/1", "4.1"), ("034b", "34B"), ("008N", "8N"), (" 8n ", "8N"),
        ("4/10", "4.10"), ("04/10", "4.10"), ("37/2", "37.2"), ("10D", "10D"), ("105A", "105A"),
        ("", ""), ("   ", ""), (None, ""),
    ],
)
def test_normalise_offence_code(raw, expected):
    assert normalise_offence_code(raw) == expected


def test_table_splits_the_combined_homicide_node():
    codes = offence_codes()
    assert "1-4.1-4.10-4.2" not in codes
    assert {c: codes[c].description for c in ("1", "4.1", "4.2", "4.10")} == {
        "1": "Murder", "4.1": "Manslaughter", "4.2": "Infanticide", "4.10": "Corporate manslaughter",
    }
    for c in ("1", "4.1", "4.2", "4.10"):
        assert (codes[c].offence_group, codes[c].offence_subgroup) == ("Violence against the person", "Homicide")


def test_table_contents():
    codes = offence_codes()
    assert len(codes) == 136 - 1 + 4  # ONS HO codes, combined homicide node split in four
    assert all(normalise_offence_code(code) == code for code in codes)  # stored in canonical form
    assert codes["5D"].description == "Assault with intent to cause serious harm"
    assert codes["34A"].offence_group == "Robbery"
    assert codes["10D"].offence_subgroup == "Possession of article with blade or point"
    assert codes["8N"].offence_subgroup == "Violence with injury"
    assert offence_codes() is codes  # cached


def test_knife_collection_is_the_seven_home_office_groups():
    assert knife_collection_codes() == {
        "8N", "8P", "8S", "5D",                    # assault with injury / with intent
        "34A", "34B",                              # robbery
        "3B",                                      # threats to kill
        "1", "4.1", "4.2", "4.10",                 # homicide
        "2",                                       # attempted murder
        "19C", "19D", "19E", "19F", "19G", "19H",  # rape
        "17A", "17B", "20A", "20B",                # sexual assault
    }
    # possession offences are outside the collection, so a blank flag there is not_applicable
    assert not {"10A", "10B", "10C", "10D", "81", "90", "5E", "62A"} & knife_collection_codes()
    assert offence_codes()["10D"].knife_collection is False


@pytest.mark.parametrize(("code", "known"), [("05d", True), ("4/10", True), ("66", True), ("99Z", False), ("", False)])
def test_is_known_offence_code(code, known):
    assert is_known_offence_code(code) is known
