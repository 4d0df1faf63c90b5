"""Consent documents, their immutable versions, consent records, contact details, erasures."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.timeutil import utcnow
from app.types import UTCDateTime


class ConsentChannel(enum.StrEnum):
    WEB = "web"
    PAPER = "paper"  # entered by an organiser from a signed form
    EVENT = "event"  # given at event check-in


class ConsentDocument(db.Model):
    __tablename__ = "consent_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    versions: Mapped[list[ConsentVersion]] = relationship(
        back_populates="document", order_by="ConsentVersion.number"
    )


class ConsentVersion(db.Model):
    """The exact texts and purposes people agreed to; never changed once stored."""

    __tablename__ = "consent_version"
    __table_args__ = (
        UniqueConstraint("document_id", "content_hash"),
        UniqueConstraint("document_id", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("consent_document.id"))
    number: Mapped[int] = mapped_column(Integer)
    declared_version: Mapped[int] = mapped_column(Integer)
    material_change: Mapped[bool] = mapped_column(default=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True)
    source: Mapped[str] = mapped_column(Text, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    document: Mapped[ConsentDocument] = relationship(back_populates="versions")


class ConsentRecord(db.Model):
    """One consent event; never updated. The latest record per document is the current state."""

    __tablename__ = "consent_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Public id of the receipt for this record (random, shown to the participant).
    receipt_id: Mapped[str] = mapped_column(String(36), unique=True)
    participant_id: Mapped[str] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    version_id: Mapped[int] = mapped_column(ForeignKey("consent_version.id"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    shown_text_hash: Mapped[str] = mapped_column(String(64))
    granted: Mapped[list[str]] = mapped_column(JSON)
    refused: Mapped[list[str]] = mapped_column(JSON)
    channel: Mapped[ConsentChannel] = mapped_column(
        db.Enum(ConsentChannel, native_enum=False, length=20,
                values_callable=lambda members: [m.value for m in members])
    )
    # "participant", "guardian" or "staff:<user id>" (paper forms, check-in).
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    version: Mapped[ConsentVersion] = relationship()


class ContactDetail(db.Model):
    """Names, e-mail addresses and phone numbers, kept apart from answers.

    Linked to answers only through the pseudonymous participant id, so analysis
    never needs this table and erasure can empty it on its own.
    """

    __tablename__ = "contact_detail"
    __table_args__ = (UniqueConstraint("participant_id", "field"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[str] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    field: Mapped[str] = mapped_column(String(64))  # the question id it came from
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ErasureRequest(db.Model):
    """That an erasure was asked for and done, with counts; nothing about the person."""

    __tablename__ = "erasure_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
