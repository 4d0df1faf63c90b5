"""Moderation: the word filter, reports, the queue, hide/approve and bans.

Every decision is written to the audit trail with its reason; the content itself is
never deleted by a moderator, only hidden, so a decision can be reviewed and reversed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from app.audit.services import record as audit
from app.consultations.models import (
    Ban,
    BlockedTerm,
    Comment,
    Consultation,
    ContentStatus,
    Flag,
    Statement,
    Voter,
)
from app.errors import DomainError
from app.extensions import db

FLAG_REASONS = {
    "offensive": _l("Offensive or hateful"),
    "spam": _l("Spam or advertising"),
    "personal_data": _l("Reveals someone's personal data"),
    "off_topic": _l("Off topic"),
    "misinformation": _l("Harmful health misinformation"),
    "other": _l("Something else"),
}
# As on Decidim: content reported by this many people is hidden until a moderator looks.
HIDE_AFTER_REPORTS = 3
Item = Statement | Comment


def blocked_terms() -> list[str]:
    return list(db.session.scalars(select(BlockedTerm.term).order_by(BlockedTerm.term)))


def set_blocked_terms(terms: list[str], *, actor: str) -> list[str]:
    """Replace the word filter; one term or phrase per entry, compared case-insensitively."""
    wanted = sorted({" ".join(t.split()).casefold() for t in terms if t.strip()})
    too_long = [t for t in wanted if len(t) > 100]
    if too_long:
        raise DomainError(_l("Each word or phrase can have at most 100 characters."),
                          field="terms")
    db.session.execute(BlockedTerm.__table__.delete())
    db.session.add_all(BlockedTerm(term=t) for t in wanted)
    audit(action="moderation.word_filter_changed", actor=actor, details={"terms": len(wanted)})
    return wanted


def filter_matches(text: str) -> list[str]:
    """The blocked words or phrases in the text, as whole words, ignoring case."""
    folded = text.casefold()
    return [term for term in blocked_terms()
            if re.search(rf"(?<!\w){re.escape(term)}(?!\w)", folded)]


def is_banned(consultation: Consultation, participant_id: str | None) -> bool:
    if not participant_id:
        return False
    return db.session.scalar(select(Ban.id).where(
        Ban.participant_id == participant_id,
        or_(Ban.consultation_id.is_(None), Ban.consultation_id == consultation.id))
        .limit(1)) is not None


def check_may_write(consultation: Consultation, voter: Voter) -> None:
    if is_banned(consultation, voter.participant_id):
        raise DomainError(_l("A moderator has stopped you from writing in this consultation."))


def report(*, reporter: Voter, reason: str, statement: Statement | None = None,
           comment: Comment | None = None) -> Flag:
    """One report per person and item; enough reports hide the item until reviewed."""
    if reason not in FLAG_REASONS:
        raise DomainError(_l("Choose why you are reporting this."), field="reason")
    target = statement if statement is not None else comment
    if target is None:
        raise ValueError("report a statement or a comment")
    column = Flag.statement_id if statement is not None else Flag.comment_id
    existing = db.session.scalar(select(Flag).where(column == target.id,
                                                    Flag.reporter_id == reporter.id))
    if existing is not None:
        return existing
    flag = Flag(statement_id=statement.id if statement else None,
                comment_id=comment.id if comment else None, reporter_id=reporter.id,
                reason=reason)
    db.session.add(flag)
    db.session.flush()
    open_reports = db.session.scalar(select(func.count(Flag.id)).where(
        column == target.id, Flag.resolved.is_(False))) or 0
    if open_reports >= HIDE_AFTER_REPORTS and target.status == ContentStatus.PUBLISHED:
        target.status = ContentStatus.PENDING
    return flag


@dataclass
class QueueItem:
    item: Item
    kind: str  # "statement" or "comment"
    reports: dict[str, int] = field(default_factory=dict)


def queue(consultation: Consultation | None = None) -> list[QueueItem]:
    """What waits for a moderator: pending items, then published items with open reports."""
    items: dict[tuple[str, int], QueueItem] = {}
    for model, kind in ((Statement, "statement"), (Comment, "comment")):
        query = select(model).where(model.status == ContentStatus.PENDING)
        if consultation is not None:
            query = query.where(model.consultation_id == consultation.id)
        for item in db.session.scalars(query.order_by(model.created_at)):
            items[kind, item.id] = QueueItem(item, kind)
    flags = select(Flag).where(Flag.resolved.is_(False)).order_by(Flag.created_at)
    for flag in db.session.scalars(flags):
        kind = "statement" if flag.statement_id else "comment"
        model = Statement if kind == "statement" else Comment
        item = db.session.get(model, flag.statement_id or flag.comment_id)
        if item is None or item.status == ContentStatus.ERASED or (
                consultation is not None and item.consultation_id != consultation.id):
            continue
        entry = items.setdefault((kind, item.id), QueueItem(item, kind))
        entry.reports[flag.reason] = entry.reports.get(flag.reason, 0) + 1
    return list(items.values())


def _resolve_reports(item: Item) -> None:
    column = Flag.statement_id if isinstance(item, Statement) else Flag.comment_id
    for flag in db.session.scalars(select(Flag).where(column == item.id)):
        flag.resolved = True


def _subject(item: Item) -> str:
    return f"{'statement' if isinstance(item, Statement) else 'comment'}:{item.id}"


def approve(item: Item, *, actor: str) -> None:
    item.status = ContentStatus.PUBLISHED
    item.moderation_reason = None
    _resolve_reports(item)
    audit(action="moderation.approved", actor=actor, subject=_subject(item))


def hide(item: Item, *, actor: str, reason: str) -> None:
    reason = " ".join(reason.split())
    if not reason:
        raise DomainError(_l("Say why you are hiding this; the author and other moderators "
                             "will see the reason."), field="reason")
    item.status = ContentStatus.HIDDEN
    item.moderation_reason = reason[:500]
    _resolve_reports(item)
    audit(action="moderation.hidden", actor=actor, subject=_subject(item),
          details={"reason": reason[:500]})


def ban(item: Item, *, actor: str, reason: str, everywhere: bool = False,
        moderator_id: int | None = None) -> Ban:
    """Stop the author of an item from writing, and hide what they have waiting."""
    author = item.author
    if author is None or author.participant_id is None:
        raise DomainError(_l("This was not written by a participant who can be banned."))
    reason = " ".join(reason.split())
    if not reason:
        raise DomainError(_l("Say why you are banning this participant."), field="reason")
    hide(item, actor=actor, reason=reason)
    banned = Ban(participant_id=author.participant_id, reason=reason[:500], banned_by=moderator_id,
                 consultation_id=None if everywhere else item.consultation_id)
    db.session.add(banned)
    for model in (Statement, Comment):
        for pending in db.session.scalars(select(model).where(
                model.author_id == author.id, model.status == ContentStatus.PENDING)):
            pending.status = ContentStatus.HIDDEN
            pending.moderation_reason = reason[:500]
    db.session.flush()
    audit(action="moderation.banned", actor=actor, subject=_subject(item),
          details={"ban": banned.id, "everywhere": everywhere})
    return banned


def bans(consultation: Consultation | None = None) -> list[Ban]:
    query = select(Ban).order_by(Ban.created_at.desc())
    if consultation is not None:
        query = query.where(or_(Ban.consultation_id.is_(None),
                                Ban.consultation_id == consultation.id))
    return list(db.session.scalars(query))


def lift_ban(ban_id: int, *, actor: str) -> None:
    found = db.session.get(Ban, ban_id)
    if found is not None:
        db.session.delete(found)
        audit(action="moderation.ban_lifted", actor=actor, subject=f"ban:{ban_id}")
