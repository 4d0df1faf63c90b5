"""Surveys, their immutable versions, responses and answers (long, typed)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.participants.models import Participant
from app.timeutil import utcnow
from app.types import UTCDateTime


def _enum(kind: type[enum.Enum], length: int = 20):
    return db.Enum(
        kind,
        native_enum=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
    )


class SurveyStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class ResponseStatus(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETE = "complete"
    WITHDRAWN = "withdrawn"
    SCREENED_OUT = "screened_out"  # stopped because a quota was already full


class Channel(enum.StrEnum):
    WEB = "web"
    PAPER = "paper"
    EVENT = "event"
    PREVIEW = "preview"  # an organiser trying the survey; never counted


class InvitationStatus(enum.StrEnum):
    UNUSED = "unused"
    STARTED = "started"
    COMPLETED = "completed"
    REVOKED = "revoked"


class Survey(db.Model):
    __tablename__ = "survey"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[SurveyStatus] = mapped_column(_enum(SurveyStatus), default=SurveyStatus.DRAFT)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    versions: Mapped[list[SurveyVersion]] = relationship(
        back_populates="survey", order_by="SurveyVersion.number"
    )


class SurveyVersion(db.Model):
    """One exact definition as shown to respondents; never changed once stored."""

    __tablename__ = "survey_version"
    __table_args__ = (
        UniqueConstraint("survey_id", "content_hash"),
        UniqueConstraint("survey_id", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"))
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, 3... in order of loading
    declared_version: Mapped[int] = mapped_column(Integer)  # `version:` in the file
    content_hash: Mapped[str] = mapped_column(String(64))
    # Large and only needed on a cache miss or download: loaded when first read.
    definition: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True)
    source: Mapped[str] = mapped_column(Text, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    survey: Mapped[Survey] = relationship(back_populates="versions")


class Invitation(db.Model):
    """A single-use invitation; only the hash of its token is kept."""

    __tablename__ = "survey_invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    reference: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[InvitationStatus] = mapped_column(
        _enum(InvitationStatus), default=InvitationStatus.UNUSED
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Response(db.Model):
    __tablename__ = "survey_response"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_version_id: Mapped[int] = mapped_column(ForeignKey("survey_version.id"), index=True)
    participant_id: Mapped[str] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("survey_invitation.id"))
    status: Mapped[ResponseStatus] = mapped_column(
        _enum(ResponseStatus), default=ResponseStatus.IN_PROGRESS
    )
    channel: Mapped[Channel] = mapped_column(_enum(Channel), default=Channel.WEB)
    language: Mapped[str] = mapped_column(String(8))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    current_page: Mapped[str | None] = mapped_column(String(64))
    # sha256 of the resume code; the code itself is only ever with the respondent.
    # The code is made before "Start" is pressed, so a double click finds one response.
    resume_code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    version: Mapped[SurveyVersion] = relationship()
    participant: Mapped[Participant] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan", passive_deletes=True
    )


class Answer(db.Model):
    """One value of one question in long format; see app.surveys.answers.AnswerRow."""

    __tablename__ = "survey_answer"
    __table_args__ = (
        UniqueConstraint("response_id", "question", "item", "position"),
        Index("ix_survey_answer_question", "question"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("survey_response.id", ondelete="CASCADE"))
    question: Mapped[str] = mapped_column(String(64))
    item: Mapped[str] = mapped_column(String(64), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    value_text: Mapped[str | None] = mapped_column(Text)
    value_number: Mapped[Decimal | None] = mapped_column(Numeric(24, 8))
    value_date: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    response: Mapped[Response] = relationship(back_populates="answers")
