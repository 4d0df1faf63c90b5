"""Skip logic, reading pages, calculations and progress, without a database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from werkzeug.datastructures import MultiDict

from app.surveys import engine
from app.surveys.question_types import ChoiceAnswer, MultipleAnswer
from tests.surveys.factories import build

T = "{en: T, de: T}"

SURVEY = build(f"""\
- id: start
  questions:
    - {{id: smoker, type: yes_no, label: {T}, required: true}}
    - id: per_day
      type: integer
      label: {T}
      min: 1
      max: 80
      relevant: "${{smoker}} = 'yes'"
- id: smoking
  relevant: "${{smoker}} = 'yes'"
  questions:
    - id: quit
      type: multiple_choice
      label: {T}
      choices: methods
      max_selected: 2
      dont_know: true
      other: true
- id: scores
  questions:
    - {{id: a, type: rating, label: {T}}}
    - {{id: b, type: rating, label: {T}}}
    - {{id: mean, type: calculate, calculation: "round((${{a}} + ${{b}}) div 2, 1)"}}
    - id: born
      type: date
      label: {T}
      max: "2010-12-31"
""", extra=f"""\
choice_lists:
  methods:
    - {{value: patch, label: {T}}}
    - {{value: app, label: {T}}}
    - {{value: doctor, label: {T}}}
""")


def read(page_id: str, form: dict, answers=None):
    return engine.read_page(SURVEY, SURVEY.page(page_id), MultiDict(form), answers or {})


def test_skip_logic_and_progress():
    assert [p.id for p in engine.pages_that_apply(SURVEY, {})] == ["start", "scores"]
    yes = {"smoker": ChoiceAnswer("yes")}
    assert [p.id for p in engine.pages_that_apply(SURVEY, yes)] == ["start", "smoking", "scores"]
    assert engine.next_page(SURVEY, {"smoker": ChoiceAnswer("no")}, "start").id == "scores"
    no = {"smoker": ChoiceAnswer("no")}
    assert engine.progress(SURVEY, no, "scores") == engine.Progress(2, 2)
    assert engine.progress(SURVEY, yes, "scores") == engine.Progress(3, 3)
    assert engine.previous_page(SURVEY, yes, "scores").id == "smoking"


def test_required_and_same_page_relevance():
    reading = read("start", {})
    assert [e.input_name for e in reading.errors] == ["smoker.yes"]
    # per_day only counts when smoker is yes on the same page
    assert read("start", {"smoker": "no", "per_day": "12"}).values == {
        "smoker": ChoiceAnswer("no")}
    assert read("start", {"smoker": "yes", "per_day": "12"}).values["per_day"] == 12
    follow = engine.follow_ups(SURVEY.page("start"), {"smoker": "yes"}, {"smoker"})
    assert [q.id for q in follow] == ["per_day"]
    assert engine.follow_ups(SURVEY.page("start"), {"smoker": "yes"}, {"smoker", "per_day"}) == []


@pytest.mark.parametrize(
    ("typed", "value", "error"),
    [
        ("12", 12, None),
        (" 7 ", 7, None),
        ("1,5", None, "whole number"),
        ("abc", None, "whole number"),
        ("0", None, "from 1 to 80"),
        ("81", None, "from 1 to 80"),
    ],
)
def test_integer_answers(typed, value, error):
    reading = read("start", {"smoker": "yes", "per_day": typed})
    if error:
        assert error in str(reading.errors[0].message)
        assert reading.errors[0].input_name == "per_day"
    else:
        assert reading.values["per_day"] == value


def test_multiple_choice_rules():
    answers = {"smoker": ChoiceAnswer("yes")}
    ok = read("smoking", {"quit": ["doctor", "patch"]}, answers)
    assert ok.values["quit"] == MultipleAnswer(("patch", "doctor"))  # definition order
    too_many = read("smoking", {"quit": ["patch", "app", "doctor"]}, answers)
    assert "no more than 2" in str(too_many.errors[0].message)
    mixed = read("smoking", {"quit": ["patch", "_dont_know"]}, answers)
    assert "cannot be combined" in str(mixed.errors[0].message)
    unknown = read("smoking", {"quit": ["hypnosis"]}, answers)
    assert unknown.errors and not unknown.values
    other = read("smoking", {"quit": ["_other"]}, answers)
    assert other.errors[0].input_name == "quit._other.text"
    specified = read("smoking", {"quit": ["_other"], "quit._other": "Hypnose"}, answers)
    assert specified.values["quit"] == MultipleAnswer(("_other",), "Hypnose")


def test_calculation_and_dates():
    reading = read("scores", {"a": "7", "b": "8", "born.day": "29", "born.month": "2",
                              "born.year": "1960"})
    assert reading.ok, reading.errors
    answers = engine.merge_page(SURVEY, SURVEY.page("scores"), {}, reading.values)
    assert answers["mean"] == Decimal("7.5") or answers["mean"] == 7.5
    assert answers["born"] == date(1960, 2, 29)
    bad = read("scores", {"born.day": "30", "born.month": "2", "born.year": "1960"})
    assert "real date" in str(bad.errors[0].message)
    late = read("scores", {"born.day": "1", "born.month": "1", "born.year": "2011"})
    assert "on or before" in str(late.errors[0].message)
    part = read("scores", {"born.day": "1"})
    assert part.errors[0].input_name == "born.month"


def test_prune_drops_answers_that_no_longer_apply():
    answers = {"smoker": ChoiceAnswer("no"), "per_day": 10,
               "quit": MultipleAnswer(("patch",)), "a": 5, "b": 5}
    pruned = engine.prune(SURVEY, answers)
    assert "per_day" not in pruned and "quit" not in pruned
    assert pruned["mean"] == 5


def test_required_questions_still_missing():
    assert [p.id for p in engine.unanswered_required(SURVEY, {})] == ["start"]
    assert engine.unanswered_required(SURVEY, {"smoker": ChoiceAnswer("no")}) == []


def test_choice_filter_and_nuts_follow_the_country():
    survey = build(f"""\
- id: where
  questions:
    - {{id: country, type: country, label: {T}}}
    - id: region
      type: nuts_region
      label: {T}
      country_question: country
      prefer_not_to_say: true
    - id: city
      type: single_choice
      label: {T}
      choice_filter: "choice.country = ${{country}}"
      choices:
        - {{value: lisbon, label: {T}, country: PT}}
        - {{value: vienna, label: {T}, country: AT}}
""")
    region, city = survey.question("region"), survey.question("city")
    shown = [c.value for c in engine.choices_for(region, {"country": "PT"})]
    assert "PT11" in shown and "AT13" not in shown and "_prefer_not_to_say" in shown
    assert [c.value for c in engine.choices_for(city, {"country": "AT"})] == ["vienna"]
    refused = engine.read_page(survey, survey.page("where"),
                               MultiDict({"country": "AT", "city": "lisbon"}), {})
    assert refused.errors and "city" not in refused.values


def test_european_decimal_comma():
    survey = build(f"""\
- id: p
  questions:
    - {{id: weight, type: decimal, label: {T}, min: 0, max: 300}}
""")
    reading = engine.read_page(survey, survey.page("p"), MultiDict({"weight": "72,5"}), {})
    assert reading.values["weight"] == Decimal("72.5")
