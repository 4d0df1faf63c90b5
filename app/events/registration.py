"""Registering for an event: the registration survey, session choices, the private link."""

from __future__ import annotations

from collections.abc import Collection

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.consent.models import ContactDetail
from app.errors import DomainError
from app.events.models import (
    ChoiceStatus,
    Event,
    Registration,
    SessionChoice,
)
from app.events.services import registration_closed_reason
from app.extensions import db
from app.surveys import services as surveys
from app.surveys.codes import code_hash, new_code
from app.surveys.models import Response, ResponseStatus, SurveyVersion
from app.timeutil import utcnow

# Choices a registrant may still change or withdraw themselves.
OPEN_CHOICES = (ChoiceStatus.REGISTERED, ChoiceStatus.WAITLISTED, ChoiceStatus.SELECTED,
                ChoiceStatus.INVITED, ChoiceStatus.CONFIRMED)


def registration_response(event: Event, participant_id: str | None) -> Response | None:
    """The person's latest completed answers to the event's registration survey."""
    if not participant_id:
        return None
    survey = surveys.get_survey(event.registration_survey)
    if survey is None:
        return None
    return db.session.scalar(
        select(Response).join(SurveyVersion)
        .where(SurveyVersion.survey_id == survey.id, Response.participant_id == participant_id,
               Response.status == ResponseStatus.COMPLETE)
        .order_by(Response.completed_at.desc()).limit(1))


def registration_responses(event: Event, participant_ids: Collection[str]
                           ) -> dict[str, int]:
    """participant id -> id of their latest completed registration answers, in one query."""
    survey = surveys.get_survey(event.registration_survey)
    if survey is None or not participant_ids:
        return {}
    rows = db.session.execute(
        select(Response.participant_id, Response.id).join(SurveyVersion)
        .where(SurveyVersion.survey_id == survey.id,
               Response.participant_id.in_(list(participant_ids)),
               Response.status == ResponseStatus.COMPLETE)
        .order_by(Response.completed_at, Response.id))
    return dict(rows.all())  # later rows win: the latest response per person


def registration_of(event: Event, participant_id: str | None) -> Registration | None:
    if not participant_id:
        return None
    return db.session.scalar(select(Registration).where(
        Registration.event_id == event.id, Registration.participant_id == participant_id))


def find_by_code(event: Event, code: str) -> Registration | None:
    if not code:
        return None
    return db.session.scalar(select(Registration).where(
        Registration.event_id == event.id, Registration.code_hash == code_hash(code)))


def register(event: Event, participant_id: str, session_ids: Collection[int],
             language: str) -> tuple[Registration, str | None]:
    """Register (or change an existing registration's sessions); returns the private code
    when a new one was made, since only its hash is kept."""
    reason = registration_closed_reason(event)
    if reason:
        raise DomainError(reason)
    valid = {s.id for s in event.sessions}
    chosen = {int(s) for s in session_ids if int(s) in valid}
    if not chosen:
        raise DomainError(_l("Choose at least one session."), field="sessions")
    registration = registration_of(event, participant_id)
    code = None
    if registration is None:
        code = new_code()
        registration = Registration(event=event, participant_id=participant_id,
                                    code_hash=code_hash(code), language=language)
        db.session.add(registration)
    registration.language = language
    registration.cancelled_at = None
    choose_sessions(registration, chosen)
    db.session.flush()
    return registration, code


def choose_sessions(registration: Registration, chosen: Collection[int]) -> None:
    """Add new choices; cancel dropped ones; re-open ones cancelled before."""
    by_session = {c.session_id: c for c in registration.choices}
    for session_id in chosen:
        choice = by_session.get(session_id)
        if choice is None:
            registration.choices.append(SessionChoice(session_id=session_id,
                                                      status=ChoiceStatus.REGISTERED))
        elif choice.status == ChoiceStatus.CANCELLED:
            choice.status = ChoiceStatus.REGISTERED
    for session_id, choice in by_session.items():
        if session_id not in chosen and choice.status in OPEN_CHOICES:
            choice.status = ChoiceStatus.CANCELLED
            choice.answered_at = utcnow()


def cancel(registration: Registration) -> None:
    """Withdraw from every session; the seats go to the waiting list."""
    choose_sessions(registration, [])
    registration.cancelled_at = utcnow()


def contact_of(participant_id: str) -> dict[str, str]:
    """Name, e-mail and phone the person gave in the registration survey, if any."""
    return dict(db.session.execute(select(ContactDetail.field, ContactDetail.value).where(
        ContactDetail.participant_id == participant_id)).all())


def new_private_code(registration: Registration) -> str:
    """Replace the private link (e.g. when sent again); the old one stops working."""
    code = new_code()
    registration.code_hash = code_hash(code)
    return code
