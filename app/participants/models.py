"""A participant is a random id and nothing else; contact details live elsewhere."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.timeutil import utcnow
from app.types import UTCDateTime


def new_participant_id() -> str:
    return secrets.token_hex(16)


class Participant(db.Model):
    __tablename__ = "participant"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_participant_id)
    # sha256 of the private access code printed on consent receipts ("My data").
    access_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
