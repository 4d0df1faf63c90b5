"""Panel selection: LEXIMIN optima worked out by hand, the legacy baseline, lotteries.

Expected probabilities come from small pools whose optimum can be derived on
paper (the derivations are in the docstrings); panels are checked against the
quotas by an independent counter, not by the module's own checks.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pytest

from app.events.selection import (
    Distribution,
    InfeasibleQuotas,
    IterationCapWarning,
    Quota,
    Registrant,
    check_feasible,
    draw_panel,
    legacy_draw,
    legacy_probabilities,
    leximin,
    read_sortition_csv,
    replace_dropouts,
)


def make_pool(groups: dict[tuple[str, str], int], prefix: str = "p") -> list[Registrant]:
    """Registrants with gender and age_band, ``count`` of each (gender, age_band)."""
    pool: list[Registrant] = []
    for (gender, age), count in groups.items():
        for _ in range(count):
            pool.append(Registrant(f"{prefix}{len(pool):03d}", {"gender": gender, "age": age}))
    return pool


def quotas_for(bounds: dict[tuple[str, str], tuple[int, int]]) -> list[Quota]:
    return [Quota(cat, value, low, high) for (cat, value), (low, high) in bounds.items()]


def meets_quotas(
    pool: Sequence[Registrant], quotas: Iterable[Quota], panel: Iterable[str], k: int
) -> bool:
    by_id = {r.id: r for r in pool}
    members = [by_id[rid] for rid in panel]
    counts = Counter((c, v) for r in members for c, v in r.features.items())
    return len(members) == k and all(
        q.minimum <= counts[(q.category, q.value)] <= q.maximum for q in quotas
    )


def assert_consistent(
    distribution: Distribution, pool: Sequence[Registrant], quotas: list[Quota], k: int
) -> None:
    assert sum(distribution.weights) == pytest.approx(1.0, abs=1e-9)
    assert all(w > 0 for w in distribution.weights)
    assert len(set(distribution.panels)) == len(distribution.panels)
    for panel in distribution.panels:
        assert meets_quotas(pool, quotas, panel, k)
    for registrant in pool:
        marginal = sum(
            w
            for p, w in zip(distribution.panels, distribution.weights, strict=True)
            if registrant.id in p
        )
        assert distribution.probabilities[registrant.id] == pytest.approx(marginal, abs=1e-12)
    assert distribution.minimum == min(distribution.probabilities.values())


BALANCED = {("F", "young"): 5, ("F", "old"): 5, ("M", "young"): 5, ("M", "old"): 5}
LOOSE = quotas_for(
    {
        ("gender", "F"): (1, 4),
        ("gender", "M"): (1, 4),
        ("age", "young"): (1, 4),
        ("age", "old"): (1, 4),
    }
)

# Exactly 3 of each gender and age band in a panel of 6. Writing a, b, c, d for
# young women, young men, old women, old men on a panel: a + c = b + d = a + b =
# c + d = 3, so b = c = 3 - a, and the single young man forces a >= 2. With
# t = E[a] in [2, 3]: young women get t/12, the young man and the old woman 3 - t,
# old men t/6. The smallest is largest when t/12 = 3 - t, i.e. t = 36/13, so the
# optimum minimum is 3/13 (old men 6/13).
SKEWED = {("F", "young"): 12, ("M", "young"): 1, ("F", "old"): 1, ("M", "old"): 6}
SKEWED_QUOTAS = quotas_for(
    {
        ("gender", "F"): (3, 3),
        ("gender", "M"): (3, 3),
        ("age", "young"): (3, 3),
        ("age", "old"): (3, 3),
    }
)


def test_balanced_pool_gives_everyone_the_same_chance() -> None:
    pool = make_pool(BALANCED)
    distribution = leximin(pool, LOOSE, 5)
    assert distribution.minimum == pytest.approx(5 / 20, abs=1e-6)
    assert all(p == pytest.approx(0.25, abs=1e-6) for p in distribution.probabilities.values())
    assert not distribution.capped
    assert_consistent(distribution, pool, LOOSE, 5)


def test_minority_minimum_quota_hand_optimum() -> None:
    """4 of 20 belong to a minority that must have 2 of 5 seats (up to 5).

    Minority members get at least 2/4; the 16 others share at most 3 seats, so at
    most 3/16 each, which is reached by always seating exactly 2 of the minority.
    """
    pool = [Registrant(f"m{i}", {"group": "minority"}) for i in range(4)]
    pool += [Registrant(f"j{i:02d}", {"group": "majority"}) for i in range(16)]
    quotas = [Quota("group", "minority", 2, 5), Quota("group", "majority", 0, 5)]
    distribution = leximin(pool, quotas, 5)
    assert distribution.minimum == pytest.approx(3 / 16, abs=1e-6)
    for registrant in pool:
        expected = 0.5 if registrant.id.startswith("m") else 3 / 16
        assert distribution.probabilities[registrant.id] == pytest.approx(expected, abs=1e-6)
    assert_consistent(distribution, pool, quotas, 5)


def test_maximum_quota_second_level_of_leximin() -> None:
    """At most 1 of group A's 10 on a panel of 4: A gets 1/10 each, B then 3/10."""
    pool = [Registrant(f"a{i}", {"group": "A"}) for i in range(10)]
    pool += [Registrant(f"b{i}", {"group": "B"}) for i in range(10)]
    quotas = [Quota("group", "A", 0, 1)]
    distribution = leximin(pool, quotas, 4)
    assert distribution.minimum == pytest.approx(0.1, abs=1e-6)
    for registrant in pool:
        expected = 0.1 if registrant.id.startswith("a") else 0.3
        assert distribution.probabilities[registrant.id] == pytest.approx(expected, abs=1e-6)
    assert_consistent(distribution, pool, quotas, 4)


def test_skewed_pool_hand_optimum_and_consistency() -> None:
    pool = make_pool(SKEWED)
    distribution = leximin(pool, SKEWED_QUOTAS, 6)
    assert distribution.minimum == pytest.approx(3 / 13, abs=1e-6)
    old_men = [r.id for r in pool if r.features == {"gender": "M", "age": "old"}]
    assert all(
        distribution.probabilities[rid] == pytest.approx(6 / 13, abs=1e-6) for rid in old_men
    )
    assert_consistent(distribution, pool, SKEWED_QUOTAS, 6)


def test_three_categories_distribution_is_consistent() -> None:
    rng = np.random.default_rng(7)
    pool = [
        Registrant(
            f"r{i:02d}",
            {
                "gender": str(rng.choice(["F", "M"], p=[0.7, 0.3])),
                "age": str(rng.choice(["young", "mid", "old"], p=[0.2, 0.3, 0.5])),
                "education": str(rng.choice(["low", "high"], p=[0.25, 0.75])),
            },
        )
        for i in range(40)
    ]
    quotas = quotas_for(
        {
            ("gender", "F"): (3, 4),
            ("gender", "M"): (3, 4),
            ("age", "young"): (2, 3),
            ("age", "mid"): (2, 3),
            ("age", "old"): (2, 3),
            ("education", "low"): (2, 4),
            ("education", "high"): (3, 5),
        }
    )
    distribution = leximin(pool, quotas, 7)
    assert_consistent(distribution, pool, quotas, 7)
    assert sum(distribution.probabilities.values()) == pytest.approx(7, abs=1e-9)
    # Everyone can be on some panel, so the fairest lottery gives everyone a chance.
    assert distribution.minimum > 0


def test_leximin_minimum_beats_legacy_estimate() -> None:
    pool = make_pool(SKEWED)
    fair = leximin(pool, SKEWED_QUOTAS, 6)
    legacy = legacy_probabilities(pool, SKEWED_QUOTAS, 6, draws=2000, seed=0)
    assert sum(legacy.values()) == pytest.approx(6)
    assert fair.minimum >= min(legacy.values())
    # The legacy greedy underserves the big young-women group (about 0.21 < 3/13).
    young_women = [r.id for r in pool if r.features == {"gender": "F", "age": "young"}]
    assert np.mean([legacy[rid] for rid in young_women]) < 3 / 13 - 0.01


def test_legacy_draw_meets_quotas_and_is_seeded() -> None:
    pool = make_pool(SKEWED)
    first = legacy_draw(pool, SKEWED_QUOTAS, 6, np.random.default_rng(3))
    again = legacy_draw(pool, SKEWED_QUOTAS, 6, np.random.default_rng(3))
    assert first == again
    for seed in range(20):
        panel = legacy_draw(pool, SKEWED_QUOTAS, 6, np.random.default_rng(seed))
        assert meets_quotas(pool, SKEWED_QUOTAS, panel, 6)


def test_infeasible_quota_reported_with_its_relaxation() -> None:
    """Only 10 old people, but the quota asks for at least 12 of a panel of 15."""
    pool = make_pool({("F", "young"): 10, ("M", "young"): 10, ("F", "old"): 5, ("M", "old"): 5})
    quotas = quotas_for(
        {
            ("gender", "F"): (5, 10),
            ("age", "old"): (12, 15),
            ("age", "young"): (0, 15),
        }
    )
    report = check_feasible(pool, quotas, 15)
    assert report is not None
    assert report.conflicts == [quotas[1]]
    assert report.relaxed == [quotas[0], Quota("age", "old", 10, 15), quotas[2]]
    assert check_feasible(pool, report.relaxed, 15) is None
    with pytest.raises(InfeasibleQuotas) as raised:
        leximin(pool, quotas, 15)
    assert raised.value.infeasible == report


def test_conflicting_minimums_get_the_smallest_widening() -> None:
    """4 women and 4 men can't both fit a panel of 6: minimums must give up 2 in total."""
    pool = make_pool(BALANCED)
    quotas = quotas_for({("gender", "F"): (4, 6), ("gender", "M"): (4, 6)})
    report = check_feasible(pool, quotas, 6)
    assert report is not None
    assert report.conflicts and set(report.conflicts) <= set(quotas)
    widening = sum(
        (old.minimum - new.minimum) + (new.maximum - old.maximum)
        for old, new in zip(quotas, report.relaxed, strict=True)
    )
    assert widening == 2
    assert check_feasible(pool, report.relaxed, 6) is None
    assert check_feasible(pool, LOOSE, 5) is None


def test_draw_panel_is_reproducible_and_follows_the_published_recipe() -> None:
    pool = make_pool(SKEWED)
    distribution = leximin(pool, SKEWED_QUOTAS, 6)
    assert draw_panel(distribution, 20250611) == draw_panel(distribution, 20250611)
    drawn = {draw_panel(distribution, seed) for seed in range(30)}
    assert len(drawn) > 1
    for seed in (0, 1, 99):
        u = np.random.default_rng(seed).random()
        total = sum(distribution.weights)
        running = np.cumsum([weight / total for weight in distribution.weights])
        expected = next(i for i, value in enumerate(running) if value > u)
        assert draw_panel(distribution, seed) == distribution.panels[expected]


def test_draw_panel_frequencies_follow_the_weights() -> None:
    distribution = Distribution(
        panels=[frozenset({"a"}), frozenset({"b"})],
        weights=[0.25, 0.75],
        probabilities={"a": 0.25, "b": 0.75},
        minimum=0.25,
        iterations=0,
    )
    draws = Counter(draw_panel(distribution, seed) for seed in range(4000))
    assert draws[frozenset({"a"})] / 4000 == pytest.approx(0.25, abs=0.03)


def test_replace_dropouts_keeps_quotas_and_is_reproducible() -> None:
    pool = make_pool(SKEWED)
    distribution = leximin(pool, SKEWED_QUOTAS, 6)
    panel = draw_panel(distribution, 5)
    by_id = {r.id: r for r in pool}
    dropouts = sorted(rid for rid in panel if by_id[rid].features["gender"] == "F")[:2]
    replaced = replace_dropouts(pool, SKEWED_QUOTAS, panel, dropouts, seed=11)
    assert replaced == replace_dropouts(pool, SKEWED_QUOTAS, panel, dropouts, seed=11)
    assert meets_quotas(pool, SKEWED_QUOTAS, replaced, 6)
    assert panel - set(dropouts) <= replaced
    assert not replaced & set(dropouts)
    assert len(replaced - panel) == 2
    outcomes = {replace_dropouts(pool, SKEWED_QUOTAS, panel, dropouts, seed=s) for s in range(15)}
    assert len(outcomes) > 1
    assert replace_dropouts(pool, SKEWED_QUOTAS, panel, [], seed=1) == panel


def test_replace_dropouts_reports_when_no_one_fits() -> None:
    pool = [Registrant("m0", {"group": "minority"})]
    pool += [Registrant(f"j{i}", {"group": "majority"}) for i in range(5)]
    quotas = [Quota("group", "minority", 1, 1)]
    with pytest.raises(InfeasibleQuotas) as raised:
        replace_dropouts(pool, quotas, {"m0", "j0", "j1"}, {"m0"}, seed=0)
    assert raised.value.infeasible.conflicts == quotas


def test_one_per_household_hand_optimum() -> None:
    """Four housemates share at most one seat of 3, so 1/4 each; 4 singles get 1/2."""
    pool = [Registrant(f"h{i}", {"group": "x"}, household="flat-1") for i in range(4)]
    pool += [Registrant(f"s{i}", {"group": "x"}, household=f"single-{i}") for i in range(4)]
    quotas = [Quota("group", "x", 0, 3)]
    distribution = leximin(pool, quotas, 3, one_per_household=True)
    assert distribution.minimum == pytest.approx(0.25, abs=1e-6)
    for registrant in pool:
        expected = 0.25 if registrant.id.startswith("h") else 0.5
        assert distribution.probabilities[registrant.id] == pytest.approx(expected, abs=1e-6)
    for panel in distribution.panels:
        assert len(panel & {"h0", "h1", "h2", "h3"}) <= 1
    without = leximin(pool, quotas, 3)
    assert without.minimum == pytest.approx(3 / 8, abs=1e-6)


def test_one_per_household_in_legacy_and_replacement() -> None:
    pool = [
        Registrant(f"p{i:02d}", {"gender": "FM"[i % 2]}, household=f"home-{i // 2}")
        for i in range(16)
    ]
    quotas = [Quota("gender", "F", 2, 2), Quota("gender", "M", 2, 2)]
    households = {r.id: r.household for r in pool}
    for seed in range(20):
        panel = legacy_draw(pool, quotas, 4, np.random.default_rng(seed), one_per_household=True)
        assert len({households[rid] for rid in panel}) == 4
    distribution = leximin(pool, quotas, 4, one_per_household=True)
    assert distribution.minimum == pytest.approx(0.25, abs=1e-6)
    for panel in distribution.panels:
        assert len({households[rid] for rid in panel}) == 4
    panel = draw_panel(distribution, 1)
    dropout = sorted(panel)[0]
    for seed in range(5):
        replaced = replace_dropouts(pool, quotas, panel, [dropout], seed, one_per_household=True)
        assert len({households[rid] for rid in replaced}) == 4
        assert meets_quotas(pool, quotas, replaced, 4)


def test_iteration_cap_is_reported() -> None:
    pool = make_pool(SKEWED)
    with pytest.warns(IterationCapWarning):
        distribution = leximin(pool, SKEWED_QUOTAS, 6, max_iterations=1)
    assert distribution.capped
    assert distribution.iterations == 1
    assert_consistent(distribution, pool, SKEWED_QUOTAS, 6)


def test_inputs_are_validated() -> None:
    pool = make_pool(BALANCED)
    with pytest.raises(ValueError, match="unique"):
        leximin([*pool, pool[0]], LOOSE, 5)
    with pytest.raises(ValueError, match="panel size"):
        check_feasible(pool, LOOSE, 21)
    with pytest.raises(ValueError, match="drop-out"):
        replace_dropouts(pool, LOOSE, {"p000"}, {"p001"}, seed=0)


def write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)


def test_read_sortition_csv(tmp_path: Path) -> None:
    categories = tmp_path / "categories.csv"
    respondents = tmp_path / "respondents.csv"
    write_csv(
        categories,
        [
            ["category", "name", "min", "max", "min_flex", "max_flex"],
            ["gender", "Female", "1", "2", "0", "3"],
            ["gender", "Male", "1", "2", "0", "3"],
            ["age_band", "16-29", "0", "1", "0", "2"],
            ["age_band", "30+", "1", "3", "0", "3"],
        ],
    )
    write_csv(
        respondents,
        [
            ["first_name", "nationbuilder_id", "gender", "age_band", "email"],
            ["Ana", "101", "Female", "16-29", "ana@example.org"],
            ["Ben", "102", "Male", "30+", "ben@example.org"],
            ["Cleo", "103", "Female", "30+", "cleo@example.org"],
        ],
    )
    pool, quotas = read_sortition_csv(respondents, categories)
    assert quotas == [
        Quota("gender", "Female", 1, 2),
        Quota("gender", "Male", 1, 2),
        Quota("age_band", "16-29", 0, 1),
        Quota("age_band", "30+", 1, 3),
    ]
    assert [r.id for r in pool] == ["101", "102", "103"]
    assert pool[1].features == {"gender": "Male", "age_band": "30+"}
    assert pool[0].household is None
    distribution = leximin(pool, quotas, 2)
    # Ben is the only man, so always seated; Ana and Cleo share the woman's seat.
    assert distribution.probabilities == pytest.approx({"101": 0.5, "102": 1.0, "103": 0.5})


def test_read_sortition_csv_first_column_id_and_unknown_value(tmp_path: Path) -> None:
    categories = tmp_path / "categories.csv"
    respondents = tmp_path / "respondents.csv"
    write_csv(categories, [["category", "name", "min", "max"], ["gender", "Female", "0", "1"]])
    write_csv(respondents, [["ref", "gender"], ["x-1", "Female"], ["x-2", "Female"]])
    pool, _ = read_sortition_csv(respondents, categories)
    assert [r.id for r in pool] == ["x-1", "x-2"]
    write_csv(respondents, [["ref", "gender"], ["x-1", "Other"]])
    with pytest.raises(ValueError, match="no quota"):
        read_sortition_csv(respondents, categories)
