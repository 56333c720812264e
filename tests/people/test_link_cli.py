"""`vrp link dedupe` as a user runs it: any person CSV in, record_id and person_id out, ids kept
across runs with --previous, bad input refused in one line naming the file, line and field."""
import csv
import json

from tests.conftest import write_csv
from tests.test_cli import vrp
from vrp.demo.people import synthetic_people


def test_dedupe_file_and_keep_ids_with_previous(tmp_path):
    people = synthetic_people(600, seed=5)
    first_half = tmp_path / "people_1.csv"
    people.iloc[:400].to_csv(first_half, index=False)
    out1 = tmp_path / "clusters_1.csv"
    result = vrp("link", "dedupe", str(first_half), "--out", str(out1), "--truth-column", "person", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["records"] == 400 and summary["pairwise"]["f1"] >= 0.9
    rows1 = list(csv.DictReader(out1.open()))
    assert list(rows1[0]) == ["record_id", "person_id"] and len(rows1) == 400
    everyone = tmp_path / "people_2.csv"
    people.to_csv(everyone, index=False)
    out2 = tmp_path / "clusters_2.csv"
    result = vrp("link", "dedupe", str(everyone), "--out", str(out2), "--previous", str(out1), "--json")
    summary = json.loads(result.stdout)
    before = {r["record_id"]: r["person_id"] for r in rows1}
    after = {r["record_id"]: r["person_id"] for r in csv.DictReader(out2.open())}
    changed = [r for r in before if before[r] != after[r]]
    assert summary["ids"]["records_new"] == 200 and len(changed) == summary["ids"]["records_changed_id"] <= 4


def test_dedupe_refuses_duplicate_record_ids(tmp_path):
    path = write_csv(tmp_path / "p.csv", "record_id,first_name,surname\n1,Ann,Lee\n2,Bob,Lee\n2,Cy,Lee\n")
    result = vrp("link", "dedupe", str(path), "--out", str(tmp_path / "o.csv"))
    assert result.returncode == 1 and not (tmp_path / "o.csv").exists()
    assert result.stderr.strip() == f"error: {path}, line 4, field 'record_id': record_id '2' appears twice"
