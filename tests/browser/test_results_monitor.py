"""The funnel and the live monitor in a real browser, with axe, at phone and desktop size."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.auth.roles import Role
from app.surveys.models import Channel
from tests.factories import make_user
from tests.results.test_funnel import SLUG, make_survey, respond
from tests.results.test_monitor import load_benchmark

pytestmark = pytest.mark.browser


def test_funnel_and_monitor_pages(visitor, live_server):
    app = live_server.app
    make_survey(app)
    load_benchmark(app)
    now = datetime.now(UTC)
    for days_ago, age, count in ((6, "young", 14), (4, "middle", 11), (2, "young", 6),
                                 (1, "old", 3), (0, "middle", 2)):
        respond(app, age=age, completed=now - timedelta(days=days_ago, hours=1), count=count)
    respond(app, age="old", count=4)
    respond(app, age="young", completed=now, channel=Channel.PAPER, language="de", count=10)
    make_user(app, email="analyst@example.org", roles=[Role.ANALYST])
    page = visitor.page
    visitor.sign_in("analyst@example.org")
    visitor.goto(f"/en/admin/results/{SLUG}/funnel")
    assert "Not answered yet" in page.locator("main").inner_text()
    visitor.goto(f"/en/admin/results/{SLUG}/monitor")
    main = page.locator("main").inner_text()
    assert "Who to reach next" in main and "Statistik Austria" in main
    assert page.locator(".chart svg[role=img]").count() == 1
    page.check("#refresh")
    visitor.submit(page.locator("main form button[type=submit]"))
    assert "refresh=on" in page.url
    visitor.goto(f"/ar/admin/results/{SLUG}/monitor?country=AT&variable=age_band")
    visitor.goto(f"/ar/admin/results/{SLUG}/funnel")
