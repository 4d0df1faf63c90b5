"""Answering through the pages with the test client, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup
from sqlalchemy import func, select

from app.extensions import db
from app.surveys.models import Answer, Response, ResponseStatus
from tests.factories import csrf_token
from tests.pages import check_page, text_of
from tests.surveys.factories import HEADER, open_survey

SMALL = HEADER.replace("id: test-survey", "id: short-survey") + """\
pages:
  - id: about
    title: {en: About you, de: Über Sie}
    questions:
      - id: smoker
        type: yes_no
        label: {en: Do you smoke?, de: Rauchen Sie?}
        required: true
      - id: per_day
        type: integer
        label: {en: How many a day?, de: Wie viele am Tag?}
        relevant: "${smoker} = 'yes'"
        min: 1
        max: 80
  - id: quitting
    title: {en: Quitting, de: Aufhören}
    relevant: "${smoker} = 'yes'"
    questions:
      - id: wants_to_quit
        type: yes_no
        label: {en: Would you like to stop?, de: Möchten Sie aufhören?}
  - id: views
    title: {en: Your views, de: Ihre Meinung}
    questions:
      - id: comment
        type: long_text
        label: {en: Anything else?, de: Noch etwas?}
        max_length: 50
"""


def post(client, url: str, data: dict):
    return client.post(url, data={"csrf_token": csrf_token(client, url), **data})


def start(client, slug: str = "short-survey", lang: str = "en", refuse: tuple[str, ...] = ()):
    """Start a survey as a respondent; consent to every purpose but `refuse` when asked."""
    page = f"/{lang}/s/{slug}/"
    check_page(client.get(page), lang=lang)
    response = client.post(f"/{lang}/s/{slug}/start",
                           data={"csrf_token": csrf_token(client, page)})
    assert response.status_code == 302
    location = response.location
    if location.endswith("/consent"):
        give_consent(client, location, refuse)
        location = client.get(f"/{lang}/s/{slug}/continue").location
    return location


def give_consent(client, url: str, refuse: tuple[str, ...] = (), age: str = "40",
                 country: str = "PT"):
    soup = check_page(client.get(url))
    data = {"csrf_token": csrf_token(client, url), "age": age, "country": country}
    for radio in soup.select("input[type=radio][value=yes]"):
        if radio["name"].startswith("purpose."):
            data[radio["name"]] = "no" if radio["name"][8:] in refuse else "yes"
    response = client.post(url, data=data)
    assert response.status_code == 302, response.data
    assert response.location.endswith("/receipt")
    check_page(client.get(response.location))
    return response


def test_whole_survey_with_skip_logic_and_one_response(app, client):
    open_survey(app, "short-survey", SMALL)
    first = start(client)
    assert first == "/en/s/short-survey/p/about"
    soup = check_page(client.get(first))
    assert "Page 1 of 2" in text_of(soup)

    response = post(client, first, {"smoker": "yes", "_shown": "smoker"})
    # the follow-up on the same page appears before moving on
    soup = check_page(response)
    assert soup.find("input", attrs={"name": "per_day"})
    response = post(client, first, {"smoker": "yes", "per_day": "12",
                                    "_shown": ["smoker", "per_day"]})
    assert response.location == "/en/s/short-survey/p/quitting"
    assert "Page 2 of 3" in text_of(check_page(client.get(response.location)))
    response = post(client, "/en/s/short-survey/p/quitting", {"wants_to_quit": "yes"})
    response = post(client, response.location, {"comment": "More support to stop, please."})
    assert response.location == "/en/s/short-survey/review"
    soup = check_page(client.get(response.location))
    assert "More support to stop" in text_of(soup)

    token = csrf_token(client, "/en/s/short-survey/review")
    first_send = client.post("/en/s/short-survey/submit", data={"csrf_token": token})
    second_send = client.post("/en/s/short-survey/submit", data={"csrf_token": token})
    assert first_send.location == second_send.location == "/en/s/short-survey/thanks"
    check_page(client.get("/en/s/short-survey/thanks"))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Response)) == 1
        stored = db.session.scalar(select(Response))
        assert stored.status == ResponseStatus.COMPLETE
        rows = {a.question: a for a in db.session.scalars(select(Answer))}
        assert rows["per_day"].value_number == 12 and rows["per_day"].value_text is None
        assert rows["smoker"].value_text == "yes"
        assert rows["comment"].value_text == "More support to stop, please."
    # after sending, the pages lead to the thank-you page, not back into the answers
    assert client.get(first).location == "/en/s/short-survey/thanks"


def test_errors_in_german_keep_what_was_typed(app, client):
    open_survey(app, "short-survey", SMALL)
    start(client, lang="de")
    page = "/de/s/short-survey/p/about"
    soup = check_page(post(client, page, {}), status=400, lang="de")
    assert soup.title.get_text().startswith("Fehler")
    links = [a["href"] for a in soup.select(".error-summary a")]
    assert links == ["#f-smoker-yes"]
    assert soup.find(id="f-smoker-yes")
    response = post(client, page, {"smoker": "yes", "per_day": "zwölf",
                                   "_shown": ["smoker", "per_day"]})
    soup = check_page(response, status=400, lang="de")
    assert soup.find("input", attrs={"name": "per_day"})["value"] == "zwölf"
    assert soup.find("input", attrs={"name": "smoker", "value": "yes"}).has_attr("checked")
    summary = soup.select_one(".error-summary").get_text()
    assert "whole number" not in summary  # translated, not English
    assert soup.select_one(".error-summary a")["href"] == "#f-per_day"


def test_too_long_text_is_refused_but_kept(app, client):
    open_survey(app, "short-survey", SMALL)
    start(client)
    post(client, "/en/s/short-survey/p/about", {"smoker": "no", "_shown": "smoker"})
    long_text = "x" * 60
    soup = check_page(post(client, "/en/s/short-survey/p/views", {"comment": long_text}),
                      status=400)
    assert soup.find("textarea", attrs={"name": "comment"}).get_text() == long_text
    assert "50 characters or fewer" in text_of(soup)


def test_resume_in_another_browser_with_code_or_link(app, client):
    open_survey(app, "short-survey", SMALL)
    start(client)
    post(client, "/en/s/short-survey/p/about", {"smoker": "no", "_shown": "smoker"})
    saved = check_page(client.get("/en/s/short-survey/saved"))
    code = saved.select_one("main .code").get_text(strip=True)
    assert re.fullmatch(r"([A-Z2-7]{4}-){7}[A-Z2-7]{4}", code)

    other = app.test_client()
    wrong = post(other, "/pt/s/short-survey/resume", {"code": "AAAA-BBBB"})
    soup = check_page(wrong, status=400, lang="pt")
    assert soup.find("input", attrs={"name": "code"})["value"] == "AAAA-BBBB"
    right = post(other, "/pt/s/short-survey/resume", {"code": code.lower().replace("-", " ")})
    assert right.location == "/pt/s/short-survey/p/views"

    third = app.test_client()
    link = third.get(f"/fr/s/short-survey/resume/{code}")
    assert link.location == "/fr/s/short-survey/p/views"
    assert third.get("/fr/s/short-survey/resume/AAAA-AAAA").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(Response)).languages == ["en", "pt", "fr"]


def test_language_switch_mid_survey_keeps_answers(app, client):
    open_survey(app, "short-survey", SMALL)
    start(client)
    post(client, "/en/s/short-survey/p/about", {"smoker": "no", "_shown": "smoker"})
    soup = check_page(client.get("/de/s/short-survey/p/about"), lang="de")
    assert soup.find("input", attrs={"name": "smoker", "value": "no"}).has_attr("checked")
    assert "Rauchen Sie?" in text_of(soup)
    links = {a["hreflang"]: a["href"] for a in soup.select("nav.language-nav a")}
    assert links["fr"] == "/fr/s/short-survey/p/about"


def test_closed_survey_and_unknown_survey(app, client):
    open_survey(app, "short-survey", SMALL)
    with app.app_context():
        from app.surveys import services
        from app.surveys.models import SurveyStatus

        services.set_status(services.get_survey("short-survey"), SurveyStatus.CLOSED)
        db.session.commit()
    soup = check_page(client.get("/en/s/short-survey/"))
    assert "not open" in text_of(soup)
    assert not soup.select("form[action$='/start']")
    response = client.post("/en/s/short-survey/start",
                           data={"csrf_token": csrf_token(client, "/en/login")})
    check_page(response, status=403)
    check_page(client.get("/en/s/no-such-survey/"), status=404)


def test_invited_survey_needs_a_valid_unused_code(app, client, runner, tmp_path):
    open_survey(app, "short-survey", SMALL.replace("pages:", "settings: {mode: invited}\npages:"))
    out = tmp_path / "tokens.csv"
    result = runner.invoke(args=["surveys", "invite", "short-survey", "--count", "2",
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    token = out.read_text().splitlines()[1].split(",")[1]
    page = "/en/s/short-survey/"
    bad = client.post(f"{page}start", data={"csrf_token": csrf_token(client, page),
                                            "invitation": "nope"})
    soup = check_page(bad, status=400)
    assert soup.find("input", attrs={"name": "invitation"})["value"] == "nope"
    good = client.post(f"{page}start", data={"csrf_token": csrf_token(client, page),
                                             "invitation": token})
    assert good.status_code == 302
    post(client, "/en/s/short-survey/p/about", {"smoker": "no", "_shown": "smoker"})
    post(client, "/en/s/short-survey/p/views", {})
    client.post("/en/s/short-survey/submit",
                data={"csrf_token": csrf_token(client, "/en/s/short-survey/review")})
    again = app.test_client()
    reused = again.post(f"{page}start", data={"csrf_token": csrf_token(again, page),
                                              "invitation": token})
    check_page(reused, status=400)
    with app.app_context():
        from app.surveys import services

        counts = services.invitation_counts(services.get_survey("short-survey"))
    assert counts == {"completed": 1, "unused": 1}


def test_result_page_shows_scores(app, client):
    open_survey(app, "hub-engagement-maturity")
    start(client, "hub-engagement-maturity")
    answered = 0
    location = "/en/s/hub-engagement-maturity/p/" + client.get(
        "/en/s/hub-engagement-maturity/").request.path.split("/")[-1]
    location = None
    with app.app_context():
        from app.surveys import services

        definition = services.definition_of(
            services.latest_version(services.get_survey("hub-engagement-maturity")))
    for page in definition.pages:
        data = {}
        for question in page.questions:
            if question.type == "single_choice" and question.choices[0].value == "0":
                data[question.id] = "3"
                answered += 1
            elif question.type == "country":
                data[question.id] = "AT"
        data["_shown"] = [q.id for q in page.questions]
        post(client, f"/en/s/hub-engagement-maturity/p/{page.id}", data)
    client.post("/en/s/hub-engagement-maturity/submit",
                data={"csrf_token": csrf_token(client, "/en/s/hub-engagement-maturity/review")})
    soup = check_page(client.get("/en/s/hub-engagement-maturity/thanks"))
    assert answered >= 15
    values = [dd.get_text(strip=True) for dd in soup.select(".summary-list dd")]
    assert values and all(v == "3.0" for v in values), values
    assert location is None


def test_every_consultation_page_is_small(app, client):
    open_survey(app, "cancer-mission-consultation")
    start(client, "cancer-mission-consultation")
    css = client.get("/static/css/app.css").data
    with app.app_context():
        from app.surveys import services

        definition = services.definition_of(services.latest_version(
            services.get_survey("cancer-mission-consultation")))
    for page in definition.pages:
        html = client.get(f"/pt/s/cancer-mission-consultation/p/{page.id}")
        if html.status_code == 302:
            continue  # a page that does not apply
        check_page(html, lang="pt")
        assert len(html.data) + len(css) < 50 * 1024, (page.id, len(html.data))


def test_staff_preview_is_not_counted(app, client, auth):
    from app.auth.roles import Role

    open_survey(app, "short-survey", SMALL)
    auth.login_as(Role.ORGANISER)
    soup = check_page(client.get("/en/s/short-survey/"))
    assert soup.find("input", attrs={"name": "preview", "value": "1"})
    client.post("/en/s/short-survey/start",
                data={"csrf_token": csrf_token(client, "/en/s/short-survey/"), "preview": "1"})
    with app.app_context():
        from app.surveys import services

        assert services.funnel(services.get_survey("short-survey")).started == 0
        assert db.session.scalar(select(Response)).channel.value == "preview"


def test_page_of_another_survey_or_without_response_goes_to_start(app, client):
    open_survey(app, "short-survey", SMALL)
    response = client.get("/en/s/short-survey/p/about")
    assert response.location == "/en/s/short-survey/"
    assert BeautifulSoup(client.get("/en/s/short-survey/").data, "html.parser").h1


def test_resume_link_by_email_is_sent_and_not_stored(app, client):
    from email import policy
    from email.parser import BytesParser

    from app.mailer import outbox_dir

    open_survey(app, "short-survey", SMALL)
    start(client, lang="de")
    post(client, "/de/s/short-survey/p/about", {"smoker": "no", "_shown": "smoker"})
    saved = "/de/s/short-survey/saved"
    code = check_page(client.get(saved), lang="de").select_one("main .code").get_text(strip=True)

    bad = client.post("/de/s/short-survey/email-link",
                      data={"csrf_token": csrf_token(client, saved), "email": "not-an-address"})
    soup = check_page(bad, status=400, lang="de")
    assert soup.find("input", attrs={"name": "email"})["value"] == "not-an-address"

    with app.app_context():
        folder = outbox_dir()
    before = set(folder.glob("*.eml")) if folder.exists() else set()
    sent = client.post("/de/s/short-survey/email-link",
                       data={"csrf_token": csrf_token(client, saved), "email": "ana@example.org"})
    assert sent.location == saved
    new = set(folder.glob("*.eml")) - before
    assert len(new) == 1
    message = BytesParser(policy=policy.default).parsebytes(new.pop().read_bytes())
    assert message["To"] == "ana@example.org"
    assert "Testumfrage" in message["Subject"]
    body = message.get_content()
    assert f"/de/s/short-survey/resume/{code}" in body
    assert "Hallo" in body or "Guten Tag" in body
    with app.app_context():
        from sqlalchemy import text

        for table in db.metadata.sorted_tables:
            for row in db.session.execute(text(f'SELECT * FROM "{table.name}"')):
                assert "ana@example.org" not in str(row)


def test_open_and_close_dates_and_response_limit(app, client):
    from datetime import timedelta

    from app.timeutil import utcnow

    later = (utcnow() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    not_yet = SMALL.replace("pages:", f"settings: {{opens: '{later}'}}\npages:")
    open_survey(app, "short-survey", not_yet)
    soup = check_page(client.get("/en/s/short-survey/"))
    assert "This survey opens on" in text_of(soup)

    limited = SMALL.replace("pages:", "settings: {response_limit: 1}\npages:")
    open_survey(app, "short-survey", limited)
    start(client)
    post(client, "/en/s/short-survey/p/about", {"smoker": "no", "_shown": "smoker"})
    post(client, "/en/s/short-survey/p/views", {})
    client.post("/en/s/short-survey/submit",
                data={"csrf_token": csrf_token(client, "/en/s/short-survey/review")})
    newcomer = app.test_client()
    assert "all the answers it needs" in text_of(check_page(newcomer.get("/en/s/short-survey/")))


def test_full_quota_ends_the_survey_politely(app, client):
    quota = """settings:
  quotas:
    - id: smokers
      when: "${smoker} = 'yes'"
      limit: 1
      message: {en: We have heard from enough smokers. Thank you!, de: Danke!}
pages:"""
    open_survey(app, "short-survey", SMALL.replace("pages:", quota))
    for attempt in range(2):
        browser = app.test_client()
        start(browser)
        response = post(browser, "/en/s/short-survey/p/about",
                        {"smoker": "yes", "per_day": "5", "_shown": ["smoker", "per_day"]})
        if attempt == 0:
            assert response.status_code == 302
            post(browser, "/en/s/short-survey/p/quitting", {})
            post(browser, "/en/s/short-survey/p/views", {})
            browser.post("/en/s/short-survey/submit",
                         data={"csrf_token": csrf_token(browser, "/en/s/short-survey/review")})
        else:
            soup = check_page(response)
            assert "enough smokers" in text_of(soup)
    with app.app_context():
        statuses = sorted(r.status.value for r in db.session.scalars(select(Response)))
    assert statuses == ["complete", "screened_out"]


def test_resume_codes_never_reach_the_log(app, client, make_app, capsys):
    open_survey(app, "short-survey", SMALL)
    start(client)
    code = check_page(client.get("/en/s/short-survey/saved")).select_one("main .code").get_text(
        strip=True)
    logging_app = make_app()  # its log handler writes to the captured stderr
    capsys.readouterr()
    logging_app.test_client().get(f"/en/s/short-survey/resume/{code}")
    logged = capsys.readouterr().err
    assert "/en/s/short-survey/resume/[redacted]" in logged
    assert code not in logged
