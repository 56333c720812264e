import pytest

from vrp.measures.catalogue import MeasureError, load_measures

SHIPPED = ["K1", "K1-all", "K1a", "K2", "K2b", "K3", "K3a", "L1", "L1-policeuk", "L2", "ROB", "ROB-policeuk",
           "S1", "S2", "S3", "S3-policeuk"]


def test_shipped_measures_cover_the_framework():
    measures = load_measures()
    assert list(measures) == SHIPPED
    assert all(m.version and m.description and m.definition.version for m in measures.values())


@pytest.mark.parametrize("measure_id, definition, ages, per", [
    ("K1", "hes-assault-sharp-object", (0, 24), 100_000),
    ("K1a", "hes-assault-any", (None, None), 100_000),
    ("K2", "ho-knife-enabled", (0, 24), 100_000),
    ("K3", "homicide-index-nondomestic-sharp", (0, 24), 1_000_000),
    ("K3a", "homicide-index-nondomestic", (None, None), 1_000_000),
    ("S3", "ho-possession-of-weapons", (None, None), 100_000),
    ("S3-policeuk", "policeuk-possession-of-weapons", (None, None), 100_000),
    ("L1", "hips-sv", (None, None), 100_000),
    ("L2", "ed-assault-knife", (None, None), None),
])
def test_measures_follow_the_domain_definitions(measure_id, definition, ages, per):
    m = load_measures()[measure_id]
    assert (m.definition.id, (m.age_min, m.age_max), m.per) == (definition, ages, per)


def test_police_uk_approximation_says_what_it_cannot_see():
    m = load_measures()["L1-policeuk"]
    assert m.kind == "open-data" and "lower bound" in m.limits and "Never report it as L1" in m.limits


def write(folder, name, text):
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text)


BASE = 'id = "MY1"\nversion = "1"\nname = "Mine"\nkind = "local"\ndescription = "d"\n'


def test_user_measure_over_a_user_definition(tmp_path):
    write(tmp_path / "measures", "my1.toml", BASE + 'definition = "ho-robbery"\nage = [10, 17]\nper = 100000\n')
    m = load_measures([tmp_path / "measures"])["MY1"]
    assert (m.age_band, m.per, m.period) == ("10-17", 100_000, "financial_year")


@pytest.mark.parametrize("extra, message", [
    ('definition = "nope"\n', "'definition' 'nope' is not a known definition"),
    ('definition = "policeuk-robbery"\nage = [0, 24]\n', "police_uk data hold no ages"),
    ('definition = "ho-robbery"\nper = 250\n', "'per' must be"),
    ('definition = "ho-robbery"\nage = [30, 20]\n', "'age' must be [youngest, oldest]"),
    ('definition = "ho-robbery"\ncolour = "red"\n', "unknown key 'colour'"),
])
def test_bad_measure_files_fail_with_one_line_naming_the_file(tmp_path, extra, message):
    write(tmp_path / "measures", "bad.toml", BASE + extra)
    with pytest.raises(MeasureError) as info:
        load_measures([tmp_path / "measures"])
    assert str(info.value).startswith("bad.toml: ") and message in str(info.value) and "\n" not in str(info.value)


def test_user_measure_cannot_override_a_shipped_id(tmp_path):
    write(tmp_path / "measures", "k2.toml", BASE.replace("MY1", "K2") + 'definition = "ho-robbery"\n')
    with pytest.raises(MeasureError, match="duplicate measure id 'K2'"):
        load_measures([tmp_path / "measures"])
