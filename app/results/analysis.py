"""One call from a survey to its tables: version, threshold, weights, grouping.

Shared by the page, the CLI and the API so the three always agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.results import tables, weighting
from app.results.models import WeightingScheme
from app.results.thresholds import min_cell_size
from app.surveys.models import Survey, SurveyVersion
from app.surveys.services import latest_version


class AnalysisError(ValueError):
    """A request that cannot be answered (unknown scheme or variable), for people."""


@dataclass
class Analysis:
    survey: Survey
    version: SurveyVersion
    k: int
    scheme: WeightingScheme | None
    by: tuple[str, ...]
    n: int
    tables: list[tables.Table]


def parse_by(by: str | Sequence[str] | None) -> tuple[str, ...]:
    if not by:
        return ()
    parts = by.split(",") if isinstance(by, str) else list(by)
    return tuple(dict.fromkeys(p.strip() for p in parts if p.strip()))


def analyse(survey: Survey, *, secret: str, scheme_name: str | None = None,
            by: str | Sequence[str] | None = None, language: str = "en",
            questions: Sequence[str] | None = None,
            version: SurveyVersion | None = None) -> Analysis:
    version = version or latest_version(survey)
    scheme = None
    weights = None
    if scheme_name:
        scheme = weighting.scheme_named(survey, scheme_name)
        if scheme is None:
            raise AnalysisError(f"No weighting scheme {scheme_name!r}.")
        if scheme.computed_at is None or scheme.problem:
            raise AnalysisError(f"The weighting scheme {scheme_name!r} has no weights yet.")
        weights = weighting.weights_of(scheme)
    data = tables.load_dataset(survey, version, secret=secret, weights=weights)
    names = parse_by(by)
    k = min_cell_size(survey)
    grouping = None
    if names:
        try:
            grouping = tables.grouping(data, names, language)
        except ValueError as error:
            raise AnalysisError(str(error)) from error
    return Analysis(survey, version, k, scheme, names, data.n, tables.question_tables(
        data, k=k, language=language, by=grouping, names=questions))


def group_variables(survey: Survey, language: str) -> list[tuple[str, str]]:
    """(name, label) of the categorical variables that can form groups."""
    from app.results.codebook import label_in
    from app.results.wide import codebook_of

    return [(v.name, label_in(v.label, language)) for v in codebook_of(latest_version(survey))
            if v.source in tables.CATEGORICAL_SOURCES and v.source != tables.INDICATOR]
