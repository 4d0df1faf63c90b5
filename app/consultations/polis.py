"""Polis exports in and out: ``comments.csv``, ``votes.csv``, ``participants-votes.csv``.

Hubs ran conversations on pol.is before this platform existed. Importing keeps Polis's
ids (comment-id is ``Statement.number``, voter-id is ``Voter.number``) so our reports
can be checked against Polis's own; exporting in the same layout lets Polis tools and
researchers read our conversations. Votes keep Polis's orientation in these files:
agree +1, disagree -1, pass 0.

Plain functions over the session, no request globals: the CLI, a worker or a notebook
can call them. Callers commit (or roll back) so an import lands whole or not at all.
"""

from __future__ import annotations

import csv
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import insert, select

from app.audit.services import record as audit
from app.consent.services import excluded_from_analysis
from app.consultations import analysis
from app.consultations.models import (
    Consultation,
    ConsultationStatus,
    ConsultationText,
    ContentStatus,
    Statement,
    Topic,
    Vote,
    Voter,
)
from app.consultations.services import WRITING_LANGUAGES
from app.extensions import db
from app.hubs.models import Hub

COMMENTS, VOTES, PARTICIPANTS = "comments.csv", "votes.csv", "participants-votes.csv"
COMMENT_COLUMNS = ("timestamp", "datetime", "comment-id", "author-id", "agrees", "disagrees",
                   "moderated", "comment-body")
VOTE_COLUMNS = ("timestamp", "datetime", "comment-id", "voter-id", "vote")
PARTICIPANT_COLUMNS = ("participant", "group-id", "n-comments", "n-votes", "n-agree",
                       "n-disagree")
# Only what the import uses is required, so exports with extra or informational columns
# missing (datetime, agrees, ...) still load.
_REQUIRED_COMMENT = ("timestamp", "comment-id", "author-id", "moderated", "comment-body")
_REQUIRED_VOTE = ("timestamp", "comment-id", "voter-id", "vote")
# Polis writes seconds or milliseconds; seconds pass 1e11 only in the year 5138.
_MILLISECONDS_FROM = 1e11
_SLUG_MAX = 56  # leaves room for "-<n>" within Consultation.slug's 64 characters
_TITLE_MAX = 200
_MODERATION = {-1: ContentStatus.HIDDEN, 0: ContentStatus.PUBLISHED, 1: ContentStatus.PUBLISHED}
_EXPORT_MODERATION = {ContentStatus.PUBLISHED: 1, ContentStatus.PENDING: 0,
                      ContentStatus.HIDDEN: -1, ContentStatus.ERASED: -1}
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class PolisFormatError(ValueError):
    """An export file cannot be read; the message names the file, line and column."""


@dataclass(frozen=True)
class PolisComment:
    number: int  # comment-id
    author: int | None  # author-id (a voter-id)
    text: str
    moderated: int  # 1 accepted, 0 unmoderated, -1 rejected
    created_at: datetime


@dataclass(frozen=True)
class PolisVote:
    """One voter's final vote on one comment, after repeated votes were resolved."""

    voter: int
    comment: int
    value: int
    created_at: datetime  # their first vote on the comment
    updated_at: datetime  # their latest, whose value counts


@dataclass(frozen=True)
class PolisExport:
    comments: list[PolisComment]
    votes: list[PolisVote]
    # participant -> group-id from participants-votes.csv; None when there is no such
    # column (or file), empty when every group-id cell is blank.
    groups: dict[int, int] | None


# --- reading -----------------------------------------------------------------------------


class _Row(NamedTuple):
    """One record's cells, parsed with errors that point at file, line and column."""

    path: Path
    line: int
    cells: dict[str, str]

    def error(self, column: str, message: str) -> PolisFormatError:
        return PolisFormatError(f"{self.path}, line {self.line}, column {column!r}: {message}")

    def text(self, column: str) -> str:
        return self.cells.get(column) or ""

    def integer(self, column: str) -> int:
        value = self.optional_integer(column)
        if value is None:
            raise self.error(column, "a number is required")
        return value

    def optional_integer(self, column: str) -> int | None:
        """A whole number >= 0, or None for an empty cell; "3.0" (pandas) reads as 3."""
        raw = self.text(column).strip()
        if not raw:
            return None
        try:
            value = int(raw)
        except ValueError:
            number = _finite(raw)
            if number is None or not number.is_integer():
                raise self.error(column, f"{raw!r} is not a whole number") from None
            value = int(number)
        if value < 0:
            raise self.error(column, f"{raw!r} is negative")
        return value

    def choice(self, column: str, meaning: str) -> int:
        """-1, 0 or 1: a vote, or a moderation state."""
        raw = self.text(column).strip()
        if raw not in ("-1", "0", "1"):
            raise self.error(column, f"{raw!r} is not {meaning}")
        return int(raw)

    def moment(self, column: str) -> datetime:
        raw = self.text(column).strip()
        number = _finite(raw)
        if number is None or number < 0:
            raise self.error(column, f"{raw!r} is not a Unix timestamp")
        seconds = number / 1000 if number > _MILLISECONDS_FROM else number
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            raise self.error(column, f"{raw!r} is out of range") from None


def _finite(raw: str) -> float | None:
    try:
        number = float(raw)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _rows(path: Path, required: Iterable[str]) -> Iterator[_Row]:
    """Non-blank records with their starting line; the header must name `required`."""
    if not path.is_file():
        raise PolisFormatError(f"{path}: file not found (a Polis export needs {COMMENTS} "
                               f"and {VOTES})")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        try:
            header = [name.strip() for name in next(reader, [])]
            missing = [name for name in required if name not in header]
            if missing:
                raise PolisFormatError(f"{path}, line 1: missing column(s) {', '.join(missing)}")
            start = reader.line_num + 1
            for record in reader:
                line, start = start, reader.line_num + 1
                if any(cell.strip() for cell in record):
                    yield _Row(path, line, dict(zip(header, record, strict=False)))
        except (csv.Error, UnicodeDecodeError) as error:
            raise PolisFormatError(f"{path}, line {reader.line_num + 1}: {error}") from error


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        try:
            return [name.strip() for name in next(csv.reader(handle), [])]
        except (csv.Error, UnicodeDecodeError) as error:
            raise PolisFormatError(f"{path}, line 1: {error}") from error


def read_comments(path: Path) -> list[PolisComment]:
    comments: dict[int, tuple[int, PolisComment]] = {}
    for row in _rows(path, _REQUIRED_COMMENT):
        number = row.integer("comment-id")
        if number in comments:
            raise row.error("comment-id", f"{number} already on line {comments[number][0]}")
        comments[number] = (row.line, PolisComment(
            number=number, author=row.optional_integer("author-id"),
            text=row.text("comment-body"),
            moderated=row.choice("moderated", "1 (accepted), 0 or -1 (rejected)"),
            created_at=row.moment("timestamp")))
    return [comment for _line, comment in comments.values()]


def read_votes(path: Path, comment_ids: set[int]) -> list[PolisVote]:
    """Final votes, sorted by voter then comment; a repeated vote: the latest timestamp
    wins (the later line on a tie), and the first one is kept as `created_at`."""
    found: dict[tuple[int, int], PolisVote] = {}
    for row in _rows(path, _REQUIRED_VOTE):
        comment = row.integer("comment-id")
        if comment not in comment_ids:
            raise row.error("comment-id", f"{comment} is not in {COMMENTS}")
        key = (row.integer("voter-id"), comment)
        value = row.choice("vote", "a vote (1 agree, -1 disagree, 0 pass)")
        at = row.moment("timestamp")
        earlier = found.get(key)
        if earlier is None:
            found[key] = PolisVote(*key, value, at, at)
        elif at >= earlier.updated_at:
            found[key] = PolisVote(*key, value, min(at, earlier.created_at), at)
        else:
            found[key] = PolisVote(*key, earlier.value, min(at, earlier.created_at),
                                   earlier.updated_at)
    return [found[key] for key in sorted(found)]


def read_groups(path: Path) -> dict[int, int] | None:
    """Polis's group-id per participant, or None without the file or the column."""
    if not path.is_file() or "group-id" not in _header(path):
        return None
    groups: dict[int, int] = {}
    seen: dict[int, int] = {}
    for row in _rows(path, ("participant",)):
        participant = row.integer("participant")
        if participant in seen:
            raise row.error("participant", f"{participant} already on line {seen[participant]}")
        seen[participant] = row.line
        group = row.optional_integer("group-id")
        if group is not None:
            groups[participant] = group
    return groups


def read_polis_export(directory: Path) -> PolisExport:
    """Read and check a Polis export directory before anything is written."""
    directory = Path(directory)
    comments = read_comments(directory / COMMENTS)
    votes = read_votes(directory / VOTES, {c.number for c in comments})
    return PolisExport(comments, votes, read_groups(directory / PARTICIPANTS))


# --- import ------------------------------------------------------------------------------


def import_polis(directory: Path, *, hub: Hub, slug: str | None = None,
                 title: str | None = None, language: str = "en",
                 actor: str = "cli") -> Consultation:
    """A closed consultation holding a Polis conversation, with its snapshots; flushed,
    not committed: on any error the caller rolls back and nothing remains.

    Published group-ids become a frozen IMPORTED snapshot; our own clustering is
    computed too, so the two can be compared.
    """
    directory = Path(directory)
    export = read_polis_export(directory)
    title = _checked_title(title or directory.resolve().name)
    _check_language(language)
    consultation = Consultation(
        slug=unique_slug(slug or directory.resolve().name), hub=hub, country=hub.country,
        topic=Topic.ENGAGEMENT, status=ConsultationStatus.CLOSED, default_language=language,
        texts=[ConsultationText(language=language, title=title)])
    db.session.add(consultation)
    db.session.flush()
    voters = _add_voters(consultation.id, export)
    statements = _add_statements(consultation.id, export.comments, voters, language)
    _add_votes(export.votes, voters, statements)
    if export.groups:
        analysis.snapshot_from_labels(consultation.id, export.groups)
    analysis.compute_snapshot(consultation.id)
    audit(action="consultation.imported", actor=actor, subject=f"consultation:{consultation.id}",
          details={"source": "polis", "statements": len(export.comments),
                   "voters": len(voters), "votes": len(export.votes)})
    return consultation


def _checked_title(title: str) -> str:
    title = " ".join(title.split())
    if not title or len(title) > _TITLE_MAX:
        raise ValueError(f"The title must be 1 to {_TITLE_MAX} characters.")
    return title


def _check_language(language: str) -> None:
    if language not in WRITING_LANGUAGES:
        raise ValueError(f"Unknown language {language!r}; use one of "
                         f"{', '.join(sorted(WRITING_LANGUAGES))}.")


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:_SLUG_MAX].strip("-") or "polis"


def unique_slug(name: str) -> str:
    """`name` as a slug, with "-2", "-3", ... when another consultation has it."""
    base = slugify(name)
    taken = set(db.session.scalars(
        select(Consultation.slug).where(Consultation.slug.startswith(base))))
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _add_voters(consultation_id: int, export: PolisExport) -> dict[int, int]:
    """Voters for everyone who voted or wrote; returns voter number -> row id."""
    first_seen: dict[int, datetime] = {}
    events = [(v.voter, v.created_at) for v in export.votes]
    events += [(c.author, c.created_at) for c in export.comments if c.author is not None]
    for number, at in events:
        first_seen[number] = min(at, first_seen.get(number, at))
    if first_seen:
        db.session.execute(insert(Voter), [
            {"consultation_id": consultation_id, "number": number, "participant_id": None,
             "created_at": at} for number, at in sorted(first_seen.items())])
    return dict(db.session.execute(
        select(Voter.number, Voter.id).where(Voter.consultation_id == consultation_id)).all())


def _add_statements(consultation_id: int, comments: list[PolisComment],
                    voters: dict[int, int], language: str) -> dict[int, int]:
    """Statements keeping comment-ids; returns statement number -> row id."""
    if comments:
        db.session.execute(insert(Statement), [
            {"consultation_id": consultation_id, "number": c.number, "text": c.text,
             "language": language, "status": _MODERATION[c.moderated],
             "author_id": voters.get(c.author) if c.author is not None else None,
             "seed": False, "created_at": c.created_at,
             "moderation_reason": "Rejected in Polis" if c.moderated == -1 else None}
            for c in comments])
    return dict(db.session.execute(
        select(Statement.number, Statement.id)
        .where(Statement.consultation_id == consultation_id)).all())


def _add_votes(votes: list[PolisVote], voters: dict[int, int],
               statements: dict[int, int]) -> None:
    if votes:
        db.session.execute(insert(Vote), [
            {"voter_id": voters[v.voter], "statement_id": statements[v.comment],
             "value": v.value, "created_at": v.created_at, "updated_at": v.updated_at}
            for v in votes])


# --- export ------------------------------------------------------------------------------


class _ExportedVote(NamedTuple):
    voter: int
    statement: int
    value: int
    updated_at: datetime


def export_polis(consultation: Consultation, directory: Path) -> dict[str, int]:
    """Write the three Polis files; returns the rows written per file.

    People who withdrew the consent analysis rests on are left out, as in every other
    export. Texts are written exactly, formula-like ones included: this is an
    interchange format read by Polis tools, not a spreadsheet for people to open.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    statements = list(db.session.scalars(
        select(Statement).where(Statement.consultation_id == consultation.id)
        .order_by(Statement.number)))
    excluded = _excluded_voter_ids(consultation.id)
    numbers = dict(db.session.execute(
        select(Voter.id, Voter.number).where(Voter.consultation_id == consultation.id)).all())
    authors = {s.number: numbers[s.author_id] for s in statements
               if s.author_id is not None and s.author_id not in excluded}
    votes = _exported_votes(consultation.id, excluded)
    return {
        COMMENTS: _write_comments(directory / COMMENTS, statements, authors, votes),
        VOTES: _write_votes(directory / VOTES, votes),
        PARTICIPANTS: _write_participants(directory / PARTICIPANTS, consultation.id,
                                          statements, authors, votes),
    }


def polis_datetime(moment: datetime) -> str:
    """Polis's `datetime` column, in English whatever the server's locale."""
    at = moment.astimezone(UTC)
    return (f"{_DAYS[at.weekday()]} {_MONTHS[at.month - 1]} {at.day:02d} {at.year} "
            f"{at:%H:%M:%S} GMT+0000 (Coordinated Universal Time)")


def _excluded_voter_ids(consultation_id: int) -> set[int]:
    excluded = excluded_from_analysis()
    if not excluded:
        return set()
    return set(db.session.scalars(
        select(Voter.id).where(Voter.consultation_id == consultation_id,
                               Voter.participant_id.in_(excluded))))


def _exported_votes(consultation_id: int, excluded: set[int]) -> list[_ExportedVote]:
    """Every vote, on any statement, of the voters who may be exported."""
    rows = db.session.execute(
        select(Voter.id, Voter.number, Statement.number, Vote.value, Vote.updated_at)
        .join(Vote, Vote.voter_id == Voter.id)
        .join(Statement, Statement.id == Vote.statement_id)
        .where(Statement.consultation_id == consultation_id)
        .order_by(Voter.number, Statement.number))
    return [_ExportedVote(number, statement, int(value), updated_at)
            for voter_id, number, statement, value, updated_at in rows
            if voter_id not in excluded]


def _timestamp(moment: datetime) -> int:
    return int(moment.timestamp())


def _write(path: Path, header: Iterable[str], rows: Iterable[Iterable[object]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def _write_comments(path: Path, statements: list[Statement], authors: dict[int, int],
                    votes: list[_ExportedVote]) -> int:
    agrees = Counter(v.statement for v in votes if v.value == 1)
    disagrees = Counter(v.statement for v in votes if v.value == -1)
    return _write(path, COMMENT_COLUMNS, (
        [_timestamp(s.created_at), polis_datetime(s.created_at), s.number,
         authors.get(s.number, ""), agrees[s.number], disagrees[s.number],
         _EXPORT_MODERATION[s.status], "" if s.status == ContentStatus.ERASED else s.text]
        for s in statements))


def _write_votes(path: Path, votes: list[_ExportedVote]) -> int:
    return _write(path, VOTE_COLUMNS, (
        [_timestamp(v.updated_at), polis_datetime(v.updated_at), v.statement, v.voter, v.value]
        for v in votes))


def _write_participants(path: Path, consultation_id: int, statements: list[Statement],
                        authors: dict[int, int], votes: list[_ExportedVote]) -> int:
    """The vote matrix over published statements, with our latest computed groups."""
    columns = [s.number for s in statements if s.status == ContentStatus.PUBLISHED]
    cells: dict[int, dict[int, int]] = {}
    for v in votes:
        cells.setdefault(v.voter, {})[v.statement] = v.value
    written = Counter(authors.values())
    groups = _computed_groups(consultation_id)

    def row(voter: int) -> list[object]:
        mine = cells.get(voter, {})
        values = list(mine.values())
        return [voter, groups.get(voter, ""), written[voter], len(values),
                values.count(1), values.count(-1), *(mine.get(c, "") for c in columns)]

    participants = sorted(set(cells) | set(written))
    return _write(path, (*PARTICIPANT_COLUMNS, *columns), (row(p) for p in participants))


def _computed_groups(consultation_id: int) -> dict[int, int]:
    """Voter number -> group in the latest computed snapshot (one pass over its groups,
    where `analysis.group_of_voter` would scan them once per voter)."""
    snapshot = analysis.latest_snapshot(consultation_id)
    if snapshot is None:
        return {}
    return {int(member): int(group["id"]) for group in snapshot.payload["groups"]
            for member in group["members"]}
