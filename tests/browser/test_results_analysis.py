"""Weighting, tables and downloads in a real browser, with axe, at phone and desktop size."""

from __future__ import annotations

import pytest

from app.auth.roles import Role
from app.extensions import db
from app.results import benchmarks
from tests.factories import make_user
from tests.results.stored import store_responses
from tests.results.test_weighting_tables import BENCHMARKS, DEFINITION, SLUG, people
from tests.surveys.factories import open_survey

pytestmark = pytest.mark.browser


def test_an_analyst_weights_reads_tables_and_downloads(visitor, live_server):
    app = live_server.app
    open_survey(app, SLUG, DEFINITION)
    with app.app_context():
        benchmarks.store(benchmarks.read_plain(BENCHMARKS))
        db.session.commit()
        store_responses(SLUG, people())
    make_user(app, email="analyst@example.org", roles=[Role.ANALYST])
    page = visitor.page
    visitor.sign_in("analyst@example.org")
    visitor.goto("/en/admin/results/")
    visitor.submit(page.locator(f"#survey-{SLUG} ~ ul a", has_text="Weighting"))
    page.fill("#name", "pt")
    page.check("#variables-0")
    page.check("#variables-1")
    page.fill("#lower", "0.5")
    page.fill("#upper", "2")
    visitor.submit(page.locator("main form[novalidate] button[type=submit]"))
    assert "Converged after" in page.locator("article.card").inner_text()
    visitor.submit(page.locator("article.card a", has_text="Weighted tables"))
    page.check("#by-area")
    visitor.submit(page.locator("form.filters button"))
    section = page.locator("section:has(#q-trust)")
    assert "Mann-Whitney test" in section.inner_text()
    assert section.locator("svg[role=img]").count() == 1
    visitor.goto(f"/ar/admin/results/{SLUG}/tables?scheme=pt&by=area")
    visitor.goto(f"/en/admin/results/{SLUG}/exports")
    page.select_option("#format", "parquet")
    visitor.submit(page.locator("main form button[type=submit]"))
    page.wait_for_selector("main a:has-text('Download')", timeout=20_000)
    visitor.check()
    with page.expect_download() as download:
        page.locator("main a", has_text="Download").first.click()
    assert download.value.suggested_filename == f"{SLUG}-parquet.parquet"
