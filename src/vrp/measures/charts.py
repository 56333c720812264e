"""Charts of a measure as static SVG and PNG (Altair specs rendered offline by vl-convert).

The same Vega-Lite spec serves the report PDF (SVG) and slides or e-mail (PNG); nothing is
fetched from the network. Every chart carries its measure and definition versions, the area,
the tier and the as-at date in its subtitle, so a chart cut out of a report still says what it is.
"""
from __future__ import annotations

from pathlib import Path

import altair as alt
import pandas as pd
import vl_convert as vlc

from vrp.errors import VrpError
from vrp.lake.write import slug
from vrp.measures.catalogue import get_measure
from vrp.measures.report import measure_rows, spc_series

# NHS "Making Data Count" colours: improvement blue, concern orange, common cause grey.
COLOURS = {"improvement": "#289de0", "concern": "#fab428", "common cause": "#7b7d7d"}
WIDTH, HEIGHT = 640, 280


def trend_chart(rows: list[dict], title: str, subtitle: str) -> alt.Chart:
    """Rate per period with its 95% interval as a band (counts when the measure has no rate)."""
    frame = pd.DataFrame(rows)
    value, unit = ("rate", f"per {rows[0]['rate_per']:,}") if rows[0]["rate_per"] else ("count", "count")
    low, high = ("ci_low", "ci_high") if value == "rate" else ("count", "count")
    frame = frame.dropna(subset=[value])
    if frame.empty:
        raise VrpError("every value of this series is suppressed for the chosen tier: nothing to chart")
    order = list(dict.fromkeys(frame["period"]))
    x = alt.X("period:O", sort=order, title=None, axis=alt.Axis(labelAngle=-45))
    base = alt.Chart(frame)
    band = base.mark_area(opacity=0.25, color="#005eb8").encode(x=x, y=alt.Y(f"{low}:Q"), y2=f"{high}:Q")
    line = base.mark_line(point=True, color="#005eb8").encode(
        x=x, y=alt.Y(f"{value}:Q", title=unit, scale=alt.Scale(zero=True)),
        tooltip=["period", "count", "population", value, low, high, "verdict"])
    return (band + line).properties(width=WIDTH, height=HEIGHT, title=alt.TitleParams(title, subtitle=subtitle, anchor="start"))


def spc_chart(data: dict, title: str, subtitle: str) -> alt.Chart:
    """XmR chart: monthly values coloured by variation type, mean and process limits."""
    points = pd.DataFrame(data["points"])
    points["variation"] = points["direction"].fillna("common cause").replace("", "common cause")
    points["lower"] = points["lower"].clip(lower=0)  # a count cannot fall below zero; the data keep the limit
    order = list(points["period"])
    x = alt.X("period:O", sort=order, title=None, axis=alt.Axis(labelAngle=-45))
    base = alt.Chart(points)
    line = base.mark_line(color="#7b7d7d").encode(x=x, y=alt.Y("value:Q", title="count"))
    dots = base.mark_point(filled=True, size=45).encode(
        x=x, y="value:Q", color=alt.Color("variation:N", title="variation",
                                          scale=alt.Scale(domain=list(COLOURS), range=list(COLOURS.values()))),
        tooltip=["period", "value", "mean", "lower", "upper", "variation"])
    mean = base.mark_line(color="#231f20").encode(x=x, y="mean:Q")
    limits = [base.mark_line(color="#231f20", strokeDash=[4, 4]).encode(x=x, y=f"{k}:Q") for k in ("lower", "upper")]
    return alt.layer(line, mean, *limits, dots).properties(
        width=WIDTH, height=HEIGHT, title=alt.TitleParams(title, subtitle=subtitle, anchor="start"))


def save(chart: alt.Chart, stem: Path) -> list[Path]:
    """SVG and PNG side by side, rendered without a browser or network."""
    spec = chart.to_dict()
    svg, png = stem.with_suffix(".svg"), stem.with_suffix(".png")
    svg.write_text(vlc.vegalite_to_svg(spec), encoding="utf-8")
    png.write_bytes(vlc.vegalite_to_png(spec, scale=2))
    return [svg, png]


def write_charts(ws, measure_id: str, out: Path, area: str = "partnership", period: str | None = None,
                 start: str | None = None, end: str | None = None, tier: str = "analyst") -> list[Path]:
    """The trend chart and, when every month is publishable, the SPC chart of one measure and area.

    A trend needs several periods, so --from/--to bound the measure's own period type here
    (they are not one custom period as in `measure_rows`)."""
    by = "partnership" if area.lower() == "partnership" else "district"
    all_rows = measure_rows(ws, [measure_id], by, period or get_measure(ws, measure_id).period, start, end, tier=tier)
    rows = [r for r in all_rows if area.lower() in (r["area_code"].lower(), r["area"].lower())]
    if not rows:
        known = ", ".join(dict.fromkeys(r["area_code"] for r in all_rows))
        raise VrpError(f"unknown area {area!r} (expected partnership, a district code or name: {known})")
    out.mkdir(parents=True, exist_ok=True)
    first = rows[0]
    stem = slug(f"{measure_id}-{first['area']}")
    subtitle = (f"{first['area']} · {measure_id} v{first['measure_version']} · {first['definition']} "
                f"v{first['definition_version']} · data as at {first['as_at']} · {tier} tier")
    name = get_measure(ws, measure_id).name
    files = save(trend_chart(rows, f"{name}: rate with 95% interval", subtitle), out / f"{stem}-trend")
    spc = spc_series(ws, measure_id, first["area_code"], start, end, tier)
    files += save(spc_chart(spc, f"{name}: monthly SPC chart ({spc.get('variation', '')})", subtitle),
                  out / f"{stem}-spc")
    return files

