"""Completed responses written straight to the database, for analyses that need many.

The respondent path has its own tests; here only the stored answers matter, in the
same rows the path writes (one Answer per value).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal

from app.extensions import db
from app.participants.models import Participant
from app.surveys.models import Answer, Channel, Response, ResponseStatus
from app.surveys.services import definition_of, get_survey, latest_version
from app.timeutil import utcnow

NUMBER_TYPES = frozenset({"integer", "decimal", "rating"})
_counter = [0]


def store_responses(slug: str, people: Iterable[Mapping[str, str | list[str]]], *,
                    language: str = "en", channel: Channel = Channel.WEB,
                    completed_at: datetime | None = None) -> list[int]:
    """One complete response per mapping {question: value or [values]}; returns ids."""
    version = latest_version(get_survey(slug))
    numeric = {q.id for q in definition_of(version).questions() if q.type in NUMBER_TYPES}
    ids = []
    for answers in people:
        _counter[0] += 1
        participant = Participant()
        db.session.add(participant)
        db.session.flush()
        when = completed_at or utcnow()
        response = Response(
            survey_version_id=version.id, participant_id=participant.id,
            status=ResponseStatus.COMPLETE, channel=channel, language=language,
            languages=[language], started_at=when, updated_at=when, completed_at=when,
            resume_code_hash=hashlib.sha256(f"stored-{_counter[0]}-{participant.id}"
                                            .encode()).hexdigest())
        db.session.add(response)
        db.session.flush()
        for question, value in answers.items():
            values = value if isinstance(value, list) else [value]
            for position, item in enumerate(values):
                db.session.add(Answer(
                    response_id=response.id, question=question, item="", position=position,
                    value_text=None if question in numeric else item,
                    value_number=Decimal(item) if question in numeric else None))
        ids.append(response.id)
    db.session.commit()
    return ids
