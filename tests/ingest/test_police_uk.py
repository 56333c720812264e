import gzip
from datetime import date

import pytest

from tests.conftest import workspace_state, write_csv
from vrp.errors import InputError
from vrp.ingest.police_uk import HEADER, ingest_police_uk
from vrp.lake import connect, current_snapshots

pytestmark = pytest.mark.backends  # app state on SQLite and on PostgreSQL

H = ",".join(HEADER) + "\n"
GOOD = [
    "abc1,2025-01,Test Police,Test Police,-1.40,50.90,On or near High St,E01000001,Southampton 001A,Robbery,Under investigation,",
    ",2025-01,Test Police,Test Police,-1.41,50.91,On or near Park,E01000002,Southampton 001B,Anti-social behaviour,,",
    "abc2,2025-01,Test Police,Test Police,,,No Location,,,Possession of weapons,Under investigation,",
]


def police_file(tmp_path, name, rows, gz=False):
    return write_csv(tmp_path / name, H + "\n".join(rows) + "\n", gz=gz)


def test_good_rows_load_with_blanks_as_missing(ws, tmp_path):
    summary = ingest_police_uk(ws, [police_file(tmp_path, "2025-01-test-street.csv", GOOD)], as_at=date(2025, 3, 1))
    assert (summary["rows_in"], summary["rows_loaded"], summary["rows_quarantined"]) == (3, 3, 0)
    rows = connect(ws).execute("SELECT crime_id, month, longitude, lsoa_code, crime_type, as_at FROM police_uk ORDER BY crime_type").fetchall()
    assert rows[0] == (None, "2025-01", -1.41, "E01000002", "Anti-social behaviour", date(2025, 3, 1))
    assert rows[1][2] is None and rows[1][3] is None  # no location, no LSOA: loaded, flagged by quality
    snaps = current_snapshots(ws, "police_uk")
    assert [(s.source, s.period, s.rows) for s in snaps] == [("Test Police", "2025-01", 3)]


def test_bad_rows_quarantined_with_exact_line_and_field(ws, tmp_path):
    rows = GOOD + [
        "bad1,2025-13,Test Police,Test Police,-1.4,50.9,x,E01000001,Southampton 001A,Robbery,,",
        "bad2,2025-01,Test Police,Test Police,west,50.9,x,E01000001,Southampton 001A,Robbery,,",
        "bad3,2025-01,Test Police,Test Police,-1.4,50.9,x,E01000001,Southampton 001A,Knife crime,,",
        "bad4,2025-01,Test Police,Test Police,-1.4,50.9,x,E01000001,Southampton 001A,Robbery,,,extra",
        GOOD[0].replace("abc1", "abc9"),
        "bad5,2025-01,Test Police,Test Police,-1.4,95.0,x,E01000001,Southampton 001A,Robbery,,",
    ]
    summary = ingest_police_uk(ws, [police_file(tmp_path, "f.csv.gz", rows, gz=True)], as_at=date(2025, 3, 1))
    assert summary["rows_in"] == 9 == summary["rows_loaded"] + summary["rows_quarantined"]
    assert summary["rows_loaded"] == 4
    got = [(q["line"], q["field"]) for q in summary["quarantine_sample"]]
    assert got == [(5, "month"), (6, "longitude"), (7, "crime_type"), (8, ""), (10, "latitude")]
    reasons = [q["reason"] for q in summary["quarantine_sample"]]
    assert "'2025-13' is not a YYYY-MM month" in reasons[0]
    assert "unknown crime type 'Knife crime'" in reasons[2]
    assert "wrong number of fields" in reasons[3]


def test_month_after_as_at_is_quarantined(ws, tmp_path):
    summary = ingest_police_uk(ws, [police_file(tmp_path, "f.csv", GOOD)], as_at=date(2024, 12, 31))
    assert summary["rows_quarantined"] == 3 and summary["rows_loaded"] == 0


def test_reingest_is_a_noop(ws, tmp_path):
    path = police_file(tmp_path, "f.csv", GOOD)
    ingest_police_uk(ws, [path])
    before = workspace_state(ws)
    again = ingest_police_uk(ws, [tmp_path])  # the same file found through its folder
    assert again["files_unchanged"] == 1 and again["rows_in"] == 0 and again["run_id"] is None
    assert workspace_state(ws) == before


def test_later_load_of_same_period_supersedes_but_old_snapshot_is_kept(ws, tmp_path):
    ingest_police_uk(ws, [police_file(tmp_path, "a.csv", GOOD)], as_at=date(2025, 2, 1))
    ingest_police_uk(ws, [police_file(tmp_path, "b.csv", GOOD[:1])], as_at=date(2025, 3, 1))
    assert connect(ws).execute("SELECT count(*), max(as_at) FROM police_uk").fetchone() == (1, date(2025, 3, 1))
    assert len(list(ws.lake.joinpath("police_uk").rglob("*.parquet"))) == 2
    # A back-filled load with an earlier as-at date does not replace the newer snapshot.
    ingest_police_uk(ws, [police_file(tmp_path, "c.csv", GOOD[:2])], as_at=date(2025, 1, 15))
    assert connect(ws).execute("SELECT count(*) FROM police_uk").fetchone() == (1,)


@pytest.mark.parametrize("name,content,expected", [
    ("13 columns", (H.strip() + ",Extra\n" + GOOD[0] + ",x\n").encode(), "header has 13 columns"),
    ("renamed column", (H.replace("Crime type", "Crime category") + GOOD[0] + "\n").encode(), "field 'Crime category'"),
    ("bad encoding", (H + GOOD[0] + "\n" + GOOD[2].replace("No Location", "Caf\xe9") + "\n").encode("latin-1"), "line 3: not UTF-8"),
    ("empty file", b"", "file is empty"),
])
def test_file_level_faults_fail_cleanly(ws, tmp_path, name, content, expected):
    good = police_file(tmp_path, "good.csv", GOOD)
    bad = write_csv(tmp_path / "bad.csv", content)
    before = workspace_state(ws)
    with pytest.raises(InputError) as info:
        ingest_police_uk(ws, [good, bad])
    assert expected in str(info.value) and "bad.csv" in str(info.value)
    assert "\n" not in str(info.value)
    assert workspace_state(ws) == before  # the good file of the same command was not committed either
    assert not any(ws.lake.joinpath(".staging").glob("*"))


def test_truncated_and_corrupt_gzip_fail_cleanly(ws, tmp_path):
    rows = GOOD * 20000
    data = gzip.compress((H + "\n".join(rows)).encode())
    truncated = write_csv(tmp_path / "t.csv.gz", data[: len(data) // 2])
    corrupt = write_csv(tmp_path / "c.csv.gz", data[:10] + b"\x00" * 50 + data[60:])
    before = workspace_state(ws)
    for path in (truncated, corrupt):
        with pytest.raises(InputError, match="corrupt gzip|cannot be read"):
            ingest_police_uk(ws, [path])
    assert workspace_state(ws) == before


def test_failure_while_committing_leaves_workspace_unchanged(ws, tmp_path, monkeypatch):
    ingest_police_uk(ws, [police_file(tmp_path, "a.csv", GOOD)])
    before = workspace_state(ws)
    import vrp.lake.write as write

    def broken(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(write.os, "replace", broken)
    with pytest.raises(OSError):
        ingest_police_uk(ws, [police_file(tmp_path, "b.csv", GOOD[:1])])
    assert workspace_state(ws) == before
