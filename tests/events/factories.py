"""Events ready to register for, and registrants built through the real survey."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from app.consent import services as consent_services
from app.events import registration, services
from app.events.models import EventStatus, SessionMode
from app.extensions import db
from app.hubs.services import ensure_hub
from app.surveys import services as surveys
from app.surveys.models import SurveyStatus
from tests.factories import csrf_token
from tests.surveys.test_views import post, start

SLUG = "citizens-panel"
REGISTRATION = "event-registration"


def open_event(app: Flask, slug: str = SLUG, *, hub_slug: str = "pt",
               country: str = "PT") -> dict[str, int]:
    """A published event with sessions in Lisbon and Vienna; returns the session ids."""
    with app.app_context():
        consent_services.load_document_files()
        surveys.load_survey_files([surveys.SURVEYS_DIR / f"{REGISTRATION}.yaml",
                                   surveys.SURVEYS_DIR / "event-evaluation.yaml"])
        for name in (REGISTRATION, "event-evaluation"):
            surveys.set_status(surveys.get_survey(name), SurveyStatus.OPEN)
        hub = ensure_hub(slug=hub_slug, name=f"Hub {country}", country=country)
        event = services.create_event(slug=slug, hub=hub, default_language="en", texts=[
            services.TextInput("en", "Citizens' panel on cancer screening",
                               "Three sessions, three countries."),
            services.TextInput("de", "Bürgerrat zur Krebsfrüherkennung")])
        lisbon = services.save_session(event, services.SessionInput(
            country="PT", venue="Biblioteca Municipal, Rua X 1, Lisboa", online_url="",
            mode=SessionMode.IN_PERSON, languages=["pt"], interpretation=["en"],
            local_start=datetime(2027, 3, 27, 10, 0), local_end=datetime(2027, 3, 27, 16, 0),
            timezone="Europe/Lisbon", capacity=4))
        vienna = services.save_session(event, services.SessionInput(
            country="AT", venue="Rathaus, Wien", online_url="https://meet.example.org/x",
            mode=SessionMode.HYBRID, languages=["de"], interpretation=[],
            local_start=datetime(2027, 3, 28, 10, 0), local_end=datetime(2027, 3, 28, 12, 0),
            timezone="Europe/Vienna", capacity=10))
        event.status = EventStatus.PUBLISHED
        db.session.commit()
        return {"lisbon": lisbon.id, "vienna": vienna.id}


def answer_registration_survey(client, answers: dict[str, object], language: str = "en"
                               ) -> None:
    """Consent to everything, then every page: given answers, else the first choice."""
    with client.application.app_context():
        definition = surveys.definition_of(surveys.latest_version(
            surveys.get_survey(REGISTRATION)))
    location = start(client, REGISTRATION, language)
    while "/p/" in location:
        page = definition.page(location.rsplit("/", 1)[-1])
        data: dict[str, object] = {"_shown": [q.id for q in page.questions]}
        for question in page.questions:
            if question.id in answers:
                data[question.id] = answers[question.id]
            elif question.type in ("single_choice", "yes_no") and question.choices \
                    and question.required:
                data[question.id] = question.choices[0].value
        response = post(client, location, data)
        if response.status_code == 200:  # a follow-up question appeared on the page
            for question in page.questions:
                if question.required and question.id not in data and question.choices:
                    data[question.id] = question.choices[0].value
            response = post(client, location, data)
        assert response.status_code == 302, response.data[:3000]
        location = response.location
    response = client.post(f"/{language}/s/{REGISTRATION}/submit",
                           data={"csrf_token": csrf_token(client, location)})
    assert response.status_code == 302, response.data[:2000]


def register(client, sessions: list[int], answers: dict[str, object], *,
             language: str = "en", slug: str = SLUG) -> str:
    """The whole web registration; returns the private link's path."""
    client.post(f"/{language}/e/{slug}/register/start",
                data={"csrf_token": csrf_token(client)})
    answer_registration_survey(client, answers, language)
    response = client.post(f"/{language}/e/{slug}/register", data={
        "csrf_token": csrf_token(client), "session": [str(s) for s in sessions]})
    assert response.status_code == 302, response.data[:3000]
    return response.location


def registration_ids(app, slug: str = SLUG) -> list[int]:
    from sqlalchemy import select

    from app.events.models import Registration

    with app.app_context():
        event = services.get_by_slug(slug)
        return list(db.session.scalars(select(Registration.id).where(
            Registration.event_id == event.id).order_by(Registration.id)))


__all__ = ["open_event", "register", "registration", "registration_ids"]
