"""Survey use cases: loading definitions, responding, resuming, submitting.

Plain functions; callers commit. Errors for the respondent are DomainErrors
with translatable messages.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from app.consent.models import ContactDetail
from app.errors import DomainError
from app.extensions import db
from app.participants.models import Participant
from app.surveys import engine
from app.surveys.answers import AnswerRow
from app.surveys.codes import code_hash, new_code
from app.surveys.definition import Definition
from app.surveys.expressions import evaluate_bool
from app.surveys.loader import (
    DefinitionError,
    LoadResult,
    Problem,
    Source,
    check_and_build,
    content_hash,
    load_definitions,
)
from app.surveys.models import (
    Answer,
    Channel,
    Invitation,
    InvitationStatus,
    Response,
    ResponseStatus,
    Survey,
    SurveyStatus,
    SurveyVersion,
)
from app.surveys.question_types import question_type
from app.timeutil import utcnow

SURVEYS_DIR = Path(__file__).resolve().parent.parent.parent / "surveys"


# Definitions and versions ----------------------------------------------------------


@dataclass(frozen=True)
class LoadedVersion:
    slug: str
    number: int
    created: bool  # False when this exact content was already stored


def load_survey_files(paths: Iterable[Path]) -> tuple[list[LoadedVersion], LoadResult]:
    """Store each checked survey as a new version unless its content is already stored."""
    from app.consent.services import load_document_files

    load_document_files()  # a survey's consent document must be stored before the survey
    result = load_definitions(list(paths), library=[SURVEYS_DIR])
    if result.problems:
        raise DefinitionError(result.problems)
    for definition in result.definitions.values():
        if definition.consent_document:
            _check_consent_document(definition, result.sources[definition.id])
    loaded = []
    for definition in result.definitions.values():
        if definition.kind != "survey":
            continue
        source = result.sources[definition.id]
        loaded.append(store_version(definition, source.text))
    return loaded, result


def _check_consent_document(definition: Definition, source: Source) -> None:
    from app.consent.services import definition_of as consent_definition
    from app.consent.services import get_document
    from app.consent.services import latest_version as latest_consent

    document = get_document(definition.consent_document)
    if document is None:
        raise DefinitionError([Problem(
            source.file, source.line(("consent_document",)), "consent_document",
            f"no consent document named {definition.consent_document!r} in surveys/consent/")])
    known = {p.id for p in consent_definition(latest_consent(document)).purposes}
    unknown = [p for p in definition.consent_purposes if p not in known]
    if unknown:
        raise DefinitionError([Problem(
            source.file, source.line(("consent_purposes",)), "consent_purposes",
            f"not a purpose of {document.slug!r}: {', '.join(unknown)}")])


def store_version(definition: Definition, source_text: str) -> LoadedVersion:
    survey = db.session.scalar(select(Survey).where(Survey.slug == definition.id))
    if survey is None:
        survey = Survey(slug=definition.id)
        db.session.add(survey)
        db.session.flush()
    digest = content_hash(definition.data)
    existing = db.session.scalar(
        select(SurveyVersion).where(
            SurveyVersion.survey_id == survey.id, SurveyVersion.content_hash == digest
        )
    )
    if existing is not None:
        return LoadedVersion(survey.slug, existing.number, created=False)
    number = (
        db.session.scalar(
            select(func.max(SurveyVersion.number)).where(SurveyVersion.survey_id == survey.id)
        )
        or 0
    ) + 1
    version = SurveyVersion(
        survey=survey,
        number=number,
        declared_version=definition.version,
        content_hash=digest,
        definition=dict(definition.data),
        source=source_text,
    )
    db.session.add(version)
    db.session.flush()
    return LoadedVersion(survey.slug, number, created=True)


def store_checked_source(source: Source) -> LoadedVersion:
    """Check one uploaded definition (modules from surveys/) and store it."""
    modules = load_definitions([], library=[SURVEYS_DIR]).modules
    definition, problems = check_and_build(source, modules)
    if definition is None:
        raise DefinitionError(problems)
    if definition.kind != "survey":
        raise DefinitionError([Problem(source.file, 1, "kind",
                                       "a module cannot be stored on its own")])
    return store_version(definition, source.text)


_DEFINITIONS: dict[str, Definition] = {}
_DEFINITIONS_KEPT = 256


def definition_of(version: SurveyVersion) -> Definition:
    """The built definition of a stored version.

    Kept per process by content hash: a stored version never changes, so this is
    a pure function of the hash and holds no request or user state.
    """
    found = _DEFINITIONS.get(version.content_hash)
    if found is None:
        source = Source(file=f"<stored {version.content_hash[:12]}>", data=version.definition)
        found, problems = check_and_build(source, {})
        if found is None:
            raise DefinitionError(problems)
        if len(_DEFINITIONS) >= _DEFINITIONS_KEPT:
            _DEFINITIONS.pop(next(iter(_DEFINITIONS)))
        _DEFINITIONS[version.content_hash] = found
    return found


def list_surveys() -> list[Survey]:
    return list(db.session.scalars(select(Survey).order_by(Survey.slug)))


def get_survey(slug: str) -> Survey | None:
    return db.session.scalar(select(Survey).where(Survey.slug == slug))


def latest_version(survey: Survey) -> SurveyVersion:
    return survey.versions[-1]


def set_status(survey: Survey, status: SurveyStatus) -> None:
    survey.status = status
    survey.status_changed_at = utcnow()


def open_surveys() -> list[tuple[Survey, Definition]]:
    found = []
    for survey in db.session.scalars(
        select(Survey).where(Survey.status == SurveyStatus.OPEN).order_by(Survey.slug)
    ):
        definition = definition_of(latest_version(survey))
        if accepting_reason(survey, definition) is None:
            found.append((survey, definition))
    return found


def accepting_reason(
    survey: Survey, definition: Definition, now: datetime | None = None
) -> object | None:
    """Why the survey takes no new responses now, or None when it does."""
    now = now or utcnow()
    settings = definition.settings
    if survey.status != SurveyStatus.OPEN:
        return _l("This survey is not open at the moment.")
    if settings.opens and now < settings.opens:
        return _l("This survey opens on %(date)s.", date=settings.opens.date().isoformat())
    if settings.closes and now > settings.closes:
        return _l("This survey closed on %(date)s.", date=settings.closes.date().isoformat())
    if settings.response_limit is not None:
        complete = count_responses(survey, ResponseStatus.COMPLETE)
        if complete >= settings.response_limit:
            return _l("This survey has received all the answers it needs. Thank you.")
    return None


def count_responses(survey: Survey, status: ResponseStatus | None = None) -> int:
    query = (
        select(func.count(Response.id))
        .join(SurveyVersion)
        .where(SurveyVersion.survey_id == survey.id, Response.channel != Channel.PREVIEW)
    )
    if status is not None:
        query = query.where(Response.status == status)
    return db.session.scalar(query) or 0


@dataclass(frozen=True)
class Funnel:
    """How far respondents got. With a consent document a response exists only once
    consent is given, so `consented` counts responses; `started` those with a saved
    page; without a consent document `consented` is None."""

    consented: int | None
    started: int
    completed: int
    withdrawn: int
    screened_out: int

    @property
    def completion_rate(self) -> float | None:
        return self.completed / self.started if self.started else None


def funnel(survey: Survey) -> Funnel:
    """Responses by status and progress in one query (previews left out)."""
    saved_a_page = (Response.current_page.is_not(None)) | (
        Response.status == ResponseStatus.COMPLETE)
    rows = db.session.execute(
        select(Response.status, saved_a_page, func.count(Response.id))
        .join(SurveyVersion)
        .where(SurveyVersion.survey_id == survey.id, Response.channel != Channel.PREVIEW)
        .group_by(Response.status, saved_a_page)
    ).all()
    by_status: dict[ResponseStatus, int] = defaultdict(int)
    for status, _saved, count in rows:
        by_status[status] += count
    with_consent = definition_of(latest_version(survey)).consent_document is not None
    return Funnel(
        consented=sum(by_status.values()) if with_consent else None,
        started=sum(count for _status, saved, count in rows if saved),
        completed=by_status.get(ResponseStatus.COMPLETE, 0),
        withdrawn=by_status.get(ResponseStatus.WITHDRAWN, 0),
        screened_out=by_status.get(ResponseStatus.SCREENED_OUT, 0),
    )


# Responding ------------------------------------------------------------------------


def find_response(code: str | None) -> Response | None:
    if not code:
        return None
    return db.session.scalar(select(Response).where(Response.resume_code_hash == code_hash(code)))


def start_response(
    *,
    version: SurveyVersion,
    code: str,
    language: str,
    channel: Channel = Channel.WEB,
    invitation: Invitation | None = None,
    participant: Participant | None = None,
) -> Response:
    """Begin answering; the same code always gives the same response (double clicks)."""
    existing = find_response(code)
    if existing is not None:
        return existing
    participant = participant or Participant()
    response = Response(
        version=version,
        participant=participant,
        channel=channel,
        language=language,
        languages=[language],
        resume_code_hash=code_hash(code),
        invitation_id=invitation.id if invitation else None,
    )
    if invitation is not None:
        invitation.status = InvitationStatus.STARTED
        invitation.used_at = utcnow()
    db.session.add_all([participant, response])
    db.session.flush()
    return response


def load_answers(response: Response, definition: Definition) -> engine.Answers:
    rows: dict[str, list[AnswerRow]] = defaultdict(list)
    for answer in db.session.scalars(select(Answer).where(Answer.response_id == response.id)):
        rows[answer.question].append(
            AnswerRow(
                answer.question,
                answer.item,
                answer.position,
                answer.value_text,
                answer.value_number,
                answer.value_date,
            )
        )
    answers: engine.Answers = {}
    for question in definition.questions():
        if question.id in rows:
            answers[question.id] = question_type(question.type).from_rows(
                question, rows[question.id]
            )
    contact_fields = {q.id for q in definition.questions() if q.contact}
    if contact_fields:
        for detail in db.session.scalars(select(ContactDetail).where(
                ContactDetail.participant_id == response.participant_id,
                ContactDetail.field.in_(contact_fields))):
            answers[detail.field] = detail.value
    return answers


def save_answers(response: Response, definition: Definition, answers: engine.Answers) -> None:
    """Replace the stored answers with `answers` (every page save, so nothing is lost)."""
    db.session.execute(delete(Answer).where(Answer.response_id == response.id))
    now = utcnow()
    for question in definition.questions():
        if question.contact:
            _save_contact(response.participant_id, question.id, answers.get(question.id))
            continue
        if question.id not in answers:
            continue
        for row in question_type(question.type).to_rows(question, answers[question.id]):
            db.session.add(
                Answer(
                    response_id=response.id,
                    question=row.question,
                    item=row.item,
                    position=row.position,
                    value_text=row.text,
                    value_number=row.number,
                    value_date=row.day,
                    updated_at=now,
                )
            )
    response.updated_at = now


def _save_contact(participant_id: str, field: str, value: object) -> None:
    """Contact details go to their own table, never among the answers."""
    detail = db.session.scalar(select(ContactDetail).where(
        ContactDetail.participant_id == participant_id, ContactDetail.field == field))
    if value is None or value == "":
        if detail is not None:
            db.session.delete(detail)
    elif detail is None:
        db.session.add(ContactDetail(participant_id=participant_id, field=field, value=str(value)))
    else:
        detail.value = str(value)


def note_language(response: Response, language: str) -> None:
    response.language = language
    if language not in (response.languages or []):
        response.languages = [*(response.languages or []), language]


def ensure_editable(response: Response) -> None:
    if response.status != ResponseStatus.IN_PROGRESS:
        raise DomainError(_l("These answers have already been sent."))


def save_page(
    response: Response,
    definition: Definition,
    page_id: str,
    values: engine.Answers,
    answers: engine.Answers,
) -> engine.Answers:
    ensure_editable(response)
    merged = engine.merge_page(definition, definition.page(page_id), answers, values)
    save_answers(response, definition, merged)
    return merged


def full_quota(survey: Survey, definition: Definition, answers: engine.Answers):
    """The first quota this respondent falls in that is already full, if any."""
    scope = engine.scope_of(definition, answers)
    for quota in definition.settings.quotas:
        if not quota.when.references <= set(scope) or not evaluate_bool(quota.when, scope):
            continue
        matching = 0
        complete = db.session.scalars(
            select(Response)
            .join(SurveyVersion)
            .where(
                SurveyVersion.survey_id == survey.id,
                Response.status == ResponseStatus.COMPLETE,
                Response.channel != Channel.PREVIEW,
            )
        )
        for other in complete:
            other_definition = definition_of(other.version)
            other_scope = engine.scope_of(other_definition, load_answers(other, other_definition))
            if evaluate_bool(quota.when, other_scope):
                matching += 1
                if matching >= quota.limit:
                    return quota
    return None


def submit(response: Response, definition: Definition) -> None:
    """Mark the response complete; submitting again changes nothing."""
    if response.status == ResponseStatus.COMPLETE:
        return
    ensure_editable(response)
    answers = engine.prune(definition, load_answers(response, definition))
    missing = engine.unanswered_required(definition, answers)
    if missing:
        raise DomainError(_l("Some questions still need an answer."), field=missing[0].id)
    save_answers(response, definition, answers)
    response.status = ResponseStatus.COMPLETE
    response.completed_at = utcnow()
    if response.invitation_id:
        invitation = db.session.get(Invitation, response.invitation_id)
        invitation.status = InvitationStatus.COMPLETED


# Invitations -----------------------------------------------------------------------


def create_invitations(
    survey: Survey, references: list[str | None]
) -> list[tuple[str, str | None]]:
    """One single-use token per reference; tokens are returned once and stored hashed."""
    created = []
    for reference in references:
        token = new_code()
        db.session.add(
            Invitation(survey_id=survey.id, token_hash=code_hash(token), reference=reference)
        )
        created.append((token, reference))
    db.session.flush()
    return created


def find_invitation(survey: Survey, token: str) -> Invitation | None:
    return db.session.scalar(
        select(Invitation).where(
            Invitation.survey_id == survey.id, Invitation.token_hash == code_hash(token)
        )
    )


def recent_invitations(survey: Survey, limit: int = 200) -> list[Invitation]:
    return list(db.session.scalars(
        select(Invitation).where(Invitation.survey_id == survey.id)
        .order_by(Invitation.id.desc()).limit(limit)))


def invitation_counts(survey: Survey) -> dict[str, int]:
    rows = db.session.execute(
        select(Invitation.status, func.count(Invitation.id))
        .where(Invitation.survey_id == survey.id)
        .group_by(Invitation.status)
    )
    return {status.value: count for status, count in rows}
