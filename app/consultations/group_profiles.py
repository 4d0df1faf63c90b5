"""Who sits in which opinion group: demographic make-up from linked survey answers.

Only people whose consent allows analysis count (``analysable_responses``), and every
table goes through small-cell suppression with the consultation's threshold, so a
group's profile never points at a person.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.consent.services import analysable_responses
from app.consultations.models import Consultation, OpinionSnapshot, Voter
from app.extensions import db
from app.results.disclosure import SuppressedTable, suppress_table
from app.surveys import services as surveys
from app.surveys.labels import choice_label
from app.surveys.models import Answer

# Core demographics questions whose categories make a readable group profile.
PROFILE_QUESTIONS = ("age_band", "gender", "urbanisation", "education_level",
                     "born_in_country_of_residence", "activity_limitation", "make_ends_meet")


@dataclass(frozen=True)
class GroupProfile:
    question: str
    label: str
    categories: list[str]  # row labels, in the question's order
    group_ids: list[int]  # column order
    table: SuppressedTable


def group_profiles(consultation: Consultation, snapshot: OpinionSnapshot,
                   language: str) -> list[GroupProfile]:
    groups = {int(number): int(g["id"]) for g in snapshot.payload["groups"]
              for number in g["members"]}
    if not groups or not consultation.surveys:
        return []
    participant_group = {pid: groups[number] for number, pid in db.session.execute(
        select(Voter.number, Voter.participant_id).where(
            Voter.consultation_id == consultation.id, Voter.participant_id.is_not(None)))
        if number in groups}
    if not participant_group:
        return []
    group_ids = sorted(set(groups.values()))
    profiles: list[GroupProfile] = []
    for survey in consultation.surveys:
        if not survey.versions:
            continue
        definition = surveys.definition_of(surveys.latest_version(survey))
        responses = {r.id: participant_group[r.participant_id]
                     for r in analysable_responses(survey.id)
                     if r.participant_id in participant_group}
        if not responses:
            continue
        lang = definition.language_for(language)
        for question_id in PROFILE_QUESTIONS:
            if any(p.question == question_id for p in profiles):
                continue
            try:
                question = definition.question(question_id)
            except KeyError:
                continue
            profiles.append(_profile(question, lang, responses, group_ids,
                                     consultation.min_cell_size))
    return profiles


def _profile(question, language: str, responses: dict[int, int], group_ids: list[int],
             k: int) -> GroupProfile:
    values = [c.value for c in question.choices]
    counts = [[0] * len(group_ids) for _ in values]
    column = {g: i for i, g in enumerate(group_ids)}
    row = {v: i for i, v in enumerate(values)}
    answers = db.session.execute(select(Answer.response_id, Answer.value_text).where(
        Answer.question == question.id, Answer.response_id.in_(list(responses))))
    for response_id, value in answers:
        if value in row:
            counts[row[value]][column[responses[response_id]]] += 1
    return GroupProfile(
        question=question.id,
        label=question.label.get(language) if question.label else question.id,
        categories=[choice_label(question, c, language) for c in question.choices],
        group_ids=group_ids, table=suppress_table(counts, k))
