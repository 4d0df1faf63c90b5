"""Threaded comments on consultations and statements, and translations people can read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.consultations import moderation
from app.consultations.models import (
    Comment,
    Consultation,
    ContentStatus,
    Statement,
    Translation,
    Voter,
)
from app.errors import DomainError
from app.extensions import db
from app.timeutil import utcnow

COMMENT_MAX_LENGTH = 2000
COMMENTS_PER_HOUR = 20
MAX_DEPTH = 4  # deeper replies attach to the deepest allowed level, as Decidim does


def add_comment(consultation: Consultation, voter: Voter, body: str, language: str, *,
                statement: Statement | None = None, parent: Comment | None = None) -> Comment:
    """Published at once (post-moderation) unless the word filter holds it back."""
    body = body.strip()
    if not body:
        raise DomainError(_l("Write your comment."), field="body")
    if len(body) > COMMENT_MAX_LENGTH:
        raise DomainError(_l("Keep your comment to %(max)d characters or fewer.",
                             max=COMMENT_MAX_LENGTH), field="body")
    if parent is not None and (parent.consultation_id != consultation.id
                               or parent.statement_id != (statement.id if statement else None)):
        raise DomainError(_l("The comment you replied to is not in this discussion."))
    moderation.check_may_write(consultation, voter)
    since = utcnow() - timedelta(hours=1)
    recent = db.session.scalar(select(func.count(Comment.id)).where(
        Comment.author_id == voter.id, Comment.created_at >= since)) or 0
    if recent >= COMMENTS_PER_HOUR:
        raise DomainError(_l("You have written many comments in the last hour. Please wait a "
                             "while before writing more."), field="body")
    while parent is not None and _depth(parent) >= MAX_DEPTH - 1:
        parent = db.session.get(Comment, parent.parent_id) if parent.parent_id else None
    held = bool(moderation.filter_matches(body))
    comment = Comment(consultation_id=consultation.id, author=voter, body=body,
                      language=language, statement_id=statement.id if statement else None,
                      parent_id=parent.id if parent else None,
                      status=ContentStatus.PENDING if held else ContentStatus.PUBLISHED)
    db.session.add(comment)
    db.session.flush()
    return comment


def _depth(comment: Comment) -> int:
    depth = 0
    while comment.parent_id is not None:
        comment = db.session.get(Comment, comment.parent_id)
        depth += 1
    return depth


@dataclass
class CommentNode:
    comment: Comment
    replies: list[CommentNode] = field(default_factory=list)
    visible: bool = True  # False: shown as "hidden by a moderator" to keep the thread


def thread(consultation: Consultation, *, statement: Statement | None = None,
           viewer: Voter | None = None) -> list[CommentNode]:
    """The discussion as a tree; a viewer also sees their own comments awaiting review."""
    query = select(Comment).where(Comment.consultation_id == consultation.id)
    query = query.where(Comment.statement_id == statement.id) if statement is not None \
        else query.where(Comment.statement_id.is_(None))
    comments = list(db.session.scalars(query.order_by(Comment.created_at, Comment.id)))
    nodes = {c.id: CommentNode(c) for c in comments}
    roots: list[CommentNode] = []
    for comment in comments:
        node = nodes[comment.id]
        own = viewer is not None and comment.author_id == viewer.id
        node.visible = comment.status == ContentStatus.PUBLISHED or (
            own and comment.status == ContentStatus.PENDING)
        parent = nodes.get(comment.parent_id) if comment.parent_id else None
        (parent.replies if parent else roots).append(node)
    return _prune(roots)


def _prune(nodes: list[CommentNode]) -> list[CommentNode]:
    """Drop invisible comments with no visible replies: nothing to show, nothing to keep."""
    kept = []
    for node in nodes:
        node.replies = _prune(node.replies)
        if node.visible or node.replies:
            kept.append(node)
    return kept


def comment_count(consultation: Consultation, statement: Statement | None = None) -> int:
    query = select(func.count(Comment.id)).where(Comment.consultation_id == consultation.id,
                                                 Comment.status == ContentStatus.PUBLISHED)
    if statement is not None:
        query = query.where(Comment.statement_id == statement.id)
    return db.session.scalar(query) or 0


# Translations -------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendering:
    """What a reader sees: their language when a translation exists, the original else."""

    text: str
    language: str
    original_text: str
    original_language: str

    @property
    def translated(self) -> bool:
        return self.language != self.original_language


def rendering(item: Statement | Comment, reader_language: str) -> Rendering:
    original = item.text if isinstance(item, Statement) else item.body
    if item.language != reader_language:
        for translation in item.translations:
            if translation.language == reader_language:
                return Rendering(translation.text, translation.language, original,
                                 item.language)
    return Rendering(original, item.language, original, item.language)


def translate(item: Statement | Comment, language: str, text: str, *,
              translator_id: int | None) -> Translation:
    """Add or replace a translator's version of a statement or comment."""
    text = text.strip()
    if not text:
        raise DomainError(_l("Write the translation."), field="text")
    if language == item.language:
        raise DomainError(_l("This is already the language it was written in."),
                          field="language")
    existing = next((t for t in item.translations if t.language == language), None)
    if existing is None:
        existing = Translation(language=language, text=text, translator_id=translator_id)
        item.translations.append(existing)
    else:
        existing.text, existing.translator_id = text, translator_id
    db.session.flush()
    return existing


def needing_translation(consultation: Consultation) -> list[Statement | Comment]:
    """Published statements and comments missing a translation into a consultation language."""
    languages = set(consultation.languages)
    items: list[Statement | Comment] = []
    for model in (Statement, Comment):
        for item in db.session.scalars(select(model).where(
                model.consultation_id == consultation.id,
                model.status == ContentStatus.PUBLISHED).order_by(model.id)):
            have = {t.language for t in item.translations} | {item.language}
            if languages - have:
                items.append(item)
    return items
