"""The printable consultation report: content, disclosure, weighting, access, PDF and CLI."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from sqlalchemy import select

from app.auth.roles import Role
from app.auth.services import create_user
from app.consultations import analysis, comments, services, voting
from app.consultations.models import Vote, Voter
from app.extensions import db
from app.hubs.models import Hub
from app.results import benchmarks, report, weighting
from app.surveys.services import get_survey
from tests.consultations.factories import open_consultation
from tests.database import unavailable
from tests.factories import DEFAULT_PASSWORD, make_hub
from tests.pages import check_page, text_of
from tests.results.stored import store_responses
from tests.surveys.factories import open_survey

SLUG = "report-test"
CONSULTATION = "rural-screening"
URL = f"/en/admin/results/consultations/{CONSULTATION}/report"
DEFINITION = f"""\
id: {SLUG}
kind: survey
version: 1
default_language: en
languages: [en]
title: {{en: Screening survey}}
consent_document: echos-participation
consent_purposes: [participation, research, contact]
pages:
  - id: main
    title: {{en: Questions}}
    questions:
      - id: gender
        type: single_choice
        label: {{en: Gender}}
        choices:
          - {{value: woman, label: {{en: Woman}}}}
          - {{value: man, label: {{en: Man}}}}
      - id: urbanisation
        type: single_choice
        label: {{en: Where do you live?}}
        choices:
          - {{value: city, label: {{en: City}}}}
          - {{value: rural, label: {{en: Rural area}}}}
      - id: trust
        type: likert
        label: {{en: I trust the screening service}}
        choices:
          - {{value: "1", label: {{en: Disagree}}}}
          - {{value: "2", label: {{en: Neutral}}}}
          - {{value: "3", label: {{en: Agree}}}}
      - id: colour
        type: single_choice
        label: {{en: Favourite leaflet colour}}
        choices:
          - {{value: red, label: {{en: Red}}}}
          - {{value: blue, label: {{en: Blue}}}}
          - {{value: green, label: {{en: Green}}}}
      - id: story
        type: long_text
        label: {{en: Tell us your story}}
      - id: email
        type: email
        purpose: contact
        contact: true
        label: {{en: Your e-mail address}}
"""
SOURCE = "Illustrative test table (not official)"
BENCHMARKS = ("variable,category,country,share,source,year\n"
              f"gender,woman,PT,0.5,{SOURCE},2023\n"
              f"gender,man,PT,0.5,{SOURCE},2023\n"
              f"urbanisation,city,PT,0.6,{SOURCE},2023\n"
              f"urbanisation,rural,PT,0.4,{SOURCE},2023\n")


def people() -> list[dict[str, str]]:
    """60 people: 40 women; 45 in cities; only 3 like green leaflets (a hidden cell)."""
    out = []
    for i in range(60):
        out.append({"gender": "woman" if i < 40 else "man",
                    "urbanisation": "city" if i % 4 else "rural",
                    "trust": str(1 + i % 3),
                    "colour": "green" if i in (7, 17, 27) else ("red" if i % 2 else "blue"),
                    "story": f"private story {i}", "email": f"person{i}@example.org"})
    return out


def planted_votes(consultation_id: int) -> None:
    """30 + 20 + 4 voters on three statements, the groups given as Polis would publish."""
    consultation = services.get_by_slug(CONSULTATION)
    statements = voting.published_statements(consultation)
    labels = {}
    for number in range(54):
        group = 0 if number < 30 else 1 if number < 50 else 2
        labels[number] = group
        voter = Voter(consultation_id=consultation_id, number=number)
        db.session.add(voter)
        db.session.flush()
        leaning = {0: (1, -1, 1), 1: (-1, 1, 1), 2: (1, 1, -1)}[group]
        for statement, value in zip(statements, leaning, strict=True):
            db.session.add(Vote(voter_id=voter.id, statement_id=statement.id, value=value))
    db.session.flush()
    analysis.snapshot_from_labels(consultation_id, labels)


@pytest.fixture
def consultation(app):
    return report_data(app)


def report_data(app) -> int:
    """The PT consultation with the survey linked, responses, a benchmark and votes."""
    consultation_id = open_consultation(app, CONSULTATION)
    open_survey(app, SLUG, DEFINITION)
    with app.app_context():
        services.set_surveys(services.get_by_slug(CONSULTATION), [get_survey(SLUG)])
        benchmarks.store(benchmarks.read_plain(BENCHMARKS))
        db.session.commit()
        store_responses(SLUG, people())
        planted_votes(consultation_id)
        statement = voting.published_statements(services.get_by_slug(CONSULTATION))[0]
        comments.translate(statement, "de", "Einladungen per Post und per SMS.",
                           translator_id=None)
        db.session.commit()
    return consultation_id


def define_scheme(app) -> None:
    with app.app_context():
        survey = get_survey(SLUG)
        scheme = weighting.define(survey, weighting.SchemeInput(
            "pt-gender", "PT", ["gender", "urbanisation"]), actor="analyst@example.org")
        weighting.compute(survey, scheme, actor="analyst@example.org")
        db.session.commit()


def login_for_hub(app, auth, role: Role, hub_slug: str | None) -> None:
    email = f"{role.value}-{hub_slug or 'all'}@example.org"
    with app.app_context():
        hub = db.session.scalar(select(Hub).where(Hub.slug == hub_slug)) if hub_slug else None
        create_user(email=email, name="Hub staff", password=DEFAULT_PASSWORD, roles=[role],
                    hub=hub)
        db.session.commit()
    assert auth.login(email).status_code == 302


def section(soup, heading_id: str) -> str:
    """The text of a report section as read (inline elements do not add spaces)."""
    return " ".join(soup.find(id=heading_id).find_parent("section").get_text().split())


def test_report_gathers_consultation_participation_tables_and_groups(app, client, auth,
                                                                      consultation):
    login_for_hub(app, auth, Role.ORGANISER, "pt")
    soup = check_page(client.get(URL))
    assert soup.h1.get_text(strip=True) == "Cancer screening in rural areas"
    contents = [a["href"] for a in soup.select("nav.report-contents a")]
    assert contents == ["#about", f"#survey-{SLUG}", "#opinion", "#method"]
    cover = text_of(soup.select_one(".report-cover"))
    assert "Hub PT" in cover and "Portugal" in cover and "Early detection" in cover

    survey = section(soup, f"survey-{SLUG}")
    assert "60 responses from people whose consent allows analysis." in survey
    # participation against the PT benchmark, its source and year as stored
    assert f"Benchmark: {SOURCE}, 2023." in survey
    gender = soup.find("caption", string="Gender \u2013 Portugal").find_parent("table")
    rows = {r.th.text: [td.text.strip() for td in r.select("td")]
            for r in gender.select("tbody tr")}
    assert rows["Woman"][0] == "40" and rows["Man"][0] == "20"
    # unweighted question tables, every chart next to its table
    assert "Unweighted: no weighting scheme" in survey
    colour = soup.find(id=f"{SLUG}-cap-colour").find_parent("table")
    hidden = colour.find("abbr", title="Hidden to protect privacy")
    assert hidden is not None and hidden.text == "< 10"
    block = colour.find_parent(class_="report-block")
    assert block.find("svg", attrs={"role": "img"}) is not None
    # free text and contact details are never part of the report
    assert soup.find(id=f"{SLUG}-q-story") is None and soup.find(id=f"{SLUG}-q-email") is None
    assert "private story" not in survey and "example.org" not in survey

    opinion = section(soup, "opinion")
    sizes = soup.find("caption", string="Groups and their sizes").find_parent("table")
    cells = {r.th.text: r.td.text.strip() for r in sizes.select("tbody tr")}
    assert cells["A"] == "30" and cells["C"] == "< 10"
    assert "What unites everyone" in opinion and "Group B" in opinion
    assert "Screening invitations should come by post" in opinion

    method = section(soup, "method")
    assert "Counts below 10 are hidden" in method and "Wilson" in method
    assert f"Benchmark: {SOURCE}, 2023." in method
    assert "no tests" in method


def test_weighted_tables_when_the_country_has_a_computed_scheme(app, client, auth, consultation):
    define_scheme(app)
    auth.login_as(Role.ANALYST)
    soup = check_page(client.get(URL))
    survey = section(soup, f"survey-{SLUG}")
    assert "Weighted with pt-gender: 60 respondents of Portugal" in survey
    assert f"gender: {SOURCE}, 2023" in survey
    trust = soup.find(id=f"{SLUG}-cap-trust").find_parent("table")
    assert "Weighted share" in [th.text for th in trust.select("thead th")]


def test_statements_are_shown_in_the_readers_language(app, client, auth, consultation):
    auth.login_as(Role.ANALYST)
    soup = check_page(client.get(URL.replace("/en/", "/de/")), lang="de")
    opinion = section(soup, "opinion")
    assert "Einladungen per Post und per SMS." in opinion
    assert soup.h1.get_text(strip=True) == "Krebsfrüherkennung auf dem Land"


def test_europe_wide_and_missing_benchmarks_are_stated_not_guessed(app, consultation):
    with app.app_context():
        found = services.get_by_slug(CONSULTATION)
        found.country = "EU"
        europe = report.consultation_report(found, language="en", secret="s")
        found.country = "AT"
        austria = report.consultation_report(found, language="en", secret="s")
        db.session.rollback()
    assert europe.surveys[0].participation_skipped == "europe-wide"
    assert austria.surveys[0].participation_skipped == "no-benchmark"
    assert europe.surveys[0].participation == [] and europe.benchmark_sources == []
    assert europe.surveys[0].analysis is not None  # the answers are reported all the same


def test_few_responses_show_nothing_and_no_snapshot_says_so(app, client, auth):
    open_consultation(app, CONSULTATION)
    open_survey(app, SLUG, DEFINITION)
    with app.app_context():
        services.set_surveys(services.get_by_slug(CONSULTATION), [get_survey(SLUG)])
        db.session.commit()
        store_responses(SLUG, people()[:4])
    auth.login_as(Role.ANALYST)
    soup = check_page(client.get(URL))
    assert "Fewer than 10 responses: nothing can be shown yet." in section(
        soup, f"survey-{SLUG}")
    assert soup.find(id=f"{SLUG}-cap-colour") is None
    assert "no population benchmark is loaded for Portugal" in section(soup, f"survey-{SLUG}")
    assert "Results appear here once enough people have voted" in section(soup, "opinion")


def test_who_may_read_the_report(app, client, auth, consultation):
    response = client.get(URL)
    assert response.status_code == 302 and response.location.startswith("/en/login")
    assert client.get(URL.replace("/report", "/report.pdf")).status_code == 302

    make_hub(app, "se", "SE")
    login_for_hub(app, auth, Role.ORGANISER, "se")
    assert client.get(URL).status_code == 403
    assert client.get(URL.replace("/report", "/report.pdf")).status_code == 403
    auth.logout()

    login_for_hub(app, auth, Role.MODERATOR, "pt")
    assert client.get(URL).status_code == 403
    auth.logout()

    login_for_hub(app, auth, Role.ORGANISER, "pt")
    assert client.get(URL).status_code == 200
    assert client.get("/en/admin/results/consultations/nothing-here/report").status_code == 404


def test_pdf_not_available_explains_how_to_print(make_app, auth, tmp_path):
    app = make_app(CHROMIUM_PATH=str(tmp_path / "no-chromium"))
    client = app.test_client()
    open_consultation(app, CONSULTATION)
    from tests.factories import AuthActions

    AuthActions(client, app).login_as(Role.ANALYST)
    page = check_page(client.get(URL))
    assert page.find("a", string="Download PDF") is None
    assert "Print command" in text_of(page)
    soup = check_page(client.get(URL.replace("/report", "/report.pdf")), status=404)
    text = text_of(soup)
    assert "PDF is not available on this server." in text and "Print command" in text


def test_pdf_is_printed_by_chromium(app, client, auth, consultation):
    if report.chromium_path(None) is None:
        unavailable("browser", "no Chromium to print the PDF (apt-get install chromium)")
    auth.login_as(Role.ANALYST)
    page = check_page(client.get(URL))
    link = page.find("a", string="Download PDF")
    assert link is not None and link["href"].endswith("/report.pdf")
    response = client.get(link["href"])
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert f'filename="{CONSULTATION}-report-en.pdf"' in response.headers["Content-Disposition"]
    assert pdf_shows(response.data, "Cancer screening in rural areas")


def pdf_shows(data: bytes, text: str) -> bool:
    """The text is on the pages (poppler's pdftotext), else in the document title, which
    Chromium writes as UTF-16 hex from the page's <title>."""
    tool = shutil.which("pdftotext")
    if tool is None:
        return text.encode("utf-16-be").hex().upper().encode() in data
    done = subprocess.run([tool, "-", "-"], input=data, capture_output=True, check=True)
    return text in " ".join(done.stdout.decode("utf-8").split())


def test_pdf_failure_is_a_clear_page_not_an_error(make_app, tmp_path):
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\necho 'no display' >&2\nexit 3\n")
    fake.chmod(0o755)
    app = make_app(CHROMIUM_PATH=str(fake))
    client = app.test_client()
    open_consultation(app, CONSULTATION)
    from tests.factories import AuthActions

    AuthActions(client, app).login_as(Role.ANALYST)
    soup = check_page(client.get(URL.replace("/report", "/report.pdf")), status=503)
    assert "could not be made" in text_of(soup)
    with pytest.raises(report.ReportError, match="exited with 3"):
        report.print_pdf("<p>x</p>", chromium=str(fake))


def test_cli_writes_html_and_refuses_other_files(app, runner, consultation, tmp_path):
    out = tmp_path / "report.html"
    result = runner.invoke(args=["results", "report", CONSULTATION, "-o", str(out),
                                 "--language", "de"])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert '<html lang="de" dir="ltr">' in html and "Krebsfrüherkennung auf dem Land" in html
    assert "<style>" in html and 'rel="stylesheet"' not in html  # prints offline
    assert "site-header" not in html.split("</style>")[1]
    bad = runner.invoke(args=["results", "report", CONSULTATION, "-o", str(tmp_path / "r.doc")])
    assert bad.exit_code != 0 and ".html or .pdf" in bad.output
    missing = runner.invoke(args=["results", "report", "nothing", "-o", str(out)])
    assert missing.exit_code != 0 and "No consultation" in missing.output


def test_cli_writes_a_pdf(app, runner, consultation, tmp_path):
    if report.chromium_path(None) is None:
        unavailable("browser", "no Chromium to print the PDF (apt-get install chromium)")
    out = tmp_path / "report.pdf"
    result = runner.invoke(args=["results", "report", CONSULTATION, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
