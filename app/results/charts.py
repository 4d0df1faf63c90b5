"""Server-rendered SVG charts for results pages and the printable report.

Each chart is a pure function: the caller passes every visible string already translated
and every number formatter (Babel's, for the page's locale), and gets back one inline
``<svg>`` as :class:`markupsafe.Markup` with all inserted text escaped. No JavaScript is
needed and the page's Content-Security-Policy (no ``style=``, no ``<style>``) holds:
everything is drawn with SVG presentation attributes.

Accessibility and print:

* the ``<svg>`` is one image (``role="img"``) named by its ``<title>`` and ``<desc>``
  through ``aria-labelledby``; hidden (suppressed) and flagged rows are appended to the
  description, and the page always shows the same numbers as a table next to the chart;
* colour never carries meaning alone: bars have outlines, categories have hatching,
  series have dash patterns and marker shapes, flags are a drawn symbol, suppressed
  cells a hatched box with a word, so charts read in black and white;
* ``viewBox`` plus ``width="100%"`` scale the chart to any width; the viewBox is narrow
  (400 units) so that 14-16 unit text stays at about 12-14 px on a 390 px phone. Long
  labels wrap onto two lines and are then cut with an ellipsis (the full text is in the
  table and in a ``<title>`` tooltip on the label);
* ``rtl=True`` mirrors the horizontal axis (bars grow leftwards, negative Likert
  categories sit on the right, time runs leftwards) and sets ``direction="rtl"`` so text
  anchors follow the reading direction.

Element classes (``chart-bar``, ``chart-benchmark``, ``chart-dot`` ...) name what each
mark is, for the stylesheet and for tests that read positions back.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

from markupsafe import Markup, escape

__all__ = [
    "BarRow",
    "LikertRow",
    "RatioRow",
    "Series",
    "bar_chart",
    "bar_table_rows",
    "diverging_chart",
    "likert_table_rows",
    "ratio_chart",
    "ratio_table_rows",
    "time_chart",
]

WIDTH = 400.0  # viewBox width: 16 units ~ 14 px on a 390 px phone
PAD = 10.0  # outer margin
FONT = 16.0  # row labels
SMALL = 14.0  # ticks, values, legend
CHAR = 0.6  # generous average glyph advance, in em, for fitting text
LINE = 1.25  # line height, in em
NBSP = "\u00a0"

TEXT = "#1B1B1F"
MUTED = "#4A4A55"
GRID = "#C8C8CF"
WHITE = "#FFFFFF"
BAR_FILL = "#9DC3E6"
BAR_STROKE = "#0B4F8A"
FLAG = "#B00020"
DOT = "#0B4F8A"

# Okabe-Ito tones (contrast with white at least 3:1) and distinct dashes and marks,
# so series stay apart without colour.
SERIES_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#000000", "#8C6D00")
SERIES_DASHES = ("", "8 4", "2 3", "10 3 2 3", "4 4", "1 3")
SERIES_MARKS = ("circle", "square", "triangle", "diamond", "cross", "down")


@dataclass(frozen=True)
class BarRow:
    label: str
    value: float | None  # share 0..1; None = suppressed
    low: float | None = None  # confidence interval
    high: float | None = None
    benchmark: float | None = None  # population share
    flagged: bool = False  # under-represented


@dataclass(frozen=True)
class RatioRow:
    label: str
    ratio: float | None  # sample share / population share; None = suppressed or no benchmark
    flagged: bool = False


@dataclass(frozen=True)
class LikertRow:
    label: str  # the item
    shares: Sequence[float | None]  # one per category, in scale order; None = suppressed
    n: int | None = None


@dataclass(frozen=True)
class Series:
    label: str
    points: Sequence[tuple[date, float]]  # cumulative value per day, ascending dates
    target: float | None = None  # e.g. benchmark-implied count, drawn as a dashed line


# --- public charts ---------------------------------------------------------------------


def bar_chart(
    rows: Sequence[BarRow],
    *,
    title: str,
    description: str,
    value_label: str,
    benchmark_label: str | None,
    hidden_label: str,
    format_value: Callable[[float], str],
    rtl: bool = False,
    interval_label: str = "",
    flagged_label: str = "",
    empty_label: str = "",
    id_prefix: str | None = None,
) -> Markup:
    """Horizontal bars of sample shares with interval whiskers against benchmark shares.

    Each row's label sits on its own line above the bar, so bars get the full width on a
    phone. A suppressed row (``value`` None) gets a hatched box and ``hidden_label``; its
    benchmark, which is public, is still drawn. ``interval_label`` and ``flagged_label``
    (translated) add legend entries for the whiskers and the flag symbol, and flagged rows
    are listed in the description after ``flagged_label``.
    """
    rows = [
        BarRow(r.label, _finite(r.value), _finite(r.low), _finite(r.high),
               _finite(r.benchmark), r.flagged)
        for r in rows
    ]
    hidden = [r.label for r in rows if r.value is None]
    flagged = [r.label for r in rows if r.flagged]
    canvas = _Canvas("bars", title, _describe(description, hidden_label, hidden,
                                              flagged_label, flagged), rtl, id_prefix)
    if not rows:
        return canvas.empty(empty_label)

    has_interval = any(r.value is not None and r.low is not None and r.high is not None
                       for r in rows)
    has_benchmark = any(r.benchmark is not None for r in rows)
    legend: list[tuple[Callable[[float, float], str], str]] = [
        (lambda x, y: canvas.rect(x, x + 16, y - 6, 12, fill=BAR_FILL, stroke=BAR_STROKE),
         value_label)]
    if has_interval and interval_label:
        legend.append((lambda x, y: _whisker(canvas, x + 1, x + 15, y), interval_label))
    if has_benchmark and benchmark_label:
        legend.append((lambda x, y: _benchmark_mark(canvas, x + 8, y - 8, 16),
                       benchmark_label))
    if flagged and flagged_label:
        legend.append((lambda x, y: _flag(canvas, x + 8, y), flagged_label))
    if hidden:
        legend.append((lambda x, y: canvas.rect(x, x + 16, y - 6, 12, hatch=True),
                       hidden_label))
    y = canvas.legend(legend, PAD)

    extent = [v for r in rows for v in (r.value, r.high, r.benchmark) if v is not None]
    top, step = _nice(max(extent, default=0.0))
    ticks = _ticks(0.0, top, step)
    value_room = max((_width(format_value(r.value), SMALL, bold=True) for r in rows
                      if r.value is not None), default=0.0)
    x0 = PAD + max(2.0, _width(format_value(0.0), SMALL) / 2)
    x1 = WIDTH - PAD - max(value_room + 12, _width(format_value(top), SMALL) / 2)

    def scale(v: float) -> float:
        return x0 + (x1 - x0) * max(0.0, min(v, top)) / top

    bar_h = 18.0
    marks: list[str] = []
    bands: list[tuple[float, float]] = []  # the rows' bar areas: grid lines skip the labels
    for index, row in enumerate(rows):
        label_x = x0
        if row.flagged:
            marks.append(_flag(canvas, x0 + 7, y + FONT * 0.6))
            label_x = x0 + 18
        label_lines = _wrap(row.label, (x1 + value_room - label_x) / (FONT * CHAR), 2)
        for line in label_lines:
            y += FONT * LINE
            marks.append(canvas.text(label_x, y - 4, line, size=FONT, halo=True, cls="chart-label",
                                     tooltip=row.label if line != row.label else None))
        y += 4
        bands.append((y - 5, y + bar_h + 5))
        centre = y + bar_h / 2
        if row.value is None:
            marks.append(canvas.rect(x0, x0 + 28, y, bar_h, hatch=True, cls="chart-hidden",
                                     data={"index": index}))
            start, room = x0 + 34, _width(hidden_label, SMALL)
            if row.benchmark is not None:
                # Step the word past the benchmark mark rather than through it, if it fits.
                mark = scale(row.benchmark)
                if start - 6 < mark < start + room + 6 and mark + 9 + room <= WIDTH - PAD:
                    start = mark + 9
            marks.append(canvas.text(start, centre + SMALL * 0.35, hidden_label,
                                     size=SMALL, halo=True, cls="chart-hidden-label"))
        else:
            end = scale(row.value)
            marks.append(canvas.rect(x0, end, y, bar_h, fill=BAR_FILL, stroke=BAR_STROKE,
                                     cls="chart-bar", data={"index": index}))
            furthest = end
            if row.low is not None and row.high is not None:
                low, high = scale(row.low), scale(row.high)
                marks.append(_whisker(canvas, low, high, centre, index=index))
                furthest = max(furthest, high)
            if row.benchmark is not None:
                furthest = max(furthest, scale(row.benchmark) + 5)
            marks.append(canvas.text(furthest + 6, centre + SMALL * 0.35,
                                     format_value(row.value), size=SMALL, weight="bold",
                                     cls="chart-value"))
        if row.benchmark is not None:
            marks.append(_benchmark_mark(canvas, scale(row.benchmark), y - 4, bar_h + 8,
                                         index=index))
        y += bar_h + 10
    body_bottom = y - 4
    parts = [_grid(canvas, ticks, scale, bands)]
    parts += [canvas.line(x0, top, x0, bottom, stroke=TEXT, width=1.5, cls="chart-axis")
              for top, bottom in bands]
    parts += marks
    y = body_bottom + SMALL + 4
    parts.append(_tick_labels(canvas, [(scale(t), format_value(t)) for t in ticks], y))
    canvas.parts += parts
    return canvas.finish(y + PAD)


def ratio_chart(
    rows: Sequence[RatioRow],
    *,
    title: str,
    description: str,
    threshold: float,
    parity_label: str,
    threshold_label: str,
    hidden_label: str,
    format_ratio: Callable[[float], str],
    rtl: bool = False,
    flagged_label: str = "",
    empty_label: str = "",
    id_prefix: str | None = None,
) -> Markup:
    """Representation ratios as a dot plot on a log scale, with lines at parity and threshold.

    A log scale makes half and double equally far from parity. The axis runs over whole
    powers of two from at most 0.5 to at least 2; ratios beyond 1/16 or 16 (and zero) are
    drawn at the edge with their true value written beside them. Flagged rows get a
    downward triangle instead of a circle and the flag symbol before their label.
    """
    rows = [RatioRow(r.label, _finite(r.ratio), r.flagged) for r in rows]
    hidden = [r.label for r in rows if r.ratio is None]
    flagged = [r.label for r in rows if r.flagged]
    canvas = _Canvas("ratios", title, _describe(description, hidden_label, hidden,
                                                flagged_label, flagged), rtl, id_prefix)
    if not rows:
        return canvas.empty(empty_label)

    positive = [r.ratio for r in rows if r.ratio is not None and r.ratio > 0]
    threshold = threshold if math.isfinite(threshold) and threshold > 0 else 1.0
    low_exp = max(-4, min(-1, *(math.floor(math.log2(v)) for v in positive),
                          math.floor(math.log2(threshold))))
    high_exp = min(4, max(1, *(math.ceil(math.log2(v)) for v in positive),
                          math.ceil(math.log2(threshold))))
    ticks = [2.0**e for e in range(low_exp, high_exp + 1)]
    tick_room = max(_width(format_ratio(t), SMALL) for t in ticks) / 2
    x0 = PAD + tick_room
    x1 = WIDTH - PAD - tick_room

    def scale(v: float) -> float:
        exponent = math.log2(v) if v > 0 else low_exp
        exponent = min(max(exponent, low_exp), high_exp)
        return x0 + (x1 - x0) * (exponent - low_exp) / (high_exp - low_exp)

    legend: list[tuple[Callable[[float, float], str], str]] = []
    if flagged and flagged_label:
        legend.append((lambda x, y: _flag(canvas, x + 8, y), flagged_label))
    if hidden:
        legend.append((lambda x, y: canvas.rect(x, x + 16, y - 6, 12, hatch=True),
                       hidden_label))
    y = canvas.legend(legend, PAD) if legend else PAD

    # The two reference lines are named on their own lines above the plot, each label
    # running away from the other line so they never collide.
    parity_x, threshold_x = scale(1.0), scale(threshold)
    head: list[str] = []
    line_tops = {}
    for key, x, label, away in (
        ("parity", parity_x, parity_label, "start" if threshold <= 1 else "end"),
        ("threshold", threshold_x, threshold_label, "end" if threshold <= 1 else "start"),
    ):
        if key == "threshold" and threshold == 1.0:
            continue
        y += SMALL * LINE
        text = _truncate(label, (x - PAD if away == "end" else WIDTH - PAD - x)
                         / (SMALL * CHAR) - 1)
        head.append(canvas.text(x + (4 if away == "start" else -4), y, text, size=SMALL,
                                anchor=away, cls=f"chart-{key}-label",
                                tooltip=label if text != label else None))
        line_tops[key] = y - SMALL * 0.9
    y += 6
    marks: list[str] = []
    bands: list[tuple[float, float]] = []
    for index, row in enumerate(rows):
        label_x = x0 - tick_room + 2
        if row.flagged:
            marks.append(_flag(canvas, label_x + 7, y + FONT * 0.6))
            label_x += 18
        for line in _wrap(row.label, (WIDTH - PAD - label_x) / (FONT * CHAR), 2):
            y += FONT * LINE
            marks.append(canvas.text(label_x, y - 4, line, size=FONT, halo=True, cls="chart-label",
                                     tooltip=row.label if line != row.label else None))
        centre = y + 11
        bands.append((centre - 11, centre + 11))
        if row.ratio is None:
            marks.append(canvas.rect(x0, x0 + 28, centre - 8, 16, hatch=True,
                                     cls="chart-hidden", data={"index": index}))
            marks.append(canvas.text(x0 + 34, centre + SMALL * 0.35, hidden_label,
                                     size=SMALL, halo=True, cls="chart-hidden-label"))
        else:
            x = scale(row.ratio)
            marks.append(canvas.line(parity_x, centre, x, centre, stroke=MUTED, width=2,
                                     cls="chart-stem"))
            if row.flagged:
                mark = _mark("down", 7.5, fill=FLAG, stroke=TEXT)
            else:
                mark = _mark("circle", 6, fill=DOT, stroke=TEXT)
            marks.append(canvas.place(x, centre, mark, cls="chart-dot",
                                      data={"index": index, "ratio": f"{row.ratio:g}"}))
            text = format_ratio(row.ratio)
            # Write the value on the far side of the dot from parity, unless that runs off.
            outward = "end" if row.ratio < 1 else "start"
            if outward == "end" and x - 10 - _width(text, SMALL, bold=True) < PAD:
                outward = "start"
            if outward == "start" and x + 10 + _width(text, SMALL, bold=True) > WIDTH - PAD:
                outward = "end"
            marks.append(canvas.text(x + (10 if outward == "start" else -10),
                                     centre + SMALL * 0.35, text, size=SMALL, weight="bold",
                                     anchor=outward, halo=True, cls="chart-value"))
        y = centre + 14
    body_bottom = y
    parts = [*head, _grid(canvas, ticks, scale, bands)]
    parts.append(canvas.line(parity_x, line_tops["parity"], parity_x, body_bottom,
                             stroke=TEXT, width=2, cls="chart-parity"))
    if "threshold" in line_tops:
        parts.append(canvas.line(threshold_x, line_tops["threshold"], threshold_x,
                                 body_bottom, stroke=TEXT, width=2, dash="6 4",
                                 cls="chart-threshold"))
    parts += marks
    y = body_bottom + SMALL + 4
    parts.append(_tick_labels(canvas, [(scale(t), format_ratio(t)) for t in ticks], y,
                              keep=ticks.index(1.0)))
    canvas.parts += parts
    return canvas.finish(y + PAD)


def diverging_chart(
    rows: Sequence[LikertRow],
    *,
    title: str,
    description: str,
    categories: Sequence[str],
    neutral: int | None,
    hidden_label: str,
    format_value: Callable[[float], str],
    rtl: bool = False,
    format_n: Callable[[int], str] | None = None,
    empty_label: str = "",
    id_prefix: str | None = None,
) -> Markup:
    """Likert answers as diverging stacked bars centred on the neutral category.

    Categories before ``neutral`` extend to the left (to the right when ``rtl``), those
    after it to the other side, and the neutral one straddles the centre line. Without a
    neutral category the centre falls between the two middle categories. Categories are
    told apart by lightness and by hatching direction as well as by colour, and the
    legend shows each pattern. A suppressed share (None) is left out of its bar and the
    row gets a hatched marker; the description names the hidden cells. ``format_n``,
    when given, formats each row's ``n`` shown after its label (e.g. "n = 1,204").
    """
    count = len(categories)
    if neutral is not None and not 0 <= neutral < count:
        raise ValueError("neutral must index one of the categories")
    rows = [LikertRow(r.label, [_finite(s) for s in r.shares], r.n) for r in rows]
    for row in rows:
        if len(row.shares) != count:
            raise ValueError(f"{row.label!r} has {len(row.shares)} shares for {count} categories")
    hidden = []
    for row in rows:
        gaps = [categories[j] for j, share in enumerate(row.shares) if share is None]
        if gaps:
            hidden.append(row.label if len(gaps) == count
                          else f"{row.label} ({', '.join(gaps)})")
    canvas = _Canvas("likert", title, _describe(description, hidden_label, hidden, "", []),
                     rtl, id_prefix)
    if not rows or not count:
        return canvas.empty(empty_label)

    styles = _likert_styles(count, neutral)
    for j, style in enumerate(styles):
        if style.pattern:
            canvas.pattern(f"cat{j}", style.fill, style.pattern, light_ink=style.dark)
    legend = [
        (lambda x, y, j=j: canvas.rect(x, x + 16, y - 7, 14, fill=canvas.paint(styles[j], j),
                                       stroke=TEXT, stroke_width=0.75), name)
        for j, name in enumerate(categories)
    ]
    if hidden:
        legend.append((lambda x, y: canvas.rect(x, x + 16, y - 6, 12, hatch=True),
                       hidden_label))
    y = canvas.legend(legend, PAD)

    middle = _middle(count, neutral)
    negative = range(middle if middle is not None else count // 2)
    positive = range(middle + 1 if middle is not None else count // 2, count)

    def sides(shares: Sequence[float | None]) -> tuple[float, float]:
        half = (shares[middle] or 0.0) / 2 if middle is not None else 0.0
        left = sum(shares[j] or 0.0 for j in negative) + half
        right = sum(shares[j] or 0.0 for j in positive) + half
        return left, right

    reach, step = _nice(max((max(sides(r.shares)) for r in rows), default=0.0))
    edge = max(4.0, _width(format_value(reach), SMALL) / 2)
    x0, x1 = PAD + edge, WIDTH - PAD - edge
    centre_x = (x0 + x1) / 2

    def scale(v: float) -> float:
        return centre_x + (x1 - centre_x) * max(-reach, min(v, reach)) / reach

    bar_h = 22.0
    marks: list[str] = []
    values: list[str] = []  # segment numbers, drawn over the centre line
    bands: list[tuple[float, float]] = []
    for index, row in enumerate(rows):
        label = row.label
        if format_n is not None and row.n is not None:
            # No break inside "n = 1,204": spaces in it become no-break spaces.
            label = f"{label} ({format_n(row.n).replace(' ', NBSP)})"
        lines = _wrap(label, (WIDTH - 2 * PAD) / (FONT * CHAR), 2)
        for line in lines:
            y += FONT * LINE
            marks.append(canvas.text(PAD, y - 4, line, size=FONT, halo=True, cls="chart-label",
                                     tooltip=label if line != label else None))
        y += 4
        bands.append((y - 5, y + bar_h + 5))
        left, _ = sides(row.shares)
        start = -left
        # Scale order from the far negative end to the far positive end: one running edge.
        for j in range(count):
            share = row.shares[j]
            if share is None:
                continue
            a, b = scale(start), scale(start + share)
            start += share
            if b - a <= 0:
                continue
            style = styles[j]
            marks.append(canvas.rect(a, b, y, bar_h, fill=canvas.paint(style, j), stroke=TEXT,
                                     stroke_width=0.75, cls="chart-segment",
                                     data={"index": index, "category": j}))
            text = format_value(share)
            if _width(text, SMALL, bold=True) + 6 <= b - a:
                values.append(canvas.text((a + b) / 2, y + bar_h / 2 + SMALL * 0.35, text,
                                         size=SMALL, anchor="middle", weight="bold",
                                         fill=WHITE if style.dark else TEXT, halo=True,
                                         halo_colour=TEXT if style.dark else WHITE,
                                         cls="chart-value"))
        gaps = [categories[j] for j, share in enumerate(row.shares) if share is None]
        if gaps:
            # Under the bar: which categories are missing from it.
            y += bar_h + 7
            marks.append(canvas.rect(PAD, PAD + 16, y, 12, hatch=True, cls="chart-hidden",
                                     data={"index": index}))
            note = f"{hidden_label}: {', '.join(gaps)}"
            shown = _truncate(note, (WIDTH - 2 * PAD - 22) / (SMALL * CHAR))
            marks.append(canvas.text(PAD + 22, y + 11, shown, size=SMALL,
                                     cls="chart-hidden-label",
                                     tooltip=note if shown != note else None))
            y += 15 - bar_h
        y += bar_h + 10
    body_bottom = y - 4
    ticks = _ticks(-reach, reach, step)
    parts = [_grid(canvas, ticks, scale, bands), *marks]
    # The centre line goes over the segments, across each bar only.
    parts += [canvas.line(centre_x, top, centre_x, bottom, stroke=TEXT, width=2,
                          cls="chart-centre") for top, bottom in bands]
    parts += values
    y = body_bottom + SMALL + 4
    parts.append(_tick_labels(canvas, [(scale(t), format_value(abs(t))) for t in ticks], y,
                              keep=len(ticks) // 2))
    canvas.parts += parts
    return canvas.finish(y + PAD)


def time_chart(
    series: Sequence[Series],
    *,
    title: str,
    description: str,
    y_label: str,
    format_date: Callable[[date], str],
    format_number: Callable[[float], str],
    rtl: bool = False,
    target_label: str = "",
    empty_label: str = "",
    id_prefix: str | None = None,
) -> Markup:
    """Cumulative participation over time, one line per series, labelled at its end.

    Series differ by colour, dash pattern and marker shape; a legend below repeats them
    with full labels (end labels are cut to fit). A series' ``target`` is a thin dashed
    line in its colour with its number written at the start of the plot; ``target_label``
    (translated) adds a legend entry explaining those lines.
    """
    series = [s for s in series if s.points]
    canvas = _Canvas("time", title, description, rtl, id_prefix)
    if not series:
        return canvas.empty(empty_label)

    dates = [d for s in series for d, _ in s.points]
    first, last = min(dates), max(dates)
    span = max((last - first).days, 1)
    values = [v for s in series for _, v in s.points if math.isfinite(v)]
    values += [s.target for s in series if s.target is not None and math.isfinite(s.target)]
    top, step = _nice(max(values, default=0.0))
    y_ticks = _ticks(0.0, top, step)

    y_label_lines = _wrap(y_label, (WIDTH - 2 * PAD) / (SMALL * CHAR), 2) if y_label else []
    tick_room = max(_width(format_number(t), SMALL) for t in y_ticks)
    end_labels = [_truncate(s.label, 110 / (SMALL * CHAR * 1.12)) for s in series]
    end_room = max(_width(text, SMALL, bold=True) for text in end_labels)
    x0 = PAD + tick_room + 6
    x1 = WIDTH - PAD - end_room - 8
    plot_top = PAD + len(y_label_lines) * SMALL * LINE + 12
    plot_bottom = plot_top + 200

    def sx(d: date) -> float:
        return x0 + (x1 - x0) * (d - first).days / span

    def sy(v: float) -> float:
        return plot_bottom - (plot_bottom - plot_top) * max(0.0, min(v, top)) / top

    parts: list[str] = []
    y = PAD
    for line in y_label_lines:
        y += SMALL * LINE
        parts.append(canvas.text(PAD, y - 3, line, size=SMALL, weight="bold",
                                 cls="chart-axis-label"))
    for t in y_ticks:
        parts.append(canvas.line(x0, sy(t), x1, sy(t), stroke=GRID, width=1, cls="chart-grid"))
        parts.append(canvas.text(x0 - 6, sy(t) + SMALL * 0.35, format_number(t), size=SMALL,
                                 anchor="end", fill=MUTED, cls="chart-tick"))
    parts.append(canvas.line(x0, plot_bottom, x1, plot_bottom, stroke=TEXT, width=1.5,
                             cls="chart-axis"))
    parts.append(canvas.line(x0, plot_top, x0, plot_bottom, stroke=TEXT, width=1.5,
                             cls="chart-axis"))

    # Dates on the axis: as many as fit side by side, spread evenly over the period.
    date_width = max(_width(format_date(d), SMALL) for d in (first, last)) + 12
    fits = max(2, min(6, int((x1 - x0 + date_width) / date_width)))
    count = min(fits, span + 1)
    tick_dates = sorted({first + timedelta(days=round(span * i / (count - 1)))
                         for i in range(count)} if count > 1 else {first})
    for d in tick_dates:
        parts.append(canvas.line(sx(d), plot_bottom, sx(d), plot_bottom + 5, stroke=TEXT,
                                 width=1.5, cls="chart-tick-mark"))
        text = format_date(d)
        half = _width(text, SMALL) / 2
        # Centred under its tick, unless that would run out of the chart.
        x, anchor = sx(d), "middle"
        if x - half < PAD:
            x, anchor = PAD, "start"
        elif x + half > WIDTH - PAD:
            x, anchor = WIDTH - PAD, "end"
        parts.append(canvas.text(x, plot_bottom + SMALL + 6, text, size=SMALL, anchor=anchor,
                                 fill=MUTED, cls="chart-tick"))

    ends: list[tuple[float, int]] = []
    last_points: dict[int, tuple[float, float]] = {}
    for index, s in enumerate(series):
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        dash = SERIES_DASHES[index % len(SERIES_DASHES)]
        if s.target is not None and math.isfinite(s.target):
            ty = sy(s.target)
            parts.append(canvas.line(x0, ty, x1, ty, stroke=colour, width=1.5, dash="3 3",
                                     cls="chart-target", data={"index": index}))
            # The series' marker before the number says whose target it is without colour.
            parts.append(canvas.place(x0 + 9, ty - 9, _series_mark(index),
                                      cls="chart-target-mark"))
            parts.append(canvas.text(x0 + 18, ty - 4, format_number(s.target), size=SMALL,
                                     fill=TEXT, halo=True, cls="chart-target-label"))
        points = [(sx(d), sy(v)) for d, v in s.points if math.isfinite(v)]
        if not points:
            continue
        coords = " ".join(f"{_n(canvas.x(x))},{_n(y)}" for x, y in points)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<polyline points="{coords}" fill="none" stroke="{colour}"'
                     f' stroke-width="2.5" stroke-linejoin="round"{dash_attr}'
                     f' class="chart-line" data-index="{index}"/>')
        every = max(1, math.ceil(len(points) / 10))
        chosen = [p for i, p in enumerate(points) if i % every == 0 or i == len(points) - 1]
        mark = _series_mark(index)
        parts += [canvas.place(x, y, mark, cls="chart-marker", data={"index": index})
                  for x, y in chosen]
        ends.append((points[-1][1], index))
        last_points[index] = points[-1]

    # End labels: top to bottom, pushed apart so that none overlap, kept inside the plot.
    placed: list[tuple[float, int]] = []
    gap = SMALL * 1.15
    for end_y, index in sorted(ends):
        label_y = end_y + SMALL * 0.35
        if placed and label_y < placed[-1][0] + gap:
            label_y = placed[-1][0] + gap
        placed.append((label_y, index))
    overflow = placed[-1][0] - (plot_bottom + SMALL * 0.35) if placed else 0
    if overflow > 0:
        placed = [(y - overflow, i) for y, i in placed]
        for k in range(len(placed) - 2, -1, -1):
            if placed[k][0] > placed[k + 1][0] - gap:
                placed[k] = (placed[k + 1][0] - gap, placed[k][1])
    for label_y, index in placed:
        s = series[index]
        end_x, end_y = last_points[index]
        if end_x < x1 - 1:
            # A series that stopped early: a dotted leader to its label beside the plot.
            parts.append(canvas.line(end_x + 6, end_y, x1 + 4, label_y - SMALL * 0.35,
                                     stroke=SERIES_COLOURS[index % len(SERIES_COLOURS)],
                                     width=1.25, dash="1 3", cls="chart-leader"))
        parts.append(canvas.text(x1 + 8, label_y, end_labels[index], size=SMALL,
                                 weight="bold", fill=TEXT, halo=True, cls="chart-end-label",
                                 tooltip=s.label if end_labels[index] != s.label else None))

    legend = [
        (lambda x, y, i=i: _series_sample(canvas, i, x, y), s.label)
        for i, s in enumerate(series)
    ]
    if target_label and any(s.target is not None for s in series):
        legend.append((lambda x, y: canvas.line(x, y, x + 28, y, stroke=TEXT, width=1.5,
                                                dash="3 3"), target_label))
    canvas.parts += parts
    y = canvas.legend(legend, plot_bottom + SMALL + 18, sample=28)
    return canvas.finish(y + PAD)


# --- table helpers ---------------------------------------------------------------------


def bar_table_rows(
    rows: Sequence[BarRow], *, format_value: Callable[[float], str], hidden_label: str,
    missing: str = "\u2013",
) -> list[tuple[str, str, str, str]]:
    """(label, value, interval, benchmark) text for the table shown next to a bar chart."""
    def text(value: float | None) -> str:
        return missing if _finite(value) is None else format_value(value)

    out = []
    for row in rows:
        if _finite(row.value) is None:
            out.append((row.label, hidden_label, missing, text(row.benchmark)))
            continue
        interval = missing
        if _finite(row.low) is not None and _finite(row.high) is not None:
            interval = f"{format_value(row.low)} \u2013 {format_value(row.high)}"
        out.append((row.label, format_value(row.value), interval, text(row.benchmark)))
    return out


def ratio_table_rows(
    rows: Sequence[RatioRow], *, format_ratio: Callable[[float], str], hidden_label: str,
) -> list[tuple[str, str, bool]]:
    """(label, ratio, flagged) for the table shown next to a ratio chart."""
    return [(r.label, hidden_label if _finite(r.ratio) is None else format_ratio(r.ratio),
             r.flagged) for r in rows]


def likert_table_rows(
    rows: Sequence[LikertRow], *, format_value: Callable[[float], str], hidden_label: str,
) -> list[tuple[str, list[str]]]:
    """(item, one text per category) for the table shown next to a diverging chart."""
    return [(r.label, [hidden_label if _finite(s) is None else format_value(s)
                       for s in r.shares]) for r in rows]


# --- drawing ---------------------------------------------------------------------------


class _Canvas:
    """Collects SVG parts in logical coordinates; mirrors x when drawing right to left."""

    def __init__(self, kind: str, title: str, description: str, rtl: bool,
                 id_prefix: str | None) -> None:
        self.kind = kind
        self.title = title
        self.description = description
        self.rtl = rtl
        if id_prefix is None:
            digest = hashlib.sha1(f"{kind}\0{title}\0{description}".encode()).hexdigest()
            id_prefix = f"chart-{digest[:10]}"
        self.prefix = id_prefix
        self.defs: list[str] = []
        self.parts: list[str] = []
        self._patterns: set[str] = set()

    def x(self, value: float) -> float:
        return WIDTH - value if self.rtl else value

    def id(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    def pattern(self, name: str, fill: str, kind: str, *, light_ink: bool = False) -> str:
        """Define (once) a pattern: ``lines``/``back`` diagonals, ``dots``, or ``hatch``.

        Lines are black on light tones and white on dark ones (``light_ink``)."""
        if name not in self._patterns:
            self._patterns.add(name)
            ink = MUTED if kind == "hatch" else WHITE if light_ink else "#000000"
            opacity = 1 if kind == "hatch" else 0.7 if light_ink else 0.5
            if kind == "dots":
                body = f'<circle cx="3" cy="3" r="1.3" fill="{ink}" fill-opacity="{opacity}"/>'
            else:
                body = (f'<path d="M-1 1l2-2M0 6l6-6M5 7l2-2" stroke="{ink}" stroke-width="1.4"'
                        f' stroke-opacity="{opacity}"/>')
            # "back" leans the other way: mirrored with the pattern transform.
            transform = ' patternTransform="scale(-1 1)"' if kind == "back" else ""
            self.defs.append(
                f'<pattern id="{escape(self.id(name))}" width="6" height="6"'
                f' patternUnits="userSpaceOnUse"{transform}>'
                f'<rect width="6" height="6" fill="{fill}"/>{body}</pattern>')
        return f"url(#{self.id(name)})"

    def paint(self, style: _Style, index: int) -> str:
        return f"url(#{self.id(f'cat{index}')})" if style.pattern else style.fill

    def rect(self, a: float, b: float, y: float, height: float, *, fill: str = "none",
             stroke: str | None = None, stroke_width: float = 1.25, hatch: bool = False,
             cls: str | None = None, data: dict[str, object] | None = None) -> str:
        if hatch:
            fill = self.pattern("hatch", WHITE, "hatch")
            stroke = stroke or MUTED
        left = min(self.x(a), self.x(b))
        attrs = (f'x="{_n(left)}" y="{_n(y)}" width="{_n(abs(b - a))}" height="{_n(height)}"'
                 f' fill="{escape(fill)}"')
        if stroke:
            attrs += f' stroke="{stroke}" stroke-width="{_n(stroke_width)}"'
        return f"<rect {attrs}{_extra(cls, data)}/>"

    def line(self, xa: float, ya: float, xb: float, yb: float, *, stroke: str, width: float,
             dash: str = "", cls: str | None = None,
             data: dict[str, object] | None = None) -> str:
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        return (f'<line x1="{_n(self.x(xa))}" y1="{_n(ya)}" x2="{_n(self.x(xb))}" y2="{_n(yb)}"'
                f' stroke="{stroke}" stroke-width="{_n(width)}"{dash_attr}{_extra(cls, data)}/>')

    def text(self, x: float, y: float, content: str, *, size: float = SMALL,
             anchor: str = "start", weight: str | None = None, fill: str = TEXT,
             halo: bool = False, halo_colour: str = WHITE, cls: str | None = None,
             tooltip: str | None = None) -> str:
        """Text at a logical position; ``anchor`` is logical too (``direction`` flips it)."""
        attrs = f'x="{_n(self.x(x))}" y="{_n(y)}" font-size="{_n(size)}" fill="{fill}"'
        if anchor != "start":
            attrs += f' text-anchor="{anchor}"'
        if weight:
            attrs += f' font-weight="{weight}"'
        if halo:
            attrs += (f' stroke="{halo_colour}" stroke-width="3.5" stroke-linejoin="round"'
                      ' paint-order="stroke"')
        inner = escape(content)
        if tooltip:
            inner = Markup("<title>{}</title>{}").format(tooltip, content)
        return f"<text {attrs}{_extra(cls, None)}>{inner}</text>"

    def place(self, x: float, y: float, mark: str, *, cls: str,
              data: dict[str, object] | None = None) -> str:
        return (f'<g transform="translate({_n(self.x(x))} {_n(y)})"{_extra(cls, data)}>'
                f"{mark}</g>")

    def legend(self, items: Sequence[tuple[Callable[[float, float], str], str]], top: float,
               *, sample: float = 16) -> float:
        """Lay legend entries out in reading order, wrapping; returns the y below them."""
        if not items:
            return top
        row_h = SMALL * 1.6
        x, y = PAD, top + row_h / 2
        limit = WIDTH - PAD
        for draw, label in items:
            text = _truncate(label, (limit - PAD - sample - 6) / (SMALL * CHAR))
            need = sample + 6 + _width(text, SMALL)
            if x > PAD and x + need > limit:
                x, y = PAD, y + row_h
            self.parts.append(f'<g class="chart-legend-item">{draw(x, y)}'
                              + self.text(x + sample + 6, y + SMALL * 0.35, text, size=SMALL,
                                          tooltip=label if text != label else None)
                              + "</g>")
            x += need + 14
        return y + row_h / 2 + 2

    def empty(self, label: str) -> Markup:
        self.parts.append(self.text(WIDTH / 2, 44, label, size=FONT, anchor="middle",
                                    fill=MUTED, cls="chart-empty"))
        return self.finish(72)

    def finish(self, height: float) -> Markup:
        title_id, desc_id = self.id("title"), self.id("desc")
        direction = "rtl" if self.rtl else "ltr"
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_n(WIDTH)} {_n(height)}"'
            f' width="100%" preserveAspectRatio="xMidYMid meet" role="img"'
            f' aria-labelledby="{escape(title_id)} {escape(desc_id)}"'
            f' class="chart-svg chart-{self.kind}" direction="{direction}">'
            f'<title id="{escape(title_id)}">{escape(self.title)}</title>'
            f'<desc id="{escape(desc_id)}">{escape(self.description)}</desc>'
        )
        defs = f"<defs>{''.join(self.defs)}</defs>" if self.defs else ""
        return Markup(head + defs + "".join(self.parts) + "</svg>")


@dataclass(frozen=True)
class _Style:
    fill: str
    pattern: str  # "" (solid), "lines", "back", "dots"
    dark: bool  # white text reads on it


NEGATIVE = ("#F7BC8A", "#E07B39", "#B34A0A", "#7F2704")  # near .. far from the centre
POSITIVE = ("#B5D4EC", "#6BA3D1", "#2F6EAD", "#08306B")  # near .. far; 2 and 3 take white text
NEUTRAL = "#D4D4D8"


def _likert_styles(count: int, neutral: int | None) -> list[_Style]:
    """One style per category: darker further from the centre, hatching leaning by side."""
    middle = _middle(count, neutral)
    below = middle if middle is not None else count // 2
    above = count - below - (middle is not None)
    styles: list[_Style] = []
    for j in range(count):
        if j == middle:
            styles.append(_Style(NEUTRAL, "dots", False))
        elif j < below:
            distance = below - j  # 1 = next to the centre
            styles.append(_side_style(NEGATIVE, distance, below, "back", solid_end=False))
        else:
            distance = j - (count - above) + 1
            styles.append(_side_style(POSITIVE, distance, above, "lines", solid_end=True))
    return styles


def _middle(count: int, neutral: int | None) -> int | None:
    """The category that straddles the centre: the neutral one, else the middle of an odd scale."""
    if neutral is not None:
        return neutral
    return count // 2 if count % 2 else None


def _side_style(near_to_far: Sequence[str], distance: int, total: int, lean: str, *,
                solid_end: bool) -> _Style:
    """Pick a tone by relative distance from the centre: darker further out.

    Only one side's farthest category is solid, so the two extremes still differ in
    black and white (the other keeps its hatching, in white lines on the dark tone)."""
    last = len(near_to_far) - 1
    position = last if total <= 1 else round((distance - 1) * last / (total - 1))
    solid = solid_end and position == last
    return _Style(near_to_far[position], "" if solid else lean, position >= 2)


def _grid(canvas: _Canvas, ticks: Sequence[float], scale: Callable[[float], float],
          bands: Sequence[tuple[float, float]]) -> str:
    """Vertical grid lines across each row's marks, leaving the label lines clear."""
    lines = "".join(canvas.line(scale(t), top, scale(t), bottom, stroke=GRID, width=1)
                    for t in ticks for top, bottom in bands)
    return f'<g class="chart-grid">{lines}</g>'


def _tick_labels(canvas: _Canvas, ticks: Sequence[tuple[float, str]], y: float, *,
                 keep: int = 0) -> str:
    """Axis numbers: every k-th one (counting from tick ``keep``) for the smallest k at which
    none overlap; the outermost are anchored inwards when they would leave the chart."""
    def fits(chosen: list[tuple[float, str]]) -> bool:
        return all(b[0] - a[0] >= (_width(a[1], SMALL) + _width(b[1], SMALL)) / 2 + 6
                   for a, b in pairwise(chosen))

    chosen = list(ticks)
    for stride in range(1, len(ticks) + 1):
        chosen = [tick for i, tick in enumerate(ticks) if (i - keep) % stride == 0]
        if fits(chosen):
            break
    out = []
    for x, text in chosen:
        half = _width(text, SMALL) / 2
        anchor = "middle"
        if x - half < PAD:
            x, anchor = PAD, "start"
        elif x + half > WIDTH - PAD:
            x, anchor = WIDTH - PAD, "end"
        out.append(canvas.text(x, y, text, size=SMALL, anchor=anchor, fill=MUTED,
                               cls="chart-tick"))
    return "".join(out)


def _whisker(canvas: _Canvas, a: float, b: float, y: float, *, index: int | None = None) -> str:
    """Interval line with end caps; ``index`` names the row (none for the legend sample)."""
    cls, data = ("chart-interval", {"index": index}) if index is not None else (None, None)
    return (canvas.line(a, y, b, y, stroke=TEXT, width=2, cls=cls, data=data)
            + canvas.line(a, y - 5, a, y + 5, stroke=TEXT, width=2)
            + canvas.line(b, y - 5, b, y + 5, stroke=TEXT, width=2))


def _benchmark_mark(canvas: _Canvas, x: float, top: float, height: float, *,
                    index: int | None = None) -> str:
    """A heavy black tick across the bar, capped with a small diamond above it."""
    cls, data = ("chart-benchmark", {"index": index}) if index is not None else (None, None)
    return (canvas.line(x, top, x, top + height, stroke=WHITE, width=6)
            + canvas.line(x, top, x, top + height, stroke=TEXT, width=3, cls=cls, data=data)
            + canvas.place(x, top, _mark("diamond", 4.5, fill=TEXT, stroke=WHITE),
                           cls="chart-benchmark-cap"))


def _flag(canvas: _Canvas, x: float, y: float) -> str:
    """Under-representation symbol: a downward triangle with an exclamation mark."""
    return canvas.place(x, y, '<path d="M-7 -6H7L0 7Z" fill="#B00020" stroke="#1B1B1F"'
                        ' stroke-width="1"/><path d="M0 -3.5V1.5M0 3.2V4" stroke="#FFFFFF"'
                        ' stroke-width="1.8"/>', cls="chart-flag")


def _series_mark(index: int) -> str:
    colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
    shape = SERIES_MARKS[index % len(SERIES_MARKS)]
    return _mark(shape, 4.5, fill=colour, stroke=colour if shape == "cross" else WHITE)


def _series_sample(canvas: _Canvas, index: int, x: float, y: float) -> str:
    colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
    dash = SERIES_DASHES[index % len(SERIES_DASHES)]
    return (canvas.line(x, y, x + 28, y, stroke=colour, width=2.5, dash=dash)
            + canvas.place(x + 14, y, _series_mark(index), cls="chart-legend-mark"))


def _mark(shape: str, size: float, *, fill: str, stroke: str) -> str:
    """A marker centred on the origin (placed with a translate)."""
    s = size
    if shape == "circle":
        return f'<circle r="{_n(s)}" fill="{fill}" stroke="{stroke}" stroke-width="1.5"/>'
    if shape == "square":
        return (f'<rect x="{_n(-s * 0.85)}" y="{_n(-s * 0.85)}" width="{_n(s * 1.7)}"'
                f' height="{_n(s * 1.7)}" fill="{fill}" stroke="{stroke}" stroke-width="1.5"/>')
    if shape == "cross":
        return (f'<path d="M{_n(-s)} {_n(-s)}L{_n(s)} {_n(s)}M{_n(-s)} {_n(s)}L{_n(s)} {_n(-s)}"'
                f' stroke="{stroke}" stroke-width="2.5"/>')
    paths = {
        "triangle": f"M0 {_n(-s * 1.15)}L{_n(s)} {_n(s * 0.75)}H{_n(-s)}Z",
        "down": f"M0 {_n(s * 1.15)}L{_n(s)} {_n(-s * 0.75)}H{_n(-s)}Z",
        "diamond": f"M0 {_n(-s * 1.2)}L{_n(s)} 0L0 {_n(s * 1.2)}L{_n(-s)} 0Z",
    }
    return (f'<path d="{paths[shape]}" fill="{fill}" stroke="{stroke}" stroke-width="1.5"'
            ' stroke-linejoin="round"/>')


# --- text and numbers ------------------------------------------------------------------


def _describe(description: str, hidden_label: str, hidden: Sequence[str],
              flagged_label: str, flagged: Sequence[str]) -> str:
    """The caller's description, plus which rows are hidden and which flagged."""
    text = description.strip()
    for label, names in ((hidden_label, hidden), (flagged_label, flagged)):
        if label and names:
            text = f"{text} {label}: {', '.join(names)}.".strip()
    return text


def _width(text: str, size: float, *, bold: bool = False) -> float:
    """Rough rendered width: the layout leaves room by this, and cuts text to it."""
    return len(text) * size * CHAR * (1.12 if bold else 1.0)


def _truncate(text: str, max_chars: float) -> str:
    limit = max(int(max_chars), 2)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _wrap(text: str, max_chars: float, max_lines: int) -> list[str]:
    """Break at spaces into at most ``max_lines`` lines; cut the last one with an ellipsis."""
    limit = max(int(max_chars), 4)
    words = [word for word in text.split(" ") if word]
    lines: list[str] = []
    current = ""
    for position, word in enumerate(words):
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= limit or not current:
            current = candidate
            continue
        if len(lines) == max_lines - 1:
            current = " ".join([current, *words[position:]])
            break
        lines.append(current)
        current = word
    lines.append(current)
    return [_truncate(line, limit) for line in lines if line] or [""]


def _nice(maximum: float) -> tuple[float, float]:
    """A round axis end at or above ``maximum`` and a step giving at most five intervals."""
    if not maximum > 0 or not math.isfinite(maximum):
        maximum = 1.0
    magnitude = 10 ** math.floor(math.log10(maximum / 5))
    for factor in (1, 2, 2.5, 5, 10, 20, 25, 50):
        step = factor * magnitude
        if maximum / step <= 5 + 1e-9:
            break
    top = step * math.ceil(maximum / step - 1e-9)
    return top, step


def _ticks(low: float, high: float, step: float) -> list[float]:
    count = round((high - low) / step)
    return [round(low + i * step, 10) for i in range(count + 1)]


def _finite(value: float | None) -> float | None:
    """Numbers that cannot be drawn (NaN, infinity) are treated as absent."""
    return value if value is not None and math.isfinite(value) else None


def _extra(cls: str | None, data: dict[str, object] | None) -> str:
    out = f' class="{escape(cls)}"' if cls else ""
    for key, value in (data or {}).items():
        out += f' data-{key}="{escape(str(value))}"'
    return out


def _n(value: float) -> str:
    """Short coordinate text: two decimals at most, no "-0"."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
