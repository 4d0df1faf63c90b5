"""Consent before data, receipts, withdrawal, erasure, renewal, retention."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, inspect, select, text

from app.consent import services
from app.consent.models import ConsentRecord, ContactDetail
from app.extensions import db
from app.surveys import services as surveys
from app.surveys.models import Answer, Response, ResponseStatus
from app.timeutil import utcnow
from tests.factories import csrf_token
from tests.pages import check_page, text_of
from tests.surveys.factories import open_survey
from tests.surveys.test_views import post, start

SLUG = "event-evaluation"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_no_answer_and_no_response_before_consent(app, client):
    open_survey(app, SLUG)
    client.post(f"/en/s/{SLUG}/start", data={"csrf_token": csrf_token(client, f"/en/s/{SLUG}/")})
    page = client.get(f"/en/s/{SLUG}/p/overall")
    assert page.location == f"/en/s/{SLUG}/"  # no response yet, so back to the start
    soup = check_page(client.get(f"/en/s/{SLUG}/consent"))
    # nothing pre-ticked, required and optional apart
    assert not soup.select("input[type=radio][checked]")
    assert [h.get_text() for h in soup.select("main h2")][:2] == [
        "Needed to take part", "Your choice"]
    with app.app_context():
        assert count(Response) == 0 and count(Answer) == 0 and count(ConsentRecord) == 0


def test_required_purpose_must_be_agreed_and_choices_are_kept(app, client):
    open_survey(app, SLUG)
    url = f"/fr/s/{SLUG}/consent"
    response = client.post(url, data={"csrf_token": csrf_token(client, url),
                                      "purpose.participation": "no", "purpose.research": "yes",
                                      "age": "", "country": "PT"})
    soup = check_page(response, status=400, lang="fr")
    anchors = [a["href"] for a in soup.select(".error-summary a")]
    assert anchors == ["#purpose-participation-yes", "#age"]
    assert soup.find("input", attrs={"name": "purpose.research", "value": "yes"}).has_attr(
        "checked")
    with app.app_context():
        assert count(ConsentRecord) == 0


def test_consent_record_and_receipt(app, client):
    open_survey(app, SLUG)
    first = start(client, SLUG, lang="de", refuse=("research",))
    assert first.endswith("/p/overall")
    with app.app_context():
        record = db.session.scalar(select(ConsentRecord))
        assert record.granted == ["participation"] and record.refused == ["research"]
        assert record.language == "de" and record.actor == "participant"
        assert len(record.shown_text_hash) == 64
        receipt = services.receipt(record, "de")
    assert receipt["version"] == "KI-CR-v1.1.0"
    assert {p["purposeCategory"][0]: p["consented"] for p in
            receipt["services"][0]["purposes"]} == {"participation": True, "research": False}
    downloaded = client.get(f"/de/my-data/receipts/{record.receipt_id}.json")
    assert json.loads(downloaded.data)["consentReceiptID"] == record.receipt_id
    assert app.test_client().get(f"/de/my-data/receipts/{record.receipt_id}.json").location \
        == "/de/my-data/"  # another browser needs the access code


def test_young_person_needs_a_guardian(app, client):
    open_survey(app, SLUG)
    url = f"/en/s/{SLUG}/consent"
    data = {"csrf_token": csrf_token(client, url), "purpose.participation": "yes",
            "purpose.research": "yes", "age": "14", "country": "DE"}
    soup = check_page(client.post(url, data=data))
    assert soup.find(id="guardian-section")
    assert "under 16" in text_of(soup)
    refused = client.post(url, data={**data, "guardian_shown": "1", "guardian": "no"})
    assert "parent or guardian" in text_of(check_page(refused))
    with app.app_context():
        assert count(ConsentRecord) == 0
    agreed = client.post(url, data={**data, "guardian_shown": "1", "guardian": "yes"})
    assert agreed.location.endswith("/receipt")
    with app.app_context():
        assert db.session.scalar(select(ConsentRecord)).actor == "guardian"
    # in Portugal the same age may agree alone (13)
    other = app.test_client()
    alone = other.post(url, data={**data, "csrf_token": csrf_token(other, url), "country": "PT"})
    assert alone.location.endswith("/receipt")


def test_refused_special_category_questions_are_neither_asked_nor_stored(app, client):
    open_survey(app, "cancer-mission-consultation")
    start(client, "cancer-mission-consultation", refuse=("special_category", "contact"))
    with app.app_context():
        survey = surveys.get_survey("cancer-mission-consultation")
        definition = surveys.definition_of(surveys.latest_version(survey))
    visited = set()
    location = client.get("/en/s/cancer-mission-consultation/continue").location
    while "/p/" in location:
        page_id = location.rsplit("/", 1)[-1]
        visited.add(page_id)
        page = definition.page(page_id)
        data = {"_shown": [q.id for q in page.questions]}
        for question in page.questions:
            if question.type in ("yes_no", "single_choice") and question.choices:
                data[question.id] = question.choices[0].value
        location = post(client, location, data).location
    assert "screening" not in visited and "demo_health" not in visited
    assert "updates" not in visited
    with app.app_context():
        stored = set(db.session.scalars(select(Answer.question)))
    assert stored and not stored & {"screening_invited", "activity_limitation", "wants_updates"}


def test_contact_details_are_kept_apart_from_answers(app, client):
    open_survey(app, "cancer-mission-consultation")
    start(client, "cancer-mission-consultation")
    post(client, "/en/s/cancer-mission-consultation/p/updates",
         {"wants_updates": "yes", "_shown": "wants_updates"})
    post(client, "/en/s/cancer-mission-consultation/p/updates_email",
         {"contact_email": "Ana@Example.org", "_shown": "contact_email"})
    with app.app_context():
        assert db.session.scalar(select(ContactDetail.value)) == "Ana@example.org"
        assert "contact_email" not in set(db.session.scalars(select(Answer.question)))
    soup = check_page(client.get("/en/s/cancer-mission-consultation/p/updates_email"))
    assert soup.find("input", attrs={"name": "contact_email"})["value"] == "Ana@example.org"


def finish(client, slug: str) -> None:
    location = client.get(f"/en/s/{slug}/continue").location
    while "/p/" in location:
        location = post(client, location, {}).location
    client.post(f"/en/s/{slug}/submit", data={"csrf_token": csrf_token(client, location)})


def test_withdrawal_takes_answers_out_of_analysis_at_once(app, client):
    open_survey(app, SLUG)
    start(client, SLUG)
    finish(client, SLUG)
    with app.app_context():
        survey_id = surveys.get_survey(SLUG).id
        assert len(services.analysable_responses(survey_id)) == 1
    page = "/en/my-data/withdraw/echos-participation/research"
    check_page(client.get(page))
    client.post(page, data={"csrf_token": csrf_token(client, page)})
    with app.app_context():
        assert services.analysable_responses(survey_id) == []
        latest = db.session.scalars(select(ConsentRecord).order_by(ConsentRecord.id)).all()
        assert len(latest) == 2 and "research" in latest[-1].refused  # append-only
    page = "/en/my-data/withdraw/echos-participation/participation"
    client.post(page, data={"csrf_token": csrf_token(client, page)})
    with app.app_context():
        assert db.session.scalar(select(Response.status)) == ResponseStatus.WITHDRAWN


def test_erasure_leaves_no_trace_in_any_table(app, client):
    marker = "ZQXMARKER"
    open_survey(app, "event-registration")
    start(client, "event-registration")
    with app.app_context():
        definition = surveys.definition_of(surveys.latest_version(
            surveys.get_survey("event-registration")))
    location = client.get("/en/s/event-registration/continue").location
    while "/p/" in location:
        page = definition.page(location.rsplit("/", 1)[-1])
        data = {"_shown": [q.id for q in page.questions]}
        for question in page.questions:
            if question.type in ("text", "long_text"):
                data[question.id] = f"{marker} {question.id}"
            elif question.type == "email":
                data[question.id] = f"{marker.lower()}@example.org"
            elif question.type in ("yes_no", "single_choice") and question.choices:
                data[question.id] = question.choices[0].value
            elif question.type == "multiple_choice":
                data[question.id] = [question.choices[0].value]
                if question.has_other:
                    data[question.id].append("_other")
                    data[f"{question.id}._other"] = f"{marker} other"
        response = post(client, location, data)
        if response.status_code == 200:  # a follow-up appeared
            response = post(client, location, data)
        assert response.status_code == 302, response.data[:2000]
        location = response.location

    def marker_places() -> list[str]:
        found = []
        for table in inspect(db.engine).get_table_names():
            for row in db.session.execute(text(f'SELECT * FROM "{table}"')):
                if marker.lower() in str(tuple(row)).lower():
                    found.append(table)
        return found

    with app.app_context():
        assert {"survey_answer", "contact_detail"} <= set(marker_places())
    page = "/en/my-data/erase"
    check_page(client.get(page))
    erased = client.post(page, data={"csrf_token": csrf_token(client, page)})
    assert erased.location == "/en/my-data/erased"
    with app.app_context():
        assert marker_places() == []
        assert count(Response) == 0 and count(ConsentRecord) == 0
        from app.consent.models import ErasureRequest

        request = db.session.scalar(select(ErasureRequest))
        assert request.completed_at is not None and request.counts["answers"] > 0
    assert client.get("/en/my-data/export.json").location == "/en/my-data/"


def test_a_materially_changed_version_asks_for_renewal(app, client, tmp_path):
    open_survey(app, SLUG)
    first = start(client, SLUG)
    assert check_page(client.get(first))
    changed = (services.CONSENT_DIR / "echos-participation.yaml").read_text().replace(
        "version: 1", "version: 2", 1)
    path = tmp_path / "echos-participation.yaml"
    path.write_text(changed)
    with app.app_context():
        services.load_document_files([path])
        db.session.commit()
    assert client.get(first).location == f"/en/s/{SLUG}/consent"
    soup = check_page(client.get(f"/en/s/{SLUG}/consent"))
    assert "has changed" in text_of(soup)
    assert not soup.find("input", attrs={"name": "age"})
    url = f"/en/s/{SLUG}/consent"
    renewed = client.post(url, data={"csrf_token": csrf_token(client, url),
                                     "purpose.participation": "yes", "purpose.research": "yes"})
    assert renewed.location.endswith("/receipt")
    assert client.get(first).status_code == 200
    with app.app_context():
        assert count(Response) == 1  # the same response goes on
        assert db.session.scalars(select(ConsentRecord)).all()[-1].version.number == 2


def test_retention_deletes_expired_data_and_is_idempotent(app, client, runner):
    open_survey(app, SLUG)
    first = start(client, SLUG)
    post(client, first, {"overall_rating": "7"})
    finish(client, SLUG)
    with app.app_context():
        assert services.enforce_retention() == {"responses": 0, "answers": 0,
                                                "contact_details": 0}
        later = utcnow() + timedelta(days=2000)
        counts = services.enforce_retention(now=later)
        db.session.commit()
        assert counts["responses"] == 1 and counts["answers"] > 0
        assert services.enforce_retention(now=later)["responses"] == 0
    result = runner.invoke(args=["consent", "enforce-retention"])
    assert result.exit_code == 0 and "responses: 0" in result.output


def test_every_consent_event_is_in_the_audit_trail(app, client, runner):
    open_survey(app, SLUG)
    start(client, SLUG)
    page = "/en/my-data/withdraw/echos-participation/research"
    client.post(page, data={"csrf_token": csrf_token(client, page)})
    with app.app_context():
        from app.audit.models import AuditEntry

        actions = [e.action for e in db.session.scalars(select(AuditEntry).order_by(
            AuditEntry.id))]
    assert actions == ["consent.given", "consent.withdrawn"]
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_consent_documents_check_and_load(app, runner):
    assert runner.invoke(args=["consent", "check"]).exit_code == 0
    first = runner.invoke(args=["consent", "load"])
    again = runner.invoke(args=["consent", "load"])
    assert "version 1 (new version)" in first.output
    assert "version 1 (unchanged)" in again.output


def test_organiser_statistics_and_admin_records(app, client, auth):
    from app.auth.roles import Role

    open_survey(app, SLUG)
    respondent = app.test_client()
    start(respondent, SLUG, refuse=("research",))
    auth.login_as(Role.ORGANISER)
    soup = check_page(client.get("/en/admin/consent/"))
    rows = [[td.get_text(strip=True) for td in tr.select("td")] for tr in soup.select("tbody tr")]
    assert ["Taking part", "1", "0"] in rows
    assert any(row[1:] == ["0", "1"] for row in rows)  # research: said no
    assert not soup.find("a", href="/en/admin/consent/records.csv")
    assert client.get("/en/admin/consent/records.csv").status_code == 403
    auth.logout()
    auth.login_as(Role.ADMIN, email="dpo@example.org")
    export = client.get("/en/admin/consent/records.csv")
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert len(rows) == 1 and rows[0]["refused"] == "research"
    check_page(client.get("/en/admin/consent/"))


def test_closed_survey_can_be_anonymised(app, client, auth):
    from app.auth.roles import Role

    open_survey(app, SLUG)
    respondent = app.test_client()
    first = start(respondent, SLUG)
    post(respondent, first, {"overall_rating": "9"})
    with app.app_context():
        before = db.session.scalar(select(Response.participant_id))
    auth.login_as(Role.ORGANISER)
    page = f"/en/admin/surveys/{SLUG}"
    not_closed = client.post(f"{page}/anonymise", data={"csrf_token": csrf_token(client, page)})
    assert not_closed.status_code == 400
    client.post(f"{page}/status", data={"csrf_token": csrf_token(client, page),
                                        "status": "closed"})
    done = client.post(f"{page}/anonymise", data={"csrf_token": csrf_token(client, page)})
    assert done.status_code == 302
    with app.app_context():
        response = db.session.scalar(select(Response))
        assert response.participant_id != before
        assert db.session.scalar(select(func.count()).select_from(Answer)) == 1
        assert services.records_of(response.participant_id) == []
    # the respondent's own links no longer reach the answers
    assert respondent.get(first).location == f"/en/s/{SLUG}/"


def test_organiser_enters_a_paper_consent_form(app, client, auth):
    from app.auth.roles import Role
    from app.consent.models import ConsentChannel

    open_survey(app, SLUG)
    user_id = auth.login_as(Role.ORGANISER)
    page = "/en/admin/consent/paper/echos-participation"
    check_page(client.get(page))
    missing = client.post(page, data={"csrf_token": csrf_token(client, page),
                                      "granted": ["research"]})
    soup = check_page(missing, status=400)
    anchors = {a["href"] for a in soup.select(".error-summary a")}
    assert anchors == {"#language", "#signed"}
    assert soup.find("input", attrs={"value": "research"}).has_attr("checked")
    no_participation = client.post(page, data={"csrf_token": csrf_token(client, page),
                                               "language": "pt", "signed": "yes",
                                               "granted": ["research"]})
    check_page(no_participation, status=400)
    done = client.post(page, data={"csrf_token": csrf_token(client, page), "language": "pt",
                                   "signed": "yes", "granted": ["participation", "research"]})
    soup = check_page(done)
    code = soup.select_one(".access-code-box .code").get_text(strip=True)
    with app.app_context():
        record = db.session.scalar(select(ConsentRecord))
        db.session.expunge(record)
        assert record.channel == ConsentChannel.PAPER
        assert record.actor == f"staff:{user_id}" and record.language == "pt"
        assert sorted(record.refused) == ["contact", "recordings", "special_category"]
    person = app.test_client()
    opened = person.post("/en/my-data/", data={"csrf_token": csrf_token(person, "/en/my-data/"),
                                               "code": code})
    assert opened.location == "/en/my-data/"
    receipt = check_page(person.get(f"/en/my-data/receipts/{record.receipt_id}"))
    assert "Hub staff, from a signed form" in text_of(receipt)
