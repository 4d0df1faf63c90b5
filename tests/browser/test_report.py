"""The printable consultation report in a real browser, with axe, at phone and desktop size."""

from __future__ import annotations

import pytest

from app.auth.roles import Role
from tests.factories import make_user
from tests.results.test_report import CONSULTATION, SLUG, report_data

pytestmark = pytest.mark.browser


def test_report_page(visitor, live_server):
    app = live_server.app
    report_data(app)
    make_user(app, email="analyst@example.org", roles=[Role.ANALYST])
    page = visitor.page
    visitor.sign_in("analyst@example.org")
    visitor.goto(f"/en/admin/results/consultations/{CONSULTATION}/report")
    main = page.locator("main").inner_text()
    assert "How these figures were made" in main and "Groups and their sizes" in main
    assert page.locator(f"#{SLUG}-cap-colour").is_visible()
    # the contents link to each section
    page.locator("nav.report-contents a[href='#opinion']").click()
    visitor.check()
    assert page.evaluate("location.hash") == "#opinion"
    # on paper: no navigation, buttons or print hint; the report itself stays
    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible()
    assert not page.locator(".report-actions").is_visible()
    assert page.locator("#method").is_visible()
    page.emulate_media(media="screen")
    visitor.goto(f"/ar/admin/results/consultations/{CONSULTATION}/report")
    assert page.locator("html").get_attribute("dir") == "rtl"
