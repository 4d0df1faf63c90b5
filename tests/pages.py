"""One check of page basics, used by every page test."""

from __future__ import annotations

from collections import Counter

from bs4 import BeautifulSoup
from werkzeug.test import TestResponse

from app.i18n import BY_CODE


def check_page(response: TestResponse, status: int = 200, lang: str | None = None) -> BeautifulSoup:
    """Assert status, language attributes, one h1, title, unique ids and form basics."""
    assert response.status_code == status, (
        f"expected {status}, got {response.status_code}: {response.data[:500]!r}"
    )
    assert response.mimetype == "text/html"
    soup = BeautifulSoup(response.data, "html.parser")

    html = soup.find("html")
    assert html is not None
    code = html.get("lang")
    assert code in BY_CODE, f"lang={code!r}"
    if lang is not None:
        assert code == lang
    assert html.get("dir") == BY_CODE[code].direction

    headings = soup.find_all("h1")
    assert len(headings) == 1, f"expected one h1, found {len(headings)}"
    heading = headings[0].get_text(" ", strip=True)
    assert heading, "the h1 is empty"
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    assert heading in title, f"title {title!r} does not contain the h1 {heading!r}"

    ids = Counter(tag["id"] for tag in soup.find_all(id=True))
    duplicates = [tag_id for tag_id, count in ids.items() if count > 1]
    assert not duplicates, f"duplicate ids: {duplicates}"

    for form in soup.find_all("form"):
        assert form.get("action"), "a form without an action"
        if (form.get("method") or "get").lower() == "post":
            assert form.find("input", attrs={"name": "csrf_token"}), "a POST form without CSRF"
    for control in soup.find_all(["input", "select", "textarea"]):
        if control.get("type") in {"hidden", "submit", "button"}:
            continue
        control_id = control.get("id")
        assert control_id and soup.find("label", attrs={"for": control_id}), (
            f"control {control.get('name')!r} has no label"
        )
    return soup


def text_of(soup: BeautifulSoup) -> str:
    return soup.get_text(" ", strip=True)
