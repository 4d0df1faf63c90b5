"""What the question macros need to draw one page for one respondent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import MultiDict

from app.surveys import engine, labels
from app.surveys.definition import Choice, Question
from app.surveys.question_types import OTHER, FieldError, Rating, input_id, question_type


@dataclass
class PageContext:
    language: str
    values: MultiDict
    errors: dict[str, object]  # input id -> message
    scope: dict[str, Any]

    @classmethod
    def build(
        cls, language: str, values: MultiDict, errors: list[FieldError], scope: dict[str, Any]
    ) -> PageContext:
        by_input: dict[str, object] = {}
        for error in errors:
            by_input.setdefault(input_id(error.input_name), error.message)
        return cls(language, values, by_input, scope)

    def error_for(self, question: Question) -> object | None:
        """The message shown under the question (the "please specify" box has its own)."""
        own = input_id(question.id)
        other_text = input_id(f"{question.id}.{OTHER}.text")
        for key, message in self.errors.items():
            if key != other_text and (key == own or key.startswith(own + "-")):
                return message
        return None

    def other_error(self, question: Question) -> object | None:
        return self.errors.get(input_id(f"{question.id}.{OTHER}.text"))

    def choices(self, question: Question) -> tuple[Choice, ...]:
        return engine.choices_for(question, self.scope)

    def label(self, question: Question, choice: Choice) -> str:
        return labels.choice_label(question, choice, self.language)

    def option_text(self, question: Question, key: str) -> str:
        return labels.option_text(question, key, self.language)

    def scale(self, question: Question) -> list[int]:
        qtype = question_type(question.type)
        return list(qtype.scale(question)) if isinstance(qtype, Rating) else []

    def applies(self, question: Question) -> bool:
        return engine.question_applies(question, self.scope)
