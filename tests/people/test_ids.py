"""Stable person ids: ids survive re-runs, new records join existing people, merges retire one id."""
import pandas as pd

from vrp.people.ids import assign_person_ids, new_person_id


def clusters(pairs):
    return pd.DataFrame(pairs, columns=["record_key", "cluster_id"])


def test_first_run_ids_come_from_the_founding_record():
    out, report = assign_person_ids(clusters([("a", "1"), ("b", "1"), ("c", "2")]))
    ids = dict(zip(out.record_key, out.person_id))
    assert ids["a"] == ids["b"] == new_person_id("a")
    assert ids["c"] == new_person_id("c")
    assert report["ids_new"] == 2 and report["ids_kept"] == 0 and report["records_new"] == 3


def test_new_record_joins_existing_person_and_no_id_changes():
    first, _ = assign_person_ids(clusters([("a", "1"), ("b", "1"), ("c", "2")]))
    # a re-run numbers clusters differently and adds record d to the first person, e to a new one
    second, report = assign_person_ids(clusters([("a", "x"), ("b", "x"), ("d", "x"), ("c", "y"), ("e", "z")]), first)
    ids = dict(zip(second.record_key, second.person_id))
    before = dict(zip(first.record_key, first.person_id))
    assert ids["a"] == ids["b"] == ids["d"] == before["a"]
    assert ids["c"] == before["c"]
    assert ids["e"] == new_person_id("e")
    assert report["records_changed_id"] == 0 and report["ids_kept"] == 2 and report["ids_new"] == 1
    assert report["records_new"] == 2 and report["ids_retired"] == []


def test_merge_keeps_the_id_held_by_more_records_and_retires_the_other():
    first, _ = assign_person_ids(clusters([("a", "1"), ("b", "1"), ("c", "2")]))
    second, report = assign_person_ids(clusters([("a", "m"), ("b", "m"), ("c", "m")]), first)
    assert set(second.person_id) == {new_person_id("a")}
    assert report["ids_retired"] == [new_person_id("c")]
    assert report["records_changed_id"] == 1


def test_split_gives_the_old_id_to_the_larger_part():
    first, _ = assign_person_ids(clusters([("a", "1"), ("b", "1"), ("c", "1")]))
    second, report = assign_person_ids(clusters([("a", "p"), ("b", "p"), ("c", "q")]), first)
    ids = dict(zip(second.record_key, second.person_id))
    assert ids["a"] == ids["b"] == new_person_id("a")
    assert ids["c"] == new_person_id("c")
    assert report["records_changed_id"] == 1 and report["ids_retired"] == []
