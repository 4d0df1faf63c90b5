"""`flask events select` on Sortition Foundation-style files written to tmp_path.

The pool has 12 people in two categories (gender, age). Panels are checked
against the quotas by counting the respondents file directly, not through the
selection module.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import partial
from pathlib import Path

import pytest
from click.testing import Result

from app.events import selection

# id -> (gender, age, household); 6 women, 6 men, 5 young, 7 old.
PEOPLE = {
    f"p{i:02d}": ("female" if i % 2 else "male", "young" if i < 5 else "old", f"h{i // 2}")
    for i in range(12)
}
QUOTAS = [
    ("gender", "female", 3, 3),
    ("gender", "male", 3, 3),
    ("age", "young", 2, 4),
    ("age", "old", 2, 4),
]
SIZE = 6


def write_files(
    tmp_path: Path,
    quotas: list[tuple[str, str, object, object]] = QUOTAS,
    header: str = "id,gender,age,household",
) -> tuple[Path, Path]:
    respondents = tmp_path / "respondents.csv"
    columns = header.split(",")
    rows = [header]
    for rid, (gender, age, household) in PEOPLE.items():
        cells = {"id": rid, "gender": gender, "age": age, "household": household}
        rows.append(",".join(cells.get(column, "x") for column in columns))
    respondents.write_text("\n".join(rows) + "\n", encoding="utf-8")
    categories = tmp_path / "categories.csv"
    lines = ["category,name,min,max", *(f"{c},{v},{lo},{hi}" for c, v, lo, hi in quotas)]
    categories.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return respondents, categories


def select(runner, respondents: Path, categories: Path, *extra: str, seed: int = 7,
           size: int = SIZE) -> Result:
    return runner.invoke(args=[
        "events", "select", "--respondents", str(respondents), "--categories", str(categories),
        "--size", str(size), "--seed", str(seed), *extra,
    ])


def run_json(runner, tmp_path: Path, *extra: str, seed: int = 7) -> dict:
    respondents, categories = write_files(tmp_path)
    out = tmp_path / f"out-{seed}.json"
    result = select(runner, respondents, categories, "--json", str(out), *extra, seed=seed)
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text(encoding="utf-8"))


def assert_meets_quotas(panel: list[str]) -> None:
    assert len(panel) == len(set(panel)) == SIZE
    counts = Counter()
    for rid in panel:
        gender, age, _ = PEOPLE[rid]
        counts["gender", gender] += 1
        counts["age", age] += 1
    for category, value, low, high in QUOTAS:
        assert low <= counts[category, value] <= high, (category, value, counts)


def test_leximin_selects_a_fair_panel(runner, tmp_path: Path) -> None:
    record = run_json(runner, tmp_path)
    assert record["algorithm"] == "leximin"
    assert record["seed"] == 7
    assert record["size"] == SIZE
    assert_meets_quotas(record["panel"])
    probabilities = record["probabilities"]
    assert set(probabilities) == set(PEOPLE)
    assert sum(probabilities.values()) == pytest.approx(SIZE, abs=1e-6)
    assert record["minimum"] == min(probabilities.values())
    assert all(probabilities[rid] > 0 for rid in record["panel"])
    # 6 of 12 with symmetric gender quotas: LEXIMIN gives everyone the same chance.
    assert record["minimum"] == pytest.approx(0.5, abs=1e-6)
    assert [(q["category"], q["value"], q["min"], q["max"]) for q in record["quotas"]] == QUOTAS


def test_printed_report(runner, tmp_path: Path) -> None:
    respondents, categories = write_files(tmp_path)
    out = tmp_path / "out.json"
    result = select(runner, respondents, categories, "--json", str(out))
    assert result.exit_code == 0, result.output
    record = json.loads(out.read_text(encoding="utf-8"))
    lines = result.output.splitlines()
    assert "Algorithm: leximin" in lines
    assert "Seed: 7" in lines
    heading = lines.index(f"Panel ({SIZE} of {len(PEOPLE)}):")
    assert [line.strip() for line in lines[heading + 1 : heading + 1 + SIZE]] == record["panel"]
    for rid, probability in record["probabilities"].items():
        selected = "yes" if rid in record["panel"] else "no"
        assert f"  {rid}  {probability:.4f}  {selected}" in lines
    assert f"Minimum probability: {record['minimum']:.4f}" in lines


def test_same_seed_same_panel_and_other_seeds_differ(runner, tmp_path: Path) -> None:
    first = run_json(runner, tmp_path, seed=11)["panel"]
    assert run_json(runner, tmp_path, seed=11)["panel"] == first
    others = []
    for seed in range(12, 40):
        others.append(run_json(runner, tmp_path, seed=seed)["panel"])
        if others[-1] != first:
            break
    assert others[-1] != first, "30 seeds all drew the same panel from a 50/50 lottery"


def test_legacy_algorithm(runner, tmp_path: Path) -> None:
    record = run_json(runner, tmp_path, "--algorithm", "legacy", "--draws", "400")
    assert record["algorithm"] == "legacy"
    assert record["draws"] == 400
    assert_meets_quotas(record["panel"])
    probabilities = record["probabilities"]
    assert sum(probabilities.values()) == pytest.approx(SIZE, abs=1e-6)
    assert record["minimum"] == min(probabilities.values())
    # Estimates from 400 draws are multiples of 1/400.
    assert all(abs(p * 400 - round(p * 400)) < 1e-9 for p in probabilities.values())
    again = run_json(runner, tmp_path, "--algorithm", "legacy", "--draws", "400")
    assert again["panel"] == record["panel"]
    assert again["probabilities"] == probabilities


def test_draws_is_only_for_legacy(runner, tmp_path: Path) -> None:
    respondents, categories = write_files(tmp_path)
    result = select(runner, respondents, categories, "--draws", "100")
    assert result.exit_code == 2
    assert "--draws" in result.output


def test_household_column_keeps_households_apart(runner, tmp_path: Path) -> None:
    record = run_json(runner, tmp_path, "--household-column", "household")
    assert record["one_per_household"] is True
    assert_meets_quotas(record["panel"])
    households = [PEOPLE[rid][2] for rid in record["panel"]]
    assert len(set(households)) == len(households)


def test_missing_household_column(runner, tmp_path: Path) -> None:
    respondents, categories = write_files(tmp_path)
    result = select(runner, respondents, categories, "--household-column", "family")
    assert result.exit_code == 1
    assert "respondents.csv" in result.output
    assert "family" in result.output


def test_infeasible_quotas_name_the_conflict(runner, tmp_path: Path) -> None:
    # Only 5 young people, 2 of them women: 5 women and 4 young cannot share 6 seats.
    quotas = [
        ("gender", "female", 5, 6),
        ("gender", "male", 0, 6),
        ("age", "young", 4, 6),
        ("age", "old", 0, 6),
    ]
    respondents, categories = write_files(tmp_path, quotas)
    result = select(runner, respondents, categories)
    assert result.exit_code == 1
    assert "No panel of 6 meets the quotas" in result.output
    assert "Conflicting quotas:" in result.output
    assert "Nearest feasible quotas" in result.output
    infeasible = selection.check_feasible(
        *selection.read_sortition_csv(respondents, categories), SIZE
    )
    assert infeasible is not None and infeasible.conflicts
    assert {f"{q.category}={q.value}" for q in infeasible.conflicts} <= {"age=young",
                                                                         "gender=female"}
    for quota in infeasible.conflicts:
        assert f"{quota.category}={quota.value}: min {quota.minimum}" in result.output
    relaxed = {(q.category, q.value): q for q in infeasible.relaxed}
    for quota in infeasible.conflicts:
        fixed = relaxed[quota.category, quota.value]
        assert f"-> min {fixed.minimum}, max {fixed.maximum}" in result.output


def test_missing_category_column_names_the_file(runner, tmp_path: Path) -> None:
    respondents, categories = write_files(tmp_path, header="id,gender,household")
    result = select(runner, respondents, categories)
    assert result.exit_code == 1
    assert str(respondents) in result.output
    assert "age" in result.output
    assert "Traceback" not in result.output


def test_categories_file_errors_name_file_and_line(runner, tmp_path: Path) -> None:
    respondents, categories = write_files(tmp_path)
    categories.write_text("category,name,min\ngender,female,3\n", encoding="utf-8")
    result = select(runner, respondents, categories)
    assert result.exit_code == 1
    assert str(categories) in result.output
    assert "max" in result.output

    respondents, categories = write_files(
        tmp_path, [("gender", "female", 3, 3), ("gender", "male", "three", 3)]
    )
    result = select(runner, respondents, categories)
    assert result.exit_code == 1
    assert f"{categories} line 3" in result.output
    assert "'three'" in result.output


def test_unknown_category_value_names_file_and_line(runner, tmp_path: Path) -> None:
    respondents, categories = write_files(tmp_path)
    text = respondents.read_text(encoding="utf-8").replace("p04,male", "p04,other")
    respondents.write_text(text, encoding="utf-8")
    result = select(runner, respondents, categories)
    assert result.exit_code == 1
    assert f"{respondents} line 6" in result.output
    assert "other" in result.output


def test_panel_larger_than_pool(runner, tmp_path: Path) -> None:
    respondents, categories = write_files(tmp_path)
    result = select(runner, respondents, categories, size=20)
    assert result.exit_code == 1
    assert "pool size 12" in result.output


def test_iteration_cap_warns_but_still_selects(
    runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selection, "leximin", partial(selection.leximin, max_iterations=0))
    respondents, categories = write_files(tmp_path)
    out = tmp_path / "out.json"
    result = select(runner, respondents, categories, "--json", str(out))
    assert result.exit_code == 0, result.output
    assert "Warning: LEXIMIN stopped after 0 iterations" in result.output
    record = json.loads(out.read_text(encoding="utf-8"))
    assert record["capped"] is True
    assert_meets_quotas(record["panel"])
    assert sum(record["probabilities"].values()) == pytest.approx(SIZE, abs=1e-6)
