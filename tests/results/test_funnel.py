"""The participation funnel on crafted responses with hand-counted stages."""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import UTC, datetime

import pytest

from app.auth.roles import Role
from app.consent import services as consent
from app.consent.models import ConsentChannel, ConsentRecord
from app.extensions import db
from app.participants.models import Participant
from app.results import funnel
from app.surveys.models import (
    Answer,
    Channel,
    Invitation,
    InvitationStatus,
    Response,
    ResponseStatus,
)
from app.surveys.services import get_survey, latest_version
from tests.pages import check_page, text_of
from tests.surveys.factories import open_survey

SLUG = "funnel-survey"
DEFINITION = """\
id: funnel-survey
kind: survey
version: 1
default_language: en
languages: [en, de]
title: {en: Screening in your region, de: Früherkennung in Ihrer Region}
consent_document: echos-participation
consent_purposes: [participation, research]
settings:
  mode: invited
pages:
  - id: about
    title: {en: About you, de: Über Sie}
    questions:
      - id: age_band
        type: single_choice
        label: {en: How old are you?, de: Wie alt sind Sie?}
        choices:
          - {value: young, label: {en: Under 40, de: Unter 40}}
          - {value: middle, label: {en: 40 to 64, de: 40 bis 64}}
          - {value: old, label: {en: 65 or older, de: 65 oder älter}}
        prefer_not_to_say: true
      - id: country_of_residence
        type: country
        label: {en: Where do you live?, de: Wo leben Sie?}
"""
NOON = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)


def make_survey(app, text: str = DEFINITION) -> None:
    open_survey(app, SLUG, text)


def respond(app, *, channel: Channel = Channel.WEB, language: str = "en",
            consented: bool = True, completed: datetime | None = None,
            age: str | None = None, country: str | None = "AT",
            refuse_research: bool = False, count: int = 1) -> None:
    """`count` responses of one kind: consent record, group answers, completion."""
    with app.app_context():
        survey = get_survey(SLUG)
        version = latest_version(survey)
        consent_version = consent.latest_version(consent.get_document("echos-participation"))
        for _ in range(count):
            person = Participant()
            response = Response(
                version=version, participant=person, channel=channel, language=language,
                languages=[language], resume_code_hash=secrets.token_hex(32),
                started_at=(completed or NOON))
            db.session.add_all([person, response])
            db.session.flush()
            if consented:
                refused = ["research"] if refuse_research else []
                db.session.add(ConsentRecord(
                    receipt_id=str(uuid.uuid4()), participant_id=person.id,
                    version_id=consent_version.id, language=language,
                    shown_text_hash="0" * 64,
                    granted=[p for p in ("participation", "research") if p not in refused],
                    refused=refused, channel=ConsentChannel.WEB, actor="participant"))
            if age is not None:
                db.session.add(Answer(response_id=response.id, question="age_band",
                                      value_text=age))
                if country is not None:
                    db.session.add(Answer(response_id=response.id,
                                          question="country_of_residence",
                                          value_text=country))
            if completed is not None:
                response.status = ResponseStatus.COMPLETE
                response.completed_at = completed
        db.session.commit()


def crafted(app) -> None:
    """19 counted responses (hand counts in the tests), 4 previews, 1 withdrawn."""
    make_survey(app)
    respond(app, age="young", completed=NOON, count=5)  # web, en
    respond(app, age="old", completed=NOON, language="de", count=4)  # web, de
    respond(app, age="old", count=2)  # consented, answered, not finished
    respond(app, consented=False)  # started, never consented
    respond(app, count=3)  # consented, stopped before the age question
    respond(app, age="young", completed=NOON, channel=Channel.PAPER, language="de", count=3)
    respond(app, age="young", completed=NOON, channel=Channel.PREVIEW, count=4)
    respond(app, age="old", completed=NOON, refuse_research=True)  # withdrew from analysis
    with app.app_context():
        survey = get_survey(SLUG)
        for status in [InvitationStatus.UNUSED] * 20 + [InvitationStatus.REVOKED] * 2:
            db.session.add(Invitation(survey_id=survey.id, token_hash=secrets.token_hex(32),
                                      status=status))
        db.session.commit()


def build(app, k: int, language: str = "en") -> funnel.Funnel:
    with app.app_context():
        return funnel.build(get_survey(SLUG), language, k)


def stages(row: funnel.FunnelRow) -> tuple:
    return row.started, row.consented, row.completed


def test_counts_per_stage_channel_language_and_group(app):
    crafted(app)
    result = build(app, k=1)  # nothing hidden: every number is checked by hand
    assert result.has_consent and result.invited_applies
    assert result.invited == 20  # revoked invitations are not counted
    # 5 + 4 + 2 + 1 + 3 web, 3 paper, 1 withdrawn web; the 4 previews never count.
    assert stages(result.overall) == (19, 18, 13)
    assert result.start_rate == pytest.approx(19 / 20)
    assert result.overall.consent_rate == pytest.approx(18 / 19)
    assert result.overall.completion_rate == pytest.approx(13 / 18)
    channel = {row.key: stages(row) for row in result.table("channel").rows}
    assert channel == {"web": (16, 15, 10), "paper": (3, 3, 3), "event": (0, 0, 0)}
    language = {row.key: stages(row) for row in result.table("language").rows}
    assert language == {"en": (12, 11, 6), "de": (7, 7, 7)}
    ages = result.table("age_band")
    assert ages.groups
    rows = {row.key: (row.label, *stages(row)) for row in ages.rows}
    # The withdrawn person is left out; the 4 who stopped before the question are there.
    assert rows == {
        "young": ("Under 40", 8, 8, 8),
        "middle": ("40 to 64", 0, 0, 0),
        "old": ("65 or older", 6, 6, 4),
        "_prefer_not_to_say": ("Prefer not to say", 0, 0, 0),
        funnel.NOT_ANSWERED: ("not answered yet", 4, 3, 0),
    }
    assert stages(ages.total) == (18, 17, 12)
    assert ages.rows[2].completion_rate == pytest.approx(4 / 6)


def test_no_consent_document_and_open_mode(app):
    text = DEFINITION.replace("consent_document: echos-participation\n", "").replace(
        "consent_purposes: [participation, research]\n", "").replace(
        "settings:\n  mode: invited\n", "")
    make_survey(app, text)
    respond(app, age="young", completed=NOON, consented=False, count=2)
    respond(app, age="old", consented=False)
    result = build(app, k=1)
    assert not result.has_consent and not result.invited_applies and result.invited is None
    assert stages(result.overall) == (3, None, 2)
    assert result.overall.completion_rate == pytest.approx(2 / 3)


def _safe(values: list[int | None], total: int | None) -> bool:
    """A line is safe when no hidden value equals the total minus the shown ones."""
    hidden = [v for v in [*values, total] if v is None]
    return len(hidden) != 1


def test_small_cells_and_totals_that_would_reveal_them_are_hidden(app):
    make_survey(app)
    respond(app, age="young", completed=NOON, count=12)
    respond(app, age="old", completed=NOON, channel=Channel.PAPER, count=2)
    result = build(app, k=10)
    channel = {row.key: row for row in result.table("channel").rows}
    assert channel["paper"].completed is None and channel["paper"].started is None
    # 12 online and a total of 14 would give the 2 on paper away: one of them is hidden.
    assert channel["web"].completed is None or result.overall.completed is None
    for table in result.tables:
        for stage in ("started", "consented", "completed"):
            assert _safe([getattr(r, stage) for r in table.rows], getattr(table.total, stage)), (
                table.by, stage)


def test_differences_between_stages_are_protected(app):
    make_survey(app)
    respond(app, age="young", completed=NOON, count=20)
    respond(app, age="young", count=3)  # 3 consented but did not finish
    respond(app, consented=False, count=2)  # 2 never consented
    result = build(app, k=10)
    for table in result.tables:
        for row in [*table.rows, table.total]:
            if row.started is not None and row.consented is not None:
                assert row.started - row.consented == 0 or row.started - row.consented >= 10
            if row.consented is not None and row.completed is not None:
                assert row.consented - row.completed == 0 or \
                    row.consented - row.completed >= 10
    assert result.overall.started == 25  # the total itself is big enough to show


def test_the_sql_exclusion_matches_excluded_from_analysis(app):
    crafted(app)
    respond(app, age="young", completed=NOON)
    with app.app_context():
        # Someone who refused research and later granted it again is analysable.
        person = next(r for r in db.session.scalars(db.select(ConsentRecord)) if r.refused)
        db.session.add(ConsentRecord(
            receipt_id=str(uuid.uuid4()), participant_id=person.participant_id,
            version_id=person.version_id, language="en", shown_text_hash="0" * 64,
            granted=["participation", "research"], refused=[], channel=ConsentChannel.WEB,
            actor="participant"))
        respond_refusing = Participant()
        db.session.add(respond_refusing)
        db.session.flush()
        db.session.add(ConsentRecord(
            receipt_id=str(uuid.uuid4()), participant_id=respond_refusing.id,
            version_id=person.version_id, language="en", shown_text_hash="0" * 64,
            granted=["research"], refused=["participation"], channel=ConsentChannel.WEB,
            actor="participant"))
        db.session.commit()
        in_sql = set(db.session.scalars(funnel.excluded_participants()))
        assert in_sql == set(consent.excluded_from_analysis())
        assert respond_refusing.id in in_sql and person.participant_id not in in_sql


def test_cli_text_and_json(app, runner):
    crafted(app)
    result = runner.invoke(args=["results", "funnel", SLUG, "--by", "channel", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["k"] == 10 and data["invited"] == 20
    assert [t["by"] for t in data["tables"]] == ["channel"]
    assert data["overall"]["started"] == 19
    text = runner.invoke(args=["results", "funnel", SLUG, "--by", "age_band"])
    assert text.exit_code == 0, text.output
    assert "(not answered yet)" in text.output and "<k" in text.output
    bad = runner.invoke(args=["results", "funnel", SLUG, "--by", "shoe_size"])
    assert bad.exit_code != 0 and "channel, language, age_band" in bad.output
    missing = runner.invoke(args=["results", "funnel", "no-such-survey"])
    assert missing.exit_code != 0 and "No survey" in missing.output


def test_page_for_analyst_and_organiser_only(app, client, auth):
    crafted(app)
    url = f"/en/admin/results/{SLUG}/funnel"
    assert client.get(url).status_code == 302  # anonymous: to the sign-in page
    auth.login_as(Role.MODERATOR)
    assert client.get(url).status_code == 403
    auth.logout()
    auth.login_as(Role.ORGANISER)
    soup = check_page(client.get(url))
    text = text_of(soup)
    assert "Not answered yet" in text and "hidden" in text
    assert "Counts below 10 are hidden" in text
    overall = {div.dt.text: div.dd.text for div in soup.select("#overall ~ dl div")}
    assert overall["Invited"] == "20"
    assert overall["Started"].startswith("19 (95% of those invited)")
    auth.logout()
    auth.login_as(Role.ANALYST)
    soup = check_page(client.get(url.replace("/en/", "/de/")), lang="de")
    assert soup.find("table") is not None
    assert client.get("/en/admin/results/no-such-survey/funnel").status_code == 404
