"""Harm weights for crimes: ONS Crime Severity Score, Cambridge Crime Harm Index style, police.uk coarse.

A harm-weighted count replaces "one crime = 1" by "one crime = its offence's weight", so a hotspot of
wounding outranks a hotspot of shoplifting with the same count. The weights are versioned DATA files
(`data/harm/<id>.toml` metadata + `<id>.csv` rows), never code:

* `css-2016`: ONS Crime Severity Score (2016 series) - average sentence in custody-day equivalents;
* `cchi-2023`: Cambridge Crime Harm Index method (Sherman et al. 2016) - days of imprisonment at the
  Sentencing Council starting point for a first-time offender; proactively detected offences
  (drugs, weapons possession, traffic) are excluded from totals by default, as the CCHI prescribes;
* `policeuk-coarse-2026`: one COARSE weight per police.uk crime type (median css-2016 weight of the Home
  Office codes police.uk publishes under it), for police.uk data, which has no offence codes.

Every row says where its number comes from (`basis`: published, published-inferred, derived, proxy,
coarse, excluded) and how (`source_note`). A crime whose code has no weight is NEVER weighted zero
silently: `weigh` returns NaN for it and reports the distinct codes and row counts; excluded codes
(anti-social behaviour, CCHI's proactive offences) are weighted 0 and reported separately.

Scheme ids: a family name (`css`, `cchi`, `policeuk`) resolves to its latest edition; an edition id
(`css-2016`) resolves to itself. Partnerships holding other editions (e.g. the official CCHI
spreadsheet) add them as their own `<id>.toml` + `<id>.csv` in a directory passed as `extra_dirs`.
"""
from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from vrp.datafile import read_toml
from vrp.definitions.engine import POLICE_UK_CRIME_TYPES, sql_literal
from vrp.definitions.offences import is_known_offence_code, normalise_offence_code
from vrp.errors import VrpError

KEYED_ON = ("offence_code", "crime_type")
BASES = ("published", "published-inferred", "derived", "proxy", "coarse", "excluded")
_ID = re.compile(r"[a-z0-9][a-z0-9._-]*")
_REQUIRED_META = ("id", "family", "version", "name", "unit", "keyed_on", "method")
_META_KEYS = {*_REQUIRED_META, "date", "exclude_proactive", "limits", "sources", "conversion",
              "base_scheme", "groups", "statistic"}


@dataclass(frozen=True)
class HarmScheme:
    """One edition of a harm-weight table, read-only.

    `weights` maps a normalised key (Home Office code such as "5D", or a police.uk crime type) to its
    weight in `unit`; keys with basis "excluded" have no weight. `excluded` maps the keys `weigh` counts
    as 0 by default to the reason (the table's excluded rows, and the proactive offences when
    `exclude_proactive`); `notes`, `basis` and `starting_points` hold the per-row provenance.
    """

    id: str
    family: str
    version: str
    name: str
    unit: str
    keyed_on: str
    date: str
    method: str
    limits: str
    source: tuple[str, ...]
    weights: Mapping[str, float]
    notes: Mapping[str, str]
    basis: Mapping[str, str]
    excluded: Mapping[str, str]
    proactive: frozenset[str] = frozenset()
    exclude_proactive: bool = False
    starting_points: Mapping[str, str] = field(default_factory=dict)
    conversion: Mapping[str, Any] = field(default_factory=dict)
    base_scheme: str | None = None
    groups_file: str | None = None
    statistic: str | None = None
    path: str | None = None

    @property
    def keys(self) -> tuple[str, ...]:
        """Every key in the table (weighted or excluded), in file order."""
        return tuple(self.basis)

    def as_dict(self) -> dict:
        """Metadata and a count of rows per basis (JSON-ready; the rows themselves are `records()`)."""
        counts: dict[str, int] = {}
        for b in self.basis.values():
            counts[b] = counts.get(b, 0) + 1
        return {"id": self.id, "family": self.family, "version": self.version, "name": self.name,
                "unit": self.unit, "keyed_on": self.keyed_on, "date": self.date,
                "exclude_proactive": self.exclude_proactive, "base_scheme": self.base_scheme,
                "rows": len(self.basis), "rows_by_basis": counts, "excluded": dict(self.excluded),
                "method": self.method, "limits": self.limits, "source": list(self.source)}

    def records(self) -> list[dict]:
        """One dict per row: key, weight (None when the row has none), basis, exclusion, note."""
        return [{self.keyed_on: k, "weight": self.weights.get(k), "basis": self.basis[k],
                 "proactive": k in self.proactive, "excluded": self.excluded.get(k),
                 "starting_point": self.starting_points.get(k), "source_note": self.notes[k]}
                for k in self.basis]


@dataclass(frozen=True)
class WeighReport:
    """What `weigh` did with every row: weighted, excluded (0 by rule) or unmapped (NaN)."""

    scheme: str
    keyed_on: str
    n_rows: int
    n_weighted: int
    n_excluded: int
    n_unmapped: int
    total: float                                     # sum of the weights of the weighted rows
    unmapped: tuple[tuple[str, int], ...]            # (value as given, stripped; rows), most rows first
    excluded: tuple[tuple[str, str, int], ...]       # (key, reason, rows), most rows first

    @property
    def complete(self) -> bool:
        """True when every row has a weight or a stated exclusion."""
        return self.n_unmapped == 0

    def message(self, limit: int = 5) -> str:
        """One line for a user, e.g. "3 rows (2 distinct codes) have no weight in css-2016: 'X9' (2), ..."."""
        if self.complete:
            return f"all {self.n_rows} rows weighted with {self.scheme} ({self.n_excluded} excluded by rule)"
        shown = ", ".join(f"{v!r} ({n})" if v else f"(blank) ({n})" for v, n in self.unmapped[:limit])
        more = f", and {len(self.unmapped) - limit} more" if len(self.unmapped) > limit else ""
        what = "codes" if self.keyed_on == "offence_code" else "crime types"
        return (f"{self.n_unmapped} rows ({len(self.unmapped)} distinct {what}) have no weight in "
                f"{self.scheme}: {shown}{more}")

    def as_dict(self) -> dict:
        return {"scheme": self.scheme, "keyed_on": self.keyed_on, "n_rows": self.n_rows,
                "n_weighted": self.n_weighted, "n_excluded": self.n_excluded,
                "n_unmapped": self.n_unmapped, "total": self.total, "complete": self.complete,
                "unmapped": [{"value": v, "rows": n} for v, n in self.unmapped],
                "excluded": [{"key": k, "reason": r, "rows": n} for k, r, n in self.excluded]}


# ---------------------------------------------------------------------------------------------
# Loading


def list_schemes(extra_dirs: Iterable[str | Path] = ()) -> list[HarmScheme]:
    """Every available scheme edition (shipped, then `extra_dirs`), sorted by family then version."""
    return sorted(_schemes(extra_dirs).values(), key=lambda s: (s.family, _version_key(s.version), s.id))


def load_scheme(scheme_id: str, extra_dirs: Iterable[str | Path] = ()) -> HarmScheme:
    """The scheme with this edition id (`css-2016`), or the latest edition of this family (`css`).

    "Latest" is the highest `version` within the family (numeric parts compared as numbers).
    """
    if isinstance(scheme_id, HarmScheme):
        return scheme_id
    schemes = _schemes(extra_dirs)
    key = (scheme_id or "").strip().lower()
    if key in schemes:
        return schemes[key]
    family = [s for s in schemes.values() if s.family == key]
    if family:
        return max(family, key=lambda s: (_version_key(s.version), s.id))
    known = sorted({*schemes, *(s.family for s in schemes.values())})
    raise VrpError(f"unknown harm scheme {scheme_id!r}; known: {', '.join(known)}")


def _schemes(extra_dirs: Iterable[str | Path]) -> dict[str, HarmScheme]:
    """Shipped schemes (read once) plus those in `extra_dirs` (read on every call: users edit them).

    Ids are unique across all of them: a user file reusing a shipped id is an error rather than a
    silent override, so a figure labelled `css-2016` always means the shipped table.
    """
    found = dict(_shipped())
    for extra in map(Path, extra_dirs):
        if not extra.is_dir():
            raise VrpError(f"{extra}: no such harm-scheme directory")
        for p in sorted(extra.glob("*.toml")):
            _add(found, _parse(str(p), _read(p), extra))
    return found


@cache
def _shipped() -> dict[str, HarmScheme]:
    shipped = resources.files("vrp.places").joinpath("data", "harm")
    found: dict[str, HarmScheme] = {}
    for entry in sorted(shipped.iterdir(), key=lambda f: f.name):
        if entry.name.endswith(".toml"):
            _add(found, _parse(entry.name, entry.read_text(encoding="utf-8"), shipped))
    return found


def _add(found: dict[str, HarmScheme], scheme: HarmScheme) -> None:
    if scheme.id in found:
        raise VrpError(f"{scheme.path}: duplicate harm scheme id {scheme.id!r} (also in {found[scheme.id].path})")
    found[scheme.id] = scheme


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise VrpError(f"{path}: cannot read: {exc}") from None


def _parse(name: str, text: str, directory) -> HarmScheme:
    def fail(message: str):
        raise VrpError(f"{name}: {message}")

    meta = read_toml(text, _META_KEYS, _REQUIRED_META, fail)
    if not _ID.fullmatch(meta["id"]) or not _ID.fullmatch(meta["family"]):
        fail("'id' and 'family' must be lower case letters, digits, '-', '_' or '.'")
    if meta["id"] == meta["family"]:
        fail("'id' must differ from 'family' (the family name resolves to its latest edition)")
    keyed_on = meta["keyed_on"]
    if keyed_on not in KEYED_ON:
        fail(f"'keyed_on' must be one of {', '.join(KEYED_ON)}")
    sources = meta.get("sources", [])
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        fail("'sources' must be a list of strings")
    exclude_proactive = meta.get("exclude_proactive", False)
    if not isinstance(exclude_proactive, bool):
        fail("'exclude_proactive' must be true or false")
    conversion = meta.get("conversion", {})
    if not isinstance(conversion, dict):
        fail("'conversion' must be a table")

    csv_name = Path(name).with_suffix(".csv").name
    try:
        rows_text = directory.joinpath(csv_name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read its table {csv_name}: {exc}")
    table = _parse_rows(csv_name, rows_text, keyed_on)

    weights, notes, basis, starting_points, proactive = {}, {}, {}, {}, set()
    excluded: dict[str, str] = {}
    for key, weight, b, is_proactive, sp, note in table:
        basis[key], notes[key] = b, note
        if weight is not None:
            weights[key] = weight
        if sp:
            starting_points[key] = sp
        if is_proactive:
            proactive.add(key)
        if b == "excluded":
            excluded[key] = "excluded by the scheme: " + note
        elif is_proactive and exclude_proactive:
            excluded[key] = "proactively detected offence: excluded from harm totals by this scheme's method"
    return HarmScheme(
        id=meta["id"], family=meta["family"], version=meta["version"], name=meta["name"].strip(),
        unit=meta["unit"].strip(), keyed_on=keyed_on, date=str(meta.get("date", "")),
        method=meta["method"].strip(), limits=str(meta.get("limits", "")).strip(), source=tuple(sources),
        weights=MappingProxyType(weights), notes=MappingProxyType(notes), basis=MappingProxyType(basis),
        excluded=MappingProxyType(excluded), proactive=frozenset(proactive),
        exclude_proactive=exclude_proactive, starting_points=MappingProxyType(starting_points),
        conversion=MappingProxyType(conversion), base_scheme=meta.get("base_scheme"),
        groups_file=meta.get("groups"), statistic=meta.get("statistic"), path=name)


def _parse_rows(name: str, text: str, keyed_on: str) -> list[tuple]:
    """Validated rows (key, weight or None, basis, proactive, starting point, note) of one table."""
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    for col in (keyed_on, "weight", "basis", "source_note"):
        if col not in header:
            raise VrpError(f"{name}: missing column {col!r} (header: {', '.join(header)})")
    rows, seen = [], {}
    for line, row in enumerate(reader, start=2):
        def fail(message: str):
            raise VrpError(f"{name}, line {line}: {message}")

        raw = (row[keyed_on] or "").strip()
        if keyed_on == "offence_code":
            key = normalise_offence_code(raw)
            if not is_known_offence_code(key):
                fail(f"{raw!r} is not a known Home Office offence code")
        else:
            key = raw
            if key not in POLICE_UK_CRIME_TYPES:
                fail(f"{raw!r} is not a police.uk crime type")
        if key in seen:
            fail(f"duplicate {keyed_on} {key!r} (also line {seen[key]})")
        seen[key] = line
        basis = (row["basis"] or "").strip()
        if basis not in BASES:
            fail(f"basis {basis!r} must be one of {', '.join(BASES)}")
        text_weight = (row["weight"] or "").strip()
        if basis == "excluded":
            weight = None
            if text_weight:
                fail("an excluded row has no weight (leave it blank)")
        else:
            try:
                weight = float(text_weight)
            except ValueError:
                fail(f"weight {text_weight!r} is not a number")
            if not math.isfinite(weight) or weight <= 0:
                fail(f"weight must be a positive number, got {text_weight!r}")
        note = (row["source_note"] or "").strip()
        if not note:
            fail("source_note is required: say where the weight comes from")
        proactive_text = (row.get("proactive") or "0").strip()
        if proactive_text not in ("0", "1"):
            fail(f"proactive must be 0 or 1, got {proactive_text!r}")
        rows.append((key, weight, basis, proactive_text == "1", (row.get("starting_point") or "").strip(), note))
    if not rows:
        raise VrpError(f"{name}: the table has no rows")
    return rows


def _version_key(version: str) -> tuple:
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"[.\-_]", version))


# ---------------------------------------------------------------------------------------------
# Weighing


def weigh(codes, scheme: HarmScheme | str, *, include_excluded: bool = False) -> tuple[np.ndarray, WeighReport]:
    """Harm weight of each row, and a report of the rows that could not be weighted.

    `codes` is one value per crime: Home Office codes in any accepted spelling (`05D`, `4/1`) for an
    offence-code scheme, police.uk crime types for the police.uk scheme. A value the scheme does not
    know (or a blank) gets NaN - never 0 - and is listed in the report with its row count, so totals can
    be read as "of the weighted rows". Excluded keys (anti-social behaviour; CCHI's proactive offences)
    get 0 and are reported; `include_excluded=True` gives them their table weight when they have one.
    Works per distinct value, so millions of rows cost one pass of factorisation.
    """
    import pandas as pd  # here: pandas is slow to import, and only weighting needs it

    s = load_scheme(scheme) if isinstance(scheme, str) else scheme
    if isinstance(codes, (str, bytes)):
        raise VrpError("weigh needs one value per crime (a list, array or column), not a single string")
    values = pd.Series(codes.to_numpy(object) if isinstance(codes, pd.Series) else np.asarray(codes, dtype=object))
    clean = values.where(values.notna(), "").astype(str).str.strip()
    idx, uniques = pd.factorize(clean, sort=False)
    n = len(clean)
    if n == 0:
        return np.empty(0), WeighReport(s.id, s.keyed_on, 0, 0, 0, 0, 0.0, (), ())
    counts = np.bincount(idx, minlength=len(uniques))
    norm = [normalise_offence_code(u) if s.keyed_on == "offence_code" else u for u in uniques]
    uw = np.full(len(uniques), np.nan)
    unmapped, excluded_rows = [], {}
    for j, key in enumerate(norm):
        if key in s.excluded and not (include_excluded and key in s.weights):
            uw[j] = 0.0
            excluded_rows[key] = excluded_rows.get(key, 0) + int(counts[j])
        elif key in s.weights:
            uw[j] = s.weights[key]
        else:
            unmapped.append((str(uniques[j]), int(counts[j])))
    weights = uw[idx]
    n_unmapped = sum(c for _, c in unmapped)
    n_excluded = sum(excluded_rows.values())
    report = WeighReport(
        scheme=s.id, keyed_on=s.keyed_on, n_rows=n, n_weighted=n - n_unmapped - n_excluded,
        n_excluded=n_excluded, n_unmapped=n_unmapped, total=float(np.nansum(weights)),
        unmapped=tuple(sorted(unmapped, key=lambda t: (-t[1], t[0]))),
        excluded=tuple(sorted(((k, s.excluded[k], c) for k, c in excluded_rows.items()),
                              key=lambda t: (-t[2], t[0]))))
    return weights, report


def harm_sql(scheme: HarmScheme | str, *, include_excluded: bool = False,
             weight_column: str = "harm_weight") -> str:
    """A DuckDB subquery of the weight table, to LEFT JOIN on the key column.

    Columns: the key (`offence_code` or `crime_type`), `weight_column` (0 for excluded keys unless
    `include_excluded`; NULL when a row has no weight), `harm_basis`, `harm_excluded` (boolean). Keys
    are normalised as ingest normalises them; a crime left with a NULL weight after the join is unmapped
    and must be reported, as `weigh` does.
    """
    s = load_scheme(scheme) if isinstance(scheme, str) else scheme
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", weight_column):
        raise VrpError(f"weight_column {weight_column!r} must be a plain lower-case SQL name")
    rows = []
    for key, w, basis, excl in _table_rows(s, include_excluded):
        wsql = "NULL" if w is None else repr(float(w))
        rows.append(f"({sql_literal(key)}, CAST({wsql} AS DOUBLE), {sql_literal(basis)}, {sql_literal(excl)})")
    return (f"(SELECT * FROM (VALUES {', '.join(rows)}) "
            f"AS harm({s.keyed_on}, {weight_column}, harm_basis, harm_excluded))")


def harm_table(scheme: HarmScheme | str, *, include_excluded: bool = False):
    """The same table as `harm_sql`, as a pyarrow Table (register it in DuckDB to join)."""
    import pyarrow as pa

    s = load_scheme(scheme) if isinstance(scheme, str) else scheme
    rows = _table_rows(s, include_excluded)
    return pa.table({s.keyed_on: pa.array([r[0] for r in rows], pa.string()),
                     "harm_weight": pa.array([r[1] for r in rows], pa.float64()),
                     "harm_basis": pa.array([r[2] for r in rows], pa.string()),
                     "harm_excluded": pa.array([r[3] for r in rows], pa.bool_())})


def _table_rows(s: HarmScheme, include_excluded: bool) -> list[tuple[str, float | None, str, bool]]:
    out = []
    for key in s.keys:
        excl = key in s.excluded
        w = s.weights.get(key)
        if excl and not include_excluded:
            w = 0.0
        out.append((key, w, s.basis[key], excl))
    return out


# ---------------------------------------------------------------------------------------------
# Building coarse and derived weights


def category_weights(scheme: HarmScheme | str, groups: Mapping[str, str],
                     counts: Mapping[str, float] | None = None, statistic: str = "median") -> dict[str, float]:
    """One weight per category from an offence-code scheme: how the police.uk coarse table is made.

    `groups` maps Home Office code -> category. Without `counts`, each code counts once (equal mix) and
    `statistic` is "median" (the shipped police.uk table) or "mean". With `counts` (offences by code,
    e.g. a partnership's own year of crimes), the result is the count-weighted mean weight of the
    category - the right coarse weight for that offence mix. Every grouped code must have a weight.
    """
    s = load_scheme(scheme) if isinstance(scheme, str) else scheme
    if s.keyed_on != "offence_code":
        raise VrpError(f"category_weights needs an offence-code scheme, not {s.id}")
    if statistic not in ("median", "mean"):
        raise VrpError(f"statistic must be 'median' or 'mean', not {statistic!r}")
    by_cat: dict[str, list[tuple[float, float]]] = {}
    for raw, cat in groups.items():
        code = normalise_offence_code(raw)
        if code not in s.weights:
            raise VrpError(f"offence code {raw!r} (category {cat!r}) has no weight in {s.id}")
        n = 1.0 if counts is None else float(counts.get(raw, counts.get(code, 0.0)))
        if n < 0 or not math.isfinite(n):
            raise VrpError(f"count for offence code {raw!r} must be a non-negative number")
        by_cat.setdefault(cat, []).append((s.weights[code], n))
    out = {}
    for cat, pairs in by_cat.items():
        w = np.array([p[0] for p in pairs])
        n = np.array([p[1] for p in pairs])
        if counts is None:
            out[cat] = float(np.median(w) if statistic == "median" else np.mean(w))
        elif n.sum() > 0:
            out[cat] = float(np.dot(w, n) / n.sum())
        else:
            out[cat] = float("nan")   # no offences of this category in the mix: nothing to weight by
    return out


def policeuk_groups() -> dict[str, str]:
    """The shipped Home Office code -> police.uk crime type table (fraud codes are not on police.uk)."""
    text = resources.files("vrp.places").joinpath("data", "harm", "policeuk-crime-types.csv").read_text("utf-8")
    return {row["offence_code"]: row["crime_type"] for row in csv.DictReader(io.StringIO(text))}


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s+(year|month|week|day)s?")
_FINE = re.compile(r"band\s+([a-f])\s+fine")
_ORDER = re.compile(r"(low|medium|high)\s+level\s+community\s+order")


def starting_point_days(text: str, conversion: Mapping[str, Any]) -> float:
    """Days for a sentencing starting point, by the CCHI conversion (`cchi-*.toml` [conversion]).

    Custody: "4 years" = 4 x 365, "18 months" = 18 x 365/12, "26 weeks" = 182. A fine: "Band B fine" =
    the days of minimum-wage work (hourly_wage x hours_per_day) needed to pay band % of the relevant
    weekly income, rounded up to whole days. A community order: "Medium level community order" = the
    fewest unpaid-work hours at that level / hours_per_day.
    """
    s = " ".join((text or "").lower().replace("\u2019", "").replace("'", "").split()).removesuffix(" custody")
    try:
        if m := _DURATION.fullmatch(s):
            per = {"year": "days_per_year", "month": "days_per_month", "week": "days_per_week"}
            return float(m.group(1)) * (1.0 if m.group(2) == "day" else float(conversion[per[m.group(2)]]))
        if m := _FINE.fullmatch(s):
            percent = float(conversion["fine_band_percent"][m.group(1).upper()])
            fine = float(conversion["relevant_weekly_income"]) * percent / 100
            day_pay = float(conversion["hourly_wage"]) * float(conversion["hours_per_day"])
            return float(math.ceil(fine / day_pay - 1e-9))   # whole days of work needed to pay it
        if m := _ORDER.fullmatch(s):
            return float(conversion["community_order_hours"][m.group(1)]) / float(conversion["hours_per_day"])
    except KeyError as exc:
        raise VrpError(f"the scheme's [conversion] table has no {exc.args[0]!r}") from None
    raise VrpError(f"cannot read sentencing starting point {text!r} "
                   "(expected e.g. '4 years', '26 weeks', 'Band B fine', 'Medium level community order')")
