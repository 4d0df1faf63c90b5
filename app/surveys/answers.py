"""How an answer is stored: long format, one row per value, typed columns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class AnswerRow:
    """One stored value of one question.

    `item` names the matrix row, or `_other` for the "please specify" text;
    `position` orders the values of multiple choice and ranking answers.
    """

    question: str
    item: str = ""
    position: int = 0
    text: str | None = None
    number: Decimal | None = None
    day: date | None = None
