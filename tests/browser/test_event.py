"""A citizen registers for an event on a phone, is selected, answers and is checked in."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest
from sqlalchemy import select

from app.auth.roles import Role
from app.events import invitations, panels, services
from app.events.models import ChoiceStatus, SessionChoice
from app.extensions import db
from tests.browser.fixtures import Visitor
from tests.browser.test_survey import consent_to_everything, next_page, pick
from tests.events.factories import SLUG, open_event
from tests.factories import make_user

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("visitor", ["phone"], indirect=True)
def test_register_get_selected_and_check_in_on_phones(visitor, live_server,
                                                      chromium_browser):
    app = live_server.app
    sessions = open_event(app)
    page = visitor.page
    visitor.goto(f"/en/e/{SLUG}/")
    visitor.submit(page.locator(".take-part a.button"))
    visitor.submit(page.get_by_role("button", name="Start"))
    visitor.submit(page.locator("main form button[type=submit]"))  # the survey's start
    consent_to_everything(visitor, country="PT")
    page.fill("input[name=full_name]", "Ana Silva")
    page.fill("input[name=email]", "ana.silva@example.org")
    next_page(visitor)
    while "/review" not in page.url:
        if "/demo_about_you" in page.url:
            pick(page, "age_band", "65_74")
        next_page(visitor)
        assert page.locator(".error-summary").count() == 0, page.url
    visitor.submit(page.locator("form[action$='/submit'] button[type=submit]"))
    visitor.submit(page.get_by_role("link", name="Continue your registration"))
    page.locator(f"#session-{sessions['lisbon']}").check()
    visitor.submit(page.get_by_role("button", name="Register"))
    assert "/r/" in page.url
    assert "Registered, waiting for the selection" in page.locator("main").inner_text()

    # The organisers draw the panel (everyone fits) and send the invitations.
    with app.test_request_context(base_url=live_server.base_url):
        session = db.session.get(services.EventSession, sessions["lisbon"])
        panels.run_selection(session, panel_size=1, quotas=[], algorithm="leximin",
                             seed=7, one_per_household=False, actor_id=None)
        invitations.send_invitations(session)
        db.session.commit()
    outbox = sorted((Path(app.instance_path) / "outbox").glob("*.eml"))
    message = email.message_from_bytes(outbox[-1].read_bytes(), policy=email.policy.default)
    body = message.get_body().get_content()
    ticket = next(line for line in body.splitlines() if "/ticket/" in line).strip()
    visitor.goto(ticket.removeprefix(live_server.base_url))
    visitor.submit(page.get_by_role("button", name="Yes, I will come"))
    assert page.locator(".qr svg").is_visible()

    # At the door, a staff phone opens the ticket's scan link.
    make_user(app, email="door@example.org", roles=[Role.ORGANISER])
    staff_context = chromium_browser.new_context(viewport={"width": 390, "height": 844})
    try:
        staff = Visitor(staff_context.new_page(), live_server.base_url, "phone")
        staff.sign_in("door@example.org")
        staff.goto("/en/admin/events/scan/" + ticket.rsplit("/", 1)[-1])
        assert staff.page.locator(".lead").inner_text() == "Ana Silva"
        staff.submit(staff.page.get_by_role("button", name="Check in"))
        assert "1 arrived." in staff.page.locator("main").inner_text()
        staff.assert_every_page_checked()
    finally:
        staff_context.close()
    with app.app_context():
        choice = db.session.scalar(select(SessionChoice))
        assert choice.status == ChoiceStatus.CONFIRMED and choice.checked_in_at is not None


def test_organiser_pages_for_events(visitor, live_server):
    from tests.events.factories import register

    app = live_server.app
    sessions = open_event(app)
    for index in range(6):
        register(app.test_client(), [sessions["lisbon"]], {
            "full_name": f"Person {index}", "email": f"p{index}@example.org",
            "age_band": "65_74" if index % 2 else "25_34"})
    make_user(app, email="org@example.org", roles=[Role.ORGANISER])
    page = visitor.page
    visitor.sign_in("org@example.org")
    visitor.goto("/en/admin/events/")
    visitor.submit(page.locator("main table a").first)
    visitor.submit(page.get_by_role("link", name="Edit").first)
    visitor.goto(f"/en/admin/events/{SLUG}")
    visitor.submit(page.get_by_role("link", name="Registrants and panel selection").first)
    page.fill("#min-age_band-65_74", "2")
    page.fill("#max-age_band-65_74", "2")
    page.fill("#panel_size", "4")
    visitor.submit(page.get_by_role("button", name="Compute the chances"))
    assert "Lowest chance of selection: 0.667" in page.locator(".notice").inner_text()
    page.fill("#seed", "1234")
    visitor.submit(page.get_by_role("button", name="Draw the panel"))
    assert "Published selection" in page.locator("main").inner_text()
    visitor.submit(page.get_by_role("link", name="Overview across countries"))
    visitor.goto("/en/admin/events/new")
    visitor.submit(page.get_by_role("button", name="Create event"))
    assert page.locator(".error-summary").is_visible()
