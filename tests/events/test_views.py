"""Events end to end with the test client: register, select, invite, answer, check in."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime
from pathlib import Path

import icalendar
from sqlalchemy import func, select

from app.auth.roles import Role
from app.consent.models import ConsentChannel, ConsentRecord
from app.events import services
from app.events.models import (
    ChoiceStatus,
    PanelSelection,
    Registration,
    SessionChoice,
    SessionMode,
)
from app.extensions import db
from tests.events.factories import SLUG, open_event, register, registration_ids
from tests.factories import csrf_token
from tests.pages import check_page

BASE = f"/en/e/{SLUG}"


def outbox(app) -> list[email.message.EmailMessage]:
    folder = Path(app.instance_path) / "outbox"
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
            for p in sorted(folder.glob("*.eml"))] if folder.is_dir() else []


def clear_outbox(app) -> None:
    for path in (Path(app.instance_path) / "outbox").glob("*.eml"):
        path.unlink()


def status_of(app, registration_id: int, session_id: int) -> ChoiceStatus:
    with app.app_context():
        return db.session.scalar(select(SessionChoice.status).where(
            SessionChoice.registration_id == registration_id,
            SessionChoice.session_id == session_id))


def test_listing_and_event_page_show_times_in_the_session_zone(app, client):
    sessions = open_event(app)
    soup = check_page(client.get("/en/e/"))
    assert soup.select_one(".cards a")["href"] == f"{BASE}/"
    soup = check_page(client.get(f"{BASE}/"))
    facts = soup.select(".session-facts")
    # Lisbon 10:00 local on 27 March 2027 is still winter time (WET, UTC+0).
    assert "Saturday, March 27, 2027, 10:00" in facts[0].text
    assert "Western European" in facts[0].text
    # With the visitor's zone known (set by a small script), both times are shown.
    client.set_cookie("tz", "Asia/Tokyo")
    soup = check_page(client.get(f"{BASE}/"))
    assert "Your time:" in soup.select(".session-facts")[0].text
    assert "7:00" in soup.select(".session-facts")[0].text  # 19:00 in Tokyo
    assert check_page(client.get(f"/de/e/{SLUG}/")).h1.text == \
        "Bürgerrat zur Krebsfrüherkennung"
    ics = client.get(f"{BASE}/sessions/{sessions['vienna']}.ics")
    calendar = icalendar.Calendar.from_ical(ics.data)
    event = calendar.walk("VEVENT")[0]
    assert str(event["DTSTART"].dt.tzinfo) == "Europe/Vienna"
    assert event["DTSTART"].dt.hour == 10


def test_register_through_the_survey_then_change_and_cancel(app, client):
    sessions = open_event(app)
    clear_outbox(app)
    soup = check_page(client.get(f"{BASE}/register"))
    assert soup.select_one("form[action$='/register/start']")
    client.post(f"{BASE}/register/start", data={"csrf_token": csrf_token(client)})
    from tests.events.factories import answer_registration_survey

    answer_registration_survey(client, {"full_name": "Ana Silva",
                                        "email": "ana@example.org"})
    thanks = check_page(client.get("/en/s/event-registration/thanks"))
    assert thanks.select_one("a.button")["href"] == f"{BASE}/register"
    # Choosing no session is refused in place.
    response = client.post(f"{BASE}/register", data={"csrf_token": csrf_token(client)})
    assert check_page(response, status=400).select_one(".error-summary a")["href"] == \
        "#sessions"
    response = client.post(f"{BASE}/register", data={
        "csrf_token": csrf_token(client), "session": [str(sessions["lisbon"])]})
    private = response.location
    soup = check_page(client.get(private))
    assert "Keep this page" in soup.text  # the link is shown once
    assert "Registered, waiting for the selection" in soup.text
    assert "Keep this page" not in check_page(client.get(private)).text
    mails = outbox(app)
    assert [m["To"] for m in mails] == ["ana@example.org"]
    assert private in mails[0].get_body().get_content()
    # Change the sessions, then cancel everything.
    client.post(f"{BASE}/register", data={"csrf_token": csrf_token(client), "session": [
        str(sessions["lisbon"]), str(sessions["vienna"])]})
    [registration_id] = registration_ids(app)
    assert status_of(app, registration_id, sessions["vienna"]) == ChoiceStatus.REGISTERED
    client.post(private, data={"csrf_token": csrf_token(client), "action": "cancel"})
    assert status_of(app, registration_id, sessions["lisbon"]) == ChoiceStatus.CANCELLED
    assert "You cancelled this registration." in check_page(client.get(private)).text
    assert client.get(f"{BASE}/r/NOT-A-CODE").status_code == 404


def seed_registrants(app, count: int, session_id: int) -> list[int]:
    """Registrants with answers to the registration survey, made through the web."""
    ids = []
    for index in range(count):
        browser = app.test_client()
        register(browser, [session_id], {
            "full_name": f"Person {index}", "email": f"p{index}@example.org",
            "age_band": "65_74" if index % 3 == 0 else "25_34",
            "gender": "woman" if index % 2 else "man"})
        ids.append(registration_ids(app)[-1])
    return ids


def test_organiser_selects_invites_and_people_answer_and_check_in(app, client, auth):
    sessions = open_event(app)
    lisbon = sessions["lisbon"]
    people = seed_registrants(app, 9, lisbon)
    clear_outbox(app)
    auth.login_as(Role.ORGANISER)
    page = f"/en/admin/events/{SLUG}/sessions/{lisbon}/selection"
    soup = check_page(client.get(page))
    assert soup.select_one("#min-age_band-65_74")  # quota inputs per answer
    token = csrf_token(client, page)
    # Conflicting quotas: the page names them and the nearest ones that work.
    response = client.post(page, data={"csrf_token": token, "panel_size": "4",
                                       "min.age_band.65_74": "4", "max.gender.man": "0",
                                       "action": "preview"})
    soup = check_page(response)
    assert "No panel can meet these quotas" in soup.select_one(".notice-error").text
    # LEXIMIN: at least one 65-74 year old among four; everyone's chance shown.
    quotas = {"csrf_token": token, "panel_size": "4", "min.age_band.65_74": "1",
              "max.age_band.65_74": "2", "algorithm": "leximin"}
    soup = check_page(client.post(page, data={**quotas, "action": "preview"}))
    assert "Lowest chance of selection: 0.444" in soup.text  # 4/9: everyone equal
    response = client.post(page, data={**quotas, "action": "draw", "seed": "x"})
    assert "seed" in check_page(response, status=400).select_one(".error-summary").text
    client.post(page, data={**quotas, "action": "draw", "seed": "2030"})
    with app.app_context():
        selected = db.session.scalar(select(PanelSelection))
        assert (selected.seed, len(selected.panel)) == (2030, 4)
        assert abs(sum(selected.probabilities.values()) - 4) < 1e-6
        statuses = dict(db.session.execute(select(
            SessionChoice.registration_id, SessionChoice.status)).all())
    panel = selected.panel
    assert sorted(r for r, s in statuses.items() if s == ChoiceStatus.SELECTED) == panel
    assert sum(s == ChoiceStatus.WAITLISTED for s in statuses.values()) == 5

    # Invitations, with calendar file and QR ticket, in the registrant's language.
    client.post(f"/en/admin/events/{SLUG}/sessions/{lisbon}/messages",
                data={"csrf_token": token, "action": "invite"})
    mails = outbox(app)
    assert len(mails) == 4
    message = mails[0]
    names = [part.get_filename() for part in message.iter_attachments()]
    assert names == ["session.ics", "check-in.png"]
    ics = next(p for p in message.iter_attachments() if p.get_filename() == "session.ics")
    vevent = icalendar.Calendar.from_ical(ics.get_content()).walk("VEVENT")[0]
    assert vevent["DTSTART"].dt == datetime(2027, 3, 27, 10, 0,
                                            tzinfo=vevent["DTSTART"].dt.tzinfo)
    body = message.get_body().get_content()
    ticket = next(line for line in body.splitlines() if "/ticket/" in line).strip()
    ticket_path = ticket.split("localhost", 1)[1]
    soup = check_page(client.get(ticket_path))
    assert "Invited, please answer" in soup.text
    # The person says no; a replacement from the waiting list keeps the quotas.
    answer = client.post(ticket_path, data={"csrf_token": csrf_token(client, ticket_path),
                                            "action": "no"})
    assert answer.status_code == 302
    client.post(f"/en/admin/events/{SLUG}/sessions/{lisbon}/messages",
                data={"csrf_token": token, "action": "replace"})
    with app.app_context():
        statuses = dict(db.session.execute(select(
            SessionChoice.registration_id, SessionChoice.status)).all())
    assert sum(s == ChoiceStatus.DECLINED for s in statuses.values()) == 1
    assert sum(s == ChoiceStatus.SELECTED for s in statuses.values()) == 1

    # Another invitee says yes, and staff scan their ticket at the door.
    other = mails[1].get_body().get_content()
    other_ticket = next(line for line in other.splitlines() if "/ticket/" in line).strip()
    other_path = other_ticket.split("localhost", 1)[1]
    client.post(other_path, data={"csrf_token": token, "action": "yes"})
    soup = check_page(client.get(other_path))
    assert soup.select_one(".qr svg")
    scan_path = "/en/admin/events/scan/" + other_path.rsplit("/", 1)[-1]
    soup = check_page(client.get(scan_path))
    assert soup.select_one(".lead").text.startswith("Person ")
    client.post(scan_path, data={"csrf_token": token})
    client.post(scan_path, data={"csrf_token": token})  # scanned twice: once counted
    soup = check_page(client.get(f"/en/admin/events/{SLUG}/sessions/{lisbon}/check-in"))
    assert "1 arrived." in soup.text
    assert people  # everyone registered through the web


def test_check_in_by_name_and_walk_in_with_paper_consent(app, client, auth):
    sessions = open_event(app)
    vienna = sessions["vienna"]
    browser = app.test_client()
    register(browser, [vienna], {"full_name": "Jana Novak", "email": "jana@example.org"})
    with app.app_context():
        choice = db.session.scalar(select(SessionChoice))
        choice.status = ChoiceStatus.CONFIRMED
        choice_id = choice.id
        db.session.commit()
    auth.login_as(Role.ORGANISER)
    page = f"/en/admin/events/{SLUG}/sessions/{vienna}/check-in"
    soup = check_page(client.get(page + "?q=nov"))
    assert [n.text for n in soup.select(".check-in-name")] == ["Jana Novak"]
    assert check_page(client.get(page + "?q=smith")).select(".check-in-name") == []
    token = csrf_token(client, page)
    client.post(page, data={"csrf_token": token, "choice": str(choice_id), "q": "nov"})
    assert "Checked in" in check_page(client.get(page)).select_one(".check-in-row").text
    # A walk-in must have signed the form; what was typed is kept on error.
    response = client.post(page, data={"csrf_token": token, "walkin-name": "Omar Haddad",
                                       "walkin-language": "ar"})
    soup = check_page(response, status=400)
    assert soup.select_one("#walkin-name")["value"] == "Omar Haddad"
    client.post(page, data={"csrf_token": token, "walkin-name": "Omar Haddad",
                            "walkin-language": "ar", "walkin-signed": "y"})
    with app.app_context():
        walk_in = db.session.scalar(select(Registration).where(
            Registration.channel == "walk_in"))
        record = db.session.scalar(select(ConsentRecord).where(
            ConsentRecord.participant_id == walk_in.participant_id))
        assert record.channel == ConsentChannel.EVENT and "contact" not in record.granted
        assert walk_in.choices[0].checked_in_at is not None
    assert "2 arrived." in check_page(client.get(page)).text


def test_overview_per_country_and_by_group_with_suppression(app, client, auth):
    sessions = open_event(app)
    seed_registrants(app, 12, sessions["vienna"])
    auth.login_as(Role.ANALYST)
    soup = check_page(client.get(f"/en/admin/events/{SLUG}/overview"))
    rows = {r.th.text: [td.text for td in r.select("td")]
            for r in soup.select("#countries-caption ~ tbody tr")}
    assert rows["Austria"][:3] == ["1", "10", "12"]
    assert rows["Portugal"][:3] == ["1", "4", "0"]
    ages = soup.find("caption", string="How old are you?").find_parent("table")
    cells = {r.th.text: [td.text.strip() for td in r.select("td")]
             for r in ages.select("tbody tr")}
    # 4 aged 65-74 and 8 aged 25-34: both under 10, both hidden.
    assert cells["65 to 74"][0] == "\u2013" and cells["25 to 34"][0] == "\u2013"


def test_only_organisers_of_the_hub_manage_events(app, client, auth):
    open_event(app)
    for path in ("/en/admin/events/", f"/en/admin/events/{SLUG}"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.location
    auth.login_as(Role.MODERATOR)
    assert client.get(f"/en/admin/events/{SLUG}").status_code == 403
    auth.logout()
    from tests.consultations.test_manage import login_for_hub
    from tests.factories import make_hub

    make_hub(app, "se", "SE")
    login_for_hub(app, auth, Role.ORGANISER, "se")
    assert client.get(f"/en/admin/events/{SLUG}").status_code == 403


def test_organiser_creates_an_event_and_sessions_across_a_time_change(app, client, auth):
    from tests.factories import make_hub

    hub_id = make_hub(app)
    auth.login_as(Role.ORGANISER)
    page = "/en/admin/events/new"
    token = csrf_token(client, page)
    response = client.post(page, data={
        "csrf_token": token, "slug": "panel", "hub": str(hub_id), "default_language": "en",
        "registration_opens": "2027-02-10", "registration_closes": "2027-02-01",
        "title_de": "Rat"})
    summary = check_page(response, status=400).select_one(".error-summary").text
    assert "main language" in summary and "close after it opens" in summary
    response = client.post(page, data={
        "csrf_token": token, "slug": "panel", "hub": str(hub_id), "default_language": "en",
        "title_en": "Panel", "accessibility": ["step_free", "childcare"]})
    assert response.location == "/en/admin/events/panel"
    session_page = "/en/admin/events/panel/sessions/new"
    check_page(client.get(session_page))
    data = {"csrf_token": token, "country": "AT", "mode": "in_person", "venue": "Rathaus",
            "timezone": "Europe/Vienna", "local_start": "2027-03-28T02:30",
            "local_end": "2027-03-28T05:00", "capacity": "20", "languages": ["de"]}
    response = client.post(session_page, data=data)
    soup = check_page(response, status=400)
    assert "clocks go forward" in soup.select_one(".error-summary").text
    assert soup.select_one("#venue")["value"] == "Rathaus"
    data["local_start"] = "2027-03-28T01:30"  # 01:30 CET, then the clocks jump to 03:00
    assert client.post(session_page, data=data).status_code == 302
    with app.app_context():
        session = services.get_by_slug("panel").sessions[0]
        assert session.mode == SessionMode.IN_PERSON
        assert (session.ends_at - session.starts_at).total_seconds() == 2.5 * 3600
        assert session.starts_at.hour == 0  # 01:30 CET is 00:30 UTC
        count = db.session.scalar(select(func.count()).select_from(Registration))
        assert count == 0


def test_erasure_removes_registrations(app, client):
    sessions = open_event(app)
    register(client, [sessions["lisbon"]], {"full_name": "Ana", "email": "a@example.org"})
    client.post("/en/my-data/erase", data={"csrf_token": csrf_token(client, "/en/my-data/")})
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Registration)) == 0
        assert db.session.scalar(select(func.count()).select_from(SessionChoice)) == 0


def test_outbox_shows_messages_and_attachments_to_organisers(app, client, auth):
    sessions = open_event(app)
    clear_outbox(app)
    browser = app.test_client()
    register(browser, [sessions["vienna"]], {"full_name": "Lea", "email": "lea@example.org"},
             language="de")
    with app.app_context():
        choice = db.session.scalar(select(SessionChoice))
        choice.status = ChoiceStatus.SELECTED
        db.session.commit()
    auth.login_as(Role.ORGANISER)
    token = csrf_token(client, "/en/admin/")
    client.post(f"/en/admin/events/{SLUG}/sessions/{sessions['vienna']}/messages",
                data={"csrf_token": token, "action": "invite"})
    soup = check_page(client.get("/en/admin/outbox/"))
    subjects = [a.text for a in soup.select("tbody a")]
    # Both messages are in German, the language Lea registered in.
    assert subjects == ["Sie sind eingeladen: Bürgerrat zur Krebsfrüherkennung",
                        "Sie sind angemeldet: Bürgerrat zur Krebsfrüherkennung"]  # newest first
    soup = check_page(client.get(soup.select_one("tbody a")["href"]))
    link = soup.find("a", string="session.ics")["href"]
    calendar = icalendar.Calendar.from_ical(client.get(link).data)
    assert calendar.walk("VEVENT")[0]["DTSTART"].params["TZID"] == "Europe/Vienna"
    auth.logout()
    auth.login_as(Role.ANALYST)
    assert client.get("/en/admin/outbox/").status_code == 403


def test_a_consultation_lists_its_published_events(app, client):
    from tests.consultations.factories import open_consultation

    consultation_id = open_consultation(app)
    open_event(app)
    assert "Citizens' panel" not in check_page(client.get("/en/c/rural-screening/")).text
    with app.app_context():
        services.get_by_slug(SLUG).consultation_id = consultation_id
        db.session.commit()
    soup = check_page(client.get("/en/c/rural-screening/"))
    assert soup.find("a", href=f"{BASE}/").text == "Citizens' panel on cancer screening"


def test_overview_is_for_the_hub_s_organisers_and_analysts(app, client, auth):
    from tests.consultations.test_manage import login_for_hub
    from tests.factories import make_hub

    open_event(app)
    make_hub(app, "se", "SE")
    login_for_hub(app, auth, Role.ANALYST, "se")
    assert client.get(f"/en/admin/events/{SLUG}/overview").status_code == 403
    auth.logout()
    login_for_hub(app, auth, Role.ANALYST, "pt")
    check_page(client.get(f"/en/admin/events/{SLUG}/overview"))
