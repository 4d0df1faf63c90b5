"""Importing responses from CSV: checked row by row with the survey engine's own rules,
stored all or nothing, and an export imported again gives the same export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from bs4 import BeautifulSoup
from flask_babel import force_locale
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.auth.roles import Role
from app.consent.models import ConsentChannel, ConsentRecord
from app.extensions import db
from app.results import importing
from app.surveys.models import Channel, Response, ResponseStatus
from app.surveys.question_types import ChoiceAnswer, MultipleAnswer
from app.surveys.services import definition_of, get_survey, latest_version, load_answers
from tests.factories import csrf_token
from tests.surveys.factories import open_survey

SLUG = "import-test"
DEFINITION = f"""\
id: {SLUG}
kind: survey
version: 1
default_language: en
languages: [en, de]
title: {{en: Paper questionnaire, de: Papierfragebogen}}
consent_document: echos-participation
consent_purposes: [participation, research, special_category]
pages:
  - id: about
    title: {{en: About you, de: Über Sie}}
    questions:
      - id: transport
        type: single_choice
        required: true
        label: {{en: How did you come?, de: Wie kamen Sie?}}
        choices:
          - {{value: bus, label: {{en: Bus, de: Bus}}}}
          - {{value: bike, label: {{en: Bike, de: Fahrrad}}}}
          - {{value: car, label: {{en: Car, de: Auto}}}}
        other: true
        dont_know: true
      - id: car_seats
        type: integer
        min: 1
        max: 9
        relevant: "${{transport}} = 'car'"
        label: {{en: Seats in the car, de: Sitze im Auto}}
      - id: topics
        type: multiple_choice
        label: {{en: Which topics?, de: Welche Themen?}}
        choices:
          - {{value: health, label: {{en: Health, de: Gesundheit}}}}
          - {{value: housing, label: {{en: Housing, de: Wohnen}}}}
          - {{value: jobs, label: {{en: Jobs, de: Arbeit}}}}
        other: true
      - id: score
        type: rating
        min: 0
        max: 10
        dont_know: true
        label: {{en: Your score, de: Ihre Note}}
      - id: age
        type: integer
        min: 16
        max: 110
        required: true
        label: {{en: Your age, de: Ihr Alter}}
      - id: height
        type: decimal
        min: 1
        max: 2.5
        label: {{en: Height in metres, de: Größe in Metern}}
      - id: visited
        type: date
        max: "2030-12-31"
        label: {{en: Date of visit, de: Datum des Besuchs}}
      - id: age_group
        type: calculate
        calculation: "if(${{age}} >= 65, 'older', 'younger')"
        label: {{en: Age group, de: Altersgruppe}}
      - id: email
        type: email
        contact: true
        label: {{en: Your email, de: Ihre E-Mail}}
  - id: services
    title: {{en: Services, de: Dienste}}
    questions:
      - id: rate
        type: matrix
        label: {{en: How good are they?, de: Wie gut sind sie?}}
        rows:
          - {{id: gp, label: {{en: Family doctor, de: Hausarzt}}}}
          - {{id: screening, label: {{en: Screening, de: Vorsorge}}}}
        choices:
          - {{value: good, label: {{en: Good, de: Gut}}}}
          - {{value: poor, label: {{en: Poor, de: Schlecht}}}}
      - id: priorities
        type: ranking
        label: {{en: Rank these, de: Ordnen Sie}}
        choices:
          - {{value: speed, label: {{en: Speed, de: Tempo}}}}
          - {{value: cost, label: {{en: Cost, de: Kosten}}}}
          - {{value: care, label: {{en: Care, de: Pflege}}}}
      - id: diagnosis
        type: yes_no
        purpose: special_category
        label: {{en: Have you had cancer?, de: Hatten Sie Krebs?}}
  - id: older
    title: {{en: Later life, de: Späteres Leben}}
    relevant: "${{age}} >= 65"
    questions:
      - id: retired
        type: yes_no
        label: {{en: Are you retired?, de: Sind Sie im Ruhestand?}}
      - id: comment
        type: long_text
        label: {{en: Any comment?, de: Kommentar?}}
"""

HEADER = ["respondent", "language", "completed_at", "transport", "transport._other",
          "car_seats", "topics.health", "topics.housing", "topics.jobs", "topics._other",
          "topics._other.text",
          "score", "age", "height", "visited", "age_group", "rate.gp", "rate.screening",
          "priorities.speed", "priorities.cost", "priorities.care", "diagnosis", "retired",
          "comment"]


@pytest.fixture
def survey(app):
    open_survey(app, SLUG, DEFINITION)
    with app.app_context():
        assert importing.expected_columns(latest_version(get_survey(SLUG))) == HEADER
    assert len(set(HEADER)) == len(HEADER)  # every export column has its own name


def csv_text(rows: list[dict], *, delimiter: str = ",", header: list[str] | None = None) -> str:
    """A CSV file with the given header (the export's by default)."""
    header = header or HEADER
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    keys = [f"{name}#2" if name in header[:i] else name for i, name in enumerate(header)]
    for row in rows:
        writer.writerow([row.get(key, "") for key in keys])
    return buffer.getvalue()


GOOD = [
    {"respondent": "P-001", "language": "de", "completed_at": "2025-03-14T10:30:00+01:00",
     "transport": "3", "car_seats": "5", "topics.health": "1", "topics.housing": "0",
     "topics.jobs": "1", "topics._other": "0", "score": "7", "age": "34", "height": "1,72",
     "visited": "2025-03-14", "rate.gp": "1", "rate.screening": "2", "priorities.speed": "2",
     "priorities.cost": "1", "priorities.care": "3", "diagnosis": "2"},
    {"respondent": "P-002", "transport": "Other, please specify",
     "transport._other": "Tram", "topics.health": "0", "topics.housing": "0",
     "topics.jobs": "0", "topics._other": "1", "topics._other.text": "Transport", "score": "11",
     "age": "70",
     "visited": "27.03.2025", "retired": "yes", "comment": "'=Gut gemacht"},
    {"respondent": "P-003", "transport": "Fahrrad", "age": "19", "score": "0"},
]


def import_text(app, text: str | bytes, **options) -> importing.ImportReport:
    with app.app_context():
        version = latest_version(get_survey(SLUG))
        report = importing.parse(text, version, file_name="paper.csv", **options)
        if report.errors:
            return report
        importing.apply(report, staff_id=None, consent_on_paper=True)
        db.session.commit()
        return report


def count_responses(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Response.id)))


def messages(report: importing.ImportReport) -> list[tuple[int | None, str, str, str]]:
    with force_locale("en"):
        return [(e.line, e.column, e.value, str(e.message)) for e in report.errors]


def test_good_file_imports_every_row_with_typed_answers(app, survey):
    report = import_text(app, csv_text(GOOD))
    assert report.errors == [] and len(report.rows) == 3
    assert report.ignored_columns == ["age_group"]  # recomputed
    with app.app_context():
        responses = list(db.session.scalars(select(Response).order_by(Response.id)))
        assert [r.channel for r in responses] == [Channel.PAPER] * 3
        assert {r.status for r in responses} == {ResponseStatus.COMPLETE}
        assert [r.language for r in responses] == ["de", "en", "en"]
        assert responses[0].completed_at == datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
        assert len({r.participant_id for r in responses}) == 3
        definition = definition_of(responses[0].version)
        first, second, third = (load_answers(r, definition) for r in responses)
        assert first["transport"] == ChoiceAnswer("car")
        assert first["car_seats"] == 5
        assert first["topics"] == MultipleAnswer(("health", "jobs"))
        assert first["score"] == 7 and first["age"] == 34
        assert first["height"] == Decimal("1.72")
        assert first["visited"] == date(2025, 3, 14)
        assert first["rate"] == {"gp": "good", "screening": "poor"}
        assert first["priorities"] == ("cost", "speed", "care")
        assert first["diagnosis"] == ChoiceAnswer("no")
        assert first["age_group"] == "younger"
        assert "retired" not in first
        assert second["transport"] == ChoiceAnswer("_other", "Tram")
        assert second["topics"] == MultipleAnswer(("_other",), "Transport")
        assert second["score"] == "_dont_know"
        assert second["visited"] == date(2025, 3, 27)
        assert second["retired"] == ChoiceAnswer("yes")
        assert second["comment"] == "=Gut gemacht"
        assert second["age_group"] == "older"
        assert third == {"transport": ChoiceAnswer("bike"), "age": 19, "score": 0,
                         "age_group": "younger"}
        records = list(db.session.scalars(select(ConsentRecord).order_by(ConsentRecord.id)))
        assert [r.channel for r in records] == [ConsentChannel.PAPER] * 3
        assert {r.actor for r in records} == {"staff:cli"}
        assert records[0].granted == ["participation", "research", "special_category"]
        assert records[0].language == "de"
        entry = db.session.scalar(select(AuditEntry).where(
            AuditEntry.action == "responses.imported"))
        assert entry.actor == "cli"
        assert entry.details["rows"] == 3 and entry.details["file"] == "paper.csv"
        assert entry.details["version"] == 1 and len(entry.details["sha256"]) == 64


def exported_rows(app, tmp_path, name: str) -> list[dict]:
    """The wide CSV export (with its BOM and neutralised text), read back."""
    path = tmp_path / name
    result = app.test_cli_runner().invoke(args=["results", "export", SLUG, "--format", "csv",
                                                "-o", str(path)])
    assert result.exit_code == 0, result.output
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def test_an_export_imported_again_exports_the_same(app, survey, tmp_path):
    import_text(app, csv_text(GOOD))
    first = exported_rows(app, tmp_path, "first.csv")
    assert first[0] == HEADER and len(first) == 4
    data = (tmp_path / "first.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"'=Gut gemacht" in data
    report = import_text(app, data)
    assert report.errors == [] and len(report.rows) == 3
    second = exported_rows(app, tmp_path, "second.csv")
    assert len(second) == 7
    again = second[4:]

    def without_respondent(rows):
        return [row[1:] for row in rows]

    assert without_respondent(again) == without_respondent(first[1:])
    assert {row[0] for row in again}.isdisjoint({row[0] for row in first[1:]})


def test_every_kind_of_bad_value_is_reported_with_line_and_column(app, survey):
    rows = [
        {"transport": "9", "age": "34"},                                   # 2: bad code
        {"transport": "1", "age": "12"},                                   # 3: below min
        {"transport": "1", "age": "34", "visited": "31/02/2025"},          # 4: no such day
        {"transport": "1", "age": "34", "visited": "March 3rd"},           # 5: not a date
        {"transport": "2", "age": "34", "car_seats": "4"},                 # 6: not relevant
        {"transport": "1"},                                                # 7: required
        {"respondent": "A", "transport": "1", "age": "40"},                # 8
        {"respondent": "A", "transport": "1", "age": "41"},                # 9: duplicate
        {"transport": "1", "age": "30", "retired": "1"},                   # 10: page not asked
        {"transport": "1", "age": "30", "language": "xx"},                 # 11: language
        {"transport": "1", "age": "30", "completed_at": "yesterday"},      # 12: bad moment
        {"transport": "1", "age": "30", "completed_at": "2999-01-01"},     # 13: future
        {"transport": "1", "age": "30", "topics.jobs": "2"},               # 14: not 0/1
        {"transport": "1", "age": "30", "priorities.speed": "1",
         "priorities.cost": "1", "priorities.care": "2"},                  # 15: same rank
        {"transport": "1", "age": "30", "transport._other": "Tram"},       # 16: not Other
        {"transport": "4", "age": "30"},                                   # 17: Other, no text
        {"transport": "1", "age": "30", "rate.gp": "Excellent"},           # 18: bad label
        {"transport": "1", "age": "30", "height": "tall"},                 # 19: not a number
        {"transport": "1", "age": "30.5"},                                 # 20: not whole
        {"transport": "1", "age": "30", "score": "12"},                    # 21: bad rating
    ]
    with app.app_context():
        report = importing.parse(csv_text(rows), latest_version(get_survey(SLUG)))
    found = messages(report)
    by_line = {line: (column, value, message) for line, column, value, message in found}
    assert by_line[2] == ("transport", "9", "This is not one of the codes of this question "
                                            "(1\u20135); see the codebook.")
    assert by_line[3] == ("age", "12", "Enter a number from 16 to 110.")
    assert by_line[4] == ("visited", "31/02/2025", "Enter a real date, for example 27 3 1960.")
    assert by_line[5][:2] == ("visited", "March 3rd")
    assert by_line[6][:2] == ("car_seats", "4")
    assert "${transport} = 'car'" in by_line[6][2]
    assert by_line[7] == ("age", "", "Answer this question.")
    assert by_line[9] == ("respondent", "A", "The same respondent is already on line 8.")
    assert 8 not in by_line
    assert by_line[10][:2] == ("retired", "1") and "${age} >= 65" in by_line[10][2]
    assert by_line[11][:2] == ("language", "xx")
    assert by_line[12][:2] == ("completed_at", "yesterday")
    assert by_line[13] == ("completed_at", "2999-01-01", "This date is in the future.")
    assert by_line[14][:2] == ("topics.jobs", "2")
    assert by_line[15] == ("priorities.speed", "1", "Give each item a different position.")
    assert by_line[16] == ("transport._other", "Tram",
                           "Fill this in only when the answer is “Other”.")
    assert by_line[17] == ("transport._other", "", "Say what your other answer is.")
    assert by_line[18][:2] == ("rate.gp", "Excellent")
    assert by_line[19] == ("height", "tall", "Enter a number, like 42 or 3.5.")
    assert by_line[20] == ("age", "30.5", "Enter a whole number, like 42.")
    assert by_line[21][:2] == ("score", "12")
    assert report.rejected_lines == [2, 3, 4, 5, 6, 7, 9, *range(10, 22)]
    assert len(found) == len(by_line)  # one problem each: a bad cell is not reported twice
    assert report.rows and [r.line for r in report.rows] == [8]
    with app.app_context(), force_locale("de"):
        assert str(report.errors[1].message) == "Geben Sie eine Zahl von 16 bis 110 ein."


def test_header_problems_are_reported_on_line_one(app, survey):
    header = [name for name in HEADER if name != "age"] + ["shoe_size", "score"]
    with app.app_context():
        report = importing.parse(csv_text([{"transport": "1"}], header=header),
                                 latest_version(get_survey(SLUG)))
    assert sorted(messages(report)) == [
        (1, "age", "", "This column is missing: the question is required."),
        (1, "score", "score", "This column appears more than once."),
        (1, "shoe_size", "shoe_size", "This column is not a variable of version 1 of this "
                                      "survey. Compare the header with the codebook."),
    ]
    assert report.rows == []


def test_labels_and_values_are_accepted_when_unambiguous(app, survey):
    rows = [{"transport": "car", "car_seats": "2", "age": "50", "rate.gp": "gut",
             "rate.screening": "Poor", "score": "Don't know", "diagnosis": "Yes"}]
    report = import_text(app, csv_text(rows))
    assert report.errors == []
    with app.app_context():
        response = db.session.scalar(select(Response))
        answers = load_answers(response, definition_of(response.version))
    assert answers["transport"] == ChoiceAnswer("car")
    assert answers["rate"] == {"gp": "good", "screening": "poor"}
    assert answers["score"] == "_dont_know"
    assert answers["diagnosis"] == ChoiceAnswer("yes")


def test_consent_columns_record_refusals_and_drop_their_questions(app, survey):
    rows = [
        {"transport": "1", "age": "30", "consent.special_category": "0"},
        {"transport": "1", "age": "30", "consent.special_category": "0", "diagnosis": "1"},
        {"transport": "1", "age": "30", "consent.participation": "0"},
    ]
    header = [*HEADER, "consent.special_category", "consent.participation"]
    with app.app_context():
        report = importing.parse(csv_text(rows, header=header), latest_version(get_survey(SLUG)))
    found = messages(report)
    assert [(line, column) for line, column, _v, _m in found] == [
        (3, "diagnosis"), (4, "consent.participation")]
    assert "special_category" in found[0][3]
    report = import_text(app, csv_text(rows[:1], header=header))
    with app.app_context():
        record = db.session.scalar(select(ConsentRecord))
        assert record.granted == ["participation", "research"]
        assert record.refused == ["special_category"]


def test_one_bad_row_among_good_ones_imports_nothing(app, survey):
    before = count_responses(app)
    rows = [*GOOD, {"transport": "1", "age": "300"}]
    report = import_text(app, csv_text(rows))
    assert [(e.line, e.column) for e in report.errors] == [(5, "age")]
    assert len(report.rows) == 3
    assert count_responses(app) == before == 0
    with app.app_context():
        assert db.session.scalar(select(func.count(ConsentRecord.id))) == 0
        with pytest.raises(importing.ImportRefused):
            importing.apply(report, staff_id=None, consent_on_paper=True)
    assert count_responses(app) == 0


def test_a_failure_while_storing_rolls_every_row_back(app, survey):
    with app.app_context():
        report = importing.parse(csv_text(GOOD), latest_version(get_survey(SLUG)))
        report.rows[2].answers["age"] = "not a number"  # fails when the third row is written
        with pytest.raises(Exception):  # noqa: B017  (whatever the database raises)
            importing.apply(report, staff_id=None, consent_on_paper=True)
            db.session.commit()
        db.session.rollback()
    assert count_responses(app) == 0


def test_bom_semicolons_and_decimal_commas(app, survey):
    text = csv_text(GOOD, delimiter=";")
    assert "1,72" in text
    report = import_text(app, b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert report.errors == [] and report.delimiter == ";" and len(report.rows) == 3
    assert report.columns[0] == "respondent"  # no BOM left on the first name
    assert count_responses(app) == 3


def test_explicit_delimiter_and_tabs(app, survey):
    rows = [{"transport": "1", "age": "30"}]
    assert import_text(app, csv_text(rows, delimiter="\t")).errors == []
    with app.app_context():
        report = importing.parse(csv_text(rows, delimiter=";"), latest_version(
            get_survey(SLUG)), delimiter=",")
    assert report.errors and report.errors[0].line == 1


def test_limits_encoding_and_empty_files(app, survey):
    with app.app_context():
        version = latest_version(get_survey(SLUG))
        too_many = importing.parse(csv_text(GOOD), version, max_rows=2)
        too_big = importing.parse(csv_text(GOOD), version, max_bytes=100)
        latin = importing.parse(csv_text([{"transport": "1", "age": "30",
                                           "comment": "Größe"}]).encode("latin-1"), version)
        empty = importing.parse("", version)
        header_only = importing.parse(csv_text([]), version)
    assert "at most 2 can be imported" in messages(too_many)[0][3]
    assert "larger than" in messages(too_big)[0][3]
    assert "not UTF-8" in messages(latin)[0][3]
    assert messages(empty)[0][0] == 1
    assert messages(header_only)[0][3] == "The file has no rows to import."


def test_the_same_file_is_not_imported_twice(app, survey):
    text = csv_text(GOOD)
    assert import_text(app, text).errors == []
    again = import_text(app, text)
    assert "already imported" in messages(again)[0][3]
    assert count_responses(app) == 3


def test_apply_needs_the_paper_consent_statement(app, survey):
    with app.app_context():
        report = importing.parse(csv_text(GOOD), latest_version(get_survey(SLUG)))
        with pytest.raises(importing.ImportRefused) as refused:
            importing.apply(report, staff_id=None, consent_on_paper=False)
    assert refused.value.field == "consent_on_paper"
    assert count_responses(app) == 0


# Command line ----------------------------------------------------------------------------


def test_cli_reports_rejected_rows_with_exit_code_one(app, survey, tmp_path):
    path = tmp_path / "paper.csv"
    path.write_text(csv_text([*GOOD, {"transport": "9", "age": "30"}]), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["results", "import-responses", SLUG,
                                                str(path), "--consent-on-paper"])
    assert result.exit_code == 1
    assert "5\ttransport\t9\tThis is not one of the codes" in result.output
    assert "Nothing imported: 1 of 4 rows rejected" in result.output
    assert count_responses(app) == 0


def test_cli_dry_run_then_import(app, survey, tmp_path):
    path = tmp_path / "paper.csv"
    path.write_text(csv_text(GOOD, delimiter=";"), encoding="utf-8")
    runner = app.test_cli_runner()
    base = ["results", "import-responses", SLUG, str(path), "--delimiter", ";"]
    dry = runner.invoke(args=[*base, "--dry-run"])
    assert dry.exit_code == 0 and "3 rows can be imported" in dry.output
    unconfirmed = runner.invoke(args=base)
    assert unconfirmed.exit_code == 1 and "--consent-on-paper" in unconfirmed.output
    assert count_responses(app) == 0
    done = runner.invoke(args=[*base, "--consent-on-paper", "--version", "1"])
    assert done.exit_code == 0, done.output
    assert "Imported 3 responses into import-test version 1." in done.output
    assert count_responses(app) == 3
    missing = runner.invoke(args=[*base, "--version", "7"])
    assert missing.exit_code == 1 and "no version 7" in missing.output


# The page ----------------------------------------------------------------------------------


PAGE = f"/en/admin/results/{SLUG}/import"


def upload(client, text: str, action: str, *, consent: bool = False, lang: str = "en",
           **extra):
    url = PAGE.replace("/en/", f"/{lang}/")
    data = {"csrf_token": csrf_token(client, url), "version": "1", "delimiter": "",
            "action": action, "upload": (io.BytesIO(text.encode("utf-8")), "paper.csv"),
            **extra}
    if consent:
        data["consent_on_paper"] = "y"
    return client.post(url, data=data, content_type="multipart/form-data")


def test_page_check_shows_rejected_rows_and_keeps_what_was_entered(app, survey, client, auth):
    auth.login_as(Role.ANALYST)
    page = client.get(PAGE)
    assert page.status_code == 200
    soup = BeautifulSoup(page.data, "html.parser")
    assert soup.find("input", attrs={"name": "upload", "type": "file"})
    response = upload(client, csv_text([*GOOD, {"transport": "1", "age": "300"}]), "check",
                      consent=True, delimiter="comma")
    assert response.status_code == 400
    soup = BeautifulSoup(response.data, "html.parser")
    cells = [[td.get_text(" ", strip=True) for td in tr.find_all("td")]
             for tr in soup.select("table.problems tbody tr")]
    assert cells == [["5", "age Value: “300”", "Enter a number from 16 to 110."]]
    assert "Rows rejected: 1 of 4." in soup.get_text(" ", strip=True)
    assert soup.find("input", id="consent_on_paper").has_attr("checked")
    assert soup.find("select", id="delimiter").find("option", selected=True)["value"] == "comma"
    assert soup.find("title").get_text().startswith("Error:")
    assert count_responses(app) == 0


def test_page_check_then_import_the_kept_file(app, survey, client, auth):
    auth.login_as(Role.ANALYST)
    checked = upload(client, csv_text(GOOD), "check")
    assert checked.status_code == 200
    soup = BeautifulSoup(checked.data, "html.parser")
    assert "3 responses would be imported into version 1" in soup.get_text(" ", strip=True)
    kept = soup.find("input", attrs={"name": "kept"})["value"]
    assert kept and soup.find("input", attrs={"name": "kept_name"})["value"] == "paper.csv"
    assert count_responses(app) == 0
    form = {"csrf_token": csrf_token(client, PAGE), "version": "1", "delimiter": "",
            "action": "import", "kept": kept, "kept_name": "paper.csv"}
    refused = client.post(PAGE, data=form)
    assert refused.status_code == 400
    assert "signed on paper" in refused.get_data(as_text=True) or "consent form" in \
        refused.get_data(as_text=True)
    assert count_responses(app) == 0
    done = client.post(PAGE, data={**form, "consent_on_paper": "y"})
    assert done.status_code == 302
    after = client.get(done.location)
    assert "3 responses were imported into version 1." in after.get_data(as_text=True)
    assert count_responses(app) == 3
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(
            AuditEntry.action == "responses.imported"))
        assert entry.actor.startswith("user:") and entry.details["file"] == "paper.csv"
        assert {r.actor for r in db.session.scalars(select(ConsentRecord))} == {
            entry.actor.replace("user:", "staff:")}


def test_page_import_in_one_step_and_messages_in_the_readers_language(app, survey, client,
                                                                       auth):
    auth.login_as(Role.ADMIN)
    bad = upload(client, csv_text([{"transport": "1", "age": "300"}]), "import", consent=True,
                 lang="de")
    assert bad.status_code == 400
    assert "Geben Sie eine Zahl von 16 bis 110 ein." in bad.get_data(as_text=True)
    assert upload(client, csv_text(GOOD), "import", consent=True).status_code == 302
    assert count_responses(app) == 3


def test_page_without_a_file_or_csrf_token(app, survey, client, auth):
    auth.login_as(Role.ANALYST)
    nothing = client.post(PAGE, data={"csrf_token": csrf_token(client, PAGE), "version": "1",
                                      "action": "check"})
    assert nothing.status_code == 400
    assert "Choose a CSV file to check." in nothing.get_data(as_text=True)
    forged = client.post(PAGE, data={"version": "1", "action": "import", "consent_on_paper": "y",
                                     "upload": (io.BytesIO(csv_text(GOOD).encode()), "a.csv")},
                         content_type="multipart/form-data")
    assert forged.status_code == 400
    assert count_responses(app) == 0


def test_template_and_codebook_downloads(app, survey, client, auth):
    auth.login_as(Role.ANALYST)
    template = client.get(f"/en/admin/results/{SLUG}/import-template.csv?version=1")
    assert template.status_code == 200
    assert template.data.decode("utf-8-sig").splitlines() == [",".join(HEADER)]
    book = client.get(f"/de/admin/results/{SLUG}/import-codebook.csv")
    assert book.status_code == 200 and "Wie kamen Sie?" in book.data.decode("utf-8-sig")
    assert client.get(f"/en/admin/results/{SLUG}/import-template.csv?version=9").status_code \
        == 404
    assert client.get("/en/admin/results/no-such-survey/import").status_code == 404


@pytest.mark.parametrize("role", [Role.ORGANISER, Role.MODERATOR, Role.TRANSLATOR])
def test_other_roles_are_refused(app, survey, client, auth, role):
    auth.login_as(role)
    assert client.get(PAGE).status_code == 403
    token = csrf_token(client, "/en/")
    response = client.post(PAGE, data={"csrf_token": token, "version": "1", "action": "import",
                                       "consent_on_paper": "y", "upload": (
                                           io.BytesIO(csv_text(GOOD).encode()), "a.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 403
    assert client.get(f"/en/admin/results/{SLUG}/import-template.csv").status_code == 403
    assert count_responses(app) == 0


def test_participants_are_sent_to_sign_in(app, survey, client):
    response = client.get(PAGE)
    assert response.status_code == 302 and response.location.startswith("/en/login")
    assert client.get(f"/en/admin/results/{SLUG}/import-codebook.csv").status_code == 302
