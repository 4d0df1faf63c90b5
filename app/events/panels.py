"""Selecting a fair panel for an oversubscribed session from its registrants.

Registrants' categories come from their answers to the event's registration survey
(core demographics). The maths is in app.events.selection; this module feeds it the
pool, stores the published result (method, seed, quotas, everyone's probability) and
moves registrants to selected or the waiting list.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict

import numpy as np
from sqlalchemy import select

from app.audit.services import record as audit
from app.consent.models import ContactDetail
from app.consent.services import excluded_from_analysis
from app.events import selection
from app.events.models import (
    ChoiceStatus,
    EventSession,
    PanelSelection,
    Registration,
    SessionChoice,
)
from app.events.registration import registration_responses
from app.extensions import db
from app.surveys.models import Answer

# Survey questions that can carry quotas, in the order organisers see them.
CATEGORY_QUESTIONS = ("country_of_residence", "age_band", "gender", "education_level",
                      "urbanisation", "activity_limitation", "born_in_country_of_residence",
                      "make_ends_meet")
UNKNOWN = "_unknown"  # no answer: the person is not constrained by that category's quotas
IN_POOL = (ChoiceStatus.REGISTERED, ChoiceStatus.WAITLISTED, ChoiceStatus.SELECTED,
           ChoiceStatus.INVITED, ChoiceStatus.CONFIRMED)


def pool_choices(session: EventSession) -> list[SessionChoice]:
    return list(db.session.scalars(select(SessionChoice).where(
        SessionChoice.session_id == session.id, SessionChoice.status.in_(IN_POOL))
        .order_by(SessionChoice.id)))


def pool(session: EventSession) -> list[selection.Registrant]:
    """Everyone still in the running for this session, with their categories.

    The household is the e-mail address or phone number given at registration: people
    who share one are taken to share a home when one-per-household is asked for.
    """
    choices = pool_choices(session)
    registrations = [c.registration for c in choices]
    answers = answers_of(session.event, registrations)
    households = _households([r.participant_id for r in registrations])
    return [selection.Registrant(
        id=str(r.id),
        features={q: answers.get(r.id, {}).get(q, UNKNOWN) for q in CATEGORY_QUESTIONS},
        household=households.get(r.participant_id)) for r in registrations]


def answers_of(event, registrations: Sequence[Registration]) -> dict[int, dict[str, str]]:
    """registration id -> {category question: answer} from the registration survey."""
    latest = registration_responses(event, [r.participant_id for r in registrations])
    responses = {latest[r.participant_id]: r.id for r in registrations
                 if r.participant_id in latest}
    out: dict[int, dict[str, str]] = {}
    if not responses:
        return out
    rows = db.session.execute(select(Answer.response_id, Answer.question, Answer.value_text)
                              .where(Answer.response_id.in_(list(responses)),
                                     Answer.question.in_(CATEGORY_QUESTIONS)))
    for response_id, question, value in rows:
        if value:
            out.setdefault(responses[response_id], {})[question] = value
    return out


def _households(participant_ids: list[str]) -> dict[str, str]:
    rows = db.session.execute(select(ContactDetail.participant_id, ContactDetail.value).where(
        ContactDetail.participant_id.in_(participant_ids),
        ContactDetail.field.in_(("email", "phone"))).order_by(ContactDetail.field))
    out: dict[str, str] = {}
    for participant_id, value in rows:
        out.setdefault(participant_id, " ".join(str(value).split()).casefold())
    return out


def category_counts(registrants: Sequence[selection.Registrant]) -> dict[str, Counter]:
    """How many registrants have each value, per category: what quotas are set against."""
    counts: dict[str, Counter] = {q: Counter() for q in CATEGORY_QUESTIONS}
    for person in registrants:
        for question, value in person.features.items():
            counts[question][value] += 1
    return counts


def distribution(session: EventSession, *, panel_size: int, quotas: list[selection.Quota],
                 algorithm: str, one_per_household: bool, draws: int = 2000
                 ) -> tuple[dict[str, float], selection.Distribution | None, bool]:
    """Everyone's selection probability; raises InfeasibleQuotas with the conflicts.

    Returns (probabilities, the LEXIMIN lottery or None for the legacy method, capped).
    """
    registrants = pool(session)
    if panel_size > len(registrants):
        raise ValueError("panel larger than pool")
    problem = selection.check_feasible(registrants, quotas, panel_size,
                                       one_per_household=one_per_household)
    if problem is not None:
        raise selection.InfeasibleQuotas(problem)
    if algorithm == "legacy":
        return selection.legacy_probabilities(
            registrants, quotas, panel_size, draws=draws,
            one_per_household=one_per_household), None, False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", selection.IterationCapWarning)
        lottery = selection.leximin(registrants, quotas, panel_size,
                                    one_per_household=one_per_household)
    return lottery.probabilities, lottery, lottery.capped


def run_selection(session: EventSession, *, panel_size: int, quotas: list[selection.Quota],
                  algorithm: str, seed: int, one_per_household: bool,
                  actor_id: int | None) -> PanelSelection:
    """Compute, draw with the published seed, store, and place everyone."""
    registrants = pool(session)
    probabilities, lottery, _capped = distribution(
        session, panel_size=panel_size, quotas=quotas, algorithm=algorithm,
        one_per_household=one_per_household)
    if lottery is not None:
        panel = selection.draw_panel(lottery, seed)
    else:
        panel = selection.legacy_draw(registrants, quotas, panel_size,
                                      np.random.default_rng(seed),
                                      one_per_household=one_per_household)
    stored = PanelSelection(
        session_id=session.id, algorithm=algorithm, seed=seed, panel_size=panel_size,
        one_per_household=one_per_household, quotas=[asdict(q) for q in quotas],
        probabilities={k: float(v) for k, v in probabilities.items()},
        panel=sorted(int(p) for p in panel), minimum=float(min(probabilities.values())),
        replacements=[], created_by=actor_id)
    db.session.add(stored)
    _place(session, stored, set(panel), seed)
    db.session.flush()
    audit(action="panel.selected", actor=f"user:{actor_id}", subject=f"session:{session.id}",
          details={"selection": stored.id, "algorithm": algorithm, "seed": seed,
                   "panel_size": panel_size})
    return stored


def _place(session: EventSession, stored: PanelSelection, panel: set[str], seed: int) -> None:
    """Drawn people are selected; the rest wait in a seeded random order."""
    choices = pool_choices(session)
    rest = sorted((c for c in choices if str(c.registration_id) not in panel),
                  key=lambda c: c.registration_id)
    order = np.random.default_rng(seed + 1).permutation(len(rest)) if rest else []
    for position, index in enumerate(order, start=1):
        rest[int(index)].waitlist_position = position
        rest[int(index)].status = ChoiceStatus.WAITLISTED
    for choice in choices:
        choice.probability = stored.probabilities.get(str(choice.registration_id))
        if str(choice.registration_id) in panel:
            choice.status = ChoiceStatus.SELECTED
            choice.waitlist_position = None


def latest_selection(session: EventSession) -> PanelSelection | None:
    return db.session.scalar(select(PanelSelection).where(
        PanelSelection.session_id == session.id).order_by(PanelSelection.id.desc()).limit(1))


def fill_freed_places(session: EventSession, *, actor_id: int | None) -> list[int]:
    """Replace people who declined or cancelled, keeping the quotas (seeded, reproducible).

    Returns the registration ids newly selected.
    """
    stored = latest_selection(session)
    if stored is None:
        return []
    statuses = {c.registration_id: c.status for c in db.session.scalars(
        select(SessionChoice).where(SessionChoice.session_id == session.id))}
    panel = [str(r) for r in stored.panel if statuses.get(r) in (
        ChoiceStatus.SELECTED, ChoiceStatus.INVITED, ChoiceStatus.CONFIRMED,
        ChoiceStatus.DECLINED, ChoiceStatus.CANCELLED)]
    dropouts = [p for p in panel if statuses.get(int(p)) in (ChoiceStatus.DECLINED,
                                                               ChoiceStatus.CANCELLED)]
    if not dropouts:
        return []
    quotas = [selection.Quota(**q) for q in stored.quotas]
    registrants = pool(session) + [selection.Registrant(id=p, features={}) for p in dropouts]
    seed = stored.seed + len(stored.replacements) + 1
    new_panel = selection.replace_dropouts(registrants, quotas, panel, dropouts, seed,
                                           one_per_household=stored.one_per_household)
    added = sorted(int(p) for p in new_panel - set(panel))
    for choice in db.session.scalars(select(SessionChoice).where(
            SessionChoice.session_id == session.id,
            SessionChoice.registration_id.in_(added))):
        choice.status, choice.waitlist_position = ChoiceStatus.SELECTED, None
    stored.panel = sorted({*stored.panel, *added} - {int(d) for d in dropouts})
    stored.replacements = [*stored.replacements,
                           {"seed": seed, "out": sorted(int(d) for d in dropouts), "in": added}]
    audit(action="panel.replaced", actor=f"user:{actor_id}", subject=f"session:{session.id}",
          details={"selection": stored.id, "seed": seed, "in": len(added)})
    return added


def analysable(registration_ids: Sequence[int]) -> set[int]:
    """Registrations whose people still allow analysis (for group comparisons)."""
    excluded = set(excluded_from_analysis())
    return {r.id for r in db.session.scalars(select(Registration).where(
        Registration.id.in_(list(registration_ids)))) if r.participant_id not in excluded}


def category_labels(event, language: str) -> dict[str, tuple[str, dict[str, str]]]:
    """{category: (question text, {value: answer text})} from the registration survey."""
    from app.surveys import services as surveys
    from app.surveys.labels import choice_label

    survey = surveys.get_survey(event.registration_survey)
    if survey is None or not survey.versions:
        return {}
    definition = surveys.definition_of(surveys.latest_version(survey))
    lang = definition.language_for(language)
    out = {}
    for category in CATEGORY_QUESTIONS:
        try:
            question = definition.question(category)
        except KeyError:
            continue
        label = question.label.get(lang) if question.label else category
        out[category] = (label, {c.value: choice_label(question, c, lang)
                                 for c in question.choices})
    return out
