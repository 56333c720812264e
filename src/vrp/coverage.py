"""What the loaded data cover, and why an answer is empty.

Every reporting command (and the web, and the reports) asks these functions before it answers,
so that an empty table is never the answer: a question the loaded data cannot answer raises
`NothingToShow` with one line saying why (the months the data cover, the period types that fit,
the measure or definition the loaded data can give); an answer that is genuinely zero comes with
a one-line note saying what was looked at.
"""
from __future__ import annotations

from collections.abc import Iterable

from vrp.errors import NothingToShow, VrpError
from vrp.lake.read import HINTS, current_snapshots, loaded_datasets
from vrp.measures.periods import MONTH, month_index, month_label

# What each record dataset is, as a sentence names it: "no police.uk data loaded", "S3 counts
# force crime extracts".
NOUN = {"crimes": "force crime extract", "police_uk": "police.uk", "homicides": "homicide",
        "ed_attendances": "ED attendance", "admissions": "hospital admissions"}
PLURAL = {"crimes": "force crime extracts", "police_uk": "police.uk data", "homicides": "homicide records",
          "ed_attendances": "ED attendances", "admissions": "hospital admission aggregates"}


def noun(dataset: str) -> str:
    return NOUN.get(dataset, dataset)


def loaded_months(ws, dataset: str) -> list[int]:
    """Month indexes with a current snapshot of a monthly dataset (police.uk, extracts, ED), sorted."""
    return sorted({month_index(s.period) for s in current_snapshots(ws, dataset) if MONTH.match(s.period or "")})


def month_list(months: Iterable[int], most: int = 4) -> str:
    """'2025-04', '2025-04 and 2025-06', '2025-04, 2025-05, 2025-06 and 9 more'; runs of three or
    more consecutive months are written as ranges ('2026-01..2026-06')."""
    ordered = sorted(set(months))
    runs: list[list[int]] = []
    for m in ordered:
        if runs and m == runs[-1][-1] + 1:
            runs[-1].append(m)
        else:
            runs.append([m])
    parts = [month_label(r[0]) if len(r) == 1 else f"{month_label(r[0])}..{month_label(r[-1])}" if len(r) > 2
             else f"{month_label(r[0])}, {month_label(r[1])}" for r in runs]
    if len(parts) > most:
        parts = parts[:most - 1] + [f"{len(parts) - most + 1} more"]
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def describe(months: Iterable[int]) -> str:
    """'2023-01 to 2025-12' or '2023-01 to 2025-12 except 2025-04'."""
    ordered = sorted(set(months))
    if not ordered:
        return "no months"
    gaps = [m for m in range(ordered[0], ordered[-1] + 1) if m not in set(ordered)]
    text = month_label(ordered[0]) if len(ordered) == 1 else f"{month_label(ordered[0])} to {month_label(ordered[-1])}"
    return text + (f" except {month_list(gaps)}" if gaps else "")


def span(first: int, last: int) -> str:
    return month_label(first) if first == last else f"{month_label(first)} to {month_label(last)}"


def requested(start: str | None, end: str | None, months: list[int]) -> tuple[int, int]:
    """The months a question is about: --from/--to, each defaulting to the first/last loaded month."""
    first = month_index(start) if start else (months[0] if months else 0)
    last = month_index(end) if end else (months[-1] if months else 0)
    if start and end and last < first:
        raise VrpError(f"--to {end} is before --from {start}")
    return first, last


def require_months(ws, dataset: str, start: str | None, end: str | None) -> list[int]:
    """The months of start..end (default: the loaded months) with no loaded data: a gap, not a
    zero. Raises `NothingToShow` when none of them is loaded."""
    months = loaded_months(ws, dataset)
    if not months:
        raise NothingToShow(f"no month of {noun(dataset)} data is loaded: run `{HINTS.get(dataset, 'vrp ingest')}`")
    first, last = requested(start, end, months)
    have = set(months)
    wanted = range(first, last + 1)
    if not any(m in have for m in wanted):
        asked = f"for {span(first, last)}" if first <= last else f"from {start} on" if start else f"up to {end}"
        raise NothingToShow(f"no {noun(dataset)} data loaded {asked}: the data cover {describe(months)}")
    return [m for m in wanted if m not in have]


def gap_note(dataset: str, missing: list[int]) -> str:
    return f"no {noun(dataset)} data loaded for {month_list(missing)}: left out (a missing month is a gap, not a zero)"


# ---------------------------------------------------------------------------------------------
# Data not loaded: say what the loaded data can give instead


def record_datasets(con) -> list[str]:
    """The loaded datasets a measure or definition can count (not reference or person data)."""
    loaded = loaded_datasets(con)
    return [d for d in NOUN if d in loaded]


def _holds(held: list[str]) -> str:
    return " and ".join(PLURAL[d] for d in held)


def measure_not_loaded(ws, con, measure) -> str:
    """Why a measure cannot be computed and what can: 'S3 counts force crime extracts, none
    loaded; this workspace holds police.uk data: use S3-policeuk (...)'."""
    from vrp.measures.catalogue import workspace_measures

    held = record_datasets(con)
    load = f"`{HINTS.get(measure.dataset, 'vrp ingest')}`"
    text = f"{measure.id} counts {PLURAL.get(measure.dataset, measure.dataset)}, none loaded"
    if not held:
        return f"{text}: load them with {load}"
    available = workspace_measures(ws)
    family = measure.id.split("-")[0]
    siblings = [m.id for m in available.values()
                if m.id != measure.id and m.id.split("-")[0] == family and m.dataset in held]
    if siblings:
        return f"{text}; this workspace holds {_holds(held)}: use {' or '.join(siblings)} (or load them with {load})"
    others = [m.id for m in available.values() if m.dataset in held]
    return (f"{text} (load them with {load}); this workspace holds {_holds(held)}, from which these measures can be "
            f"computed: {', '.join(others)}")


def definition_not_loaded(ws, con, definition) -> str:
    """Why a definition's records cannot be counted and which definitions the loaded data have."""
    from vrp.definitions import load_definitions
    from vrp.measures.catalogue import workspace_measures

    held = record_datasets(con)
    load = f"`{HINTS.get(definition.dataset, 'vrp ingest')}`"
    text = f"definition {definition.id} classifies {PLURAL.get(definition.dataset, definition.dataset)}, none loaded"
    if not held:
        return f"{text}: load them with {load}"
    measures = workspace_measures(ws).values()
    families = {m.id.split("-")[0] for m in measures if m.definition.id == definition.id}
    siblings = list(dict.fromkeys(m.definition.id for m in measures
                                  if m.id.split("-")[0] in families and m.dataset in held))
    if siblings:
        return f"{text}; this workspace holds {_holds(held)}: use --definition {' or '.join(siblings)}"
    others = [d.id for d in load_definitions([ws.definitions_dir]).values() if d.dataset in held]
    return f"{text} (load them with {load}); this workspace holds {_holds(held)}, with definitions {', '.join(others)}"


def range_text(ws, dataset: str, start: str | None, end: str | None) -> str:
    """'2025-01 to 2025-12' for the months asked for, defaulting to the loaded ones."""
    months = loaded_months(ws, dataset)
    first, last = requested(start, end, months)
    return span(first, last)
