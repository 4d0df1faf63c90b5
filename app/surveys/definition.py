"""A validated survey definition: what a respondent sees, independent of storage.

Built only by `app.surveys.loader`, which checks everything first, so code that
takes a Definition can trust every reference and expression in it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from app.surveys.expressions import Expression

# Choice values reserved for non-substantive answers; analysis flags them.
OTHER = "_other"
DONT_KNOW = "_dont_know"
PREFER_NOT_TO_SAY = "_prefer_not_to_say"
NON_SUBSTANTIVE = frozenset({DONT_KNOW, PREFER_NOT_TO_SAY})
SPECIAL_FLAGS = {"other": OTHER, "dont_know": DONT_KNOW, "prefer_not_to_say": PREFER_NOT_TO_SAY}


@dataclass(frozen=True)
class Text:
    """A text in several languages, read in the respondent's with a fallback."""

    values: Mapping[str, str]
    default_language: str

    def get(self, language: str) -> str:
        return self.values.get(language) or self.values.get(self.default_language, "")

    def __bool__(self) -> bool:
        return any(self.values.values())


@dataclass(frozen=True)
class Choice:
    value: str
    label: Text | None  # None for the built-in special choices, labelled by the app
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def special(self) -> bool:
        return self.value.startswith("_")


@dataclass(frozen=True)
class MatrixRow:
    id: str
    label: Text


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    page_id: str
    label: Text | None
    hint: Text | None = None
    required: bool = False
    read_only: bool = False
    relevant: Expression | None = None
    constraint: Expression | None = None
    constraint_message: Text | None = None
    choices: tuple[Choice, ...] = ()
    choice_filter: Expression | None = None
    rows: tuple[MatrixRow, ...] = ()
    calculation: Expression | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    # The consent purpose this question's answer is stored under (None: the survey's own).
    purpose: str | None = None
    # Contact details (name, e-mail, phone) are stored apart from answers.
    contact: bool = False

    def option(self, name: str, default: Any = None) -> Any:
        return self.options.get(name, default)

    @property
    def has_other(self) -> bool:
        return any(choice.value == OTHER for choice in self.choices)


@dataclass(frozen=True)
class Page:
    id: str
    title: Text | None
    description: Text | None
    relevant: Expression | None
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Quota:
    id: str
    when: Expression
    limit: int
    message: Text | None


@dataclass(frozen=True)
class Settings:
    mode: str = "anonymous"
    opens: datetime | None = None
    closes: datetime | None = None
    response_limit: int | None = None
    quotas: tuple[Quota, ...] = ()
    result_page: bool = False


@dataclass(frozen=True)
class Definition:
    id: str
    kind: str
    version: int
    default_language: str
    languages: tuple[str, ...]
    title: Text
    description: Text | None
    consent_purposes: tuple[str, ...]
    consent_document: str | None
    settings: Settings
    pages: tuple[Page, ...]
    # The definition with includes resolved, as plain data: what is stored and hashed.
    data: Mapping[str, Any]

    def questions(self) -> Iterator[Question]:
        for page in self.pages:
            yield from page.questions

    def question(self, question_id: str) -> Question:
        for question in self.questions():
            if question.id == question_id:
                return question
        raise KeyError(question_id)

    def page(self, page_id: str) -> Page:
        for page in self.pages:
            if page.id == page_id:
                return page
        raise KeyError(page_id)

    def language_for(self, requested: str) -> str:
        return requested if requested in self.languages else self.default_language

    def without_purposes(self, refused: frozenset[str]) -> Definition:
        """The survey as shown to someone who refused `refused`: those questions are gone."""
        if not refused:
            return self
        pages = []
        for page in self.pages:
            kept = tuple(q for q in page.questions if q.purpose not in refused)
            if kept:
                pages.append(replace(page, questions=kept))
        return replace(self, pages=tuple(pages))
