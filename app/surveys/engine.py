"""Taking a survey: which pages apply, reading a page, calculations, progress.

Pure functions over a Definition and the answers so far (question id -> value);
no database, no Flask. Views and services call these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from app.surveys.definition import Choice, Definition, Page, Question
from app.surveys.expressions import evaluate_bool
from app.surveys.question_types import FieldError, Matrix, is_empty, question_type

Answers = dict[str, Any]


def scope_of(definition: Definition, answers: Answers) -> dict[str, Any]:
    """What `${...}` refers to: every answered question, matrix rows included."""
    scope: dict[str, Any] = {}
    for question in definition.questions():
        if question.id in answers:
            scope.update(
                question_type(question.type).expression_values(question, answers[question.id])
            )
    return scope


def page_applies(page: Page, scope: dict[str, Any]) -> bool:
    return page.relevant is None or evaluate_bool(page.relevant, scope)


def question_applies(question: Question, scope: dict[str, Any]) -> bool:
    return question.relevant is None or evaluate_bool(question.relevant, scope)


def choices_for(question: Question, scope: dict[str, Any]) -> tuple[Choice, ...]:
    """The choices shown now: the choice filter applies, special choices always stay."""
    choices = question.choices
    if question.type == "nuts_region" and question.option("country_question"):
        country = scope.get(question.option("country_question"))
        if country and not str(country).startswith("_"):
            choices = tuple(c for c in choices if c.special or c.extra.get("country") == country)
    if question.choice_filter is None:
        return choices
    return tuple(
        c
        for c in choices
        if c.special
        or evaluate_bool(question.choice_filter, scope, choice={"value": c.value, **c.extra})
    )


def pages_that_apply(definition: Definition, answers: Answers) -> list[Page]:
    """Pages in order, leaving out those whose relevance is false given earlier answers."""
    shown = []
    scope: dict[str, Any] = {}
    for page in definition.pages:
        if page_applies(page, scope):
            shown.append(page)
        # Later pages see this page's answers, whether or not it applied.
        for question in page.questions:
            if question.id in answers:
                scope.update(question_type(question.type).expression_values(
                    question, answers[question.id]))
    return shown


def next_page(definition: Definition, answers: Answers, current: str | None) -> Page | None:
    pages = pages_that_apply(definition, answers)
    if current is None:
        return pages[0] if pages else None
    order = [p.id for p in definition.pages]
    position = order.index(current)
    return next((p for p in pages if order.index(p.id) > position), None)


def previous_page(definition: Definition, answers: Answers, current: str) -> Page | None:
    pages = pages_that_apply(definition, answers)
    order = [p.id for p in definition.pages]
    position = order.index(current)
    before = [p for p in pages if order.index(p.id) < position]
    return before[-1] if before else None


@dataclass(frozen=True)
class Progress:
    number: int  # this page's position among the pages that apply
    total: int

    @property
    def percent(self) -> int:
        return round(100 * (self.number - 1) / self.total) if self.total else 100


def progress(definition: Definition, answers: Answers, current: str) -> Progress:
    pages = [p.id for p in pages_that_apply(definition, answers)]
    number = pages.index(current) + 1 if current in pages else len(pages)
    return Progress(number, len(pages))


@dataclass
class PageReading:
    """The answers read from a submitted page, or why they cannot be accepted."""

    values: Answers = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def read_page(definition: Definition, page: Page, form: MultiDict, answers: Answers) -> PageReading:
    """Read and check every question that applies on `page`, in order."""
    others = {qid: v for qid, v in answers.items() if qid not in {q.id for q in page.questions}}
    scope = scope_of(definition, others)
    reading = PageReading()
    for question in page.questions:
        qtype = question_type(question.type)
        if not qtype.stores_answer or question.type == "calculate" or question.read_only:
            continue
        if not question_applies(question, scope):
            continue
        choices = choices_for(question, scope)
        value, errors = qtype.read(question, form, choices)
        if errors:
            reading.errors.extend(errors)
            continue
        if is_empty(value):
            if question.required:
                reading.errors.append(qtype.required_error(question, choices))
            continue
        if isinstance(qtype, Matrix) and question.required:
            missing = qtype.missing_rows(question, value)
            if missing:
                reading.errors.append(
                    FieldError(
                        f"{question.id}.{missing[0]}.{choices[0].value}", _l("Answer every row.")
                    )
                )
                continue
        current = qtype.expression_values(question, value)
        if question.constraint is not None and not evaluate_bool(
            question.constraint, {**scope, **current}, current=current[question.id]
        ):
            message = question.constraint_message or _l("This answer is not possible.")
            reading.errors.append(FieldError(qtype.first_input(question, choices), message))
            continue
        reading.values[question.id] = value
        scope.update(current)
    return reading


def merge_page(definition: Definition, page: Page, answers: Answers, values: Answers) -> Answers:
    """Answers after saving `page`: its old answers replaced, calculations refreshed."""
    on_page = {q.id for q in page.questions}
    merged = {qid: v for qid, v in answers.items() if qid not in on_page}
    merged.update(values)
    return calculate(definition, merged)


def calculate(definition: Definition, answers: Answers) -> Answers:
    """Compute calculate questions in definition order, each seeing those before it."""
    result = dict(answers)
    for question in definition.questions():
        if question.type != "calculate" or question.calculation is None:
            continue
        value = question.calculation.evaluate(scope_of(definition, result))
        if is_empty(value) or isinstance(value, list | bool):
            result.pop(question.id, None)
            if isinstance(value, bool):
                result[question.id] = int(value)
        else:
            result[question.id] = value
    return result


def prune(definition: Definition, answers: Answers) -> Answers:
    """Drop answers to questions that no longer apply (a changed earlier answer)."""
    kept: Answers = {}
    for page in definition.pages:
        if not page_applies(page, scope_of(definition, kept)):
            continue
        for question in page.questions:
            if question.id in answers and question_applies(question, scope_of(definition, kept)):
                kept[question.id] = answers[question.id]
    return calculate(definition, kept)


def unanswered_required(definition: Definition, answers: Answers) -> list[Page]:
    """Pages that apply but still lack a required answer (checked before submitting)."""
    missing = []
    for page in pages_that_apply(definition, answers):
        scope = scope_of(definition, answers)
        for question in page.questions:
            if (
                question.required
                and question_type(question.type).stores_answer
                and question.type != "calculate"
                and question_applies(question, scope)
                and is_empty(answers.get(question.id))
            ):
                missing.append(page)
                break
    return missing


def follow_ups(page: Page, scope: dict[str, Any], shown: set[str]) -> list[Question]:
    """Questions that apply only because of an answer just given on this page.

    Without JavaScript they cannot appear as the person types, so the page is
    shown once more with them, instead of skipping them silently.
    """
    on_page = {question.id for question in page.questions}
    return [
        question for question in page.questions
        if question.id not in shown and question.relevant is not None
        and any(name.split(".")[0] in on_page for name in question.relevant.references)
        and question_type(question.type).stores_answer and question.type != "calculate"
        and question_applies(question, scope)
    ]
