"""Key rotation: every pseudonym re-keyed consistently; links and joins survive; the old key is gone."""
import pytest

from tests.conftest import write_csv
from tests.people.test_ingest_people import POLICE
from vrp.errors import VrpError
from vrp.ingest.people import ingest_people
from vrp.ingest.values import pseudonymiser
from vrp.keys import rotate_key
from vrp.lake.read import connect
from vrp.workspace import open_workspace

pytestmark = pytest.mark.backends  # app state on SQLite and on PostgreSQL


def snapshot(ws):
    return connect(ws).execute("SELECT record_key, person_key, crime_ref FROM people_police ORDER BY crime_ref, role").fetchall()


def test_rotation_rekeys_lake_and_identities(ws, tmp_path):
    ingest_people(ws, "people_police", [write_csv(tmp_path / "police.csv", POLICE)])
    old_key = ws.pseudonym_key
    before = snapshot(ws)
    with pytest.raises(VrpError, match="purpose"):
        rotate_key(ws, None)
    summary = rotate_key(ws, "annual rotation")
    ws = open_workspace(ws.root)
    assert ws.pseudonym_key != old_key and not ws.key_path.with_name("pseudonym.key.new").exists()
    after = snapshot(ws)
    new = pseudonymiser(ws.pseudonym_key)
    assert [r[0] for r in after] == [new(f"people_police:{i}") for i in ("L1", "L2", "L3")]
    assert all(a[0] != b[0] for a, b in zip(after, before))
    assert after[0][1] == after[1][1] == new("people_police:P001")  # same person, same new key
    assert summary["files_rewritten"] == 2  # one lake snapshot, one identifiable file
    # a new load under the new key joins the re-keyed data
    more = POLICE.replace("L1,", "L9,").replace("2025-02-01", "2025-06-01")
    ingest_people(ws, "people_police", [write_csv(tmp_path / "more.csv", more)])
    keys = connect(ws).execute("SELECT count(DISTINCT person_key) FROM people_police WHERE person_key = ?",
                               [new("people_police:P001")]).fetchone()[0]
    assert keys == 1


def test_an_ingest_keyed_before_a_rotation_is_refused_at_its_commit(ws, tmp_path, monkeypatch):
    """Rows pseudonymised under the old key must not land after the key has changed."""
    import vrp.lake.write as write
    from tests.conftest import workspace_state
    from vrp.lake.write import ChangedMeanwhile

    ingest_people(ws, "people_police", [write_csv(tmp_path / "police.csv", POLICE)])
    other = open_workspace(ws.root)  # another command, rotating while this ingest runs
    original_lock = write.register_lock

    def rotate_first(session, holder):
        monkeypatch.setattr(write, "register_lock", original_lock)
        rotate_key(other, "annual rotation")
        original_lock(session, holder)

    monkeypatch.setattr(write, "register_lock", rotate_first)
    more = POLICE.replace("L1,", "L9,").replace("2025-02-01", "2025-06-01")
    with pytest.raises(ChangedMeanwhile, match="pseudonymisation key was rotated while this command ran"):
        ingest_people(ws, "people_police", [write_csv(tmp_path / "more.csv", more)])
    state = workspace_state(other)
    assert len(state["tables"]["ingest_runs"]) == 1  # only the first load; the refused one left nothing
    assert len([f for f in state["files"] if f.startswith("people_police/")]) == 1
    again = open_workspace(ws.root)
    ingest_people(again, "people_police", [write_csv(tmp_path / "more.csv", more)])
    new = pseudonymiser(again.pseudonym_key)
    assert connect(again).execute("SELECT count(*) FROM people_police WHERE record_key = ?",
                                  [new("people_police:L9")]).fetchone()[0] == 1
