"""Weighting schemes and question tables on stored responses, checked by hand and scipy."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from app.extensions import db
from app.results import benchmarks, tables, weighting
from app.results.analysis import AnalysisError, analyse
from app.results.models import ResponseWeight, WeightingMethod
from app.surveys.services import get_survey
from tests.results.stored import store_responses
from tests.surveys.factories import open_survey

SLUG = "weights-test"
DEFINITION = f"""\
id: {SLUG}
kind: survey
version: 1
default_language: en
languages: [en]
title: {{en: Weights test}}
pages:
  - id: main
    title: {{en: Questions}}
    questions:
      - id: sex
        type: single_choice
        label: {{en: Sex}}
        choices:
          - {{value: f, label: {{en: Female}}}}
          - {{value: m, label: {{en: Male}}}}
      - id: area
        type: single_choice
        label: {{en: Where do you live?}}
        choices:
          - {{value: city, label: {{en: City}}}}
          - {{value: rural, label: {{en: Rural area}}}}
      - id: trust
        type: likert
        label: {{en: I trust the health service}}
        choices:
          - {{value: "1", label: {{en: Disagree}}}}
          - {{value: "2", label: {{en: Neutral}}}}
          - {{value: "3", label: {{en: Agree}}}}
      - id: colour
        type: single_choice
        label: {{en: Colour}}
        choices:
          - {{value: red, label: {{en: Red}}}}
          - {{value: blue, label: {{en: Blue}}}}
          - {{value: green, label: {{en: Green}}}}
      - id: age
        type: integer
        label: {{en: Age}}
"""
BENCHMARKS = ("variable,category,country,share,source,year\n"
              "sex,f,PT,0.5,Illustrative test table,2024\n"
              "sex,m,PT,0.5,Illustrative test table,2024\n"
              "area,city,PT,0.5,Illustrative test table,2024\n"
              "area,rural,PT,0.5,Illustrative test table,2024\n")


def people() -> list[dict[str, str]]:
    """100 people: 70 in cities (42 f, 28 m), 30 rural (18 f, 12 m); 3 say green."""
    out = []
    for i in range(100):
        area = "city" if i < 70 else "rural"
        sex = "f" if (i < 42 or 70 <= i < 88) else "m"
        trust = str(1 + (i % 3)) if area == "city" else str(3 - (i % 2))
        colour = "green" if i in (5, 50, 95) else ("red" if i % 2 else "blue")
        out.append({"sex": sex, "area": area, "trust": trust, "colour": colour,
                    "age": str(20 + i % 50)})
    return out


@pytest.fixture
def survey(app):
    open_survey(app, SLUG, DEFINITION)
    with app.app_context():
        benchmarks.store(benchmarks.read_plain(BENCHMARKS))
        store_responses(SLUG, people())
        yield get_survey(SLUG)


def define(survey, name="pt", variables=("sex", "area"), **options):
    scheme = weighting.define(survey, weighting.SchemeInput(name, "PT", variables, **options),
                              actor="analyst@example.org")
    weighting.compute(survey, scheme, actor="analyst@example.org")
    db.session.commit()
    return scheme


def test_raking_meets_both_margins_and_reports_its_diagnostics(survey):
    scheme = define(survey)
    weights = weighting.weights_of(scheme)
    assert scheme.n == len(weights) == 100 and scheme.problem is None
    assert scheme.converged and scheme.iterations >= 1 and scheme.max_error < 1e-6
    assert scheme.sources == ["sex: Illustrative test table, 2024",
                              "area: Illustrative test table, 2024"]
    data = people()
    ids = sorted(weights)
    w = np.array([weights[i] for i in ids])
    area = np.array([p["area"] for p in data])
    sex = np.array([p["sex"] for p in data])
    assert w.sum() == pytest.approx(100)
    assert w[area == "city"].sum() == pytest.approx(50, abs=1e-4)
    assert w[sex == "m"].sum() == pytest.approx(50, abs=1e-4)
    assert scheme.design_effect == pytest.approx(100 * np.dot(w, w) / w.sum() ** 2)
    assert scheme.effective_n == pytest.approx(w.sum() ** 2 / np.dot(w, w))


def test_post_stratification_gives_population_over_sample_per_cell(survey):
    scheme = define(survey, "area-only", ("area",), method=WeightingMethod.POSTSTRATIFY)
    values = sorted(set(round(w, 9) for w in weighting.weights_of(scheme).values()))
    assert values == [round(50 / 70, 9), round(50 / 30, 9)]
    assert scheme.design_effect == pytest.approx(
        100 * (70 * (50 / 70) ** 2 + 30 * (50 / 30) ** 2) / 100 ** 2)


def test_recomputing_replaces_the_weights(survey):
    scheme = define(survey)
    store_responses(SLUG, [{"sex": "m", "area": "rural"}])
    weighting.compute(survey, scheme, actor="x")
    db.session.commit()
    assert scheme.n == 101
    assert db.session.query(ResponseWeight).filter_by(scheme_id=scheme.id).count() == 101


def test_schemes_that_cannot_be_defined_say_why(survey):
    def problems(**given):
        base = {"name": "ok", "geography": "PT", "variables": ("sex",)}
        return dict(weighting.check(survey, weighting.SchemeInput(**{**base, **given})))

    assert problems() == {}
    assert "name" in problems(name="Has Spaces")
    assert "variables" in problems(variables=())
    assert "No benchmark" in problems(variables=("trust",))["variables"]
    assert "No benchmark" in problems(geography="AT")["variables"]
    assert "one variable" in problems(variables=("sex", "area"),
                                      method=WeightingMethod.POSTSTRATIFY)["method"]
    assert "both bounds" in problems(lower=0.5)["lower"]
    assert "lower bound" in problems(lower=0.5, upper=0.9)["lower"]
    assert "tolerance" in problems(tolerance=0)
    assert "max_iterations" in problems(max_iterations=0)
    define(survey, "ok")
    assert "already" in problems()["name"]


def test_a_category_nobody_is_in_is_reported_not_weighted(survey, app):
    benchmarks.store(benchmarks.read_plain(
        "variable,category,country,share,source,year\n"
        "colour,red,PT,0.3,Illustrative test table,2024\n"
        "colour,blue,PT,0.3,Illustrative test table,2024\n"
        "colour,purple,PT,0.4,Illustrative test table,2024\n"))
    scheme = define(survey, "colours", ("colour",))
    assert scheme.problem and "purple" in scheme.problem and scheme.n is None
    assert not weighting.weights_of(scheme)


def hand_table(values, groups):
    cats, cols = sorted(set(values)), sorted(set(groups))
    return np.array([[sum(1 for v, g in zip(values, groups, strict=True) if v == c and g == h)
                      for h in cols] for c in cats])


def test_tables_by_group_match_scipy_and_hide_small_cells(survey):
    result = analyse(survey, secret="s", by="area")
    by_name = {t.variable.name: t for t in result.tables}
    assert "area" not in by_name  # the grouping variable is not compared with itself
    colour = by_name["colour"]
    lines = {line.label: line for line in colour.lines}
    assert lines["Green"].count is None and lines["Green"].share is None  # 3 < 10
    # red 48, blue 49: with the total shown, one of them would give the 3 away.
    assert lines["Red"].count is None or lines["Blue"].count is None
    assert colour.n is None or colour.n == 100
    data = people()
    trust = by_name["trust"]
    assert [line.count for line in trust.lines] == [
        sum(p["trust"] == v for p in data) for v in "123"]
    counts = [sum(p["trust"] == v for p in data) for v in "123"]
    low, high = stats.binomtest(counts[2], 100).proportion_ci(method="wilson")
    assert trust.lines[2].share == pytest.approx(counts[2] / 100)
    assert (trust.lines[2].low, trust.lines[2].high) == pytest.approx((low, high))
    # Ordinal by two groups: Mann-Whitney on the codes, as scipy computes it.
    city = [int(p["trust"]) for p in data if p["area"] == "city"]
    rural = [int(p["trust"]) for p in data if p["area"] == "rural"]
    expected = stats.mannwhitneyu(city, rural, alternative="two-sided")
    test = trust.comparison.test
    assert test.name == "mann-whitney"
    assert test.statistic == pytest.approx(expected.statistic)
    assert test.p_value == pytest.approx(expected.pvalue)
    # Nominal: chi-square of independence on the full table.
    sex = by_name["sex"].comparison.test
    chi2 = stats.chi2_contingency(hand_table([p["sex"] for p in data],
                                             [p["area"] for p in data]))
    assert sex.name == "chi-square" and sex.p_value == pytest.approx(chi2.pvalue)
    # Holm across the family of tests on this page.
    tested = [t.comparison.test for t in result.tables if t.comparison.test]
    raw = sorted(t.p_value for t in tested)
    m = len(raw)
    holm = np.minimum(np.maximum.accumulate([p * (m - i) for i, p in enumerate(raw)]), 1)
    assert sorted(t.p_holm for t in tested) == pytest.approx(list(holm))
    # Colour has a 3-count category: chi-square's expected counts fail Cochran's rule.
    assert by_name["colour"].comparison.test is None
    assert by_name["colour"].comparison.reason == "expected-counts"
    ages = by_name["age"].comparison
    expected = stats.mannwhitneyu([20 + i % 50 for i in range(70)],
                                  [20 + i % 50 for i in range(70, 100)])
    assert ages.group_totals == [70, 30] and ages.test.p_value == pytest.approx(expected.pvalue)


def test_weighted_shares_follow_the_scheme(survey):
    define(survey)
    result = analyse(survey, secret="s", scheme_name="pt")
    area = next(t for t in result.tables if t.variable.name == "area")
    assert [line.weighted_share for line in area.lines] == pytest.approx([0.5, 0.5], abs=1e-6)
    assert [line.share for line in area.lines] == pytest.approx([0.7, 0.3])
    assert area.effective_n == pytest.approx(result.scheme.effective_n)
    age = next(t for t in result.tables if t.variable.name == "age")
    ages = np.array([20 + i % 50 for i in range(100)], dtype=float)
    assert age.numeric.mean == pytest.approx(ages.mean())
    half = stats.t.ppf(0.975, 99) * ages.std(ddof=1) / 10
    assert (age.numeric.low, age.numeric.high) == pytest.approx(
        (ages.mean() - half, ages.mean() + half))


def test_intersections_combine_group_variables(survey):
    data = tables.load_dataset(survey, survey.versions[-1], secret="s")
    grouping = tables.grouping(data, ["sex", "area"], "en")
    sizes = dict(zip(grouping.labels, np.bincount(grouping.index), strict=True))
    assert sizes == {"Female \u00d7 City": 42, "Female \u00d7 Rural area": 18,
                     "Male \u00d7 City": 28, "Male \u00d7 Rural area": 12}
    result = analyse(survey, secret="s", by="sex,area")
    trust = next(t for t in result.tables if t.variable.name == "trust")
    # Only groups with 30 or more enter the test: Female x City and (none else) -> none.
    assert trust.comparison.groups == grouping.labels
    assert trust.comparison.test is None and trust.comparison.reason == "too-few"


def test_bad_requests_are_refused(survey):
    with pytest.raises(AnalysisError, match="No weighting scheme"):
        analyse(survey, secret="s", scheme_name="nope")
    with pytest.raises(AnalysisError, match="not a categorical variable: age"):
        analyse(survey, secret="s", by="age")


def test_the_cli_defines_computes_and_prints_tables(survey, runner, app):
    result = runner.invoke(args=["results", "weighting", "define", SLUG, "pt", "--country",
                                 "pt", "--variable", "sex", "--variable", "area"])
    assert result.exit_code == 0, result.output
    assert "converged=True" in result.output and "n=100" in result.output
    result = runner.invoke(args=["results", "weighting", "define", SLUG, "pt", "--country",
                                 "pt", "--variable", "sex"])
    assert result.exit_code == 1 and "already" in result.output
    result = runner.invoke(args=["results", "weighting", "list", SLUG])
    assert "pt: rake on sex, area (PT)" in result.output
    result = runner.invoke(args=["results", "tables", SLUG, "--scheme", "pt", "--by", "area",
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["weighting"]["name"] == "pt" and out["k"] == 10
    trust = next(t for t in out["tables"] if t["variable"] == "trust")
    assert trust["comparison"]["test"]["name"] == "mann-whitney"
    result = runner.invoke(args=["results", "tables", SLUG, "--format", "csv"])
    rows = result.output.splitlines()
    assert rows[0].startswith("variable,label,group,category,count")
    assert any(r.startswith("colour,Colour,,Green,,") for r in rows)
    result = runner.invoke(args=["results", "tables", SLUG, "--by", "nope"])
    assert result.exit_code == 1 and "not a categorical variable" in result.output
