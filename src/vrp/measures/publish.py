"""Measure tables as products: choose the rows asked for, stamp provenance on each, and for any
tier beyond the analyst apply statistical disclosure control over the whole area hierarchy.

Suppression is decided on the full table (every LSOA, district, the partnership and every period,
including the baselines that changes are measured against), so a district figure published today
cannot be combined with an LSOA figure published tomorrow to uncover a small count.
"""
from __future__ import annotations

from vrp.disclosure import DisclosureRule, rule_from_config, suppress
from vrp.errors import VrpError
from vrp.lake.read import DATASET_INFO
from vrp.measures.compute import PARTNERSHIP, UNATTRIBUTED, MeasureTable

TIERS = ("analyst", "partner")
LEVELS = {"partnership": {"partnership"}, "district": {"partnership", "district", UNATTRIBUTED}, "lsoa": {"lsoa"}}
# Fields that reveal the count (or the baseline count) and go when it is suppressed.
COUNT_FIELDS = ("count", "rate", "ci_low", "ci_high")
RATE_FIELDS = ("rate", "ci_low", "ci_high")
CHANGE_FIELDS = ("baseline_count", "difference", "pct_change", "rate_ratio", "rr_ci_low", "rr_ci_high",
                 "p_value", "verdict", "sentence")


# Health aggregates follow NHS / Fingertips practice (counts 1-5 withheld) unless vrp.toml says
# otherwise in [disclosure.sources.admissions] (domain-spec §8.2: the strictest rule applies).
SOURCE_DEFAULTS = {"admissions": {"min_count": 6}}


def workspace_rule(ws, dataset: str | None = None) -> DisclosureRule:
    """The workspace's [disclosure] rule, with the dataset's own overrides."""
    config = dict(ws.config.get("disclosure", {}))
    sources = {**{k: dict(v) for k, v in SOURCE_DEFAULTS.items()}, **config.get("sources", {})}
    try:
        return rule_from_config({**config, "sources": sources}, source=dataset)
    except ValueError as exc:
        raise VrpError(f"{ws.root / 'vrp.toml'}: [disclosure] {exc}") from None


def needs_protection(table: MeasureTable, tier: str) -> bool:
    """Analysts see everything; open data (police.uk publishes every LSOA and month) is public."""
    return tier != "analyst" and DATASET_INFO.get(table.measure.dataset, {}).get("access_tier") != "public"


def hierarchy_groups(table: MeasureTable) -> list[tuple[int, list[int]]]:
    """Additive constraints over area indexes: partnership = districts (+ unattributed), and each
    district = its LSOAs when the data are held by LSOA."""
    areas = table.areas
    top = [i for i, a in enumerate(areas) if a.parent == PARTNERSHIP]
    groups = [(0, top)]
    if table.meta.get("finest_level") == "lsoa":
        children: dict[str, list[int]] = {}
        for i, a in enumerate(areas):
            if a.level == "lsoa":
                children.setdefault(a.parent, []).append(i)
        groups += [(i, children.get(a.code, [])) for i, a in enumerate(areas) if a.level == "district"]
    return groups


def suppressed_cells(table: MeasureTable, rule: DisclosureRule) -> set[tuple[str, str]]:
    """(period label, area code) of every cell partners may not see, decided period by period
    over the whole area hierarchy (reported periods and baselines alike)."""
    groups = hierarchy_groups(table)
    hidden: set[tuple[str, str]] = set()
    for p, period in enumerate(table.periods):
        counts = {i: int(c) for i, c in enumerate(table.counts[p])}
        result = suppress(counts, groups, rule)
        hidden |= {(period.label, table.areas[i].code) for i in result.suppressed}
    return hidden


def publish(ws, table: MeasureTable, by: str = "district", tier: str = "analyst") -> list[dict]:
    """The rows of one measure at one geography, stamped with versions, as-at date and tier, and
    protected when they leave the analyst tier."""
    if tier not in TIERS:
        raise VrpError(f"unknown tier {tier!r} (expected {' or '.join(TIERS)})")
    if by not in LEVELS:
        raise VrpError(f"unknown --by {by!r} (expected partnership, district or lsoa)")
    if by == "lsoa" and table.meta.get("finest_level") != "lsoa":
        raise VrpError(f"measure {table.measure.id}: the {table.measure.dataset} data are not held by LSOA; "
                       "use --by district or --by partnership")
    protect = needs_protection(table, tier)
    rule = workspace_rule(ws, table.measure.dataset)
    hidden = suppressed_cells(table, rule) if protect else set()
    stamp = {k: table.meta[k] for k in ("measure_version", "definition", "definition_version", "as_at",
                                        "period_type", "age_band", "population_year")}
    stamp.update(tier=tier, sdc_rule=rule.id if protect else None)
    out = []
    for row in table.rows(LEVELS[by]):
        if row["area_level"] == UNATTRIBUTED and not row["count"] and not row.get("baseline_count"):
            continue
        shown = {**row, **stamp}
        out.append(_protect(shown, hidden, rule) if protect else {**shown, "suppressed": False})
    return out


def _protect(row: dict, hidden: set, rule: DisclosureRule) -> dict:
    """Blank what the partner tier may not see; say so with suppressed / rate_suppressed."""
    cell_hidden = (row["period"], row["area_code"]) in hidden
    row["suppressed"] = cell_hidden
    if cell_hidden:
        row.update({k: None for k in COUNT_FIELDS})
    row["rate_suppressed"] = not rule.rate_publishable(row["count"])  # None once the cell is hidden
    if row["rate_suppressed"]:
        row.update({k: None for k in RATE_FIELDS})
    if "baseline_period" in row:
        base_hidden = (row["baseline_period"], row["area_code"]) in hidden
        if cell_hidden or base_hidden:
            row.update({k: None for k in CHANGE_FIELDS if k in row})
            row["verdict"] = "suppressed"
    return row
