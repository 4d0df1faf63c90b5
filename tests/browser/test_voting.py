"""A citizen votes on statements on a phone: consent, one at a time, list, own statement."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.consultations.models import ContentStatus, Statement, Vote
from app.extensions import db
from tests.browser.test_survey import consent_to_everything
from tests.consultations.factories import STATEMENTS, open_consultation

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("visitor", ["phone"], indirect=True)
def test_vote_change_and_add_a_statement_on_a_phone(visitor, live_server, chromium_browser):
    open_consultation(live_server.app)
    page = visitor.page
    visitor.goto("/de/c/rural-screening/")
    assert page.locator("h1").inner_text() == "Krebsfrüherkennung auf dem Land"
    visitor.goto("/en/c/rural-screening/")
    visitor.submit(page.locator(".take-part a.button"))
    consent_to_everything(visitor, country="PT")
    assert page.url.endswith("/c/rural-screening/vote")

    # One tap per statement, with the keyboard for the second one.
    assert STATEMENTS[0] in page.locator(".statement-text").inner_text()
    visitor.submit(page.get_by_role("button", name="Agree", exact=True))
    assert STATEMENTS[1] in page.locator(".statement-text").inner_text()
    page.get_by_role("button", name="Disagree").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    visitor.check()
    visitor.submit(page.get_by_role("button", name="Pass / unsure"))
    assert "You have voted on every statement" in page.locator("main").inner_text()

    # Change one vote in the list: the latest counts.
    visitor.submit(page.get_by_role("link", name="See all statements and change your votes"))
    second = page.locator("#s-1")
    assert "You disagreed" in second.inner_text()
    visitor.submit(second.get_by_role("button", name="Agree", exact=True))
    assert "You agreed" in page.locator("#s-1").inner_text()
    assert page.locator("#s-1 button[aria-pressed=true]").inner_text().strip().endswith("Agree")

    # An own statement waits for a moderator; an empty one is refused in place.
    visitor.submit(page.get_by_role("link", name="Add your own statement"))
    visitor.submit(page.get_by_role("button", name="Send statement"))
    assert page.locator(".error-summary").is_visible()
    page.fill("#statement-text", "Screening buses should stop at weekly markets.")
    visitor.submit(page.get_by_role("button", name="Send statement"))
    assert "A moderator will check your statement" in page.locator("main").inner_text()

    with live_server.app.app_context():
        votes = {s: v for s, v in db.session.execute(
            select(Statement.number, Vote.value).join(Vote, Vote.statement_id == Statement.id))}
        assert votes == {0: 1, 1: 1, 2: 0}
        own = db.session.scalar(select(Statement).where(Statement.seed.is_(False)))
        assert own.status == ContentStatus.PENDING
