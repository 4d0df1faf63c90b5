"""Organisers, moderators and readers of results, in a real browser with axe on every page."""

from __future__ import annotations

import pytest

from app.auth.roles import Role
from app.consultations import voting
from app.consultations.models import Consultation, ContentStatus
from app.extensions import db
from tests.consultations.factories import open_consultation
from tests.consultations.test_manage import seat_planted_voters
from tests.factories import make_user

pytestmark = pytest.mark.browser


def test_organiser_and_moderator_pages_and_results(visitor, live_server):
    app = live_server.app
    consultation_id = open_consultation(app)
    seat_planted_voters(app, consultation_id)
    with app.app_context():
        consultation = db.session.get(Consultation, consultation_id)
        voting.add_statement(consultation, "Buy my miracle pills now", "en",
                             status=ContentStatus.PENDING)
        db.session.commit()
    make_user(app, email="org@example.org", roles=[Role.ORGANISER])
    make_user(app, email="mod@example.org", roles=[Role.MODERATOR])
    page = visitor.page

    visitor.sign_in("org@example.org")
    visitor.goto("/en/admin/consultations/")
    visitor.submit(page.locator("main table a").first)
    visitor.submit(page.get_by_role("link", name="Phases"))
    visitor.submit(page.get_by_role("link", name="Statements and groups"))
    visitor.submit(page.get_by_role("button", name="Update the opinion groups now"))
    assert "2 groups" in page.locator(".notice").inner_text()
    visitor.submit(page.get_by_role("link", name="Translations"))
    visitor.goto("/en/admin/consultations/new")
    visitor.submit(page.locator("main form button[type=submit]"))
    assert page.locator(".error-summary").is_visible()
    visitor.submit(page.locator(".sign-out button"))

    visitor.sign_in("mod@example.org")
    visitor.goto("/en/admin/moderation/")
    item = page.locator(".moderation-item").first
    assert "miracle pills" in item.inner_text()
    visitor.submit(item.get_by_role("button", name="Hide", exact=True))
    assert page.locator(".error-summary").is_visible()
    page.locator(".moderation-item input[name=reason]").first.fill("Advertising")
    visitor.submit(page.locator(".moderation-item").first.get_by_role(
        "button", name="Hide", exact=True))
    assert "Nothing is waiting" in page.locator("main").inner_text()
    visitor.goto("/en/admin/moderation/word-filter")
    visitor.submit(page.locator(".sign-out button"))

    visitor.goto("/ar/c/rural-screening/results")
    assert page.locator("figure.chart svg[role=img]").count() == 1
    visitor.goto("/en/c/")
