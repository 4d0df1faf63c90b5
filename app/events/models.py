"""Events, their sessions across countries, registrations, panel selections, attendance.

Times are stored in UTC with the session's IANA zone beside them, so a session is shown
in its own wall-clock time and in the visitor's, and calendar files carry the zone.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.hubs.models import Hub
from app.timeutil import utcnow
from app.types import UTCDateTime, value_enum


class EventStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"

    @property
    def label(self) -> str:
        return str({EventStatus.DRAFT: _l("Draft"), EventStatus.PUBLISHED: _l("Published"),
                    EventStatus.ARCHIVED: _l("Archived")}[self])


class SessionMode(enum.StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"
    HYBRID = "hybrid"

    @property
    def label(self) -> str:
        return str({SessionMode.IN_PERSON: _l("In person"), SessionMode.ONLINE: _l("Online"),
                    SessionMode.HYBRID: _l("In person and online")}[self])


class ChoiceStatus(enum.StrEnum):
    """Where one registrant stands for one session."""

    REGISTERED = "registered"  # waiting for the selection
    SELECTED = "selected"  # drawn for the panel, not yet invited
    INVITED = "invited"  # invitation sent, waiting for an answer
    CONFIRMED = "confirmed"  # said yes
    DECLINED = "declined"  # said no
    WAITLISTED = "waitlisted"  # not drawn; may be invited if places free up
    CANCELLED = "cancelled"  # withdrew their registration

    @property
    def label(self) -> str:
        return str(CHOICE_LABELS[self])


CHOICE_LABELS = {
    ChoiceStatus.REGISTERED: _l("Registered, waiting for the selection"),
    ChoiceStatus.SELECTED: _l("Selected, invitation coming"),
    ChoiceStatus.INVITED: _l("Invited, please answer"),
    ChoiceStatus.CONFIRMED: _l("Coming"),
    ChoiceStatus.DECLINED: _l("Not coming"),
    ChoiceStatus.WAITLISTED: _l("On the waiting list"),
    ChoiceStatus.CANCELLED: _l("Cancelled"),
}

# Accessibility information an organiser states for the whole event.
ACCESSIBILITY = {
    "step_free": _l("Step-free access"),
    "hearing_loop": _l("Hearing loop"),
    "sign_language": _l("Sign language interpreting"),
    "childcare": _l("Childcare"),
    "travel_reimbursement": _l("Travel costs paid back"),
}


class Event(db.Model):
    __tablename__ = "event"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hub.id"))
    consultation_id: Mapped[int | None] = mapped_column(
        ForeignKey("consultation.id", ondelete="SET NULL"))
    status: Mapped[EventStatus] = mapped_column(value_enum(EventStatus), default=EventStatus.DRAFT)
    default_language: Mapped[str] = mapped_column(String(8))
    registration_opens: Mapped[datetime | None] = mapped_column(UTCDateTime())
    registration_closes: Mapped[datetime | None] = mapped_column(UTCDateTime())
    registration_survey: Mapped[str] = mapped_column(String(64), default="event-registration")
    evaluation_survey: Mapped[str] = mapped_column(String(64), default="event-evaluation")
    accessibility: Mapped[list[str]] = mapped_column(JSON, default=list)
    min_cell_size: Mapped[int] = mapped_column(Integer, default=10)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    hub: Mapped[Hub] = relationship(lazy="joined")
    texts: Mapped[list[EventText]] = relationship(
        back_populates="event", cascade="all, delete-orphan", lazy="selectin")
    sessions: Mapped[list[EventSession]] = relationship(
        back_populates="event", cascade="all, delete-orphan",
        order_by="EventSession.starts_at, EventSession.id", lazy="selectin")

    def text_for(self, language: str) -> EventText:
        by_language = {t.language: t for t in self.texts}
        return (by_language.get(language) or by_language.get(self.default_language)
                or self.texts[0])

    @property
    def languages(self) -> list[str]:
        return sorted(t.language for t in self.texts)


class EventText(db.Model):
    __tablename__ = "event_text"
    __table_args__ = (UniqueConstraint("event_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")  # sanitised Markdown
    accessibility_note: Mapped[str] = mapped_column(Text, default="")

    event: Mapped[Event] = relationship(back_populates="texts")


class EventSession(db.Model):
    __tablename__ = "event_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    country: Mapped[str] = mapped_column(String(2))
    venue: Mapped[str] = mapped_column(String(300), default="")
    online_url: Mapped[str] = mapped_column(String(500), default="")
    mode: Mapped[SessionMode] = mapped_column(value_enum(SessionMode),
                                              default=SessionMode.IN_PERSON)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    interpretation: Mapped[list[str]] = mapped_column(JSON, default=list)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    timezone: Mapped[str] = mapped_column(String(64))
    capacity: Mapped[int] = mapped_column(Integer)
    # Bumped whenever time or place changes, so calendars replace the old entry.
    sequence: Mapped[int] = mapped_column(Integer, default=0)

    event: Mapped[Event] = relationship(back_populates="sessions")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def local_start(self) -> datetime:
        return self.starts_at.astimezone(self.zone)

    @property
    def local_end(self) -> datetime:
        return self.ends_at.astimezone(self.zone)


class Registration(db.Model):
    """One person's registration for an event; reached through a private link."""

    __tablename__ = "event_registration"
    __table_args__ = (UniqueConstraint("event_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    participant_id: Mapped[str] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True)
    # sha256 of the private link's code; the code itself is only in the person's e-mail.
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    language: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(16), default="web")  # web, walk_in
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    event: Mapped[Event] = relationship()
    choices: Mapped[list[SessionChoice]] = relationship(
        back_populates="registration", cascade="all, delete-orphan", lazy="selectin")


class SessionChoice(db.Model):
    """A registrant's place (or not) in one session: selection, invitation, attendance."""

    __tablename__ = "event_session_choice"
    __table_args__ = (UniqueConstraint("registration_id", "session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("event_registration.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(ForeignKey("event_session.id", ondelete="CASCADE"),
                                            index=True)
    status: Mapped[ChoiceStatus] = mapped_column(value_enum(ChoiceStatus),
                                                 default=ChoiceStatus.REGISTERED)
    probability: Mapped[float | None] = mapped_column(Float)
    waitlist_position: Mapped[int | None] = mapped_column(Integer)
    # sha256 of the check-in code printed as a QR code on the invitation.
    check_in_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_in_by: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    evaluation_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    registration: Mapped[Registration] = relationship(back_populates="choices")
    session: Mapped[EventSession] = relationship()


class PanelSelection(db.Model):
    """A published selection: method, seed, quotas, everyone's probability, the panel."""

    __tablename__ = "panel_selection"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("event_session.id", ondelete="CASCADE"),
                                            index=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    seed: Mapped[int] = mapped_column(Integer)
    panel_size: Mapped[int] = mapped_column(Integer)
    one_per_household: Mapped[bool] = mapped_column(Boolean, default=False)
    quotas: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    probabilities: Mapped[dict[str, float]] = mapped_column(JSON)  # registration id -> p
    panel: Mapped[list[int]] = mapped_column(JSON)  # registration ids
    minimum: Mapped[float] = mapped_column(Float)
    replacements: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
