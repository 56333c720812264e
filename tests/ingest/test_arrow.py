"""The buffer-built Arrow values ingest uses instead of pyarrow's conversions (which import pandas),
and the read-ahead that overlaps reading with validating and writing."""
import subprocess
import sys
import textwrap
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from tests.conftest import workspace_state, write_csv
from vrp.errors import InputError
from vrp.ingest import arrow
from vrp.ingest.police_uk import HEADER, ingest_police_uk

ROW = "id{n},2025-0{m},Test Police,Test Police,-1.40,50.90,On or near High St,E01000001,Southampton 001A,Robbery,,"


@pytest.mark.parametrize("value, type_", [(None, None), (None, pa.string()), (True, None), (False, None), (0, None),
                                          (-7, None), (2**40, None), (1.5, None), (-0.0, None), (3, pa.float64()),
                                          ("", None), ("2025-01", None), ("Ünïcode ✓", None), (date(2025, 3, 4), None),
                                          (date(2025, 3, 4), pa.date32())])
def test_scalar_equals_pyarrows_own(value, type_):
    ours, theirs = arrow.scalar(value, type_), pa.scalar(value, type_)
    assert ours.type == theirs.type and ours.equals(theirs)


def test_true_and_one_are_different_scalars():
    assert arrow.scalar(True).type == pa.bool_() and arrow.scalar(1).type == pa.int64()


def test_arrays_and_masks_equal_pyarrows_own():
    mask = np.random.default_rng(1).random(1001) < 0.4
    assert arrow.bools(mask).equals(pa.array(mask))
    assert arrow.strings(["a", None, "", "ß"]).equals(pa.array(["a", None, "", "ß"], pa.string()))
    assert arrow.strings([]).equals(pa.array([], pa.string()))
    assert arrow.indices(np.array([3, 0, 2])).equals(pa.array([3, 0, 2]))
    with_nulls = pa.array([True, None, False, True, None])
    for arr in (arrow.bools(mask), arrow.bools(mask).slice(7, 500), with_nulls, with_nulls.slice(1),
                pa.chunked_array([with_nulls, arrow.bools(mask)]), pa.array([], pa.bool_())):
        expected = np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)
        assert np.array_equal(arrow.to_bools(arr), expected)


def test_police_uk_ingest_never_imports_pandas(tmp_path):
    """pyarrow imports pandas (~0.3 s) on its first conversion of a Python value; ingest avoids them
    for a police.uk file as published (one force, one month; a file mixing several still loads,
    through Table.group_by, which imports pandas)."""
    path = write_csv(tmp_path / "a.csv", ",".join(HEADER) + "\n" + "\n".join(
        [ROW.format(n=1, m=1), ROW.format(n=2, m=1), "bad,2025-13,x,x,1,1,x,x,x,Robbery,,"]) + "\n")
    code = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from vrp.workspace import init_workspace
        from vrp.ingest.police_uk import ingest_police_uk
        s = ingest_police_uk(init_workspace(Path({str(tmp_path / 'ws')!r})), [Path({str(path)!r})])
        assert (s["rows_loaded"], s["rows_quarantined"]) == (2, 1), s
        print("pandas" in sys.modules)
        """)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "False"


def test_read_ahead_keeps_the_order_of_files_and_errors(ws, tmp_path):
    """Files read ahead still load in order; an unchanged or duplicate file is skipped; a bad file
    further on fails the whole command with its own error, leaving the workspace as it was."""
    header = ",".join(HEADER) + "\n"
    a = write_csv(tmp_path / "a.csv.gz", header + ROW.format(n=1, m=1) + "\n", gz=True)
    b = write_csv(tmp_path / "b.csv", header + ROW.format(n=2, m=2) + "\n")
    same_as_b = write_csv(tmp_path / "b-again.csv", header + ROW.format(n=2, m=2) + "\n")
    ingest_police_uk(ws, [a])
    summary = ingest_police_uk(ws, [a, b, same_as_b])
    assert [(f["file"].rsplit("/", 1)[-1], f["status"]) for f in summary["files"]] == [
        ("b.csv", "loaded"), ("a.csv.gz", "unchanged"), ("b-again.csv", "unchanged")]
    before = workspace_state(ws)
    c = write_csv(tmp_path / "c.csv", header + ROW.format(n=3, m=3) + "\n")
    wrong = write_csv(tmp_path / "d.csv", "Crime ID,Month\n1,2025-04\n")
    with pytest.raises(InputError, match="d.csv, line 1: header has 2 columns"):
        ingest_police_uk(ws, [c, wrong, a])
    assert workspace_state(ws) == before
