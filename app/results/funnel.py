"""Participation funnel: invited, started, consented, completed, and who is missing where.

For one survey (every version; staff previews never count) the funnel counts people at
each stage, overall and by channel, by language and by the categories of each group
variable (age, gender, education, place, disability, migration, income). A response
counts as having passed every stage before the one it reached: a completed paper
response whose consent is on a paper form still counts as consented.

How the numbers stay safe to publish:

- Each breakdown is one two-way table of *disjoint* outcomes per row: stopped before
  consenting, consented but not finished, completed. The published stages are sums of
  those cells (started = all three, consented = the last two), so
  :func:`app.results.disclosure.suppress_table` protects both the cells and the
  differences between stages (e.g. "3 started but did not consent").
- Tables that share a total (channel and language share the overall one; the group
  tables share the total without withdrawn people) hide a total when any of them has to,
  so two tables cannot be set against each other.
- Conversion rates are shown only where both counts are shown.

Group membership is only known once a person answered the question, so every group table
has a "not answered yet" row. People whose consent no longer allows analysis (see
:func:`app.consent.services.excluded_from_analysis`) and withdrawn responses are left out
of the group tables, but stay in the overall, channel and language counts: those describe
the process, not the people.

All counts come from a handful of ``GROUP BY`` queries, whatever the number of responses.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import String, and_, case, cast, exists, false, func, literal_column, or_, select
from sqlalchemy.sql.elements import ColumnElement

from app.consent import services as consent
from app.consent.models import ConsentRecord
from app.extensions import db
from app.results.disclosure import suppress_counts, suppress_table
from app.results.participation import GROUP_VARIABLES
from app.surveys import services as surveys
from app.surveys.definition import Definition, Question
from app.surveys.labels import choice_label
from app.surveys.models import (
    Answer,
    Channel,
    Invitation,
    InvitationStatus,
    Response,
    ResponseStatus,
    Survey,
    SurveyVersion,
)

CHANNELS = tuple(c.value for c in Channel if c != Channel.PREVIEW)
NOT_ANSWERED = ""  # the key of the "not answered yet" row in group tables
# Outcome columns, in order: how far a response got. Without a consent step the first
# two are merged into one ("not finished").
STOPPED_BEFORE_CONSENT, STOPPED_AFTER_CONSENT, COMPLETED = 0, 1, 2
REACHED = literal_column("reached")


@dataclass(frozen=True)
class FunnelRow:
    """Counts per stage for one row of a table; ``None`` is a hidden count."""

    key: str
    label: str
    started: int | None
    consented: int | None  # None as well when the survey asks for no consent
    completed: int | None
    consent_rate: float | None  # consented / started
    completion_rate: float | None  # completed / consented (or / started without consent)
    hidden: bool = False  # at least one count of this row is hidden


@dataclass(frozen=True)
class FunnelTable:
    by: str  # "channel", "language" or a group variable
    label: str
    rows: list[FunnelRow]
    total: FunnelRow
    groups: bool  # a group table: withdrawn people left out, "not answered yet" row


@dataclass(frozen=True)
class Funnel:
    slug: str
    k: int
    has_consent: bool
    invited_applies: bool  # invited-mode survey
    invited: int | None  # None: hidden, or not applicable
    start_rate: float | None  # started / invited
    overall: FunnelRow
    tables: list[FunnelTable] = field(default_factory=list)

    def table(self, by: str) -> FunnelTable | None:
        return next((t for t in self.tables if t.by == by), None)


# --- shared query parts (also used by the live monitor) ------------------------------------


def excluded_participants():
    """Participants whose consent no longer allows analysis (a subquery)."""
    return consent.excluded_from_analysis_query()


def counted_responses(survey: Survey) -> ColumnElement[bool]:
    """Responses of any version of the survey, staff previews left out."""
    return and_(Response.survey_version_id.in_([v.id for v in survey.versions]),
                Response.channel != Channel.PREVIEW)


def analysable(survey: Survey) -> ColumnElement[bool]:
    """Counted responses of people who allow analysis and have not withdrawn."""
    return and_(counted_responses(survey), Response.status != ResponseStatus.WITHDRAWN,
                Response.participant_id.not_in(excluded_participants()))


def definitions(survey: Survey) -> list[tuple[SurveyVersion, Definition]]:
    return [(v, surveys.definition_of(v)) for v in survey.versions]


def group_questions(survey: Survey) -> dict[str, Question]:
    """Group variables the survey asks in any version, as the newest version asks them."""
    found: dict[str, Question] = {}
    for _version, definition in definitions(survey):
        for question in definition.questions():
            if question.id in GROUP_VARIABLES:
                found[question.id] = question
    return {v: found[v] for v in GROUP_VARIABLES if v in found}


def _consented(survey: Survey) -> tuple[ColumnElement[bool], bool]:
    """SQL condition "this response's participant has consented", and whether any version
    asks for consent at all.

    Consented means a consent record for the version's consent document that grants every
    purpose the survey requires (what the survey's consent gate checks). A version without
    a consent document has nothing to consent to, so its responses pass.
    """
    conditions = []
    asks = False
    granted = cast(ConsentRecord.granted, String)
    for version, definition in definitions(survey):
        document = consent.get_document(definition.consent_document) \
            if definition.consent_document else None
        if document is None:
            conditions.append(Response.survey_version_id == version.id)
            continue
        asks = True
        consent_definition = consent.definition_of(consent.latest_version(document))
        required = [p.id for p in consent_definition.purposes
                    if p.required and p.id in definition.consent_purposes]
        record = exists().where(
            ConsentRecord.participant_id == Response.participant_id,
            ConsentRecord.version_id.in_([v.id for v in document.versions]),
            *[granted.like(f'%"{purpose}"%') for purpose in required])
        conditions.append(and_(Response.survey_version_id == version.id, record))
    return (or_(*conditions) if conditions else false()), asks


def _reached(consented: ColumnElement[bool]):
    """How far a response got, as one of the three outcome codes; grouped by its name
    (``REACHED``), as the expression carries bound values a database may not match."""
    return case((Response.completed_at.is_not(None), literal_column(str(COMPLETED))),
                (consented, literal_column(str(STOPPED_AFTER_CONSENT))),
                else_=literal_column(str(STOPPED_BEFORE_CONSENT))).label("reached")


# --- the funnel --------------------------------------------------------------------------


def invited_count(survey: Survey) -> int:
    """Invitations issued and not revoked."""
    return db.session.scalar(select(func.count(Invitation.id)).where(
        Invitation.survey_id == survey.id, Invitation.status != InvitationStatus.REVOKED)) or 0


def build(survey: Survey, language: str, k: int, *,
          channel_label: Callable[[str], str] = str,
          language_label: Callable[[str], str] = str,
          not_answered_label: str = "not answered yet") -> Funnel:
    """The whole funnel of a survey, every count under ``k`` hidden (see module doc)."""
    consented, has_consent = _consented(survey)
    reached = _reached(consented)
    # 1. channel x language x outcome, for everyone who started.
    by_cl: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for channel, lang, outcome, n in db.session.execute(
            select(Response.channel, Response.language, reached, func.count(Response.id))
            .where(counted_responses(survey))
            .group_by(Response.channel, Response.language, REACHED)):
        by_cl[Channel(channel).value, lang][outcome] += n
    # 2. outcome for those who allow analysis; 3. their group answers x outcome.
    base = [0, 0, 0]
    for outcome, n in db.session.execute(
            select(reached, func.count(Response.id)).where(analysable(survey))
            .group_by(REACHED)):
        base[outcome] += n
    questions = group_questions(survey)
    answered: dict[str, dict[str, list[int]]] = {v: defaultdict(lambda: [0, 0, 0])
                                                 for v in questions}
    if questions:
        for question, value, outcome, n in db.session.execute(
                select(Answer.question, Answer.value_text, reached, func.count(Response.id))
                .join(Answer, Answer.response_id == Response.id)
                .where(analysable(survey), Answer.question.in_(list(questions)),
                       Answer.item == "", Answer.position == 0, Answer.value_text.is_not(None))
                .group_by(Answer.question, Answer.value_text, REACHED)):
            answered[question][value][outcome] += n

    all_definitions = [d for _v, d in definitions(survey)]
    latest = all_definitions[-1]
    lang = latest.language_for(language)
    channels = {c: [0, 0, 0] for c in CHANNELS}
    languages: dict[str, list[int]] = {code: [0, 0, 0] for d in all_definitions
                                       for code in d.languages}
    for (channel, lang_code), counts in by_cl.items():
        for i, n in enumerate(counts):
            channels.setdefault(channel, [0, 0, 0])[i] += n
            languages.setdefault(lang_code, [0, 0, 0])[i] += n
    overall_counts = [sum(c[i] for c in channels.values()) for i in range(3)]

    process = [
        _Raw("channel", "channel", [(c, channel_label(c), v) for c, v in channels.items()],
             groups=False),
        _Raw("language", "language",
             [(code, language_label(code), v) for code, v in languages.items()], groups=False),
    ]
    group_tables = []
    for variable, question in questions.items():
        labels = {c.value: choice_label(question, c, lang) for c in question.choices}
        values = answered[variable]
        rows = [(value, label, values.get(value, [0, 0, 0])) for value, label in labels.items()]
        rows += [(value, value, counts) for value, counts in sorted(values.items())
                 if value not in labels]
        missing = [base[i] - sum(counts[i] for _v, _l, counts in rows) for i in range(3)]
        rows.append((NOT_ANSWERED, not_answered_label, missing))
        title = question.label.get(lang) if question.label else variable
        group_tables.append(_Raw(variable, title, rows, groups=True))

    process_tables, overall = _publish(process, overall_counts, k, has_consent)
    published_groups, _group_total = _publish(group_tables, base, k, has_consent)
    invited_applies = any(d.settings.mode == "invited" for d in all_definitions)
    invited = None
    start_rate = None
    if invited_applies:
        invited_cells, _ = suppress_counts([invited_count(survey)], k)
        invited = invited_cells[0]
        start_rate = _rate(overall.started, invited)
    return Funnel(slug=survey.slug, k=k, has_consent=has_consent,
                  invited_applies=invited_applies, invited=invited, start_rate=start_rate,
                  overall=overall, tables=process_tables + published_groups)


@dataclass
class _Raw:
    by: str
    label: str
    rows: list[tuple[str, str, list[int]]]  # key, label, counts per outcome
    groups: bool


def _columns(counts: Sequence[int], has_consent: bool) -> list[int]:
    """The disjoint outcome cells of one row (two without a consent step)."""
    if has_consent:
        return list(counts)
    return [counts[STOPPED_BEFORE_CONSENT] + counts[STOPPED_AFTER_CONSENT], counts[COMPLETED]]


def _publish(raws: list[_Raw], total: Sequence[int], k: int, has_consent: bool
             ) -> tuple[list[FunnelTable], FunnelRow]:
    """Suppress every table; totals hidden in one table are hidden in all of them."""
    width = 3 if has_consent else 2
    suppressed = [suppress_table([_columns(counts, has_consent) for _k, _l, counts in raw.rows]
                                 or [[0] * width], k) for raw in raws]
    # The shared margin: column totals and grand total, hidden if any table hides them.
    totals_line, grand = suppress_counts(_columns(total, has_consent), k)
    margin: list[int | None] = [*totals_line, grand]
    for table in suppressed:
        for i, value in enumerate([*table.column_totals, table.grand_total]):
            if value is None:
                margin[i] = None
    overall = _row("total", "", margin[:-1], margin[-1], has_consent)
    tables = []
    for raw, table in zip(raws, suppressed, strict=True):
        rows = [_row(key, label, table.cells[i], table.row_totals[i], has_consent)
                for i, (key, label, _counts) in enumerate(raw.rows)] if raw.rows else []
        tables.append(FunnelTable(by=raw.by, label=raw.label, rows=rows,
                                  total=overall, groups=raw.groups))
    return tables, overall


def _row(key: str, label: str, cells: Sequence[int | None], started: int | None,
         has_consent: bool) -> FunnelRow:
    completed = cells[-1]
    if has_consent:
        after, done = cells[STOPPED_AFTER_CONSENT], cells[COMPLETED]
        consented = None if after is None or done is None else after + done
        completion_rate = _rate(completed, consented)
    else:
        consented = None
        completion_rate = _rate(completed, started)
    hidden = started is None or any(c is None for c in cells)
    return FunnelRow(key=key, label=label, started=started, consented=consented,
                     completed=completed, consent_rate=_rate(consented, started),
                     completion_rate=completion_rate, hidden=hidden)


def _rate(part: int | None, whole: int | None) -> float | None:
    if part is None or whole is None or whole == 0:
        return None
    return part / whole


def breakdowns(funnel: Funnel) -> Iterable[str]:
    """The names ``--by`` accepts for this funnel."""
    return [t.by for t in funnel.tables]
