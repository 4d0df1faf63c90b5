"""Weighting, tables and downloads pages, through the test client on stored responses."""

from __future__ import annotations

import csv
import io
import time

import pyreadstat
import pytest

from app.auth.roles import Role
from app.extensions import db
from app.results import benchmarks, weighting
from app.results.models import ExportJob, ExportStatus
from tests.factories import csrf_token
from tests.pages import check_page
from tests.results.stored import store_responses
from tests.results.test_weighting_tables import BENCHMARKS, DEFINITION, SLUG, people
from tests.surveys.factories import open_survey

BASE = f"/en/admin/results/{SLUG}"


@pytest.fixture
def stored(app):
    open_survey(app, SLUG, DEFINITION)
    with app.app_context():
        benchmarks.store(benchmarks.read_plain(BENCHMARKS))
        store_responses(SLUG, people())


def test_defining_a_scheme_keeps_what_was_typed_and_computes_it(app, client, auth, stored):
    auth.login_as(Role.ANALYST)
    soup = check_page(client.get(f"{BASE}/weighting"))
    assert "No weighting scheme yet" in soup.text
    form = {"csrf_token": csrf_token(client, f"{BASE}/weighting"), "name": "Bad Name",
            "geography": "PT", "variables": ["sex", "area"], "method": "poststratify",
            "lower": "", "upper": "", "tolerance": "0.000001", "max_iterations": "100"}
    soup = check_page(client.post(f"{BASE}/weighting", data=form))
    errors = soup.select_one(".error-summary").text
    assert "lower-case" in errors and "one variable" in errors
    assert soup.select_one("#name")["value"] == "Bad Name"
    assert soup.select_one("#variables-0").has_attr("checked")
    form.update(name="pt-sex-area", method="rake", lower="0.5", upper="2")
    response = client.post(f"{BASE}/weighting", data=form)
    assert response.status_code == 302
    soup = check_page(client.get(response.location))
    card = soup.select_one("article.card")
    assert "pt-sex-area" in card.text and "Converged after" in card.text
    assert "Illustrative test table, 2024" in card.text
    assert "between 0.5 and 2.0 times the mean" in card.text
    with app.app_context():
        scheme = weighting.schemes_of(weighting.surveys.get_survey(SLUG))[0]
        assert scheme.n == 100 and scheme.lower == 0.5
    # Computing again is a button on the card.
    response = client.post(card.form["action"], data={
        "csrf_token": csrf_token(client, f"{BASE}/weighting")})
    assert response.status_code == 302
    assert "computed for 100 respondents" in client.get(response.location).text


def test_tables_page_weighted_and_by_group(app, client, auth, stored):
    with app.app_context():
        survey = weighting.surveys.get_survey(SLUG)
        scheme = weighting.define(survey, weighting.SchemeInput("pt", "PT", ("sex", "area")),
                                  actor="a")
        weighting.compute(survey, scheme, actor="a")
        db.session.commit()
    auth.login_as(Role.ORGANISER)  # organisers read tables (aggregates, small cells hidden)
    soup = check_page(client.get(f"{BASE}/tables?scheme=pt&by=area"))
    assert "Weighted with pt: 100 respondents" in soup.text
    area = soup.select_one("#q-sex").find_parent("section")
    rows = {tr.th.text: [td.text.strip() for td in tr.select("td")]
            for tr in area.select("table")[0].select("tbody tr")}
    assert rows["Female"][0] == "60" and rows["Female"][1] == "60.0%"
    assert rows["Female"][3] == "50.0%"  # raked to the benchmark
    assert area.select_one("svg[role=img]") is not None
    assert "Chi-square test" in area.text and "Holm-adjusted p" in area.text
    colour = soup.select_one("#q-colour").find_parent("section")
    assert "< 10" in colour.text and "Not tested: too many small expected counts" in colour.text
    assert "#q-area" not in str(soup.select("nav.results-contents a"))
    # A scheme that does not exist: said plainly, and the tables come unweighted.
    soup = check_page(client.get(f"{BASE}/tables?scheme=nope&by=age"))
    assert "not available" in soup.select_one("[role=alert]").text
    assert "Weighted with" not in soup.text
    # Weighting and downloads stay with analysts.
    assert client.get(f"{BASE}/weighting").status_code == 403
    assert client.get(f"{BASE}/exports").status_code == 403


def wait_for(app, job_id: int) -> ExportJob:
    for _ in range(200):
        with app.app_context():
            job = db.session.get(ExportJob, job_id)
            if job.status not in (ExportStatus.QUEUED, ExportStatus.RUNNING):
                db.session.expunge(job)
                return job
        time.sleep(0.05)
    raise AssertionError("the export did not finish")


def test_exports_run_in_the_background_and_download(app, client, auth, stored, tmp_path):
    auth.login_as(Role.ANALYST)
    soup = check_page(client.get(f"{BASE}/exports"))
    assert "No file prepared yet" in soup.text
    token = csrf_token(client, f"{BASE}/exports")
    form = {"csrf_token": token, "format": "sav", "language": "en", "scheme": "",
            "version": "1"}
    first = client.post(f"{BASE}/exports", data=form)
    assert first.status_code == 302
    with app.app_context():
        job_id = db.session.query(ExportJob.id).scalar()
    job = wait_for(app, job_id)
    assert job.status == ExportStatus.DONE and job.rows_done == job.rows_total == 100
    progress = client.get(f"{BASE}/exports/{job_id}/progress.json").json
    assert progress == {"status": "done", "rows_done": 100, "rows_total": 100,
                        "text": "100 of 100 rows"}
    soup = check_page(client.get(f"{BASE}/exports"))
    link = soup.select_one(f"#job-{job_id} a")
    assert link.text.startswith("Download")
    assert "Ready: 100 rows" in soup.select_one(f"#job-{job_id}").text
    download = client.get(link["href"])
    assert download.status_code == 200
    path = tmp_path / "export.sav"
    path.write_bytes(download.data)
    frame, meta = pyreadstat.read_sav(str(path))
    assert len(frame) == 100
    assert meta.variable_value_labels["area"] == {1.0: "City", 2.0: "Rural area"}
    assert sorted(frame["area"].value_counts().items()) == [(1.0, 70), (2.0, 30)]
    # The same request again while nothing else runs makes a new file; a CSV reads back.
    form["format"] = "csv"
    client.post(f"{BASE}/exports", data=form)
    with app.app_context():
        csv_id = db.session.query(ExportJob.id).order_by(ExportJob.id.desc()).limit(1).scalar()
    wait_for(app, csv_id)
    body = client.get(f"{BASE}/exports/{csv_id}/download").data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 100 and {r["sex"] for r in rows} == {"1", "2"}
    # Unknown or unfinished jobs are not found; codebooks come straight away.
    assert client.get(f"{BASE}/exports/999/download").status_code == 404
    codebook = client.get(f"{BASE}/codebook.csv")
    assert codebook.status_code == 200 and b"trust" in codebook.data
    assert client.get(f"{BASE}/codebook.pdf").status_code == 404
    auth.logout()
    assert client.get(link["href"]).status_code in (302, 401, 403)


def test_a_failed_export_is_reported(app, client, auth, stored, tmp_path):
    from app.results import export_jobs

    with app.app_context():
        survey = weighting.surveys.get_survey(SLUG)
        job = export_jobs.request_export(survey, survey.versions[0], format_="csv",
                                         language="en", scheme=None, requested_by="a@b")
        db.session.commit()
        missing = tmp_path / "not-there"
        done = export_jobs.run(job.id, folder=missing, secret="s")
        assert done.status == ExportStatus.FAILED and "not-there" in done.error
        with pytest.raises(ValueError, match="not waiting"):
            export_jobs.run(job.id, folder=tmp_path, secret="s")


def test_the_results_index_leads_each_role_to_its_pages(app, client, auth, stored):
    auth.login_as(Role.ORGANISER)
    soup = check_page(client.get("/en/admin/results/"))
    card = soup.select_one(f"#survey-{SLUG}").find_parent("article")
    links = {a.text: a["href"] for a in card.select("a")}
    assert links["Tables and group comparisons"] == f"{BASE}/tables"
    assert "Weighting" not in links and "Downloads and codebook" not in links
    assert "100 completed" in card.text
    auth.logout()
    auth.login_as(Role.ANALYST, email="analyst@example.org")
    soup = check_page(client.get("/en/admin/results/"))
    links = {a.text for a in soup.select(f"#survey-{SLUG} ~ ul a")}
    assert {"Weighting", "Downloads and codebook", "Import responses from CSV"} <= links
    for href in [a["href"] for a in soup.select(f"#survey-{SLUG} ~ ul a")]:
        assert client.get(href).status_code == 200, href
    auth.logout()
    assert client.get("/en/admin/results/").status_code == 302


def test_an_export_cut_off_by_a_restart_is_shown_as_failed(app, client, auth, stored):
    from datetime import timedelta

    from app.results import export_jobs
    from app.timeutil import utcnow

    with app.app_context():
        survey = weighting.surveys.get_survey(SLUG)
        job = export_jobs.request_export(survey, survey.versions[0], format_="csv",
                                         language="en", scheme=None, requested_by="a@b")
        job.status = ExportStatus.RUNNING
        job.heartbeat_at = utcnow() - timedelta(minutes=3)
        db.session.commit()
        assert export_jobs.mark_interrupted(survey) == 0  # still moving recently
        job.heartbeat_at = utcnow() - export_jobs.STALLED_AFTER - timedelta(seconds=1)
        db.session.commit()
        job_id = job.id
    auth.login_as(Role.ANALYST)
    soup = check_page(client.get(f"{BASE}/exports"))
    row = soup.select_one(f"#job-{job_id}").text
    assert "Failed" in row and "Please ask for it again" in row
    assert soup.select_one("progress") is None
