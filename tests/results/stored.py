"""Completed responses written straight to the database, for analyses that need many.

The respondent path has its own tests; here only the stored answers matter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from app.extensions import db
from app.results.demo import store_responses as store
from app.surveys.models import Channel
from app.surveys.services import get_survey, latest_version


def store_responses(slug: str, people: Iterable[Mapping[str, str | list[str]]], *,
                    language: str = "en", channel: Channel = Channel.WEB,
                    completed_at: datetime | None = None) -> list[int]:
    """One complete response per mapping {question: value or [values]}; returns ids."""
    ids = store(latest_version(get_survey(slug)), people, language=language,
                channel=channel, completed_at=completed_at)
    db.session.commit()
    return ids
