"""Participation against population benchmarks, on answers given through the web."""

from __future__ import annotations

from bs4 import BeautifulSoup

from app.auth.roles import Role
from app.extensions import db
from app.results import benchmarks
from tests.pages import check_page
from tests.results.test_benchmarks import sdmx
from tests.surveys.factories import open_survey
from tests.surveys.test_views import post, start

SLUG = "cancer-mission-consultation"


def respondent(app, age_band: str, country: str = "AT") -> None:
    """Answer the consultation: skip everything but where they live and their age."""
    client = app.test_client()
    location = start(client, SLUG)
    while "/p/" in location:
        page = BeautifulSoup(client.get(location).data, "html.parser")
        data: dict[str, object] = {"_shown": [i["value"] for i in page.select(
            "input[name=_shown]")]}
        if location.endswith("/demo_about_you"):
            data["age_band"] = age_band
        elif location.endswith("/demo_where_you_live"):
            data["country_of_residence"] = country
        response = post(client, location, data)
        if response.status_code == 200:  # a follow-up appeared: it is now shown, unanswered
            shown = BeautifulSoup(response.data, "html.parser").select("input[name=_shown]")
            response = post(client, location, {**data, "_shown": [i["value"] for i in shown]})
        assert response.status_code == 302, response.data[:1500]
        location = response.location
    from tests.factories import csrf_token

    client.post(f"/en/s/{SLUG}/submit", data={"csrf_token": csrf_token(client, location)})


def test_shares_ratio_flags_and_suppression(app, client, auth, runner, tmp_path):
    open_survey(app, SLUG)
    path = tmp_path / "demo_pjan.csv"
    path.write_text(sdmx({"AT": 2024}))
    with app.app_context():
        benchmarks.store(benchmarks.read_file(path))
        db.session.commit()
    # 12 aged 25-34, 11 aged 35-44, 3 aged 65-74, none older; one more in Portugal.
    for _ in range(12):
        respondent(app, "25_34")
    for _ in range(11):
        respondent(app, "35_44")
    for _ in range(3):
        respondent(app, "65_74")
    respondent(app, "65_74", country="PT")
    auth.login_as(Role.ANALYST)
    soup = check_page(client.get(f"/en/admin/results/{SLUG}/participation?country=AT"))
    table = soup.find("caption", string=lambda s: s and "How old are you?" in s)
    rows = {r.th.text: [td.text.strip() for td in r.select("td")]
            for r in table.find_parent("table").select("tbody tr")}
    assert rows["25 to 34"][0] == "12"
    assert rows["25 to 34"][1].startswith("46.2%")  # 12 of 26
    assert rows["65 to 74"][0] == "< 10" and rows["65 to 74"][1] == "\u2013"
    # 11 is hidden too: with the total of 26 shown it would give the 3 away.
    assert rows["35 to 44"][0] == "< 10"
    assert rows["75 or older"][0] == "0"
    assert rows["75 or older"][-1] == "Yes"  # 0 of 26 against ~30 %: significant
    assert rows["25 to 34"][-1] == "No"
    text = soup.select_one("#var-age_band").find_parent("section").text
    assert "Eurostat" in text and "2024" in text and "R-indicator" in text
    assert "26 respondents" in text
    result = runner.invoke(args=["results", "participation", SLUG, "--country", "at"])
    assert result.exit_code == 0, result.output
    assert "75_plus" in result.output and "UNDER-REPRESENTED" in result.output
    assert "n=<k" in result.output and "n=12" in result.output
