"""What erasing a participant removes from events: registrations and their places."""

from __future__ import annotations

from sqlalchemy import delete, select

from app.events.models import Registration, SessionChoice
from app.extensions import db


def erase_participant(participant_id: str) -> dict[str, int]:
    """Runs inside consent.services.erase, which logs the counts and commits.

    Published selections keep the bare registration numbers they were drawn with, so
    the lottery stays verifiable; nothing links those numbers to the person any more.
    """
    ids = list(db.session.scalars(select(Registration.id).where(
        Registration.participant_id == participant_id)))
    if not ids:
        return {"registrations": 0}
    db.session.execute(delete(SessionChoice).where(SessionChoice.registration_id.in_(ids)))
    count = db.session.execute(delete(Registration).where(Registration.id.in_(ids))).rowcount
    return {"registrations": count or 0}
