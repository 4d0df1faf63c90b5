"""Citizens' consultation pages: listing, consent, votes, statements, comments, reports."""

from __future__ import annotations

from sqlalchemy import func, inspect, select, text

from app.consultations import moderation, voting
from app.consultations.models import (
    Comment,
    ConsultationStatus,
    ContentStatus,
    Flag,
    Statement,
    StatementModeration,
    Vote,
    Voter,
)
from app.extensions import db
from tests.consultations.factories import STATEMENTS, open_consultation
from tests.factories import csrf_token
from tests.pages import check_page
from tests.surveys.test_views import give_consent

BASE = "/en/c/rural-screening"


def consent(client, base: str = BASE) -> None:
    response = client.get(f"{base}/vote")
    assert response.status_code == 302 and response.location.endswith("/consent")
    give_consent(client, response.location)


def vote(client, number: int, value: str, path: str = "/vote"):
    return client.post(f"{BASE}{path}", data={
        "csrf_token": csrf_token(client), "statement": str(number),
        "vote": value})


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_listing_filters_and_drafts_stay_hidden(app, client):
    open_consultation(app)
    open_consultation(app, "hidden-draft", status=ConsultationStatus.DRAFT)
    open_consultation(app, "vienna-survivorship", hub_slug="at", country="AT")
    soup = check_page(client.get("/en/c/"))
    titles = [a["href"] for a in soup.select(".cards h3 a")]
    assert titles == ["/en/c/vienna-survivorship/", "/en/c/rural-screening/"]  # newest first
    soup = check_page(client.get("/en/c/?country=AT"))
    assert [a["href"] for a in soup.select(".cards h3 a")] == ["/en/c/vienna-survivorship/"]
    soup = check_page(client.get("/en/c/?topic=equity"))
    assert soup.select(".cards") == []
    soup = check_page(client.get("/en/c/?language=fr"))
    assert soup.select(".cards") == []
    assert len(check_page(client.get("/en/c/?language=de")).select(".cards h3")) == 2
    # Nonsense filters are ignored rather than failing.
    check_page(client.get("/en/c/?topic=%3Cscript%3E&country=XYZ&status=nope"))
    assert client.get("/en/c/hidden-draft/").status_code == 404
    # The visitor's language when written, the main language otherwise.
    assert "Krebsfrüherkennung" in check_page(client.get("/de/c/rural-screening/")).h1.text
    assert "Cancer screening" in check_page(client.get("/fr/c/rural-screening/")).h1.text


def test_a_vote_before_consent_is_kept_and_the_latest_vote_counts(app, client):
    open_consultation(app)
    # Anyone can read the statements; a vote first asks for consent and is then kept.
    soup = check_page(client.get(f"{BASE}/statements"))
    assert [p.text for p in soup.select(".statement-text")] == list(STATEMENTS)
    response = vote(client, 1, "disagree", "/statements/vote")
    assert response.location.endswith(f"{BASE}/consent")
    give_consent(client, response.location)
    with app.app_context():
        assert db.session.execute(select(Statement.number, Vote.value).join(Vote)).all() == [
            (1, -1)]
    # The next statement not yet voted on comes first.
    soup = check_page(client.get(f"{BASE}/vote"))
    assert soup.select_one(".statement-text").text == STATEMENTS[0]
    assert vote(client, 0, "agree").status_code == 302
    assert vote(client, 0, "agree").status_code == 302  # a double click
    assert vote(client, 1, "agree", "/statements/vote").location.endswith("#s-1")
    with app.app_context():
        assert sorted(db.session.execute(
            select(Statement.number, Vote.value).join(Vote)).all()) == [(0, 1), (1, 1)]
        assert count(Voter) == 1
    # Bad input: a clear message, never a 500.
    response = vote(client, 99, "agree")
    assert response.status_code == 302
    assert "did not reach us" in client.get(response.location).get_data(as_text=True)
    assert vote(client, 0, "maybe").status_code == 302


def test_closed_consultation_can_be_read_but_takes_no_votes(app, client):
    consultation_id = open_consultation(app)
    consent(client)
    with app.app_context():
        from app.consultations.models import Consultation

        db.session.get(Consultation, consultation_id).status = ConsultationStatus.CLOSED
        db.session.commit()
    response = vote(client, 0, "agree")
    assert response.location.endswith(f"{BASE}/")
    soup = check_page(client.get(response.location))
    assert "closed" in soup.select_one(".notice").text
    assert check_page(client.get(f"{BASE}/statements")).select(".vote-form") == []
    with app.app_context():
        assert count(Vote) == 0


def test_own_statements_are_pre_moderated_and_checked(app, client):
    open_consultation(app)
    consent(client)
    page = f"{BASE}/statements/new"
    token = csrf_token(client, page)
    long_text = "x" * 281
    response = client.post(page, data={"csrf_token": token, "text": long_text,
                                       "language": "pt"})
    soup = check_page(response, status=400)
    assert "280 characters" in soup.select_one(".error-summary").text
    assert soup.select_one("#statement-text").text == long_text
    assert soup.select_one("#statement-language option[selected]")["value"] == "pt"
    response = client.post(page, data={"csrf_token": token, "text": STATEMENTS[0].upper(),
                                       "language": "en"})
    assert "already there" in check_page(response, status=400).text
    response = client.post(page, data={"csrf_token": token, "language": "en",
                                       "text": "  Screening buses at   weekly markets. "})
    assert response.status_code == 302
    with app.app_context():
        own = db.session.scalar(select(Statement).where(Statement.seed.is_(False)))
        assert (own.text, own.status) == ("Screening buses at weekly markets.",
                                          ContentStatus.PENDING)
    soup = check_page(client.get(f"{BASE}/statements"))
    assert "Screening buses" not in " ".join(p.text for p in soup.select(".statement-text"))
    assert "Waiting for a moderator" in soup.text
    # At most five an hour.
    for index in range(4):
        assert client.post(page, data={"csrf_token": token, "language": "en",
                                       "text": f"Idea number {index}"}).status_code == 302
    response = client.post(page, data={"csrf_token": token, "language": "en",
                                       "text": "One more idea"})
    assert "last hour" in check_page(response, status=400).text


def test_post_moderation_publishes_unless_the_word_filter_holds_it(app, client):
    open_consultation(app, moderation=StatementModeration.POST)
    with app.app_context():
        moderation.set_blocked_terms(["quack cure"], actor="test")
        db.session.commit()
    consent(client)
    page = f"{BASE}/statements/new"
    token = csrf_token(client, page)
    client.post(page, data={"csrf_token": token, "language": "en",
                            "text": "Screening should be free."})
    client.post(page, data={"csrf_token": token, "language": "en",
                            "text": "Try this QUACK CURE instead of screening."})
    client.post(page, data={"csrf_token": token, "language": "en",
                            "text": "A quackcureless sentence is fine."})
    with app.app_context():
        found = dict(db.session.execute(select(Statement.text, Statement.status).where(
            Statement.seed.is_(False))).all())
    assert found == {"Screening should be free.": ContentStatus.PUBLISHED,
                     "Try this QUACK CURE instead of screening.": ContentStatus.PENDING,
                     "A quackcureless sentence is fine.": ContentStatus.PUBLISHED}


def test_threaded_comments_keep_input_on_error_and_show_language(app, client):
    open_consultation(app)
    consent(client)
    page = f"{BASE}/statements/0"
    token = csrf_token(client, page)
    response = client.post(f"{BASE}/comments", data={
        "csrf_token": token, "statement": "0", "body": " ", "language": "en"})
    soup = check_page(response, status=400)
    assert soup.select_one(".error-summary a")["href"] == "#comment-body"
    response = client.post(f"{BASE}/comments", data={
        "csrf_token": token, "statement": "0", "body": "x" * 2001, "language": "de"})
    soup = check_page(response, status=400)
    assert soup.select_one("#comment-body").text == "x" * 2001
    response = client.post(f"{BASE}/comments", data={
        "csrf_token": token, "statement": "0", "body": "Os autocarros ajudam.",
        "language": "pt"})
    assert response.status_code == 302 and "#comment-" in response.location
    with app.app_context():
        parent = db.session.scalar(select(Comment))
    client.post(f"{BASE}/comments", data={
        "csrf_token": token, "statement": "0", "parent": str(parent.id),
        "body": "I agree with the buses.", "language": "en"})
    soup = check_page(client.get(page))
    top = soup.select_one(f"#comment-{parent.id}")
    assert top.select_one(".comment-body")["lang"] == "pt"
    assert "Written in Portuguese" in top.text
    reply = top.select_one(".replies .comment")
    assert "I agree with the buses." in reply.text
    # Comments on the consultation itself are a separate thread.
    assert "Os autocarros" not in check_page(client.get(f"{BASE}/")).text


def test_reports_reach_the_queue_and_enough_of_them_hide_content(app):
    open_consultation(app)
    browsers = [app.test_client() for _ in range(3)]
    for browser in browsers:
        consent(browser)
    page = f"{BASE}/report/statement/2"
    for index, browser in enumerate(browsers):
        token = csrf_token(browser, page)
        if index == 0:
            response = browser.post(page, data={"csrf_token": token})
            assert check_page(response, status=400).select_one(".error-summary")
        response = browser.post(page, data={"csrf_token": token, "reason": "spam"})
        assert response.status_code == 302
        browser.post(page, data={"csrf_token": token, "reason": "spam"})  # counted once
    with app.app_context():
        assert count(Flag) == 3
        statement = db.session.scalar(select(Statement).where(Statement.number == 2))
        assert statement.status == ContentStatus.PENDING
        entries = moderation.queue()
        assert [(e.kind, e.reports) for e in entries] == [("statement", {"spam": 3})]


def test_erasure_removes_votes_statements_and_comments(app, client):
    marker = "ZQXMARKER"
    open_consultation(app, moderation=StatementModeration.POST)
    consent(client)
    vote(client, 0, "agree")
    token = csrf_token(client, f"{BASE}/statements/new")
    client.post(f"{BASE}/statements/new", data={"csrf_token": token, "language": "en",
                                                "text": f"{marker} statement"})
    client.post(f"{BASE}/comments", data={"csrf_token": token, "language": "en",
                                          "body": f"{marker} comment"})
    other = app.test_client()
    consent(other)
    with app.app_context():
        own = db.session.scalar(select(Statement).where(Statement.seed.is_(False)))
        comment = db.session.scalar(select(Comment))
    other_token = csrf_token(other, f"{BASE}/")
    vote_data = {"csrf_token": other_token, "statement": str(own.number), "vote": "agree"}
    other.post(f"{BASE}/vote", data=vote_data)
    other.post(f"{BASE}/comments", data={"csrf_token": other_token, "language": "en",
                                         "parent": str(comment.id), "body": "A reply"})
    with app.app_context():
        from app.consultations.comments import translate

        translate(db.session.get(Comment, comment.id), "de", f"{marker} Kommentar",
                  translator_id=None)
        db.session.commit()

    def marker_places() -> list[str]:
        return [table for table in inspect(db.engine).get_table_names()
                for row in db.session.execute(text(f'SELECT * FROM "{table}"'))
                if marker.lower() in str(tuple(row)).lower()]

    with app.app_context():
        assert {"statement", "comment", "content_translation"} <= set(marker_places())
    page = "/en/my-data/erase"
    client.post(page, data={"csrf_token": csrf_token(client, page)})
    with app.app_context():
        assert marker_places() == []
        assert count(Voter) == 1  # the other person's seat stays
        assert db.session.scalar(select(Statement.id).where(Statement.seed.is_(False))) is None
        # The reply keeps its place under an emptied comment.
        assert sorted(db.session.execute(select(Comment.body, Comment.status)).all()) == [
            ("", ContentStatus.ERASED), ("A reply", ContentStatus.PUBLISHED)]
    soup = check_page(other.get(f"{BASE}/"))
    assert "removed by its author" in soup.text and "A reply" in soup.text


def test_voter_numbers_are_unique_per_consultation(app):
    consultation_id = open_consultation(app)
    with app.app_context():
        from app.consultations.models import Consultation
        from app.participants.models import Participant

        consultation = db.session.get(Consultation, consultation_id)
        people = [Participant() for _ in range(3)]
        db.session.add_all(people)
        db.session.flush()
        numbers = [voting.voter_for(consultation, p.id).number for p in people]
        assert numbers == [0, 1, 2]
        assert voting.voter_for(consultation, people[1].id).number == 1


def test_my_data_shows_and_downloads_votes_statements_and_comments(app, client):
    import csv
    import io
    import json

    open_consultation(app, moderation=StatementModeration.POST)
    consent(client)
    vote(client, 2, "disagree")
    token = csrf_token(client)
    client.post(f"{BASE}/statements/new", data={"csrf_token": token, "language": "pt",
                                                "text": "Rastreio ao sábado."})
    client.post(f"{BASE}/comments", data={"csrf_token": token, "language": "en",
                                          "body": "=Buses please"})
    soup = check_page(client.get("/en/my-data/"))
    section = soup.find("h2", string="Your votes, statements and comments").find_next("dl")
    assert STATEMENTS[2] in section.text and "You disagreed" in section.text
    assert "Rastreio ao sábado." in section.text and "=Buses please" in section.text
    data = json.loads(client.get("/en/my-data/export.json").data)
    place = data["consultations"][0]
    assert place["consultation"] == "rural-screening"
    assert [(v["statement"], v["vote"]) for v in place["votes"]] == [(2, "disagree")]
    assert place["statements"][0]["language"] == "pt"
    rows = list(csv.reader(io.StringIO(client.get("/en/my-data/export.csv").get_data(
        as_text=True))))
    assert ["vote", "rural-screening", STATEMENTS[2], "disagree"] in rows
    assert any(row[0] == "comment" and row[3] == "=Buses please" for row in rows)
