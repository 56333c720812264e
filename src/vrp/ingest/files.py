"""Reading partner CSV files: plain or gzip, streamed in Arrow batches, with exact line numbers for
the rows that go to quarantine. Every file-level fault becomes a one-line InputError."""
from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import zlib
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from vrp.errors import InputError

GZIP_MAGIC = b"\x1f\x8b"
BLOCK_SIZE = 8 << 20


def expand_paths(paths: list[Path], patterns: tuple[str, ...] = ("*.csv", "*.csv.gz")) -> list[Path]:
    """Files as given, folders expanded to their CSV files (sorted); a missing path is an error."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted({f for pat in patterns for f in p.glob(pat)})
            if not found:
                raise InputError(p, "folder holds no CSV files")
            out.extend(found)
        elif p.is_file():
            out.append(p)
        else:
            raise InputError(p, "no such file or folder")
    return list(dict.fromkeys(out))


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def open_binary(path: Path):
    return gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")


def read_header(path: Path) -> list[str]:
    """The first line of the file as CSV fields (a UTF-8 byte-order mark is ignored)."""
    try:
        with open_binary(path) as fh:
            first = fh.readline()
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(path, f"truncated or corrupt gzip file ({exc})") from None
    if not first.strip():
        raise InputError(path, "file is empty (no header line)", line=1)
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not UTF-8 text (byte {exc.start + 1} of the header)", line=1) from None
    return next(csv.reader([text]))


class CsvBatches:
    """Stream a CSV file as batches of string columns: `for batch, first_index in CsvBatches(...)`.

    Rows with the wrong number of fields are skipped by the parser and kept in `.ragged`;
    `locate_records` finds exactly where they were when a file has any row to quarantine.
    """

    def __init__(self, path: Path, columns: list[str], multiline: bool = False, threads: bool = True):
        self.path, self.columns, self.multiline = path, columns, multiline
        self.threads = threads  # parse on Arrow's thread pool (the same batches either way)
        self.ragged: list[str] = []

    def _on_invalid(self, row) -> str:
        self.ragged.append(row.text)
        return "skip"

    def __iter__(self) -> Iterator[tuple[pa.RecordBatch, int]]:
        path, columns = self.path, self.columns
        source = pa.input_stream(str(path), compression="gzip" if is_gzip(path) else None)
        read = pacsv.ReadOptions(column_names=columns, skip_rows=1, block_size=BLOCK_SIZE, use_threads=self.threads)
        # Quoted fields may span lines in free-text extracts; allowing it costs parallel parsing.
        parse = pacsv.ParseOptions(invalid_row_handler=self._on_invalid, newlines_in_values=self.multiline)
        convert = pacsv.ConvertOptions(column_types={c: pa.string() for c in columns}, strings_can_be_null=False,
                                       quoted_strings_can_be_null=False)
        start = 0
        try:
            for batch in pacsv.open_csv(source, read_options=read, parse_options=parse, convert_options=convert):
                yield batch, start
                start += batch.num_rows
        except pa.ArrowInvalid as exc:
            if "UTF8" in str(exc):
                raise _utf8_error(path) from None
            raise InputError(path, f"cannot be read as CSV ({exc})") from None
        except (OSError, EOFError) as exc:
            raise InputError(path, f"truncated or corrupt gzip file ({exc})") from None


def _utf8_error(path: Path) -> InputError:
    """Find the first line that is not UTF-8, to name it in the error (the slow path)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open_binary(path) as fh:
        for number, line in enumerate(fh, start=1):
            try:
                decoder.decode(line)
            except UnicodeDecodeError as exc:
                return InputError(path, f"not UTF-8 text (byte {exc.start + 1} of the line); "
                                        "re-save the file as UTF-8", line=number)
    return InputError(path, "not UTF-8 text; re-save the file as UTF-8")


def locate_records(path: Path, ncols: int) -> tuple[list[int], list[tuple[int, str]]]:
    """Physical first line of every well-formed record, and (line, text) of every ragged one.

    Used only for files with rows to quarantine, so the common case stays fast.
    """
    good: list[int] = []
    ragged: list[tuple[int, str]] = []
    with open_binary(path) as fh:
        text = io.TextIOWrapper(fh, encoding="utf-8-sig", newline="")
        reader = csv.reader(text)
        next(reader, None)
        line = reader.line_num + 1
        for fields in reader:
            if len(fields) == ncols:
                good.append(line)
            elif fields:
                ragged.append((line, ",".join(fields)))
            line = reader.line_num + 1
    return good, ragged
