"""Consultations ready to take part in, built through the services."""

from __future__ import annotations

from flask import Flask

from app.consent import services as consent_services
from app.consultations import services, voting
from app.consultations.models import ConsultationStatus, StatementModeration, Topic
from app.extensions import db
from app.hubs.services import ensure_hub

STATEMENTS = (
    "Screening invitations should come by post and by text message.",
    "Mobile screening units should visit every rural town each year.",
    "Travel costs to treatment should be paid back for everyone.",
)


def open_consultation(app: Flask, slug: str = "rural-screening", *, hub_slug: str = "pt",
                      country: str = "PT", statements=STATEMENTS,
                      moderation: StatementModeration = StatementModeration.PRE,
                      status: ConsultationStatus = ConsultationStatus.OPEN) -> int:
    """An open consultation with seed statements in English and a German title."""
    with app.app_context():
        consent_services.load_document_files()
        hub = ensure_hub(slug=hub_slug, name=f"Hub {country}", country=country)
        consultation = services.create_consultation(
            slug=slug, hub=hub, country=country, topic=Topic.EARLY_DETECTION,
            default_language="en", texts=[
                services.TextInput("en", "Cancer screening in rural areas",
                                   "How can screening reach people far from hospitals?",
                                   "Tell us what would **help you** take part."),
                services.TextInput("de", "Krebsfrüherkennung auf dem Land",
                                   "Wie erreicht die Früherkennung Menschen fern der Kliniken?"),
            ])
        consultation.statement_moderation = moderation
        for text in statements:
            voting.add_statement(consultation, text, "en", seed=True)
        services.set_status(consultation, status)
        db.session.commit()
        return consultation.id
