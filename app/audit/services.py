"""Appending to and verifying the audit trail.

Plain functions over the session; callers commit, in the same transaction as the
change being audited, so an event and its record are stored together or not at all.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text

from app.audit.models import AuditEntry
from app.extensions import db
from app.timeutil import utcnow

GENESIS_HASH = "0" * 64
# Any fixed bigint works; it only has to differ from other advisory locks in the app.
_APPEND_LOCK_KEY = 0x6563686F736175  # ASCII "echosau"
_MAX_LENGTH = 64


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    # Entries read; on failure this includes the broken one.
    checked: int
    first_broken_id: int | None = None
    reason: str | None = None


def _canonical(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def compute_hash(
    *,
    occurred_at: datetime,
    actor: str,
    action: str,
    subject: str | None,
    details: dict[str, Any],
    previous_hash: str,
) -> str:
    """SHA-256 of the entry's content; the id is left out, so order shows only via the links."""
    payload = {
        "occurred_at": occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "subject": subject,
        "details": details,
        "previous_hash": previous_hash,
    }
    return hashlib.sha256(_canonical(payload).encode("utf-8")).hexdigest()


def _check_label(name: str, value: str | None, *, required: bool = True) -> None:
    # SQLite ignores String lengths; check here so both backends refuse the same input.
    if value is None and not required:
        return
    if not value or len(value) > _MAX_LENGTH:
        raise ValueError(f"audit {name} must be 1 to {_MAX_LENGTH} characters")


def _lock_for_append() -> None:
    """Hold the append lock until commit, so each entry links to the true latest one.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: pysqlite only begins
    its transaction at the first write, so a no-op write takes the database's
    single writer lock before the latest entry is read. The unique previous_hash
    still refuses a fork should some other path race past both.
    """
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _APPEND_LOCK_KEY})
    elif dialect == "sqlite":
        db.session.execute(text("UPDATE audit_entry SET id = id WHERE 0"))


def record(
    *,
    action: str,
    actor: str,
    subject: str | None = None,
    details: dict | None = None,
    when: datetime | None = None,
) -> AuditEntry:
    """Append one entry to the chain and flush it; the caller commits.

    `details` must be JSON-serialisable and free of personal data in clear; it is
    copied (through its canonical JSON) so later changes by the caller cannot
    make the stored entry disagree with its hash.
    """
    _check_label("action", action)
    _check_label("actor", actor)
    _check_label("subject", subject, required=False)
    if when is not None and when.tzinfo is None:
        raise ValueError("naive datetime given; use app.timeutil.utcnow()")
    occurred_at = (when or utcnow()).astimezone(UTC)
    stored_details = json.loads(_canonical(dict(details or {})))

    _lock_for_append()
    previous_hash = db.session.scalar(
        select(AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1)
    )
    previous_hash = previous_hash or GENESIS_HASH
    entry = AuditEntry(
        occurred_at=occurred_at,
        actor=actor,
        action=action,
        subject=subject,
        details=stored_details,
        previous_hash=previous_hash,
        entry_hash=compute_hash(
            occurred_at=occurred_at,
            actor=actor,
            action=action,
            subject=subject,
            details=stored_details,
            previous_hash=previous_hash,
        ),
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def verify() -> VerifyResult:
    """Walk the chain in id order; report the first entry whose hash or link is wrong.

    Catches an altered entry (its hash no longer matches), a deleted or reordered
    one (the next link no longer matches). It cannot see entries cut off the end,
    nor a chain rewritten from some point on: compare the latest entry_hash with a
    copy kept elsewhere for that.
    """
    rows = db.session.execute(
        select(
            AuditEntry.id,
            AuditEntry.occurred_at,
            AuditEntry.actor,
            AuditEntry.action,
            AuditEntry.subject,
            AuditEntry.details,
            AuditEntry.previous_hash,
            AuditEntry.entry_hash,
        )
        .order_by(AuditEntry.id)
        .execution_options(yield_per=1000)
    )
    expected_previous = GENESIS_HASH
    checked = 0
    for row in rows:
        checked += 1
        if row.previous_hash != expected_previous:
            rows.close()
            return VerifyResult(
                ok=False,
                checked=checked,
                first_broken_id=row.id,
                reason="previous_hash does not match the entry before it "
                "(an entry was deleted, inserted or moved)",
            )
        recomputed = compute_hash(
            occurred_at=row.occurred_at,
            actor=row.actor,
            action=row.action,
            subject=row.subject,
            details=row.details,
            previous_hash=row.previous_hash,
        )
        if recomputed != row.entry_hash:
            rows.close()
            return VerifyResult(
                ok=False,
                checked=checked,
                first_broken_id=row.id,
                reason="content does not match entry_hash (the entry was altered)",
            )
        expected_previous = row.entry_hash
    return VerifyResult(ok=True, checked=checked)
