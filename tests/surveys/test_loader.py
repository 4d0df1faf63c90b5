"""Definitions are checked completely, with file, line and path for every problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.surveys.loader import load_definitions
from app.surveys.services import SURVEYS_DIR
from tests.surveys.factories import HEADER, problems_of

GOOD_PAGE = """\
pages:
  - id: p1
    title: {en: One, de: Eins}
    questions:
      - id: age
        type: integer
        label: {en: Age, de: Alter}
"""


def test_shipped_definitions_are_valid():
    result = load_definitions([SURVEYS_DIR])
    assert result.problems == []
    assert set(result.definitions) == {
        "core-demographics", "cancer-mission-consultation", "event-registration",
        "event-evaluation", "hub-engagement-maturity"}
    consultation = result.definitions["cancer-mission-consultation"]
    ids = [q.id for q in consultation.questions()]
    assert "age_band" in ids and "make_ends_meet" in ids  # the module was included
    assert set(consultation.languages) >= {"en", "de", "fr", "pt"}


def test_core_demographics_offer_prefer_not_to_say_everywhere():
    result = load_definitions([SURVEYS_DIR / "core-demographics.yaml"])
    module = result.definitions["core-demographics"]
    for question in module.questions():
        if question.type not in ("note", "calculate"):
            assert "_prefer_not_to_say" in [c.value for c in question.choices], question.id


def test_a_clean_definition_has_no_problems():
    assert problems_of(HEADER + GOOD_PAGE) == []


@pytest.mark.parametrize(
    ("text", "line", "path", "message"),
    [
        (HEADER + "colour: blue\n" + GOOD_PAGE, 7, "colour", "unknown key"),
        (HEADER + GOOD_PAGE + "        placeholder: {en: x, de: y}\n", 14,
         "pages[0].questions[0].placeholder", "unknown key"),
        (HEADER + GOOD_PAGE + "        relevant: \"${nope} = 1\"\n", 14,
         "pages[0].questions[0].relevant", "unknown question ${nope}"),
        (HEADER + GOOD_PAGE + "        constraint: \". > (1\"\n", 14,
         "pages[0].questions[0].constraint", "expression error (at character"),
        (HEADER + GOOD_PAGE.replace("de: Alter", "fr: Âge"), 13, "pages[0].questions[0].label",
         "missing translation: de"),
        (HEADER + GOOD_PAGE + "      - id: age\n        type: text\n"
         "        label: {en: A, de: B}\n", 14, "pages[0].questions[1].id",
         "duplicate question id 'age'"),
        (HEADER + GOOD_PAGE + "      - id: pick\n        type: single_choice\n"
         "        label: {en: A, de: B}\n        choices: colours\n", 17,
         "pages[0].questions[1].choices", "no choice list named 'colours'"),
        (HEADER + "pages:\n  - include: no-such-module\n", 8, "pages[0].include",
         "no module named 'no-such-module'"),
        (HEADER + GOOD_PAGE + "        type: decimal\n", 14, "", "not valid YAML"),
        (HEADER + GOOD_PAGE + "        min: 10\n        max: 5\n", 14,
         "pages[0].questions[0].min", "min is greater than max"),
    ],
    ids=["unknown-top-key", "unknown-question-key", "unknown-reference", "syntax-error",
         "untranslated", "duplicate-id", "unknown-choice-list", "unknown-module",
         "duplicate-yaml-key", "min-over-max"],
)
def test_broken_definition_gives_a_precise_message(text, line, path, message):
    problems = problems_of(text)
    assert problems, "expected a problem"
    first = problems[0]
    assert message in first.message, [str(p) for p in problems]
    assert first.path == path
    assert first.line == line
    assert first.file == "test-survey.yaml"


def test_a_forward_reference_is_refused():
    text = HEADER + """\
pages:
  - id: p1
    relevant: "${later} = 'yes'"
    questions:
      - {id: first, type: text, label: {en: A, de: B}}
  - id: p2
    questions:
      - {id: later, type: yes_no, label: {en: A, de: B}}
"""
    problems = problems_of(text)
    assert [p.message for p in problems] == ["refers to ${later}, which is asked later"]
    assert problems[0].line == 9


def test_id_must_match_the_file_name():
    problems = problems_of(HEADER + GOOD_PAGE, file="surveys/other-name.yaml")
    assert problems[0].message == "id 'test-survey' does not match the file name 'other-name'"


def test_every_problem_is_reported_at_once():
    text = HEADER.replace("de: Testumfrage", "fr: x") + GOOD_PAGE.replace(
        "type: integer", "type: integer\n        relevant: \"${ghost}\"")
    messages = [p.message for p in problems_of(text)]
    assert len(messages) >= 2
    assert any("missing translation" in m for m in messages)
    assert any("ghost" in m for m in messages)


def test_check_command_lists_problems_and_fails(app, runner, tmp_path: Path):
    broken = tmp_path / "test-survey.yaml"
    broken.write_text(HEADER + GOOD_PAGE + "        relevant: \"${nope} = 1\"\n")
    result = runner.invoke(args=["surveys", "check", str(broken)])
    assert result.exit_code == 1
    assert f"{broken}:14: pages[0].questions[0].relevant: refers to unknown question ${{nope}}" \
        in result.output
    ok = runner.invoke(args=["surveys", "check"])
    assert ok.exit_code == 0, ok.output
    assert "5 definition(s) OK" in ok.output
