"""Choropleth maps for the Strategic Needs Assessment, written by hand as small inline SVG.

A map here is the boundaries themselves (no basemap tiles exist offline): one shaded polygon per small
area, optional thicker boundaries on top (a district, or the districts of the partnership), optional
hotspot outlines, place-name labels with a white halo, and a legend column holding the classes, a
north arrow and a scale bar. The visible heading is printed by the report, so the title only goes in
the SVG's <title> for screen readers.

Geometries arrive in British National Grid metres (EPSG:27700, x east, y north); SVG's y axis points
down, so y is flipped. Each geometry is simplified with a tolerance of 1/1,000 of the map extent
(about half a pixel on an A4 page) and coordinates are written in tenths of a drawing unit as relative
path steps: the 1,231 LSOAs of Hampshire, the Isle of Wight, Portsmouth and Southampton come to
about 260 KB.

Classes: five viridis classes, light = low, dark = high. The default breaks (:func:`class_breaks`)
are quantile breaks rounded to two significant figures, so each class holds about a fifth of the
areas and the legend reads in round numbers. When some areas have exactly zero (common for counts
of rarer crimes) the zeros get their own lowest class "0" and the other four classes split the
non-zero areas by quartile; otherwise an area with nothing would share a colour with areas that
have some. Each class includes its upper limit. Pass the partnership's breaks to district maps so
that all maps of one measure share a scale.

Suppressed values (None: a small number withheld, or not available) are never drawn as zero: they
have their own light grey hatched fill and legend entry, and read "suppressed" in the table.
"""
from __future__ import annotations

import math
import re
from bisect import bisect_left
from html import escape as _escape

import numpy as np
import shapely

from vrp.reports.figure import Figure, wrap

VIRIDIS = ["#fde725", "#5ec962", "#21918c", "#3b528b", "#440154"]
TEXT = "#1a1a1a"
GREY = "#6b6b6b"
HIGHLIGHT = "#D55E00"
SUPPRESSED_LABEL = "Suppressed"

# Layout in viewBox units: the map on the left, the legend column on the right.
PAD = 10
MAP_W = 570
MAP_MIN_H, MAP_MAX_H = 380, 640
LEGEND_X = MAP_W + 2 * PAD + 14
LEGEND_W = 200
TOTAL_W = LEGEND_X + LEGEND_W
FONT = 14          # the SVG is 804 units wide, about 640 px on A4: 14 units print at about 11 px
LABEL_FONT = 13.5

SCALE_BAR_STEPS_M = [50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000]
KEY_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


def choropleth(key: str, areas: list[tuple[str, str, shapely.Geometry]],
               values: dict[str, float | None], *, title: str, legend_title: str,
               outline: shapely.Geometry | None = None,
               labels: list[tuple[str, shapely.Geometry]] | None = None,
               highlight: list[shapely.Geometry] | None = None, highlight_label: str = "Hotspot",
               breaks: list[float] | None = None, value_format: str = "{:,.1f}") -> Figure:
    """Shade each area by its value in five classes; `breaks` (the upper limits of the lower classes,
    at most four) fix the scale, otherwise :func:`class_breaks` chooses it from these values.
    A code missing from `values` counts as 0; None is drawn as suppressed."""
    if not KEY_PATTERN.fullmatch(key):
        raise ValueError(f"figure key must be a letter then letters, digits, '-' or '_' (it prefixes ids), got {key!r}")
    area_values = [(code, name, geom, _clean(values.get(code, 0))) for code, name, geom in areas]
    present = [v for *_, v in area_values if v is not None]
    breaks = class_breaks(present, value_format) if breaks is None else _checked_breaks(breaks)
    colours = _class_colours(len(breaks) + 1)
    view = _View.fit([g for _, _, g, _ in area_values], outline)
    suppressed = sum(v is None for *_, v in area_values)
    highlight_geoms = [g for g in (highlight or []) if g is not None and not g.is_empty]

    body = [_area_paths(key, area_values, breaks, colours, view, value_format)]
    if outline is not None and not outline.is_empty:
        body.append(_plain_paths([outline], view, 'fill="none" stroke="#1a1a1a" stroke-width="1.3" '
                                                  'stroke-linejoin="round"'))
    if highlight_geoms:
        merged = shapely.unary_union(highlight_geoms)
        body.append(_plain_paths([merged], view, f'fill="{HIGHLIGHT}" fill-opacity="0.18" stroke="{HIGHLIGHT}" '
                                                 'stroke-width="1.6" stroke-linejoin="round"'))
    body.append(_labels(labels or [], view))
    counts = _class_counts(present, breaks)
    class_labels = _class_labels(breaks, value_format, present)
    legend = _legend(key, legend_title, class_labels, colours, counts,
                     suppressed, highlight_label if highlight_geoms else None, view)
    height = max(view.height, legend.height) + 2 * PAD
    alt = _alt(title, area_values, value_format)
    classes = "; ".join(f"{label} ({count:,} area{'s' if count != 1 else ''})"
                        for label, count in zip(class_labels, counts))
    svg = "".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {TOTAL_W} {_n(height)}" width="100%" '
        f'role="img" aria-labelledby="{key}-title {key}-desc" font-family="sans-serif">',
        f'<title id="{key}-title">{_svg_text(title)}</title>',
        f'<desc id="{key}-desc">{_svg_text(alt)} {_svg_text(legend_title)}: {_svg_text(classes)}. '
        f'Each class includes its upper limit.</desc>',
        _defs(key),
        f'<g transform="translate({PAD} {PAD})">', *body, "</g>",
        legend.svg, "</svg>"])
    return Figure(svg=svg, alt=alt, table=_table(area_values, value_format), columns=["code", "name", "value"])


def class_breaks(values, value_format: str = "{:,.1f}") -> list[float]:
    """Upper limits of the lower classes (at most four, ascending) for five classes of `values`:
    quintiles, or "0" plus quartiles of the non-zero values when some values are exactly zero and
    none is negative; rounded to two significant figures (fewer when `value_format` shows fewer
    decimals). Breaks that would leave the top or bottom class empty are dropped, so data with few
    distinct values get fewer classes."""
    xs = np.sort(np.array([v for v in (_clean(v) for v in values) if v is not None], dtype=float))
    if xs.size == 0:
        return []
    low, high = float(xs[0]), float(xs[-1])
    if low == 0 and high > 0:
        positive = xs[xs > 0]
        raw = [0.0] + [float(q) for q in np.quantile(positive, [0.25, 0.5, 0.75])]
    else:
        raw = [float(q) for q in np.quantile(xs, [0.2, 0.4, 0.6, 0.8])]
    decimals = _decimals_shown(value_format)
    rounded = sorted({_round_break(b, decimals) for b in raw})
    return [b for b in rounded if low <= b < high]


class _View:
    """Map from British National Grid metres to drawing units inside the map box (y flipped)."""

    def __init__(self, minx: float, maxy: float, scale: float, dx: float, dy: float, height: float):
        self.minx, self.maxy, self.scale = minx, maxy, scale
        self.dx, self.dy, self.height = dx, dy, height
        self.tolerance = max(dx, dy) / 1000 if dx or dy else 0.0
        self.box = (minx, maxy - height / scale, minx + MAP_W / scale, maxy)

    @classmethod
    def fit(cls, geoms, outline=None) -> "_View":
        """Fit the areas into the map box. Specks far from the rest (polygon parts under 1/10,000 of
        the total area, such as a sea fort that belongs to a city's LSOA) do not count towards the
        extent, so they cannot shrink the map; parts left outside the box are not drawn."""
        parts = shapely.get_parts(np.array([g for g in geoms if g is not None], dtype=object))
        parts = parts[~shapely.is_empty(parts)]
        areas = shapely.area(parts)
        if areas.sum() > 0:
            parts = parts[areas >= areas.sum() / 10_000]
        if not len(parts) and outline is not None and not outline.is_empty:
            parts = np.array([outline], dtype=object)
        if not len(parts):
            return cls(0.0, 0.0, 1.0, 0.0, 0.0, MAP_MIN_H)
        b = shapely.bounds(parts)
        minx, miny, maxx, maxy = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
        width, height = max(maxx - minx, 1.0), max(maxy - miny, 1.0)
        box_h = min(max(MAP_W * height / width, MAP_MIN_H), MAP_MAX_H)
        scale = min(MAP_W / width, box_h / height)
        # centre the drawing in the box
        minx -= (MAP_W / scale - width) / 2
        maxy += (box_h / scale - height) / 2
        return cls(float(minx), float(maxy), float(scale), float(width), float(height), float(box_h))

    def tenths(self, xy: np.ndarray) -> np.ndarray:
        """Drawing coordinates in whole tenths of a unit."""
        x = (xy[:, 0] - self.minx) * self.scale
        y = (self.maxy - xy[:, 1]) * self.scale
        return np.rint(np.column_stack([x, y]) * 10).astype(np.int64)

    def point(self, x: float, y: float) -> tuple[float, float]:
        return (x - self.minx) * self.scale, (self.maxy - y) * self.scale


def _area_paths(key, area_values, breaks, colours, view, value_format) -> str:
    geoms = shapely.simplify(np.array([g for _, _, g, _ in area_values], dtype=object), view.tolerance,
                             preserve_topology=True) if area_values else []
    # thin white borders; thinner on a partnership map, where wider ones would wash out city areas
    stroke = "0.6" if len(area_values) <= 300 else "0.3"
    out = [f'<g stroke="#ffffff" stroke-width="{stroke}" stroke-linejoin="round" fill-rule="evenodd">']
    for (code, name, _, value), geom in zip(area_values, geoms):
        d = _path_data(geom, view)
        if not d:
            continue
        if value is None:
            fill, shown = f"url(#{key}-hatch)", "suppressed"
        else:
            fill, shown = colours[bisect_left(breaks, value)], value_format.format(value)
        out.append(f'<path data-code="{_svg_text(code)}" fill="{fill}" d="{d}">'
                   f'<title>{_svg_text(name or code)}: {_svg_text(shown)}</title></path>')
    out.append("</g>")
    return "".join(out)


def _plain_paths(geoms, view, attributes: str) -> str:
    simplified = [shapely.simplify(g, view.tolerance, preserve_topology=True) for g in geoms]
    paths = [d for d in (_path_data(g, view) for g in simplified) if d]
    return f'<g {attributes}>' + "".join(f'<path d="{d}"/>' for d in paths) + "</g>" if paths else ""


def _path_data(geom, view) -> str:
    """SVG path data for polygons (closed rings, holes included, drawn even-odd) and lines."""
    if geom is None or geom.is_empty:
        return ""
    parts = []
    for part in shapely.get_parts(geom):
        if not _overlap(part.bounds, view.box):
            continue
        if isinstance(part, shapely.Polygon):
            parts.extend(_ring_data(view.tenths(np.asarray(r.coords)), closed=True)
                         for r in [part.exterior, *part.interiors])
        elif isinstance(part, (shapely.LineString, shapely.LinearRing)):
            parts.append(_ring_data(view.tenths(np.asarray(part.coords)), closed=False))
        elif isinstance(part, shapely.GeometryCollection):
            parts.append(_path_data(part, view))
    return "".join(parts)


def _ring_data(points: np.ndarray, closed: bool) -> str:
    """'M x y l dx dy ...' with consecutive repeats dropped; '' when nothing visible is left."""
    if closed and len(points) > 1 and (points[0] == points[-1]).all():
        points = points[:-1]
    keep = np.ones(len(points), dtype=bool)
    keep[1:] = (np.diff(points, axis=0) != 0).any(axis=1)
    points = points[keep]
    if len(points) < (3 if closed else 2):
        return ""
    steps = np.diff(points, axis=0).ravel().tolist()
    numbers = "".join(s if s[0] == "-" else " " + s for s in map(_tenths, steps))
    return f"M{_tenths(int(points[0, 0]))} {_tenths(int(points[0, 1]))}l{numbers.lstrip()}" + ("z" if closed else "")


def _tenths(t: int) -> str:
    """A whole number of tenths as the shortest decimal: 31 -> '3.1', -4 -> '-.4', 20 -> '2'."""
    sign = "-" if t < 0 else ""
    whole, tenth = divmod(abs(t), 10)
    if tenth == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole if whole else ''}.{tenth}"


def _n(x: float) -> str:
    """A drawing coordinate to one decimal place, without a trailing '.0'."""
    return _tenths(int(round(x * 10)))


def _labels(labels, view) -> str:
    """Names at each geometry's representative point, in dark text over a white halo. The halo is a
    white-stroked copy of the text drawn underneath (rather than paint-order, which not every SVG
    renderer honours). A name that would overlap one already placed is nudged up or down; all stay
    inside the map box."""
    placed: list[tuple[float, float, float, float]] = []
    texts = []
    for text, geom in labels:
        if geom is None or geom.is_empty or not text:
            continue
        p = geom.representative_point()
        x, y = view.point(p.x, p.y)
        half_w = 0.31 * LABEL_FONT * len(text) + 3
        x = min(max(x, half_w + 2), MAP_W - half_w - 2)
        for shift in (0, 1.2, -1.2, 2.4, -2.4):
            centre = y + shift * LABEL_FONT
            box = (x - half_w, centre - LABEL_FONT / 2, x + half_w, centre + LABEL_FONT / 2)
            if not any(_overlap(box, other) for other in placed):
                break
        placed.append(box)
        texts.append(f'<text x="{_n(x)}" y="{_n(centre + 0.35 * LABEL_FONT)}">{_svg_text(text)}</text>')
    if not texts:
        return ""
    common = f'font-size="{LABEL_FONT}" text-anchor="middle"'
    return (f'<g {common} fill="#ffffff" stroke="#ffffff" stroke-width="3.2" stroke-linejoin="round" '
            f'opacity="0.9">{"".join(texts)}</g><g {common} fill="{TEXT}">{"".join(texts)}</g>')


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


class _Legend:
    def __init__(self, svg: str, height: float):
        self.svg, self.height = svg, height


def _legend(key, legend_title, class_labels, colours, counts, suppressed, highlight_label, view) -> _Legend:
    """Classes (lowest first) with the number of areas in each, the suppressed and highlight swatches,
    then a north arrow and a scale bar at the foot of the column."""
    out = [f'<g transform="translate({LEGEND_X} {PAD})" font-size="{FONT}" fill="{TEXT}">']
    y = 0.0
    for line in wrap(legend_title, 22):
        y += FONT + 3
        out.append(f'<text y="{_n(y)}" font-weight="bold">{_svg_text(line)}</text>')
    y += 4
    rows = [(f'fill="{c}"', label, count) for c, label, count in zip(colours, class_labels, counts)]
    if suppressed:
        rows.append((f'fill="url(#{key}-hatch)"', SUPPRESSED_LABEL, suppressed))
    if highlight_label:
        rows.append((f'fill="{HIGHLIGHT}" fill-opacity="0.18" stroke="{HIGHLIGHT}" stroke-width="1.6"',
                     highlight_label, None))
    for attributes, label, count in rows:
        y += 8
        if "stroke=" not in attributes:
            attributes += f' stroke="{GREY}" stroke-width="0.5"'
        out.append(f'<rect y="{_n(y)}" width="24" height="16" {attributes}/>')
        lines = wrap(label, 19)
        for i, line in enumerate(lines):
            number = f' <tspan fill="{GREY}">({count:,})</tspan>' if count is not None and i == len(lines) - 1 else ""
            out.append(f'<text x="32" y="{_n(y + 13 + i * (FONT + 2))}">{_svg_text(line)}{number}</text>')
        y += 16 + (len(lines) - 1) * (FONT + 2)
    height_needed = y + 110
    foot = max(view.height, height_needed)
    out.append(_north_arrow(foot - 100))
    out.append(_scale_bar(view, foot - 28))
    out.append("</g>")
    return _Legend("".join(out), foot)


def _north_arrow(top: float) -> str:
    """A small arrow pointing up (grid north) with an N above it."""
    cx = 12
    return (f'<g transform="translate({cx} {_n(top)})"><text y="12" text-anchor="middle" font-weight="bold">N</text>'
            f'<path d="M0 16l8 26-8-6z" fill="{TEXT}"/><path d="M0 16l-8 26 8-6z" fill="#ffffff" '
            f'stroke="{TEXT}" stroke-width="0.8" stroke-linejoin="round"/></g>')


def _scale_bar(view, top: float) -> str:
    """Two alternating segments of a round length (the longest that fits 160 units), labelled."""
    if view.scale <= 0 or not view.dx:
        return ""
    fitting = [m for m in SCALE_BAR_STEPS_M if m * view.scale <= 160]
    metres = fitting[-1] if fitting else SCALE_BAR_STEPS_M[0]
    length = metres * view.scale
    half = length / 2
    return (f'<g transform="translate(0 {_n(top)})">'
            f'<rect width="{_n(half)}" height="6" fill="{TEXT}" stroke="{TEXT}" stroke-width="0.8"/>'
            f'<rect x="{_n(half)}" width="{_n(half)}" height="6" fill="#ffffff" stroke="{TEXT}" stroke-width="0.8"/>'
            f'<g font-size="11.5" fill="{TEXT}"><text y="20" text-anchor="middle">0</text>'
            f'<text x="{_n(length)}" y="20" text-anchor="middle">{_distance(metres)}</text></g></g>')


def _distance(metres: int) -> str:
    if metres < 1000:
        return f"{metres} m"
    km = metres / 1000
    return f"{km:g} km"


def _defs(key: str) -> str:
    """The suppressed fill: light grey with dark grey diagonal hatching."""
    return (f'<defs><pattern id="{key}-hatch" width="6" height="6" patternUnits="userSpaceOnUse">'
            f'<rect width="6" height="6" fill="#e6e6e6"/>'
            f'<path d="M0 6L6 0M-1 1L1-1M5 7L7 5" stroke="#8c8c8c" stroke-width="1"/></pattern></defs>')


def _class_colours(n_classes: int) -> list[str]:
    """Viridis for up to five classes; fewer classes take colours spread across the whole ramp."""
    if n_classes >= len(VIRIDIS):
        return VIRIDIS[:n_classes]
    if n_classes == 1:
        return [VIRIDIS[2]]
    return [VIRIDIS[round(i * (len(VIRIDIS) - 1) / (n_classes - 1))] for i in range(n_classes)]


def _class_counts(present: list[float], breaks: list[float]) -> list[int]:
    counts = [0] * (len(breaks) + 1)
    for v in present:
        counts[bisect_left(breaks, v)] += 1
    return counts


def _class_labels(breaks: list[float], value_format: str, present: list[float]) -> list[str]:
    """'0' / 'up to a', 'a – b', ..., 'over z'. Each class includes its upper limit; for whole-number
    breaks shown without decimals the lower limits read as the next whole number ('4 – 8'). After
    a class of zeros the next class reads 'up to b' (everything above 0, up to b)."""
    fmt = value_format.format
    if not breaks:
        if not present:
            return ["No data"]
        low, high = min(present), max(present)
        return [fmt(low) if low == high else f"{fmt(low)} – {fmt(high)}"]
    whole = (_decimals_shown(value_format) == 0 and all(float(b).is_integer() for b in breaks)
             and all(float(v).is_integer() for v in present))
    labels = ["0" if breaks[0] == 0 and min(present, default=0) >= 0 else f"up to {fmt(breaks[0])}"]
    for lower, upper in zip(breaks, breaks[1:]):
        if whole:
            labels.append(fmt(upper) if lower + 1 == upper else f"{fmt(lower + 1)} – {fmt(upper)}")
        else:
            labels.append(f"up to {fmt(upper)}" if labels[-1] == "0" else f"{fmt(lower)} – {fmt(upper)}")
    labels.append(f"{fmt(breaks[-1] + 1)} and over" if whole else f"over {fmt(breaks[-1])}")
    return labels


def _checked_breaks(breaks) -> list[float]:
    breaks = [float(b) for b in breaks]
    if len(breaks) > len(VIRIDIS) - 1:
        raise ValueError(f"at most {len(VIRIDIS) - 1} breaks (five classes), got {len(breaks)}")
    if any(b >= c for b, c in zip(breaks, breaks[1:])):
        raise ValueError(f"breaks must be strictly increasing, got {breaks}")
    return breaks


def _round_break(x: float, decimals_shown: int) -> float:
    """Two significant figures, or fewer decimals when the legend shows fewer (unless that would
    round a positive break to zero)."""
    if x == 0:
        return 0.0
    digits = 1 - math.floor(math.log10(abs(x)))
    nice = round(x, digits)
    if decimals_shown < digits:
        shorter = round(nice, decimals_shown)
        if shorter != 0:
            return float(shorter)
    return float(nice)


def _decimals_shown(value_format: str) -> int:
    match = re.search(r"\.(\d+)", value_format.format(1.5))
    return len(match.group(1)) if match else 0


def _clean(v) -> float | None:
    """None and NaN mean suppressed or not available."""
    if v is None:
        return None
    v = float(v)
    return None if math.isnan(v) else v


def _sorted_rows(area_values):
    return sorted(area_values, key=lambda r: (r[3] is None, -(r[3] or 0), r[0]))


def _table(area_values, value_format) -> list[dict]:
    return [{"code": code, "name": name,
             "value": "suppressed" if v is None else value_format.format(v)}
            for code, name, _, v in _sorted_rows(area_values)]


def _alt(title: str, area_values, value_format) -> str:
    """'<title>, map of N areas: highest in A (41.2), B (39.0) and C (37.5); 2 areas suppressed.'"""
    head = f"{title.rstrip('. ')}, map of {len(area_values):,} area{'s' if len(area_values) != 1 else ''}"
    shown = [r for r in _sorted_rows(area_values) if r[3] is not None]
    suppressed = len(area_values) - len(shown)
    if not shown:
        return f"{head}: {'all values suppressed or not available' if area_values else 'no areas to show'}."
    top = [f"{name or code} ({value_format.format(v)})" for code, name, _, v in shown[:3]]
    listed = top[0] if len(top) == 1 else ", ".join(top[:-1]) + " and " + top[-1]
    lowest = shown[-1]
    tied = sum(r[3] == lowest[3] for r in shown)
    text = f"{head}: highest in {listed}; "
    text += (f"lowest {value_format.format(lowest[3])} ({tied:,} areas)" if tied > 1 else
             f"lowest in {lowest[1] or lowest[0]} ({value_format.format(lowest[3])})")
    if suppressed:
        text += f"; {suppressed:,} area{'s' if suppressed != 1 else ''} suppressed"
    return text + "."


def _svg_text(text: str) -> str:
    """Text for SVG: XML-escaped, anything outside ASCII as a character reference (so the figure
    reads the same whatever encoding the page around it declares)."""
    return "".join(c if ord(c) < 128 else f"&#{ord(c)};" for c in _escape(str(text)))
