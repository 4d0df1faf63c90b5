"""Home page, language selection, error pages and the health check."""

from __future__ import annotations

import json

import pytest

from app.auth.permissions import public
from app.i18n import CODES, LANGUAGE_COOKIE
from tests.pages import check_page, text_of

HOME_HEADINGS = {
    "en": "Have your say on cancer policy",
}


@pytest.mark.parametrize("code", CODES)
def test_home_page_in_every_language(client, code):
    soup = check_page(client.get(f"/{code}/"), lang=code)
    links = soup.select("nav.language-nav a")
    assert [a["hreflang"] for a in links] == list(CODES)
    current = soup.select_one('nav.language-nav a[aria-current="true"]')
    assert current["lang"] == code


def test_home_page_is_translated(client):
    english = check_page(client.get("/en/")).h1.get_text(strip=True)
    assert english == HOME_HEADINGS["en"]
    for code in CODES:
        if code == "en":
            continue
        heading = check_page(client.get(f"/{code}/")).h1.get_text(strip=True)
        assert heading and heading != english, f"{code} home page is not translated"


def test_arabic_is_right_to_left(client):
    soup = check_page(client.get("/ar/"), lang="ar")
    assert soup.html["dir"] == "rtl"
    english_link = soup.select_one('nav.language-nav a[lang="en"]')
    assert english_link.get_text() == "English"


@pytest.mark.parametrize(
    ("accept", "cookie", "expected"),
    [
        ("de-DE,de;q=0.9,en;q=0.5", None, "/de/"),
        ("fr-CA", None, "/fr/"),
        ("pt-BR,pt;q=0.9", None, "/pt/"),
        ("ar-MA", None, "/ar/"),
        ("ja", None, "/en/"),
        (None, None, "/en/"),
        ("de", "pt", "/pt/"),
        ("de", "xx", "/de/"),
    ],
)
def test_root_redirects_by_choice_then_browser(client, accept, cookie, expected):
    headers = {"Accept-Language": accept} if accept else {}
    if cookie:
        client.set_cookie(LANGUAGE_COOKIE, cookie)
    response = client.get("/", headers=headers)
    assert response.status_code == 302
    assert response.location == expected


def test_visiting_a_language_remembers_it(client):
    client.get("/fr/")
    assert client.get_cookie(LANGUAGE_COOKIE).value == "fr"
    response = client.get("/", headers={"Accept-Language": "de"})
    assert response.location == "/fr/"


def test_language_switcher_keeps_the_page(client):
    soup = check_page(client.get("/de/login?next=/de/admin/"))
    links = {a["hreflang"]: a["href"] for a in soup.select("nav.language-nav a")}
    assert links["fr"] == "/fr/login?next=/de/admin/"
    assert links["ar"].startswith("/ar/login")


def test_unknown_language_is_not_found_in_the_visitors_language(client):
    response = client.get("/xx/", headers={"Accept-Language": "de"})
    soup = check_page(response, status=404, lang="de")
    assert "404" in text_of(soup)


def test_not_found_page_in_the_language_of_the_url(client):
    soup = check_page(client.get("/pt/no-such-page"), status=404, lang="pt")
    english = check_page(client.get("/en/no-such-page"), status=404).h1.get_text()
    assert soup.h1.get_text() != english


def test_unexpected_error_gives_a_friendly_page(make_app):
    app = make_app()

    @public
    def broken():
        raise RuntimeError("boom: secret detail")

    app.add_url_rule("/<lang:lang_code>/broken", "broken", broken)
    response = app.test_client().get("/fr/broken")
    soup = check_page(response, status=500, lang="fr")
    assert "boom" not in response.get_data(as_text=True)
    assert "500" in text_of(soup)


def test_too_large_upload_gives_a_friendly_page(make_app):
    app = make_app(MAX_CONTENT_LENGTH=1024)
    response = app.test_client().post("/de/login", data={"email": "x" * 4096})
    soup = check_page(response, status=413, lang="de")
    assert "413" in text_of(soup)


def test_method_not_allowed_is_a_page(client):
    check_page(client.get("/en/logout"), status=405)


def test_security_headers(client):
    response = client.get("/en/")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_no_external_resources(client):
    soup = check_page(client.get("/en/"))
    for tag, attribute in (("link", "href"), ("script", "src"), ("img", "src")):
        for element in soup.find_all(tag):
            value = element.get(attribute, "")
            assert not value.startswith(("http:", "https:", "//")), value


def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_when_database_is_down(make_app):
    app = make_app(
        SQLALCHEMY_DATABASE_URI="postgresql+psycopg://postgres@127.0.0.1:1/none",
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 2}},
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unavailable"


def test_request_log_is_structured_and_leaves_out_query_strings(make_app, capsys):
    app = make_app()
    capsys.readouterr()
    app.test_client().get("/en/?code=private-resume-code", headers={"X-Request-ID": "abc123"})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    request_lines = [line for line in lines if line.get("logger") == "echos.request"]
    assert len(request_lines) == 1
    entry = request_lines[0]
    assert entry["path"] == "/en/"
    assert entry["status"] == 200
    assert entry["request_id"] == "abc123"
    assert isinstance(entry["duration_ms"], float)
    assert "private-resume-code" not in json.dumps(lines)
