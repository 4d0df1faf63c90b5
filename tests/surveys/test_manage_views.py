"""Organisers manage surveys through their pages; others are kept out."""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, select

from app.auth.roles import Role
from app.extensions import db
from app.surveys.models import Invitation, SurveyVersion
from app.surveys.xlsform import write_xlsform
from tests.factories import csrf_token
from tests.pages import check_page, text_of
from tests.surveys.factories import HEADER, open_survey
from tests.surveys.test_views import SMALL


def test_list_and_detail(app, client, auth):
    open_survey(app, "short-survey", SMALL)
    auth.login_as(Role.ORGANISER)
    soup = check_page(client.get("/en/admin/surveys/"))
    assert "short-survey" in text_of(soup)
    soup = check_page(client.get("/de/admin/surveys/short-survey"), lang="de")
    assert soup.find("a", href="/de/admin/surveys/short-survey/versions/1.yaml")
    download = client.get("/de/admin/surveys/short-survey/versions/1.yaml")
    assert download.status_code == 200
    assert download.get_data(as_text=True) == SMALL


def test_analyst_cannot_manage_surveys(app, client, auth):
    open_survey(app, "short-survey", SMALL)
    auth.login_as(Role.ANALYST)
    assert client.get("/en/admin/surveys/").status_code == 403


def test_open_and_close(app, client, auth):
    open_survey(app, "short-survey", SMALL)
    auth.login_as(Role.ORGANISER)
    page = "/en/admin/surveys/short-survey"
    client.post(f"{page}/status", data={"csrf_token": csrf_token(client, page),
                                        "status": "closed"})
    visitor = app.test_client()  # staff would see a preview; a citizen sees it closed
    assert "not open" in text_of(check_page(visitor.get("/en/s/short-survey/")))
    bad = client.post(f"{page}/status", data={"csrf_token": csrf_token(client, page),
                                              "status": "deleted"})
    check_page(bad, status=400)


def upload(client, name: str, content: bytes):
    page = "/en/admin/surveys/"
    return client.post(f"{page}upload", data={
        "csrf_token": csrf_token(client, page),
        "definition": (io.BytesIO(content), name)}, content_type="multipart/form-data")


def test_upload_yaml_makes_a_new_version(app, client, auth):
    open_survey(app, "short-survey", SMALL)
    auth.login_as(Role.ORGANISER)
    same = upload(client, "short-survey.yaml", SMALL.encode())
    assert same.status_code == 302
    changed = SMALL.replace("Anything else?", "Anything more?")
    response = upload(client, "whatever-name.yaml", changed.encode())
    assert response.location == "/en/admin/surveys/short-survey"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SurveyVersion)) == 2


def test_upload_with_problems_lists_them(app, client, auth):
    auth.login_as(Role.ORGANISER)
    broken = HEADER + "pages:\n  - id: p\n    questions:\n      - {id: q, type: text}\n"
    soup = check_page(upload(client, "test-survey.yaml", broken.encode()), status=400)
    assert "a text question needs a label" in text_of(soup)
    soup = check_page(upload(client, "notes.txt", b"hello"), status=400)
    assert soup.select(".error-summary a[href='#definition']")
    soup = check_page(upload(client, "book.xlsx", b"not a workbook"), status=400)
    assert soup.select(".problem-list li")


def test_upload_xlsform(app, client, auth, tmp_path):
    from tests.surveys.factories import build

    auth.login_as(Role.ORGANISER)
    definition = build("""\
- id: p
  title: {en: Page, de: Seite}
  questions:
    - {id: q, type: yes_no, label: {en: Q?, de: F?}}
""")
    path = tmp_path / "from-excel.xlsx"
    write_xlsform(dict(definition.data), path)
    response = upload(client, "from-excel.xlsx", path.read_bytes())
    assert response.status_code == 302, response.data
    assert response.location == "/en/admin/surveys/test-survey"


def test_invitations_download_once(app, client, auth):
    open_survey(app, "short-survey", SMALL)
    auth.login_as(Role.ORGANISER)
    page = "/en/admin/surveys/short-survey"
    invitees = "reference\nhousehold-17\nhousehold-18\n"
    response = client.post(f"{page}/invitations", data={
        "csrf_token": csrf_token(client, page), "count": "1",
        "invitees": (io.BytesIO(invitees.encode()), "invitees.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["reference"] for row in rows] == ["", "household-17", "household-18"]
    assert len({row["token"] for row in rows}) == 3
    with app.app_context():
        stored = db.session.scalars(select(Invitation.token_hash)).all()
    assert not set(stored) & {row["token"] for row in rows}  # only hashes are kept
    empty = client.post(f"{page}/invitations", data={"csrf_token": csrf_token(client, page)})
    check_page(empty, status=400)


def test_funnel_counts_consented_started_completed(app, client, auth):
    from tests.surveys.test_views import post, start

    open_survey(app, "event-evaluation")
    only_consented = app.test_client()
    start(only_consented, "event-evaluation")
    answered = app.test_client()
    first = start(answered, "event-evaluation")
    post(answered, first, {"overall_rating": "8"})
    auth.login_as(Role.ORGANISER)
    soup = check_page(client.get("/en/admin/surveys/event-evaluation"))
    facts = {dt.get_text(strip=True): dd.get_text(strip=True)
             for dt, dd in zip(soup.select(".summary-list dt"), soup.select(".summary-list dd"),
                               strict=False)}
    assert facts["Consented"] == "2"
    assert facts["Started"] == "1"
    assert facts["Completed"].startswith("0")
