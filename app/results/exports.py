"""Row-level exports for analysts: pseudonymous, without contact details, and without
anyone whose current consent no longer allows analysis."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from sqlalchemy import select

from app.consent.services import analysable_responses
from app.extensions import db
from app.surveys.models import Answer, Survey

LONG_COLUMNS = ["response", "survey_version", "language", "completed_utc", "question", "item",
                "position", "value_text", "value_number", "value_date"]
# A spreadsheet runs a cell starting with these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def long_csv(survey: Survey) -> Iterator[str]:
    """The analysable answers of a survey, one value per line, streamed in chunks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(LONG_COLUMNS)
    for response in analysable_responses(survey.id):
        answers = db.session.scalars(select(Answer).where(Answer.response_id == response.id)
                                     .order_by(Answer.question, Answer.item, Answer.position))
        for answer in answers:
            writer.writerow([
                response.id, response.version.number, response.language,
                response.completed_at.isoformat() if response.completed_at else "",
                answer.question, answer.item, answer.position,
                neutralise(answer.value_text),
                "" if answer.value_number is None else format(answer.value_number.normalize(), "f"),
                answer.value_date.isoformat() if answer.value_date else "",
            ])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
