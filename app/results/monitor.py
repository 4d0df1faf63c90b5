"""Live monitor of an open survey: which groups are missing now, and how many more to reach.

For one survey, one country and one group variable: completions by people who live in
the country (everyone, when the survey does not ask) and allow analysis, counted per
category and per day, against the latest population benchmark of that country.

The base ``N`` is the number of completions in the benchmark's categories (answers the
benchmark has no figure for, such as "prefer not to say", are outside it), as in
:func:`app.results.statistics.representation`, whose ratio and under-representation flag
the outreach list uses.

Small counts are hidden as everywhere else. The current counts per category go through
:func:`app.results.disclosure.suppress_counts` (the total is published). A hidden group
still appears in the outreach list, first: as "fewer than k" when it is small, or as
hidden to protect a smaller group; its numbers there are bounds worked out from what is
shown, so they give nothing away. Daily totals are not published, so each day hides only
its small counts (a chart line starts once its group has ``k`` people), and a group hidden
now is also hidden on the days when it was within ``k`` of its current count.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from sqlalchemy import func, literal_column, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.results import benchmarks, statistics
from app.results.disclosure import suppress_counts
from app.results.funnel import analysable, group_questions
from app.results.participation import COUNTRY_QUESTION
from app.surveys import services as surveys
from app.surveys.labels import choice_label
from app.surveys.models import Answer, Response, ResponseStatus, Survey

SMALL = "small"  # hidden because 0 < n < k
PROTECTING = "protecting"  # hidden so that a small group cannot be worked out


class MonitorError(ValueError):
    """The monitor cannot be built for this choice (shown to the user as is)."""


@dataclass(frozen=True)
class OutreachLine:
    category: str
    label: str
    count: int | None  # None: hidden
    hidden: str | None  # SMALL, PROTECTING or None
    share: float | None
    benchmark_share: float
    target: float  # benchmark share x current total: the benchmark-implied count
    ratio: float | None
    needed: int | None  # more completions to reach the benchmark share at the current total
    needed_at_least: int | None  # for a hidden group: the least it can need
    under_represented: bool


@dataclass(frozen=True)
class DayCounts:
    day: date
    counts: list[int | None]  # cumulative, per category in outreach order of `categories`


@dataclass(frozen=True)
class Monitor:
    slug: str
    country: str
    variable: str
    label: str
    source: str
    year: int
    k: int
    total: int | None  # completions in the benchmark's categories (None: hidden)
    outside: int | None  # completions with another answer or none (None: hidden)
    computed_at: datetime
    outreach: list[OutreachLine]  # lowest representation ratio first
    categories: list[tuple[str, str]]  # (category, label) in the question's order
    days: list[DayCounts]  # every day from the first completion to today (or the close)
    targets: dict[str, float]


def needed_more(benchmark_share: float, total: int, count: int) -> int:
    """Completions of a group still missing for its share to match the population's.

    ``needed = max(0, ceil(p x N - c))`` with ``p`` the group's benchmark share (over the
    benchmark's categories), ``N`` the current total and ``c`` the group's completions:
    the gap between the benchmark-implied count ``p x N`` and what came in, holding the
    total at its current value. (If only people of this group were added, the total would
    grow with them and it would take ``ceil((p x N - c) / (1 - p))``.)
    """
    return max(0, math.ceil(benchmark_share * total - count - 1e-9))


def variables_for(survey: Survey) -> list[str]:
    """Group variables the survey asks, in the order of the participation report."""
    return list(group_questions(survey))


def main_country(survey: Survey, candidates: list[str]) -> str | None:
    """Of the countries with benchmarks, the one most respondents live in (the first one
    when the survey does not ask or no one has answered yet)."""
    counts = dict(db.session.execute(
        select(Answer.value_text, func.count(Answer.id))
        .join(Response, Response.id == Answer.response_id)
        .where(analysable(survey), Answer.question == COUNTRY_QUESTION,
               Answer.value_text.in_(candidates))
        .group_by(Answer.value_text)).all()) if candidates else {}
    if not candidates:
        return None
    return max(candidates, key=lambda code: (counts.get(code, 0), -candidates.index(code)))


def build(survey: Survey, country: str, variable: str, language: str, k: int, *,
          tz: tzinfo = UTC, now: datetime | None = None) -> Monitor:
    """The monitor; raises :class:`MonitorError` when the survey does not ask the variable
    or the country has no benchmark for it."""
    now = now or datetime.now(UTC)
    questions = group_questions(survey)
    question = questions.get(variable)
    if question is None:
        raise MonitorError(f"{survey.slug} does not ask {variable}")
    found = benchmarks.shares_for(variable, country)
    if found is None or not any(share > 0 for share in found[0].values()):
        raise MonitorError(f"no benchmark for {variable} in {country}")
    shares, source, year = found
    shares = {c: s for c, s in shares.items() if s > 0}
    definition = surveys.definition_of(surveys.latest_version(survey))
    lang = definition.language_for(language)
    labels = {c.value: choice_label(question, c, lang) for c in question.choices}
    order = [c for c in labels if c in shares] + sorted(c for c in shares if c not in labels)

    hourly = _completions_by_hour(survey, country, variable,
                                  asks_country=any(q.id == COUNTRY_QUESTION
                                                   for q in definition.questions()))
    per_day: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    outside_count = 0
    for hour, category, n in hourly:
        if category in shares:
            per_day[hour.astimezone(tz).date()][category] += n
        else:
            outside_count += n
    counts = {c: sum(day.get(c, 0) for day in per_day.values()) for c in order}
    n_total = sum(counts.values())
    rows = statistics.representation(counts, shares)
    by_category = {str(row.category): row for row in rows}
    shown, total = suppress_counts([counts[c] for c in order], k)
    outside = suppress_counts([outside_count], k)[0][0]

    outreach = _outreach(order, labels, counts, shown, by_category, n_total, k)
    targets = {c: by_category[c].benchmark_share * n_total for c in order}
    days = _days(per_day, order, shown, k, first_day=min(per_day) if per_day else None,
                 last_day=_last_day(survey, now, tz, per_day))
    return Monitor(slug=survey.slug, country=country, variable=variable,
                   label=question.label.get(lang) if question.label else variable,
                   source=source, year=year, k=k, total=total, outside=outside,
                   computed_at=now, outreach=outreach,
                   categories=[(c, labels.get(c, c)) for c in order], days=days,
                   targets=targets)


def _outreach(order: list[str], labels: dict[str, str], counts: dict[str, int],
              shown: list[int | None], rows: dict[str, statistics.RepresentationRow],
              n_total: int, k: int) -> list[OutreachLine]:
    """One line per category, lowest ratio first; hidden groups placed by the lowest ratio
    they could have (worked out from shown numbers, so the order reveals nothing), which
    puts them first: they may be the furthest behind."""
    visible_sum = sum(v for v in shown if v is not None)
    kinds = {c: None if v is not None else (SMALL if 0 < counts[c] < k else PROTECTING)
             for c, v in zip(order, shown, strict=True)}
    lines = []
    for category, value in zip(order, shown, strict=True):
        row = rows[category]
        target = row.benchmark_share * n_total
        if value is not None:
            lines.append((row.ratio, OutreachLine(
                category=category, label=labels.get(category, category), count=value,
                hidden=None, share=row.share, benchmark_share=row.benchmark_share,
                target=target, ratio=row.ratio,
                needed=needed_more(row.benchmark_share, n_total, value), needed_at_least=None,
                under_represented=row.under_represented)))
            continue
        # What the shown numbers still allow: a small group has 1 to k - 1, and at most
        # what the shown counts leave, less one for every other small group.
        # A protecting group has at least what the others cannot hold.
        others = [kind for c, kind in kinds.items() if kind is not None and c != category]
        upper = max(n_total - visible_sum - others.count(SMALL), 0)
        if kinds[category] == SMALL:
            upper, lower = min(upper, k - 1), 1
        elif PROTECTING in others:
            lower = 0
        else:
            lower = max(n_total - visible_sum - others.count(SMALL) * (k - 1), 0)
        ratio_bound = lower / target if target else 0.0
        lines.append((ratio_bound, OutreachLine(
            category=category, label=labels.get(category, category), count=None,
            hidden=kinds[category], share=None, benchmark_share=row.benchmark_share,
            target=target, ratio=None, needed=None,
            needed_at_least=needed_more(row.benchmark_share, n_total, upper),
            under_represented=row.under_represented)))
    position = {c: i for i, c in enumerate(order)}
    lines.sort(key=lambda item: (item[0], position[item[1].category]))
    return [line for _key, line in lines]


def _days(per_day: dict[date, dict[str, int]], order: list[str], final: list[int | None],
          k: int, *, first_day: date | None, last_day: date) -> list[DayCounts]:
    """Cumulative counts per day.

    No daily total is published, so a day needs only its small counts hidden; but a group
    hidden in the current counts (``final``) stays hidden on every day it is within ``k``
    of its current value, so its last shown value cannot narrow down what it protects.
    """
    if first_day is None:
        return []
    totals = {c: sum(day.get(c, 0) for day in per_day.values()) for c in order}
    days = []
    running = dict.fromkeys(order, 0)
    day = first_day
    while day <= max(last_day, first_day):
        for category, n in per_day.get(day, {}).items():
            running[category] += n
        cells = []
        for category, current in zip(order, final, strict=True):
            n = running[category]
            hide = 0 < n < k or (current is None and totals[category] - n < k)
            cells.append(None if hide else n)
        days.append(DayCounts(day=day, counts=cells))
        day += timedelta(days=1)
    return days


def _last_day(survey: Survey, now: datetime, tz: tzinfo,
              per_day: dict[date, dict[str, int]]) -> date:
    """Today while the survey is open; otherwise the day of the last completion."""
    if survey.status.value == "open" or not per_day:
        return now.astimezone(tz).date()
    return max(per_day)


def _completions_by_hour(survey: Survey, country: str, variable: str, *,
                         asks_country: bool) -> list[tuple[datetime, str, int]]:
    """(hour in UTC, category, completions): one GROUP BY query; hours so that days can be
    cut in the reader's time zone."""
    group = aliased(Answer)
    hour = _hour(Response.completed_at).label("completed_hour")
    query = (select(hour, group.value_text, func.count(Response.id))
             .join(group, group.response_id == Response.id)
             .where(analysable(survey), Response.status == ResponseStatus.COMPLETE,
                    Response.completed_at.is_not(None), group.question == variable,
                    group.item == "", group.position == 0))
    if asks_country:
        place = aliased(Answer)
        query = query.join(place, place.response_id == Response.id).where(
            place.question == COUNTRY_QUESTION, place.item == "", place.position == 0,
            place.value_text == country)
    query = query.group_by(literal_column("completed_hour"), group.value_text)
    return [(datetime.strptime(str(h)[:13], "%Y-%m-%d %H").replace(tzinfo=UTC), value, n)
            for h, value, n in db.session.execute(query) if value is not None]


def _hour(column):
    """The UTC hour of a stored time as text 'YYYY-MM-DD HH', on SQLite and PostgreSQL."""
    if db.engine.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24")
    return func.strftime("%Y-%m-%d %H", column)
