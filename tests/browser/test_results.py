"""The participation page in a real browser, with axe, at phone and desktop size."""

from __future__ import annotations

import pytest

from app.auth.roles import Role
from app.extensions import db
from app.results import benchmarks
from tests.factories import make_user
from tests.results.test_benchmarks import sdmx
from tests.results.test_participation import SLUG, respondent
from tests.surveys.factories import open_survey

pytestmark = pytest.mark.browser


def test_participation_page(visitor, live_server, tmp_path):
    app = live_server.app
    open_survey(app, SLUG)
    path = tmp_path / "demo_pjan.csv"
    path.write_text(sdmx({"AT": 2024}))
    with app.app_context():
        benchmarks.store(benchmarks.read_file(path))
        db.session.commit()
    for band in ["25_34"] * 12 + ["65_74"] * 11:
        respondent(app, band)
    make_user(app, email="analyst@example.org", roles=[Role.ANALYST])
    page = visitor.page
    visitor.sign_in("analyst@example.org")
    visitor.goto(f"/en/admin/results/{SLUG}/participation")
    assert "Share (95% interval)" in page.locator("main").inner_text()
    visitor.goto(f"/ar/admin/results/{SLUG}/participation?country=AT")
