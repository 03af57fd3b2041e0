"""Charts drawn as SVG on the server: time series, bars, funnels and donuts, for every domain.

No JavaScript and no style attributes, so they render under the strict CSP (style-src 'self',
script-src 'self'): shapes carry classes only (chart-series-1..6, chart-axis, chart-grid,
chart-label...) and tidings.css maps them to custom properties, dark mode included. Geometry
uses SVG attributes (x, width, d, text-anchor), which are attributes, not inline styles.

Each chart is accessible three ways: the <svg> is role="img" with an aria-label, a <title> and a
<desc> summing it up; and Chart.rows holds the same numbers for the table the template puts
behind it (web/_chart.html, `{% chart %}` from the `charts` template tags), with a link per row
where the caller gave one (for example to the filtered contacts list).

Edge cases, each tested: no data gives an empty chart (Chart.empty, and the caller's message
saying what to do); one point is drawn as a dot in the middle; all zeros draw a flat line or
zero-length bars on a 0-1 axis (a donut of nothing is empty); large numbers are shortened
(1.2k, 3.4M) on the drawing and written in full in the table; negative values do not crash
(axes include them; donuts skip them).

Usage from a domain's widget:

    from tidings.ui.charts import Datum, bar_chart
    chart = bar_chart([Datum("vip", 1200, href="...?tag=vip")], title="Top tags", value_label="Contacts",
                      empty_message="No contact has a tag yet: tag contacts from their page or an import.")
"""

from __future__ import annotations

import datetime
import math
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.utils.safestring import SafeString, mark_safe

SVG_NS = "http://www.w3.org/2000/svg"
SERIES_CLASSES = 6  # chart-series-1 .. chart-series-6 in tidings.css; more slices reuse them in turn
CHAR_WIDTH = 7.0  # average width of a label character at the charts' font size, in user units
# Widths of the drawing (its viewBox) in user units. The SVG scales to its box, text included, so
# a chart is drawn about as wide as it is shown: a card of the dashboard (CARD_WIDTH) or the page.
CARD_WIDTH = 360.0
WIDE_WIDTH = 640.0


@dataclass(frozen=True)
class Datum:
    """One value of a chart: its label, value and, optionally, where its row links to."""

    label: str
    value: float
    href: str = ""


@dataclass(frozen=True)
class Row:
    """One row of the table behind a chart: the label, the exact value as text, an optional link."""

    label: str
    value: str
    href: str = ""
    share: str = ""  # a percentage, for donuts and funnels


@dataclass(frozen=True)
class Chart:
    """A rendered chart: the SVG markup (empty when there is nothing to draw) and its table."""

    kind: str  # "time_series", "bar", "funnel" or "donut"
    title: str
    svg: SafeString
    columns: tuple[str, str]
    svg_narrow: SafeString = mark_safe("")  # a copy drawn for phones, when svg is wide (time series)
    rows: list[Row] = field(default_factory=list)
    empty: bool = False
    empty_message: str = ""
    summary: str = ""

    @property
    def has_share(self) -> bool:
        return any(row.share for row in self.rows)


# ----------------------------------------------------------------------------------------------
# Numbers and scales


def compact_number(value: float) -> str:
    """Return value shortened for a chart: 950, 1.2k, 12k, 3.4M, 1.1B (negative values keep their sign)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "–"
    sign = "-" if value < 0 else ""
    value = abs(value)
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if value >= limit * 0.9995:  # 999,950 reads as 1M, not "1000k"
            scaled = value / limit
            text = f"{scaled:.1f}" if scaled < 9.95 else f"{scaled:.0f}"
            return sign + text.removesuffix(".0") + suffix
    if value == int(value):
        return sign + str(int(value))
    return sign + f"{value:.1f}".removesuffix(".0")


def full_number(value: float) -> str:
    """Return value written in full for a table: 1,234,567 (one decimal for fractions)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "–"
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.1f}"


def nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    """Return about count+1 round tick values (steps of 1, 2 or 5 times a power of ten) covering low..high.

    The range always includes 0; a range of zeros becomes 0..1, so an axis is drawn whatever the data.
    """
    low, high = min(0.0, float(low)), max(0.0, float(high))
    if high - low <= 0:
        high = 1.0
    raw = (high - low) / max(1, count)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    if step < 1 and high - low >= 1:  # counts: no tick at 0.5 once the range reaches 1
        step = 1.0
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value < high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 10))
    return ticks


class _Scale:
    """Map values of a domain onto a pixel range (inverted for a y axis: larger values higher)."""

    def __init__(self, low: float, high: float, start: float, end: float):
        self.low, self.high, self.start, self.end = low, high, start, end

    def __call__(self, value: float) -> float:
        span = self.high - self.low or 1.0
        return self.start + (value - self.low) / span * (self.end - self.start)


def _num(value: float) -> str:
    """Return a coordinate with at most two decimals (small markup, stable tests)."""
    return f"{value:.2f}".rstrip("0").rstrip(".") or "0"


def _truncate(text: str, width: float) -> str:
    """Return text cut to fit width user units, with an ellipsis when cut."""
    fits = max(1, int(width / CHAR_WIDTH))
    return text if len(text) <= fits else text[: max(1, fits - 1)].rstrip() + "…"


def _share(part: float, whole: float) -> str:
    if whole <= 0:
        return "0%"
    percent = part / whole * 100
    return f"{percent:.0f}%" if percent >= 10 or percent == 0 else f"{percent:.1f}%"


# ----------------------------------------------------------------------------------------------
# SVG building


class _Svg:
    """An <svg> element being built: role="img", a label, <title> and <desc> first."""

    def __init__(self, kind: str, width: float, height: float, title: str, summary: str):
        self.root = ET.Element(
            "svg",
            {
                "xmlns": SVG_NS,
                "viewBox": f"0 0 {_num(width)} {_num(height)}",
                "class": f"chart-svg chart-{kind}",
                "role": "img",
                "aria-label": f"{title}. {summary}" if summary else title,
                "focusable": "false",
                "preserveAspectRatio": "xMidYMid meet",
            },
        )
        ET.SubElement(self.root, "title").text = title
        ET.SubElement(self.root, "desc").text = summary

    def add(self, tag: str, parent: ET.Element | None = None, text: str | None = None, **attributes) -> ET.Element:
        attrs = {
            _attribute(key): _num(value) if isinstance(value, float) else str(value)
            for key, value in attributes.items()
        }
        element = ET.SubElement(self.root if parent is None else parent, tag, attrs)
        if text is not None:
            element.text = text
        return element

    def markup(self) -> SafeString:
        # ElementTree escapes every text and attribute, so labels (tag names, countries) cannot inject markup.
        return mark_safe(ET.tostring(self.root, encoding="unicode"))  # noqa: S308 (escaped by ElementTree)


def _attribute(name: str) -> str:
    return {"cls": "class", "text_anchor": "text-anchor", "dominant_baseline": "dominant-baseline"}.get(
        name, name.replace("_", "-")
    )


def _empty(kind: str, title: str, columns: tuple[str, str], message: str) -> Chart:
    return Chart(kind=kind, title=title, svg=mark_safe(""), columns=columns, empty=True, empty_message=message)


def _values(data: Sequence[Datum]) -> list[float]:
    return [float(d.value) if math.isfinite(float(d.value)) else 0.0 for d in data]


# ----------------------------------------------------------------------------------------------
# Time series


TS_WIDTH, TS_HEIGHT = WIDE_WIDTH, 240.0
TS_LEFT, TS_RIGHT, TS_TOP, TS_BOTTOM = 48.0, 16.0, 12.0, 30.0
MAX_DATE_LABELS = 6  # on a wide chart; about one per 100 units
MAX_DOTS = 45  # beyond this many points the dots would merge into the line


def date_label(day: datetime.date, *, long_span: bool = False) -> str:
    """Return a short date for an axis: "3 Dec", or "Dec 2026" when the series spans more than a year."""
    return f"{day:%b %Y}" if long_span else f"{day.day} {day:%b}"


def fill_dates(
    counts: Mapping[datetime.date, float], start: datetime.date, end: datetime.date, *, step_days: int = 1
) -> list[tuple[datetime.date, float]]:
    """Return [(day, value)] for every step from start to end (inclusive), 0 where counts has no value."""
    points, day = [], start
    while day <= end:
        points.append((day, counts.get(day, 0)))
        day += datetime.timedelta(days=step_days)
    return points


def time_series(
    points: Sequence[tuple[datetime.date, float]],
    *,
    title: str,
    value_label: str,
    empty_message: str,
    area: bool = False,
    date_column: str = "Date",
    width: float = TS_WIDTH,
) -> Chart:
    """Return a line (or area, with area=True) chart of values by date, oldest first, with axes and ticks.

    points are (date or datetime, value) pairs in order; give every bucket, zeros included
    (fill_dates). The y axis starts at 0 (or below, for negative values) with round ticks; up to
    six dates label the x axis, spread evenly, the first and last included.
    """
    columns = (date_column, value_label)
    if not points:
        return _empty("time_series", title, columns, empty_message)
    days = [p[0].date() if isinstance(p[0], datetime.datetime) else p[0] for p in points]
    values = _values([Datum("", p[1]) for p in points])
    long_span = (days[-1] - days[0]).days > 366
    summary = (
        f"{value_label} from {date_label(days[0], long_span=long_span)} to {date_label(days[-1], long_span=long_span)}:"
        f" lowest {compact_number(min(values))}, highest {compact_number(max(values))},"
        f" last {compact_number(values[-1])}."
    )
    rows = [Row(day.isoformat(), full_number(value)) for day, value in zip(days, values, strict=True)]
    if width <= CARD_WIDTH:
        svg = _time_series_svg(days, values, title, summary, area=area, long_span=long_span, width=width)
        return Chart(kind="time_series", title=title, svg=svg, columns=columns, rows=rows, summary=summary)
    # A wide chart shrunk onto a phone would have unreadable text: a narrow copy is drawn too, and
    # tidings.css shows one of the two (the hidden one, display: none, is out of the accessibility tree).
    wide = _time_series_svg(days, values, title, summary, area=area, long_span=long_span, width=width, variant="wide")
    narrow = _time_series_svg(
        days, values, title, summary, area=area, long_span=long_span, width=CARD_WIDTH, variant="narrow"
    )
    return Chart(
        kind="time_series", title=title, svg=wide, svg_narrow=narrow, columns=columns, rows=rows, summary=summary
    )


def _time_series_svg(days, values, title, summary, *, area, long_span, width, variant="") -> SafeString:
    svg = _Svg("time_series", width, TS_HEIGHT, title, summary)
    if variant:
        svg.root.set("class", f"{svg.root.get('class')} chart-{variant}")
    ticks = nice_ticks(min(values), max(values))
    left, right, top, bottom = TS_LEFT, width - TS_RIGHT, TS_TOP, TS_HEIGHT - TS_BOTTOM
    y = _Scale(ticks[0], ticks[-1], bottom, top)
    n = len(values)
    x = (lambda i: (left + right) / 2) if n == 1 else (lambda i: left + i * (right - left) / (n - 1))

    labels = _value_grid(svg, ticks, y, left, right, labels_cls="chart-tick-labels")
    svg.add("line", cls="chart-axis", x1=left, x2=right, y1=y(max(ticks[0], 0)), y2=y(max(ticks[0], 0)))
    for index in _spread(n, max(2, min(MAX_DATE_LABELS, int(width // 100)))):
        anchor = "start" if n > 1 and index == 0 else "end" if n > 1 and index == n - 1 else "middle"
        svg.add(
            "text",
            labels,
            date_label(days[index], long_span=long_span),
            x=x(index),
            y=TS_HEIGHT - 8,
            text_anchor=anchor,
            cls="chart-label chart-date",
        )

    coordinates = [(x(i), y(v)) for i, v in enumerate(values)]
    line = " ".join(f"{'M' if i == 0 else 'L'}{_num(cx)},{_num(cy)}" for i, (cx, cy) in enumerate(coordinates))
    if n > 1:
        if area:
            base = y(max(ticks[0], 0))
            svg.add(
                "path",
                d=f"{line} L{_num(coordinates[-1][0])},{_num(base)} L{_num(coordinates[0][0])},{_num(base)} Z",
                cls="chart-area chart-series-1",
            )
        svg.add("path", d=line, cls="chart-line chart-series-1")
    if n <= MAX_DOTS:
        dots = svg.add("g", cls="chart-dots chart-series-1")
        for (cx, cy), day, value in zip(coordinates, days, values, strict=True):
            dot = svg.add("circle", dots, cx=cx, cy=cy, r=3.5 if n == 1 else 2.5)
            svg.add("title", dot, f"{date_label(day)}: {full_number(value)}")
    return svg.markup()


def _spread(n: int, most: int) -> list[int]:
    """Return up to `most` indexes of 0..n-1, evenly spread, first and last included."""
    if n <= most:
        return list(range(n))
    return sorted({round(k * (n - 1) / (most - 1)) for k in range(most)})


# ----------------------------------------------------------------------------------------------
# Bars


HBAR_ROW, HBAR_VALUE = 28.0, 44.0
HBAR_LABEL_SHARE, HBAR_LABEL_MIN = 0.3, 90.0  # the labels' column: a share of the width, at least this
VBAR_HEIGHT, VBAR_LEFT, VBAR_BOTTOM, VBAR_TOP = 220.0, 44.0, 30.0, 22.0


def bar_chart(
    data: Sequence[Datum],
    *,
    title: str,
    value_label: str,
    empty_message: str,
    horizontal: bool = True,
    label_column: str = "",
    width: float = CARD_WIDTH,
) -> Chart:
    """Return a bar chart of data in the order given: horizontal (labels on the left) or vertical.

    Each bar shows its value, shortened; the table behind it has the exact values and the links.
    """
    columns = (label_column or "Name", value_label)
    if not data:
        return _empty("bar", title, columns, empty_message)
    values = _values(data)
    top = max(range(len(values)), key=lambda i: values[i])
    summary = f"{len(data)} bars; highest: {data[top].label}, {full_number(values[top])}."
    ticks = nice_ticks(min(values), max(values))
    if horizontal:
        svg = _horizontal_bars(data, values, ticks, title, summary, width)
    else:
        svg = _vertical_bars(data, values, ticks, title, summary, width)
    rows = [Row(d.label, full_number(v), d.href) for d, v in zip(data, values, strict=True)]
    return Chart(kind="bar", title=title, svg=svg.markup(), columns=columns, rows=rows, summary=summary)


def _horizontal_bars(data, values, ticks, title, summary, width) -> _Svg:
    height = HBAR_ROW * len(data) + 8
    svg = _Svg("bar", width, height, title, summary)
    label = max(HBAR_LABEL_MIN, width * HBAR_LABEL_SHARE)
    x = _Scale(ticks[0], max(values) if max(values) > 0 else ticks[-1], label, width - HBAR_VALUE)
    zero = x(0)
    bars = svg.add("g", cls="chart-bars chart-series-1")
    labels = svg.add("g", cls="chart-labels")
    for index, (datum, value) in enumerate(zip(data, values, strict=True)):
        top = 4 + index * HBAR_ROW
        middle = top + HBAR_ROW / 2
        svg.add(
            "text",
            labels,
            _truncate(datum.label, label - 10),
            x=label - 8,
            y=middle,
            text_anchor="end",
            dominant_baseline="middle",
            cls="chart-label",
        )
        end = x(value)
        bar = svg.add(
            "rect", bars, x=min(zero, end), y=top + 5, width=max(abs(end - zero), 0.0), height=HBAR_ROW - 10, rx=2.0
        )
        svg.add("title", bar, f"{datum.label}: {full_number(value)}")
        svg.add(
            "text",
            labels,
            compact_number(value),
            x=max(zero, end) + 6,
            y=middle,
            dominant_baseline="middle",
            cls="chart-label chart-value",
        )
    svg.add("line", cls="chart-axis", x1=zero, x2=zero, y1=2.0, y2=height - 2)
    return svg


def _value_grid(svg: _Svg, ticks: Sequence[float], y, left: float, right: float, *, labels_cls: str):
    """Draw a horizontal grid line and its value label at each tick; return the labels' group for more labels."""
    grid = svg.add("g", cls="chart-grid")
    labels = svg.add("g", cls=labels_cls)
    for tick in ticks:
        svg.add("line", grid, x1=left, x2=right, y1=y(tick), y2=y(tick))
        svg.add(
            "text",
            labels,
            compact_number(tick),
            x=left - 6,
            y=y(tick),
            text_anchor="end",
            dominant_baseline="middle",
            cls="chart-label",
        )
    return labels


def _vertical_bars(data, values, ticks, title, summary, width) -> _Svg:
    svg = _Svg("bar", width, VBAR_HEIGHT, title, summary)
    left, right, top, bottom = VBAR_LEFT, width - 8, VBAR_TOP, VBAR_HEIGHT - VBAR_BOTTOM
    y = _Scale(ticks[0], ticks[-1], bottom, top)
    zero = y(0)
    slot = (right - left) / len(data)
    labels = _value_grid(svg, ticks, y, left, right, labels_cls="chart-labels")
    bars = svg.add("g", cls="chart-bars chart-series-1")
    label_every = max(1, math.ceil(len(data) / max(1, int((right - left) / 64))))  # about 64 units per label
    for index, (datum, value) in enumerate(zip(data, values, strict=True)):
        center = left + slot * (index + 0.5)
        end = y(value)
        bar = svg.add(
            "rect", bars, x=center - slot * 0.35, y=min(zero, end), width=slot * 0.7, height=abs(zero - end), rx=2.0
        )
        svg.add("title", bar, f"{datum.label}: {full_number(value)}")
        if index % label_every == 0:
            svg.add(
                "text",
                labels,
                _truncate(datum.label, slot * label_every - 4),
                x=center,
                y=VBAR_HEIGHT - 10,
                text_anchor="middle",
                cls="chart-label",
            )
            svg.add(
                "text",
                labels,
                compact_number(value),
                x=center,
                y=min(zero, end) - 5,
                text_anchor="middle",
                cls="chart-label chart-value",
            )
    svg.add("line", cls="chart-axis", x1=left, x2=right, y1=zero, y2=zero)
    return svg


# ----------------------------------------------------------------------------------------------
# Funnel


FUNNEL_ROW, FUNNEL_BAR = 50.0, 22.0


def funnel(
    data: Sequence[Datum],
    *,
    title: str,
    value_label: str,
    empty_message: str,
    label_column: str = "",
    width: float = CARD_WIDTH,
) -> Chart:
    """Return a funnel: one centred bar per step, as wide as its share of the first step, labelled with both.

    Steps are drawn in the order given; the share is of the first step (0% when it is 0).
    """
    columns = (label_column or "Step", value_label)
    if not data:
        return _empty("funnel", title, columns, empty_message)
    values = [max(0.0, v) for v in _values(data)]
    first = values[0]
    widest = max(values) or 1.0
    summary = "; ".join(f"{d.label}: {full_number(v)} ({_share(v, first)})" for d, v in zip(data, values, strict=True))
    svg = _Svg("funnel", width, FUNNEL_ROW * len(data) + 4, title, summary + ".")
    bars = svg.add("g", cls="chart-bars")
    labels = svg.add("g", cls="chart-labels")
    center = width / 2
    for index, (datum, value) in enumerate(zip(data, values, strict=True)):
        top = 2 + index * FUNNEL_ROW
        span = max(2.0, value / widest * (width - 8))  # a hairline keeps an empty step visible
        svg.add(
            "text",
            labels,
            f"{_truncate(datum.label, width / 2)} · {compact_number(value)} · {_share(value, first)}",
            x=center,
            y=top + 14,
            text_anchor="middle",
            cls="chart-label",
        )
        bar = svg.add(
            "rect",
            bars,
            x=center - span / 2,
            y=top + 22,
            width=span,
            height=FUNNEL_BAR,
            rx=3.0,
            cls=f"chart-series-{index % SERIES_CLASSES + 1}",
        )
        svg.add("title", bar, f"{datum.label}: {full_number(value)}")
    rows = [Row(d.label, full_number(v), d.href, _share(v, first)) for d, v in zip(data, values, strict=True)]
    return Chart(kind="funnel", title=title, svg=svg.markup(), columns=columns, rows=rows, summary=summary + ".")


# ----------------------------------------------------------------------------------------------
# Donut


DONUT_WIDTH, DONUT_HEIGHT = CARD_WIDTH, 164.0
DONUT_CX, DONUT_CY, DONUT_OUTER, DONUT_INNER = 80.0, 82.0, 76.0, 48.0
LEGEND_X, LEGEND_ROW = 172.0, 22.0
MAX_LEGEND = 8


def donut(data: Sequence[Datum], *, title: str, value_label: str, empty_message: str, label_column: str = "") -> Chart:
    """Return a donut of data's shares, the total in its hole and a legend; empty when no value is above 0.

    Slices follow data's order clockwise from the top; zero and negative values get no slice
    (they stay in the table). The legend lists the first eight.
    """
    columns = (label_column or "Name", value_label)
    values = [max(0.0, v) for v in _values(data)]
    total = sum(values)
    if not data or total <= 0:
        return _empty("donut", title, columns, empty_message)
    summary = (
        f"Total {full_number(total)}: "
        + "; ".join(f"{d.label} {full_number(v)} ({_share(v, total)})" for d, v in zip(data, values, strict=True))
        + "."
    )
    height = max(DONUT_HEIGHT, LEGEND_ROW * min(len(data), MAX_LEGEND) + 16)
    svg = _Svg("donut", DONUT_WIDTH, height, title, summary)
    slices = svg.add("g", cls="chart-slices")
    angle = 0.0
    for index, (datum, value) in enumerate(zip(data, values, strict=True)):
        if value <= 0:
            continue
        sweep = value / total * 2 * math.pi
        piece = svg.add(
            "path",
            slices,
            d=_ring_slice(angle, angle + sweep),
            cls=f"chart-slice chart-series-{index % SERIES_CLASSES + 1}",
        )
        piece.set("fill-rule", "evenodd")
        svg.add("title", piece, f"{datum.label}: {full_number(value)} ({_share(value, total)})")
        angle += sweep
    svg.add(
        "text",
        x=DONUT_CX,
        y=DONUT_CY,
        text=compact_number(total),
        text_anchor="middle",
        dominant_baseline="middle",
        cls="chart-total",
    )
    legend = svg.add("g", cls="chart-legend")
    for index, (datum, value) in enumerate(zip(data[:MAX_LEGEND], values, strict=False)):
        top = 8 + index * LEGEND_ROW
        svg.add(
            "rect",
            legend,
            x=LEGEND_X,
            y=top + 4,
            width=12.0,
            height=12.0,
            rx=2.0,
            cls=f"chart-swatch chart-series-{index % SERIES_CLASSES + 1}",
        )
        text = f"{datum.label} · {compact_number(value)}"  # shares are in the table and each slice's title
        svg.add(
            "text",
            legend,
            _truncate(text, DONUT_WIDTH - LEGEND_X - 22),
            x=LEGEND_X + 20,
            y=top + 10,
            dominant_baseline="middle",
            cls="chart-label",
        )
    rows = [Row(d.label, full_number(v), d.href, _share(v, total)) for d, v in zip(data, values, strict=True)]
    return Chart(kind="donut", title=title, svg=svg.markup(), columns=columns, rows=rows, summary=summary)


def _point(angle: float, radius: float) -> str:
    # Angles run clockwise from 12 o'clock.
    return f"{_num(DONUT_CX + radius * math.sin(angle))},{_num(DONUT_CY - radius * math.cos(angle))}"


def _ring_slice(start: float, end: float) -> str:
    """Return the path of the ring between start and end angles (a whole ring when they span 2π)."""
    outer, inner = DONUT_OUTER, DONUT_INNER
    if end - start >= 2 * math.pi - 1e-9:
        # An arc cannot end where it starts: a whole ring is two circles, the hole cut by evenodd.
        return (
            f"M{_point(0, outer)} A{_num(outer)},{_num(outer)} 0 1 1 {_point(math.pi, outer)}"
            f" A{_num(outer)},{_num(outer)} 0 1 1 {_point(0, outer)} Z"
            f" M{_point(0, inner)} A{_num(inner)},{_num(inner)} 0 1 0 {_point(math.pi, inner)}"
            f" A{_num(inner)},{_num(inner)} 0 1 0 {_point(0, inner)} Z"
        )
    large = 1 if end - start > math.pi else 0
    return (
        f"M{_point(start, outer)} A{_num(outer)},{_num(outer)} 0 {large} 1 {_point(end, outer)}"
        f" L{_point(end, inner)} A{_num(inner)},{_num(inner)} 0 {large} 0 {_point(start, inner)} Z"
    )
