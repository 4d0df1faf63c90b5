"""Events and their sessions: create, edit, list, and turn local times into UTC."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.errors import DomainError
from app.events.models import (
    ChoiceStatus,
    Event,
    EventSession,
    EventStatus,
    EventText,
    SessionChoice,
    SessionMode,
)
from app.extensions import db
from app.hubs.models import Hub
from app.multilingual import sync_by_language
from app.timeutil import utcnow

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Seats that count against capacity: people drawn, invited or coming.
TAKEN = (ChoiceStatus.SELECTED, ChoiceStatus.INVITED, ChoiceStatus.CONFIRMED)


@dataclass(frozen=True)
class TextInput:
    language: str
    title: str
    description: str = ""
    accessibility_note: str = ""


@dataclass(frozen=True)
class SessionInput:
    country: str
    venue: str
    online_url: str
    mode: SessionMode
    languages: list[str]
    interpretation: list[str]
    local_start: datetime  # naive wall-clock time in ``timezone``
    local_end: datetime
    timezone: str
    capacity: int


def zones() -> list[str]:
    """IANA zones people pick from: Europe's first, then the rest."""
    names = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))
    return [z for z in names if z.startswith("Europe/")] + \
        [z for z in names if not z.startswith("Europe/")]


def to_utc(local: datetime, zone_name: str, field: str) -> datetime:
    """A wall-clock time in a zone as UTC; times the clocks skip are refused."""
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise DomainError(_l("Choose a time zone from the list."), field="timezone") from error
    aware = local.replace(tzinfo=zone)
    back = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if back != local:
        raise DomainError(_l("This time does not exist there: the clocks go forward at that "
                             "moment. Choose a time an hour later."), field=field)
    return aware.astimezone(UTC)


def get_by_slug(slug: str) -> Event | None:
    return db.session.scalar(select(Event).where(Event.slug == slug))


def create_event(*, slug: str, hub: Hub, default_language: str,
                 texts: Iterable[TextInput]) -> Event:
    if not SLUG_PATTERN.match(slug):
        raise DomainError(_l("Use lower-case letters, digits and hyphens only, for example "
                             "screening-rural-areas."), field="slug")
    if get_by_slug(slug) is not None:
        raise DomainError(_l("Another event already uses this web address."), field="slug")
    event = Event(slug=slug, hub=hub, default_language=default_language,
                  status=EventStatus.DRAFT, accessibility=[])
    db.session.add(event)
    set_texts(event, texts)
    db.session.flush()
    return event


def set_texts(event: Event, texts: Iterable[TextInput]) -> None:
    """Replace the per-language texts; a language left without a title is dropped."""
    wanted = {t.language: t for t in texts if t.title}
    if event.default_language not in wanted:
        raise DomainError(_l("Give a title in the main language."),
                          field=f"title_{event.default_language}")
    def fill(row: EventText, given: TextInput) -> None:
        row.title, row.description = given.title, given.description
        row.accessibility_note = given.accessibility_note

    sync_by_language(event.texts, wanted, lambda lang: EventText(language=lang), fill)
    event.updated_at = utcnow()


def save_session(event: Event, given: SessionInput, session: EventSession | None = None
                 ) -> EventSession:
    """Add a session or change one; a change of time or place bumps its calendar sequence."""
    starts = to_utc(given.local_start, given.timezone, "local_start")
    ends = to_utc(given.local_end, given.timezone, "local_end")
    if ends <= starts:
        raise DomainError(_l("The session must end after it starts."), field="local_end")
    if given.capacity < 1:
        raise DomainError(_l("Enter how many people can take part, for example 30."),
                          field="capacity")
    if given.mode != SessionMode.IN_PERSON and not given.online_url:
        raise DomainError(_l("Give the link for joining online."), field="online_url")
    if given.mode != SessionMode.ONLINE and not given.venue:
        raise DomainError(_l("Give the venue's name and address."), field="venue")
    if session is None:
        session = EventSession(event=event)
        db.session.add(session)
    elif (session.starts_at, session.ends_at, session.venue, session.online_url) != (
            starts, ends, given.venue, given.online_url):
        session.sequence += 1
    session.country, session.venue, session.online_url = (given.country, given.venue,
                                                           given.online_url)
    session.mode, session.languages = given.mode, list(given.languages)
    session.interpretation = list(given.interpretation)
    session.starts_at, session.ends_at, session.timezone = starts, ends, given.timezone
    session.capacity = given.capacity
    db.session.flush()
    return session


def delete_session(session: EventSession) -> None:
    if db.session.scalar(select(SessionChoice.id).where(
            SessionChoice.session_id == session.id).limit(1)) is not None:
        raise DomainError(_l("People have registered for this session; it cannot be "
                             "deleted. Change it instead, and they will get a new calendar "
                             "entry."))
    db.session.delete(session)


def registration_closed_reason(event: Event, now: datetime | None = None) -> str | None:
    """Why registration is not possible now, in the reader's language, or None."""
    now = now or utcnow()
    if event.status != EventStatus.PUBLISHED:
        return str(_l("Registration is not open."))
    if event.registration_opens and now < event.registration_opens:
        return str(_l("Registration has not opened yet."))
    if event.registration_closes and now >= event.registration_closes:
        return str(_l("Registration has closed."))
    if not event.sessions:
        return str(_l("Registration is not open."))
    return None


def public_events() -> list[Event]:
    """Published events, soonest first; those with every session past go last."""
    events = list(db.session.scalars(select(Event).where(
        Event.status == EventStatus.PUBLISHED)))
    now = utcnow()

    def key(event: Event):
        upcoming = [s.starts_at for s in event.sessions if s.ends_at >= now]
        return (not upcoming, min(upcoming) if upcoming else now)

    return sorted(events, key=key)


def all_events() -> list[Event]:
    return list(db.session.scalars(select(Event).order_by(Event.created_at.desc())))


def taken_seats(session: EventSession) -> int:
    return len(db.session.scalars(select(SessionChoice.id).where(
        SessionChoice.session_id == session.id, SessionChoice.status.in_(TAKEN))).all())
