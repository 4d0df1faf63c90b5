"""Charts for results pages and the report, built from tables and participation reports.

The caller passes the translation function and number formatting, so the charts come
out in the reader's language without this module touching request state. ``gettext``
must format like the templates' (``%%`` stands for ``%`` even without values).
"""

from __future__ import annotations

from collections.abc import Callable

from markupsafe import Markup

from app.results import charts
from app.results.participation import VariableReport
from app.results.tables import Table, is_special

Translate = Callable[..., str]
Format = Callable[[float], str]


def table_chart(table: Table, *, gettext: Translate, percent: Format, rtl: bool,
                weighted: bool) -> Markup | None:
    """A diverging bar for an ordinal item with a middle, else bars with intervals."""
    if table.numeric is not None or not table.lines or not table.n \
            or all(line.share is None for line in table.lines):
        return None
    scale = [line for line in table.lines if not is_special(table.variable, line.code)]
    if table.ordinal and len(scale) >= 3:
        answered = sum((line.weighted_share if weighted else line.share) or 0
                       for line in scale)
        shares = [None if (v := line.weighted_share if weighted else line.share) is None
                  else v / answered if answered else 0.0 for line in scale]
        return charts.diverging_chart(
            [charts.LikertRow(table.label, shares, table.n)],
            title=table.label,
            description=gettext("Answers on the scale from one end to the other, as shares of "
                                "those who gave one (\"don't know\" and the like left out); "
                                "the table gives all the numbers."),
            categories=[line.label for line in scale],
            neutral=len(scale) // 2 if len(scale) % 2 else None,
            hidden_label=gettext("hidden"), format_value=percent, rtl=rtl,
            id_prefix=f"chart-{table.variable.name}")
    rows = [charts.BarRow(line.label,
                          line.weighted_share if weighted else line.share,
                          line.weighted_low if weighted else line.low,
                          line.weighted_high if weighted else line.high)
            for line in table.lines]
    return charts.bar_chart(
        rows, title=table.label,
        description=gettext("Share of those who answered, with a 95%% interval, for each "
                            "answer."),
        value_label=gettext("Weighted share") if weighted else gettext("Share"),
        benchmark_label=None,
        hidden_label=gettext("hidden"), format_value=percent, rtl=rtl,
        interval_label=gettext("95%% interval"), id_prefix=f"chart-{table.variable.name}")


def participation_charts(report: VariableReport, *, gettext: Translate, percent: Format,
                         ratio: Format, rtl: bool) -> tuple[Markup, Markup]:
    """Shares against the benchmark, and representation ratios, for one group variable."""
    bars = [charts.BarRow(line.label,
                          None if line.count is None else line.row.share,
                          None if line.count is None else line.row.ci_low,
                          None if line.count is None else line.row.ci_high,
                          line.row.benchmark_share, line.row.under_represented)
            for line in report.lines]
    ratios = [charts.RatioRow(line.label, None if line.count is None else line.row.ratio,
                              line.row.under_represented) for line in report.lines]
    source = gettext("Benchmark: %(source)s, %(year)d.", source=report.source, year=report.year)
    shares_chart = charts.bar_chart(
        bars, title=gettext("%(variable)s: respondents against the population",
                      variable=report.label),
        description=gettext("Bars show each group's share of respondents with a 95%% interval; "
                      "the marker shows its share of the population.") + " " + source,
        value_label=gettext("Respondents"), benchmark_label=gettext("Population"),
        hidden_label=gettext("hidden"), format_value=percent, rtl=rtl,
        interval_label=gettext("95%% interval"), flagged_label=gettext("Under-represented"),
        id_prefix=f"shares-{report.variable}")
    ratio_chart = charts.ratio_chart(
        ratios, title=gettext("%(variable)s: representation ratio", variable=report.label),
        description=gettext("Share of respondents divided by share of the population: 1 means "
                      "represented as in the population, below the threshold means "
                      "under-represented.") + " " + source,
        threshold=0.8, parity_label=gettext("Parity"), threshold_label=gettext("Threshold"),
        hidden_label=gettext("hidden"), format_ratio=ratio, rtl=rtl,
        id_prefix=f"ratio-{report.variable}")
    return shares_chart, ratio_chart
