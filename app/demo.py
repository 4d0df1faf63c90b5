"""`flask demo load`: illustrative content so a fresh checkout has something to show.

Everything loaded here is demo material for local use, not real data, and the
command refuses to run in production.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.auth import services as auth
from app.auth.roles import Role
from app.consultations.demo import load_demo_consultation
from app.events.demo import load_demo_event
from app.extensions import db
from app.hubs.services import ensure_hub
from app.results.demo import load_demo_results
from app.surveys import services as survey_services
from app.surveys.models import SurveyStatus

demo_cli = AppGroup("demo", help="Demo content for local use.")

# The countries of the hubs' partners; names as the hubs are commonly called.
DEMO_HUBS = [
    ("pt", "National Cancer Mission Hub Portugal", "PT"),
    ("es", "National Cancer Mission Hub Spain", "ES"),
    ("it", "National Cancer Mission Hub Italy", "IT"),
    ("pl", "National Cancer Mission Hub Poland", "PL"),
    ("be", "National Cancer Mission Hub Belgium", "BE"),
    ("ro", "National Cancer Mission Hub Romania", "RO"),
    ("se", "National Cancer Mission Hub Sweden", "SE"),
    ("fi", "National Cancer Mission Hub Finland", "FI"),
    ("no", "National Cancer Mission Hub Norway", "NO"),
    ("gr", "National Cancer Mission Hub Greece", "GR"),
    ("mt", "National Cancer Mission Hub Malta", "MT"),
    ("at", "National Cancer Mission Hub Austria", "AT"),
]

# Local demo accounts only; printed by `make run` so nobody has to look them up.
DEMO_USERS = [
    ("admin@demo.echos.eu", "Demo Administrator", Role.ADMIN, "demo-admin-password"),
    ("organiser@demo.echos.eu", "Demo Organiser", Role.ORGANISER, "demo-organiser-password"),
    ("analyst@demo.echos.eu", "Demo Analyst", Role.ANALYST, "demo-analyst-password"),
    ("moderator@demo.echos.eu", "Demo Moderator", Role.MODERATOR, "demo-moderator-password"),
    ("translator@demo.echos.eu", "Demo Translator", Role.TRANSLATOR, "demo-translator-password"),
]


def load_demo_content() -> list[tuple[str, str, Role]]:
    """Create demo hubs and accounts that are missing, open the shipped surveys; return logins."""
    for slug, name, country in DEMO_HUBS:
        ensure_hub(slug=slug, name=name, country=country)
    loaded, _ = survey_services.load_survey_files([survey_services.SURVEYS_DIR])
    for item in loaded:
        survey = survey_services.get_survey(item.slug)
        if survey.status == SurveyStatus.DRAFT:
            survey_services.set_status(survey, SurveyStatus.OPEN)
    portugal = ensure_hub(slug="pt", name=DEMO_HUBS[0][1], country="PT")
    load_demo_consultation(portugal)
    load_demo_event(portugal)
    load_demo_results()
    logins = []
    for email, name, role, password in DEMO_USERS:
        if auth.get_user_by_email(email) is None:
            auth.create_user(email=email, name=name, password=password, roles=[role])
        logins.append((email, password, role))
    return logins


@demo_cli.command("load")
def load() -> None:
    """Load demo hubs and staff accounts (idempotent)."""
    if not current_app.config["DEMO_CONTENT_ALLOWED"]:
        raise click.ClickException("Demo content is not loaded in production.")
    logins = load_demo_content()
    db.session.commit()
    click.echo("Demo logins (local use only):")
    for email, password, role in logins:
        click.echo(f"  {role.value:<11} {email}  /  {password}")
