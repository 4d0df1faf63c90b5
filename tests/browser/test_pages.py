"""The public pages and the staff flows in a real browser, at phone and desktop size."""

from __future__ import annotations

import pytest

from app.auth.roles import Role
from app.i18n import CODES
from tests.factories import make_user

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("code", CODES)
def test_home_page(visitor, code):
    visitor.goto(f"/{code}/")
    html = visitor.page.locator("html")
    assert html.get_attribute("lang") == code
    assert html.get_attribute("dir") == ("rtl" if code == "ar" else "ltr")


def test_arabic_layout_runs_right_to_left(visitor):
    visitor.goto("/ar/")
    heading = visitor.page.locator("h1").bounding_box()
    width = visitor.page.viewport_size["width"]
    # the heading starts at the right-hand edge of the page
    assert heading["x"] + heading["width"] > width * 0.6


def test_skip_link_is_first_and_visible_on_focus(visitor):
    visitor.goto("/en/")
    visitor.page.keyboard.press("Tab")
    focused = visitor.page.evaluate("document.activeElement.className")
    assert focused == "skip-link"
    box = visitor.page.locator(".skip-link").bounding_box()
    assert box["y"] >= 0


def test_language_switch_and_not_found(visitor):
    visitor.goto("/en/")
    visitor.submit(visitor.page.locator("nav.language-nav a[lang='de']"))
    assert visitor.page.url.endswith("/de/")
    response = visitor.goto("/de/does-not-exist")
    assert response.status == 404
    assert visitor.page.locator("html").get_attribute("lang") == "de"


def test_admin_signs_in_and_creates_an_account(visitor, live_server):
    make_user(live_server.app, email="admin@example.org", roles=[Role.ADMIN], name="Ada Admin")
    page = visitor.page
    visitor.goto("/fr/login")
    page.get_by_label("Adresse e-mail").fill("admin@example.org")
    visitor.submit(page.get_by_role("button", name="Se connecter"))
    # the error summary names the missing password and links to the field
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    assert page.get_by_label("Adresse e-mail").input_value() == "admin@example.org"
    page.get_by_label("Mot de passe").fill("correct horse battery staple")
    visitor.submit(page.get_by_role("button", name="Se connecter"))
    assert page.url.endswith("/fr/admin/")

    visitor.goto("/fr/admin/users/new")
    page.locator("#name").fill("Oskar Organiser")
    page.locator("#email").fill("oskar@example.org")
    page.locator("#password").fill("short")
    visitor.submit(page.locator("main button[type=submit]"))
    assert page.locator(".error-summary a[href='#password']").is_visible()
    assert page.locator("#name").input_value() == "Oskar Organiser"
    page.locator("#password").fill("a long enough password")
    page.locator("#role").select_option("organiser")
    visitor.submit(page.locator("main button[type=submit]"))
    assert page.locator("h1").inner_text() == "Oskar Organiser"

    visitor.goto("/ar/admin/users")
    assert page.locator("tbody tr").count() == 2
    visitor.submit(page.locator(".sign-out button"))
    assert page.url.endswith("/en/") or "/ar/" in page.url
