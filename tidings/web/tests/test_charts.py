"""The SVG charts: geometry, labels, accessibility and edge cases, read back with xml.etree."""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET

import pytest
from django.template import Context, Template

from tidings.ui.charts import (
    TS_BOTTOM,
    TS_HEIGHT,
    TS_LEFT,
    TS_RIGHT,
    TS_TOP,
    TS_WIDTH,
    Datum,
    bar_chart,
    compact_number,
    donut,
    fill_dates,
    full_number,
    funnel,
    nice_ticks,
    time_series,
)

# Runs on SQLite only (bin/test): nothing here reaches the database engine; conftest.py checks that.
pytestmark = pytest.mark.engine_independent

NS = {"svg": "http://www.w3.org/2000/svg"}
DAY = datetime.date(2026, 11, 2)


def parse(chart) -> ET.Element:
    return ET.fromstring(str(chart.svg))  # noqa: S314 (our own markup, not untrusted input)


def find_all(root: ET.Element, path: str) -> list[ET.Element]:
    return root.findall(path, NS)


def texts(root: ET.Element) -> list[str]:
    return [element.text or "" for element in root.iter(f"{{{NS['svg']}}}text")]


def path_points(d: str) -> list[tuple[float, float]]:
    pairs = [part[1:].split(",") for part in d.split() if part[0] in "ML"]
    return [(float(x), float(y)) for x, y in pairs]


def series(values, start=DAY):
    return [(start + datetime.timedelta(days=i), v) for i, v in enumerate(values)]


def line_of(chart):
    return find_all(parse(chart), ".//svg:path[@class='chart-line chart-series-1']")


# Numbers


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (950, "950"),
        (1234, "1.2k"),
        (12_345, "12k"),
        (999_950, "1M"),
        (3_400_000, "3.4M"),
        (2_500_000_000, "2.5B"),
        (-1500, "-1.5k"),
        (0.25, "0.2"),
        (7.0, "7"),
    ],
)
def test_compact_number_shortens_large_values(value, text):
    assert compact_number(value) == text


def test_full_number_groups_thousands_for_the_table():
    assert full_number(1_234_567) == "1,234,567"


def test_ticks_of_all_zeros_still_make_an_axis():
    assert nice_ticks(0, 0) == [0, 1]


def test_ticks_are_round_and_cover_the_highest_value():
    ticks = nice_ticks(0, 841_000)
    assert ticks == [0, 500_000, 1_000_000]


def test_ticks_include_negative_values_and_zero():
    ticks = nice_ticks(-30, 120)
    assert ticks[0] <= -30 and ticks[-1] >= 120 and 0 in ticks


# Accessibility and the CSP


def every_chart():
    data = [Datum("vip", 12), Datum("newsletter", 5)]
    common = {"title": "T", "value_label": "Contacts", "empty_message": "Nothing yet."}
    return [
        time_series(series([1, 3, 2]), **common),
        time_series(series([1, 3, 2]), area=True, **common),
        bar_chart(data, **common),
        bar_chart(data, horizontal=False, **common),
        funnel(data, **common),
        donut(data, **common),
    ]


CHARTS = every_chart()
# Named by kind and position: stable across test processes (xdist compares the collected names).
CHART_IDS = [f"{chart.kind}{position}" for position, chart in enumerate(CHARTS)]


@pytest.mark.parametrize("chart", CHARTS, ids=CHART_IDS)
def test_every_chart_is_an_image_with_a_label_title_and_description(chart):
    root = parse(chart)
    assert root.get("role") == "img"
    assert root.get("aria-label", "").startswith("T.")
    assert root.find("svg:title", NS).text == "T"
    assert root.find("svg:desc", NS).text == chart.summary


@pytest.mark.parametrize("chart", CHARTS, ids=CHART_IDS)
def test_no_chart_uses_a_style_attribute_or_a_colour(chart):
    for element in parse(chart).iter():
        assert "style" not in element.attrib
        assert "fill" not in element.attrib and "stroke" not in element.attrib  # colours come from classes
    assert "<script" not in str(chart.svg) and "<style" not in str(chart.svg)


def test_labels_are_escaped_not_markup():
    chart = bar_chart([Datum("<script>alert(1)</script>", 3)], title="Tags & more", value_label="n", empty_message="")
    root = parse(chart)  # still well-formed
    assert not root.findall(".//script")
    assert any("<script>" in text for text in texts(root))


# Time series


def test_time_series_draws_one_point_per_day_left_to_right_within_the_plot():
    chart = time_series(series([0, 10, 20, 5]), title="Growth", value_label="Contacts", empty_message="")
    (line,) = line_of(chart)
    points = path_points(line.get("d"))
    assert len(points) == 4
    xs = [x for x, _ in points]
    assert xs == sorted(xs) and xs[0] == TS_LEFT and xs[-1] == TS_WIDTH - TS_RIGHT
    ys = [y for _, y in points]
    assert ys[0] == TS_HEIGHT - TS_BOTTOM  # 0 sits on the axis
    assert min(ys) >= TS_TOP and ys[2] == min(ys)  # the highest value is drawn highest


def test_time_series_labels_the_first_and_last_dates():
    chart = time_series(series(range(30)), title="Growth", value_label="Contacts", empty_message="")
    dates = [t.text for t in find_all(parse(chart), ".//svg:text[@class='chart-label chart-date']")]
    assert dates[0] == "2 Nov" and dates[-1] == "1 Dec" and len(dates) == 6


def test_time_series_over_more_than_a_year_labels_months():
    chart = time_series(series([1] * 400), title="Growth", value_label="Contacts", empty_message="")
    dates = [t.text for t in find_all(parse(chart), ".//svg:text[@class='chart-label chart-date']")]
    assert dates[0] == "Nov 2026" and dates[-1] == "Dec 2027"


def test_time_series_area_closes_on_the_axis():
    chart = time_series(series([4, 8]), title="Growth", value_label="Contacts", empty_message="", area=True)
    (area,) = find_all(parse(chart), ".//svg:path[@class='chart-area chart-series-1']")
    assert area.get("d").endswith("Z")
    assert path_points(area.get("d"))[-1][1] == TS_HEIGHT - TS_BOTTOM


def test_time_series_of_one_point_draws_a_dot_in_the_middle():
    chart = time_series(series([7]), title="Growth", value_label="Contacts", empty_message="")
    root = parse(chart)
    assert line_of(chart) == []
    (dot,) = find_all(root, ".//svg:circle")
    assert float(dot.get("cx")) == (TS_LEFT + TS_WIDTH - TS_RIGHT) / 2
    assert chart.rows[0].value == "7"


def test_time_series_of_zeros_is_a_flat_line_on_a_zero_to_one_axis():
    chart = time_series(series([0, 0, 0]), title="Growth", value_label="Contacts", empty_message="")
    (line,) = line_of(chart)
    assert {y for _, y in path_points(line.get("d"))} == {TS_HEIGHT - TS_BOTTOM}
    ticks = [
        t.text for t in find_all(parse(chart), ".//svg:g[@class='chart-tick-labels']/svg:text[@text-anchor='end']")
    ]
    assert ticks[:2] == ["0", "1"]


def test_time_series_shortens_huge_numbers_and_keeps_them_whole_in_the_table():
    chart = time_series(series([1_200_000, 3_400_000]), title="Growth", value_label="Contacts", empty_message="")
    assert "4M" in texts(parse(chart))  # the top tick
    assert [row.value for row in chart.rows] == ["1,200,000", "3,400,000"]
    assert [row.label for row in chart.rows] == ["2026-11-02", "2026-11-03"]


def test_time_series_without_points_is_empty_with_the_callers_message():
    chart = time_series([], title="Growth", value_label="Contacts", empty_message="Import contacts to see growth.")
    assert chart.empty and str(chart.svg) == "" and chart.empty_message == "Import contacts to see growth."


def test_time_series_with_negative_values_draws_them_below_the_axis():
    chart = time_series(series([-5, 5]), title="Change", value_label="Net", empty_message="")
    (line,) = line_of(chart)
    (first_y, second_y) = [y for _, y in path_points(line.get("d"))]
    assert first_y > second_y


def test_fill_dates_gives_every_day_zeros_included():
    points = fill_dates({DAY: 3}, DAY - datetime.timedelta(days=1), DAY + datetime.timedelta(days=1))
    assert [v for _, v in points] == [0, 3, 0]


# Bars


def bars(root):
    return find_all(root, ".//svg:g[@class='chart-bars chart-series-1']/svg:rect")


def test_horizontal_bars_are_as_long_as_their_values():
    chart = bar_chart([Datum("vip", 100), Datum("trial", 50)], title="Tags", value_label="Contacts", empty_message="")
    first, second = (float(rect.get("width")) for rect in bars(parse(chart)))
    assert first == pytest.approx(2 * second)


def test_horizontal_bars_carry_labels_values_and_links_in_the_table():
    data = [Datum("vip", 1500, href="/w/acme/contacts/?tag=vip")]
    chart = bar_chart(data, title="Tags", value_label="Contacts", empty_message="", label_column="Tag")
    assert {"vip", "1.5k"} <= set(texts(parse(chart)))
    assert chart.rows[0].href == "/w/acme/contacts/?tag=vip" and chart.rows[0].value == "1,500"
    assert chart.columns == ("Tag", "Contacts")


def test_long_labels_are_cut_with_an_ellipsis_and_kept_whole_in_the_table():
    label = "a-very-long-tag-name-from-an-old-import-file"
    chart = bar_chart([Datum(label, 1)], title="Tags", value_label="Contacts", empty_message="")
    shown = [t for t in texts(parse(chart)) if t.startswith("a-very")]
    assert shown and shown[0].endswith("…") and len(shown[0]) < len(label)
    assert chart.rows[0].label == label


def test_bars_of_zeros_have_no_length_but_keep_their_labels():
    chart = bar_chart([Datum("a", 0), Datum("b", 0)], title="Tags", value_label="Contacts", empty_message="")
    assert [float(rect.get("width")) for rect in bars(parse(chart))] == [0, 0]
    assert {"a", "b"} <= set(texts(parse(chart)))


def test_vertical_bars_are_as_tall_as_their_values_and_stand_on_the_axis():
    chart = bar_chart(
        [Datum("Mon", 40), Datum("Tue", 10)], title="Days", value_label="Contacts", empty_message="", horizontal=False
    )
    first, second = bars(parse(chart))
    assert float(first.get("height")) == pytest.approx(4 * float(second.get("height")))
    bottom = float(first.get("y")) + float(first.get("height"))
    assert bottom == pytest.approx(float(second.get("y")) + float(second.get("height")))


def test_vertical_bars_with_a_negative_value_hang_below_the_axis():
    chart = bar_chart(
        [Datum("up", 10), Datum("down", -10)], title="Net", value_label="n", empty_message="", horizontal=False
    )
    up, down = bars(parse(chart))
    assert float(down.get("y")) == pytest.approx(float(up.get("y")) + float(up.get("height")))


def test_no_bars_is_empty():
    assert bar_chart([], title="Tags", value_label="Contacts", empty_message="Tag contacts first.").empty


# Funnel


def test_funnel_steps_are_as_wide_as_their_share_of_the_first():
    chart = funnel(
        [Datum("All", 200), Datum("Identified", 100), Datum("Emailable", 50)],
        title="Reach",
        value_label="Contacts",
        empty_message="",
    )
    widths = [float(rect.get("width")) for rect in find_all(parse(chart), ".//svg:rect")]
    assert widths[0] == pytest.approx(2 * widths[1]) == pytest.approx(4 * widths[2])
    assert [row.share for row in chart.rows] == ["100%", "50%", "25%"]
    assert "Identified · 100 · 50%" in texts(parse(chart))


def test_funnel_of_zeros_keeps_a_hairline_per_step():
    chart = funnel([Datum("All", 0), Datum("Identified", 0)], title="Reach", value_label="Contacts", empty_message="")
    assert [float(rect.get("width")) for rect in find_all(parse(chart), ".//svg:rect")] == [2, 2]
    assert [row.share for row in chart.rows] == ["0%", "0%"]


# Donut


def slices(chart):
    return find_all(parse(chart), ".//svg:path")


def test_donut_draws_a_slice_per_positive_value_with_its_share():
    chart = donut(
        [Datum("Imports", 75), Datum("API", 25), Datum("Forms", 0)],
        title="Sources",
        value_label="New contacts",
        empty_message="",
    )
    assert len(slices(chart)) == 2
    assert [row.share for row in chart.rows] == ["75%", "25%", "0%"]
    assert "100" in texts(parse(chart))  # the total in the hole
    assert "Imports · 75" in texts(parse(chart))


def test_donut_large_slice_uses_the_large_arc():
    chart = donut([Datum("a", 3), Datum("b", 1)], title="S", value_label="n", empty_message="")
    first = slices(chart)[0].get("d")
    assert " 0 1 1 " in first  # outer arc: large-arc flag set, clockwise


def test_donut_of_one_value_is_a_whole_ring():
    chart = donut([Datum("Imports", 9)], title="Sources", value_label="n", empty_message="")
    (ring,) = slices(chart)
    assert ring.get("d").count("A") == 4 and ring.get("fill-rule") == "evenodd"


def test_donut_of_zeros_or_negatives_is_empty():
    assert donut([Datum("a", 0), Datum("b", -3)], title="S", value_label="n", empty_message="None yet.").empty


# The template tag


def render(chart, *extra) -> str:
    arguments = " ".join(f"'{value}'" for value in extra)
    return Template("{% load charts %}{% chart c " + arguments + " %}").render(Context({"c": chart}))


def test_chart_tag_puts_the_numbers_in_a_table_with_links():
    chart = bar_chart(
        [Datum("vip", 3, href="/w/acme/contacts/?tag=vip")],
        title="Tags",
        value_label="Contacts",
        empty_message="",
        label_column="Tag",
    )
    html = render(chart)
    assert "<details" in html and "<table" in html
    assert '<th scope="row"><a href="/w/acme/contacts/?tag=vip">vip</a></th><td class="num">3</td>' in html
    assert " style=" not in html


def test_chart_tag_shows_the_empty_state_with_what_to_do():
    chart = bar_chart([], title="Tags", value_label="Contacts", empty_message="No tags yet.")
    html = render(chart, "/w/acme/contacts/import/", "Import a CSV file")
    assert "No tags yet." in html and '<a href="/w/acme/contacts/import/">Import a CSV file</a>' in html
    assert "<svg" not in html and "<table" not in html


def test_a_wide_time_series_comes_with_a_narrow_copy_for_phones():
    chart = time_series(series(range(30)), title="Growth", value_label="Contacts", empty_message="")
    wide, narrow = parse(chart), ET.fromstring(str(chart.svg_narrow))  # noqa: S314 (our own markup)
    assert "chart-wide" in wide.get("class") and "chart-narrow" in narrow.get("class")
    assert narrow.get("viewBox") == "0 0 360 240"
    dates = [t.text for t in find_all(narrow, ".//svg:text[@class='chart-label chart-date']")]
    assert dates == ["2 Nov", "16 Nov", "1 Dec"]  # fewer labels, so they stay readable
    assert "{{" not in render(chart) and render(chart).count("<svg") == 2


def test_a_card_sized_time_series_is_drawn_once():
    chart = time_series(series([1, 2]), title="Growth", value_label="Contacts", empty_message="", width=360)
    assert str(chart.svg_narrow) == "" and "chart-wide" not in parse(chart).get("class")
