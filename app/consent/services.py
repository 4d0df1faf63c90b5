"""Consent use cases: documents, giving and withdrawing consent, receipts, access codes,
downloads, erasure and retention. Plain functions; callers commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, cast, delete, func, or_, select

from app.audit.services import record as audit
from app.consent.document import (
    CONSENT_DIR,
    ConsentDefinition,
    check_and_build,
    load_documents,
)
from app.consent.models import (
    ConsentChannel,
    ConsentDocument,
    ConsentRecord,
    ConsentVersion,
    ContactDetail,
    ErasureRequest,
)
from app.errors import DomainError
from app.extensions import db
from app.participants.models import Participant
from app.surveys.codes import code_hash, new_code
from app.surveys.loader import DefinitionError, Source, content_hash
from app.surveys.models import Answer, Response, ResponseStatus, SurveyVersion
from app.timeutil import utcnow

__all__ = ["CONSENT_DIR"]

# Withdrawing one of these takes a person's answers out of every result and export.
ANALYSIS_PURPOSES = ("participation", "research")


# Documents and versions ---------------------------------------------------------------


@dataclass(frozen=True)
class LoadedDocument:
    slug: str
    number: int
    created: bool


def load_document_files(paths: list[Path] | None = None) -> list[LoadedDocument]:
    found, problems = load_documents(paths)
    if problems:
        raise DefinitionError(problems)
    return [store_version(definition, source) for definition, source in found.values()]


def store_version(definition: ConsentDefinition, source: Source) -> LoadedDocument:
    document = get_document(definition.id)
    if document is None:
        document = ConsentDocument(slug=definition.id)
        db.session.add(document)
        db.session.flush()
    digest = content_hash(definition.data)
    existing = db.session.scalar(select(ConsentVersion).where(
        ConsentVersion.document_id == document.id, ConsentVersion.content_hash == digest))
    if existing is not None:
        return LoadedDocument(document.slug, existing.number, created=False)
    number = len(document.versions) + 1
    db.session.add(ConsentVersion(
        document=document, number=number, declared_version=definition.version,
        material_change=definition.material_change or number == 1, content_hash=digest,
        definition=dict(definition.data), source=source.text))
    db.session.flush()
    return LoadedDocument(document.slug, number, created=True)


def get_document(slug: str) -> ConsentDocument | None:
    return db.session.scalar(select(ConsentDocument).where(ConsentDocument.slug == slug))


def latest_version(document: ConsentDocument) -> ConsentVersion:
    return document.versions[-1]


_DEFINITIONS: dict[str, ConsentDefinition] = {}


def definition_of(version: ConsentVersion) -> ConsentDefinition:
    """Built once per process per content hash; a stored version never changes."""
    found = _DEFINITIONS.get(version.content_hash)
    if found is None:
        found, problems = check_and_build(Source(f"<stored {version.content_hash[:12]}>",
                                                 version.definition))
        if found is None:
            raise DefinitionError(problems)
        _DEFINITIONS[version.content_hash] = found
    return found


# Consent state --------------------------------------------------------------------------


def current_record(participant_id: str, document: ConsentDocument) -> ConsentRecord | None:
    return db.session.scalar(
        select(ConsentRecord).join(ConsentVersion)
        .where(ConsentRecord.participant_id == participant_id,
               ConsentVersion.document_id == document.id)
        .order_by(ConsentRecord.id.desc()).limit(1))


def needs_renewal(record: ConsentRecord, document: ConsentDocument) -> bool:
    """True when a version with material changes was published after the one agreed to."""
    return any(v.material_change and v.number > record.version.number
               for v in document.versions)


def give_consent(*, participant: Participant, version: ConsentVersion, language: str,
                 asked: list[str], granted: list[str], channel: ConsentChannel,
                 actor: str) -> ConsentRecord:
    """Record one consent decision on the purposes `asked`; required ones must be granted."""
    definition = definition_of(version)
    missing = [p.id for p in definition.purposes
               if p.id in asked and p.required and p.id not in granted]
    if missing:
        raise DomainError(_l("You need to agree to the required purposes to take part."),
                          field=missing[0])
    granted_set = [p for p in asked if p in granted]
    refused = [p for p in asked if p not in granted]
    consent = ConsentRecord(
        receipt_id=str(uuid.uuid4()), participant_id=participant.id, version_id=version.id,
        language=definition.language_for(language),
        shown_text_hash=definition.shown_text_hash(language, asked),
        granted=granted_set, refused=refused, channel=channel, actor=actor)
    db.session.add(consent)
    db.session.flush()
    audit(action="consent.given", actor=actor.split(":")[0], subject=participant.id,
          details={"document": version.document.slug, "version": version.number,
                   "granted": granted_set, "refused": refused, "channel": channel.value,
                   "receipt": consent.receipt_id})
    return consent


def withdraw(*, participant_id: str, document: ConsentDocument, purpose: str,
             actor: str = "participant") -> ConsentRecord:
    """Withdraw one purpose: a new record, as easy as giving it, effective at once."""
    record = current_record(participant_id, document)
    if record is None or purpose not in record.granted:
        raise DomainError(_l("This consent has already been withdrawn."))
    new = ConsentRecord(
        receipt_id=str(uuid.uuid4()), participant_id=participant_id,
        version_id=record.version_id, language=record.language,
        shown_text_hash=record.shown_text_hash,
        granted=[p for p in record.granted if p != purpose],
        refused=[*record.refused, purpose], channel=ConsentChannel.WEB, actor=actor)
    db.session.add(new)
    definition = definition_of(record.version)
    if any(p.id == purpose and p.required for p in definition.purposes):
        # Without the required purpose there is no taking part: answers are withdrawn too.
        from app.surveys.services import definition_of as survey_definition

        for response in responses_of(participant_id):
            uses_document = survey_definition(response.version).consent_document == document.slug
            if uses_document and response.status != ResponseStatus.WITHDRAWN:
                response.status = ResponseStatus.WITHDRAWN
    db.session.flush()
    audit(action="consent.withdrawn", actor=actor, subject=participant_id,
          details={"document": document.slug, "purpose": purpose, "receipt": new.receipt_id})
    return new


def responses_of(participant_id: str) -> list[Response]:
    return list(db.session.scalars(select(Response).where(
        Response.participant_id == participant_id).order_by(Response.id)))


def latest_records() -> dict[tuple[str, int], ConsentRecord]:
    """Each person's current decision per consent document (the newest record)."""
    latest: dict[tuple[str, int], ConsentRecord] = {}
    for consent in db.session.scalars(select(ConsentRecord).order_by(ConsentRecord.id)):
        latest[(consent.participant_id, consent.version.document_id)] = consent
    return latest


def excluded_from_analysis_query():
    """Participants whose current consent refuses participation or research, as SQL.

    The newest record per person and consent document decides. A subquery, so results
    over hundreds of thousands of responses send no list of ids to the database.
    """
    latest = (select(func.max(ConsentRecord.id))
              .join(ConsentVersion, ConsentVersion.id == ConsentRecord.version_id)
              .group_by(ConsentRecord.participant_id, ConsentVersion.document_id))
    refused = cast(ConsentRecord.refused, String)  # a JSON list of purpose ids
    return select(ConsentRecord.participant_id).where(
        ConsentRecord.id.in_(latest),
        or_(*[refused.like(f'%"{purpose}"%') for purpose in ANALYSIS_PURPOSES]))


def excluded_from_analysis() -> list[str]:
    """The same participants as :func:`excluded_from_analysis_query`, as a sorted list.

    Results and exports filter responses with
    `Response.participant_id.not_in(excluded_from_analysis_query())`.
    """
    return sorted(set(db.session.scalars(excluded_from_analysis_query())))


def _analysable(columns, survey_id: int):
    return (select(columns).join(SurveyVersion)
            .where(SurveyVersion.survey_id == survey_id,
                   Response.status == ResponseStatus.COMPLETE,
                   Response.participant_id.not_in(excluded_from_analysis_query())))


def analysable_responses(survey_id: int) -> list[Response]:
    """Complete responses that may be analysed now: withdrawals take effect at once."""
    return list(db.session.scalars(_analysable(Response, survey_id)))


def analysable_response_ids(survey_id: int) -> list[int]:
    """The ids of :func:`analysable_responses`, without loading the responses."""
    return list(db.session.scalars(_analysable(Response.id, survey_id).order_by(Response.id)))


def analysable_count(survey_id: int) -> int:
    """How many :func:`analysable_responses` there are, counted by the database."""
    found = _analysable(Response.id, survey_id).subquery()
    return int(db.session.scalar(select(func.count()).select_from(found)) or 0)


# Access codes -----------------------------------------------------------------------


def new_access_code(participant: Participant) -> str:
    """A private code for "My data"; only its hash is kept, so it is shown once."""
    code = new_code()
    participant.access_code_hash = code_hash(code)
    return code


def participant_by_access_code(code: str) -> Participant | None:
    if not code or not code.strip():
        return None
    return db.session.scalar(select(Participant).where(
        Participant.access_code_hash == code_hash(code)))


# Receipts ---------------------------------------------------------------------------


def receipt(record: ConsentRecord, language: str) -> dict[str, Any]:
    """A machine-readable receipt with the fields of the Kantara Consent Receipt
    specification 1.1 (which ISO/IEC TS 27560 builds on)."""
    definition = definition_of(record.version)
    lang = definition.language_for(language)

    def purpose_entry(purpose_id: str, consented: bool) -> dict[str, Any]:
        purpose = definition.purpose(purpose_id)
        return {
            "purpose": purpose.title.get(lang),
            "purposeCategory": [purpose.id],
            "consentType": "EXPLICIT",
            "consented": consented,
            "piiCategory": [purpose.data_categories.get(lang)],
            "primaryPurpose": purpose.required,
            "termination": f"P{purpose.retention_days}D",
            "thirdPartyDisclosure": False,
            "legalBasis": purpose.legal_basis.get(lang),
        }

    return {
        "version": "KI-CR-v1.1.0",
        "jurisdiction": "EU",
        "consentTimestamp": int(record.created_at.timestamp()),
        "collectionMethod": record.channel.value,
        "consentReceiptID": record.receipt_id,
        "language": record.language,
        "piiPrincipalId": record.participant_id,
        "piiControllers": [{
            "piiController": definition.controller_name.get(lang),
            "contact": definition.controller_contact,
            "email": definition.controller_contact,
            "onBehalf": False,
        }],
        "policyUrl": f"urn:echos-engage:consent:{record.version.document.slug}:"
                     f"v{record.version.number}",
        "services": [{
            "service": definition.title.get(lang),
            "purposes": [purpose_entry(p, True) for p in record.granted]
            + [purpose_entry(p, False) for p in record.refused],
        }],
        "sensitive": any(definition.purpose(p).special_category for p in record.granted),
        "spiCat": [p for p in record.granted if definition.purpose(p).special_category],
        "shownTextHash": record.shown_text_hash,
        "actor": record.actor,
    }


# Everything about one person ---------------------------------------------------------


def records_of(participant_id: str) -> list[ConsentRecord]:
    return list(db.session.scalars(select(ConsentRecord).where(
        ConsentRecord.participant_id == participant_id).order_by(ConsentRecord.id)))


def contact_details_of(participant_id: str) -> list[ContactDetail]:
    return list(db.session.scalars(select(ContactDetail).where(
        ContactDetail.participant_id == participant_id).order_by(ContactDetail.field)))


def erase(participant_id: str, *, actor: str = "participant") -> ErasureRequest:
    """Delete everything about one participant in every table; log only the counts."""
    request = ErasureRequest(requested_at=utcnow())
    db.session.add(request)
    response_ids = [r.id for r in responses_of(participant_id)]
    from app.consultations.erasure import erase_participant  # consultations build on consent
    from app.events.erasure import erase_participant as erase_registrations

    deliberation = erase_participant(participant_id) | erase_registrations(participant_id)
    counts = {
        "answers": _delete(delete(Answer).where(Answer.response_id.in_(response_ids)))
        if response_ids else 0,
        "responses": _delete(delete(Response).where(Response.participant_id == participant_id)),
        "contact_details": _delete(delete(ContactDetail).where(
            ContactDetail.participant_id == participant_id)),
        "consent_records": _delete(delete(ConsentRecord).where(
            ConsentRecord.participant_id == participant_id)),
        **deliberation,
        "participants": _delete(delete(Participant).where(Participant.id == participant_id)),
    }
    request.counts = counts
    request.completed_at = utcnow()
    db.session.flush()
    audit(action="data.erased", actor=actor, subject=None,
          details={"erasure_request": request.id, **counts})
    return request


def _delete(statement) -> int:
    return db.session.execute(statement).rowcount or 0


# Retention ---------------------------------------------------------------------------


def enforce_retention(now: datetime | None = None) -> dict[str, int]:
    """Delete what has outlived its purpose's retention period; safe to run repeatedly.

    Answers go when the longest period among the purposes they were given under
    has passed since the response was last changed; contact details when the
    contact purpose's period has passed since consent.
    """
    now = now or utcnow()
    counts = {"responses": 0, "answers": 0, "contact_details": 0}
    for (participant_id, _document), records in latest_records().items():
        definition = definition_of(records.version)
        periods = {p.id: timedelta(days=p.retention_days) for p in definition.purposes}
        keep_answers = max((periods[p] for p in records.granted if p in ANALYSIS_PURPOSES),
                           default=timedelta(0))
        for response in responses_of(participant_id):
            if response.updated_at + keep_answers < now:
                counts["answers"] += _delete(delete(Answer).where(
                    Answer.response_id == response.id))
                db.session.delete(response)
                counts["responses"] += 1
        contact_period = periods.get("contact", timedelta(0))
        if records.created_at + contact_period < now or "contact" not in records.granted:
            counts["contact_details"] += _delete(delete(ContactDetail).where(
                ContactDetail.participant_id == participant_id))
    db.session.flush()
    if any(counts.values()):
        audit(action="retention.enforced", actor="system", details=counts)
    return counts


# Organiser and data protection views --------------------------------------------------


@dataclass(frozen=True)
class PurposeCount:
    purpose: str
    granted: int
    refused: int


def statistics(document: ConsentDocument) -> dict[int, list[PurposeCount]]:
    """Current decisions per version and purpose (each person's latest record counts once)."""
    current = [consent for (_pid, document_id), consent in latest_records().items()
               if document_id == document.id]
    by_version: dict[int, dict[str, list[int]]] = {}
    for consent in current:
        counts = by_version.setdefault(consent.version.number, {})
        for purpose in consent.granted:
            counts.setdefault(purpose, [0, 0])[0] += 1
        for purpose in consent.refused:
            counts.setdefault(purpose, [0, 0])[1] += 1
    return {number: [PurposeCount(p, g, r) for p, (g, r) in sorted(counts.items())]
            for number, counts in sorted(by_version.items())}


def all_records() -> list[ConsentRecord]:
    return list(db.session.scalars(select(ConsentRecord).order_by(ConsentRecord.id)))


def erasure_requests() -> list[ErasureRequest]:
    return list(db.session.scalars(select(ErasureRequest).order_by(ErasureRequest.id.desc())))


def documents() -> list[ConsentDocument]:
    return list(db.session.scalars(select(ConsentDocument).order_by(ConsentDocument.slug)))


def anonymise_survey(survey_id: int, *, actor: str) -> int:
    """Cut every response of a closed survey from the person who gave it.

    Each response gets a fresh participant with no consent records, access code or
    contact details, and its resume code stops working; the answers stay for
    analysis but no longer relate to anyone. Returns the number of responses.
    """
    responses = list(db.session.scalars(
        select(Response).join(SurveyVersion).where(SurveyVersion.survey_id == survey_id)))
    for response in responses:
        stranger = Participant()
        db.session.add(stranger)
        db.session.flush()
        response.participant_id = stranger.id
        response.resume_code_hash = code_hash(new_code())
    db.session.flush()
    audit(action="survey.anonymised", actor=actor, subject=None,
          details={"survey": survey_id, "responses": len(responses)})
    return len(responses)
