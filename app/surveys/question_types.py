"""Question types: one class per type, registered by name.

Each type knows which definition keys it accepts, how to read its answer from a
submitted page (keeping the person's wording for error messages), how to check
it, and how to store and reload it. Adding a type touches this file only (and a
template macro in `surveys/_questions.html`).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from app.surveys.answers import AnswerRow
from app.surveys.definition import NON_SUBSTANTIVE, OTHER, Choice, Question

OTHER_TEXT_MAX = 200


@dataclass(frozen=True)
class FieldError:
    """A message for one input; `input_name` is what the error summary links to."""

    input_name: str
    message: object


def input_id(name: str) -> str:
    """The HTML id of an input named `name` (dots are awkward in CSS selectors)."""
    return "f-" + name.replace(".", "-")


class QuestionType(ABC):
    name: ClassVar[str]
    extra_keys: ClassVar[frozenset[str]] = frozenset()
    uses_choices: ClassVar[bool] = False
    stores_answer: ClassVar[bool] = True

    @abstractmethod
    def read(
        self, question: Question, form: MultiDict, choices: tuple[Choice, ...]
    ) -> tuple[Any, list[FieldError]]:
        """The answer on the submitted page (None when left empty) and input errors."""

    def first_input(self, question: Question, choices: tuple[Choice, ...]) -> str:
        return question.id

    def to_rows(self, question: Question, value: Any) -> list[AnswerRow]:
        if value is None or value == "":
            return []
        return [AnswerRow(question.id, text=str(value))]

    def from_rows(self, question: Question, rows: list[AnswerRow]) -> Any:
        return rows[0].text if rows else None

    def expression_values(self, question: Question, value: Any) -> dict[str, Any]:
        """What `${id}` means in expressions for this answer."""
        return {question.id: value}

    def form_values(self, question: Question, value: Any) -> MultiDict:
        """The stored answer as the inputs of the page, to show it again."""
        if value is None:
            return MultiDict()
        return MultiDict({question.id: str(value)})

    def required_error(self, question: Question, choices) -> FieldError:
        return FieldError(self.first_input(question, choices), _l("Answer this question."))


# Registry -------------------------------------------------------------------

QUESTION_TYPES: dict[str, QuestionType] = {}


def register(cls: type[QuestionType]) -> type[QuestionType]:
    QUESTION_TYPES[cls.name] = cls()
    return cls


def question_type(name: str) -> QuestionType:
    return QUESTION_TYPES[name]


# Choice questions -----------------------------------------------------------

CHOICE_KEYS = frozenset({"choices", "choice_filter", "other", "dont_know", "prefer_not_to_say"})


def _other_text(question: Question, form: MultiDict, errors: list[FieldError]) -> str | None:
    name = f"{question.id}.{OTHER}"
    text = (form.get(name) or "").strip()
    anchor = f"{name}.text"
    if not text:
        errors.append(FieldError(anchor, _l("Say what your other answer is.")))
        return None
    if len(text) > OTHER_TEXT_MAX:
        errors.append(
            FieldError(anchor, _l("Use %(count)d characters or fewer.", count=OTHER_TEXT_MAX))
        )
    return text[:OTHER_TEXT_MAX]


@dataclass(frozen=True)
class ChoiceAnswer:
    """A single choice, with the "please specify" text when the choice is Other."""

    value: str
    other: str | None = None

    def __str__(self) -> str:
        return self.value


@register
class SingleChoice(QuestionType):
    name = "single_choice"
    extra_keys = CHOICE_KEYS | {"appearance"}
    uses_choices = True

    def first_input(self, question, choices):
        if question.option("appearance") == "dropdown" or not choices:
            return question.id
        return f"{question.id}.{choices[0].value}"

    def read(self, question, form, choices):
        raw = (form.get(question.id) or "").strip()
        if not raw:
            return None, []
        if raw not in {choice.value for choice in choices}:
            return None, [
                FieldError(
                    self.first_input(question, choices), _l("Select one of the answers shown.")
                )
            ]
        errors: list[FieldError] = []
        other = _other_text(question, form, errors) if raw == OTHER else None
        return ChoiceAnswer(raw, other), errors

    def to_rows(self, question, value):
        if value is None:
            return []
        rows = [AnswerRow(question.id, text=value.value)]
        if value.other:
            rows.append(AnswerRow(question.id, item=OTHER, text=value.other))
        return rows

    def from_rows(self, question, rows):
        main = next((r for r in rows if r.item == ""), None)
        if main is None:
            return None
        other = next((r.text for r in rows if r.item == OTHER), None)
        return ChoiceAnswer(main.text or "", other)

    def expression_values(self, question, value):
        return {question.id: value.value if value else None}

    def form_values(self, question, value):
        values = MultiDict()
        if value is not None:
            values[question.id] = value.value
            if value.other:
                values[f"{question.id}.{OTHER}"] = value.other
        return values


@register
class YesNo(SingleChoice):
    name = "yes_no"
    extra_keys = frozenset({"dont_know", "prefer_not_to_say"})


@register
class Likert(SingleChoice):
    name = "likert"
    extra_keys = CHOICE_KEYS


@register
class MultipleChoice(QuestionType):
    name = "multiple_choice"
    extra_keys = CHOICE_KEYS | {"min_selected", "max_selected"}
    uses_choices = True

    def first_input(self, question, choices):
        return f"{question.id}.{choices[0].value}" if choices else question.id

    def read(self, question, form, choices):
        allowed = [choice.value for choice in choices]
        picked = [value for value in dict.fromkeys(form.getlist(question.id)) if value]
        if not picked:
            return None, []
        anchor = self.first_input(question, choices)
        if any(value not in allowed for value in picked):
            return None, [FieldError(anchor, _l("Select only answers that are shown."))]
        picked.sort(key=allowed.index)
        errors: list[FieldError] = []
        if len(picked) > 1 and any(value in NON_SUBSTANTIVE for value in picked):
            errors.append(
                FieldError(
                    anchor,
                    _l(
                        "“Don't know” and “Prefer not to say” cannot be combined with other "
                        "answers."
                    ),
                )
            )
        substantive = [value for value in picked if value not in NON_SUBSTANTIVE]
        low, high = question.option("min_selected"), question.option("max_selected")
        if substantive and low and len(substantive) < low:
            errors.append(FieldError(anchor, _l("Select at least %(count)d answers.", count=low)))
        if high and len(substantive) > high:
            errors.append(
                FieldError(anchor, _l("Select no more than %(count)d answers.", count=high))
            )
        other = _other_text(question, form, errors) if OTHER in picked else None
        return MultipleAnswer(tuple(picked), other), errors

    def to_rows(self, question, value):
        if value is None:
            return []
        rows = [
            AnswerRow(question.id, position=index, text=choice)
            for index, choice in enumerate(value.values)
        ]
        if value.other:
            rows.append(AnswerRow(question.id, item=OTHER, text=value.other))
        return rows

    def from_rows(self, question, rows):
        values = tuple(r.text for r in sorted(rows, key=lambda r: r.position) if r.item == "")
        if not values:
            return None
        other = next((r.text for r in rows if r.item == OTHER), None)
        return MultipleAnswer(values, other)

    def expression_values(self, question, value):
        return {question.id: list(value.values) if value else None}

    def form_values(self, question, value):
        values = MultiDict()
        if value is not None:
            for choice in value.values:
                values.add(question.id, choice)
            if value.other:
                values[f"{question.id}.{OTHER}"] = value.other
        return values


@dataclass(frozen=True)
class MultipleAnswer:
    values: tuple[str, ...]
    other: str | None = None


@register
class Ranking(QuestionType):
    """Each item gets a position from a list, so it works without JavaScript."""

    name = "ranking"
    extra_keys = frozenset({"choices", "choice_filter"})
    uses_choices = True

    def first_input(self, question, choices):
        return f"{question.id}.{choices[0].value}" if choices else question.id

    def read(self, question, form, choices):
        positions: dict[str, int] = {}
        count = len(choices)
        for choice in choices:
            raw = (form.get(f"{question.id}.{choice.value}") or "").strip()
            if not raw:
                continue
            if not raw.isdigit() or not 1 <= int(raw) <= count:
                return None, [
                    FieldError(
                        f"{question.id}.{choice.value}", _l("Choose a position from the list.")
                    )
                ]
            positions[choice.value] = int(raw)
        if not positions:
            return None, []
        anchor = self.first_input(question, choices)
        if len(positions) != count:
            return None, [FieldError(anchor, _l("Give every item a position."))]
        if len(set(positions.values())) != count:
            return None, [FieldError(anchor, _l("Give each item a different position."))]
        return tuple(sorted(positions, key=positions.__getitem__)), []

    def to_rows(self, question, value):
        if not value:
            return []
        return [
            AnswerRow(question.id, position=index, text=item) for index, item in enumerate(value)
        ]

    def from_rows(self, question, rows):
        ordered = tuple(r.text for r in sorted(rows, key=lambda r: r.position))
        return ordered or None

    def expression_values(self, question, value):
        return {question.id: list(value) if value else None}

    def form_values(self, question, value):
        values = MultiDict()
        for index, item in enumerate(value or ()):
            values[f"{question.id}.{item}"] = str(index + 1)
        return values


@register
class Matrix(QuestionType):
    """Rows share one scale; each row is stored and referenced as `question.row`."""

    name = "matrix"
    extra_keys = CHOICE_KEYS | {"rows"}
    uses_choices = True

    def first_input(self, question, choices):
        row = question.rows[0].id
        return f"{question.id}.{row}.{choices[0].value}" if choices else question.id

    def read(self, question, form, choices):
        allowed = {choice.value for choice in choices}
        answers: dict[str, str] = {}
        errors: list[FieldError] = []
        for row in question.rows:
            raw = (form.get(f"{question.id}.{row.id}") or "").strip()
            if not raw:
                continue
            if raw not in allowed:
                errors.append(
                    FieldError(
                        f"{question.id}.{row.id}.{choices[0].value}",
                        _l("Select one of the answers shown."),
                    )
                )
                continue
            answers[row.id] = raw
        return (answers or None), errors

    def missing_rows(self, question: Question, value: dict | None) -> list[str]:
        return [row.id for row in question.rows if not value or row.id not in value]

    def to_rows(self, question, value):
        return [
            AnswerRow(question.id, item=row, text=answer) for row, answer in (value or {}).items()
        ]

    def from_rows(self, question, rows):
        return {r.item: r.text for r in rows} or None

    def expression_values(self, question, value):
        values: dict[str, Any] = {question.id: None}
        for row in question.rows:
            values[f"{question.id}.{row.id}"] = (value or {}).get(row.id)
        if value:
            values[question.id] = list(value.values())
        return values

    def form_values(self, question, value):
        return MultiDict({f"{question.id}.{row}": answer for row, answer in (value or {}).items()})


# Numbers --------------------------------------------------------------------

_INTEGER = re.compile(r"^[+-]?\d+$")


def _clean_number(raw: str) -> str:
    """Accept the ways people type numbers in Europe: 1 234,5 and 1234.5."""
    cleaned = raw.strip().replace("\u00a0", "").replace(" ", "").replace("\u202f", "")
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    return cleaned


def _bounds_error(question: Question, value: Decimal, name: str) -> FieldError | None:
    low, high = question.option("min"), question.option("max")
    low = Decimal(str(low)) if low is not None else None
    high = Decimal(str(high)) if high is not None else None
    if (low is not None and value < low) or (high is not None and value > high):
        if low is not None and high is not None:
            message = _l(
                "Enter a number from %(min)s to %(max)s.", min=_plain(low), max=_plain(high)
            )
        elif low is not None:
            message = _l("Enter a number of at least %(min)s.", min=_plain(low))
        else:
            message = _l("Enter a number of at most %(max)s.", max=_plain(high))
        return FieldError(name, message)
    return None


def _plain(number: Decimal) -> str:
    return format(number.normalize(), "f") if number == number.to_integral() else str(number)


class NumberType(QuestionType):
    extra_keys = frozenset({"min", "max", "unit"})
    integer_only: ClassVar[bool] = False

    def read(self, question, form, choices):
        raw = form.get(question.id) or ""
        if not raw.strip():
            return None, []
        cleaned = _clean_number(raw)
        if self.integer_only and not _INTEGER.match(cleaned):
            return None, [FieldError(question.id, _l("Enter a whole number, like 42."))]
        try:
            value = Decimal(cleaned)
        except InvalidOperation:
            return None, [FieldError(question.id, _l("Enter a number, like 42 or 3.5."))]
        if not value.is_finite() or abs(value) >= Decimal("1e12"):
            return None, [FieldError(question.id, _l("Enter a number, like 42 or 3.5."))]
        error = _bounds_error(question, value, question.id)
        return (int(value) if self.integer_only else value), [error] if error else []

    def to_rows(self, question, value):
        if value is None:
            return []
        return [AnswerRow(question.id, number=Decimal(value))]

    def from_rows(self, question, rows):
        if not rows or rows[0].number is None:
            return None
        number = rows[0].number
        return int(number) if self.integer_only else number

    def form_values(self, question, value):
        if value is None:
            return MultiDict()
        return MultiDict({question.id: _plain(Decimal(value))})


@register
class Integer(NumberType):
    name = "integer"
    integer_only = True


@register
class DecimalNumber(NumberType):
    name = "decimal"


@register
class Rating(Integer):
    """A 0 to 10 scale (by default) shown as a row of radio buttons."""

    name = "rating"
    extra_keys = frozenset(
        {"min", "max", "min_label", "max_label", "dont_know", "prefer_not_to_say"}
    )

    def scale(self, question: Question) -> range:
        return range(int(question.option("min", 0)), int(question.option("max", 10)) + 1)

    def first_input(self, question, choices):
        return f"{question.id}.{self.scale(question)[0]}"

    def read(self, question, form, choices):
        raw = (form.get(question.id) or "").strip()
        if raw in {choice.value for choice in choices if choice.special}:
            return raw, []
        if raw and raw.lstrip("-").isdigit() and int(raw) in self.scale(question):
            return int(raw), []
        if not raw:
            return None, []
        return None, [
            FieldError(self.first_input(question, choices), _l("Select one of the answers shown."))
        ]

    def to_rows(self, question, value):
        if value is None:
            return []
        if isinstance(value, str):
            return [AnswerRow(question.id, text=value)]
        return [AnswerRow(question.id, number=Decimal(value))]

    def from_rows(self, question, rows):
        if not rows:
            return None
        return rows[0].text if rows[0].number is None else int(rows[0].number)

    def form_values(self, question, value):
        return MultiDict() if value is None else MultiDict({question.id: str(value)})


# Text -----------------------------------------------------------------------


@register
class ShortText(QuestionType):
    name = "text"
    extra_keys = frozenset({"max_length"})
    default_max: ClassVar[int] = 200

    def max_length(self, question: Question) -> int:
        return int(question.option("max_length", self.default_max))

    def read(self, question, form, choices):
        text = (form.get(question.id) or "").strip()
        if not text:
            return None, []
        text = text.replace("\r\n", "\n")
        limit = self.max_length(question)
        if len(text) > limit:
            return text, [
                FieldError(
                    question.id,
                    _l("Your answer must be %(count)d characters or fewer.", count=limit),
                )
            ]
        return text, []


@register
class LongText(ShortText):
    name = "long_text"
    default_max = 5000


@register
class Email(QuestionType):
    name = "email"

    def read(self, question, form, choices):
        text = (form.get(question.id) or "").strip()
        if not text:
            return None, []
        try:
            checked = validate_email(text, check_deliverability=False)
        except EmailNotValidError:
            return text, [
                FieldError(question.id, _l("Enter an e-mail address in the form name@example.org."))
            ]
        return checked.normalized, []


# Dates ----------------------------------------------------------------------


@register
class DateQuestion(QuestionType):
    """Day, month and year as three boxes: the most reliable date input for everyone."""

    name = "date"
    extra_keys = frozenset({"min", "max"})
    parts = ("day", "month", "year")

    def first_input(self, question, choices):
        return f"{question.id}.day"

    def read(self, question, form, choices):
        raw = {part: (form.get(f"{question.id}.{part}") or "").strip() for part in self.parts}
        if not any(raw.values()):
            return None, []
        missing = [part for part in self.parts if not raw[part]]
        if missing:
            return None, [
                FieldError(f"{question.id}.{missing[0]}", _l("Enter the day, month and year."))
            ]
        try:
            day = date(int(raw["year"]), int(raw["month"]), int(raw["day"]))
            if len(raw["year"]) != 4:
                raise ValueError
        except ValueError:
            return None, [
                FieldError(f"{question.id}.day", _l("Enter a real date, for example 27 3 1960."))
            ]
        low = question.option("min")
        high = question.option("max")
        if low and day < date.fromisoformat(str(low)):
            return None, [
                FieldError(
                    f"{question.id}.day", _l("Enter a date on or after %(date)s.", date=str(low))
                )
            ]
        if high and day > date.fromisoformat(str(high)):
            return None, [
                FieldError(
                    f"{question.id}.day", _l("Enter a date on or before %(date)s.", date=str(high))
                )
            ]
        return day, []

    def to_rows(self, question, value):
        return [AnswerRow(question.id, day=value)] if value else []

    def from_rows(self, question, rows):
        return rows[0].day if rows else None

    def expression_values(self, question, value):
        return {question.id: value.isoformat() if value else None}

    def form_values(self, question, value):
        if value is None:
            return MultiDict()
        return MultiDict(
            {
                f"{question.id}.day": str(value.day),
                f"{question.id}.month": str(value.month),
                f"{question.id}.year": str(value.year),
            }
        )


# Places ---------------------------------------------------------------------


class PlacePicker(SingleChoice):
    """A long list, always a drop-down."""

    def first_input(self, question, choices):
        return question.id


@register
class Country(PlacePicker):
    name = "country"
    extra_keys = frozenset({"dont_know", "prefer_not_to_say", "appearance"})


@register
class NutsRegion(PlacePicker):
    name = "nuts_region"
    extra_keys = frozenset({"level", "country_question", "dont_know", "prefer_not_to_say"})


# Without an answer ------------------------------------------------------------


@register
class Note(QuestionType):
    name = "note"
    stores_answer = False

    def read(self, question, form, choices):
        return None, []


@register
class Calculate(QuestionType):
    """Computed from other answers after every page; never typed by the respondent."""

    name = "calculate"
    extra_keys = frozenset({"calculation", "show_on_result_page"})

    def read(self, question, form, choices):
        return None, []

    def to_rows(self, question, value):
        if value is None or value == "":
            return []
        try:
            return [AnswerRow(question.id, number=Decimal(str(value)))]
        except InvalidOperation:
            return [AnswerRow(question.id, text=str(value))]

    def from_rows(self, question, rows):
        if not rows:
            return None
        return rows[0].number if rows[0].number is not None else rows[0].text


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == () or value == {}
