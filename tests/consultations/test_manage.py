"""Organiser, moderator and translator pages, per role and per hub."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.auth.roles import Role
from app.auth.services import create_user
from app.consultations.models import (
    Ban,
    Comment,
    Consultation,
    ConsultationStatus,
    ContentStatus,
    OpinionSnapshot,
    Statement,
    StatementModeration,
)
from app.extensions import db
from app.hubs.models import Hub
from tests.consultations.factories import open_consultation
from tests.consultations.test_views import BASE, consent
from tests.factories import DEFAULT_PASSWORD, csrf_token, make_hub
from tests.pages import check_page

HIDDEN = "\u2013"  # what a suppressed cell shows


def login_for_hub(app, auth, role: Role, hub_slug: str | None) -> None:
    email = f"{role.value}-{hub_slug or 'all'}@example.org"
    with app.app_context():
        hub = db.session.scalar(select(Hub).where(Hub.slug == hub_slug)) if hub_slug else None
        create_user(email=email, name="Hub staff", password=DEFAULT_PASSWORD, roles=[role],
                    hub=hub)
        db.session.commit()
    assert auth.login(email).status_code == 302


def new_form(title: str = "Living well after cancer", **extra) -> dict:
    data = {"slug": "living-well", "hub": "1", "country": "PT",
            "topic": "quality_of_life_survivorship",
            "default_language": "en", "statement_moderation": "pre",
            "participant_statements": "y", "title_en": title,
            "summary_en": "Work, money and care after treatment.", "body_en": "**Tell us.**",
            "title_pt": "Viver bem depois do cancro"}
    data.update(extra)
    return data


def test_organiser_creates_edits_phases_links_and_opens(app, client, auth):
    hub_id = make_hub(app)
    auth.login_as(Role.ORGANISER)
    page = "/en/admin/consultations/new"
    check_page(client.get(page))
    token = csrf_token(client, page)
    response = client.post(page, data={"csrf_token": token, **new_form(
        title="", slug="Bad Slug!", hub=str(hub_id))})
    soup = check_page(response, status=400)
    summary = soup.select_one(".error-summary").text
    assert "lower-case" in summary and "main language" in summary
    assert soup.select_one("#summary_en").text.strip() == "Work, money and care after treatment."
    response = client.post(page, data={"csrf_token": token, **new_form(hub=str(hub_id))})
    assert response.location == "/en/admin/consultations/living-well"
    soup = check_page(client.get(response.location))
    assert soup.select_one("#title_pt")["value"] == "Viver bem depois do cancro"
    # A draft is not public until opened.
    assert client.get("/en/c/living-well/").status_code == 404

    phases = "/en/admin/consultations/living-well/phases"
    check_page(client.get(phases))
    data = {"csrf_token": token, "rows": "2",
            "phases-0-kind": "information", "phases-0-starts_on": "2027-01-10",
            "phases-0-ends_on": "2027-01-01", "phases-0-description-en": "Read about it.",
            "phases-1-kind": "feedback", "phases-1-starts_on": "2027-03-01",
            "phases-1-ends_on": "not a date"}
    soup = check_page(client.post(phases, data=data), status=400)
    assert "YYYY-MM-DD" in soup.select_one(".error-summary").text
    assert soup.select_one("#phases-0-description-en").text == "Read about it."
    data["phases-1-ends_on"] = "2027-04-01"
    soup = check_page(client.post(phases, data=data), status=400)
    assert "cannot end before it starts" in soup.select_one(".error-summary").text
    data["phases-0-ends_on"] = "2027-02-01"
    assert client.post(phases, data=data).status_code == 302

    with app.app_context():
        from app.surveys import services as surveys

        surveys.load_survey_files([surveys.SURVEYS_DIR / "cancer-mission-consultation.yaml"])
        db.session.commit()
    client.post("/en/admin/consultations/living-well/surveys",
                data={"csrf_token": token, "survey": "cancer-mission-consultation"})
    client.post("/en/admin/consultations/living-well/status",
                data={"csrf_token": token, "status": "open"})
    soup = check_page(client.get("/pt/c/living-well/"))
    assert soup.h1.text == "Viver bem depois do cancro"
    assert [h.text.split()[0] for h in soup.select(".phase h3")] == ["Informação", "O"] or \
        len(soup.select(".phase")) == 2
    assert soup.select_one("a[href='/pt/s/cancer-mission-consultation/']")
    with app.app_context():
        consultation = db.session.scalar(select(Consultation))
        assert consultation.status == ConsultationStatus.OPEN
        assert [p.kind.value for p in consultation.phases] == ["information", "feedback"]
        assert consultation.min_cell_size == 10  # only administrators change it
        actions = set(db.session.scalars(select(AuditEntry.action)))
        assert {"consultation.created", "consultation.status"} <= actions


@pytest.mark.parametrize("role, status", [
    (Role.ANALYST, 403), (Role.MODERATOR, 403), (Role.TRANSLATOR, 403), (Role.ORGANISER, 200)])
def test_only_organisers_edit_consultations(app, client, auth, role, status):
    open_consultation(app)
    auth.login_as(role)
    assert client.get("/en/admin/consultations/rural-screening").status_code == status
    assert client.get("/en/admin/consultations/rural-screening/phases").status_code == status


def test_organisers_and_moderators_of_another_hub_are_refused(app, client, auth):
    open_consultation(app)
    make_hub(app, "se", "SE")
    login_for_hub(app, auth, Role.ORGANISER, "se")
    assert client.get("/en/admin/consultations/rural-screening").status_code == 403
    soup = check_page(client.get("/en/admin/consultations/"))
    assert "rural-screening" not in soup.text
    auth.logout()
    login_for_hub(app, auth, Role.ORGANISER, "pt")
    assert client.get("/en/admin/consultations/rural-screening").status_code == 200
    auth.logout()
    login_for_hub(app, auth, Role.MODERATOR, "se")
    with app.app_context():
        statement_id = db.session.scalar(select(Statement.id))
    response = client.post(f"/en/admin/moderation/statement/{statement_id}", data={
        "csrf_token": csrf_token(client, "/en/admin/moderation/"), "action": "hide",
        "reason": "x"})
    assert response.status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(app, client):
    open_consultation(app)
    for path in ("/en/admin/consultations/", "/en/admin/moderation/",
                 "/en/admin/consultations/rural-screening/translations"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.location


def test_moderator_approves_hides_with_reason_and_bans(app, client, auth):
    open_consultation(app, moderation=StatementModeration.PRE)
    participant = app.test_client()
    consent(participant)
    token = csrf_token(participant, f"{BASE}/statements/new")
    for text in ("Buses to screening centres.", "Visit my shop for cheap pills!",
                 "Another advert here."):
        participant.post(f"{BASE}/statements/new",
                         data={"csrf_token": token, "text": text, "language": "en"})
    participant.post(f"{BASE}/comments",
                     data={"csrf_token": token, "body": "Spam spam", "language": "en"})

    auth.login_as(Role.ORGANISER)
    assert client.get("/en/admin/moderation/").status_code == 403
    auth.logout()
    auth.login_as(Role.MODERATOR)
    soup = check_page(client.get("/en/admin/moderation/"))
    assert len(soup.select(".moderation-item")) == 3  # the comment was published at once
    with app.app_context():
        ids = dict(db.session.execute(select(Statement.text, Statement.id)).all())
        comment_id = db.session.scalar(select(Comment.id))
    token = csrf_token(client, "/en/admin/moderation/")
    url = "/en/admin/moderation/statement/{}".format
    assert client.post(url(ids["Buses to screening centres."]),
                       data={"csrf_token": token, "action": "approve"}).status_code == 302
    response = client.post(url(ids["Visit my shop for cheap pills!"]),
                           data={"csrf_token": token, "action": "hide", "reason": " "})
    soup = check_page(response, status=400)
    assert soup.select_one(".error-summary a")["href"] == \
        f"#statement-{ids['Visit my shop for cheap pills!']}-reason"
    response = client.post(url(ids["Visit my shop for cheap pills!"]), data={
        "csrf_token": token, "action": "ban", "reason": "Advertising"})
    assert response.status_code == 302
    with app.app_context():
        status = dict(db.session.execute(select(Statement.text, Statement.status)).all())
        assert status["Buses to screening centres."] == ContentStatus.PUBLISHED
        assert status["Visit my shop for cheap pills!"] == ContentStatus.HIDDEN
        assert status["Another advert here."] == ContentStatus.HIDDEN  # pending, by the banned
        assert db.session.scalar(select(Ban.reason)) == "Advertising"
        actions = list(db.session.scalars(select(AuditEntry.action).where(
            AuditEntry.action.like("moderation.%"))))
        assert actions == ["moderation.approved", "moderation.hidden", "moderation.banned"]
    # The banned participant can no longer write, and sees why their statement is gone.
    response = participant.post(f"{BASE}/comments", data={
        "csrf_token": csrf_token(participant, f"{BASE}/"), "body": "Hello", "language": "en"})
    assert "stopped you from writing" in check_page(response, status=400).text
    soup = check_page(participant.get(f"{BASE}/statements"))
    assert "Advertising" in soup.text
    # The published comment can be hidden after the fact; the thread says so.
    client.post(f"/en/admin/moderation/comment/{comment_id}",
                data={"csrf_token": token, "action": "hide", "reason": "Spam"})
    assert "hidden by a moderator" not in check_page(participant.get(f"{BASE}/")).text
    # Lifting the ban lets them write again.
    with app.app_context():
        ban_id = db.session.scalar(select(Ban.id))
    check_page(client.get("/en/admin/moderation/bans"))
    client.post(f"/en/admin/moderation/bans/{ban_id}/lift", data={"csrf_token": token})
    response = participant.post(f"{BASE}/comments", data={
        "csrf_token": csrf_token(participant, f"{BASE}/"), "body": "Hello", "language": "en"})
    assert response.status_code == 302


def test_word_filter_page(app, client, auth):
    auth.login_as(Role.MODERATOR)
    page = "/en/admin/moderation/word-filter"
    check_page(client.get(page))
    token = csrf_token(client, page)
    response = client.post(page, data={"csrf_token": token, "terms": "x" * 101})
    assert check_page(response, status=400).select_one("#terms").text == "x" * 101
    client.post(page, data={"csrf_token": token, "terms": "Idiot\n  quack   cure \n\nidiot"})
    assert check_page(client.get(page)).select_one("#terms").text == "idiot\nquack cure"


def test_translator_translates_and_readers_see_their_language(app, client, auth):
    open_consultation(app)
    auth.login_as(Role.TRANSLATOR)
    page = "/en/admin/consultations/rural-screening/translations"
    soup = check_page(client.get(page))
    assert len(soup.select(".translation-item")) == 3
    with app.app_context():
        statement_id = db.session.scalar(select(Statement.id).where(Statement.number == 0))
    token = csrf_token(client, page)
    response = client.post(page, data={"csrf_token": token, "kind": "statement",
                                       "item": str(statement_id), "language": "de",
                                       "text": " "})
    check_page(response, status=400)
    client.post(page, data={"csrf_token": token, "kind": "statement",
                            "item": str(statement_id), "language": "de",
                            "text": "Einladungen sollen per Post und SMS kommen."})
    assert client.get("/en/admin/consultations/rural-screening").status_code == 403
    soup = check_page(client.get("/de/c/rural-screening/statements"))
    first = soup.select_one("#s-0")
    assert first.select_one(".statement-text")["lang"] == "de"
    assert "Einladungen sollen" in first.select_one(".statement-text").text
    assert "Screening invitations" in first.select_one("details.original").text
    english = check_page(client.get("/en/c/rural-screening/statements")).select_one("#s-0")
    assert english.select_one("details.original") is None


def seat_planted_voters(app, consultation_id: int) -> None:
    """Two opposed groups of 30 who also answered the linked survey's age question.

    Group 0: 20 aged 65-74, 5 aged 16-24, 5 aged 45-54; group 1: 10 of each. The cells
    of 5 are below the threshold of 10, and their row totals (15) are published, so
    the 10s beside them must be hidden too.
    """
    from app.consent import services as consent
    from app.consent.models import ConsentChannel
    from app.consultations import voting
    from app.participants.models import Participant
    from app.surveys import services as surveys
    from app.surveys.codes import new_code
    from app.surveys.models import Answer, ResponseStatus

    with app.app_context():
        surveys.load_survey_files([surveys.SURVEYS_DIR / "cancer-mission-consultation.yaml"])
        survey = surveys.get_survey("cancer-mission-consultation")
        consultation = db.session.get(Consultation, consultation_id)
        consultation.surveys = [survey]
        statements = [voting.add_statement(consultation, f"Statement {i}", "en", seed=True)
                      for i in range(10)]
        document = consent.get_document("echos-participation")
        version = consent.latest_version(document)
        for group in (0, 1):
            for index in range(30):
                person = Participant()
                db.session.add(person)
                db.session.flush()
                consent.give_consent(participant=person, version=version, language="en",
                                     asked=["participation", "research"],
                                     granted=["participation", "research"],
                                     channel=ConsentChannel.WEB, actor="participant")
                response = surveys.start_response(
                    version=surveys.latest_version(survey), code=new_code(), language="en",
                    participant=person)
                cuts = (20, 25) if group == 0 else (10, 20)
                band = "65_74" if index < cuts[0] else "16_24" if index < cuts[1] else "45_54"
                db.session.add(Answer(response=response, question="age_band",
                                      value_text=band))
                response.status = ResponseStatus.COMPLETE
                voter = voting.voter_for(consultation, person.id)
                for number, statement in enumerate(statements):
                    side = 1 if (number % 2 == 0) == (group == 0) else -1
                    voting.cast_vote(voter, statement, side)
        db.session.commit()


def test_organiser_recomputes_groups_and_results_show_them(app, client, auth):
    consultation_id = open_consultation(app, statements=())
    seat_planted_voters(app, consultation_id)
    assert "once enough people have voted" in check_page(client.get(f"{BASE}/results")).text
    auth.login_as(Role.ORGANISER)
    page = "/en/admin/consultations/rural-screening/statements"
    check_page(client.get(page))
    response = client.post("/en/admin/consultations/rural-screening/recompute",
                           data={"csrf_token": csrf_token(client, page)})
    assert response.status_code == 302
    summary = check_page(client.get(page)).select_one("main h2 + p").text
    assert "2 groups from 600 votes" in summary, summary
    with app.app_context():
        snapshot = db.session.scalar(select(OpinionSnapshot))
        sizes = sorted(len(g["members"]) for g in snapshot.payload["groups"])
        assert sizes == [30, 30]
    auth.logout()
    soup = check_page(client.get(f"{BASE}/results"))
    svg = soup.select_one("figure.chart svg")
    assert svg["role"] == "img" and svg.select_one("title").text
    sizes = [td.text for td in soup.select("caption + thead + tbody td")][:2]
    assert sizes == ["30", "30"]
    assert soup.select(".finding-list li")  # representative statements are listed
    profile = next(t for t in soup.select("table") if "How old are you?" in t.caption.text)
    cells = {row.th.text: [td.text.strip() for td in row.select("td")]
             for row in profile.select("tbody tr")}
    old = 0 if cells["65 to 74"][0] == "20" else 1
    assert cells["65 to 74"] == (["20", "10", "30"] if old == 0 else ["10", "20", "30"])
    assert cells["16 to 24"] == [HIDDEN, HIDDEN, "15"]
    assert cells["45 to 54"] == [HIDDEN, HIDDEN, "15"]
    assert cells["75 or older"] == ["0", "0", "0"]


def test_results_page_without_votes_says_so(app, client):
    open_consultation(app)
    soup = check_page(client.get(f"{BASE}/results"))
    assert "once enough people have voted" in soup.text


def test_timer_recomputes_only_open_consultations_with_new_votes(app, runner):
    consultation_id = open_consultation(app, statements=())
    seat_planted_voters(app, consultation_id)
    open_consultation(app, "quiet-one", statements=("Nobody votes here.",))
    assert runner.invoke(args=["deliberation", "recompute"]).exit_code != 0
    first = runner.invoke(args=["deliberation", "recompute", "--all-open"])
    assert first.exit_code == 0, first.output
    assert "rural-screening: snapshot" in first.output and "quiet-one" in first.output
    again = runner.invoke(args=["deliberation", "recompute", "--all-open"])
    assert again.output.strip() == "Nothing to recompute."
    with app.app_context():
        from app.consultations.models import Vote

        vote = db.session.scalar(select(Vote).limit(1))
        vote.value, vote.updated_at = -vote.value, vote.updated_at.replace(year=2100)
        db.session.commit()
    changed = runner.invoke(args=["deliberation", "recompute", "--all-open"])
    assert "rural-screening" in changed.output and "quiet-one" not in changed.output
