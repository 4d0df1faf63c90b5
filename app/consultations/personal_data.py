"""What one participant has given in consultations, for "My data" (GDPR Art. 15 and 20)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.consultations.models import Comment, Consultation, Statement, Vote, Voter
from app.extensions import db

VOTE_NAMES = {1: "agree", -1: "disagree", 0: "pass"}


def contributions_of(participant_id: str) -> list[dict[str, Any]]:
    """Per consultation: votes (with the statement voted on), own statements, comments."""
    out = []
    voters = db.session.scalars(select(Voter).where(Voter.participant_id == participant_id)
                                .order_by(Voter.id))
    for voter in voters:
        consultation = db.session.get(Consultation, voter.consultation_id)
        votes = db.session.execute(
            select(Statement.number, Statement.text, Vote.value, Vote.updated_at)
            .join(Vote, Vote.statement_id == Statement.id).where(Vote.voter_id == voter.id)
            .order_by(Statement.number)).all()
        statements = db.session.scalars(select(Statement).where(
            Statement.author_id == voter.id).order_by(Statement.number))
        comments = db.session.scalars(select(Comment).where(
            Comment.author_id == voter.id).order_by(Comment.id))
        out.append({
            "consultation": consultation.slug,
            "title": consultation.text_for(consultation.default_language).title,
            "votes": [{"statement": number, "text": text, "vote": VOTE_NAMES[value],
                       "when": when.isoformat()} for number, text, value, when in votes],
            "statements": [{"statement": s.number, "text": s.text, "language": s.language,
                            "status": s.status.value} for s in statements],
            "comments": [{"id": c.id, "text": c.body, "language": c.language,
                          "status": c.status.value, "when": c.created_at.isoformat()}
                         for c in comments],
        })
    return out
