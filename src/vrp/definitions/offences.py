"""The shipped Home Office offence code table and offence-code normalisation.

Forces write the same Home Office class in several ways (`05D`, `4/1`, `034b`). Ingest and the
definition files both go through :func:`normalise_offence_code`, so a definition written as `5D`
matches a record the force exported as `05D`. The table itself (`data/ho_offence_codes.csv`) is
derived from the ONS 2017/18 police-recorded-crime hierarchy; provenance is in docs/definitions.md.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

_LEADING_ZEROS = re.compile(r"^0+(?=\d)")


@dataclass(frozen=True)
class OffenceCode:
    """One Home Office offence class, with the ONS group it is counted under."""

    code: str
    description: str
    offence_group: str
    offence_subgroup: str
    knife_collection: bool  # one of the 7 groups the Home Office collects the knife flag for


def normalise_offence_code(raw: str | None) -> str:
    """Canonical spelling of a Home Office code: `05D`->`5D`, `4/1`->`4.1`, `034b`->`34B`.

    Strips blanks, upper-cases, writes the class/sub-class separator as `.` (ONS notation) and
    drops leading zeros of the leading number only (`4.10` keeps its zero). Blank or None -> "".
    """
    code = (raw or "").strip().upper().replace("/", ".")
    return _LEADING_ZEROS.sub("", code)


@cache
def offence_codes() -> dict[str, OffenceCode]:
    """The shipped code table keyed by normalised code (read once, via importlib.resources)."""
    text = resources.files("vrp.definitions").joinpath("data/ho_offence_codes.csv").read_text("utf-8")
    return {
        row["code"]: OffenceCode(
            code=row["code"],
            description=row["description"],
            offence_group=row["offence_group"],
            offence_subgroup=row["offence_subgroup"],
            knife_collection=row["knife_collection"] == "1",
        )
        for row in csv.DictReader(io.StringIO(text))
    }


def is_known_offence_code(code: str | None) -> bool:
    """True when `code` (in any accepted spelling) is in the shipped Home Office table."""
    return normalise_offence_code(code) in offence_codes()


@cache
def knife_collection_codes() -> frozenset[str]:
    """Codes inside the Home Office knife-enabled collection (where a blank flag means missing,
    not `not_applicable`)."""
    return frozenset(c.code for c in offence_codes().values() if c.knife_collection)
