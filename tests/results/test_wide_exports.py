"""Wide exports and codebooks through `flask results export`, read back with each
format's own reader and compared value by value with what people answered."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import xml.etree.ElementTree as ET
from datetime import date

import openpyxl
import pyarrow.parquet as pq
import pyreadstat
import pytest

from app.extensions import db
from app.results import wide
from app.results.wide import stata_names
from app.surveys.models import Response
from tests.factories import csrf_token
from tests.surveys.factories import open_survey
from tests.surveys.test_views import post, start

SLUG = "wide-test"
DEFINITION = f"""\
id: {SLUG}
kind: survey
version: 1
default_language: en
languages: [en, de]
title: {{en: Wide test, de: Breiter Test}}
consent_document: echos-participation
consent_purposes: [participation, research, contact]
pages:
  - id: main
    title: {{en: Questions, de: Fragen}}
    questions:
      - id: transport
        type: single_choice
        label: {{en: How did you come?, de: Wie kamen Sie?}}
        choices:
          - {{value: bus, label: {{en: Bus, de: Bus}}}}
          - {{value: bike, label: {{en: Bike, de: Fahrrad}}}}
          - {{value: car, label: {{en: Car, de: Auto}}}}
        dont_know: true
      - id: topics
        type: multiple_choice
        label: {{en: Which topics?, de: Welche Themen?}}
        choices:
          - {{value: health, label: {{en: Health, de: Gesundheit}}}}
          - {{value: housing, label: {{en: Housing, de: Wohnen}}}}
          - {{value: jobs, label: {{en: Jobs, de: Arbeit}}}}
      - id: score
        type: rating
        min: 0
        max: 10
        label: {{en: Your score, de: Ihre Note}}
      - id: age
        type: integer
        label: {{en: Your age, de: Ihr Alter}}
      - id: visited
        type: date
        label: {{en: Date of visit, de: Datum des Besuchs}}
      - id: email
        type: email
        contact: true
        label: {{en: Your email, de: Ihre E-Mail}}
  - id: more
    title: {{en: More, de: Mehr}}
    questions:
      - id: comment
        type: text
        label: {{en: Any comment?, de: Kommentar?}}
        relevant: "${{age}} > 0"
"""

PEOPLE = [
    {"transport": "bike", "topics": ["health", "jobs"], "score": "7", "age": "34",
     "visited": date(2025, 3, 14), "comment": "=HYPERLINK(\"http://evil\")"},
    {"transport": "_dont_know", "topics": ["housing"], "score": "0", "age": "61",
     "visited": date(2024, 12, 1), "comment": "Gut gemacht"},
    {"transport": "car", "topics": ["jobs"], "score": "10", "age": "19",
     "visited": date(2025, 1, 2), "comment": "withdrawn person"},
]
TRANSPORT_CODES = {"bus": 1, "bike": 2, "car": 3, "_dont_know": 4}
CONTACT = "someone@example.org"


def answer(app, person: dict):
    browser = app.test_client()
    first = start(browser, SLUG)
    data = {key: value for key, value in person.items() if key not in ("visited", "comment")}
    day = person["visited"]
    data.update({"visited.day": str(day.day), "visited.month": str(day.month),
                 "visited.year": str(day.year), "email": CONTACT})
    location = post(browser, first, data).location
    while "/p/" in location:
        data = {"comment": person["comment"]} if location.endswith("/p/more") else {}
        location = post(browser, location, data).location
    browser.post(f"/en/s/{SLUG}/submit", data={"csrf_token": csrf_token(browser, location)})
    return browser


@pytest.fixture
def answered(app):
    open_survey(app, SLUG, DEFINITION)
    browsers = [answer(app, person) for person in PEOPLE]
    page = "/en/my-data/withdraw/echos-participation/research"
    withdrawing = browsers[2]
    withdrawing.post(page, data={"csrf_token": csrf_token(withdrawing, page)})
    return PEOPLE[:2]


def export(runner, tmp_path, format_: str, suffix: str, *extra: str):
    path = tmp_path / f"out.{suffix}"
    result = runner.invoke(args=["results", "export", SLUG, "--format", format_, "-o",
                                 str(path), *extra])
    assert result.exit_code == 0, result.output
    return path, result


def expected(person: dict) -> dict:
    return {
        "transport": TRANSPORT_CODES[person["transport"]],
        **{f"topics.{t}": int(t in person["topics"]) for t in ("health", "housing", "jobs")},
        "score": int(person["score"]), "age": int(person["age"]),
        "visited": person["visited"].isoformat(), "comment": person["comment"],
    }


def by_age(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: int(float(r["age"])), reverse=True)


def assert_no_contact(names, values) -> None:
    assert "email" not in names
    assert CONTACT not in str(values)


def test_csv_is_coded_neutralised_and_without_withdrawn_or_contact(app, runner, tmp_path,
                                                                   answered):
    path, result = export(runner, tmp_path, "csv", "csv")
    assert "exported 2 rows" in result.output
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM, so Excel reads UTF-8
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 2
    assert_no_contact(rows[0].keys(), rows)
    assert "withdrawn person" not in raw.decode("utf-8-sig")
    older, younger = by_age(rows)
    for row, person in ((younger, answered[0]), (older, answered[1])):
        want = expected(person)
        if person["comment"].startswith("="):
            want["comment"] = "'" + person["comment"]  # formula neutralised for spreadsheets
        assert {k: row[k] for k in want} == {k: str(v) for k, v in want.items()}
        assert len(row["respondent"]) == 12 and row["language"] == "en"
    secret = app.config["SECRET_KEY"]
    with app.app_context():
        ids = {r.participant_id for r in db.session.query(Response)}
    assert {r["respondent"] for r in rows} < {
        hashlib.sha256(f"{secret}{pid}".encode()).hexdigest()[:12] for pid in ids}


def test_xlsx_has_data_and_codebook_sheets(runner, tmp_path, answered):
    path, _ = export(runner, tmp_path, "xlsx", "xlsx")
    workbook = openpyxl.load_workbook(path, read_only=True)
    assert workbook.sheetnames == ["data", "codebook"]
    header, *values = list(workbook["data"].iter_rows(values_only=True))
    rows = by_age([dict(zip(header, v, strict=True)) for v in values])
    assert_no_contact(header, rows)
    assert rows[1]["transport"] == 2 and rows[0]["topics.housing"] == 1
    assert rows[1]["comment"] == "'" + answered[0]["comment"]
    codebook = {r[0]: r for r in workbook["codebook"].iter_rows(values_only=True)}
    assert codebook["transport"][1] == "How did you come?"
    assert "4=Don't know" in codebook["transport"][4]


@pytest.mark.parametrize("format_", ["sav", "dta"])
def test_spss_and_stata_keep_values_and_labels(runner, tmp_path, answered, format_):
    path, _ = export(runner, tmp_path, format_, format_, "--language", "de")
    reader = pyreadstat.read_sav if format_ == "sav" else pyreadstat.read_dta
    frame, meta = reader(str(path))
    names = {name: name for name in frame.columns}
    if format_ == "dta":
        names = stata_names(["topics.health", "topics.housing", "topics.jobs", "transport",
                             "score", "age", "visited", "comment"])
    assert_no_contact(frame.columns, frame.to_dict())
    rows = by_age(frame.rename(columns={v: k for k, v in names.items()}).to_dict("records"))
    for row, person in zip(rows, reversed(answered), strict=True):
        for key, value in expected(person).items():
            got = row[key]
            if key == "visited":
                got = got.isoformat()[:10] if hasattr(got, "isoformat") else got
            elif isinstance(value, int):
                got = int(got)
            # Text is kept exactly (no formula neutralising): these are not spreadsheets.
            assert got == value, key
    labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    assert labels[names["transport"]] == "Wie kamen Sie?"
    assert labels[names["topics.health"]] == "Welche Themen?: Gesundheit"
    value_labels = meta.variable_value_labels[names["transport"]]
    assert value_labels[2] == "Fahrrad" and value_labels[3] == "Auto"
    assert value_labels[4] == "Weiß nicht"  # built-in label, translated by Babel


def test_parquet_keeps_values_and_metadata(runner, tmp_path, answered, monkeypatch):
    monkeypatch.setattr(wide, "BATCH", 1)  # one query batch and one row group per response
    path, _ = export(runner, tmp_path, "parquet", "parquet")
    assert pq.ParquetFile(path).metadata.num_row_groups == 2
    table = pq.read_table(path)
    assert_no_contact(table.column_names, table.to_pylist())
    rows = by_age(table.to_pylist())
    for row, person in zip(rows, reversed(answered), strict=True):
        want = expected(person)
        want["visited"] = person["visited"]
        # Exact text: Parquet is read by code, not spreadsheets, so "=" is kept as answered.
        assert {k: row[k] for k in want} == want
    field = table.schema.field("transport")
    assert json.loads(field.metadata[b"label"]) == {"en": "How did you come?",
                                                    "de": "Wie kamen Sie?"}
    assert json.loads(field.metadata[b"value_labels"])["2"] == {"en": "Bike", "de": "Fahrrad"}
    assert json.loads(field.metadata[b"values"])["4"] == "_dont_know"


def test_r_writes_csv_and_script(runner, tmp_path, answered):
    path, _ = export(runner, tmp_path, "r", "csv")
    script = path.with_suffix(".R").read_text()
    assert 'read.csv("out.csv"' in script
    assert ('data[["transport"]] <- factor(data[["transport"]], levels = c(1, 2, 3, 4), '
            'labels = c("Bus", "Bike", "Car", "Don\'t know"))') in script
    assert 'attr(data[["score"]], "label") <- "Your score"' in script
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert answered[0]["comment"] in [r["comment"] for r in rows]
    assert_no_contact(rows[0].keys(), rows)


def test_codebooks(runner, tmp_path, answered):
    path, _ = export(runner, tmp_path, "codebook-json", "json")
    variables = {v["name"]: v for v in json.loads(path.read_text())}
    assert list(variables) == ["transport", "topics.health", "topics.housing", "topics.jobs",
                               "score", "age", "visited", "comment"]
    transport = variables["transport"]
    assert transport["values"] == {"1": "bus", "2": "bike", "3": "car", "4": "_dont_know"}
    assert transport["value_labels"]["3"] == {"en": "Car", "de": "Auto"}
    assert (transport["type"], transport["measurement"]) == ("numeric", "nominal")
    assert variables["visited"]["type"] == "date"
    assert variables["comment"]["relevance"] == "${age} > 0"
    assert variables["score"]["measurement"] == "ordinal"
    assert transport["survey"] == SLUG and transport["version"] == 1

    path, _ = export(runner, tmp_path, "codebook-csv", "csv", "--language", "de")
    rows = {r["name"]: r for r in csv.DictReader(io.StringIO(path.read_text("utf-8-sig")))}
    assert rows["transport"]["label"] == "Wie kamen Sie?"
    assert "email" not in rows

    path, _ = export(runner, tmp_path, "codebook-ddi", "xml")
    ns = {"d": "ddi:codebook:2_5"}
    root = ET.parse(path).getroot()
    assert root.tag == "{ddi:codebook:2_5}codeBook"
    assert root.find("d:stdyDscr/d:citation/d:titlStmt/d:titl", ns).text == SLUG
    names = [v.get("name") for v in root.iterfind("d:dataDscr/d:var", ns)]
    assert names == list(variables)
    var = root.find("d:dataDscr/d:var[@name='transport']", ns)
    categories = {c.find("d:catValu", ns).text: c.find("d:labl", ns).text
                  for c in var.iterfind("d:catgry", ns)}
    assert categories["2"] == "Bike"
    assert var.find("d:qstn/d:qstnLit", ns).text == "How did you come?"
    assert var.find("d:varFormat", ns).get("type") == "numeric"
    assert root.find("d:dataDscr/d:var[@name='comment']/d:varFormat", ns).get(
        "type") == "character"


def test_unknown_survey_and_version(runner, app, tmp_path):
    open_survey(app, SLUG, DEFINITION)
    result = runner.invoke(args=["results", "export", "nope", "--format", "csv", "-o",
                                 str(tmp_path / "x.csv")])
    assert result.exit_code != 0 and "No survey" in result.output
    result = runner.invoke(args=["results", "export", SLUG, "--format", "csv", "--version", "9",
                                 "-o", str(tmp_path / "x.csv")])
    assert result.exit_code != 0 and "no version 9" in result.output


def test_stata_names_are_safe_and_unique():
    long = "a" * 40
    assert stata_names(["q.row", "q_row", long, long + "b", "1x"]) == {
        "q.row": "q_row", "q_row": "q_row_1", long: "a" * 32, long + "b": "a" * 30 + "_1",
        "1x": "v1x"}
