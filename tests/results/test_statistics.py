"""Statistics for results, checked against scipy, ipfn and figures worked out by hand.

Where scipy has the statistic the test compares with it; where it does not (Wilson,
Cramér's V, the R-indicator, Holm, Kish) the expected value is worked out here from the
closed formula. Raking is checked against the analytic 2 x 2 fixed point, a second plain
Python IPF, and the ``ipfn`` package.
"""

from __future__ import annotations

import math
from itertools import product

import numpy as np
import pytest
from scipy import stats
from scipy.optimize import linprog

from app.results.statistics import (
    MIN_CELL_N,
    chi_square_independence,
    chi_square_valid,
    effective_sample_size,
    goodness_of_fit,
    holm,
    kish_design_effect,
    kruskal_wallis,
    mann_whitney,
    post_stratify,
    r_indicator,
    rake,
    representation,
    weighted_distribution,
    wilson_interval,
)

Z95 = 1.959963984540054  # standard normal 97.5 % quantile


# --- Wilson --------------------------------------------------------------------------------


def test_wilson_matches_closed_formula_and_known_values() -> None:
    x, n = 12, 50
    p = x / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    low, high = wilson_interval(x, n)
    assert low == pytest.approx(centre - half, abs=1e-12)
    assert high == pytest.approx(centre + half, abs=1e-12)
    assert (round(low, 4), round(high, 4)) == (0.1430, 0.3741)


def test_wilson_edges_and_vectorised() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)
    low, high = wilson_interval(0, 20)
    assert low == 0.0 and 0 < high < 0.2
    low, high = wilson_interval(20, 20)
    assert high == 1.0 and 0.8 < low < 1
    xs, ns = np.array([0, 3, 12, 40, 0]), np.array([10, 10, 50, 40, 0])
    lows, highs = wilson_interval(xs, ns, 0.9)
    for i in range(xs.size):
        assert (lows[i], highs[i]) == pytest.approx(wilson_interval(int(xs[i]), int(ns[i]), 0.9))
    with pytest.raises(ValueError):
        wilson_interval(5, 3)


# --- Representation ------------------------------------------------------------------------


def test_representation_rows_against_scipy() -> None:
    benchmark = {"a": 0.5, "b": 0.3, "c": 0.2}
    counts = {"a": 70, "b": 20, "c": 10, "prefer not to say": 5}
    rows = representation(counts, benchmark)
    assert [r.category for r in rows] == ["a", "b", "c"]  # no benchmark figure: left out
    by = {r.category: r for r in rows}
    for category, share in benchmark.items():
        row = by[category]
        assert row.share == counts[category] / 100
        assert row.ratio == pytest.approx(row.share / share)
        assert row.p_value == pytest.approx(stats.binomtest(counts[category], 100, share).pvalue)
        assert (row.ci_low, row.ci_high) == pytest.approx(wilson_interval(counts[category], 100))
    assert by["c"].under_represented  # ratio 0.5, p = 0.012
    assert by["b"].under_represented  # ratio 0.67, p = 0.029
    assert not by["a"].under_represented  # over-represented
    assert not representation(counts, benchmark, alpha=0.01)[1].under_represented


def test_low_ratio_without_significance_is_not_flagged() -> None:
    rows = representation({"a": 4, "b": 1}, {"a": 0.5, "b": 0.5})
    assert rows[1].ratio == pytest.approx(0.4)
    assert rows[1].p_value == pytest.approx(0.375)
    assert not rows[1].under_represented


def test_benchmark_renormalised_and_missing_categories() -> None:
    rows = representation({"a": 30}, {"a": 0.49, "b": 0.49})  # rounding: sums to 0.98
    assert [r.benchmark_share for r in rows] == pytest.approx([0.5, 0.5])
    assert rows[1].count == 0 and rows[1].under_represented
    with pytest.raises(ValueError, match="positive"):
        representation({"a": 3}, {"a": 1.0, "b": 0.0})


def test_goodness_of_fit_against_scipy_and_hand_cramers_v() -> None:
    benchmark = {"a": 0.5, "b": 0.3, "c": 0.2}
    counts = {"a": 70, "b": 20, "c": 10, "other": 9}
    fit = goodness_of_fit(counts, benchmark)
    observed, expected = [70, 20, 10], [50, 30, 20]
    chi2 = sum((o - e) ** 2 / e for o, e in zip(observed, expected, strict=True))
    scipy_fit = stats.chisquare(observed, expected)
    assert fit.chi2 == pytest.approx(chi2) == pytest.approx(scipy_fit.statistic)
    assert fit.p_value == pytest.approx(scipy_fit.pvalue)
    assert fit.dof == 2 and fit.n == 100 and fit.valid
    assert fit.cramers_v == pytest.approx(math.sqrt(chi2 / (100 * 2)))
    assert math.isnan(goodness_of_fit({}, benchmark).chi2)


def test_chi_square_valid_rule() -> None:
    assert MIN_CELL_N > 0
    assert chi_square_valid([5, 5, 5, 5, 4.9])  # 80 % at least 5
    assert not chi_square_valid([5, 5, 5, 4.9, 4.9])
    assert not chi_square_valid([50, 50, 50, 50, 0.9])  # one below 1
    assert not chi_square_valid([])


# --- R-indicator ---------------------------------------------------------------------------


def test_r_indicator_two_cells_by_hand() -> None:
    result = r_indicator({"A": 100, "B": 150}, {"A": 1000, "B": 3000})
    # rho = 0.1 and 0.05, rho_bar = 250 / 4000 = 0.0625
    # S^2 = 0.25 * 0.0375^2 + 0.75 * 0.0125^2 = 0.00046875
    s = math.sqrt(0.00046875)
    assert result.propensities == {"A": 0.1, "B": 0.05}
    assert result.mean_propensity == pytest.approx(0.0625)
    assert result.sd == pytest.approx(s)
    assert result.r == pytest.approx(1 - 2 * s)
    assert result.cv == pytest.approx(s / 0.0625)


def test_r_indicator_cross_classification_and_errors() -> None:
    population = {("f", "young"): 200, ("f", "old"): 300, ("m", "young"): 100, ("m", "old"): 400}
    even = r_indicator({cell: size // 10 for cell, size in population.items()}, population)
    assert even.r == pytest.approx(1.0) and even.cv == pytest.approx(0.0)
    with pytest.raises(ValueError, match="counts"):
        r_indicator({"A": 5}, {"A": 0.5, "B": 0.5})
    with pytest.raises(ValueError, match="does not have"):
        r_indicator({"C": 1}, {"A": 10})


# --- Multiple comparisons, design effect ---------------------------------------------------


def test_holm_hand_example() -> None:
    adjusted = holm([0.01, 0.04, 0.03, 0.005])
    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.6]).tolist() == [1.0, 1.0]  # capped, and monotone
    assert holm([]).size == 0


def test_kish_design_effect_hand_example() -> None:
    weights = [1, 1, 2, 4]  # n 4, sum 8, sum of squares 22
    assert kish_design_effect(weights) == pytest.approx(4 * 22 / 64)
    assert effective_sample_size(weights) == pytest.approx(64 / 22)
    assert kish_design_effect(np.full(10, 3.0)) == pytest.approx(1.0)


def test_weighted_distribution_uses_kish_effective_n() -> None:
    codes = np.array([0, 0, 1, 2, -1, 1, 0])
    weights = np.array([1.0, 2.0, 1.0, 4.0, 9.0, 2.0, 1.0])
    result = weighted_distribution(codes, weights, [0, 1, 2])
    answered = weights[codes >= 0]  # the -1 row is no answer: out of the base
    n_eff = answered.sum() ** 2 / (answered**2).sum()
    for category, share, low, high in result:
        expected = answered[codes[codes >= 0] == category].sum() / answered.sum()
        assert share == pytest.approx(expected)
        assert (low, high) == pytest.approx(wilson_interval(share * n_eff, n_eff))
    unweighted = weighted_distribution(["x", "y", "y", "z"], np.ones(4), ["y", "x"])
    assert unweighted[0] == ("y", pytest.approx(2 / 3), *wilson_interval(2, 3))  # z: no answer
    assert weighted_distribution([5], [1.0], [1])[0] == (1, 0.0, 0.0, 1.0)


def test_post_stratify() -> None:
    cells = np.array([1, 1, 2, 3, 3, 3])
    weights = post_stratify(cells, {1: 100.0, 2: 50.0, 3: 30.0})
    assert weights.tolist() == [50.0, 50.0, 50.0, 10.0, 10.0, 10.0]
    shares = post_stratify(cells, {1: 0.5, 2: 0.25, 3: 0.25})
    assert shares.sum() == pytest.approx(6)
    with pytest.raises(ValueError, match="no respondents"):
        post_stratify(cells, {1: 10.0, 2: 10.0, 3: 10.0, 4: 5.0})
    with pytest.raises(ValueError, match="does not have"):
        post_stratify(cells, {1: 10.0, 2: 10.0})


# --- Group comparisons ---------------------------------------------------------------------


def test_chi_square_independence_against_scipy() -> None:
    table = np.array([[20, 15, 5], [10, 25, 25]])
    chi2, p, dof, v = chi_square_independence(table)
    reference = stats.chi2_contingency(table, correction=False)
    assert (chi2, p, dof) == pytest.approx((reference.statistic, reference.pvalue, 2))
    n, rows, cols = table.sum(), table.sum(axis=1), table.sum(axis=0)
    expected = np.outer(rows, cols) / n
    hand = ((table - expected) ** 2 / expected).sum()
    assert v == pytest.approx(math.sqrt(hand / (n * 1)))

    two_by_two = [[12, 5], [4, 14]]
    chi2, p, dof, v = chi_square_independence(two_by_two)
    yates = stats.chi2_contingency(two_by_two, correction=True)
    plain = stats.chi2_contingency(two_by_two, correction=False)
    assert (chi2, p, dof) == pytest.approx((yates.statistic, yates.pvalue, 1))
    assert v == pytest.approx(math.sqrt(plain.statistic / 35))

    padded = np.array([[20, 0, 15, 5], [0, 0, 0, 0], [10, 0, 25, 25]])
    assert chi_square_independence(padded) == pytest.approx(chi_square_independence(table))


def test_kruskal_wallis_against_scipy() -> None:
    groups = [[2.9, 3.0, 2.5, 2.6, 3.2], [3.8, 2.7, 4.0, 2.4], [2.8, 3.4, 3.7, 2.2, 2.0]]
    h, p, epsilon = kruskal_wallis(groups)
    reference = stats.kruskal(*groups)
    assert (h, p) == pytest.approx((reference.statistic, reference.pvalue))
    assert epsilon == pytest.approx(reference.statistic / (14 - 1))
    assert kruskal_wallis([[1, 1], [1], []]) == (0.0, 1.0, 0.0)


def test_mann_whitney_against_scipy() -> None:
    a, b = [1, 4, 6, 7, 7, 9], [2, 3, 3, 5, 8]
    u, p, r = mann_whitney(a, b)
    reference = stats.mannwhitneyu(a, b, alternative="two-sided")
    assert (u, p) == pytest.approx((reference.statistic, reference.pvalue))
    wins = sum(x > y for x in a for y in b) - sum(x < y for x in a for y in b)
    assert r == pytest.approx(wins / (len(a) * len(b)))


# --- Raking --------------------------------------------------------------------------------


def rows_from_table(table: np.ndarray) -> np.ndarray:
    """One row of (i, j, ...) codes per unit counted in an integer seed table."""
    cells = [idx for idx in product(*map(range, table.shape)) for _ in range(int(table[idx]))]
    return np.array(cells, dtype=np.int64)


def fitted_table(data: np.ndarray, weights: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    table = np.zeros(shape)
    np.add.at(table, tuple(data.T), weights)
    return table


def loop_ipf(seed: list[list[float]], rows: list[float], cols: list[float]) -> list[list[float]]:
    """Textbook two-way IPF in plain Python, independent of the module under test."""
    table = [list(map(float, row)) for row in seed]
    for _ in range(10_000):
        for i, target in enumerate(rows):
            total = sum(table[i])
            table[i] = [x * target / total for x in table[i]]
        for j, target in enumerate(cols):
            total = sum(row[j] for row in table)
            for row in table:
                row[j] *= target / total
        if all(abs(sum(row) - t) < 1e-12 for row, t in zip(table, rows, strict=True)):
            return table
    raise AssertionError("loop IPF did not converge")


def test_rake_2x2_matches_analytic_fixed_point() -> None:
    seed = np.array([[30, 10], [20, 40]])
    r1, r2, c1, c2 = 60.0, 40.0, 45.0, 55.0
    # IPF keeps the seed's odds ratio theta: x11 x22 / (x12 x21) = theta with the margins
    # gives (1 - theta) a^2 + (r2 - c1 + theta (r1 + c1)) a - theta r1 c1 = 0 for a = x11.
    theta = 30 * 40 / (10 * 20)
    qa, qb, qc = 1 - theta, r2 - c1 + theta * (r1 + c1), -theta * r1 * c1
    roots = np.roots([qa, qb, qc])
    a = next(x for x in roots.real if 0 < x < min(r1, c1) and r2 - c1 + x > 0)
    analytic = np.array([[a, r1 - a], [c1 - a, r2 - c1 + a]])

    data = rows_from_table(seed)
    result = rake(data, [[r1, r2], [c1, c2]])
    assert result.converged
    assert fitted_table(data, result.weights, (2, 2)) == pytest.approx(analytic, abs=1e-6)


def test_rake_3x4_matches_plain_loop_ipf_and_keeps_odds_ratios() -> None:
    seed = np.array([[40, 30, 20, 10], [35, 50, 100, 75], [30, 80, 70, 120]])
    rows, cols = [150.0, 300.0, 400.0], [200.0, 300.0, 250.0, 100.0]
    data = rows_from_table(seed)
    result = rake(data, [rows, cols], tolerance=1e-12)
    fitted = fitted_table(data, result.weights, seed.shape)
    assert fitted == pytest.approx(np.array(loop_ipf(seed.tolist(), rows, cols)), abs=1e-6)
    assert fitted.sum(axis=1) == pytest.approx(rows, abs=1e-9)
    assert fitted.sum(axis=0) == pytest.approx(cols, abs=1e-9)
    odds = seed[:, :1] * seed[:1, :] / (seed[:1, :1] * seed)
    assert fitted[:, :1] * fitted[:1, :] / (fitted[:1, :1] * fitted) == pytest.approx(odds)


def test_rake_matches_ipfn_package_on_three_variables() -> None:
    from ipfn.ipfn import ipfn as IPF

    rng = np.random.default_rng(7)
    shape = (3, 4, 2)
    n = 2000
    data = np.column_stack([rng.choice(k, n, p=rng.dirichlet(np.full(k, 3.0))) for k in shape])
    data[:, 1] = np.where(rng.random(n) < 0.3, data[:, 0], data[:, 1])  # some association
    base = rng.uniform(0.5, 2.0, n)
    margins = [rng.uniform(100, 300, k) for k in shape]
    margins = [m * 1000 / m.sum() for m in margins]

    result = rake(data, margins, base_weights=base, tolerance=1e-12)
    seed = fitted_table(data, base, shape)
    reference = IPF(
        seed.copy(),
        [m.copy() for m in margins],
        [[0], [1], [2]],
        convergence_rate=1e-13,
        max_iteration=10_000,
        rate_tolerance=0,
    ).iteration()
    assert fitted_table(data, result.weights, shape) == pytest.approx(reference, abs=1e-6)
    # Raking multiplies each base weight by one factor per cell of the raking variables.
    factor = reference[tuple(data.T)] / seed[tuple(data.T)]
    assert result.weights == pytest.approx(base * factor, rel=1e-6)


def random_sample(seed: int, n: int = 5000) -> tuple[np.ndarray, list[np.ndarray]]:
    """Sample whose raking variables share a latent tilt, margins that differ from it."""
    rng = np.random.default_rng(seed)
    sizes = [4, 2, 5, 3]
    latent = rng.standard_normal(n)
    columns, margins = [], []
    for k in sizes:
        tilt = np.linspace(-0.6, 0.6, k)
        logits = tilt[None, :] * latent[:, None]
        p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        columns.append(np.minimum((rng.random(n)[:, None] > p.cumsum(axis=1)).sum(axis=1), k - 1))
        margins.append(rng.dirichlet(np.full(k, 6.0)))
    return np.column_stack(columns), margins


@pytest.mark.parametrize("total", [None, 250_000.0])
def test_rake_meets_margins_to_tolerance(total: float | None) -> None:
    data, shares = random_sample(1)
    margins = shares if total is None else [s * total for s in shares]
    result = rake(data, margins, tolerance=1e-10)
    assert result.converged and result.bounds_met is None
    scale = total or 1.0
    assert result.max_margin_error <= 1e-10 * scale
    assert result.weights.sum() == pytest.approx(total or len(data))
    for j, target in enumerate(margins):
        achieved = np.bincount(data[:, j], weights=result.weights, minlength=target.size)
        if total is None:
            achieved = achieved / len(data)
        assert np.abs(achieved - target).max() <= 1e-10 * scale


def bounds_feasible(
    data: np.ndarray, margins: list[np.ndarray], bounds: tuple[float, float]
) -> bool:
    """Whether any weights within the bounds meet the margins (a linear programme)."""
    cells, counts = np.unique(data, axis=0, return_counts=True)
    equations = [counts * (cells[:, j] == k) for j, m in enumerate(margins) for k in range(m.size)]
    targets = np.concatenate(margins) * len(data)
    low, high = bounds  # the mean weight is 1 when margins are shares
    solution = linprog(
        np.zeros(len(cells)),
        A_eq=np.array(equations, dtype=float),
        b_eq=targets,
        bounds=[(low, high)] * len(cells),
        method="highs",
    )
    return solution.status == 0


def test_rake_trimming_keeps_bounds_and_margins() -> None:
    data, margins = random_sample(2)
    free = rake(data, margins)
    assert free.weights.max() > 3.5  # the bounds below do bite
    assert bounds_feasible(data, margins, (0.3, 3.0))
    result = rake(data, margins, bounds=(0.3, 3.0))
    w = result.weights / result.weights.mean()
    assert result.bounds_met and result.converged
    assert w.min() >= 0.3 * (1 - 1e-6) and w.max() <= 3.0 * (1 + 1e-6)
    assert result.max_margin_error <= 1e-10


def test_rake_reports_bounds_too_tight_and_keeps_margins() -> None:
    data, margins = random_sample(2)
    assert not bounds_feasible(data, margins, (0.5, 2.0))
    result = rake(data, margins, bounds=(0.5, 2.0))
    assert result.bounds_met is False
    assert result.converged and result.max_margin_error <= 1e-10


def test_rake_empty_category_names_variable_and_category() -> None:
    data = np.array([[0, 0], [1, 1], [0, 1]])
    with pytest.raises(ValueError, match="variable 1: category 2"):
        rake(data, [[50, 50], [30, 30, 40]])
    with pytest.raises(ValueError, match="region: category 2"):
        rake(data, [[50, 50], [30, 30, 40]], names=["sex", "region"])
    with pytest.raises(ValueError, match="same positive total"):
        rake(data, [[50, 50], [30, 30]])
    with pytest.raises(ValueError, match="codes must be"):
        rake(np.array([[0, -1]]), [[1.0], [0.5, 0.5]])


def test_rake_not_converged_after_one_iteration() -> None:
    data, margins = random_sample(4)
    result = rake(data, margins, max_iterations=1)
    assert result.iterations == 1
    assert not result.converged
    assert result.max_margin_error > 1e-6
    assert rake(data, margins).converged


def test_rake_uniform_base_weights_change_nothing() -> None:
    data, margins = random_sample(5, n=800)
    plain = rake(data, margins).weights
    assert rake(data, margins, base_weights=np.full(800, 7.0)).weights == pytest.approx(plain)


@pytest.mark.parametrize("variables", [7, 20])  # sparse cell index; cells beyond int64
def test_rake_many_cells(variables: int) -> None:
    rng = np.random.default_rng(variables)
    data = rng.integers(0, 8, size=(300, variables))
    truth = rng.uniform(0.5, 2.0, 300)  # margins some positive weights meet exactly
    margins = [np.bincount(data[:, j], weights=truth, minlength=8) for j in range(variables)]
    result = rake(data, margins)
    assert result.converged
    for j, target in enumerate(margins):
        achieved = np.bincount(data[:, j], weights=result.weights, minlength=8)
        assert achieved == pytest.approx(target, abs=1e-6)
    distinct = rake(data, margins, base_weights=truth)  # one group per row
    assert distinct.weights == pytest.approx(truth)  # already calibrated: left alone
