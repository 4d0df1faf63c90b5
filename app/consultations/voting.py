"""Voters, statements and votes: what a participant does on the voting pages."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.consultations import moderation
from app.consultations.models import (
    Consultation,
    ContentStatus,
    Statement,
    StatementModeration,
    Vote,
    Voter,
)
from app.errors import DomainError
from app.extensions import db
from app.timeutil import utcnow

AGREE, DISAGREE, PASS = 1, -1, 0
VOTE_VALUES = {"agree": AGREE, "disagree": DISAGREE, "pass": PASS}
# Polis keeps statements short so they can be voted on at a glance.
STATEMENT_MAX_LENGTH = 280
STATEMENTS_PER_HOUR = 5


def voter_for(consultation: Consultation, participant_id: str) -> Voter:
    """This person's seat in the consultation, made on first use.

    Two tabs voting at once may both try to take the next number; the loser retries.
    """
    for _attempt in range(5):
        voter = db.session.scalar(select(Voter).where(
            Voter.consultation_id == consultation.id, Voter.participant_id == participant_id))
        if voter is not None:
            return voter
        number = db.session.scalar(select(func.coalesce(func.max(Voter.number) + 1, 0)).where(
            Voter.consultation_id == consultation.id))
        try:
            with db.session.begin_nested():
                voter = Voter(consultation_id=consultation.id, number=number,
                              participant_id=participant_id)
                db.session.add(voter)
            return voter
        except IntegrityError:
            continue
    raise RuntimeError("could not allocate a voter number")


def find_voter(consultation: Consultation, participant_id: str | None) -> Voter | None:
    if not participant_id:
        return None
    return db.session.scalar(select(Voter).where(
        Voter.consultation_id == consultation.id, Voter.participant_id == participant_id))


def published_statements(consultation: Consultation) -> list[Statement]:
    return list(db.session.scalars(select(Statement).where(
        Statement.consultation_id == consultation.id,
        Statement.status == ContentStatus.PUBLISHED).order_by(Statement.number)))


def statement_by_number(consultation: Consultation, number: int) -> Statement | None:
    return db.session.scalar(select(Statement).where(
        Statement.consultation_id == consultation.id, Statement.number == number))


def votes_of(voter: Voter | None) -> dict[int, int]:
    """statement id -> the voter's current vote."""
    if voter is None:
        return {}
    return dict(db.session.execute(
        select(Vote.statement_id, Vote.value).where(Vote.voter_id == voter.id)).all())


def next_statement(consultation: Consultation, voter: Voter | None) -> Statement | None:
    """The first published statement this voter has not voted on: seeds first, then oldest."""
    return standing(consultation, voter)[0]


def standing(consultation: Consultation, voter: Voter | None
             ) -> tuple[Statement | None, int, int]:
    """(next statement to vote on, statements voted on, statements published) in one read."""
    published = published_statements(consultation)
    voted = set(votes_of(voter))
    remaining = sorted((s for s in published if s.id not in voted),
                       key=lambda s: (not s.seed, s.number))
    done = len(published) - len(remaining)
    return (remaining[0] if remaining else None), done, len(published)


def cast_vote(voter: Voter, statement: Statement, value: int) -> Vote:
    """Record or change a vote; the latest counts. Repeating the same vote changes nothing."""
    if value not in (AGREE, DISAGREE, PASS):
        raise DomainError(_l("Choose agree, disagree or pass."))
    if statement.status != ContentStatus.PUBLISHED or statement.consultation_id != \
            voter.consultation_id:
        raise DomainError(_l("This statement is no longer open for votes."))
    for _attempt in range(3):
        vote = db.session.scalar(select(Vote).where(
            Vote.voter_id == voter.id, Vote.statement_id == statement.id))
        now = utcnow()
        if vote is not None:
            if vote.value != value:
                vote.value, vote.updated_at = value, now
            return vote
        try:
            with db.session.begin_nested():
                vote = Vote(voter_id=voter.id, statement_id=statement.id, value=value,
                            created_at=now, updated_at=now)
                db.session.add(vote)
            return vote
        except IntegrityError:  # a double click raced us; update the row it made
            continue
    raise RuntimeError("could not record the vote")


def submit_statement(consultation: Consultation, voter: Voter, text: str,
                     language: str) -> Statement:
    """A participant's own statement; it waits for a moderator unless post-moderated."""
    text = " ".join(text.split())
    if not consultation.participant_statements:
        raise DomainError(_l("This consultation does not take new statements."))
    if not text:
        raise DomainError(_l("Write your statement."), field="text")
    if len(text) > STATEMENT_MAX_LENGTH:
        raise DomainError(_l("Keep your statement to %(max)d characters or fewer.",
                             max=STATEMENT_MAX_LENGTH), field="text")
    moderation.check_may_write(consultation, voter)
    since = utcnow() - timedelta(hours=1)
    recent = db.session.scalar(select(func.count(Statement.id)).where(
        Statement.author_id == voter.id, Statement.created_at >= since)) or 0
    if recent >= STATEMENTS_PER_HOUR:
        raise DomainError(_l("You have added several statements in the last hour. Please "
                             "wait a while before adding more."), field="text")
    duplicate = db.session.scalar(select(Statement.id).where(
        Statement.consultation_id == consultation.id,
        func.lower(Statement.text) == text.lower()))
    if duplicate is not None:
        raise DomainError(_l("This statement is already there. You can vote on it."),
                          field="text")
    held = (consultation.statement_moderation == StatementModeration.PRE
            or moderation.filter_matches(text))
    statement = add_statement(consultation, text, language,
                              status=ContentStatus.PENDING if held else ContentStatus.PUBLISHED,
                              author=voter)
    return statement


def add_statement(consultation: Consultation, text: str, language: str, *,
                  status: ContentStatus = ContentStatus.PUBLISHED, author: Voter | None = None,
                  seed: bool = False, number: int | None = None) -> Statement:
    """Store a statement with the next free number (or the given one, on import)."""
    if number is None:
        number = db.session.scalar(select(func.coalesce(func.max(Statement.number) + 1, 0))
                                   .where(Statement.consultation_id == consultation.id))
    statement = Statement(consultation_id=consultation.id, number=number, text=text,
                          language=language, status=status, author=author, seed=seed)
    db.session.add(statement)
    db.session.flush()
    return statement


def progress(consultation: Consultation, voter: Voter | None) -> tuple[int, int]:
    """(statements voted on, statements published)."""
    _next, done, total = standing(consultation, voter)
    return done, total
