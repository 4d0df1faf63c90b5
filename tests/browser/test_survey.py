"""A respondent answers the consultation on a phone, in two languages, across two browsers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.surveys import services
from app.surveys.models import Answer, Response, ResponseStatus, SurveyStatus

pytestmark = pytest.mark.browser
SLUG = "cancer-mission-consultation"


@pytest.fixture
def open_consultation(live_server):
    with live_server.app.app_context():
        services.load_survey_files([services.SURVEYS_DIR / f"{SLUG}.yaml"])
        services.set_status(services.get_survey(SLUG), SurveyStatus.OPEN)
        db.session.commit()


def consent_to_everything(visitor, age: str = "45", country: str = "AT") -> None:
    """The consent page: yes to every purpose, then the receipt, then on to the questions."""
    page = visitor.page
    assert "/consent" in page.url
    for radio in page.locator("input[type=radio][value=yes]").all():
        radio.check()
    page.fill("#age", age)
    page.select_option("#country", country)
    visitor.submit(page.locator("main form button[type=submit]"))
    assert page.url.endswith("/receipt")
    visitor.submit(page.locator("main .actions a.button").first)


def pick(page, name: str, value: str) -> None:
    page.locator(f"input[name='{name}'][value='{value}']").check()


def next_page(visitor) -> None:
    visitor.submit(visitor.page.locator("button[name=action][value=next]"))


def on_page(visitor, page_id: str) -> None:
    assert visitor.page.url.endswith(f"/p/{page_id}"), visitor.page.url


@pytest.mark.parametrize("visitor", ["phone"], indirect=True)
def test_consultation_in_two_languages_with_resume_and_double_submit(
    visitor, live_server, chromium_browser, open_consultation
):
    page = visitor.page
    visitor.goto(f"/de/s/{SLUG}/")
    visitor.submit(page.locator("main form button[type=submit]"))
    consent_to_everything(visitor)
    on_page(visitor, "welcome")
    assert page.locator("html").get_attribute("lang") == "de"
    next_page(visitor)

    on_page(visitor, "priorities")
    for position, area in enumerate(
        ["treatment", "early_detection", "prevention", "quality_of_life"], start=1
    ):
        page.select_option(f"select[name='area_ranking.{area}']", str(position))
    next_page(visitor)

    on_page(visitor, "actions")
    pick(page, "action_importance.reduce_tobacco_alcohol", "5")
    next_page(visitor)

    on_page(visitor, "screening")
    pick(page, "screening_invited", "yes")
    next_page(visitor)

    # skip logic: the page for people who were invited
    on_page(visitor, "screening_experience")
    pick(page, "screening_attended", "sometimes")
    for barrier in ("no_time", "cost", "fear", "language"):
        pick(page, "screening_barriers", barrier)
    next_page(visitor)
    # four barriers are one too many: an error in German, and every tick is kept
    assert page.locator(".error-summary a").count() == 1
    assert "3" in page.locator(".error-summary").inner_text()
    assert page.locator("input[name=screening_barriers]:checked").count() == 4
    page.locator("input[name=screening_barriers][value=language]").uncheck()
    next_page(visitor)

    on_page(visitor, "information")
    pick(page, "trust_info_rating", "3")
    next_page(visitor)
    # a low rating brings a follow-up question on the same page
    on_page(visitor, "information")
    follow_up = page.locator("textarea[name=low_trust_reason]")
    assert follow_up.is_visible()
    follow_up.fill("Zu viele widersprüchliche Informationen im Internet.")
    next_page(visitor)

    on_page(visitor, "your_ideas")
    visitor.submit(page.locator("button[name=action][value=later]"))
    code = page.locator("main .code").first.inner_text().strip()
    assert len(code.replace("-", "")) == 32

    # A fresh browser (another phone): continue with the code, now in French.
    other = chromium_browser.new_context(viewport={"width": 390, "height": 844})
    try:
        from tests.browser.fixtures import Visitor

        second = Visitor(other.new_page(), live_server.base_url, "phone")
        second.goto(f"/fr/s/{SLUG}/resume")
        second.page.fill("input[name=code]", code.lower().replace("-", " "))
        second.submit(second.page.locator("main form button[type=submit]"))
        assert second.page.url.endswith("/p/your_ideas"), second.page.url
        assert second.page.locator("html").get_attribute("lang") == "fr"
        second.page.fill("textarea[name=open_comments]", "Plus de dépistage dans les campagnes.")
        next_page(second)
        on_page(second, "updates")
        pick(second.page, "wants_updates", "no")
        next_page(second)
        # the e-mail page is skipped; demographics follow
        on_page(second, "demo_about_you")
        pick(second.page, "age_band", "65_74")
        pick(second.page, "gender", "_other")
        next_page(second)
        assert second.page.locator(".error-summary").is_visible()
        second.page.fill("input[name='gender._other']", "non-binaire")
        next_page(second)
        on_page(second, "demo_where_you_live")
        second.page.select_option("select[name=country_of_residence]", "PT")
        pick(second.page, "urbanisation", "rural")
        next_page(second)
        # the region list follows the country just chosen
        regions = second.page.locator("select[name=region_of_residence] option")
        values = [regions.nth(i).get_attribute("value") for i in range(regions.count())]
        assert "PT11" in values and "AT13" not in values
        second.page.select_option("select[name=region_of_residence]", "PT11")
        next_page(second)
        while "/review" not in second.page.url:
            next_page(second)
        assert "Plus de dépistage" in second.page.locator("main").inner_text()

        # two clicks on send, as an impatient thumb would do
        second.page.evaluate(
            "() => { const f = document.querySelector('form[action$=\"/submit\"]');"
            " f.requestSubmit(); f.requestSubmit(); }"
        )
        second.page.wait_for_url("**/thanks")
        second.check()
        token = second.page.evaluate("document.cookie")  # nothing secret is readable
        assert code not in token
        second.assert_every_page_checked()
    finally:
        other.close()

    with live_server.app.app_context():
        responses = db.session.scalars(select(Response)).all()
        assert len(responses) == 1
        response = responses[0]
        assert response.status == ResponseStatus.COMPLETE
        assert response.languages == ["de", "fr"]
        answered = set(db.session.scalars(
            select(Answer.question).where(Answer.response_id == response.id)))
        assert {"area_ranking", "screening_barriers", "low_trust_reason", "open_comments",
                "region_of_residence"} <= answered
        assert "screening_would_attend" not in answered  # the other branch was skipped
        assert db.session.scalar(
            select(func.count()).select_from(Answer).where(Answer.question == "screening_barriers")
        ) == 3


@pytest.mark.parametrize("visitor", ["phone", "desktop", "narrow"], indirect=True)
def test_every_consultation_page_in_arabic(visitor, live_server, open_consultation):
    """Each page type, right to left, at both sizes: axe-clean and no sideways scrolling."""
    page = visitor.page
    visitor.goto(f"/ar/s/{SLUG}/")
    visitor.submit(page.locator("main form button[type=submit]"))
    consent_to_everything(visitor)
    seen = set()
    while "/review" not in page.url:
        seen.add(page.url.rsplit("/", 1)[-1])
        assert page.locator("html").get_attribute("dir") == "rtl"
        next_page(visitor)
    assert {"priorities", "actions", "information", "demo_where_you_live"} <= seen
    # nothing was required, so the review page lists every question as unanswered
    assert page.locator("form[action$='/submit'] button").is_visible()


@pytest.mark.parametrize("visitor", ["phone"], indirect=True)
def test_consent_receipt_answers_and_my_data(visitor, live_server, chromium_browser,
                                             open_consultation):
    """Consent, receipt, answer, then My data in another browser: download and withdraw."""
    page = visitor.page
    visitor.goto(f"/en/s/{SLUG}/")
    visitor.submit(page.locator("main form button[type=submit]"))
    # nothing pre-ticked; try to go on without choosing
    assert page.locator("input[type=radio]:checked").count() == 0
    visitor.submit(page.locator("main form button[type=submit]"))
    assert page.locator(".error-summary").is_visible()
    for radio in page.locator("input[type=radio][value=yes]").all():
        radio.check()
    page.fill("#age", "67")
    page.select_option("#country", "PT")
    visitor.submit(page.locator("main form button[type=submit]"))
    access_code = page.locator(".access-code-box .code").inner_text().strip()
    with page.expect_download() as download:
        page.locator("a[href$='.json']").first.click()
    receipt = json.loads(Path(download.value.path()).read_text())
    assert receipt["version"] == "KI-CR-v1.1.0"
    visitor.submit(page.locator("main .actions a.button").first)
    on_page(visitor, "welcome")
    next_page(visitor)
    page.select_option("select[name='area_ranking.prevention']", "1")
    page.select_option("select[name='area_ranking.early_detection']", "2")
    page.select_option("select[name='area_ranking.treatment']", "3")
    page.select_option("select[name='area_ranking.quality_of_life']", "4")
    next_page(visitor)

    other = chromium_browser.new_context(viewport={"width": 390, "height": 844},
                                         accept_downloads=True)
    try:
        from tests.browser.fixtures import Visitor

        mine = Visitor(other.new_page(), live_server.base_url, "phone")
        mine.goto("/en/my-data/")
        mine.page.fill("#code", access_code)
        mine.submit(mine.page.locator("main form button[type=submit]"))
        assert "Put these areas in order" in mine.page.locator("main").inner_text()
        with mine.page.expect_download() as download:
            mine.page.locator("a[href$='export.json']").click()
        everything = json.loads(Path(download.value.path()).read_text())
        assert everything["responses"][0]["answers"]
        mine.submit(mine.page.locator("a.withdraw-link").nth(1))
        mine.submit(mine.page.locator("main form button[type=submit]"))
        assert mine.page.locator(".notice-success").is_visible()
        mine.assert_every_page_checked()
    finally:
        other.close()
    with live_server.app.app_context():
        from app.consent.models import ConsentRecord

        records = db.session.scalars(select(ConsentRecord).order_by(ConsentRecord.id)).all()
        assert len(records) == 2 and records[-1].refused
