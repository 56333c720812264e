"""Choropleth maps as inline SVG: accessible and self-contained markup, ids unique per figure, the table
and alt text from a hand-worked fixture, suppressed areas hatched (never the zero class), classes and
legend labels, north up, holes and multipolygons, byte-identical output across processes."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import shapely

from vrp.reports.figure import Figure
from vrp.reports.maps import VIRIDIS, choropleth, class_breaks

HERE = Path(__file__).resolve().parent
SVG = "{http://www.w3.org/2000/svg}"


def square(x: float, y: float, size: float = 1000) -> shapely.Polygon:
    return shapely.box(x, y, x + size, y + size)


def example_areas():
    """A 2 x 2 block of 1 km squares (BNG metres): Alpha and Bravo in the north row, Charlie and
    Delta in the south row."""
    return [("A", "Alpha", square(0, 1000)), ("B", "Bravo", square(1000, 1000)),
            ("C", "Charlie", square(0, 0)), ("D", "Delta", square(1000, 0))]


def example_figure(key: str = "m") -> Figure:
    """Alpha 10, Bravo 2.5, Charlie suppressed, Delta missing from `values` (so 0); a district
    outline, one label and one hotspot cell."""
    areas = example_areas()
    return choropleth(key, areas, {"A": 10.0, "B": 2.5, "C": None}, title="Violence per 1,000 residents",
                      legend_title="Per 1,000 residents", outline=shapely.box(0, 0, 2000, 2000),
                      labels=[("Northtown", areas[0][2])], highlight=[square(1250, 1250, 250)])


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def area_paths(root: ET.Element) -> dict[str, ET.Element]:
    return {p.get("data-code"): p for p in root.iter(f"{SVG}path") if p.get("data-code")}


def points(d: str) -> list[list[tuple[float, float]]]:
    """Absolute points of each subpath of the compact 'M x y l dx dy ... z' data the module writes."""
    rings, x, y, command, numbers = [], 0.0, 0.0, None, []
    for token in re.findall(r"[MlLz]|-?\d*\.?\d+", d) + ["z"]:
        if token in "MlLz":
            if command == "M":
                x, y = numbers[0], numbers[1]
                rings.append([(x, y)])
            elif command == "l":
                for dx, dy in zip(numbers[::2], numbers[1::2]):
                    x, y = x + dx, y + dy
                    rings[-1].append((x, y))
            command, numbers = token, []
        else:
            numbers.append(float(token))
    return rings


def legend_texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def test_svg_is_one_accessible_scalable_element():
    fig = example_figure("m")
    root = parse(fig.svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("width") == "100%"
    assert re.fullmatch(r"0 0 \d+(\.\d)? \d+(\.\d)?", root.get("viewBox"))
    assert root.get("aria-labelledby") == "m-title m-desc"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert (title.get("id"), title.text) == ("m-title", "Violence per 1,000 residents")
    assert desc.get("id") == "m-desc" and desc.text.startswith(fig.alt)
    assert not fig.svg.startswith("<?xml") and "<!DOCTYPE" not in fig.svg


def test_ids_are_prefixed_unique_and_every_reference_resolves():
    svg = example_figure("sna-map1").svg
    ids = re.findall(r'\bid="([^"]+)"', svg)
    assert ids and len(ids) == len(set(ids))
    assert all(i.startswith("sna-map1-") for i in ids)
    references = re.findall(r'url\(#([^)]+)\)|href="#([^"]+)"', svg)
    assert references and all((a or b) in ids for a, b in references)


def test_two_maps_on_one_page_share_no_ids():
    page = "<div>" + example_figure("first").svg + example_figure("second").svg + "</div>"
    ids = [e.get("id") for e in ET.fromstring(page).iter() if e.get("id")]
    assert len(ids) == len(set(ids)) == 2 * 3       # title, desc, hatch pattern each


def test_nothing_outside_the_svg_is_referenced():
    svg = example_figure().svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    for forbidden in ("http", "url(http", "@import", "<image", "<script", "<style", "font-face"):
        assert forbidden not in svg
    assert 'font-family="sans-serif"' in svg


def test_table_sorted_by_value_with_suppressed_last_and_missing_as_zero():
    fig = example_figure()
    assert fig.columns == ["code", "name", "value"]
    assert fig.table == [{"code": "A", "name": "Alpha", "value": "10.0"},
                         {"code": "B", "name": "Bravo", "value": "2.5"},
                         {"code": "D", "name": "Delta", "value": "0.0"},
                         {"code": "C", "name": "Charlie", "value": "suppressed"}]


def test_alt_text_names_the_highest_areas_with_values():
    assert example_figure().alt == ("Violence per 1,000 residents, map of 4 areas: highest in Alpha (10.0), "
                                    "Bravo (2.5) and Delta (0.0); lowest in Delta (0.0); 1 area suppressed.")


def test_suppressed_area_is_hatched_not_drawn_as_the_zero_class():
    root = parse(example_figure("m").svg)
    paths = area_paths(root)
    assert paths["C"].get("fill") == "url(#m-hatch)"
    assert paths["D"].get("fill") == VIRIDIS[0]                # Delta is a real 0: the lowest class
    assert paths["C"].find(f"{SVG}title").text == "Charlie: suppressed"
    pattern = root.find(f".//{SVG}pattern")
    assert pattern.get("id") == "m-hatch" and pattern.find(f"{SVG}path") is not None
    assert "Suppressed (1)" in legend_texts(root)


def test_default_classes_put_zeros_in_their_own_class():
    # breaks from [10, 2.5, 0]: "0" then quartiles of the non-zero values 2.5 and 10 (4.375, 6.25,
    # 8.125), rounded to 2 significant figures: 4.4, 6.2 (round half to even), 8.1
    assert class_breaks([10.0, 2.5, 0.0]) == [0.0, 4.4, 6.2, 8.1]
    root = parse(example_figure().svg)
    fills = {code: p.get("fill") for code, p in area_paths(root).items()}
    assert fills == {"A": VIRIDIS[4], "B": VIRIDIS[1], "C": "url(#m-hatch)", "D": VIRIDIS[0]}
    assert legend_texts(root)[3:8] == ["0 (1)", "up to 4.4 (1)", "4.4 \u2013 6.2 (0)", "6.2 \u2013 8.1 (0)",
                                       "over 8.1 (1)"]


def test_class_breaks_by_hand():
    # quintiles of 1..10 (linear interpolation): 2.8, 4.6, 6.4, 8.2
    assert class_breaks(range(1, 11)) == [2.8, 4.6, 6.4, 8.2]
    # zeros present: "0", then quartiles of 1..5 = 2, 3, 4
    assert class_breaks([0, 0, 0, 1, 2, 3, 4, 5, None], "{:,.0f}") == [0, 2, 3, 4]
    # two significant figures; whole numbers when the legend shows no decimals
    assert class_breaks([1000, 1234, 2345, 3456, 4567, 9999], "{:,.0f}") == [1200, 2300, 3500, 4600]
    # quintiles 1.22, 2.72, 5.04, 7.74 -> 1.2, 2.7, 5.0, 7.7 -> shown without decimals: 1, 3, 5, 8
    assert class_breaks([0.5, 1.4, 3.6, 7.2, 9.9], "{:,.0f}") == [1, 3, 5, 8]
    # few distinct values: fewer classes rather than empty ones; no values: one class
    assert class_breaks([3, 3, 3, 3]) == []
    assert class_breaks([1, 1, 1, 1, 1, 1, 2]) == [1.0]       # every quintile is 1
    assert class_breaks([None, float("nan")]) == []


def test_given_breaks_are_used_each_class_including_its_upper_limit():
    areas = [(c, c, square(i * 1000, 0)) for i, c in enumerate("PQRST")]
    values = {"P": 0, "Q": 5, "R": 5.1, "S": 20, "T": 25}
    root = parse(choropleth("g", areas, values, title="t", legend_title="Rate", breaks=[0, 5, 10, 20]).svg)
    fills = {code: p.get("fill") for code, p in area_paths(root).items()}
    assert fills == {"P": VIRIDIS[0], "Q": VIRIDIS[1], "R": VIRIDIS[2], "S": VIRIDIS[3], "T": VIRIDIS[4]}
    assert legend_texts(root)[1:6] == ["0 (1)", "up to 5.0 (1)", "5.0 \u2013 10.0 (1)", "10.0 \u2013 20.0 (1)",
                                       "over 20.0 (1)"]


def test_whole_number_classes_read_as_whole_number_ranges():
    areas = [(c, c, square(i * 1000, 0)) for i, c in enumerate("PQRST")]
    values = {"P": 0, "Q": 3, "R": 7, "S": 12, "T": 30}
    root = parse(choropleth("w", areas, values, title="t", legend_title="Offences", breaks=[0, 5, 10, 20],
                            value_format="{:,.0f}").svg)
    assert legend_texts(root)[1:6] == ["0 (1)", "1 \u2013 5 (1)", "6 \u2013 10 (1)", "11 \u2013 20 (1)",
                                       "21 and over (1)"]


def test_breaks_must_be_increasing_and_at_most_four():
    areas = example_areas()
    with pytest.raises(ValueError):
        choropleth("k", areas, {}, title="t", legend_title="x", breaks=[1, 2, 3, 4, 5])
    with pytest.raises(ValueError):
        choropleth("k", areas, {}, title="t", legend_title="x", breaks=[1, 1, 3])
    with pytest.raises(ValueError):
        choropleth("not a key", areas, {}, title="t", legend_title="x")


def test_north_is_up_in_the_drawing():
    paths = area_paths(parse(example_figure().svg))
    north_ys = [y for ring in points(paths["A"].get("d")) for _, y in ring]
    south_ys = [y for ring in points(paths["C"].get("d")) for _, y in ring]
    assert max(north_ys) <= min(south_ys)
    west_xs = [x for ring in points(paths["A"].get("d")) for x, _ in ring]
    east_xs = [x for ring in points(paths["B"].get("d")) for x, _ in ring]
    assert max(west_xs) <= min(east_xs)


def test_square_fills_the_map_width_and_keeps_its_shape():
    # 2 km wide block drawn 570 units wide: each 1 km square is 285 x 285 units
    ring = points(area_paths(parse(example_figure().svg))["A"].get("d"))[0]
    xs, ys = [x for x, _ in ring], [y for _, y in ring]
    assert (max(xs) - min(xs), max(ys) - min(ys)) == (285.0, 285.0)
    assert len(ring) == 4


def test_holes_and_multipolygons_are_drawn_even_odd_and_empty_areas_skipped():
    donut = shapely.Polygon(square(0, 0, 3000).exterior.coords, [square(1000, 1000).exterior.coords])
    islands = shapely.MultiPolygon([square(4000, 0), square(4000, 2000)])
    areas = [("H", "Donut", donut), ("I", "Islands", islands), ("E", "Empty", shapely.Polygon())]
    fig = choropleth("h", areas, {"H": 1, "I": 2, "E": 3}, title="t", legend_title="x")
    root = parse(fig.svg)
    paths = area_paths(root)
    assert set(paths) == {"H", "I"}
    assert len(points(paths["H"].get("d"))) == 2 and paths["H"].get("d").count("z") == 2
    assert len(points(paths["I"].get("d"))) == 2
    group = next(g for g in root.iter(f"{SVG}g") if paths["H"] in list(g))
    assert group.get("fill-rule") == "evenodd"
    assert [row["code"] for row in fig.table] == ["E", "I", "H"]      # the empty area still has its row


def test_a_far_speck_does_not_shrink_the_map():
    # Alpha owns a 1 m^2 speck 5 km south (like a sea fort in a city's LSOA): the map still fits
    # the 2 km block to the full width and the speck, outside the map box, is not drawn
    areas = example_areas()
    areas[0] = ("A", "Alpha", shapely.MultiPolygon([square(0, 1000), square(0, -5000, 1)]))
    paths = area_paths(parse(choropleth("s", areas, {}, title="t", legend_title="x").svg))
    rings = points(paths["A"].get("d"))
    assert len(rings) == 1
    assert max(x for x, _ in rings[0]) - min(x for x, _ in rings[0]) == 285.0


def test_outline_labels_with_halo_and_highlight():
    root = parse(example_figure().svg)
    groups = list(root.iter(f"{SVG}g"))
    outline = next(g for g in groups if g.get("stroke") == "#1a1a1a" and g.get("fill") == "none")
    assert len(outline.findall(f"{SVG}path")) == 1
    hotspot = next(g for g in groups if g.get("stroke") == "#D55E00")
    ring = points(hotspot.find(f"{SVG}path").get("d"))[0]
    assert max(x for x, _ in ring) - min(x for x, _ in ring) == pytest.approx(250 * 0.285, abs=0.1)   # 250 m
    assert "Hotspot" in legend_texts(root)
    halo, text = [g for g in groups if any(t.text == "Northtown" for t in g.findall(f"{SVG}text"))]
    assert halo.get("stroke") == "#ffffff" and halo.get("stroke-width")
    assert text.get("fill") == "#1a1a1a" and text.get("stroke") is None


def test_scale_bar_is_a_round_distance():
    texts = legend_texts(parse(example_figure().svg))
    assert "500 m" in texts                       # 2 km block: 500 m is the longest step within 160 units
    big = [(c, c, square(i * 50_000, 0, 50_000)) for i, c in enumerate("XY")]
    assert "20 km" in legend_texts(parse(choropleth("b", big, {}, title="t", legend_title="x").svg))
    assert "N" in texts


def test_all_suppressed():
    fig = choropleth("z", example_areas(), {c: None for c in "ABCD"}, title="Rates", legend_title="x")
    assert fig.alt == "Rates, map of 4 areas: all values suppressed or not available."
    assert {p.get("fill") for p in area_paths(parse(fig.svg)).values()} == {"url(#z-hatch)"}


def test_non_ascii_names_are_character_references():
    areas = [("W1", "Ynys M\u00f4n", square(0, 0))]
    fig = choropleth("n", areas, {"W1": 1.0}, title="Caf\u00e9 map", legend_title="x")
    assert fig.svg.isascii()
    assert parse(fig.svg).find(f"{SVG}title").text == "Caf\u00e9 map"


def test_byte_identical_across_renders_and_processes():
    first = example_figure("det").svg
    assert example_figure("det").svg == first
    code = (f"import sys; sys.path.insert(0, {str(HERE)!r}); import test_maps; "
            "sys.stdout.write(test_maps.example_figure('det').svg)")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert other.stdout == first


def test_a_partnership_sized_map_stays_small():
    # 1,200 round areas of 64 vertices each in a 40 x 30 grid
    areas = [(f"L{i:04d}", f"Area {i}", shapely.Point((i % 40) * 1000, (i // 40) * 1000).buffer(480, 16))
             for i in range(1200)]
    fig = choropleth("big", areas, {code: float(i % 17) for i, (code, _, _) in enumerate(areas)},
                     title="t", legend_title="x")
    assert len(fig.svg.encode()) < 300_000
    assert len(area_paths(parse(fig.svg))) == 1200
