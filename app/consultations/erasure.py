"""What erasing a participant removes from consultations: votes, statements, comments."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from app.consultations.models import (
    Ban,
    Comment,
    ContentStatus,
    Flag,
    Statement,
    Translation,
    Vote,
    Voter,
)
from app.extensions import db


def erase_participant(participant_id: str) -> dict[str, int]:
    """Delete their votes and statements; blank their comments so replies keep a parent.

    Runs inside consent.services.erase, which logs the counts and commits.
    """
    bans = _rows(delete(Ban).where(Ban.participant_id == participant_id))
    voter_ids = list(db.session.scalars(select(Voter.id).where(
        Voter.participant_id == participant_id)))
    if not voter_ids:
        return {"votes": 0, "statements": 0, "comments": 0, "bans": bans}
    statement_ids = list(db.session.scalars(select(Statement.id).where(
        Statement.author_id.in_(voter_ids))))
    own_comments = list(db.session.scalars(select(Comment.id).where(
        Comment.author_id.in_(voter_ids))))
    # Discussions under their statements go with the statements.
    under = list(db.session.scalars(select(Comment.id).where(
        Comment.statement_id.in_(statement_ids)))) if statement_ids else []
    _rows(delete(Translation).where(Translation.comment_id.in_(own_comments + under)
                                    | Translation.statement_id.in_(statement_ids)))
    _rows(delete(Flag).where(Flag.comment_id.in_(under) | Flag.statement_id.in_(statement_ids)))
    _rows(update(Flag).where(Flag.reporter_id.in_(voter_ids)).values(reporter_id=None))
    counts = {
        "votes": _rows(delete(Vote).where(
            Vote.voter_id.in_(voter_ids) | Vote.statement_id.in_(statement_ids))),
        "comments": _rows(update(Comment).where(Comment.id.in_(own_comments)).values(
            body="", status=ContentStatus.ERASED, author_id=None, moderation_reason=None)),
    }
    # Children before parents: SQLite does not cascade without its foreign-key pragma.
    for comment_id in sorted(under, reverse=True):
        _rows(delete(Comment).where(Comment.id == comment_id))
    counts["statements"] = _rows(delete(Statement).where(Statement.id.in_(statement_ids)))
    counts["bans"] = bans
    _rows(delete(Voter).where(Voter.id.in_(voter_ids)))
    return counts


def _rows(statement) -> int:
    return db.session.execute(statement).rowcount or 0
