"""One row per audited event, each hash-linked to the one before it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, event
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.types import UTCDateTime


class AuditEntry(db.Model):
    """An append-only, hash-chained record; write it only through `app.audit.services.record`.

    `subject` is a pseudonymous id (a participant id, say) and `details` holds
    codes and ids only: never a name, e-mail address or free text in clear. The
    trail outlives erasure requests, so it must not itself hold personal data.
    """

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # "participant", "staff:<user id>" or "system".
    actor: Mapped[str] = mapped_column(String(64))
    # Dotted event name: "consent.given", "consent.withdrawn", "data.erased", ...
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Unique as well: two appends that raced past the lock cannot both link to
    # the same entry, so a fork fails loudly instead of silently branching.
    previous_hash: Mapped[str] = mapped_column(String(64), unique=True)
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)

    def __repr__(self) -> str:
        return f"<AuditEntry {self.id} {self.action}>"


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _refuse_changes(mapper, connection, target: AuditEntry) -> None:
    """Entries are evidence: the ORM may add them but never change or remove one."""
    raise RuntimeError(f"audit entries are append-only ({target!r})")
