"""Who took part against the population: shares, benchmark, ratio, tests, R-indicator.

For one survey and one country: respondents who live there (their answer to
``country_of_residence``; everyone when the survey does not ask), only those whose
consent allows analysis, compared per group variable with the latest stored benchmark
for that country. Counts under the disclosure threshold are hidden in the result;
the statistics themselves are computed on the true counts, which is what an analyst
needs and reveals no single cell.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.consent.services import analysable_response_ids
from app.extensions import db
from app.results import benchmarks, statistics
from app.results.disclosure import suppress_counts
from app.results.models import Benchmark
from app.results.thresholds import DEFAULT_K as DEFAULT_THRESHOLD
from app.surveys import services as surveys
from app.surveys.labels import choice_label
from app.surveys.models import Answer, Survey

GROUP_VARIABLES = ("age_band", "gender", "education_level", "urbanisation",
                   "activity_limitation", "born_in_country_of_residence", "make_ends_meet")
COUNTRY_QUESTION = "country_of_residence"
DEFAULT_K = DEFAULT_THRESHOLD  # cells with fewer people are not shown


@dataclass(frozen=True)
class Line:
    category: str
    label: str
    count: int | None  # None: suppressed
    row: statistics.RepresentationRow


@dataclass(frozen=True)
class VariableReport:
    variable: str
    label: str
    source: str
    year: int
    n: int
    lines: list[Line]
    fit: statistics.GoodnessOfFit
    r: statistics.RIndicator | None  # only when the benchmark has population counts


def answers_by_respondent(survey: Survey, questions: tuple[str, ...]
                          ) -> dict[int, dict[str, str]]:
    """response id -> {question: value} for analysable complete responses."""
    responses = analysable_response_ids(survey.id)
    out: dict[int, dict[str, str]] = {r: {} for r in responses}
    for start in range(0, len(responses), 1000):
        batch = responses[start:start + 1000]
        for response_id, question, value in db.session.execute(
                select(Answer.response_id, Answer.question, Answer.value_text).where(
                    Answer.response_id.in_(batch), Answer.question.in_(questions))):
            if value:
                out[response_id][question] = value
    return out


def report(survey: Survey, country: str, language: str, *, k: int = DEFAULT_K,
           threshold: float = 0.8) -> list[VariableReport]:
    definition = surveys.definition_of(surveys.latest_version(survey))
    lang = definition.language_for(language)
    asked = {q.id: q for q in definition.questions()}
    answers = answers_by_respondent(survey, (*GROUP_VARIABLES, COUNTRY_QUESTION))
    if COUNTRY_QUESTION in asked:
        answers = {r: a for r, a in answers.items() if a.get(COUNTRY_QUESTION) == country}
    reports = []
    for variable in GROUP_VARIABLES:
        question = asked.get(variable)
        found = benchmarks.shares_for(variable, country)
        if question is None or found is None:
            continue
        shares, source, year = found
        counts = {category: 0 for category in shares}
        for values in answers.values():
            if values.get(variable) in counts:
                counts[values[variable]] += 1
        n = sum(counts.values())
        if n == 0:
            continue
        rows = statistics.representation(counts, shares, threshold=threshold)
        shown, _total = suppress_counts([row.count for row in rows], k)
        labels = {c.value: choice_label(question, c, lang) for c in question.choices}
        population = _population_counts(variable, country, source, year)
        reports.append(VariableReport(
            variable=variable, label=question.label.get(lang) if question.label else variable,
            source=source, year=year, n=n,
            lines=[Line(str(row.category), labels.get(str(row.category), str(row.category)),
                        value, row) for row, value in zip(rows, shown, strict=True)],
            fit=statistics.goodness_of_fit(counts, shares),
            r=statistics.r_indicator(counts, population) if population else None))
    return reports


def _population_counts(variable: str, country: str, source: str, year: int
                       ) -> dict[str, float] | None:
    rows = db.session.execute(select(Benchmark.category, Benchmark.count).where(
        Benchmark.variable == variable, Benchmark.geography == country,
        Benchmark.source == source, Benchmark.year == year)).all()
    if not rows or any(count is None for _category, count in rows):
        return None
    return {category: count for category, count in rows}


def countries_with_benchmarks() -> list[str]:
    return sorted(set(db.session.scalars(select(Benchmark.geography))))
