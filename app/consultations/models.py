"""Consultation spaces, their phases, statements and votes, comments and moderation.

A voter is one person's seat in one consultation, numbered 0, 1, 2, ... as Polis numbers
participants, so an imported Polis conversation keeps its ids and an export gets small
integers. A voter points at a participant when the person took part here; imported voters
point at nobody.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.hubs.models import Hub
from app.timeutil import utcnow
from app.types import UTCDateTime, value_enum


class ConsultationStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    ARCHIVED = "archived"

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])


STATUS_LABELS = {
    ConsultationStatus.DRAFT: _l("Draft"),
    ConsultationStatus.OPEN: _l("Open"),
    ConsultationStatus.CLOSED: _l("Closed"),
    ConsultationStatus.ARCHIVED: _l("Archived"),
}


class Topic(enum.StrEnum):
    """The Cancer Mission's subareas and the themes that run across them."""

    PREVENTION = "prevention"
    EARLY_DETECTION = "early_detection_treatment"
    QUALITY_OF_LIFE = "quality_of_life_survivorship"
    EQUITY = "equity"
    DIGITAL_HEALTH = "digital_health"
    RESEARCH = "research_innovation"
    ENGAGEMENT = "citizen_engagement"

    @property
    def label(self) -> str:
        return str(TOPIC_LABELS[self])


TOPIC_LABELS = {
    Topic.PREVENTION: _l("Prevention"),
    Topic.EARLY_DETECTION: _l("Early detection and treatment"),
    Topic.QUALITY_OF_LIFE: _l("Quality of life and survivorship"),
    Topic.EQUITY: _l("Equity and access"),
    Topic.DIGITAL_HEALTH: _l("Digital health"),
    Topic.RESEARCH: _l("Research and innovation"),
    Topic.ENGAGEMENT: _l("Citizen engagement"),
}


class PhaseKind(enum.StrEnum):
    INFORMATION = "information"
    SURVEY = "survey"
    DELIBERATION = "deliberation"
    EVENTS = "events"
    FEEDBACK = "feedback"

    @property
    def label(self) -> str:
        return str(PHASE_LABELS[self])


PHASE_LABELS = {
    PhaseKind.INFORMATION: _l("Information"),
    PhaseKind.SURVEY: _l("Survey"),
    PhaseKind.DELIBERATION: _l("Deliberation"),
    PhaseKind.EVENTS: _l("Events"),
    PhaseKind.FEEDBACK: _l("What we heard and what we did"),
}


class StatementModeration(enum.StrEnum):
    PRE = "pre"  # participants' statements wait for a moderator
    POST = "post"  # they appear at once and can be hidden later


class ContentStatus(enum.StrEnum):
    PENDING = "pending"
    PUBLISHED = "published"
    HIDDEN = "hidden"
    ERASED = "erased"  # the author erased their data; the thread keeps its shape


consultation_survey = db.Table(
    "consultation_survey",
    db.Column("consultation_id", ForeignKey("consultation.id", ondelete="CASCADE"),
              primary_key=True),
    db.Column("survey_id", ForeignKey("survey.id", ondelete="CASCADE"), primary_key=True),
)


class Consultation(db.Model):
    __tablename__ = "consultation"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("hub.id"))
    # ISO 3166-1 alpha-2, or "EU" for a consultation across the network.
    country: Mapped[str] = mapped_column(String(2))
    topic: Mapped[Topic] = mapped_column(value_enum(Topic, 40))
    status: Mapped[ConsultationStatus] = mapped_column(
        value_enum(ConsultationStatus), default=ConsultationStatus.DRAFT)
    default_language: Mapped[str] = mapped_column(String(8))
    consent_document: Mapped[str] = mapped_column(String(64), default="echos-participation")
    statement_moderation: Mapped[StatementModeration] = mapped_column(
        value_enum(StatementModeration), default=StatementModeration.PRE)
    participant_statements: Mapped[bool] = mapped_column(Boolean, default=True)
    # Cells with fewer people than this are not shown (disclosure control).
    min_cell_size: Mapped[int] = mapped_column(Integer, default=10)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    hub: Mapped[Hub] = relationship(lazy="joined")
    texts: Mapped[list[ConsultationText]] = relationship(
        back_populates="consultation", cascade="all, delete-orphan", lazy="selectin")
    phases: Mapped[list[Phase]] = relationship(
        back_populates="consultation", cascade="all, delete-orphan",
        order_by="Phase.starts_on, Phase.id", lazy="selectin")
    surveys = relationship("Survey", secondary=consultation_survey, lazy="selectin",
                           order_by="Survey.slug")

    def text_for(self, language: str) -> ConsultationText:
        """The visitor's language when written, else the consultation's own."""
        by_language = {t.language: t for t in self.texts}
        return (by_language.get(language) or by_language.get(self.default_language)
                or self.texts[0])

    @property
    def languages(self) -> list[str]:
        return sorted(t.language for t in self.texts)


class ConsultationText(db.Model):
    __tablename__ = "consultation_text"
    __table_args__ = (UniqueConstraint("consultation_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")  # sanitised Markdown

    consultation: Mapped[Consultation] = relationship(back_populates="texts")


class Phase(db.Model):
    __tablename__ = "consultation_phase"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"))
    kind: Mapped[PhaseKind] = mapped_column(value_enum(PhaseKind))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    # {language: Markdown}; for the feedback phase, what was heard and what was done.
    description: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)

    consultation: Mapped[Consultation] = relationship(back_populates="phases")

    def description_for(self, language: str, fallback: str) -> str:
        return self.description.get(language) or self.description.get(fallback) or ""


class Voter(db.Model):
    __tablename__ = "voter"
    __table_args__ = (UniqueConstraint("consultation_id", "number"),
                      UniqueConstraint("consultation_id", "participant_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    participant_id: Mapped[str | None] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Statement(db.Model):
    __tablename__ = "statement"
    __table_args__ = (UniqueConstraint("consultation_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)  # Polis comment-id
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    status: Mapped[ContentStatus] = mapped_column(value_enum(ContentStatus))
    # None for statements written by organisers (seeds) or imported without an author.
    author_id: Mapped[int | None] = mapped_column(ForeignKey("voter.id", ondelete="SET NULL"))
    seed: Mapped[bool] = mapped_column(Boolean, default=False)
    moderation_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    consultation: Mapped[Consultation] = relationship()
    author: Mapped[Voter | None] = relationship()
    translations: Mapped[list[Translation]] = relationship(
        back_populates="statement", cascade="all, delete-orphan", lazy="selectin")


class Vote(db.Model):
    """The latest vote of one voter on one statement: agree 1, disagree -1, pass 0."""

    __tablename__ = "vote"
    __table_args__ = (UniqueConstraint("statement_id", "voter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statement.id", ondelete="CASCADE"))
    voter_id: Mapped[int] = mapped_column(ForeignKey("voter.id", ondelete="CASCADE"),
                                          index=True)
    value: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Comment(db.Model):
    __tablename__ = "comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"))
    statement_id: Mapped[int | None] = mapped_column(
        ForeignKey("statement.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comment.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("voter.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    status: Mapped[ContentStatus] = mapped_column(value_enum(ContentStatus))
    moderation_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[Voter | None] = relationship()
    statement: Mapped[Statement | None] = relationship()
    translations: Mapped[list[Translation]] = relationship(
        back_populates="comment", cascade="all, delete-orphan", lazy="selectin")


class Translation(db.Model):
    """A translator's rendering of a statement or comment in another language."""

    __tablename__ = "content_translation"
    __table_args__ = (UniqueConstraint("statement_id", "language"),
                      UniqueConstraint("comment_id", "language"))

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int | None] = mapped_column(
        ForeignKey("statement.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comment.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    translator_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    statement: Mapped[Statement | None] = relationship(back_populates="translations")
    comment: Mapped[Comment | None] = relationship(back_populates="translations")


class Flag(db.Model):
    """A participant's report of a statement or comment; open until a moderator decides."""

    __tablename__ = "content_flag"

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int | None] = mapped_column(
        ForeignKey("statement.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comment.id", ondelete="CASCADE"))
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("voter.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(40))
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Ban(db.Model):
    """A participant who may no longer write in a consultation (or anywhere, when None)."""

    __tablename__ = "participant_ban"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[str] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True)
    consultation_id: Mapped[int | None] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(500))
    banned_by: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class BlockedTerm(db.Model):
    """A word or phrase that sends a statement or comment to the moderation queue."""

    __tablename__ = "blocked_term"

    id: Mapped[int] = mapped_column(primary_key=True)
    term: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SnapshotKind(enum.StrEnum):
    COMPUTED = "computed"  # our clustering of the current votes
    IMPORTED = "imported"  # Polis's published group-ids, kept frozen


class OpinionSnapshot(db.Model):
    """Opinion groups as computed at one moment; readers never trigger a computation."""

    __tablename__ = "opinion_snapshot"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    kind: Mapped[SnapshotKind] = mapped_column(value_enum(SnapshotKind))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    vote_count: Mapped[int] = mapped_column(Integer)
    # See app.consultations.analysis.snapshot_payload for the layout.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
