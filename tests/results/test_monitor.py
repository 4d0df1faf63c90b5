"""The live monitor: completions per group over time, against the population."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from app.auth.roles import Role
from app.extensions import db
from app.results import benchmarks, monitor
from app.surveys.models import Channel
from app.surveys.services import get_survey
from tests.pages import check_page, text_of
from tests.results.test_funnel import SLUG, make_survey, respond

DAY1 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)
DAY3 = DAY1 + timedelta(days=2)
LATER = datetime(2025, 3, 6, 18, 0, tzinfo=UTC)


def load_benchmark(app, country: str = "AT") -> None:
    with app.app_context():
        benchmarks.store([
            benchmarks.Row("age_band", "young", country, 2024, "Statistik Austria", share=0.4),
            benchmarks.Row("age_band", "middle", country, 2024, "Statistik Austria", share=0.3),
            benchmarks.Row("age_band", "old", country, 2024, "Statistik Austria", share=0.3),
        ])
        db.session.commit()


def crafted(app) -> None:
    """In Austria: 30 young (20 on day 1, 10 on day 3), 12 middle (day 2), 3 old (day 3),
    2 who prefer not to say; plus people who must not count."""
    make_survey(app)
    load_benchmark(app)
    respond(app, age="young", completed=DAY1, count=20)
    respond(app, age="young", completed=DAY3, count=10)
    respond(app, age="middle", completed=DAY2, count=12)
    respond(app, age="old", completed=DAY3, count=3)
    respond(app, age="_prefer_not_to_say", completed=DAY2, count=2)
    respond(app, age="old", completed=DAY2, country="DE", count=5)  # lives elsewhere
    respond(app, age="old", completed=DAY2, channel=Channel.PREVIEW, count=5)
    respond(app, age="old", completed=DAY2, refuse_research=True, count=2)  # withdrew
    respond(app, age="old", count=4)  # not finished


def build(app, k: int) -> monitor.Monitor:
    with app.app_context():
        return monitor.build(get_survey(SLUG), "AT", "age_band", "en", k, now=LATER)


def test_needed_more_formula():
    # p x N - c, rounded up, never below zero.
    assert monitor.needed_more(0.3, 45, 12) == 2  # 13.5 - 12
    assert monitor.needed_more(0.3, 45, 3) == 11  # 13.5 - 3 = 10.5
    assert monitor.needed_more(0.4, 45, 30) == 0
    assert monitor.needed_more(0.2, 50, 7) == 3  # exactly 10 - 7, no float creep


def test_outreach_by_hand_with_nothing_hidden(app):
    crafted(app)
    result = build(app, k=1)
    assert result.total == 45 and result.outside == 2
    assert (result.source, result.year) == ("Statistik Austria", 2024)
    lines = {line.category: line for line in result.outreach}
    assert [line.category for line in result.outreach] == ["old", "middle", "young"]
    assert lines["old"].count == 3 and lines["old"].target == pytest.approx(13.5)
    assert lines["old"].ratio == pytest.approx((3 / 45) / 0.3)
    assert lines["old"].needed == 11 and lines["old"].under_represented
    assert lines["middle"].needed == 2 and not lines["middle"].under_represented
    assert lines["young"].needed == 0 and lines["young"].ratio == pytest.approx(30 / 45 / 0.4)
    assert result.targets == pytest.approx({"young": 18.0, "middle": 13.5, "old": 13.5})
    days = {d.day: d.counts for d in result.days}
    # Cumulative per day in the order young, middle, old, up to today (the survey is open).
    assert days[date(2025, 3, 3)] == [20, 0, 0]
    assert days[date(2025, 3, 4)] == [20, 12, 0]
    assert days[date(2025, 3, 5)] == [30, 12, 3]
    assert max(days) == date(2025, 3, 6)


def test_small_groups_hidden_but_still_on_the_outreach_list(app):
    crafted(app)
    result = build(app, k=10)
    assert result.total == 45
    lines = {line.category: line for line in result.outreach}
    # 3 old is small; with the total shown, 12 middle is hidden too (45 - 30 - 12 = 3).
    assert lines["old"].count is None and lines["old"].hidden == monitor.SMALL
    assert lines["middle"].count is None and lines["middle"].hidden == monitor.PROTECTING
    assert lines["young"].count == 30
    # Bounds from shown numbers only: old has 1..9, so at least ceil(13.5 - 9) = 5 more;
    # middle has 45 - 30 - 9 = 6 at least and 45 - 30 - 1 = 14 at most, so maybe none.
    assert lines["old"].needed_at_least == 5 and lines["old"].needed is None
    assert lines["middle"].needed_at_least == 0
    assert lines["old"].ratio is None and lines["old"].share is None
    assert lines["old"].under_represented  # the flag still shows
    assert [line.category for line in result.outreach] == ["old", "middle", "young"]
    days = {d.day: d.counts for d in result.days}
    # Middle and old are hidden now, so also on days within 10 of their current count.
    assert days[date(2025, 3, 3)] == [20, 0, None]
    assert days[date(2025, 3, 4)] == [20, None, None]
    assert days[date(2025, 3, 6)] == [30, None, None]


def test_the_survey_must_ask_and_the_country_must_have_a_benchmark(app):
    crafted(app)
    with app.app_context(), pytest.raises(monitor.MonitorError):
        monitor.build(get_survey(SLUG), "PT", "age_band", "en", 10)
    with app.app_context(), pytest.raises(monitor.MonitorError):
        monitor.build(get_survey(SLUG), "AT", "gender", "en", 10)


def test_cli(app, runner):
    crafted(app)
    result = runner.invoke(args=["results", "monitor", SLUG, "--country", "at", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["total"] == 45 and data["k"] == 10
    assert [line["category"] for line in data["outreach"]] == ["old", "middle", "young"]
    assert data["outreach"][0]["count"] is None and data["outreach"][0]["needed_at_least"] == 5
    text = runner.invoke(args=["results", "monitor", SLUG, "--country", "AT"])
    assert text.exit_code == 0, text.output
    assert "old" in text.output and "n=<k" in text.output and "more_needed=>=5" in text.output
    assert "UNDER-REPRESENTED" in text.output
    bad = runner.invoke(args=["results", "monitor", SLUG, "--country", "PT"])
    assert bad.exit_code != 0 and "load-benchmarks" in bad.output


def test_page_content_and_permissions(app, client, auth):
    crafted(app)
    url = f"/en/admin/results/{SLUG}/monitor?country=AT&variable=age_band"
    assert client.get(url).status_code == 302
    auth.login_as(Role.TRANSLATOR)
    assert client.get(url).status_code == 403
    auth.logout()
    auth.login_as(Role.ANALYST)
    response = client.get(url)
    soup = check_page(response)
    assert "Refresh" not in response.headers  # only when asked for
    text = text_of(soup)
    assert "Statistik Austria, 2024" in text
    assert "Groups with fewer than 10 people are not shown" in text
    assert "Figures computed at" in text
    items = [li.get_text(" ", strip=True) for li in soup.select("#outreach ~ ol li")]
    assert items[0].startswith("65 or older") and "Fewer than 10 completed" in items[0]
    assert "At least 5 more needed" in items[0] and "Under-represented" in items[0]
    assert items[2].startswith("Under 40") and "30 completed (66.7%)" in items[2]
    assert soup.select_one(".chart svg[role=img]") is not None
    table = soup.find("caption", string=lambda s: s and "per day" in s).find_parent("table")
    header = [th.get_text(strip=True) for th in table.select("thead th")]
    assert header == ["Day", "Under 40", "40 to 64", "65 or older"]
    assert soup.find("a", string="Refresh")["href"].endswith("country=AT&variable=age_band")
    auth.logout()
    auth.login_as(Role.ORGANISER)
    arabic = check_page(client.get(url.replace("/en/", "/ar/")), lang="ar")
    assert arabic.find("html")["dir"] == "rtl"


def test_empty_states_and_bad_choices(app, client, auth):
    make_survey(app)
    auth.login_as(Role.ANALYST)
    base = f"/en/admin/results/{SLUG}/monitor"
    text = text_of(check_page(client.get(base)))
    assert "flask results load-benchmarks" in text
    load_benchmark(app)
    text = text_of(check_page(client.get(base)))
    assert "No completed responses from people living in Austria yet" in text
    soup = check_page(client.get(base + "?country=ZZ&variable=shoe_size"), status=400)
    assert "There is no population benchmark for this country yet" in text_of(soup)
    assert "This survey does not ask about that group" in text_of(soup)
    text = text_of(check_page(client.get(base + "?country=AT&variable=age_band")))
    assert "No completed responses" in text
    respond(app, age="young", completed=datetime.now(UTC), count=4)
    response = client.get(base + "?country=AT&variable=age_band&refresh=on")
    assert "Fewer than 10 completed responses" in text_of(check_page(response))
    assert response.headers["Refresh"] == "300"  # the survey is open and it was asked for
