"""Key findings drafted from the numbers: short sentences a board paper can quote, each carrying
its figure, so the analyst edits words rather than hunting for numbers. Nothing is said about a
figure that disclosure control withheld, or about a change the test cannot support."""
from __future__ import annotations

from vrp.reports.sna import period_label


def _n(x) -> str:
    return f"{x:,}"


def volume_findings(chapter: dict, scope, noun: str) -> list[str]:
    v, out = chapter["volume"], []
    if v["count"] is None:
        return [f"The number of {noun} in {chapter['name']} is withheld (small number)."]
    text = f"{_n(v['count'])} {noun} were recorded in {scope.label}"
    if v["rate"] is not None:
        text += f", {v['rate']:.2f} per 1,000 residents (95% CI {v['ci_low']:.2f} to {v['ci_high']:.2f})"
    out.append(text + ".")
    if v["change"]:
        prev = period_label(*scope.previous)
        out.append(f"Against {prev}: {v['change']['sentence']}.")
    return out


def comparison_finding(row: dict | None) -> list[str]:
    if not row or row["rr"] is None:
        return []
    words = {"higher": "higher than", "lower": "lower than", "similar": "not significantly different from"}
    return [f"The rate was {row['rr']:.2f} times that of the rest of the partnership (95% CI {row['rr_low']:.2f} "
            f"to {row['rr_high']:.2f}): {words[row['verdict']]} the rest of the partnership."]


def highest_rate_finding(rows: list[dict]) -> list[str]:
    ranked = [r for r in rows if r["rr"] is not None]
    if not ranked:
        return []
    top = max(ranked, key=lambda r: r["rate"])
    higher = [r["name"] for r in ranked if r["verdict"] == "higher"]
    text = (f"{top['name']} had the highest rate, {top['rate']:.2f} per 1,000 residents, {top['rr']:.2f} times the "
            f"rest of the partnership (95% CI {top['rr_low']:.2f} to {top['rr_high']:.2f}).")
    if higher:
        text += f" Districts with a significantly higher rate than the rest: {', '.join(higher)}."
    return [text]


def place_findings(chapter: dict, hotspots: dict | None) -> list[str]:
    out = []
    c = chapter["places"]["concentration"]
    if c:
        out.append(f"{c['half_value_share']:.0f}% of serious violence occurred in {c['half_unit_share']:.1f}% of "
                   f"small areas ({c['half_units']} of {c['units']} LSOAs); {c['zero_units']} LSOAs recorded none.")
    if hotspots and hotspots.get("cells"):
        h = hotspots["summary"]
        if h.get("share") is not None:
            out.append(f"The {h['n']} highest-count 250 m cells, {h['area_share']:.2f}% of the area, held "
                       f"{h['share']:.1f}% of serious violence.")
    s = chapter["places"]["stability"]
    if s:
        steady = "largely the same places as" if s["spearman"] >= 0.5 else "only partly the same places as"
        low = f", 95% CI {s['low']:.2f} to {s['high']:.2f}" if s["low"] is not None else ""
        out.append(f"Serious violence concentrated in {steady} the year before: rank correlation of LSOA counts "
                   f"{s['spearman']:.2f}{low}; {s['top_both']} of the top {s['top']} LSOAs stayed in the top 10%.")
    return out


def deprivation_findings(chapter: dict) -> list[str]:
    g = (chapter.get("deprivation") or {}).get("gradient")
    if not g or g["verdict"] == "similar":
        return []
    return [f"The rate in the most deprived LSOAs (national IMD decile {g['most']}) was {g['rr']:.2f} times that in "
            f"the least deprived (decile {g['least']}; 95% CI {g['low']:.2f} to {g['high']:.2f})."]


def people_findings(chapter: dict) -> list[str]:
    out = []
    v = chapter["victims"]
    if v and v["under25"] is not None and v["age_known"] and v["under25"] >= 10:
        share = 100 * v["under25"] / v["age_known"]
        out.append(f"{share:.0f}% of victims whose age was recorded were under 25 ({_n(v['under25'])} of "
                   f"{_n(v['age_known'])}).")
    w = chapter["when"]
    if w and w["night_share"] is not None:
        out.append(f"{w['night_share']:.0f}% of offences with a recorded time fell in the night-time economy window "
                   "(Friday and Saturday 22:00 to 04:00), 12 of the week's 168 hours (7%).")
    if w:
        days = [r for r in w["days"] if r["count"] is not None]
        if days and w["timed"]:
            top = max(days, key=lambda r: r["count"])
            if top["share"] is not None:
                out.append(f"{top['category']} was the busiest day ({top['share']:.0f}% of timed offences).")
    return out


def measure_findings(chapter: dict) -> list[str]:
    """Headline measures whose change the exact test supports, in the measure's own words."""
    out = []
    for r in chapter["measures"]:
        if r.get("verdict") in ("significant rise", "significant fall") and r.get("sentence"):
            out.append(f"{r['measure']} ({r['name'] if 'name' in r else r['measure']}): {r['sentence']}.")
    return out


def quality_findings(quality: dict | None, scope, categories: set[str]) -> list[str]:
    """Months `vrp quality` flags as anomalous in the report's own data and period: each series
    the report counts (`categories`), and how many other series jumped in the same month, which
    points to a recording or publication artefact rather than a change in violence."""
    flagged = [a for c in (quality or {}).get("checks", [])
               if c["dataset"] == scope.dataset and c["check"] == "monthly_anomalies"
               for a in c["examples"] if scope.start <= a["month"] <= scope.end]
    out = []
    for a in sorted((a for a in flagged if a["series"] in categories), key=lambda a: (a["month"], a["series"])):
        others = sum(1 for b in flagged if b["month"] == a["month"] and b["series"] not in categories)
        text = (f"Data quality: {a['series']} in {a['month']} ({a['count']:,}) is far "
                f"{'above' if a['direction'] == 'high' else 'below'} the other months (typically {a['expected']:,.0f})")
        if others:
            text += f", and {others} other series moved sharply the same month, which suggests a recording change"
        out.append(text + ": read that month with care.")
    return out
