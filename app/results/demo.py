"""Illustrative responses and benchmarks so the results pages have something to show.

Made-up answers from made-up people and a made-up population table, labelled as such
wherever a source is shown. Used by ``flask demo load`` and by tests that need many
stored responses without going through the respondent pages.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from app.extensions import db
from app.participants.models import Participant
from app.results import benchmarks, weighting
from app.results.models import Benchmark
from app.surveys.models import (
    Answer,
    Channel,
    Response,
    ResponseStatus,
    SurveyVersion,
)
from app.surveys.services import definition_of, get_survey, latest_version
from app.timeutil import utcnow

NUMBER_TYPES = frozenset({"integer", "decimal", "rating"})
DEMO_SOURCE = "Illustrative demo table (not official)"
DEMO_SURVEY = "cancer-mission-consultation"
DEMO_RESPONSES = 600


def store_responses(version: SurveyVersion, people: Iterable[Mapping[str, str | list[str]]],
                    *, language: str = "en", channel: Channel = Channel.WEB,
                    completed_at: datetime | None = None) -> list[int]:
    """One complete response per mapping {question: value or [values]}; returns ids.

    Writes the rows the respondent path writes (one Answer per value, numbers in
    ``value_number``); the caller commits.
    """
    numeric = {q.id for q in definition_of(version).questions() if q.type in NUMBER_TYPES}
    ids = []
    for answers in people:
        participant = Participant()
        db.session.add(participant)
        db.session.flush()
        when = completed_at or utcnow()
        response = Response(
            survey_version_id=version.id, participant_id=participant.id,
            status=ResponseStatus.COMPLETE, channel=channel, language=language,
            languages=[language], started_at=when, updated_at=when, completed_at=when,
            resume_code_hash=hashlib.sha256(f"stored-{participant.id}".encode()).hexdigest())
        db.session.add(response)
        db.session.flush()
        for question, value in answers.items():
            values = value if isinstance(value, list) else [value]
            db.session.add_all(Answer(
                response_id=response.id, question=question, item="", position=position,
                value_text=None if question in numeric else item,
                value_number=Decimal(item) if question in numeric else None)
                for position, item in enumerate(values))
        ids.append(response.id)
    return ids


# Made-up shares, tilted the way open online consultations usually are: younger, urban
# and more educated people answer more than their share of the population.
_SAMPLE = {
    "age_band": {"16_24": 8, "25_34": 20, "35_44": 22, "45_54": 20, "55_64": 15,
                 "65_74": 10, "75_plus": 5},
    "gender": {"woman": 60, "man": 38, "_other": 2},
    "urbanisation": {"city": 55, "town_suburb": 30, "rural": 15},
    "education_level": {"isced_0_2": 12, "isced_3_4": 38, "isced_5_8": 50},
    "activity_limitation": {"severely_limited": 6, "limited_not_severely": 20,
                            "not_limited": 74},
    "born_in_country_of_residence": {"yes": 85, "no": 15},
    "make_ends_meet": {"great_difficulty": 5, "difficulty": 10, "some_difficulty": 20,
                       "fairly_easily": 30, "easily": 25, "very_easily": 10},
    "screening_invited": {"yes": 60, "no": 35, "_dont_know": 5},
    "voice_in_decisions": {"1": 20, "2": 30, "3": 25, "4": 15, "5": 10},
}
_POPULATION = {  # illustrative shares, not official statistics
    "age_band": {"16_24": .12, "25_34": .14, "35_44": .15, "45_54": .17, "55_64": .16,
                 "65_74": .14, "75_plus": .12},
    "urbanisation": {"city": .45, "town_suburb": .30, "rural": .25},
    "education_level": {"isced_0_2": .35, "isced_3_4": .40, "isced_5_8": .25},
    "gender": {"woman": .52, "man": .48},
}


def _pick(rng: random.Random, shares: Mapping[str, float]) -> str:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


def _person(rng: random.Random, country: str) -> dict[str, str | list[str]]:
    person: dict[str, str | list[str]] = {q: _pick(rng, s) for q, s in _SAMPLE.items()}
    easy = {"1": 5, "2": 10, "3": 20, "4": 40, "5": 25} if person["urbanisation"] == "city" \
        else {"1": 12, "2": 20, "3": 30, "4": 25, "5": 13}
    person["info_easy_to_understand"] = _pick(rng, easy)
    person["country_of_residence"] = country
    person["trust_info_rating"] = str(rng.randint(0, 10))
    person["screening_barriers"] = rng.sample(
        ["no_time", "distance_travel", "cost", "fear", "language"], k=rng.randint(0, 2))
    return person


def load_demo_results(*, seed: int = 2026) -> bool:
    """Responses over the last two weeks, a population table and a scheme; once only."""
    survey = get_survey(DEMO_SURVEY)
    if survey is None or not survey.versions:
        return False
    if db.session.scalar(select(func.count(Benchmark.id)).where(
            Benchmark.source == DEMO_SOURCE)):
        return False
    rng = random.Random(seed)
    version = latest_version(survey)
    days = 14
    for day in range(days):
        when = utcnow() - timedelta(days=days - day)
        people = [_person(rng, "PT" if i % 3 else "AT")
                  for i in range(DEMO_RESPONSES // days)]
        store_responses(version, people, completed_at=when,
                        language=rng.choice(["en", "pt", "de"]))
    rows = "\n".join(f"{variable},{category},{country},{share},{DEMO_SOURCE},2024"
                     for country in ("PT", "AT")
                     for variable, shares in _POPULATION.items()
                     for category, share in shares.items())
    benchmarks.store(benchmarks.read_plain(
        "variable,category,country,share,source,year\n" + rows + "\n"))
    scheme = weighting.define(survey, weighting.SchemeInput(
        "demo-pt", "PT", ("age_band", "urbanisation", "education_level"),
        lower=0.3, upper=3.0), actor="demo")
    weighting.compute(survey, scheme, actor="demo")
    return True
