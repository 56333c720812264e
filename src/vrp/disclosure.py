"""Statistical disclosure control: small-number suppression for everything that leaves the analyst tier.

Every product (partner web pages, extracts, reports) passes its counts through `suppress()`:

    rule = rule_from_config(ws.config.get("disclosure", {}))
    s = suppress(counts, groups, rule)        # counts: {key: int | None}; groups: [(total, [parts])]
    shown = {k: (v if s.published(k) else None) for k, v in counts.items()}

A table is a set of cells (hashable key -> non-negative integer count, or None when the source
already withheld it) and additive constraints `(total_key, [part_keys])`, meaning
count[total] == sum(count[parts]). A cell may be a part in several groups and a total in others.

Primary suppression removes small counts (1..min_count-1, and 0 when suppress_zero). Secondary
(complementary) suppression then removes further cells until no withheld cell - ours or the
source's - can be computed exactly from the published cells and the constraints (see
docs/disclosure.md for the algorithm, its guarantee and its limits).
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

Key = Hashable

DEFAULT_RULE_ID = "sdc-default-2026.1"

# A cell is exactly determined when e_i lies in the row space of the constraint matrix restricted
# to the unknown cells, i.e. when its orthogonal projection onto that row space has length 1. For
# an undetermined cell 1 - |projection|^2 is at least 1/L, L the number of withheld cells that can
# move together with it (a cycle in a two-way table): far above this tolerance for tables of a
# few thousand cells, while rounding error is ~1e-13.
_DETERMINED_TOL = 1e-9


@dataclass(frozen=True)
class DisclosureRule:
    """The suppression thresholds. Change `id` whenever the numbers change: it goes in footnotes."""

    id: str = DEFAULT_RULE_ID
    min_count: int = 5           # counts 1..min_count-1 are suppressed (primary)
    suppress_zero: bool = False  # zeros are published by default
    rate_min_count: int = 10     # rates/CIs/percentages suppressed when the numerator < this

    def __post_init__(self):
        if not isinstance(self.id, str) or not self.id:
            raise ValueError("disclosure rule id must be a non-empty string")
        if not _is_int(self.min_count) or self.min_count < 1:
            raise ValueError(f"min_count must be an integer >= 1, got {self.min_count!r}")
        if not isinstance(self.suppress_zero, bool):
            raise ValueError(f"suppress_zero must be true or false, got {self.suppress_zero!r}")
        if not _is_int(self.rate_min_count) or self.rate_min_count < self.min_count:
            raise ValueError(f"rate_min_count must be an integer >= min_count ({self.min_count}), "
                             f"got {self.rate_min_count!r}")

    def is_primary(self, count: int | None) -> bool:
        """True when this count must be withheld for its own sake (None: unknown, not ours to suppress)."""
        if count is None:
            return False
        if count == 0:
            return self.suppress_zero
        return count < self.min_count

    def rate_publishable(self, numerator: int | None) -> bool:
        """Whether a rate, percentage or confidence interval on this numerator count may be shown.

        Use `Suppression.rate_published(key)` when the numerator is a cell of a suppressed table: a
        rate on a secondarily suppressed count would give the count away.
        """
        return numerator is not None and numerator >= self.rate_min_count

    def describe(self) -> str:
        """One line for footnotes."""
        low, high = (0 if self.suppress_zero else 1), self.min_count - 1
        if high < low:
            counts = "no small counts suppressed"
        elif high == low:
            counts = f"counts of {low} suppressed"
        else:
            counts = f"counts {low}-{high} suppressed"
        return (f"{counts}; rates suppressed when the count is under {self.rate_min_count}; "
                "complementary suppression so no suppressed cell can be recovered from totals")


@dataclass(frozen=True)
class Suppression:
    """The outcome of `suppress()`.

    `primary`: small counts withheld for their own sake; `secondary`: complements withheld so the
    primary cells cannot be worked out from totals; `suppressed` = primary | secondary;
    `unknown`: cells that were None at source (never published, never counted as ours).
    """

    suppressed: frozenset
    primary: frozenset
    secondary: frozenset
    unknown: frozenset
    rule: DisclosureRule
    counts: Mapping = field(repr=False, compare=False, hash=False)

    def published(self, key: Key) -> bool:
        """Whether this cell's count may be shown. KeyError for a key that is not in the table."""
        if key not in self.counts:
            raise KeyError(f"{key!r} is not a cell of this table")
        return key not in self.suppressed and key not in self.unknown

    def rate_published(self, key: Key) -> bool:
        """Whether a rate/percentage/CI whose numerator is this cell may be shown: the count is
        published and at least rule.rate_min_count."""
        return self.published(key) and self.rule.rate_publishable(self.counts[key])


def primary_suppressed(counts: Mapping[Key, int | None], rule: DisclosureRule) -> set[Key]:
    """The cells withheld for their own sake: 1..min_count-1, and 0 when rule.suppress_zero."""
    return {k for k, v in counts.items() if rule.is_primary(_as_count(k, v))}


def suppress(counts: Mapping[Key, int | None], groups: Sequence[tuple[Key, Sequence[Key]]],
             rule: DisclosureRule | None = None) -> Suppression:
    """Primary and complementary suppression of one table. Deterministic for a given input order.

    Raises ValueError for a malformed table: a negative or non-integer count, a group naming a key
    that is not in `counts`, or a group whose known counts do not add up.
    """
    rule = rule or DisclosureRule()
    table = _Table(counts, groups)
    table.check_consistent()
    primary = [i for i, v in enumerate(table.values) if rule.is_primary(v)]
    unk = np.array([v is None for v in table.values], dtype=bool)
    unk[primary] = True
    secondary: list[int] = []

    while True:
        secondary += table.close_single_unknowns(unk)
        recovered = table.determined(unk)
        if not recovered:
            break
        j = table.complement_for(min(recovered), unk)
        unk[j] = True
        secondary.append(j)

    keys = table.keys
    p = frozenset(keys[i] for i in primary)
    s = frozenset(keys[i] for i in secondary)
    return Suppression(suppressed=p | s, primary=p, secondary=s,
                       unknown=frozenset(k for k, v in zip(keys, table.values) if v is None),
                       rule=rule, counts=MappingProxyType(dict(counts)))


def recoverable(counts: Mapping[Key, int | None], groups: Sequence[tuple[Key, Sequence[Key]]],
                suppressed: Iterable[Key]) -> set[Key]:
    """The withheld cells whose exact value follows from the published cells and the constraints.

    Withheld = `suppressed` plus the cells that are None in `counts`. A cell is recoverable iff it
    is exactly determined by linear combination (e_i is in the row space of the constraint matrix
    restricted to the withheld cells). Non-negativity is not used: bounds are not checked here.
    """
    table = _Table(counts, groups)
    unk = np.array([v is None for v in table.values], dtype=bool)
    for k in suppressed:
        if k not in table.pos:
            raise ValueError(f"suppressed cell {k!r} is not in the table")
        unk[table.pos[k]] = True
    return {table.keys[i] for i in table.determined(unk)}


_RULE_KEYS = ("min_count", "suppress_zero", "rate_min_count")


def rule_from_config(mapping: Mapping | None, source: str | None = None) -> DisclosureRule:
    """The rule from the `[disclosure]` table of vrp.toml (pass `ws.config.get("disclosure", {})`).

    Keys: min_count, suppress_zero, rate_min_count; omitted keys keep the defaults. A per-source
    rule goes in `[disclosure.sources.NAME]` with the same keys, overriding the top-level ones
    for that source (e.g. min_count = 6 for Fingertips). Unknown keys raise ValueError naming the
    key. The rule id is the default id, plus the settings that differ from the defaults.
    """
    mapping = dict(mapping or {})
    sources = mapping.pop("sources", {})
    if not isinstance(sources, Mapping):
        raise ValueError("disclosure.sources must be a table of per-source tables")
    settings = _rule_settings(mapping, "disclosure")
    for name, table in sources.items():
        if not isinstance(table, Mapping):
            raise ValueError(f"disclosure.sources.{name} must be a table")
        overrides = _rule_settings(table, f"disclosure.sources.{name}")
        if name == source:
            settings = {**settings, **overrides}
    default = DisclosureRule()
    changed = [f"{k}={_toml(settings[k])}" for k in _RULE_KEYS
               if k in settings and settings[k] != getattr(default, k)]
    rule_id = DEFAULT_RULE_ID + ("+" + ",".join(changed) if changed else "")
    return DisclosureRule(id=rule_id, **settings)


def _rule_settings(table: Mapping, where: str) -> dict:
    for k in table:
        if k not in _RULE_KEYS:
            raise ValueError(f"unknown key {where}.{k} (allowed: {', '.join(_RULE_KEYS)})")
    for k in ("min_count", "rate_min_count"):
        if k in table and not _is_int(table[k]):
            raise ValueError(f"{where}.{k} must be an integer, got {table[k]!r}")
    if "suppress_zero" in table and not isinstance(table["suppress_zero"], bool):
        raise ValueError(f"{where}.suppress_zero must be true or false, got {table['suppress_zero']!r}")
    return dict(table)


def _toml(v) -> str:
    return str(v).lower() if isinstance(v, bool) else str(v)


def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _as_count(key: Key, v) -> int | None:
    if v is None:
        return None
    if _is_int(v):
        n = int(v)
    elif isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v) and float(v).is_integer():
        n = int(v)
    else:
        raise ValueError(f"count for {key!r} must be a non-negative integer or None, got {v!r}")
    if n < 0:
        raise ValueError(f"count for {key!r} must be a non-negative integer or None, got {v!r}")
    return n


class _Table:
    """Cells by position (input order) and groups as (total, parts) positions."""

    def __init__(self, counts: Mapping, groups: Sequence):
        self.keys = list(counts)
        self.pos = {k: i for i, k in enumerate(self.keys)}
        self.values = [_as_count(k, counts[k]) for k in self.keys]
        self.groups: list[tuple[int, tuple[int, ...]]] = []
        self.cell_groups: list[list[int]] = [[] for _ in self.keys]
        for g in groups:
            try:
                total, parts = g
            except (TypeError, ValueError):
                raise ValueError(f"group {g!r} must be (total_key, [part_keys])") from None
            if isinstance(parts, (str, bytes)) or not isinstance(parts, Iterable):
                raise ValueError(f"group for total {total!r}: parts must be a list of keys")
            parts = list(parts)
            for k in (total, *parts):
                if k not in self.pos:
                    raise ValueError(f"group for total {total!r} names {k!r}, which is not in the table")
            if not parts:   # says nothing about any other cell (e.g. a district with no LSOAs held)
                continue
            if total in parts:
                raise ValueError(f"group for total {total!r} lists the total among its own parts")
            if len(set(parts)) != len(parts):
                raise ValueError(f"group for total {total!r} lists a part more than once")
            gi = len(self.groups)
            self.groups.append((self.pos[total], tuple(self.pos[k] for k in parts)))
            for i in (self.pos[total], *self.groups[-1][1]):
                self.cell_groups[i].append(gi)

    def check_consistent(self) -> None:
        """The guarantee rests on the constraints being true: refuse totals that do not add up."""
        for t, parts in self.groups:
            known = [self.values[p] for p in parts if self.values[p] is not None]
            total = self.values[t]
            if total is None:
                continue
            if len(known) == len(parts) and sum(known) != total:
                raise ValueError(f"group total {self.keys[t]!r} = {total} but its parts sum to {sum(known)}; "
                                 "add a part for the unallocated remainder")
            if sum(known) > total:
                raise ValueError(f"group total {self.keys[t]!r} = {total} but its known parts sum to {sum(known)}")

    # -- secondary suppression -------------------------------------------------------------

    def close_single_unknowns(self, unk: np.ndarray) -> list[int]:
        """Until no group has exactly one unknown cell: suppress the group's smallest published
        non-zero part (ties: order in the group), else its total, else its first (zero) part."""
        added: list[int] = []
        changed = True
        while changed:
            changed = False
            for t, parts in self.groups:
                unknown = [i for i in (t, *parts) if unk[i]]
                if len(unknown) != 1:
                    continue
                u = unknown[0]
                nonzero = [(self.values[p], n, p) for n, p in enumerate(parts) if p != u and self.values[p] > 0]
                if nonzero:
                    j = min(nonzero)[2]
                elif u != t:
                    j = t
                else:  # the total is the unknown and every part is a published zero
                    j = parts[0]
                unk[j] = True
                added.append(j)
                changed = True
        return added

    def complement_for(self, i: int, unk: np.ndarray) -> int:
        """A published cell to suppress so that cell i is no longer determined.

        Looks at the groups that involve i, then (if none helps) groups one step further out, and
        so on. Within a ring, candidates go smallest non-zero first, then zeros (ties: table
        order); the first candidate that makes i undetermined wins. If no single cell does, the
        first candidate of the nearest ring is taken and the caller repeats (each round suppresses
        one more cell, so this terminates).
        """
        seen_groups: set[int] = set()
        seen_cells = {i}
        frontier = [i]
        fallback = None
        while frontier:
            ring_groups = sorted({g for c in frontier for g in self.cell_groups[c]} - seen_groups)
            seen_groups.update(ring_groups)
            ring_cells: list[int] = []
            for g in ring_groups:
                t, parts = self.groups[g]
                for c in (*parts, t):
                    if c not in seen_cells:
                        seen_cells.add(c)
                        ring_cells.append(c)
            candidates = sorted((c for c in ring_cells if not unk[c]),
                                key=lambda c: (self.values[c] == 0, self.values[c], c))
            for c in candidates:
                unk[c] = True
                freed = i not in self.determined(unk, around=i)
                unk[c] = False
                if freed:
                    return c
            if fallback is None and candidates:
                fallback = candidates[0]
            frontier = ring_cells
        if fallback is None:
            raise ValueError(f"cell {self.keys[i]!r} is fixed by the constraints alone (every cell linked "
                             "to it is withheld); check the groups for a cell that is its own total")
        return fallback

    # -- recoverability ----------------------------------------------------------------------

    def determined(self, unk: np.ndarray, around: int | None = None) -> set[int]:
        """The unknown cells whose value the constraints and the known cells fix exactly.

        Unknown cells split into components (linked by sharing a group); each component is solved
        on its own: cell i is determined iff e_i lies in the row space of the component's
        constraint matrix. With `around`, only the component containing that cell is solved.
        """
        starts = [around] if around is not None else np.flatnonzero(unk).tolist()
        done = np.zeros(len(unk), dtype=bool)
        out: set[int] = set()
        for s in starts:
            if done[s]:
                continue
            cells, gs = self._component(s, unk)
            done[cells] = True
            out.update(self._solve(cells, gs, unk))
        return out

    def _component(self, start: int, unk: np.ndarray) -> tuple[list[int], list[int]]:
        cells, gs = [start], []
        seen_c, seen_g = {start}, set()
        k = 0
        while k < len(cells):
            for g in self.cell_groups[cells[k]]:
                if g in seen_g:
                    continue
                seen_g.add(g)
                gs.append(g)
                t, parts = self.groups[g]
                for c in (t, *parts):
                    if unk[c] and c not in seen_c:
                        seen_c.add(c)
                        cells.append(c)
            k += 1
        return cells, gs

    def _solve(self, cells: list[int], gs: list[int], unk: np.ndarray) -> list[int]:
        if not gs:
            return []
        col = {c: n for n, c in enumerate(cells)}
        a = np.zeros((len(gs), len(cells)))
        for r, g in enumerate(gs):
            t, parts = self.groups[g]
            if unk[t]:
                a[r, col[t]] = 1.0
            for p in parts:
                if unk[p]:
                    a[r, col[p]] = -1.0
        _, s, vt = np.linalg.svd(a, full_matrices=False)
        rank = int((s > s.max() * max(a.shape) * np.finfo(float).eps).sum())
        if rank == len(cells):
            return cells
        projection = (vt[:rank] ** 2).sum(axis=0)   # |P_rowspace e_i|^2 for each cell
        return [c for c, p in zip(cells, projection) if p > 1.0 - _DETERMINED_TOL]
