"""Statistics for results: who took part against population benchmarks, and weighting.

Pure numpy/scipy, no Flask and no database, so the numbers can be checked on their own.

Minimum-n rules used here and by callers:

- Chi-square tests (goodness of fit and independence) are trusted only when at least 80 %
  of the expected counts are 5 or more and none is below 1 (Cochran's rule, Cochran 1954);
  :func:`chi_square_valid` checks that and :class:`GoodnessOfFit` reports it.
- Shares and weighting cells: a category or weighting cell with fewer than
  :data:`MIN_CELL_N` respondents gives an unstable share and an extreme weight; callers
  should collapse such cells before :func:`post_stratify` or :func:`rake`, and mark such
  shares as unreliable. The functions themselves only refuse what is impossible (a cell
  with population but no respondents), not what is merely unwise.
- Binomial tests, Wilson intervals, Kruskal-Wallis and Mann-Whitney are valid at any n
  (scipy picks exact or asymptotic p-values); small n simply gives wide intervals and
  large p-values.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple, TypeVar, overload

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

__all__ = [
    "MIN_CELL_N",
    "MIN_EXPECTED",
    "MIN_EXPECTED_SHARE",
    "GoodnessOfFit",
    "RIndicator",
    "RakingResult",
    "RepresentationRow",
    "WeightedShare",
    "chi_square_independence",
    "chi_square_valid",
    "effective_sample_size",
    "goodness_of_fit",
    "holm",
    "kish_design_effect",
    "kruskal_wallis",
    "mann_whitney",
    "post_stratify",
    "r_indicator",
    "rake",
    "representation",
    "weighted_distribution",
    "wilson_interval",
]

#: Fewest respondents in a category or weighting cell before its share or weight is
#: worth publishing unflagged (a common rule of thumb for weighting cells is 20-30).
MIN_CELL_N = 20
#: Cochran's rule for chi-square: expected counts of at least 5 ...
MIN_EXPECTED = 5.0
#: ... in at least this share of the cells (and none below 1).
MIN_EXPECTED_SHARE = 0.8

# Margins or population tables whose totals are 1 within this are read as shares.
_SHARE_TOLERANCE = 1e-9
# Raked weights count as within trimming bounds when they exceed them by less than this.
_BOUNDS_SLACK = 1e-6
# Bounded raking gives up when the margin gap has not halved in this many sweeps: where
# weights within the bounds can meet the margins it shrinks by orders of magnitude.
_STALL = 20

Cell = TypeVar("Cell", bound=Hashable)


# --- Intervals -----------------------------------------------------------------------------


@overload
def wilson_interval(
    successes: float, n: float, confidence: float = 0.95
) -> tuple[float, float]: ...


@overload
def wilson_interval(
    successes: ArrayLike, n: ArrayLike, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]: ...


def wilson_interval(
    successes: ArrayLike, n: ArrayLike, confidence: float = 0.95
) -> tuple[float, float] | tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a proportion; elementwise over arrays.

    Wilson rather than the Wald interval because it stays inside [0, 1] and keeps close to
    its nominal coverage for small n and shares near 0 or 1, which is where participation
    data lives. ``n = 0`` gives the uninformative (0, 1). Non-integer ``successes`` and
    ``n`` are allowed (effective sample sizes, see :func:`weighted_distribution`).
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    x = np.asarray(successes, dtype=float)
    m = np.asarray(n, dtype=float)
    if np.any(m < 0) or np.any(x < 0) or np.any(x > m * (1 + 1e-12)):
        raise ValueError("need 0 <= successes <= n")
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    z2 = z * z
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.clip(x / m, 0.0, 1.0)
        denominator = 1 + z2 / m
        centre = (p + z2 / (2 * m)) / denominator
        half = z * np.sqrt(p * (1 - p) / m + z2 / (4 * m * m)) / denominator
        low = np.where(x <= 0, 0.0, np.clip(centre - half, 0.0, 1.0))
        high = np.where(x >= m, 1.0, np.clip(centre + half, 0.0, 1.0))
    empty = m <= 0
    low = np.where(empty, 0.0, low)
    high = np.where(empty, 1.0, high)
    if low.ndim == 0:
        return float(low), float(high)
    return low, high


# --- Representation against benchmarks -----------------------------------------------------


@dataclass(frozen=True)
class RepresentationRow:
    """One category: the sample's share next to the benchmark's."""

    category: Hashable
    count: int
    share: float
    ci_low: float
    ci_high: float
    benchmark_share: float
    ratio: float  # share / benchmark share: 1 is exact, below 1 under-represented
    p_value: float  # two-sided exact binomial test of count against the benchmark share
    under_represented: bool


@dataclass(frozen=True)
class GoodnessOfFit:
    """Chi-square goodness of fit of a whole variable against its benchmark."""

    chi2: float
    dof: int
    p_value: float
    cramers_v: float  # sqrt(chi2 / (n (k - 1))): effect size, 0 = matches the benchmark
    n: int
    valid: bool  # Cochran's rule on the expected counts (see chi_square_valid)


def _benchmark(
    sample_counts: Mapping[Cell, int], benchmark_shares: Mapping[Cell, float]
) -> tuple[list[Cell], np.ndarray, np.ndarray]:
    """Counts and renormalised shares over the benchmark's categories, checked."""
    categories = list(benchmark_shares)
    if not categories:
        raise ValueError("benchmark has no categories")
    shares = np.array([float(benchmark_shares[c]) for c in categories])
    bad = [c for c, s in zip(categories, shares, strict=True) if not s > 0 or not np.isfinite(s)]
    if bad:
        raise ValueError(
            f"benchmark shares must be positive; leave out categories without a figure: {bad}"
        )
    counts = np.array([int(sample_counts.get(c, 0)) for c in categories], dtype=np.int64)
    if np.any(counts < 0) or any(int(v) < 0 for v in sample_counts.values()):
        raise ValueError("sample counts must not be negative")
    return categories, counts, shares / shares.sum()


def representation(
    sample_counts: Mapping[Cell, int],
    benchmark_shares: Mapping[Cell, float],
    *,
    threshold: float = 0.8,
    alpha: float = 0.05,
    confidence: float = 0.95,
) -> list[RepresentationRow]:
    """Per benchmark category: share with Wilson CI, ratio to benchmark, under-representation.

    Shares are taken over the respondents in the benchmark's categories only, and the
    benchmark shares are renormalised over those categories, so both have the same base:
    answers the benchmark has no figure for ("prefer not to say") are left out, and a
    benchmark that does not sum to exactly 1 (rounding) does not bias the ratios. A
    category is flagged ``under_represented`` only when its ratio is below ``threshold``
    *and* its own two-sided binomial test rejects the benchmark share at ``alpha``: a low
    ratio from a handful of respondents is noise, and a significant but small gap in a
    large sample is not worth a flag. The whole-variable test is :func:`goodness_of_fit`.
    """
    categories, counts, expected = _benchmark(sample_counts, benchmark_shares)
    n = int(counts.sum())
    low, high = wilson_interval(counts, n, confidence)
    rows = []
    for i, category in enumerate(categories):
        count = int(counts[i])
        share = count / n if n else 0.0
        ratio = share / expected[i]
        p_value = float(stats.binomtest(count, n, expected[i]).pvalue) if n else 1.0
        rows.append(
            RepresentationRow(
                category=category,
                count=count,
                share=share,
                ci_low=float(low[i]),
                ci_high=float(high[i]),
                benchmark_share=float(expected[i]),
                ratio=float(ratio),
                p_value=p_value,
                under_represented=bool(ratio < threshold and p_value < alpha),
            )
        )
    return rows


def goodness_of_fit(
    sample_counts: Mapping[Cell, int], benchmark_shares: Mapping[Cell, float]
) -> GoodnessOfFit:
    """Chi-square goodness of fit of the whole variable, with Cramér's V as effect size.

    Same base as :func:`representation`: expected counts are n times the benchmark shares
    renormalised over the benchmark's categories, n the respondents in those categories.
    In large samples every gap is "significant"; V = sqrt(chi2 / (n (k - 1))) says how big
    it is (0 = matches the benchmark). No respondents or a single category give NaN.
    """
    _, counts, shares = _benchmark(sample_counts, benchmark_shares)
    n, k = int(counts.sum()), len(counts)
    expected = n * shares
    if n == 0 or k < 2:
        return GoodnessOfFit(math.nan, max(k - 1, 0), math.nan, math.nan, n, False)
    chi2, p_value = stats.chisquare(counts, expected)
    return GoodnessOfFit(
        chi2=float(chi2),
        dof=k - 1,
        p_value=float(p_value),
        cramers_v=math.sqrt(float(chi2) / (n * (k - 1))),
        n=n,
        valid=chi_square_valid(expected),
    )


def chi_square_valid(expected: ArrayLike) -> bool:
    """Cochran's rule: >= 80 % of expected counts at least 5 and none below 1.

    Below that the chi-square approximation to the statistic's distribution is poor and
    the p-value should not be shown without a warning (or the categories collapsed).
    """
    values = np.asarray(expected, dtype=float).ravel()
    if values.size == 0:
        return False
    return bool(np.all(values >= 1) and np.mean(values >= MIN_EXPECTED) >= MIN_EXPECTED_SHARE)


# --- R-indicator ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RIndicator:
    """Representativeness of participation over population cells."""

    r: float  # 1 - 2 S(rho): 1 = every cell took part at the same rate
    sd: float  # S(rho), population-weighted standard deviation of the cell propensities
    cv: float  # S(rho) / rho_bar: scale-free, comparable across participation rates
    mean_propensity: float  # rho_bar = n / N
    propensities: dict[Hashable, float]  # rho_c = n_c / N_c per cell


def r_indicator(
    sample_counts: Mapping[Cell, int], population_counts: Mapping[Cell, float]
) -> RIndicator:
    """R-indicator (Schouten, Cobben & Bethlehem 2009, Survey Methodology 35(1)).

    For auxiliary variables known only as population tables, the response propensity of a
    cell c is its participation rate rho_c = n_c / N_c, and with rho_bar = n / N::

        S(rho) = sqrt( sum_c (N_c / N) (rho_c - rho_bar)^2 )
        R      = 1 - 2 S(rho)
        CV     = S(rho) / rho_bar

    (divisor N rather than the paper's N - 1: identical for any real population). Cells
    are the population table's keys: one variable's categories, or tuples for the cross-
    classification of several. R is bounded by the participation rate (S <= sqrt(rho_bar
    (1 - rho_bar))), so at the low rates of open engagement R is always near 1; CV is the
    figure to compare. It equals (1 - R) / (2 rho_bar), the paper's maximal absolute bias
    of an unweighted respondent mean in units of the variable's standard deviation (by
    Cauchy-Schwarz, |bias| <= S(rho) S(y) / rho_bar).

    ``population_counts`` must be counts, not shares: a cell with more respondents than
    population raises ValueError, as do respondents in a cell the table does not have.
    """
    cells = list(population_counts)
    population = np.array([float(population_counts[c]) for c in cells])
    if not cells or np.any(population < 0) or not np.all(np.isfinite(population)):
        raise ValueError("population counts must be finite and not negative")
    unknown = [c for c, v in sample_counts.items() if c not in population_counts and v]
    if unknown:
        raise ValueError(f"respondents in cells the population table does not have: {unknown}")
    sample = np.array([float(sample_counts.get(c, 0)) for c in cells])
    if np.any(sample < 0):
        raise ValueError("sample counts must not be negative")
    over = [c for c, n_c, p_c in zip(cells, sample, population, strict=True) if n_c > p_c]
    if over:
        raise ValueError(
            f"more respondents than population in {over}: population_counts must be counts"
        )
    total = population.sum()
    if total <= 0:
        raise ValueError("population total must be positive")
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.where(population > 0, sample / population, 0.0)
    rho_bar = sample.sum() / total
    sd = math.sqrt(float(np.sum(population / total * (rho - rho_bar) ** 2)))
    return RIndicator(
        r=1 - 2 * sd,
        sd=sd,
        cv=sd / rho_bar if rho_bar > 0 else math.nan,
        mean_propensity=float(rho_bar),
        propensities={c: float(r) for c, r in zip(cells, rho, strict=True) if population_counts[c]},
    )


# --- Weighting -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RakingResult:
    """Raked weights and how the fit went."""

    weights: np.ndarray  # one per row; sum to the population total, or to n for shares
    iterations: int  # full sweeps over all raking variables
    converged: bool  # every margin met to the tolerance (relative to the total)
    max_margin_error: float  # largest |weighted - target|, in the margins' own units
    bounds_met: bool | None  # None without bounds


def _group_rows(codes: np.ndarray, sizes: Sequence[int], base: np.ndarray | None) -> np.ndarray:
    """Group id per row: rows with the same raking cell (and base weight) share one weight.

    Raking multiplies every weight by one factor per category of each variable, and
    trimming acts on the weight's value, so rows alike in both always keep equal weights;
    raking the few thousand groups instead of a million rows is what makes it fast.
    """
    n = codes.shape[0]
    cells = math.prod(sizes)
    if cells < 2**62:
        index = np.zeros(n, dtype=np.int64)
        for j, size in enumerate(sizes):
            index *= size
            index += codes[:, j]
        if cells <= max(4 * n, 1 << 20):
            occupied = np.flatnonzero(np.bincount(index, minlength=cells))
            lookup = np.zeros(cells, dtype=np.int64)
            lookup[occupied] = np.arange(occupied.size)
            group = lookup[index]
        else:
            group = np.unique(index, return_inverse=True)[1].ravel()
    else:
        group = np.unique(codes, axis=0, return_inverse=True)[1].ravel()
    if base is not None:
        values, level = np.unique(base, return_inverse=True)
        if values.size > 1:
            group = np.unique(group * values.size + level.ravel(), return_inverse=True)[1].ravel()
    return group


def _one_row_each(group: np.ndarray, groups: int) -> np.ndarray:
    """Index of one row of each group (any will do: they share codes and base weight)."""
    row = np.empty(groups, dtype=np.int64)
    row[group] = np.arange(group.size)
    return row


def _sweep(
    weight: np.ndarray,
    members: np.ndarray,
    codes: list[np.ndarray],
    targets: list[np.ndarray],
    bounds: tuple[float, float] | None,
) -> float:
    """One IPF sweep in place; returns the largest gap met on the way, before scaling."""
    worst = 0.0
    for gc, target in zip(codes, targets, strict=True):
        achieved = np.bincount(gc, weights=members * weight, minlength=target.size)
        worst = max(worst, float(np.max(np.abs(achieved - target))))
        factor = np.divide(target, achieved, out=np.ones_like(target), where=achieved > 0)
        if bounds is None:
            weight *= factor[gc]
        else:
            _bounded_scale(weight, members, gc, target, factor, *bounds)
    return worst


def _bounded_scale(
    weight: np.ndarray,
    members: np.ndarray,
    gc: np.ndarray,
    target: np.ndarray,
    factor: np.ndarray,
    low: float,
    high: float,
) -> None:
    """Scale each category by the factor f that meets its target once weights are clipped.

    Solves sum_i clip(w_i f, low, high) = target per category (monotone, piecewise linear
    in f) by Newton steps kept inside a bisection bracket, all categories at once. This is
    the entropy (Bregman) projection onto "this margin met and weights within bounds", so
    cycling it over the variables (cyclic Bregman projections onto convex sets) converges
    to weights meeting both whenever some do.
    A target out of reach of the bounds puts the whole category at the nearer bound.
    """
    size = target.size
    count = np.bincount(gc, weights=members, minlength=size)
    f = np.where(target >= count * high, np.inf, np.where(target <= count * low, 0.0, factor))
    below, above = np.zeros(size), np.full(size, np.inf)
    close = 1e-13 * float(target.sum())
    for _ in range(200):
        scaled = weight * f[gc]
        gap = np.bincount(gc, weights=members * np.clip(scaled, low, high), minlength=size)
        gap -= target
        open_ = np.isfinite(f) & (f > 0) & (np.abs(gap) > close)
        if not open_.any():
            break
        free = (scaled > low) & (scaled < high)
        slope = np.bincount(gc, weights=members * weight * free, minlength=size)
        below = np.where(gap < 0, f, below)
        above = np.where(gap > 0, f, above)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = f - gap / slope
        middle = np.where(np.isfinite(above), (below + above) / 2, 2 * f)
        step = np.where((slope > 0) & (newton > below) & (newton < above), newton, middle)
        f = np.where(open_, step, f)
    with np.errstate(invalid="ignore"):
        np.clip(weight * f[gc], low, high, out=weight)


def _margin_error(
    weight: np.ndarray, members: np.ndarray, codes: list[np.ndarray], targets: list[np.ndarray]
) -> float:
    """Largest |weighted margin - target| over all variables and categories."""
    return max(
        float(np.max(np.abs(np.bincount(gc, weights=members * weight, minlength=t.size) - t)))
        for gc, t in zip(codes, targets, strict=True)
    )


def _within(weight: np.ndarray, low: float, high: float) -> bool:
    return bool(
        weight.min() >= low * (1 - _BOUNDS_SLACK) and weight.max() <= high * (1 + _BOUNDS_SLACK)
    )


def rake(
    data: np.ndarray,
    margins: Sequence[ArrayLike],
    *,
    base_weights: ArrayLike | None = None,
    tolerance: float = 1e-10,
    max_iterations: int = 1000,
    bounds: tuple[float, float] | None = None,
    names: Sequence[str] | None = None,
) -> RakingResult:
    """Rake (iterative proportional fitting) weights to population margins.

    ``data`` is n x v integer codes, column j coded 0 .. len(margins[j]) - 1 (recode or
    drop missing answers first). Each margin holds population totals, or shares summing
    to 1: all totals must agree, and shares give weights summing to n. Each sweep scales
    the weights to every margin in turn; it stops when every weighted margin is within
    ``tolerance`` of its target, relative to the total.

    ``bounds=(low, high)`` keeps weights within low..high times the mean weight (total /
    n). Each raking step then trims: a category's weights are scaled by the one factor
    that meets its margin once weights are capped at the bounds, so trimming and
    re-raking alternate within every sweep rather than after full convergence; when
    weights within the bounds can meet all margins this converges to such weights. When
    none can (the gap stops shrinking, or the iteration limit), the trimmed weights are
    raked again without bounds, for up to ``max_iterations`` more sweeps, so the margins
    hold and ``bounds_met`` reports False: weights stay near the bounds but cross them.

    Rows sharing a raking cell and base weight always share a weight, so the work is done
    per group (np.bincount), not per row. A category with population but no respondents
    cannot be raked and raises ValueError, as does one with respondents but no population.
    """
    codes = np.asarray(data)
    if codes.ndim == 1:
        codes = codes[:, None]
    if codes.ndim != 2 or not np.issubdtype(codes.dtype, np.integer):
        raise ValueError("data must be an n x v array of integer category codes")
    n, v = codes.shape
    if len(margins) != v:
        raise ValueError(f"{v} raking variables but {len(margins)} margins")
    labels = list(names) if names is not None else [f"variable {j}" for j in range(v)]
    if len(labels) != v:
        raise ValueError(f"{v} raking variables but {len(labels)} names")
    if n == 0:
        raise ValueError("no rows to weight")
    if max_iterations < 1:
        raise ValueError("max_iterations must be at least 1")
    if bounds is not None and not 0 <= bounds[0] < 1 < bounds[1]:
        raise ValueError(f"bounds must satisfy 0 <= low < 1 < high, got {bounds}")

    targets = [np.asarray(m, dtype=float).ravel() for m in margins]
    for label, target in zip(labels, targets, strict=True):
        if target.size == 0 or np.any(target < 0) or not np.all(np.isfinite(target)):
            raise ValueError(f"{label}: margin must be finite, not negative, not empty")
    sums = np.array([t.sum() for t in targets])
    if np.any(sums <= 0) or not np.allclose(sums, sums[0], rtol=1e-9, atol=0):
        raise ValueError(f"margins must have the same positive total, got {sums.tolist()}")
    shares = bool(np.all(np.abs(sums - 1) <= _SHARE_TOLERANCE))
    total = float(n) if shares else float(sums[0])
    unit = sums[0] / total  # margin units per weight unit, for reporting errors
    targets = [t * (total / s) for t, s in zip(targets, sums, strict=True)]
    sizes = [t.size for t in targets]
    for j, (label, size) in enumerate(zip(labels, sizes, strict=True)):
        if codes[:, j].min() < 0 or codes[:, j].max() >= size:
            raise ValueError(f"{label}: codes must be 0 .. {size - 1} (recode missing first)")

    base = None
    if base_weights is not None:
        base = np.asarray(base_weights, dtype=float).ravel()
        if base.shape != (n,) or not np.all(np.isfinite(base)) or np.any(base <= 0):
            raise ValueError("base_weights must be n positive finite numbers")

    group = _group_rows(codes, sizes, base)
    groups = int(group.max()) + 1
    one = _one_row_each(group, groups)
    group_codes = [np.ascontiguousarray(codes[one, j], dtype=np.intp) for j in range(v)]
    members = np.bincount(group, minlength=groups).astype(float)
    weight = base[one].copy() if base is not None else np.ones(groups)

    for label, gc, target in zip(labels, group_codes, targets, strict=True):
        present = np.bincount(gc, weights=members, minlength=target.size)
        empty = np.flatnonzero((present == 0) & (target > 0))
        if empty.size:
            raise ValueError(
                f"{label}: category {int(empty[0])} has a population margin but no respondents"
            )
        impossible = np.flatnonzero((present > 0) & (target == 0))
        if impossible.size:
            raise ValueError(
                f"{label}: category {int(impossible[0])} has respondents but a zero margin"
            )

    limits = (bounds[0] * total / n, bounds[1] * total / n) if bounds is not None else None
    limit = tolerance * total

    def run(within: tuple[float, float] | None) -> tuple[int, bool]:
        gaps = []
        for sweep in range(1, max_iterations + 1):
            # The gaps met during a sweep cost nothing extra; confirm exactly when small.
            gaps.append(_sweep(weight, members, group_codes, targets, within))
            if gaps[-1] <= limit and _margin_error(weight, members, group_codes, targets) <= limit:
                return sweep, True
            if within is not None and sweep > _STALL and gaps[-1] > 0.5 * gaps[-1 - _STALL]:
                return sweep, False  # stuck at a positive gap: no weights meet both
        return max_iterations, False

    iterations, converged = run(limits)
    if limits is not None and not converged:
        more, _ = run(None)  # bounds too tight for these margins: margins come first
        iterations += more
    error = _margin_error(weight, members, group_codes, targets)

    return RakingResult(
        weights=weight[group],
        iterations=iterations,
        converged=error <= limit,
        max_margin_error=error * unit,
        bounds_met=_within(weight, *limits) if limits is not None else None,
    )


def post_stratify(cells: ArrayLike, population: Mapping[int, float]) -> np.ndarray:
    """Post-stratification weights: N_c / n_c for every row in cell c.

    ``population`` maps each cell to its population total, or to shares summing to 1
    (then the weights sum to n). Every row's cell must be in the table, and every cell
    with population needs respondents: an empty cell raises ValueError rather than being
    silently dropped, since dropping it would mis-state the population. Collapse cells
    with fewer than :data:`MIN_CELL_N` respondents beforehand to avoid extreme weights.
    """
    codes = np.asarray(cells).ravel()
    if codes.size == 0:
        raise ValueError("no rows to weight")
    values, inverse, counts = np.unique(codes, return_inverse=True, return_counts=True)
    present = {value.item() for value in values}
    unknown = [c for c in present if c not in population]
    if unknown:
        raise ValueError(f"rows in cells the population table does not have: {sorted(unknown)}")
    empty = [c for c, size in population.items() if size > 0 and c not in present]
    if empty:
        raise ValueError(f"cells with population but no respondents: {sorted(empty)}")
    sizes = np.array([float(population[value.item()]) for value in values])
    if np.any(sizes <= 0) or not np.all(np.isfinite(sizes)):
        zero = [values[i].item() for i in np.flatnonzero(~(sizes > 0))]
        raise ValueError(f"cells with respondents but no population: {zero}")
    total = float(sum(population.values()))
    if abs(total - 1) <= _SHARE_TOLERANCE:
        sizes = sizes * codes.size
    return (sizes / counts)[inverse.ravel()]


def kish_design_effect(weights: ArrayLike) -> float:
    """Kish's design effect of unequal weighting: 1 + CV^2 = n sum(w^2) / sum(w)^2.

    Sums of squares use einsum rather than BLAS ``dot``, whose threads slow right down
    on a busy machine.

    How much weighting inflates variances compared with an unweighted sample of the same
    size (ignoring any correlation of weights with the answers).
    """
    w = _check_weights(weights)
    return float(w.size * np.einsum("i,i->", w, w) / w.sum() ** 2)


def effective_sample_size(weights: ArrayLike) -> float:
    """Kish's effective sample size sum(w)^2 / sum(w^2) = n / design effect."""
    w = _check_weights(weights)
    return float(w.sum() ** 2 / np.einsum("i,i->", w, w))


def _check_weights(weights: ArrayLike) -> np.ndarray:
    w = np.asarray(weights, dtype=float).ravel()
    if w.size == 0 or np.any(w < 0) or not np.all(np.isfinite(w)) or w.sum() <= 0:
        raise ValueError("weights must be finite, not negative, and not all zero")
    return w


class WeightedShare(NamedTuple):
    """A category's weighted share with its approximate confidence interval."""

    category: Hashable
    share: float
    ci_low: float
    ci_high: float


def positions(codes: np.ndarray, categories: np.ndarray) -> np.ndarray:
    """Index of each row's code in ``categories``, or -1 when it is not one of them."""
    if (
        codes.size
        and categories.size
        and np.issubdtype(codes.dtype, np.integer)
        and np.issubdtype(categories.dtype, np.integer)
    ):
        start = min(int(codes.min()), int(categories.min()))
        stop = max(int(codes.max()), int(categories.max()))
        if stop - start < 1 << 20:  # small integer codes: one table look-up per row
            lookup = np.full(stop - start + 1, -1, dtype=np.intp)
            lookup[categories - start] = np.arange(categories.size)
            index = codes.astype(np.intp)
            index -= start
            return lookup[index]
    order = np.argsort(categories, kind="stable")
    ranked = categories[order]
    if not ranked.size:
        return np.full(codes.shape, -1, dtype=np.intp)
    where = np.clip(np.searchsorted(ranked, codes), 0, ranked.size - 1)
    return np.where(ranked[where] == codes, order[where], -1)


def weighted_distribution(
    codes: ArrayLike,
    weights: ArrayLike,
    categories: Iterable[Hashable],
    *,
    confidence: float = 0.95,
) -> list[WeightedShare]:
    """Weighted shares of ``categories`` with design-effect-adjusted Wilson intervals.

    Rows whose code is not one of ``categories`` (no answer, -1) are left out of the base.
    The interval is Wilson's with n replaced by Kish's effective sample size of the rows
    answered (sum w)^2 / sum w^2, and successes by share x that size: the usual
    approximation for weighted proportions (as Korn & Graubard 1998 do for the
    Clopper-Pearson interval). It widens the interval by the variance cost of unequal
    weights without a replicate-weights variance estimate we do not have; it ignores any
    gain from weighting on variables related to the answer, so it errs on the wide side.
    No answered rows give shares 0 with the interval (0, 1).
    """
    values = np.asarray(codes)
    w = np.asarray(weights, dtype=float)
    if values.ndim != 1 or values.shape != w.shape:
        raise ValueError("codes and weights must be 1-D and of the same length")
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ValueError("weights must be finite and not negative")
    wanted = list(categories)
    if len(set(wanted)) != len(wanted):
        raise ValueError("categories must be distinct")
    k = len(wanted)
    bins = positions(values, np.asarray(wanted))
    bins += 1  # bin 0 collects the rows left out
    totals = np.bincount(bins, weights=w, minlength=k + 1)[1:]
    squares = float(np.bincount(bins, weights=w * w, minlength=k + 1)[1:].sum())
    total = float(totals.sum())
    if total <= 0:
        return [WeightedShare(c, 0.0, 0.0, 1.0) for c in wanted]
    n_eff = total**2 / squares
    shares = totals / total
    low, high = wilson_interval(shares * n_eff, np.full(k, n_eff), confidence)
    return [
        WeightedShare(c, float(s), float(lo), float(hi))
        for c, s, lo, hi in zip(wanted, shares, low, high, strict=True)
    ]


# --- Group comparisons ---------------------------------------------------------------------


def chi_square_independence(table: ArrayLike) -> tuple[float, float, int, float]:
    """Pearson chi-square test of independence: (chi2, p, dof, Cramér's V).

    Empty rows and columns are dropped first (they carry no information and would give
    zero expected counts). Yates' continuity correction is applied to 2 x 2 tables only,
    as scipy does (dof = 1); larger tables use the uncorrected statistic. Cramér's V,
    sqrt(chi2 / (n (min(r, c) - 1))), is always from the uncorrected statistic so that it
    is comparable across table sizes. Check :func:`chi_square_valid` on the expected
    counts (``scipy.stats.contingency.expected_freq``) before showing the p-value.
    """
    observed = np.asarray(table, dtype=float)
    if observed.ndim != 2 or np.any(observed < 0):
        raise ValueError("table must be a two-way table of non-negative counts")
    observed = observed[observed.sum(axis=1) > 0][:, observed.sum(axis=0) > 0]
    if min(observed.shape) < 2:
        raise ValueError("need at least two non-empty rows and two non-empty columns")
    result = stats.chi2_contingency(observed, correction=True)
    plain = stats.chi2_contingency(observed, correction=False).statistic
    n = observed.sum()
    v = math.sqrt(float(plain) / (n * (min(observed.shape) - 1)))
    return float(result.statistic), float(result.pvalue), int(result.dof), v


def kruskal_wallis(groups: Sequence[ArrayLike]) -> tuple[float, float, float]:
    """Kruskal-Wallis H test across groups: (H, p, epsilon squared).

    Epsilon squared = H / (n - 1) (Tomczak & Tomczak 2014) is the rank-based share of
    variance between groups, 0 to 1. Empty groups are dropped; all values identical gives
    (0, 1, 0) rather than an error, since there is plainly no difference.
    """
    samples = [np.asarray(g, dtype=float).ravel() for g in groups]
    samples = [s for s in samples if s.size]
    if len(samples) < 2:
        raise ValueError("need at least two non-empty groups")
    pooled = np.concatenate(samples)
    if np.all(pooled == pooled[0]):
        return 0.0, 1.0, 0.0
    h, p_value = stats.kruskal(*samples)
    return float(h), float(p_value), float(h) / (pooled.size - 1)


def mann_whitney(a: ArrayLike, b: ArrayLike) -> tuple[float, float, float]:
    """Two-sided Mann-Whitney U test: (U of ``a``, p, rank-biserial r).

    r = 2 U / (n_a n_b) - 1 (Kerby 2014's simple difference): the share of pairs where
    ``a`` is larger minus the share where ``b`` is, ties counted half; -1 to 1, positive
    when ``a`` tends to be larger.
    """
    x = np.asarray(a, dtype=float).ravel()
    y = np.asarray(b, dtype=float).ravel()
    if not x.size or not y.size:
        raise ValueError("both groups need values")
    result = stats.mannwhitneyu(x, y, alternative="two-sided")
    u = float(result.statistic)
    return u, float(result.pvalue), 2 * u / (x.size * y.size) - 1


def holm(p_values: ArrayLike) -> np.ndarray:
    """Holm-Bonferroni step-down adjusted p-values, in the input order.

    Controls the family-wise error rate like Bonferroni but is uniformly more powerful.
    The i-th smallest p is multiplied by (m - i + 1), made non-decreasing in that order
    (so an adjusted p never falls below that of a smaller raw p), and capped at 1.
    """
    p = np.asarray(p_values, dtype=float).ravel()
    if np.any((p < 0) | (p > 1)) or np.any(np.isnan(p)):
        raise ValueError("p-values must be between 0 and 1")
    m = p.size
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate(p[order] * (m - np.arange(m)))
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted
