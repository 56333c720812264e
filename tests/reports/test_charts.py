"""The report's charts: inline SVG fit to share a page, alt text and tables from hand-worked inputs,
suppressed values marked rather than drawn as zero, and byte-identical output."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from vrp.reports import charts

MONTHS = [{"month": "2025-01", "count": 120, "previous": 100},
          {"month": "2025-02", "count": None, "previous": 110},
          {"month": "2025-03", "count": 95, "previous": None},
          {"month": "2025-04", "count": 140, "previous": 130}]
AREAS = [{"label": "Alderley", "value": 12.0, "low": 10.0, "high": 14.0},
         {"label": "Bexford", "value": 6.0, "low": 5.0, "high": 7.0},
         {"label": "Carrow", "value": None, "low": None, "high": None},
         {"label": "Dunmere", "value": 9.0, "low": 7.0, "high": 11.5}]
HOURS = {(5, 23): 68, (0, 4): None, (2, 10): 15, (2, 11): 14}  # every other hour of the week: none
AGES = ["Under 10", "10-17", "18-24", "65+"]  # alphabetical order would put "Under 10" last
PEOPLE = ([{"category": c, "count": n, "series": "Victims"} for c, n in zip(AGES, [5, 40, None, 2])]
          + [{"category": c, "count": n, "series": "Suspects"} for c, n in zip(AGES, [None, 60, 80])])
# ten places holding 50, 20, 10, 10, 5, 5, 0, 0, 0, 0 of 100 events, most first
PLACE_SHARE = [i / 10 for i in range(1, 11)]
EVENT_SHARE = [0.5, 0.7, 0.8, 0.9, 0.95, 1.0, 1.0, 1.0, 1.0, 1.0]


@pytest.fixture(scope="module")
def figures():
    return {
        "trend": charts.monthly_trend("trend", MONTHS, note="2025 figures are provisional."),
        "areas": charts.comparison("areas", AREAS, measure_label="Serious violence per 1,000 residents",
                                   reference=9.0),
        "hours": charts.hour_weekday("hours", HOURS),
        "ages": charts.bars("ages", PEOPLE, category_label="Age band", unit="people",
                            series=["Victims", "Suspects"]),
        "places": charts.lorenz("places", PLACE_SHARE, EVENT_SHARE, unit_label="LSOAs"),
    }


def texts(svg: str) -> list[str]:
    return ["".join(node.itertext()) for node in ET.fromstring(svg).iter("text")]


@pytest.mark.parametrize("key", ["trend", "areas", "hours", "ages", "places"])
def test_svg_is_one_self_contained_scalable_accessible_element(figures, key):
    svg = figures[key].svg
    root = ET.fromstring(svg)
    assert root.tag == "svg" and root.get("width") == "100%" and len(root.get("viewBox").split()) == 4
    assert root.get("role") == "img" and root.get("font-family") == "sans-serif"
    ids = [node.get("id") for node in root.iter() if node.get("id")]
    assert len(ids) == len(set(ids)) and all(i.startswith(f"{key}-") for i in ids)
    title_id, desc_id = root.get("aria-labelledby").split()
    assert root.find("title").get("id") == title_id and root.find("desc").get("id") == desc_id
    assert root.find("desc").text == figures[key].alt
    references = re.findall(r'url\(#([^)]+)\)|href="#([^"]+)"', svg)
    assert all((a or b) in ids for a, b in references)
    for banned in ("http", "url(http", "@import", "<image", "<script", "font-family=\"DejaVu"):
        assert banned not in svg
    attributes = " ".join(value for node in root.iter() for name, value in node.attrib.items())
    assert not re.search(r"\d\.\d\d", attributes)  # coordinates rounded to 0.1
    assert len(svg) < 300_000


def test_two_charts_inlined_in_one_page_share_no_id():
    page = "<div>" + charts.hour_weekday("a", HOURS).svg + charts.hour_weekday("b", HOURS).svg + "</div>"
    ids = [node.get("id") for node in ET.fromstring(page).iter() if node.get("id")]
    assert len(ids) == len(set(ids)) == 6  # title, desc and hatch pattern of each


def test_same_input_gives_the_same_bytes_in_this_process_and_another(figures):
    again = charts.hour_weekday("hours", HOURS).svg
    assert again == figures["hours"].svg
    code = (f"import json; from vrp.reports import charts; "
            f"print(json.dumps([charts.hour_weekday('hours', {HOURS!r}).svg, "
            f"charts.monthly_trend('trend', {MONTHS!r}, note='2025 figures are provisional.').svg]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [figures["hours"].svg, figures["trend"].svg]


def test_monthly_trend_table_alt_and_suppressed_month(figures):
    figure = figures["trend"]
    assert figure.columns == ["month", "count", "previous"]
    assert figure.table == [{"month": "Jan 2025", "count": "120", "previous": "100"},
                            {"month": "Feb 2025", "count": "suppressed", "previous": "110"},
                            {"month": "Mar 2025", "count": "95", "previous": "suppressed"},
                            {"month": "Apr 2025", "count": "140", "previous": "130"}]
    assert figure.alt == ("Monthly offences, January 2025 to April 2025: highest in April 2025 (140), lowest in "
                          "March 2025 (95); 1 month suppressed. Over the 2 months with figures for both years, "
                          "260 offences against 230 a year earlier (up 13%).")
    shown = texts(figure.svg)
    assert "suppressed" in shown and "Same month a year earlier" in shown
    assert any("2025 figures are provisional." in text for text in shown)


def test_monthly_trend_draws_no_bar_for_a_suppressed_month_and_whole_number_ticks():
    figure = charts.monthly_trend("small", [{"month": "2025-01", "count": 3}, {"month": "2025-02", "count": None},
                                            {"month": "2025-03", "count": 2}])
    assert figure.svg.count('fill="#0072B2"') == 2  # the two months with a count, no zero-height third
    shown = texts(figure.svg)
    assert shown.count("suppressed") == 1
    assert [t for t in shown if t.isdigit()] == ["0", "1", "2", "3"]  # y axis: no repeated "1" for 0.5
    assert ["Jan2025", "Feb", "Mar"] == [t for t in shown if t.startswith(("Jan", "Feb", "Mar"))]  # year under Jan


def test_comparison_table_alt_and_suppressed_row(figures):
    figure = figures["areas"]
    assert figure.table == [{"label": "Alderley", "value": "12.0", "low": "10.0", "high": "14.0"},
                            {"label": "Bexford", "value": "6.0", "low": "5.0", "high": "7.0"},
                            {"label": "Carrow", "value": "suppressed", "low": "", "high": ""},
                            {"label": "Dunmere", "value": "9.0", "low": "7.0", "high": "11.5"}]
    assert figure.alt == ("Serious violence per 1,000 residents: highest in Alderley (12.0), lowest in Bexford "
                          "(6.0); partnership 9.0. 1 of 3 has its 95% interval entirely above the partnership "
                          "and 1 entirely below it. 1 suppressed.")
    shown = texts(figure.svg)
    assert [t for t in shown if t in {"Alderley", "Bexford", "Carrow", "Dunmere"}] == [
        "Alderley", "Bexford", "Carrow", "Dunmere"]
    assert "suppressed" in shown and "partnership 9.0" in shown


def test_hour_weekday_classes_table_and_hatched_suppressed_hour(figures):
    figure = figures["hours"]
    assert figure.columns == ["day"] + [f"{h:02d}" for h in range(24)]
    assert [row["day"] for row in figure.table] == charts.DAYS
    assert figure.table[5]["23"] == "68" and figure.table[0]["04"] == "suppressed" and figure.table[0]["00"] == "0"
    assert figure.alt == ("Offences by day of week and hour of day: the busiest hour of the week is Saturday "
                          "23:00 to 23:59 (68); Saturday is the busiest day (68) and 23:00 to 23:59 the busiest "
                          "hour across the week (68). 1 of 168 hours suppressed.")
    # classes of 15 from zero hold the peak of 68; each colour: its cells plus one legend swatch
    assert [t for t in texts(figure.svg) if "–" in t or t == "suppressed"] == [
        "0–14", "15–29", "30–44", "45–59", "60–74", "suppressed"]
    assert figure.svg.count('fill="#440154"') == 1 + 1  # 68
    assert figure.svg.count('fill="#5ec962"') == 1 + 1  # 15
    assert figure.svg.count('fill="#fde725"') == 165 + 1  # the zeros and the 14
    assert figure.svg.count('fill="url(#hours-hatch1)"') == 1 + 1


def test_grouped_bars_keep_the_given_order_and_mark_suppressed_counts(figures):
    figure = figures["ages"]
    assert figure.columns == ["category", "Victims", "Suspects"]
    assert figure.table == [{"category": "Under 10", "Victims": "5", "Suspects": "suppressed"},
                            {"category": "10-17", "Victims": "40", "Suspects": "60"},
                            {"category": "18-24", "Victims": "suppressed", "Suspects": "80"},
                            {"category": "65+", "Victims": "2", "Suspects": "0"}]
    assert figure.alt == ("People by age band: most victims were in 10-17 (40, 85% of 47); most suspects were "
                          "in 18-24 (80, 57% of 140). 2 values suppressed.")
    shown = texts(figure.svg)
    assert [t for t in shown if t in AGES] == AGES
    assert shown.count("suppressed") == 2
    assert figure.svg.count('fill="#0072B2"') == 3 + 1  # victims' bars and legend swatch
    assert figure.svg.count('fill="#E69F00"') == 3 + 1  # suspects' bars (65+ is a true zero) and swatch


def test_single_series_bars_table():
    figure = charts.bars("groups", [{"category": "Robbery", "count": 340}, {"category": "Homicide", "count": None}],
                         category_label="Offence group", horizontal=False)
    assert figure.columns == ["category", "count"]
    assert figure.table == [{"category": "Robbery", "count": "340"}, {"category": "Homicide", "count": "suppressed"}]
    assert figure.alt == ("Offences by offence group: most offences were in Robbery (340, 100% of 340). "
                          "1 value suppressed.")


def test_lorenz_table_and_alt_read_off_the_curve(figures):
    figure = figures["places"]
    assert figure.columns == ["share of LSOAs", "share of serious violence"]
    assert [list(row.values()) for row in figure.table] == [
        ["1%", "5%"], ["5%", "25%"], ["10%", "50%"], ["20%", "70%"], ["50%", "95%"]]
    assert figure.alt == ("Concentration of serious violence across LSOAs: the 10% of LSOAs with the most serious "
                          "violence account for 50% of it, and half of it happens in 10% of LSOAs.")


def test_lorenz_thins_a_long_curve_keeping_both_ends():
    n = 10_000
    weights = [1 / (i + 1) for i in range(n)]
    total, running, shares = sum(weights), 0.0, []
    for weight in weights:
        running += weight
        shares.append(running / total)
    figure = charts.lorenz("long", [(i + 1) / n for i in range(n)], shares, unit_label="street segments")
    curve = next(node.get("d") for node in ET.fromstring(figure.svg).iter("path")
                 if node.get("stroke") == "#0072B2")
    points = re.findall(r"(-?[\d.]+),(-?[\d.]+)", curve)
    assert 150 <= len(points) <= 202
    (x0, y0), (x1, y1) = map(lambda p: (float(p[0]), float(p[1])), (points[0], points[-1]))
    assert x0 == 0 and y1 == 0 and x1 > 400 and y0 == 300  # from (0%, 0%) to (100%, 100%); SVG y points down
