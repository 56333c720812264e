"""Small-number suppression (vrp.disclosure): primary and complementary suppression, the
recoverability checker (against brute force), and the configuration."""
from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vrp.disclosure import (
    DEFAULT_RULE_ID,
    DisclosureRule,
    Suppression,
    primary_suppressed,
    recoverable,
    rule_from_config,
    suppress,
)

RULE = DisclosureRule()


# --- table builders ---------------------------------------------------------------------------

def one_way(parts: dict, total="P"):
    counts = dict(parts)
    counts[total] = sum(parts.values())
    return counts, [(total, list(parts))]


def two_way(grid: list[list[int]]):
    """Districts x months with district totals, month totals and the grand total, as cells
    (d, m), (d, "all"), ("all", m), ("all", "all")."""
    rows, cols = [f"d{r}" for r in range(len(grid))], [f"m{c}" for c in range(len(grid[0]))]
    counts = {}
    for r, row in zip(rows, grid):
        for c, v in zip(cols, row):
            counts[(r, c)] = v
    for r in rows:
        counts[(r, "all")] = sum(counts[(r, c)] for c in cols)
    for c in cols:
        counts[("all", c)] = sum(counts[(r, c)] for r in rows)
    counts[("all", "all")] = sum(counts[(r, "all")] for r in rows)
    groups = [((r, "all"), [(r, c) for c in cols]) for r in rows]
    groups += [(("all", c), [(r, c) for r in rows]) for c in cols]
    groups += [(("all", "all"), [(r, "all") for r in rows]), (("all", "all"), [("all", c) for c in cols])]
    return counts, groups


def hierarchy(lsoas: dict[str, dict[str, int]]):
    """LSOAs within districts within the partnership, one period."""
    counts, groups = {}, []
    for district, parts in lsoas.items():
        counts.update(parts)
        counts[district] = sum(parts.values())
        groups.append((district, list(parts)))
    counts["P"] = sum(counts[d] for d in lsoas)
    groups.append(("P", list(lsoas)))
    return counts, groups


def three_way(inner: dict[tuple[int, int, int], int], dims: tuple[int, int, int]):
    """Area x month x age band with every margin ("T" on any axis) and a group along each axis."""
    axes = [[*range(n), "T"] for n in dims]
    counts = {k: sum(v for cell, v in inner.items() if all(a in ("T", b) for a, b in zip(k, cell)))
              for k in itertools.product(*axes)}
    groups = [(k, [k[:ax] + (i,) + k[ax + 1:] for i in range(dims[ax])])
              for k in counts for ax in range(3) if k[ax] == "T"]
    return counts, groups


def brute_force_recoverable(counts, groups, suppressed, k=1):
    """Independent of vrp.disclosure: enumerate every integer change d in {-k..k} to the withheld
    cells that keeps every group adding up. A withheld cell is recoverable iff no such change moves
    it. (For these tables the null space is spanned by vectors with entries in {-1, 0, 1}, so k = 1
    finds a move for every undetermined cell.)"""
    hidden = [key for key in counts if key in set(suppressed) or counts[key] is None]
    col = {key: n for n, key in enumerate(hidden)}
    a = np.zeros((len(groups), len(hidden)), dtype=int)
    for r, (total, parts) in enumerate(groups):
        if total in col:
            a[r, col[total]] += 1
        for p in parts:
            if p in col:
                a[r, col[p]] -= 1
    moves = np.array(list(itertools.product(range(-k, k + 1), repeat=len(hidden))), dtype=int).reshape(-1, len(hidden))
    ok = moves[(moves @ a.T == 0).all(axis=1)]
    return {key for key in hidden if not ok[:, col[key]].any()}


def single_unknown_groups(counts, groups, hidden):
    return [total for total, parts in groups if sum(k in hidden or counts[k] is None for k in (total, *parts)) == 1]


def check_invariants(counts, groups, rule, s: Suppression):
    for key, v in counts.items():
        if s.published(key):
            assert v is not None
            assert not (0 < v < rule.min_count), key
            assert not (v == 0 and rule.suppress_zero), key
    assert recoverable(counts, groups, s.suppressed) == set()
    assert s.primary == primary_suppressed(counts, rule)
    assert s.primary <= s.suppressed
    assert s.suppressed == s.primary | s.secondary and not (s.primary & s.secondary)
    assert s.unknown == {k for k, v in counts.items() if v is None}
    assert not (s.unknown & s.suppressed)


# --- one-way table ------------------------------------------------------------------------------

def test_district_at_three_and_one_complement():
    counts, groups = one_way({"Basingstoke": 20, "Eastleigh": 3, "Fareham": 12, "Gosport": 40, "Hart": 15})
    s = suppress(counts, groups, RULE)
    assert s.primary == {"Eastleigh"}
    assert s.secondary == {"Fareham"}            # the smallest published non-zero part
    assert s.suppressed == {"Eastleigh", "Fareham"}
    assert s.published("P") and s.published("Gosport") and not s.published("Eastleigh")
    assert recoverable(counts, groups, s.suppressed) == set()
    # the checker itself: without the complement, the 3 is the total minus the others
    assert recoverable(counts, groups, {"Eastleigh"}) == {"Eastleigh"}
    assert brute_force_recoverable(counts, groups, {"Eastleigh"}) == {"Eastleigh"}


def test_complement_ties_go_by_order_in_the_group_and_zeros_are_not_complements():
    counts, groups = one_way({"a": 0, "b": 2, "c": 9, "d": 9, "e": 30})
    s = suppress(counts, groups, RULE)
    assert s.suppressed == {"b", "c"}
    assert s.published("a")                       # zeros are published by default


def test_no_non_zero_part_left_suppresses_the_total():
    counts, groups = {"a": 0, "b": None, "c": 0, "P": 12}, [("P", ["a", "b", "c"])]
    assert recoverable(counts, groups, set()) == {"b"}
    s = suppress(counts, groups, RULE)
    assert s.secondary == {"P"} and s.published("a") and s.published("c")
    assert recoverable(counts, groups, s.suppressed) == set()


def test_two_small_parts_protect_each_other():
    counts, groups = one_way({"a": 2, "b": 1, "c": 50})
    s = suppress(counts, groups, RULE)
    assert s.suppressed == s.primary == {"a", "b"}


def test_suppress_zero_and_thresholds():
    counts, groups = one_way({"a": 0, "b": 5, "c": 6, "d": 20})
    assert suppress(counts, groups, RULE).suppressed == set()
    s = suppress(counts, groups, DisclosureRule(suppress_zero=True))
    assert s.primary == {"a"} and s.secondary == {"b"}
    s = suppress(counts, groups, DisclosureRule(min_count=6))     # the Fingertips-style 1-5 rule
    assert s.primary == {"b"} and s.secondary == {"c"}


# --- two-way table --------------------------------------------------------------------------------

# Two blocks of small cells joined by one small cell, (d0, m2): every district, month and total
# group has at least two withheld cells, yet (d0, m2) = (d0 + d1 totals) - (m0 + m1 totals) - known.
BRIDGE = [[1, 2, 3, 50],
          [2, 1, 40, 60],
          [30, 40, 1, 2],
          [50, 60, 2, 1]]


def test_two_way_cell_recoverable_only_by_combining_groups():
    counts, groups = two_way(BRIDGE)
    primary = primary_suppressed(counts, RULE)
    assert len(primary) == 9
    assert single_unknown_groups(counts, groups, primary) == []   # single-group checks pass...
    assert recoverable(counts, groups, primary) == {("d0", "m2")}  # ...but the table gives it away
    assert brute_force_recoverable(counts, groups, primary) == {("d0", "m2")}

    s = suppress(counts, groups, RULE)
    assert s.primary == primary and s.secondary            # at least one complement was needed
    assert recoverable(counts, groups, s.suppressed) == set()
    assert brute_force_recoverable(counts, groups, s.suppressed) == set()
    check_invariants(counts, groups, RULE, s)


def test_two_way_single_small_cell():
    counts, groups = two_way([[30, 20, 25], [12, 3, 40], [18, 22, 9]])
    s = suppress(counts, groups, RULE)
    assert s.primary == {("d1", "m1")}
    # groups in order, smallest published non-zero part each time: row d1 -> (d1, m0) 12;
    # column m0 -> (d2, m0) 18; column m1 -> (d0, m1) 20; row d0 -> (d0, m2) 25; row d2 -> (d2, m2) 9
    assert s.secondary == {("d1", "m0"), ("d2", "m0"), ("d0", "m1"), ("d0", "m2"), ("d2", "m2")}
    assert recoverable(counts, groups, s.suppressed) == set()


def test_recoverable_matches_brute_force_on_every_pattern_of_a_small_table():
    counts, groups = two_way([[7, 8, 9], [10, 11, 12]])
    cells = list(counts)
    for n in range(1, 6):
        for hidden in itertools.combinations(cells, n):
            assert recoverable(counts, groups, hidden) == brute_force_recoverable(counts, groups, hidden), hidden


# --- hierarchy ---------------------------------------------------------------------------------------

LSOAS = {
    "Eastleigh": {"E01A": 12, "E01B": 2, "E01C": 30, "E01D": 8},
    "Fareham": {"F01A": 25, "F01B": 40, "F01C": 17},
    "Gosport": {"G01A": 1, "G01B": 3, "G01C": 0},      # the district total (4) is small too
    "Hart": {"H01A": 22, "H01B": 19},
}


def test_hierarchy_lsoas_within_districts_within_partnership():
    counts, groups = hierarchy(LSOAS)
    s = suppress(counts, groups, RULE)
    assert s.primary == {"E01B", "G01A", "G01B", "Gosport"}
    # E01B needs a complement in Eastleigh (E01D, 8); Gosport (4) needs one among the districts
    # (Hart, 41, the smallest); Hart then needs one among its LSOAs (H01B, 19)
    assert s.secondary == {"E01D", "Hart", "H01B"}
    assert s.published("P") and s.published("Eastleigh") and s.published("G01C")
    assert recoverable(counts, groups, s.suppressed) == set()
    assert brute_force_recoverable(counts, groups, s.suppressed) == set()
    # without the district-level complement the partnership total gives Gosport away
    assert recoverable(counts, groups, s.suppressed - {"Hart", "H01B"}) == {"Gosport"}


def test_hierarchy_across_time_lsoa_by_month():
    """Three levels of area by months with year totals: a 3-D table with shared margins."""
    rng = np.random.default_rng(7)
    lsoas = {"D1": ["L1", "L2", "L3"], "D2": ["L4", "L5"]}
    months = ["2025-01", "2025-02", "2025-03", "2025-04"]
    counts, groups = {}, []
    for ls in lsoas.values():
        for lsoa in ls:
            for m in months:
                counts[(lsoa, m)] = int(rng.poisson(6))
    for d, ls in lsoas.items():
        for m in months:
            counts[(d, m)] = sum(counts[(lsoa, m)] for lsoa in ls)
    for m in months:
        counts[("P", m)] = sum(counts[(d, m)] for d in lsoas)
    areas = [lsoa for ls in lsoas.values() for lsoa in ls] + list(lsoas) + ["P"]
    for a in areas:
        counts[(a, "2025")] = sum(counts[(a, m)] for m in months)
    for m in [*months, "2025"]:
        groups += [((d, m), [(lsoa, m) for lsoa in ls]) for d, ls in lsoas.items()]
        groups.append((("P", m), [(d, m) for d in lsoas]))
    groups += [((a, "2025"), [(a, m) for m in months]) for a in areas]
    s = suppress(counts, groups, RULE)
    assert s.primary
    check_invariants(counts, groups, RULE, s)


# --- cells unknown at source ----------------------------------------------------------------------------

def test_unknown_at_source_is_not_ours_but_counts_as_withheld():
    counts = {"a": None, "b": 3, "c": 20, "d": 30, "P": 60}
    groups = [("P", ["a", "b", "c", "d"])]
    s = suppress(counts, groups, RULE)
    assert s.unknown == {"a"} and s.suppressed == s.primary == {"b"}   # a and b protect each other
    assert not s.published("a")


def test_unknown_at_source_is_protected_like_a_suppressed_cell():
    counts = {"a": None, "c": 20, "d": 30, "P": 57}
    groups = [("P", ["a", "c", "d"])]
    assert recoverable(counts, groups, set()) == {"a"}
    s = suppress(counts, groups, RULE)
    assert s.unknown == {"a"} and s.secondary == {"c"}
    assert recoverable(counts, groups, s.suppressed) == set()


# --- rates, rule, config, errors --------------------------------------------------------------------------

def test_rates_follow_the_count_and_its_suppression():
    counts, groups = one_way({"a": 3, "b": 8, "c": 12, "d": 40})
    s = suppress(counts, groups, RULE)
    assert s.suppressed == {"a", "b"}
    assert [s.rate_published(k) for k in ("a", "b", "c", "d", "P")] == [False, False, True, True, True]
    counts2, groups2 = one_way({"a": 3, "b": 6, "c": 9, "d": 30})
    s2 = suppress(counts2, groups2, RULE)
    assert s2.published("c") and not s2.rate_published("c")          # published count 9 < 10
    with pytest.raises(KeyError):
        s2.published("nope")


def test_describe():
    assert RULE.describe() == ("counts 1-4 suppressed; rates suppressed when the count is under 10; "
                               "complementary suppression so no suppressed cell can be recovered from totals")
    assert DisclosureRule(min_count=6, suppress_zero=True).describe().startswith("counts 0-5 suppressed;")
    assert DisclosureRule(min_count=2).describe().startswith("counts of 1 suppressed;")
    assert DisclosureRule(min_count=1).describe().startswith("no small counts suppressed;")


def test_rule_from_config():
    assert rule_from_config({}) == DisclosureRule()
    assert rule_from_config(None).id == DEFAULT_RULE_ID
    r = rule_from_config({"min_count": 6, "suppress_zero": False, "rate_min_count": 10})
    assert (r.min_count, r.suppress_zero, r.rate_min_count) == (6, False, 10)
    assert r.id == f"{DEFAULT_RULE_ID}+min_count=6"
    cfg = {"min_count": 5, "sources": {"fingertips": {"min_count": 6}}}
    assert rule_from_config(cfg).min_count == 5
    assert rule_from_config(cfg, source="fingertips").min_count == 6
    assert rule_from_config(cfg, source="police_uk").min_count == 5
    with pytest.raises(ValueError, match="min_cont"):
        rule_from_config({"min_cont": 6})
    with pytest.raises(ValueError, match="disclosure.sources.fingertips.zero"):
        rule_from_config({"sources": {"fingertips": {"zero": True}}})
    with pytest.raises(ValueError, match="min_count"):
        rule_from_config({"min_count": 0})
    with pytest.raises(ValueError, match="rate_min_count"):
        rule_from_config({"min_count": 8, "rate_min_count": 5})
    with pytest.raises(ValueError, match="suppress_zero"):
        rule_from_config({"suppress_zero": "yes"})
    with pytest.raises(ValueError, match="min_count"):
        rule_from_config({"min_count": 4.5})


def test_bad_tables_are_refused():
    with pytest.raises(ValueError, match="parts sum to 5"):
        suppress({"a": 2, "b": 3, "P": 6}, [("P", ["a", "b"])], RULE)
    with pytest.raises(ValueError, match="'z'"):
        suppress({"a": 2, "P": 2}, [("P", ["a", "z"])], RULE)
    with pytest.raises(ValueError, match="non-negative"):
        suppress({"a": -1, "P": -1}, [("P", ["a"])], RULE)
    with pytest.raises(ValueError, match="non-negative"):
        primary_suppressed({"a": 2.5}, RULE)
    with pytest.raises(ValueError, match="own parts"):
        suppress({"a": 2, "P": 2}, [("P", ["a", "P"])], RULE)
    # a group without parts constrains nothing and is ignored
    assert suppress({"a": 2, "b": 9, "P": 11, "Q": 7}, [("P", ["a", "b"]), ("Q", [])], RULE).suppressed == {"a", "b"}
    # numpy integers and integral floats are counts
    assert suppress({"a": np.int64(2), "b": 7.0, "P": 9}, [("P", ["a", "b"])], RULE).suppressed == {"a", "b"}


def test_deterministic_across_hash_seeds():
    """String hashing differs between processes; the result must not."""
    code = ("import json; from vrp.disclosure import suppress, DisclosureRule; "
            "from tests.test_disclosure import two_way, BRIDGE; "
            "c, g = two_way(BRIDGE); s = suppress(c, g, DisclosureRule()); "
            "print(json.dumps(sorted(map(list, s.secondary))))")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2", "3")}
    assert len(outs) == 1 and json.loads(outs.pop())


def test_performance_sanity_fourteen_districts_by_sixty_months():
    rng = np.random.default_rng(2026)
    counts, groups = two_way(rng.poisson(8, size=(14, 60)).tolist())
    s = suppress(counts, groups, RULE)
    assert len(counts) == 915 and s.primary
    check_invariants(counts, groups, RULE, s)


# --- properties -----------------------------------------------------------------------------------------

small_counts = st.integers(0, 14).map(lambda v: v if v < 10 else v * 3)   # many small, some large
rules = st.builds(lambda m, z, extra: DisclosureRule(min_count=m, suppress_zero=z, rate_min_count=m + extra),
                  st.integers(1, 7), st.booleans(), st.integers(0, 5))


@st.composite
def one_way_tables(draw):
    values = draw(st.lists(small_counts, min_size=1, max_size=9))
    return one_way({f"p{n}": v for n, v in enumerate(values)})


@st.composite
def two_way_tables(draw, max_r=5, max_c=6):
    r, c = draw(st.integers(1, max_r)), draw(st.integers(1, max_c))
    grid = draw(st.lists(st.lists(small_counts, min_size=c, max_size=c), min_size=r, max_size=r))
    return two_way(grid)


@st.composite
def hierarchy_tables(draw):
    n = draw(st.integers(1, 4))
    return hierarchy({f"D{d}": {f"D{d}L{i}": v for i, v in enumerate(draw(st.lists(small_counts, min_size=1, max_size=5)))}
                      for d in range(n)})


@st.composite
def three_way_tables(draw):
    dims = tuple(draw(st.integers(1, 3)) for _ in range(3))
    cells = list(itertools.product(*[range(n) for n in dims]))
    values = draw(st.lists(small_counts, min_size=len(cells), max_size=len(cells)))
    return three_way(dict(zip(cells, values)), dims)


tables = st.one_of(one_way_tables(), two_way_tables(), hierarchy_tables(), three_way_tables())


@settings(max_examples=300, deadline=None)
@given(tables, rules)
def test_property_final_suppression_is_safe_and_deterministic(table, rule):
    counts, groups = table
    s = suppress(counts, groups, rule)
    check_invariants(counts, groups, rule, s)                            # (a), (b), (d)
    assert suppress(dict(counts), list(groups), rule) == s                   # (c)


@settings(max_examples=100, deadline=None)
@given(tables, rules, st.data())
def test_property_unknown_cells_at_source(table, rule, data):
    counts, groups = table
    blank = data.draw(st.sets(st.sampled_from(list(counts)), max_size=3))
    counts = {k: (None if k in blank else v) for k, v in counts.items()}
    s = suppress(counts, groups, rule)
    check_invariants(counts, groups, rule, s)


@settings(max_examples=150, deadline=None)
@given(tables, rules)
def test_property_nothing_below_threshold_nothing_suppressed(table, rule):
    counts, groups = table
    floor = rule.min_count

    def lift(v):
        return v if (v == 0 and not rule.suppress_zero) or v >= floor else v + floor

    # lift the innermost cells, then rebuild the totals from them
    leaves = [k for k in counts if not any(k == t for t, _ in groups)]
    lifted = {k: lift(counts[k]) for k in leaves}
    changed = True
    while changed:
        changed = False
        for total, parts in groups:
            if total not in lifted and all(p in lifted for p in parts):
                lifted[total] = sum(lifted[p] for p in parts)
                changed = True
    counts = {k: lifted[k] for k in counts}
    if any(rule.is_primary(v) for v in counts.values()):   # e.g. an all-zero table with suppress_zero
        return
    s = suppress(counts, groups, rule)
    assert s.suppressed == set()                                              # (e)


@settings(max_examples=200, deadline=None)
@given(st.one_of(one_way_tables(), two_way_tables(3, 3), hierarchy_tables()),
       st.data())
def test_property_recoverable_matches_brute_force(table, data):
    counts, groups = table
    hidden = data.draw(st.sets(st.sampled_from(list(counts)), min_size=1, max_size=8))
    assert recoverable(counts, groups, hidden) == brute_force_recoverable(counts, groups, hidden)
