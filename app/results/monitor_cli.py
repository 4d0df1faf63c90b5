"""`flask results ...` commands: Participation funnel and live monitor."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime

import click

from app.results import funnel as funnel_service
from app.results import monitor as monitor_service
from app.results.cli import results_cli
from app.results.thresholds import min_cell_size
from app.surveys.models import Survey
from app.surveys.services import get_survey


def _survey(slug: str) -> Survey:
    survey = get_survey(slug)
    if survey is None or not survey.versions:
        raise click.ClickException(f"No survey {slug!r}.")
    return survey


def _json(value: object) -> str:
    def default(item: object) -> str:
        if isinstance(item, date | datetime):
            return item.isoformat()
        raise TypeError(type(item).__name__)

    return json.dumps(dataclasses.asdict(value), default=default, ensure_ascii=False,
                      indent=2)


def _n(value: int | None) -> str:
    return "<k" if value is None else str(value)


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


@results_cli.command("funnel")
@click.argument("slug")
@click.option("--by", "by", default=None,
              help="Only one breakdown: channel, language or a group variable (age_band...).")
@click.option("--language", default="en", show_default=True, help="Language of the labels.")
@click.option("--json", "as_json", is_flag=True, help="Write JSON instead of text.")
def funnel_command(slug: str, by: str | None, language: str, as_json: bool) -> None:
    """Invited, started, consented and completed for SURVEY (small counts hidden)."""
    survey = _survey(slug)
    result = funnel_service.build(survey, language, min_cell_size(survey))
    if by is not None and result.table(by) is None:
        raise click.ClickException(
            f"--by must be one of: {', '.join(funnel_service.breakdowns(result))}.")
    if by is not None:
        result = dataclasses.replace(result, tables=[result.table(by)])
    if as_json:
        click.echo(_json(result))
        return
    overall = result.overall
    invited = _n(result.invited) if result.invited_applies else "not applicable"
    click.echo(f"{slug} (counts under {result.k} hidden as <k)")
    click.echo(f"  invited={invited} started={_n(overall.started)} "
               f"consented={_n(overall.consented) if result.has_consent else '-'} "
               f"completed={_n(overall.completed)}")
    for table in result.tables:
        click.echo(f"by {table.by}" + (" (withdrawn left out)" if table.groups else ""))
        for row in [*table.rows, table.total]:
            label = row.key or "(not answered yet)"
            if row is table.total:
                label = "TOTAL"
            click.echo(f"  {label:<24} started={_n(row.started):<6} "
                       f"consented={_n(row.consented) if result.has_consent else '-':<6} "
                       f"completed={_n(row.completed):<6} "
                       f"consent_rate={_rate(row.consent_rate):<7} "
                       f"completion_rate={_rate(row.completion_rate)}")


@results_cli.command("monitor")
@click.argument("slug")
@click.option("--country", required=True, help="ISO country code of the benchmark.")
@click.option("--variable", default="age_band", show_default=True, help="Group variable.")
@click.option("--language", default="en", show_default=True, help="Language of the labels.")
@click.option("--json", "as_json", is_flag=True, help="Write JSON instead of text.")
def monitor_command(slug: str, country: str, variable: str, language: str,
                    as_json: bool) -> None:
    """Completions per group against the population, with the groups to reach first."""
    survey = _survey(slug)
    try:
        result = monitor_service.build(survey, country.upper(), variable, language,
                                       min_cell_size(survey))
    except monitor_service.MonitorError as error:
        raise click.ClickException(f"{error}; load benchmarks with "
                                   "`flask results load-benchmarks`.") from error
    if as_json:
        click.echo(_json(result))
        return
    click.echo(f"{slug} {variable} {result.country}: total={_n(result.total)} "
               f"({result.source}, {result.year}; counts under {result.k} hidden as <k)")
    click.echo("outreach (lowest representation first):")
    for line in result.outreach:
        if line.count is None:
            needed = f">={line.needed_at_least}" if line.needed_at_least is not None else "-"
            count = "<k" if line.hidden == monitor_service.SMALL else "hidden"
            ratio = "-"
        else:
            needed, count, ratio = str(line.needed), str(line.count), f"{line.ratio:.2f}"
        flag = "  UNDER-REPRESENTED" if line.under_represented else ""
        click.echo(f"  {line.category:<24} n={count:<6} target={line.target:<8.1f} "
                   f"ratio={ratio:<5} more_needed={needed}{flag}")
    if result.days:
        click.echo("cumulative completions per day: "
                   + ", ".join(c for c, _label in result.categories))
        for day in result.days:
            click.echo(f"  {day.day.isoformat()} " + " ".join(_n(v) for v in day.counts))
