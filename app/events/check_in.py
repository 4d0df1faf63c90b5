"""Check-in on the day: find people by name or ticket, record attendance, add walk-ins."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.audit.services import record as audit
from app.consent import services as consent
from app.consent.models import ConsentChannel, ContactDetail
from app.errors import DomainError
from app.events.models import ChoiceStatus, EventSession, Registration, SessionChoice
from app.extensions import db
from app.participants.models import Participant
from app.surveys.codes import code_hash, new_code
from app.timeutil import utcnow

EXPECTED = (ChoiceStatus.CONFIRMED, ChoiceStatus.INVITED, ChoiceStatus.SELECTED)
WALK_IN_PURPOSES = ("participation", "contact")


@dataclass(frozen=True)
class Expected:
    choice: SessionChoice
    name: str


def expected(session: EventSession) -> list[Expected]:
    """People expected at the session (and those already in), by name."""
    choices = list(db.session.scalars(select(SessionChoice).where(
        SessionChoice.session_id == session.id,
        SessionChoice.status.in_(EXPECTED) | SessionChoice.checked_in_at.is_not(None))))
    names = dict(db.session.execute(select(ContactDetail.participant_id, ContactDetail.value)
                                    .where(ContactDetail.field == "full_name",
                                           ContactDetail.participant_id.in_(
                                               [c.registration.participant_id
                                                for c in choices]))).all())
    found = [Expected(c, str(names.get(c.registration.participant_id, "")))
             for c in choices]
    return sorted(found, key=lambda e: (e.name.casefold(), e.choice.id))


def matching(people: list[Expected], query: str) -> list[Expected]:
    """Those whose name contains the query, ignoring case and extra spaces."""
    wanted = " ".join(query.split()).casefold()
    return [p for p in people if wanted in p.name.casefold()] if wanted else people


def check_in(choice: SessionChoice, *, staff_id: int) -> bool:
    """Record attendance once; returns False when the person was already checked in."""
    if choice.checked_in_at is not None:
        return False
    if choice.status == ChoiceStatus.CANCELLED:
        raise DomainError(_l("This person cancelled their registration."))
    choice.checked_in_at, choice.checked_in_by = utcnow(), staff_id
    if choice.status in (ChoiceStatus.INVITED, ChoiceStatus.SELECTED,
                         ChoiceStatus.WAITLISTED, ChoiceStatus.DECLINED):
        choice.status = ChoiceStatus.CONFIRMED
    audit(action="event.checked_in", actor=f"user:{staff_id}",
          subject=f"session:{choice.session_id}")
    return True


def walk_in(session: EventSession, *, name: str, email: str, language: str,
            signed: bool, staff_id: int) -> SessionChoice:
    """Someone who turns up unregistered and signs the paper consent form at the door."""
    name = " ".join(name.split())
    if not name:
        raise DomainError(_l("Enter the person's name."), field="name")
    if not signed:
        raise DomainError(_l("Confirm that the person signed the consent form."),
                          field="signed")
    document = consent.get_document("echos-participation")
    version = consent.latest_version(document)
    definition = consent.definition_of(version)
    person = Participant()
    db.session.add(person)
    db.session.flush()
    granted = ["participation", "contact"] if email else ["participation"]
    consent.give_consent(participant=person, version=version,
                         language=definition.language_for(language),
                         asked=[p for p in WALK_IN_PURPOSES
                                if p in {x.id for x in definition.purposes}],
                         granted=granted, channel=ConsentChannel.EVENT,
                         actor=f"staff:{staff_id}")
    db.session.add(ContactDetail(participant_id=person.id, field="full_name", value=name))
    if email:
        db.session.add(ContactDetail(participant_id=person.id, field="email", value=email))
    registration = Registration(event_id=session.event_id, participant_id=person.id,
                                code_hash=code_hash(new_code()), language=language,
                                channel="walk_in")
    db.session.add(registration)
    choice = SessionChoice(session_id=session.id, status=ChoiceStatus.CONFIRMED,
                           checked_in_at=utcnow(), checked_in_by=staff_id)
    registration.choices.append(choice)
    db.session.flush()
    audit(action="event.walk_in", actor=f"user:{staff_id}", subject=f"session:{session.id}")
    return choice
