"""Errors a user sees: one line, naming the file, line and field where there is one."""
from __future__ import annotations

from pathlib import Path


class VrpError(Exception):
    """An error the CLI reports as one line and a non-zero exit, without a traceback."""


class InputError(VrpError):
    """A partner file that cannot be loaded at all (wrong header, bad encoding, corrupt gzip...).

    Row-level faults are not errors: those rows go to quarantine and the load goes on.
    """

    def __init__(self, path: Path | str, message: str, line: int | None = None, field: str | None = None):
        self.path, self.line, self.field, self.reason = str(path), line, field, message
        where = str(path)
        if line is not None:
            where += f", line {line}"
        if field:
            where += f", field '{field}'"
        super().__init__(f"{where}: {message}")


class WorkspaceError(VrpError):
    """No workspace, or a workspace that is not in a usable state."""


class NothingToShow(VrpError):
    """A question the loaded data cannot answer: no data for the months, dataset or measure asked
    for, or nothing selected by the filter. The message says why in one line (which months the
    data cover, which period types fit, which measure or definition the loaded data can give)."""
