"""Consultation spaces: create, edit, list and find them; their phases and linked surveys."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from babel import Locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.consultations.models import (
    Consultation,
    ConsultationStatus,
    ConsultationText,
    Phase,
    PhaseKind,
    StatementModeration,
    Topic,
)
from app.errors import DomainError
from app.extensions import db
from app.hubs.models import Hub
from app.multilingual import sync_by_language
from app.surveys.models import Survey
from app.timeutil import utcnow

PUBLIC_STATUSES = (ConsultationStatus.OPEN, ConsultationStatus.CLOSED,
                   ConsultationStatus.ARCHIVED)
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Languages people may write statements and comments in: the EU's official languages,
# those of the associated countries in the network, and the largest migrant languages.
WRITING_LANGUAGES = (
    "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr", "hu", "it", "lt",
    "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv", "no", "is", "ar", "tr", "uk", "ru",
    "fa", "so", "ti",
)


@dataclass(frozen=True)
class TextInput:
    language: str
    title: str
    summary: str = ""
    body: str = ""


@dataclass(frozen=True)
class PhaseInput:
    kind: PhaseKind
    starts_on: date
    ends_on: date
    description: dict[str, str]


def language_name(code: str, in_language: str) -> str:
    """A language's name in the reader's language, e.g. "Portugiesisch" for pt in de."""
    try:
        return Locale.parse(code).get_display_name(in_language) or code
    except (ValueError, LookupError):
        return code


def get_by_slug(slug: str) -> Consultation | None:
    return db.session.scalar(select(Consultation).where(Consultation.slug == slug))


def get(key: str | int) -> Consultation | None:
    """By id or slug: what operators type on the command line."""
    if isinstance(key, int) or str(key).isdigit():
        return db.session.get(Consultation, int(key))
    return get_by_slug(str(key))


def create_consultation(*, slug: str, hub: Hub, country: str, topic: Topic,
                        default_language: str, texts: Iterable[TextInput]) -> Consultation:
    """A new draft; the caller commits."""
    if not SLUG_PATTERN.match(slug):
        raise DomainError(_l("Use lower-case letters, digits and hyphens only, for example "
                          "screening-rural-areas."), field="slug")
    if get_by_slug(slug) is not None:
        raise DomainError(_l("Another consultation already uses this web address."), field="slug")
    consultation = Consultation(slug=slug, hub=hub, country=country, topic=topic,
                                default_language=default_language,
                                status=ConsultationStatus.DRAFT)
    db.session.add(consultation)
    set_texts(consultation, texts)
    db.session.flush()
    return consultation


def set_texts(consultation: Consultation, texts: Iterable[TextInput]) -> None:
    """Replace the per-language texts; a language left without a title is dropped."""
    wanted = {t.language: t for t in texts if t.title}
    if consultation.default_language not in wanted:
        raise DomainError(_l("Give a title in the main language."),
                          field=f"title_{consultation.default_language}")
    def fill(row: ConsultationText, given: TextInput) -> None:
        row.title, row.summary, row.body = given.title, given.summary, given.body

    sync_by_language(consultation.texts, wanted, lambda lang: ConsultationText(language=lang),
                     fill)
    consultation.updated_at = utcnow()


def update_settings(consultation: Consultation, *, hub: Hub, country: str, topic: Topic,
                    default_language: str, moderation: StatementModeration,
                    participant_statements: bool) -> None:
    consultation.hub, consultation.country, consultation.topic = hub, country, topic
    consultation.default_language = default_language
    consultation.statement_moderation = moderation
    consultation.participant_statements = participant_statements
    consultation.updated_at = utcnow()


def set_phases(consultation: Consultation, phases: Iterable[PhaseInput]) -> None:
    """Replace the phases; each must end on or after its start."""
    phases = list(phases)
    for index, phase in enumerate(phases):
        if phase.ends_on < phase.starts_on:
            raise DomainError(_l("A phase cannot end before it starts."),
                              field=f"phases-{index}-ends_on")
    consultation.phases.clear()
    db.session.flush()
    for phase in phases:
        consultation.phases.append(Phase(kind=phase.kind, starts_on=phase.starts_on,
                                         ends_on=phase.ends_on,
                                         description=dict(phase.description)))


def set_surveys(consultation: Consultation, surveys: Iterable[Survey]) -> None:
    consultation.surveys = sorted(set(surveys), key=lambda s: s.slug)


def set_status(consultation: Consultation, status: ConsultationStatus) -> None:
    consultation.status = status
    consultation.updated_at = utcnow()


def current_phase(consultation: Consultation, today: date) -> Phase | None:
    """The phase running today; when phases overlap, the one that started last."""
    running = [p for p in consultation.phases if p.starts_on <= today <= p.ends_on]
    return max(running, key=lambda p: (p.starts_on, p.id)) if running else None


def all_consultations() -> list[Consultation]:
    return list(db.session.scalars(select(Consultation).order_by(Consultation.created_at.desc(),
                                                                 Consultation.id.desc())))


def public_listing(*, topic: Topic | None = None, country: str | None = None,
                   language: str | None = None,
                   status: ConsultationStatus | None = None) -> list[Consultation]:
    """What citizens can browse: everything but drafts, open ones first."""
    query = select(Consultation).where(Consultation.status.in_(PUBLIC_STATUSES))
    if status in PUBLIC_STATUSES:
        query = query.where(Consultation.status == status)
    if topic is not None:
        query = query.where(Consultation.topic == topic)
    if country:
        query = query.where(Consultation.country == country)
    if language:
        query = query.where(Consultation.texts.any(ConsultationText.language == language))
    order = {ConsultationStatus.OPEN: 0, ConsultationStatus.CLOSED: 1,
             ConsultationStatus.ARCHIVED: 2}
    found = list(db.session.scalars(query.order_by(Consultation.updated_at.desc())))
    return sorted(found, key=lambda c: order[c.status])


def listing_countries() -> list[str]:
    return sorted(set(db.session.scalars(
        select(Consultation.country).where(Consultation.status.in_(PUBLIC_STATUSES)))))


def accepting_contributions(consultation: Consultation) -> bool:
    """Votes, statements and comments are taken while a consultation is open."""
    return consultation.status == ConsultationStatus.OPEN
