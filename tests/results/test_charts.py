"""Result charts: well-formed SVG, wired for screen readers, and marks where the numbers say.

Each chart is parsed back with ElementTree and its marks are read by class name
(``chart-bar``, ``chart-benchmark``, ...); positions are compared numerically with the
values drawn, in both reading directions.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from itertools import pairwise

import pytest
from markupsafe import Markup

from app.results.charts import (
    WIDTH,
    BarRow,
    LikertRow,
    RatioRow,
    Series,
    bar_chart,
    bar_table_rows,
    diverging_chart,
    likert_table_rows,
    ratio_chart,
    ratio_table_rows,
    time_chart,
)

SVG = "{http://www.w3.org/2000/svg}"
EVIL = '<script>alert("x")</script> & Co'
EVIL_NUMBER = "<b>1</b> & 2"


def percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def ratio(value: float) -> str:
    return f"{value:.2f}"


def parse(markup: Markup) -> ET.Element:
    assert isinstance(markup, Markup)
    return ET.fromstring(str(markup))


def marks(root: ET.Element, css_class: str) -> list[ET.Element]:
    return [e for e in root.iter() if css_class in (e.get("class") or "").split()]


def num(element: ET.Element, name: str) -> float:
    return float(element.get(name))


def translate(element: ET.Element) -> tuple[float, float]:
    x, y = re.fullmatch(r"translate\(([-\d.]+) ([-\d.]+)\)", element.get("transform")).groups()
    return float(x), float(y)


def points(polyline: ET.Element) -> list[tuple[float, float]]:
    return [tuple(map(float, pair.split(","))) for pair in polyline.get("points").split()]


def texts(root: ET.Element, css_class: str) -> list[str]:
    return ["".join(e.itertext()) for e in marks(root, css_class)]


def assert_accessible(root: ET.Element, title: str, description_part: str) -> None:
    """role=img, named by its own <title> and <desc>, scaling with its container."""
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("width") == "100%"
    assert len(root.get("viewBox").split()) == 4
    title_id, desc_id = root.get("aria-labelledby").split()
    title_el, desc_el = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert (title_el.get("id"), desc_el.get("id")) == (title_id, desc_id)
    assert title_el.text == title
    assert description_part in (desc_el.text or "")
    ids = [e.get("id") for e in root.iter() if e.get("id")]
    assert len(ids) == len(set(ids))


# --- bar chart -------------------------------------------------------------------------

BARS = [
    BarRow("15-24", 0.10, 0.07, 0.13, benchmark=0.14, flagged=True),
    BarRow("25-34", 0.20, 0.16, 0.24, benchmark=0.16),
    BarRow("35-44", None, benchmark=0.18),
    BarRow("45-54", 0.40, 0.35, 0.45, benchmark=0.20),
]


def draw_bars(rows=BARS, **options) -> ET.Element:
    settings = dict(title="Age against the population", description="Shares by age.",
                    value_label="Respondents", benchmark_label="Population",
                    hidden_label="Hidden to protect privacy", format_value=percent,
                    interval_label="95% interval", flagged_label="Under-represented")
    settings.update(options)
    return parse(bar_chart(rows, **settings))


def test_bar_chart_is_an_accessible_image():
    root = draw_bars()
    assert_accessible(root, "Age against the population", "Shares by age.")
    assert root.get("direction") == "ltr"


def test_bar_lengths_whiskers_and_benchmarks_are_proportional_to_the_values():
    root = draw_bars()
    bars = {int(b.get("data-index")): b for b in marks(root, "chart-bar")}
    assert sorted(bars) == [0, 1, 3]  # the suppressed row has no bar
    starts = {num(b, "x") for b in bars.values()}
    assert len(starts) == 1
    origin = starts.pop()
    units = num(bars[0], "width") / BARS[0].value
    for index, bar in bars.items():
        assert num(bar, "width") == pytest.approx(units * BARS[index].value, abs=0.02)

    whiskers = {int(w.get("data-index")): w for w in marks(root, "chart-interval")}
    for index, whisker in whiskers.items():
        row = BARS[index]
        assert num(whisker, "x1") == pytest.approx(origin + units * row.low, abs=0.02)
        assert num(whisker, "x2") == pytest.approx(origin + units * row.high, abs=0.02)

    benchmarks = {int(m.get("data-index")): m for m in marks(root, "chart-benchmark")}
    assert sorted(benchmarks) == [0, 1, 2, 3]  # public, so drawn for the hidden row too
    for index, mark in benchmarks.items():
        assert num(mark, "x1") == num(mark, "x2")
        assert num(mark, "x1") == pytest.approx(origin + units * BARS[index].benchmark, abs=0.02)
    # Each bar's value is written next to it.
    assert texts(root, "chart-value") == ["10.0%", "20.0%", "40.0%"]


def test_suppressed_bar_is_hatched_named_and_described():
    root = draw_bars()
    hidden = marks(root, "chart-hidden")
    assert [h.get("data-index") for h in hidden] == ["2"]
    assert hidden[0].get("fill").startswith("url(#")
    assert texts(root, "chart-hidden-label") == ["Hidden to protect privacy"]
    desc = root.find(f"{SVG}desc").text
    assert "Hidden to protect privacy: 35-44." in desc
    assert "Under-represented: 15-24." in desc


def test_flagged_rows_carry_a_symbol_not_only_a_colour():
    root = draw_bars()
    # One symbol for the flagged row and one in the legend.
    assert len(marks(root, "chart-flag")) == 2
    legend = [" ".join(e.itertext()) for e in marks(root, "chart-legend-item")]
    assert legend == ["Respondents", "95% interval", "Population", "Under-represented",
                      "Hidden to protect privacy"]


def test_bar_chart_mirrors_for_right_to_left():
    ltr, rtl = draw_bars(), draw_bars(rtl=True)
    assert rtl.get("direction") == "rtl"
    for left, right in zip(marks(ltr, "chart-bar"), marks(rtl, "chart-bar"), strict=True):
        assert num(right, "width") == num(left, "width")
        # The bar grows leftwards from the mirrored origin.
        assert num(right, "x") + num(right, "width") == pytest.approx(WIDTH - num(left, "x"))
    for left, right in zip(marks(ltr, "chart-benchmark"), marks(rtl, "chart-benchmark"),
                           strict=True):
        assert num(right, "x1") == pytest.approx(WIDTH - num(left, "x1"))


def test_text_is_escaped():
    rows = [BarRow(EVIL, 0.5, benchmark=0.5), BarRow(EVIL, None)]
    markup = bar_chart(rows, title=EVIL, description=EVIL, value_label=EVIL,
                       benchmark_label=EVIL, hidden_label=EVIL,
                       format_value=lambda v: EVIL_NUMBER)
    assert "<script>" not in markup and "<b>" not in markup
    assert "&lt;script&gt;" in markup and "&amp; Co" in markup
    root = parse(markup)
    assert root.find(f"{SVG}title").text == EVIL
    assert root.find(f"{SVG}desc").text.startswith(EVIL)
    assert texts(root, "chart-label") == [EVIL, EVIL]
    assert texts(root, "chart-value") == [EVIL_NUMBER]
    assert EVIL in [" ".join(e.itertext()) for e in marks(root, "chart-legend-item")]


def test_every_chart_escapes_caller_text():
    evil_format = lambda value: EVIL_NUMBER  # noqa: E731
    charts = [
        ratio_chart([RatioRow(EVIL, 0.5, flagged=True), RatioRow(EVIL, None)], title=EVIL,
                    description=EVIL, threshold=0.8, parity_label=EVIL, threshold_label=EVIL,
                    hidden_label=EVIL, format_ratio=evil_format, flagged_label=EVIL),
        diverging_chart([LikertRow(EVIL, [0.5, None, 0.5], n=3)], title=EVIL, description=EVIL,
                        categories=[EVIL, EVIL, EVIL], neutral=1, hidden_label=EVIL,
                        format_value=evil_format, format_n=lambda n: EVIL_NUMBER),
        time_chart([Series(EVIL, [(date(2025, 1, 1), 1.0), (date(2025, 1, 2), 2.0)],
                           target=3.0)], title=EVIL, description=EVIL, y_label=EVIL,
                   format_date=lambda d: EVIL_NUMBER, format_number=evil_format,
                   target_label=EVIL),
        time_chart([], title=EVIL, description=EVIL, y_label=EVIL, format_date=str,
                   format_number=str, empty_label=EVIL),
    ]
    for markup in charts:
        assert "<script>" not in markup and "<b>" not in markup
        root = parse(markup)
        assert root.find(f"{SVG}title").text == EVIL
        assert any(EVIL in "".join(e.itertext()) for e in root.iter(f"{SVG}text"))


def test_long_labels_wrap_and_keep_the_full_text_as_a_tooltip():
    label = "Upper secondary and post-secondary non-tertiary education " * 3
    root = draw_bars([BarRow(label.strip(), 0.3)])
    lines = marks(root, "chart-label")
    assert len(lines) == 2
    assert lines[-1].find(f"{SVG}title").text == label.strip()
    assert "".join(lines[-1].itertext()).endswith("…")


def test_empty_bar_chart_is_valid_and_says_so():
    root = draw_bars([], empty_label="No answers yet")
    assert_accessible(root, "Age against the population", "Shares by age.")
    assert texts(root, "chart-empty") == ["No answers yet"]
    assert not marks(root, "chart-bar")


def test_values_that_cannot_be_drawn_count_as_hidden():
    root = draw_bars([BarRow("A", math.nan, benchmark=0.2), BarRow("B", 0.3)])
    assert [h.get("data-index") for h in marks(root, "chart-hidden")] == ["0"]


def test_charts_on_one_page_get_distinct_ids():
    one = draw_bars(title="Age")
    two = draw_bars(title="Gender")
    chosen = draw_bars(id_prefix="age-chart")
    assert one.get("aria-labelledby") != two.get("aria-labelledby")
    assert chosen.get("aria-labelledby") == "age-chart-title age-chart-desc"


# --- ratio chart -----------------------------------------------------------------------

RATIOS = [
    RatioRow("Women", 0.5, flagged=True),
    RatioRow("Men", 1.0),
    RatioRow("Other", None),
    RatioRow("Rural", 2.0),
]


def draw_ratios(rows=RATIOS, **options) -> ET.Element:
    settings = dict(title="Representation", description="Ratios.", threshold=0.8,
                    parity_label="Parity", threshold_label="Flag below 0.8",
                    hidden_label="Hidden", format_ratio=ratio, flagged_label="Flagged")
    settings.update(options)
    return parse(ratio_chart(rows, **settings))


def test_ratio_dots_sit_on_a_log_scale_with_parity_and_threshold_lines():
    root = draw_ratios()
    assert_accessible(root, "Representation", "Ratios.")
    dots = {int(d.get("data-index")): translate(d)[0] for d in marks(root, "chart-dot")}
    assert sorted(dots) == [0, 1, 3]
    # Half and double are equally far from parity.
    assert dots[3] - dots[1] == pytest.approx(dots[1] - dots[0], abs=0.02)
    parity = marks(root, "chart-parity")[0]
    assert num(parity, "x1") == pytest.approx(dots[1], abs=0.02)
    threshold = marks(root, "chart-threshold")[0]
    per_doubling = dots[3] - dots[1]
    assert num(threshold, "x1") == pytest.approx(dots[1] + per_doubling * math.log2(0.8),
                                                 abs=0.02)
    assert threshold.get("stroke-dasharray")  # told apart from parity without colour
    assert texts(root, "chart-value") == ["0.50", "1.00", "2.00"]


def test_ratio_flags_and_hidden_rows():
    root = draw_ratios()
    flagged_dot = next(d for d in marks(root, "chart-dot") if d.get("data-index") == "0")
    plain_dot = next(d for d in marks(root, "chart-dot") if d.get("data-index") == "1")
    assert flagged_dot.find(f"{SVG}path") is not None  # a triangle, not a circle
    assert plain_dot.find(f"{SVG}circle") is not None
    assert [h.get("data-index") for h in marks(root, "chart-hidden")] == ["2"]
    desc = root.find(f"{SVG}desc").text
    assert "Hidden: Other." in desc and "Flagged: Women." in desc


def test_ratio_chart_mirrors_and_handles_extremes():
    ltr, rtl = draw_ratios(), draw_ratios(rtl=True)
    for left, right in zip(marks(ltr, "chart-dot"), marks(rtl, "chart-dot"), strict=True):
        assert translate(right)[0] == pytest.approx(WIDTH - translate(left)[0])
    # Zero and huge ratios stay inside the chart.
    root = draw_ratios([RatioRow("None came", 0.0), RatioRow("Many", 100.0)])
    xs = [translate(d)[0] for d in marks(root, "chart-dot")]
    assert all(0 < x < WIDTH for x in xs)
    assert texts(root, "chart-value") == ["0.00", "100.00"]


def test_empty_ratio_chart():
    root = draw_ratios([], empty_label="Nothing to compare")
    assert texts(root, "chart-empty") == ["Nothing to compare"]


# --- diverging chart -------------------------------------------------------------------

CATEGORIES = ["Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree"]
LIKERT = [
    LikertRow("Screening reaches me", [0.1, 0.2, 0.2, 0.3, 0.2], n=500),
    LikertRow("I trust my hospital", [0.05, 0.05, 0.1, 0.4, 0.4], n=480),
]


def draw_likert(rows=LIKERT, categories=CATEGORIES, neutral=2, **options) -> ET.Element:
    settings = dict(title="Views", description="Agreement.", categories=categories,
                    neutral=neutral, hidden_label="Hidden", format_value=percent)
    settings.update(options)
    return parse(diverging_chart(rows, **settings))


def segments(root: ET.Element, index: int) -> dict[int, ET.Element]:
    return {int(s.get("data-category")): s for s in marks(root, "chart-segment")
            if s.get("data-index") == str(index)}


def centre(root: ET.Element) -> float:
    return num(marks(root, "chart-centre")[0], "x1")


def test_diverging_segments_are_contiguous_proportional_and_centred_on_neutral():
    root = draw_likert()
    assert_accessible(root, "Views", "Agreement.")
    middle = centre(root)
    units = None
    for index, row in enumerate(LIKERT):
        parts = segments(root, index)
        assert sorted(parts) == [0, 1, 2, 3, 4]
        units = units or num(parts[0], "width") / row.shares[0]
        for j, share in enumerate(row.shares):
            assert num(parts[j], "width") == pytest.approx(units * share, abs=0.02)
        for j in range(4):  # each one starts where the one before it ends
            assert num(parts[j], "x") + num(parts[j], "width") == pytest.approx(
                num(parts[j + 1], "x"), abs=0.02)
        neutral = parts[2]
        assert num(neutral, "x") + num(neutral, "width") / 2 == pytest.approx(middle, abs=0.02)
        assert num(parts[1], "x") + num(parts[1], "width") <= middle  # disagree on the left


def test_diverging_without_neutral_splits_between_the_middle_categories():
    rows = [LikertRow("Item", [0.1, 0.3, 0.4, 0.2])]
    root = draw_likert(rows, categories=["--", "-", "+", "++"], neutral=None)
    parts = segments(root, 0)
    assert num(parts[2], "x") == pytest.approx(centre(root), abs=0.02)


def test_diverging_mirrors_for_right_to_left():
    ltr, rtl = draw_likert(), draw_likert(rtl=True)
    left, right = segments(ltr, 0), segments(rtl, 0)
    assert num(right[0], "x") > centre(rtl)  # strongly disagree now on the right
    for j in left:
        assert num(right[j], "x") + num(right[j], "width") == pytest.approx(
            WIDTH - num(left[j], "x"), abs=0.02)


def test_diverging_categories_differ_by_pattern_and_legend_shows_them():
    root = draw_likert()
    fills = {segments(root, 0)[j].get("fill") for j in range(5)}
    assert len(fills) == 5
    patterns = root.findall(f"{SVG}defs/{SVG}pattern")
    assert len(patterns) >= 3
    legend = [" ".join(e.itertext()) for e in marks(root, "chart-legend-item")]
    assert legend == CATEGORIES


def test_diverging_hidden_cells_are_marked_and_described():
    rows = [LikertRow("Item one", [0.1, None, 0.3, 0.4, 0.1]),
            LikertRow("Item two", [None] * 5)]
    root = draw_likert(rows, format_n=lambda n: f"n = {n}")
    assert sorted(segments(root, 0)) == [0, 2, 3, 4]
    assert not segments(root, 1)
    assert [h.get("data-index") for h in marks(root, "chart-hidden")] == ["0", "1"]
    assert "Hidden: Item one (Disagree), Item two." in root.find(f"{SVG}desc").text


def test_diverging_shows_n_and_rejects_mismatched_shares():
    root = draw_likert(format_n=lambda n: f"n = {n}")
    assert "Screening reaches me (n\u00a0=\u00a0500)" in texts(root, "chart-label")
    with pytest.raises(ValueError, match="shares"):
        draw_likert([LikertRow("Short", [0.5, 0.5])])
    with pytest.raises(ValueError, match="neutral"):
        draw_likert(neutral=7)


def test_empty_diverging_chart():
    root = draw_likert([], empty_label="No answers")
    assert texts(root, "chart-empty") == ["No answers"]


def test_table_rows_match_the_chart_text():
    assert bar_table_rows(BARS, format_value=percent, hidden_label="Hidden")[1:3] == [
        ("25-34", "20.0%", "16.0% \u2013 24.0%", "16.0%"),
        ("35-44", "Hidden", "\u2013", "18.0%"),
    ]
    assert ratio_table_rows(RATIOS, format_ratio=ratio, hidden_label="Hidden")[2] == (
        "Other", "Hidden", False)
    assert likert_table_rows([LikertRow("X", [0.5, None])], format_value=percent,
                             hidden_label="Hidden") == [("X", ["50.0%", "Hidden"])]


# --- time chart ------------------------------------------------------------------------

START = date(2025, 3, 3)
SERIES = [
    Series("Portugal", [(START + timedelta(days=i), 10.0 * i * i) for i in range(10)],
           target=900.0),
    Series("Romania", [(START + timedelta(days=i), 25.0 * i) for i in range(0, 10, 3)]),
]


def draw_time(series=SERIES, **options) -> ET.Element:
    settings = dict(title="Responses over time", description="Cumulative.",
                    y_label="Completed responses", format_date=lambda d: d.strftime("%d %b"),
                    format_number=lambda v: f"{v:,.0f}", target_label="Target")
    settings.update(options)
    return parse(time_chart(series, **settings))


def test_time_chart_lines_rise_with_dates_and_values():
    root = draw_time()
    assert_accessible(root, "Responses over time", "Cumulative.")
    lines = marks(root, "chart-line")
    assert len(lines) == 2
    first = points(lines[0])
    xs, ys = [x for x, _ in first], [y for _, y in first]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)
    assert ys == sorted(ys, reverse=True)  # SVG y grows downwards
    # Evenly spaced days are evenly spaced across; values are linear upwards.
    steps = [b - a for a, b in pairwise(xs)]
    assert max(steps) - min(steps) <= 0.02
    height_per_unit = (ys[0] - ys[1]) / 10.0
    assert ys[0] - ys[9] == pytest.approx(810.0 * height_per_unit, abs=0.05)
    # The second series shares the date axis: day 3 sits where the first series' day 3 is.
    assert points(lines[1])[1][0] == pytest.approx(xs[3], abs=0.02)


def test_time_chart_tells_series_apart_without_colour():
    root = draw_time()
    lines = marks(root, "chart-line")
    assert lines[0].get("stroke-dasharray") != lines[1].get("stroke-dasharray")
    shapes = {index: {child.tag for m in marks(root, "chart-marker")
                      if m.get("data-index") == index for child in m}
              for index in ("0", "1")}
    assert shapes["0"] != shapes["1"]
    assert texts(root, "chart-end-label") == ["Portugal", "Romania"]
    legend = [" ".join(e.itertext()) for e in marks(root, "chart-legend-item")]
    assert legend == ["Portugal", "Romania", "Target"]


def test_time_chart_target_line_uses_the_value_scale():
    root = draw_time()
    first = points(marks(root, "chart-line")[0])
    per_unit = (first[0][1] - first[1][1]) / 10.0
    target = marks(root, "chart-target")[0]
    assert num(target, "y1") == pytest.approx(first[0][1] - 900.0 * per_unit, abs=0.05)
    assert target.get("stroke-dasharray")
    assert "900" in texts(root, "chart-target-label")


def test_time_chart_runs_right_to_left_when_asked():
    ltr, rtl = draw_time(), draw_time(rtl=True)
    forward, backward = points(marks(ltr, "chart-line")[0]), points(marks(rtl, "chart-line")[0])
    xs = [x for x, _ in backward]
    assert xs == sorted(xs, reverse=True)
    for (lx, ly), (rx, ry) in zip(forward, backward, strict=True):
        assert rx == pytest.approx(WIDTH - lx, abs=0.02) and ry == ly


def test_time_chart_single_day_and_empty():
    root = draw_time([Series("Only", [(START, 5.0)])])
    assert len(points(marks(root, "chart-line")[0])) == 1
    empty = draw_time([Series("Nothing yet", [])], empty_label="No responses yet")
    assert texts(empty, "chart-empty") == ["No responses yet"]
    assert texts(draw_time([]), "chart-empty") == [""]
