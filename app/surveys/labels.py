"""What respondents read for choices and answers, in their language."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import format_date, format_decimal
from flask_babel import lazy_gettext as _l

from app.surveys import places
from app.surveys.definition import DONT_KNOW, OTHER, PREFER_NOT_TO_SAY, Choice, Question
from app.surveys.question_types import ChoiceAnswer, MultipleAnswer

BUILT_IN = {
    OTHER: _l("Other, please specify"),
    DONT_KNOW: _l("Don't know"),
    PREFER_NOT_TO_SAY: _l("Prefer not to say"),
    "yes": _l("Yes"),
    "no": _l("No"),
}


def choice_label(question: Question, choice: Choice, language: str) -> str:
    if choice.label:
        return choice.label.get(language)
    if question.type == "country" and not choice.special:
        return places.country_names(language).get(choice.value, choice.value)
    if question.type == "nuts_region" and not choice.special:
        return places.region_names().get(choice.value, choice.value)
    return str(BUILT_IN.get(choice.value, choice.value))


def _label_of(question: Question, value: str, language: str) -> str:
    choice = next((c for c in question.choices if c.value == value), None)
    return choice_label(question, choice, language) if choice else value


def display_answer(question: Question, value: Any, language: str) -> str:
    """An answer as a sentence fragment for the review page and receipts."""
    if value is None:
        return ""
    if isinstance(value, ChoiceAnswer):
        text = _label_of(question, value.value, language)
        return f"{text}: {value.other}" if value.other else text
    if isinstance(value, MultipleAnswer):
        parts = [_label_of(question, v, language) for v in value.values if v != OTHER]
        if value.other:
            parts.append(f"{BUILT_IN[OTHER]}: {value.other}")
        return "; ".join(parts)
    if question.type == "ranking":
        return "; ".join(
            f"{i + 1}. {_label_of(question, v, language)}" for i, v in enumerate(value)
        )
    if question.type == "matrix":
        return "; ".join(
            f"{row.label.get(language)}: {_label_of(question, value[row.id], language)}"
            for row in question.rows
            if row.id in value
        )
    if question.type == "rating" and isinstance(value, str):
        return _label_of(question, value, language)
    if isinstance(value, date):
        return format_date(value, "long")
    if isinstance(value, Decimal | int | float):
        text = format_decimal(value)
        unit = option_text(question, "unit", language)
        return f"{text} {unit}" if unit else text
    return str(value)


def option_text(question: Question, key: str, language: str) -> str:
    """A translatable type option (unit, min_label, max_label) in `language`."""
    value = question.option(key)
    if not value:
        return ""
    return value.get(language) or next(iter(value.values()), "")
