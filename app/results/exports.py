"""Row-level exports for analysts: pseudonymous, without contact details, and without
anyone whose current consent no longer allows analysis."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from sqlalchemy import select

from app.consent.services import analysable_response_ids
from app.extensions import db
from app.surveys.models import Answer, Response, Survey, SurveyVersion

BATCH = 500  # responses read per query
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
    """The analysable answers of a survey, one value per line, streamed in chunks.

    Responses are read BATCH at a time with their answers in one query, as plain
    columns, so memory stays flat whatever the survey size.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(LONG_COLUMNS)
    ids = analysable_response_ids(survey.id)
    for start in range(0, len(ids), BATCH):
        rows = db.session.execute(
            select(Response.id, SurveyVersion.number, Response.language, Response.completed_at,
                   Answer.question, Answer.item, Answer.position, Answer.value_text,
                   Answer.value_number, Answer.value_date)
            .join(SurveyVersion, SurveyVersion.id == Response.survey_version_id)
            .join(Answer, Answer.response_id == Response.id)
            .where(Response.id.in_(ids[start:start + BATCH]))
            .order_by(Response.id, Answer.question, Answer.item, Answer.position))
        for row in rows:
            writer.writerow([
                row.id, row.number, row.language,
                row.completed_at.isoformat() if row.completed_at else "",
                row.question, row.item, row.position,
                neutralise(row.value_text),
                "" if row.value_number is None else format(row.value_number.normalize(), "f"),
                row.value_date.isoformat() if row.value_date else "",
            ])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
