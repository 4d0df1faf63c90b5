"""Weighting schemes: define once, compute, reuse in tables and exports.

A scheme is stored with everything needed to reproduce it (variables, benchmark
sources and years, method, bounds, tolerance, iteration limit) and, once computed, the
diagnostics an analyst must publish with weighted figures: whether raking converged,
after how many sweeps, the largest margin error, Kish's design effect and the effective
sample size. Weights cover the analysable complete responses of people living in the
scheme's country; people who did not answer a weighting variable get no weight and so
are outside weighted tables (the page says how many).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, insert, select

from app.audit import services as audit
from app.extensions import db
from app.results import benchmarks, statistics
from app.results.models import ResponseWeight, WeightingMethod, WeightingScheme
from app.results.participation import COUNTRY_QUESTION, answers_by_respondent
from app.surveys import services as surveys
from app.surveys.models import Survey
from app.timeutil import utcnow

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_ITERATIONS = 10_000


class WeightingError(ValueError):
    """A scheme that cannot be defined or computed, with a reason meant for people."""


@dataclass(frozen=True)
class SchemeInput:
    name: str
    geography: str
    variables: Sequence[str]
    method: WeightingMethod = WeightingMethod.RAKE
    lower: float | None = None
    upper: float | None = None
    tolerance: float = 1e-6
    max_iterations: int = 100


def weighting_variables(survey: Survey) -> list[str]:
    """Questions of the survey's latest version that a stored benchmark describes."""
    definition = surveys.definition_of(surveys.latest_version(survey))
    asked = {q.id for q in definition.questions()}
    stored = set(db.session.scalars(select(benchmarks.Benchmark.variable).distinct()))
    return sorted(asked & stored)


def check(survey: Survey, given: SchemeInput) -> list[tuple[str, str]]:
    """Problems as (field, message) pairs, in the reader's language when shown; empty when
    the scheme can be stored."""
    problems: list[tuple[str, str]] = []
    if not NAME_PATTERN.match(given.name):
        problems.append(("name", _l("Use lower-case letters, digits, - and _ (at most 64).")))
    elif db.session.scalar(select(WeightingScheme.id).where(
            WeightingScheme.survey_id == survey.id, WeightingScheme.name == given.name)):
        problems.append(("name", _l("This survey already has a scheme with this name.")))
    if not given.variables:
        problems.append(("variables", _l("Choose at least one variable.")))
    missing = [v for v in given.variables
               if benchmarks.shares_for(v, given.geography) is None]
    if missing:
        problems.append(("variables", _l("No benchmark for this country: %(names)s",
                                         names=", ".join(missing))))
    if given.method == WeightingMethod.POSTSTRATIFY and len(given.variables) > 1:
        problems.append(("method", _l("Post-stratification needs one variable: benchmarks give "
                                   "margins, not the full cross-classification.")))
    if given.method == WeightingMethod.POSTSTRATIFY and (given.lower or given.upper):
        problems.append(("lower", _l("Bounds apply to raking only.")))
    if (given.lower is None) != (given.upper is None):
        problems.append(("lower", _l("Give both bounds, or neither.")))
    elif given.lower is not None and given.upper is not None \
            and not 0 <= given.lower < 1 < given.upper:
        problems.append(("lower", _l("The lower bound must be from 0 to below 1 and the upper "
                                  "bound above 1.")))
    if not 0 < given.tolerance < 1:
        problems.append(("tolerance", _l("The tolerance must be above 0 and below 1.")))
    if not 1 <= given.max_iterations <= MAX_ITERATIONS:
        problems.append(("max_iterations", _l("The iteration limit must be from 1 to 10,000.")))
    return problems


def define(survey: Survey, given: SchemeInput, *, actor: str) -> WeightingScheme:
    problems = check(survey, given)
    if problems:
        raise WeightingError(str(problems[0][1]))
    scheme = WeightingScheme(
        survey_id=survey.id, name=given.name, geography=given.geography,
        variables=list(given.variables), method=given.method, lower=given.lower,
        upper=given.upper, tolerance=given.tolerance, max_iterations=given.max_iterations,
        created_by=actor, sources=[])
    db.session.add(scheme)
    db.session.flush()
    audit.record(action="results.weighting.define", actor=actor,
                 subject=f"survey:{survey.slug}",
                 details={"scheme": scheme.name, "geography": scheme.geography,
                          "variables": scheme.variables, "method": str(scheme.method),
                          "lower": scheme.lower, "upper": scheme.upper,
                          "tolerance": scheme.tolerance,
                          "max_iterations": scheme.max_iterations})
    return scheme


def schemes_of(survey: Survey) -> list[WeightingScheme]:
    return list(db.session.scalars(select(WeightingScheme).where(
        WeightingScheme.survey_id == survey.id).order_by(WeightingScheme.name)))


def scheme_named(survey: Survey, name: str) -> WeightingScheme | None:
    return db.session.scalar(select(WeightingScheme).where(
        WeightingScheme.survey_id == survey.id, WeightingScheme.name == name))


def compute(survey: Survey, scheme: WeightingScheme, *, actor: str) -> WeightingScheme:
    """Compute and store the weights; a scheme that cannot be computed keeps the reason.

    Previous weights are replaced in the same transaction, so tables never mix two runs.
    """
    db.session.execute(delete(ResponseWeight).where(ResponseWeight.scheme_id == scheme.id))
    scheme.computed_at = utcnow()
    try:
        response_ids, weights, result, sources = _weights(survey, scheme)
    except WeightingError as error:
        scheme.problem = str(error)
        scheme.n = scheme.converged = scheme.iterations = scheme.max_error = None
        scheme.design_effect = scheme.effective_n = None
        db.session.flush()
        return scheme
    scheme.problem = None
    scheme.n = len(response_ids)
    scheme.sources = sources
    if result is not None:
        scheme.converged = result.converged
        scheme.iterations = result.iterations
        scheme.max_error = result.max_margin_error
    else:
        scheme.converged, scheme.iterations, scheme.max_error = True, 0, 0.0
    scheme.design_effect = statistics.kish_design_effect(weights)
    scheme.effective_n = statistics.effective_sample_size(weights)
    rows = [{"scheme_id": scheme.id, "response_id": rid, "weight": float(w)}
            for rid, w in zip(response_ids, weights, strict=True)]
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(ResponseWeight), rows[start:start + 5000])
    audit.record(action="results.weighting.compute", actor=actor,
                 subject=f"survey:{survey.slug}",
                 details={"scheme": scheme.name, "n": scheme.n, "converged": scheme.converged,
                          "iterations": scheme.iterations,
                          "design_effect": round(scheme.design_effect, 6)})
    db.session.flush()
    return scheme


def _weights(survey: Survey, scheme: WeightingScheme):
    variables = list(scheme.variables)
    answers = answers_by_respondent(survey, (*variables, COUNTRY_QUESTION))
    if any(COUNTRY_QUESTION in a for a in answers.values()):
        answers = {r: a for r, a in answers.items()
                   if a.get(COUNTRY_QUESTION) == scheme.geography}
    margins: list[dict[str, float]] = []
    sources: list[str] = []
    for variable in variables:
        found = benchmarks.shares_for(variable, scheme.geography)
        if found is None:
            raise WeightingError(f"No benchmark for {variable} in {scheme.geography}.")
        shares, source, year = found
        total = sum(shares.values())
        margins.append({c: s / total for c, s in shares.items() if s > 0})
        sources.append(f"{variable}: {source}, {year}")
    complete = sorted(r for r, a in answers.items()
                      if all(a.get(v) in margin for v, margin in zip(variables, margins,
                                                                     strict=True)))
    if not complete:
        raise WeightingError("No respondent answered every weighting variable.")
    for variable, margin in zip(variables, margins, strict=True):
        present = {answers[r][variable] for r in complete}
        empty = sorted(set(margin) - present)
        if empty:
            raise WeightingError(f"Nobody in {variable} category {', '.join(empty)}: "
                                 "merge it with a neighbour in the benchmark mapping.")
    orders = [sorted(margin) for margin in margins]
    codes = np.array([[order.index(answers[r][v]) for v, order in zip(variables, orders,
                                                                        strict=True)]
                      for r in complete], dtype=np.int64)
    try:
        if scheme.method == WeightingMethod.POSTSTRATIFY:
            population = {i: margins[0][c] for i, c in enumerate(orders[0])}
            weights = statistics.post_stratify(codes[:, 0], population)
            return complete, weights, None, sources
        bounds = (scheme.lower, scheme.upper) if scheme.lower is not None \
            and scheme.upper is not None else None
        result = statistics.rake(
            codes, [[margin[c] for c in order] for margin, order in zip(margins, orders,
                                                                        strict=True)],
            tolerance=scheme.tolerance, max_iterations=scheme.max_iterations,
            bounds=bounds, names=variables)
    except ValueError as error:
        raise WeightingError(str(error)) from error
    return complete, result.weights, result, sources


def weights_of(scheme: WeightingScheme) -> dict[int, float]:
    return dict(db.session.execute(select(ResponseWeight.response_id, ResponseWeight.weight)
                                   .where(ResponseWeight.scheme_id == scheme.id)).all())
