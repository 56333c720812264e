"""Charts for the Strategic Needs Assessment as inline SVG (Altair specs rendered offline by vl-convert).

Each function returns a `Figure`: the SVG, alt text stating the main message with numbers, and the
table behind the chart. The SVGs are inlined into one HTML page (and its PDF) next to each other, so
every id inside one is prefixed with the caller's `key`, the `<svg>` scales to the width of the page,
and nothing outside the SVG is referenced. The same inputs give byte-identical SVG text, so a report
rebuilt from the same data is the same file.

Suppressed values (`None`: a small number withheld, or not available) are never drawn as zero: they
are marked "suppressed" on the chart and in the table.
"""
from __future__ import annotations

import html
import json
import re
from collections import Counter

import altair as alt
import numpy as np
import vl_convert as vlc

from vrp.reports.figure import Figure, wrap

FONT = "sans-serif"
# Text is measured (to lay out axes and legends) in DejaVu Sans, the widest of the common sans-serif
# faces and the default on Linux, then drawn in the generic family: labels have room in any of them.
MEASURING_FONT = "DejaVu Sans"
TEXT, AXIS_GREY, GRID_GREY = "#1a1a1a", "#6b6b6b", "#d9d9d9"
OKABE_ITO = ["#0072B2", "#E69F00", "#56B4E9", "#009E73", "#D55E00", "#CC79A7", "#F0E442", "#000000"]
VIRIDIS_5 = ["#fde725", "#5ec962", "#21918c", "#3b528b", "#440154"]
MAIN, PREVIOUS = "#0072B2", "#6b6b6b"
SUPPRESSED_FILL, SUPPRESSED = "#eeeeee", "suppressed"
WIDTH = 640  # the whole chart, axes included, is this wide: every chart scales alike on the page
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
SUPPRESSED_NOTE = "Suppressed: a small number withheld to protect privacy, or not available."


# ---------------------------------------------------------------------------------------------
# The charts


def monthly_trend(key: str, rows: list[dict], *, unit: str = "offences", note: str = "") -> Figure:
    """Bars of the count per month, in the order given; with a "previous" value on the rows (the
    same month a year earlier) a grey line of last year's counts for comparison. Suppressed months
    are shaded and labelled rather than drawn as an empty bar, which would read as zero."""
    if not rows:
        raise ValueError("monthly_trend needs at least one month")
    has_previous = any("previous" in row for row in rows)
    months = [row["month"] for row in rows]
    data = [{"month": row["month"], "count": row["count"], "previous": row.get("previous")} for row in rows]
    height = 240
    x = alt.X("month:O", sort=months, title=None,
              axis=alt.Axis(labelExpr=_month_label_expr(months), labelAngle=0, labelPadding=4))
    largest = max([row[name] or 0 for row in data for name in ("count", "previous")])
    y = alt.Y("count:Q", title=_capitalised(unit), axis=_count_axis(largest, 6), scale=_count_scale(largest))
    base = alt.Chart(alt.Data(values=data))
    layers = []
    suppressed = [row for row in data if row["count"] is None]
    if suppressed:
        shade = alt.Chart(alt.Data(values=suppressed))
        layers += [shade.mark_rect(fill=SUPPRESSED_FILL).encode(x=x),
                   shade.mark_text(angle=270, fontSize=11, fontStyle="italic", color=AXIS_GREY).encode(
                       x=x, y=alt.YValue(height / 2), text=alt.value(SUPPRESSED))]
    names = [_capitalised(unit), "Same month a year earlier"]
    colour = alt.Scale(domain=names, range=[MAIN, PREVIOUS])
    key_shape = alt.Scale(domain=names, range=["square", "circle"])
    in_key = {"color": alt.Color("series:N", scale=colour, title=None),
              "shape": alt.Shape("series:N", scale=key_shape, title=None)} if has_previous else {}
    bar_colour = {} if has_previous else {"color": alt.value(MAIN)}
    layers.append(base.transform_filter("isValid(datum.count)").transform_calculate(series=json.dumps(names[0]))
                  .mark_bar(width={"band": 0.8}).encode(x=x, y=y, **in_key, **bar_colour))
    if has_previous:
        layers.append(base.transform_calculate(series=json.dumps(names[1])).mark_line(
            point=alt.OverlayMarkDef(filled=True, size=30), strokeWidth=2,
            invalid="break-paths-show-domains").encode(x=x, y=alt.Y("previous:Q"), **in_key))
    footnote = " ".join(part for part in [note, SUPPRESSED_NOTE if suppressed else ""] if part)
    chart = alt.layer(*layers).properties(height=height)
    alt_text = _monthly_alt(rows, unit, has_previous)
    svg = _render(key, chart, f"Monthly {unit}", alt_text, footnote=footnote, legend_top=has_previous)
    columns = ["month", "count"] + (["previous"] if has_previous else [])
    table = [{"month": _month_name(row["month"], short=True), "count": _count(row["count"]),
              **({"previous": _count(row.get("previous"))} if has_previous else {})} for row in rows]
    return Figure(svg=svg, alt=alt_text, table=table, columns=columns)


def comparison(key: str, rows: list[dict], *, measure_label: str, reference: float | None = None,
               reference_label: str = "partnership", value_format: str = "{:,.1f}") -> Figure:
    """Forest plot: one row per area in the order given, the value as a point with its 95%
    interval as a whisker, and a dashed vertical line at the reference (e.g. the partnership
    rate, or 1 for rate ratios) so areas whose interval lies clear of it stand out."""
    if not rows:
        raise ValueError("comparison needs at least one row")
    labels = [row["label"] for row in rows]
    y = alt.Y("label:N", sort=labels, title=None, scale=alt.Scale(domain=labels),
              axis=alt.Axis(grid=False, ticks=False, labelPadding=8, labelLimit=220))
    x = alt.X("value:Q", title=measure_label, scale=alt.Scale(zero=False, nice=True, padding=12),
              axis=alt.Axis(tickCount=8))
    shown = [row for row in rows if row["value"] is not None]
    suppressed = [row for row in rows if row["value"] is None]
    layers = []
    if reference is not None:
        ref = alt.Chart(alt.Data(values=[{"reference": reference}]))
        layers += [ref.mark_rule(color=AXIS_GREY, strokeDash=[5, 4], strokeWidth=1.5).encode(
                       x=alt.X("reference:Q")),
                   ref.mark_text(color=AXIS_GREY, fontSize=11, dy=-8, baseline="bottom").encode(
                       x="reference:Q", y=alt.YValue(0),
                       text=alt.value(f"{reference_label} {value_format.format(reference)}"))]
    with_interval = [row for row in shown if row.get("low") is not None and row.get("high") is not None]
    if with_interval:
        layers.append(alt.Chart(alt.Data(values=with_interval)).mark_rule(color=MAIN, strokeWidth=2).encode(
            y=y, x=alt.X("low:Q"), x2="high:Q"))
    if shown:
        layers.append(alt.Chart(alt.Data(values=shown)).mark_point(
            filled=True, size=70, color=MAIN, opacity=1).encode(y=y, x=x))
    if suppressed:
        layers.append(alt.Chart(alt.Data(values=suppressed)).mark_text(
            align="left", fontSize=11, fontStyle="italic", color=AXIS_GREY).encode(
            y=y, x=alt.XValue(6), text=alt.value(SUPPRESSED)))
    height = max(120, 26 * len(rows))
    chart = alt.layer(*layers).properties(height=height)
    alt_text = _comparison_alt(rows, measure_label, reference, reference_label, value_format)
    svg = _render(key, chart, measure_label, alt_text, footnote=SUPPRESSED_NOTE if suppressed else "")
    table = [{"label": row["label"],
              "value": SUPPRESSED if row["value"] is None else value_format.format(row["value"]),
              "low": _formatted(row.get("low"), value_format) if row["value"] is not None else "",
              "high": _formatted(row.get("high"), value_format) if row["value"] is not None else ""}
             for row in rows]
    return Figure(svg=svg, alt=alt_text, table=table, columns=["label", "value", "low", "high"])


def hour_weekday(key: str, counts: dict[tuple[int, int], int | None], *, unit: str = "offences") -> Figure:
    """Heat map of counts by day of week (rows, Monday at the top) and hour of day (columns), in
    five viridis classes of equal, round width from zero; suppressed cells are grey and hatched.
    A (day, hour) missing from `counts` had none."""
    grid = {(day, hour): counts.get((day, hour), 0) for day in range(7) for hour in range(24)}
    known = [value for value in grid.values() if value is not None]
    breaks = _equal_breaks(max(known, default=0))
    classes = _class_labels(breaks)
    cells = [{"day": DAYS[day], "hour": f"{hour:02d}", "class": _class_of(value, breaks, classes)}
             for (day, hour), value in grid.items()]
    x = alt.X("hour:O", title="Hour of day", sort=[f"{h:02d}" for h in range(24)],
              axis=alt.Axis(labelAngle=0, ticks=False, domain=False))
    y = alt.Y("day:O", title=None, sort=DAYS, axis=alt.Axis(ticks=False, domain=False, labelPadding=6))
    shown = (classes if known else []) + ([SUPPRESSED] if None in grid.values() else [])
    colours = (VIRIDIS_5 if known else []) + [f"url(#{_HATCH_ID})"]
    colour = alt.Color("class:O", title=_capitalised(unit), sort=shown,
                       scale=alt.Scale(domain=shown, range=colours[:len(shown)]),
                       legend=alt.Legend(orient="right", symbolType="square", symbolSize=200,
                                         symbolStrokeColor=AXIS_GREY, symbolStrokeWidth=0.5))
    chart = alt.Chart(alt.Data(values=cells)).mark_rect(stroke="white", strokeWidth=1).encode(
        x=x, y=y, color=colour).properties(height=7 * 26)
    suppressed = None in grid.values()
    alt_text = _hour_weekday_alt(grid, unit)
    svg = _render(key, chart, f"{_capitalised(unit)} by day of week and hour of day", alt_text,
                  footnote=SUPPRESSED_NOTE if suppressed else "", hatch=suppressed)
    table = [{"day": DAYS[day], **{f"{hour:02d}": _count(grid[(day, hour)]) for hour in range(24)}}
             for day in range(7)]
    return Figure(svg=svg, alt=alt_text, table=table, columns=["day"] + [f"{h:02d}" for h in range(24)])


def bars(key: str, rows: list[dict], *, category_label: str, unit: str = "offences",
         horizontal: bool = True, series: list[str] | None = None) -> Figure:
    """Bars of a profile (age bands, offence groups, location types, month of year), categories in
    the order given; with `series` grouped bars coloured by series (e.g. victims beside suspects).
    Counts are printed at the bar ends; a suppressed count is labelled "suppressed" at the baseline.
    A category missing for one series had none."""
    if not rows:
        raise ValueError("bars needs at least one row")
    categories = list(dict.fromkeys(row["category"] for row in rows))
    names = series or [""]
    if series and any(row.get("series") not in series for row in rows):
        raise ValueError(f"every row needs a series among {series}")
    lookup = {(row["category"], row.get("series", "") if series else ""): row["count"] for row in rows}
    data = [{"category": category, "series": name, "count": lookup.get((category, name), 0)}
            for category in categories for name in names]
    chart = _bar_chart(data, categories, names, category_label, unit, horizontal)
    alt_text = _bars_alt(data, names, category_label, unit)
    suppressed = any(row["count"] is None for row in data)
    svg = _render(key, chart, f"{_capitalised(unit)} by {_in_sentence(category_label)}", alt_text,
                  footnote=SUPPRESSED_NOTE if suppressed else "", legend_top=bool(series))
    if series:
        table = [{"category": category, **{name: _count(lookup.get((category, name), 0)) for name in series}}
                 for category in categories]
        return Figure(svg=svg, alt=alt_text, table=table, columns=["category", *series])
    table = [{"category": row["category"], "count": _count(row["count"])} for row in data]
    return Figure(svg=svg, alt=alt_text, table=table, columns=["category", "count"])


def lorenz(key: str, unit_share: list[float], event_share: list[float], *, unit_label: str,
           event_label: str = "serious violence") -> Figure:
    """Concentration curve: the cumulative share of events (y) against the cumulative share of
    places (x), places ordered from most to fewest events, with the diagonal of equality. The
    further the curve bows above the diagonal, the more concentrated the events. Long inputs are
    thinned to about 200 points evenly spaced along the curve, both ends kept."""
    if len(unit_share) != len(event_share) or not unit_share:
        raise ValueError("lorenz needs two equally long, non-empty lists of cumulative shares")
    xs, ys = np.asarray(unit_share, dtype=float), np.asarray(event_share, dtype=float)
    if xs[0] > 0 or ys[0] > 0:
        xs, ys = np.concatenate([[0.0], xs]), np.concatenate([[0.0], ys])
    keep = _thin(xs, ys, 200)
    curve = [{"x": round(float(xs[i]), 4), "y": round(float(ys[i]), 4)} for i in keep]
    axis = alt.Axis(format=".0%", values=[0, 0.2, 0.4, 0.6, 0.8, 1.0])
    x = alt.X("x:Q", title=f"Cumulative share of {unit_label} (most {event_label} first)",
              scale=alt.Scale(domain=[0, 1], nice=False), axis=axis)
    y = alt.Y("y:Q", title=f"Cumulative share of {event_label}", scale=alt.Scale(domain=[0, 1], nice=False),
              axis=axis)
    equality = alt.Chart(alt.Data(values=[{"x": 0, "y": 0}, {"x": 1, "y": 1}])).mark_line(
        color=AXIS_GREY, strokeDash=[5, 4], strokeWidth=1.5).encode(x=x, y=y)
    line = alt.Chart(alt.Data(values=curve)).mark_line(color=MAIN, strokeWidth=2.5).encode(
        x=x, y=y, order="x:Q")
    label = alt.Chart(alt.Data(values=[{"x": 0.62, "y": 0.62}])).mark_text(
        color=AXIS_GREY, fontSize=11, angle=0, align="left", dx=8, dy=6).encode(
        x=x, y=y, text=alt.value("Equal spread"))
    chart = alt.layer(equality, label, line).properties(height=300)
    table = _lorenz_table(xs, ys, unit_label, event_label)
    alt_text = _lorenz_alt(xs, ys, unit_label, event_label)
    svg = _render(key, chart, f"Concentration of {event_label} across {unit_label}", alt_text)
    return Figure(svg=svg, alt=alt_text, table=table, columns=list(table[0]))


# ---------------------------------------------------------------------------------------------
# Chart pieces


def _bar_chart(data: list[dict], categories: list[str], names: list[str], category_label: str,
               unit: str, horizontal: bool) -> alt.LayerChart:
    """Bars, their count labels and "suppressed" labels; grouped by series when there are several."""
    grouped = len(names) > 1
    cat_axis = alt.Axis(labelLimit=200, ticks=False, labelPadding=6,
                        labelAngle=0 if horizontal else _vertical_label_angle(categories))
    largest = max(row["count"] or 0 for row in data)
    value_axis = _count_axis(largest, 8 if horizontal else 6)
    cat_channel, value_channel = (alt.Y, alt.X) if horizontal else (alt.X, alt.Y)
    value_name, category_name = ("x", "y") if horizontal else ("y", "x")
    category = cat_channel("category:N", sort=categories, title=category_label, axis=cat_axis,
                           scale=alt.Scale(domain=categories, paddingInner=0.2 if grouped else 0.25))
    value = value_channel("count:Q", title=_capitalised(unit), axis=value_axis, scale=_count_scale(largest))
    position = {category_name: category}
    if grouped:
        position[f"{category_name}Offset"] = (alt.YOffset if horizontal else alt.XOffset)(
            "series:N", sort=names, scale=alt.Scale(domain=names, paddingInner=0.05))
    colour = (alt.Color("series:N", title=None, sort=names, scale=alt.Scale(domain=names, range=OKABE_ITO[:len(names)]),
                        legend=alt.Legend(orient="top", direction="horizontal", symbolType="square"))
              if grouped else alt.value(MAIN))
    base = alt.Chart(alt.Data(values=data))
    shown = base.transform_filter("isValid(datum.count)")
    label_style = ({"align": "left", "dx": 4, "baseline": "middle"} if horizontal
                   else {"align": "center", "dy": -4, "baseline": "bottom"})
    layers = [shown.mark_bar().encode(**position, **{value_name: value}, color=colour),
              shown.mark_text(fontSize=11, color=TEXT, **label_style).encode(
                  **position, **{value_name: value}, text=alt.Text("count:Q", format=",d"))]
    if any(row["count"] is None for row in data):
        baseline = {"x": alt.XValue(4)} if horizontal else {"y": alt.YValue({"expr": "height"})}
        upright = {} if horizontal else {"angle": 270, "dx": 4}
        layers.append(base.transform_filter("!isValid(datum.count)").mark_text(
            fontSize=11, fontStyle="italic", color=AXIS_GREY, align="left", baseline="middle", **upright).encode(
            **position, **baseline, text=alt.value(SUPPRESSED)))
    per_category = 24 if not grouped else 14 * len(names) + 8
    size = {"height": max(120, per_category * len(categories))} if horizontal else {"height": 260}
    return alt.layer(*layers).properties(**size)


def _count_axis(largest: float, ticks: int) -> alt.Axis:
    """An axis of whole numbers: never more ticks than the largest count, so no tick falls between
    two integers (which the integer format would print twice)."""
    return alt.Axis(format=",d", tickCount=int(min(ticks, largest if largest > 0 else 5)))


def _count_scale(largest: float) -> alt.Scale:
    """From zero; 0 to 5 when every count is zero or suppressed, so the axis is still an axis."""
    return alt.Scale(zero=True) if largest > 0 else alt.Scale(domain=[0, 5])


def _render(key: str, chart: alt.TopLevelMixin, title: str, description: str, *, footnote: str = "",
            legend_top: bool = False, hatch: bool = False) -> str:
    """The chart as an inline SVG: rendered with the report's type and colours, fitted to WIDTH,
    then given its title and description, ids unique to `key`, width 100% and rounded numbers."""
    # The specs are built by this module alone; schema validation (half the time of a chart) is
    # left to Vega-Lite itself, which rejects a bad spec when vl-convert compiles it.
    spec = chart.properties(width=WIDTH).to_dict(validate=False)
    spec["autosize"] = {"type": "fit-x", "contains": "padding"}
    spec["padding"] = {"left": 4, "right": 8, "top": 8 if not legend_top else 4, "bottom": 4}
    spec["config"] = _config()
    if footnote:
        spec["title"] = {"text": _wrap(footnote, 105), "orient": "bottom", "anchor": "start", "frame": "group",
                         "fontSize": 11, "fontWeight": "normal", "color": AXIS_GREY, "offset": 12,
                         "lineHeight": 14}
    if legend_top:
        spec["config"]["legend"] = {**spec["config"]["legend"], "orient": "top", "direction": "horizontal"}
    svg = vlc.vegalite_to_svg(spec)
    return _finish_svg(key, svg, title, description, hatch=hatch)


def _config() -> dict:
    """The report's look: one sans-serif type, dark text, grey axes and grid, no frame."""
    return {
        "font": MEASURING_FONT, "aria": False, "background": "white",
        "view": {"stroke": None},
        "axis": {"labelFontSize": 11, "titleFontSize": 12, "titleFontWeight": "normal", "labelColor": TEXT,
                 "titleColor": TEXT, "domainColor": AXIS_GREY, "tickColor": AXIS_GREY, "gridColor": GRID_GREY,
                 "titlePadding": 8, "labelFlush": False},
        "axisBand": {"grid": False},
        "legend": {"labelFontSize": 11, "titleFontSize": 11, "titleFontWeight": "normal", "labelColor": TEXT,
                   "titleColor": TEXT, "labelLimit": 260},
        "text": {"font": MEASURING_FONT},
    }


_HATCH_ID = "hatch"
_HATCH = (f'<defs><pattern id="{_HATCH_ID}" width="6" height="6" patternUnits="userSpaceOnUse" '
          f'patternTransform="rotate(45)"><rect width="6" height="6" fill="{SUPPRESSED_FILL}"/>'
          f'<line x1="0" y1="0" x2="0" y2="6" stroke="#9a9a9a" stroke-width="1.5"/></pattern></defs>')
_NUMERIC_ATTRIBUTES = re.compile(
    r'(\s(?:d|transform|x|y|x1|x2|y1|y2|width|height|points|r|cx|cy|dx|dy|stroke-width|font-size|viewBox)=")([^"]*)"')
_NUMBER = re.compile(r"-?(?:\d+\.\d*|\.\d+|\d+)(?:e[-+]?\d+)?")
_DROPPED_ATTRIBUTES = re.compile(r'\s(?:class|pointer-events|aria-hidden|role|aria-roledescription|aria-label)="[^"]*"')


def _finish_svg(key: str, svg: str, title: str, description: str, *, hatch: bool = False) -> str:
    """Make vl-convert's SVG fit to be inlined beside others: a fresh opening tag (100% wide, with
    its viewBox, title and description for screen readers), ids renumbered under `key` so that
    repeated renders and several charts on one page never clash, no namespaces or classes that
    page styles could catch, and coordinates rounded to 0.1 px."""
    match = re.match(r'<svg[^>]*viewBox="([^"]*)"[^>]*>', svg)
    if not match:
        raise RuntimeError("vl-convert returned an SVG without a viewBox")
    view_box = " ".join(_round_number(number) for number in match.group(1).split())
    body = svg[match.end():]
    body = re.sub(r'<path[^>]*d="M0,0h0v0h0Z"[^>]*/>|<path[^>]*d=""[^>]*display="none"/>', "", body)
    body = _DROPPED_ATTRIBUTES.sub("", body)
    body = re.sub(r'\sfont-family="[^"]*"', "", body)  # the <svg> sets the generic family for all text
    body = _NUMERIC_ATTRIBUTES.sub(lambda m: f'{m.group(1)}{_round_numbers(m.group(2))}"', body)
    body = (_HATCH if hatch else "") + body
    body = _prefix_ids(key, body)
    opening = (f'<svg viewBox="{view_box}" width="100%" role="img" aria-labelledby="{key}-title {key}-desc" '
               f'font-family="{FONT}"><title id="{key}-title">{html.escape(title)}</title>'
               f'<desc id="{key}-desc">{html.escape(description)}</desc>')
    return opening + body


def _prefix_ids(key: str, body: str) -> str:
    """Every id becomes "{key}-{name}{n}", numbered in order of appearance, and references to it
    follow. Vega's own ids (clip1, clip2, ...) come from a counter that runs on across renders in one
    process, so they are renumbered rather than merely prefixed."""
    names: dict[str, str] = {}
    seen: Counter[str] = Counter()
    for old in dict.fromkeys(re.findall(r'\sid="([^"]+)"', body)):
        stem = re.sub(r"\d+$", "", old) or "id"
        seen[stem] += 1
        names[old] = f"{key}-{stem}{seen[stem]}"
    if not names:
        return body
    pattern = re.compile(r'(\sid="|url\(#|href="#)(' + "|".join(re.escape(old) for old in names) + r')(?=["\)])')
    return pattern.sub(lambda m: m.group(1) + names[m.group(2)], body)


def _round_numbers(value: str) -> str:
    return _NUMBER.sub(lambda m: _round_number(m.group(0)), value)


def _round_number(text: str) -> str:
    rounded = f"{float(text):.1f}"
    rounded = rounded[:-2] if rounded.endswith(".0") else rounded
    return "0" if rounded == "-0" else rounded


def _wrap(text: str, width: int) -> list[str] | str:
    """Lines of at most `width` characters (Vega draws a list of strings as lines, one as text)."""
    lines = wrap(text, width)
    return lines if len(lines) > 1 else (lines[0] if lines else "")


def _month_label_expr(months: list[str]) -> str:
    """Month axis labels: "Jan", "Feb", ... with the year under January and under the first month;
    with more than two years of months only every third month is labelled so labels never collide."""
    short = "['Jan','Feb','Mar','Apr','May','Jun','Jul','Aug','Sep','Oct','Nov','Dec']"
    name = f"{short}[toNumber(substring(datum.value, 5, 7)) - 1]"
    year = "substring(datum.value, 0, 4)"
    first = json.dumps(months[0])
    labelled = "true" if len(months) <= 24 else "indexof(['01','04','07','10'], substring(datum.value, 5, 7)) >= 0"
    return (f"!test(/^\\d{{4}}-\\d{{2}}$/, datum.value) ? datum.value : !({labelled}) ? '' : "
            f"(datum.value == {first} || substring(datum.value, 5, 7) == '01') ? [{name}, {year}] : {name}")


def _vertical_label_angle(categories: list[str]) -> int:
    """Category labels under vertical bars lie flat while they fit, else slope."""
    widest = max(len(category) for category in categories)
    return 0 if widest * 6.5 < (WIDTH - 80) / len(categories) else -40


def _equal_breaks(top: int) -> list[int]:
    """Bounds of five integer classes of equal, round width from 0 that hold `top`:
    [0, w, 2w, 3w, 4w, 5w] with 5w > top and w the smallest of 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times
    a power of ten that does it (a count of 68 gives classes 0-14, 15-29, ..., 60-74)."""
    needed = (top + 1) / 5
    magnitude = 10 ** max(0, int(np.floor(np.log10(needed))))
    step = next(m * magnitude for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if m * magnitude >= needed)
    step = int(np.ceil(step))
    return [step * i for i in range(6)]


def _class_labels(breaks: list[int]) -> list[str]:
    """Legend labels of integer classes: "0–14", "15–29", ..., or "3" for a class of one value."""
    return [f"{low:,}–{high - 1:,}" if high - 1 > low else f"{low:,}" for low, high in zip(breaks, breaks[1:])]


def _class_of(value: int | None, breaks: list[int], labels: list[str]) -> str:
    if value is None:
        return SUPPRESSED
    return labels[min(len(labels) - 1, int(np.searchsorted(breaks, value, side="right")) - 1)]


def _thin(xs: np.ndarray, ys: np.ndarray, target: int) -> list[int]:
    """Indices of about `target` points evenly spaced along the curve's length, both ends kept,
    so the steep start of a concentration curve keeps as much detail as its flat tail."""
    if len(xs) <= target:
        return list(range(len(xs)))
    length = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(xs), np.diff(ys)))])
    marks = np.linspace(0, length[-1], target)
    keep = np.unique(np.concatenate([[0], np.searchsorted(length, marks), [len(xs) - 1]]))
    return [int(i) for i in keep if i < len(xs)]


# ---------------------------------------------------------------------------------------------
# Alt text and tables


def _monthly_alt(rows: list[dict], unit: str, has_previous: bool) -> str:
    first, last = _month_name(rows[0]["month"]), _month_name(rows[-1]["month"])
    known = [row for row in rows if row["count"] is not None]
    span = f"Monthly {unit}, {first} to {last}" if len(rows) > 1 else f"{_capitalised(unit)} in {first}"
    suppressed = len(rows) - len(known)
    withheld = f"; {suppressed} month{'s' if suppressed != 1 else ''} suppressed" if suppressed else ""
    if not known:
        return f"{span}: every month suppressed."
    high = max(known, key=lambda row: row["count"])
    low = min(known, key=lambda row: row["count"])
    if len(known) == 1:
        return f"{span}: {high['count']:,} in {_month_name(high['month'])}{withheld}."
    text = (f"{span}: highest in {_month_name(high['month'])} ({high['count']:,}), "
            f"lowest in {_month_name(low['month'])} ({low['count']:,}){withheld}.")
    pairs = [row for row in known if row.get("previous") is not None]
    if has_previous and pairs:
        now, before = sum(row["count"] for row in pairs), sum(row["previous"] for row in pairs)
        change = f" ({_change(now, before)})" if before else ""
        months = "the months" if len(pairs) == len(rows) else f"the {len(pairs)} months with figures for both years"
        text += f" Over {months}, {now:,} {unit} against {before:,} a year earlier{change}."
    return text


def _change(now: int, before: int) -> str:
    percent = round(100 * (now - before) / before)
    return "no change" if percent == 0 else f"{'up' if percent > 0 else 'down'} {abs(percent)}%"


def _comparison_alt(rows: list[dict], measure_label: str, reference: float | None, reference_label: str,
                    value_format: str) -> str:
    known = [row for row in rows if row["value"] is not None]
    suppressed = len(rows) - len(known)
    withheld = f" {suppressed} suppressed." if suppressed else ""
    if not known:
        return f"{measure_label}: every value suppressed."
    high = max(known, key=lambda row: row["value"])
    low = min(known, key=lambda row: row["value"])
    text = (f"{measure_label}: highest in {high['label']} ({value_format.format(high['value'])}), "
            f"lowest in {low['label']} ({value_format.format(low['value'])})")
    if reference is None:
        return text + "." + withheld
    above = sum(1 for row in known if row.get("low") is not None and row["low"] > reference)
    below = sum(1 for row in known if row.get("high") is not None and row["high"] < reference)
    return (f"{text}; {reference_label} {value_format.format(reference)}. {above} of {len(known)} "
            f"{'has its' if above == 1 else 'have their'} 95% interval entirely above the {reference_label} "
            f"and {below} entirely below it.{withheld}")


def _hour_weekday_alt(grid: dict[tuple[int, int], int | None], unit: str) -> str:
    known = {cell: value for cell, value in grid.items() if value is not None}
    suppressed = len(grid) - len(known)
    withheld = f" {suppressed} of 168 hours suppressed." if suppressed else ""
    if not known:
        return f"{_capitalised(unit)} by day of week and hour of day: every hour suppressed."
    if not any(known.values()):
        return f"{_capitalised(unit)} by day of week and hour of day: none recorded.{withheld}"
    (day, hour), peak = max(known.items(), key=lambda item: (item[1], -item[0][0], -item[0][1]))
    by_day = [sum(known.get((d, h), 0) for h in range(24)) for d in range(7)]
    by_hour = [sum(known.get((d, h), 0) for d in range(7)) for h in range(24)]
    busiest_day, busiest_hour = int(np.argmax(by_day)), int(np.argmax(by_hour))
    return (f"{_capitalised(unit)} by day of week and hour of day: the busiest hour of the week is "
            f"{DAYS[day]} {hour:02d}:00 to {hour:02d}:59 ({peak:,}); {DAYS[busiest_day]} is the busiest day "
            f"({by_day[busiest_day]:,}) and {busiest_hour:02d}:00 to {busiest_hour:02d}:59 the busiest hour "
            f"across the week ({by_hour[busiest_hour]:,}).{withheld}")


def _bars_alt(data: list[dict], names: list[str], category_label: str, unit: str) -> str:
    parts = []
    for name in names:
        known = [row for row in data if row["series"] == name and row["count"] is not None]
        total = sum(row["count"] for row in known)
        who = f"{name.lower()}" if name else unit
        if not known:
            parts.append(f"{who} suppressed")
            continue
        if total == 0:
            parts.append(f"no {who} counted")
            continue
        top = max(known, key=lambda row: row["count"])
        parts.append(f"most {who} were in {top['category']} ({top['count']:,}, "
                     f"{round(100 * top['count'] / total)}% of {total:,})")
    suppressed = sum(1 for row in data if row["count"] is None)
    withheld = f" {suppressed} value{'s' if suppressed != 1 else ''} suppressed." if suppressed else ""
    joined = "; ".join(parts)
    return f"{_capitalised(unit)} by {_in_sentence(category_label)}: {joined}.{withheld}"


_LORENZ_SHARES = [0.01, 0.05, 0.1, 0.2, 0.5]


def _lorenz_table(xs: np.ndarray, ys: np.ndarray, unit_label: str, event_label: str) -> list[dict]:
    """The share of events in the top 1%, 5%, 10%, 20% and 50% of places, read off the curve."""
    return [{f"share of {unit_label}": _percent(share),
             f"share of {event_label}": _percent(float(np.interp(share, xs, ys)))} for share in _LORENZ_SHARES]


def _lorenz_alt(xs: np.ndarray, ys: np.ndarray, unit_label: str, event_label: str) -> str:
    tenth = float(np.interp(0.1, xs, ys))
    half = float(np.interp(0.5, ys, xs)) if ys[-1] >= 0.5 else None
    text = (f"Concentration of {event_label} across {unit_label}: the 10% of {unit_label} with the most "
            f"{event_label} account for {_percent(tenth)} of it")
    if half is not None:
        text += f", and half of it happens in {_percent(half)} of {unit_label}"
    return text + "."


def _percent(share: float) -> str:
    return f"{100 * share:.0f}%"


def _month_name(month: str, short: bool = False) -> str:
    """"2025-01" as "January 2025" (or "Jan 2025"); anything else as given."""
    if not re.fullmatch(r"\d{4}-\d{2}", month) or not 1 <= int(month[5:]) <= 12:
        return month
    name = MONTHS[int(month[5:]) - 1]
    return f"{name[:3] if short else name} {month[:4]}"


def _in_sentence(label: str) -> str:
    """An axis title inside a sentence: "Victim age band" as "victim age band", "LSOA" unchanged."""
    return label if len(label) > 1 and label[1].isupper() else label[:1].lower() + label[1:]


def _capitalised(text: str) -> str:
    """First letter upper case, the rest as written ("NHS referrals" stays, unlike str.capitalize)."""
    return text[:1].upper() + text[1:]


def _count(value: int | None) -> str:
    return SUPPRESSED if value is None else f"{value:,}"


def _formatted(value: float | None, value_format: str) -> str:
    return "" if value is None else value_format.format(value)
