"""Tables as text, CSV and JSON for the CLI and the API: the same hidden cells as pages."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from app.results.analysis import Analysis
from app.results.exports import neutralise

CSV_COLUMNS = ["variable", "label", "group", "category", "count", "share", "ci_low",
               "ci_high", "weighted_share", "weighted_ci_low", "weighted_ci_high"]


def as_dict(analysis: Analysis) -> dict[str, Any]:
    scheme = analysis.scheme
    return {
        "survey": analysis.survey.slug,
        "version": analysis.version.number,
        "k": analysis.k,
        "n": analysis.n if analysis.n >= analysis.k else None,
        "weighting": None if scheme is None else {
            "name": scheme.name, "method": str(scheme.method), "geography": scheme.geography,
            "variables": scheme.variables, "sources": scheme.sources,
            "converged": scheme.converged, "iterations": scheme.iterations,
            "design_effect": scheme.design_effect, "effective_n": scheme.effective_n},
        "by": list(analysis.by),
        "tables": [_table(t) for t in analysis.tables],
    }


def _table(table) -> dict[str, Any]:
    out: dict[str, Any] = {"variable": table.variable.name, "label": table.label,
                           "measurement": table.variable.measurement, "n": table.n}
    if table.numeric is not None:
        out["numeric"] = vars(table.numeric)
    else:
        out["categories"] = [vars(line) for line in table.lines]
        out["effective_n"] = table.effective_n
    comparison = table.comparison
    if comparison is not None:
        out["comparison"] = {
            "groups": comparison.groups, "counts": comparison.counts,
            "group_totals": comparison.group_totals, "column_shares": comparison.column_shares,
            "test": None if comparison.test is None else vars(comparison.test),
            "no_test_reason": comparison.reason or None}
    return out


def as_json(analysis: Analysis) -> str:
    return json.dumps(as_dict(analysis), ensure_ascii=False, indent=2) + "\n"


def as_csv(analysis: Analysis) -> str:
    """Long aggregate rows: overall lines (group empty), then counts per group."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for table in analysis.tables:
        for line in table.lines:
            writer.writerow([table.variable.name, neutralise(table.label), "",
                             neutralise(line.label), _cell(line.count), _cell(line.share),
                             _cell(line.low), _cell(line.high), _cell(line.weighted_share),
                             _cell(line.weighted_low), _cell(line.weighted_high)])
        if table.comparison is not None:
            for j, group in enumerate(table.comparison.groups):
                for i, line in enumerate(table.lines):
                    writer.writerow([table.variable.name, neutralise(table.label),
                                     neutralise(group), neutralise(line.label),
                                     _cell(table.comparison.counts[i][j]),
                                     _cell(table.comparison.column_shares[i][j]),
                                     "", "", "", "", ""])
    return buffer.getvalue()


def _cell(value: float | int | None) -> str:
    if value is None:
        return ""
    return str(value) if isinstance(value, int) else f"{value:.6f}"


def as_text(analysis: Analysis) -> str:
    lines = [f"{analysis.survey.slug} version {analysis.version.number}: "
             f"n={analysis.n if analysis.n >= analysis.k else '<k'}, k={analysis.k}"]
    if analysis.scheme is not None:
        s = analysis.scheme
        lines.append(f"weighted by {s.name} ({s.method}, {', '.join(s.variables)}, "
                     f"{s.geography}); deff={s.design_effect:.3f} ess={s.effective_n:.1f}")
    for table in analysis.tables:
        lines.append("")
        lines.append(f"{table.variable.name}: {table.label} (n={_n(table.n)})")
        if table.numeric is not None:
            num = table.numeric
            if num.mean is not None:
                lines.append(f"  mean {num.mean:.3f} [{num.low:.3f}, {num.high:.3f}] "
                             f"median {num.median:g}"
                             + (f" weighted mean {num.weighted_mean:.3f}"
                                if num.weighted_mean is not None else ""))
            continue
        for line in table.lines:
            share = "-" if line.share is None else f"{line.share:.3f}"
            weighted = "" if line.weighted_share is None else \
                f"  weighted {line.weighted_share:.3f}"
            lines.append(f"  {line.label:<30} n={_n(line.count):<6} share={share}{weighted}")
        comparison = table.comparison
        if comparison is not None:
            test = comparison.test
            if test is None:
                lines.append(f"  by {' x '.join(analysis.by)}: no test ({comparison.reason})")
            else:
                lines.append(f"  by {' x '.join(analysis.by)}: {test.name} "
                             f"statistic={test.statistic:.3f} p={test.p_value:.4g} "
                             f"p_holm={test.p_holm:.4g} {test.effect_name}={test.effect:.3f}")
    return "\n".join(lines) + "\n"


def _n(value: int | None) -> str:
    return "<k" if value is None else str(value)
