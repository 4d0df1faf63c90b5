"""Definitions written inline for tests, checked by the real loader."""

from __future__ import annotations

import textwrap

from app.surveys.definition import Definition
from app.surveys.loader import Problem, check_and_build, parse_source

HEADER = """\
id: test-survey
kind: survey
version: 1
default_language: en
languages: [en, de]
title: {en: Test survey, de: Testumfrage}
"""


def problems_of(text: str, file: str = "test-survey.yaml", modules=None) -> list[Problem]:
    source, problems = parse_source(textwrap.dedent(text), file)
    if source is None:
        return problems
    _definition, problems = check_and_build(source, modules or {})
    return problems


def build(pages_yaml: str, extra: str = "") -> Definition:
    """A definition from the standard header plus the given pages (and top-level extras)."""
    text = HEADER + textwrap.dedent(extra) + "pages:\n" + textwrap.indent(
        textwrap.dedent(pages_yaml), "  ")
    source, problems = parse_source(text, "test-survey.yaml")
    assert source is not None, problems
    definition, problems = check_and_build(source, {})
    assert definition is not None, [str(p) for p in problems]
    return definition


def open_survey(app, slug: str, text: str | None = None) -> None:
    """Store a shipped definition (or `text` under that id) and open it."""
    from pathlib import Path
    from tempfile import TemporaryDirectory

    from app.extensions import db
    from app.surveys import services
    from app.surveys.models import SurveyStatus

    with app.app_context():
        if text is None:
            services.load_survey_files([services.SURVEYS_DIR / f"{slug}.yaml"])
        else:
            with TemporaryDirectory() as folder:
                path = Path(folder) / f"{slug}.yaml"
                path.write_text(textwrap.dedent(text))
                services.load_survey_files([path])
        services.set_status(services.get_survey(slug), SurveyStatus.OPEN)
        db.session.commit()
