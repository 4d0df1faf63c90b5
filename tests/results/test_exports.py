"""Analyst exports, read back with Python's csv reader."""

from __future__ import annotations

import csv
import io

from app.auth.roles import Role
from app.results.exports import neutralise
from tests.factories import csrf_token
from tests.surveys.factories import open_survey
from tests.surveys.test_views import post, start

SLUG = "event-evaluation"


def answer_survey(app, rating: str, comment: str):
    browser = app.test_client()
    first = start(browser, SLUG)
    post(browser, first, {"overall_rating": rating})
    location = browser.get(f"/en/s/{SLUG}/continue").location
    while "/p/" in location:
        data = {"what_worked_well": comment} if location.endswith("your_comments") else {}
        location = post(browser, location, data).location
    browser.post(f"/en/s/{SLUG}/submit", data={"csrf_token": csrf_token(browser, location)})
    return browser


def rows(client) -> list[dict]:
    response = client.get(f"/en/admin/results/{SLUG}/answers.csv")
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_withdrawal_and_erasure_leave_the_export_at_once(app, client, auth):
    open_survey(app, SLUG)
    withdrawing = answer_survey(app, "3", "=HYPERLINK(\"http://evil\")")
    erasing = answer_survey(app, "9", "Good interpreters")
    answer_survey(app, "6", "Clear information")
    auth.login_as(Role.ANALYST)
    before = rows(client)
    assert sorted(r["value_number"] for r in before if r["question"] == "overall_rating") == [
        "3", "6", "9"]
    formula = next(r for r in before if r["value_text"].startswith("'="))
    assert formula["question"] == "what_worked_well"
    assert not any(r.get("value_text", "").lower().endswith("@example.org") for r in before)

    page = "/en/my-data/withdraw/echos-participation/research"
    withdrawing.post(page, data={"csrf_token": csrf_token(withdrawing, page)})
    erasing.post("/en/my-data/erase", data={"csrf_token": csrf_token(erasing, "/en/my-data/erase")})
    after = rows(client)
    assert [r["value_number"] for r in after if r["question"] == "overall_rating"] == ["6"]
    assert "Good interpreters" not in str(after)


def test_only_analysts_download(app, client, auth):
    open_survey(app, SLUG)
    auth.login_as(Role.ORGANISER)
    assert client.get(f"/en/admin/results/{SLUG}/answers.csv").status_code == 403


def test_formula_neutralising():
    assert neutralise("=1+1") == "'=1+1"
    assert neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert neutralise("-12") == "-12"
    assert neutralise("plain") == "plain"
    assert neutralise(None) == ""
