"""`flask surveys ...` commands, with definitions read back by their own readers."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.extensions import db
from app.surveys.loader import load_definitions
from app.surveys.models import SurveyVersion
from app.surveys.services import SURVEYS_DIR

SHIPPED = ["cancer-mission-consultation", "event-registration", "event-evaluation",
           "hub-engagement-maturity"]


def test_load_is_idempotent_and_versions_changes(app, runner, tmp_path):
    first = runner.invoke(args=["surveys", "load"])
    assert first.exit_code == 0, first.output
    assert "cancer-mission-consultation: version 1 (new version)" in first.output
    again = runner.invoke(args=["surveys", "load"])
    assert "cancer-mission-consultation: version 1 (unchanged)" in again.output
    edited = tmp_path / "event-evaluation.yaml"
    edited.write_text((SURVEYS_DIR / "event-evaluation.yaml").read_text().replace(
        "version: 1", "version: 2", 1))
    third = runner.invoke(args=["surveys", "load", str(edited)])
    assert "event-evaluation: version 2 (new version)" in third.output
    with app.app_context():
        versions = db.session.scalars(select(SurveyVersion).order_by(SurveyVersion.id)).all()
        assert len(versions) == 5
        assert versions[-1].declared_version == 2


def test_load_refuses_a_broken_file(app, runner, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: broken\nkind: survey\n")
    result = runner.invoke(args=["surveys", "load", str(broken)])
    assert result.exit_code == 1
    assert "broken.yaml:1" in result.output
    with app.app_context():
        assert db.session.scalars(select(SurveyVersion)).all() == []


@pytest.mark.parametrize("slug", SHIPPED)
def test_xlsform_round_trip_of_shipped_surveys(app, runner, tmp_path, slug):
    workbook = tmp_path / f"{slug}.xlsx"
    out = runner.invoke(args=["surveys", "export-xlsform", str(SURVEYS_DIR / f"{slug}.yaml"),
                              "-o", str(workbook)])
    assert out.exit_code == 0, out.output
    back = tmp_path / f"{slug}.yaml"
    result = runner.invoke(args=["surveys", "import-xlsform", str(workbook), "-o", str(back)])
    assert result.exit_code == 0, result.output
    original = load_definitions([SURVEYS_DIR / f"{slug}.yaml"], library=[SURVEYS_DIR])
    imported = load_definitions([back], library=[SURVEYS_DIR])
    assert imported.problems == []
    assert json.dumps(imported.definitions[slug].data, sort_keys=True) == json.dumps(
        original.definitions[slug].data, sort_keys=True)


def test_export_of_a_stored_survey(app, runner, tmp_path):
    runner.invoke(args=["surveys", "load"])
    workbook = tmp_path / "stored.xlsx"
    result = runner.invoke(args=["surveys", "export-xlsform", "event-evaluation",
                                 "-o", str(workbook)])
    assert result.exit_code == 0, result.output
    from openpyxl import load_workbook

    sheets = load_workbook(workbook).sheetnames
    assert {"survey", "choices", "settings"} <= set(sheets)
    missing = runner.invoke(args=["surveys", "export-xlsform", "nothing", "-o",
                                  str(tmp_path / "x.xlsx")])
    assert missing.exit_code != 0


def test_import_reports_unsupported_features(app, runner, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    survey = book.active
    survey.title = "survey"
    survey.append(["type", "name", "label::English (en)"])
    survey.append(["text", "name", "Your name"])
    survey.append(["geopoint", "where", "Where are you?"])
    settings = book.create_sheet("settings")
    settings.append(["form_title", "form_id"])
    settings.append(["Field visit", "field-visit"])
    path = tmp_path / "field.xlsx"
    book.save(path)
    result = runner.invoke(args=["surveys", "import-xlsform", str(path), "-o",
                                 str(tmp_path / "field-visit.yaml")])
    assert "sheet survey row 3" in result.output
    assert "geopoint" in result.output
