"""Tables for every question: distributions, weighted estimates, group comparisons.

Works on a :class:`Dataset` (one numpy column per codebook variable, plus weights) so
the same code serves the page, the CLI, the API and the benchmark. The rules that keep
numbers honest and safe, stated on the page as well:

- a count below ``k`` is hidden, with secondary suppression so totals cannot reveal it;
- shares are not shown at all for a base below ``k``;
- only groups with at least :data:`MIN_GROUP_N` answers enter a test, and a test needs
  two of them; the chi-square p-value only when Cochran's rule on expected counts holds;
- ordinal items are compared with Kruskal-Wallis (Mann-Whitney for two groups), nominal
  ones with the chi-square test of independence; p-values are Holm-adjusted across all
  comparisons on one table set;
- tests use unweighted answers (scipy's tests assume simple random samples); weighted
  shares come with intervals widened by Kish's design effect.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats
from scipy.stats.contingency import expected_freq

from app.results import statistics
from app.results.codebook import CODED, INDICATOR, NUMBER, RANK, RATING, Variable, label_in
from app.results.disclosure import suppress_counts, suppress_table

MIN_GROUP_N = 30
CATEGORICAL_SOURCES = frozenset({CODED, RATING, INDICATOR})
NUMERIC_SOURCES = frozenset({NUMBER, RANK})
INTERSECTION_SEPARATOR = " \u00d7 "


@dataclass
class Dataset:
    """Columns of numeric codes (NaN = no answer) for categorical and numeric variables."""

    variables: list[Variable]
    columns: dict[str, np.ndarray]
    weights: np.ndarray | None = None  # None: unweighted

    @property
    def n(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0


def dataset_from_rows(variables: Sequence[Variable], rows: Iterable[dict], *,
                      weighted: bool = False) -> Dataset:
    """Build columns from wide rows; with ``weighted`` keep only rows that have a weight."""
    kept = [v for v in variables if v.source in CATEGORICAL_SOURCES | NUMERIC_SOURCES]
    values: dict[str, list[float]] = {v.name: [] for v in kept}
    weights: list[float] = []
    for row in rows:
        if weighted:
            weight = row.get("weight")
            if weight is None:
                continue
            weights.append(float(weight))
        for var in kept:
            value = row.get(var.name)
            values[var.name].append(np.nan if value is None else float(value))
    return Dataset(kept, {name: np.asarray(column, dtype=float)
                          for name, column in values.items()},
                   np.asarray(weights, dtype=float) if weighted else None)


@dataclass(frozen=True)
class Line:
    code: int
    label: str
    count: int | None  # None: hidden (fewer than k, or to protect one that is)
    share: float | None  # None when the base is below k
    low: float | None
    high: float | None
    weighted_share: float | None = None
    weighted_low: float | None = None
    weighted_high: float | None = None


@dataclass(frozen=True)
class Test:
    name: str  # chi-square | kruskal-wallis | mann-whitney
    statistic: float
    p_value: float
    effect_name: str  # cramers-v | epsilon-squared | rank-biserial
    effect: float
    dof: int | None = None
    p_holm: float | None = None


@dataclass(frozen=True)
class Comparison:
    """A question's answers by group: counts (suppressed) and, when allowed, a test."""

    groups: list[str]
    counts: list[list[int | None]]  # rows: categories; columns: groups
    group_totals: list[int | None]
    column_shares: list[list[float | None]]
    test: Test | None
    reason: str = ""  # why no test: too-few, expected-counts, no-variation


@dataclass(frozen=True)
class NumericSummary:
    n: int | None
    mean: float | None
    low: float | None
    high: float | None
    median: float | None
    weighted_mean: float | None = None


@dataclass
class Table:
    variable: Variable
    label: str
    ordinal: bool
    n: int | None  # answered (None: hidden)
    lines: list[Line] = field(default_factory=list)
    numeric: NumericSummary | None = None
    effective_n: float | None = None
    comparison: Comparison | None = None


def _codes(var: Variable) -> list[int]:
    if var.source == INDICATOR:
        return [0, 1]
    return sorted(var.values) if var.values else []


def _labels(var: Variable, language: str) -> dict[int, str]:
    if var.source == INDICATOR:
        return {0: "0", 1: "1"}
    return {code: label_in(var.value_labels[code], language) if code in var.value_labels
            else var.values.get(code, str(code)) for code in _codes(var)}


@dataclass(frozen=True)
class Grouping:
    """Respondents' group, as an index into ``labels`` (-1: no group); intersections too."""

    names: tuple[str, ...]
    index: np.ndarray
    labels: list[str]


def grouping(data: Dataset, names: Sequence[str], language: str) -> Grouping:
    """Combine one or more categorical variables into groups (e.g. 65+ x rural).

    Every combination that occurs becomes a group; a respondent missing any of the
    variables is in none.
    """
    found = {v.name: v for v in data.variables}
    unknown = [n for n in names if n not in found or found[n].source not in
               CATEGORICAL_SOURCES]
    if unknown or not names:
        raise ValueError(f"not a categorical variable: {', '.join(unknown) or '(none)'}")
    columns = [data.columns[n] for n in names]
    answered = np.all([~np.isnan(c) for c in columns], axis=0)
    # One integer per combination (mixed radix over each variable's codes), so finding
    # the groups is a 1-D unique rather than a much slower unique over rows.
    digits = [np.where(answered, c, 0).astype(np.int64) for c in columns]
    lows = [int(d[answered].min()) if answered.any() else 0 for d in digits]
    spans = [int(d[answered].max()) - low + 1 if answered.any() else 1
             for d, low in zip(digits, lows, strict=True)]
    key = np.zeros(data.n, dtype=np.int64)
    for d, low, span in zip(digits, lows, spans, strict=True):
        key = key * span + (d - low)
    keys, inverse = np.unique(key[answered], return_inverse=True)
    index = np.full(data.n, -1, dtype=np.int64)
    index[answered] = inverse.ravel()
    combos = []
    for value in keys.tolist():
        combo = []
        for low, span in reversed(list(zip(lows, spans, strict=True))):
            value, digit = divmod(value, span)
            combo.append(digit + low)
        combos.append(combo[::-1])
    label_maps = [_labels(found[n], language) for n in names]
    labels = [INTERSECTION_SEPARATOR.join(m.get(int(code), str(int(code)))
                                          for m, code in zip(label_maps, combo, strict=True))
              for combo in combos]
    return Grouping(tuple(names), index, labels)


def question_tables(data: Dataset, *, k: int, language: str,
                    by: Grouping | None = None, names: Sequence[str] | None = None
                    ) -> list[Table]:
    """A table per variable (all, or ``names``), with Holm-adjusted group tests."""
    wanted = [v for v in data.variables if names is None or v.name in names]
    tables = [table(data, var, k=k, language=language, by=by) for var in wanted
              if by is None or var.name not in by.names]
    tested = [t for t in tables if t.comparison and t.comparison.test]
    if tested:
        adjusted = statistics.holm([t.comparison.test.p_value for t in tested])  # type: ignore[union-attr]
        for t, p in zip(tested, adjusted, strict=True):
            test = t.comparison.test  # type: ignore[union-attr]
            t.comparison = Comparison(
                t.comparison.groups, t.comparison.counts, t.comparison.group_totals,  # type: ignore[union-attr]
                t.comparison.column_shares, Test(  # type: ignore[union-attr]
                    test.name, test.statistic, test.p_value, test.effect_name, test.effect,
                    test.dof, float(p)))
    return tables


def table(data: Dataset, var: Variable, *, k: int, language: str,
          by: Grouping | None = None) -> Table:
    column = data.columns[var.name]
    answered = ~np.isnan(column)
    ordinal = var.measurement == "ordinal"
    if var.source in NUMERIC_SOURCES:
        return Table(var, label_in(var.label, language), ordinal=True,
                     n=_shown(int(answered.sum()), k),
                     numeric=_numeric(column, answered, data.weights, k),
                     comparison=None if by is None else compare_numbers(column, by, k=k))
    codes = _codes(var)
    labels = _labels(var, language)
    found = statistics.positions(np.where(answered, column, -1).astype(np.int64),
                                 np.asarray(codes, dtype=np.int64))
    counts = np.bincount(found[found >= 0], minlength=len(codes)).tolist()
    cells, total = suppress_counts(counts, k)
    n = int(answered.sum())
    low, high = statistics.wilson_interval(np.asarray(counts, float),
                                           np.full(len(codes), float(n)))
    weighted: list[statistics.WeightedShare] | None = None
    effective = None
    if data.weights is not None and n:
        weighted = statistics.weighted_distribution(
            np.where(answered, column, -1).astype(np.int64), data.weights, codes)
        w = data.weights[answered]
        effective = float(w.sum() ** 2 / np.einsum("i,i->", w, w)) if w.sum() > 0 else None
    show = n >= k
    lines = []
    for i, code in enumerate(codes):
        visible = cells[i] is not None and show
        lines.append(Line(
            code, labels[code], cells[i],
            counts[i] / n if visible and n else None,
            float(low[i]) if visible else None, float(high[i]) if visible else None,
            weighted[i].share if weighted and visible else None,
            weighted[i].ci_low if weighted and visible else None,
            weighted[i].ci_high if weighted and visible else None))
    result = Table(var, label_in(var.label, language), ordinal, total, lines,
                   effective_n=effective if show else None)
    if by is not None:
        result.comparison = compare(column, codes, by, k=k, ordinal=ordinal,
                                    scale=substantive_codes(var))
    return result


def is_special(var: Variable, code: int) -> bool:
    """Don't know, prefer not to say and the like: stored values starting with "_"."""
    return var.values.get(code, "").startswith("_")


def substantive_codes(var: Variable) -> list[int]:
    """The codes that lie on the item's scale, in order (specials left out)."""
    return [code for code in _codes(var) if not is_special(var, code)]


def _shown(n: int, k: int) -> int | None:
    return n if n == 0 or n >= k else None


def _numeric(column: np.ndarray, answered: np.ndarray, weights: np.ndarray | None,
             k: int) -> NumericSummary:
    values = column[answered]
    n = int(values.size)
    if n < k:
        return NumericSummary(_shown(n, k), None, None, None, None)
    mean = float(values.mean())
    half = 0.0
    if n > 1:
        half = float(stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / np.sqrt(n))
    weighted_mean = None
    if weights is not None:
        w = weights[answered]
        weighted_mean = float(np.einsum("i,i->", w, values) / w.sum()) if w.sum() > 0 else None
    return NumericSummary(n, mean, mean - half, mean + half, float(np.median(values)),
                          weighted_mean)


def compare(column: np.ndarray, codes: Sequence[int], by: Grouping, *, k: int,
            ordinal: bool, scale: Sequence[int] | None = None) -> Comparison:
    """Cross-table of a variable by group, suppressed, with the test the rules allow.

    An ordinal test ranks only the answers on the ``scale`` (not "don't know").
    """
    answered = ~np.isnan(column) & (by.index >= 0)
    groups = len(by.labels)
    position = {code: i for i, code in enumerate(codes)}
    rows = statistics.positions(column[answered].astype(np.int64), np.asarray(codes))
    cols = by.index[answered]
    keep = rows >= 0
    table_counts = np.bincount(rows[keep] * groups + cols[keep],
                               minlength=len(codes) * groups).reshape(len(codes), groups)
    shown = suppress_table(table_counts.tolist(), k)
    totals = table_counts.sum(axis=0)
    shares = [[(int(table_counts[i, j]) / int(totals[j])
                if shown.cells[i][j] is not None and totals[j] >= k else None)
               for j in range(groups)] for i in range(len(codes))]
    if ordinal and scale is not None and len(scale) < len(codes):
        on_scale = np.isin(column[answered][keep], scale)
        values, groups = column[answered][keep][on_scale], cols[keep][on_scale]
        scale_rows = [position[c] for c in scale]
        test, reason = _test(values, groups, table_counts[scale_rows], ordinal)
    else:
        test, reason = _test(column[answered][keep], cols[keep], table_counts, ordinal)
    return Comparison(by.labels, shown.cells, shown.column_totals, shares, test, reason)


def compare_numbers(column: np.ndarray, by: Grouping, *, k: int) -> Comparison:
    """Group sizes (suppressed) and a rank test of a numeric variable across groups."""
    answered = ~np.isnan(column) & (by.index >= 0)
    sizes = np.bincount(by.index[answered], minlength=len(by.labels))
    shown, _total = suppress_counts(sizes.tolist(), k)
    test, reason = _test(column[answered], by.index[answered], sizes[None, :], True)
    return Comparison(by.labels, [], shown, [], test, reason)


def _test(values: np.ndarray, groups: np.ndarray, counts: np.ndarray,
          ordinal: bool) -> tuple[Test | None, str]:
    totals = counts.sum(axis=0)
    present = np.flatnonzero(totals >= MIN_GROUP_N)  # smaller groups stay out of tests
    if present.size < 2:
        return None, "too-few"
    if ordinal:
        samples = [values[groups == g] for g in present]
        if present.size == 2:
            u, p, r = statistics.mann_whitney(samples[0], samples[1])
            return Test("mann-whitney", u, p, "rank-biserial", r), ""
        h, p, epsilon = statistics.kruskal_wallis(samples)
        return Test("kruskal-wallis", h, p, "epsilon-squared", epsilon,
                    dof=int(present.size - 1)), ""
    observed = counts[counts.sum(axis=1) > 0][:, present]
    if observed.shape[0] < 2:
        return None, "no-variation"
    if not statistics.chi_square_valid(expected_freq(observed)):
        return None, "expected-counts"
    chi2, p, dof, v = statistics.chi_square_independence(observed)
    return Test("chi-square", chi2, p, "cramers-v", v, dof=dof), ""


def load_dataset(survey, version, *, secret: str,
                 weights: dict[int, float] | None = None) -> Dataset:
    """The analysable responses of one survey version as a :class:`Dataset`.

    With ``weights`` only weighted responses are kept (a scheme covers one country and
    the people who answered its variables), so weighted and unweighted columns describe
    the same people.
    """
    from app.results import wide

    variables = wide.codebook_of(version)
    rows = wide.wide_rows(survey, version, secret=secret, weights=weights,
                          variables=variables)
    return dataset_from_rows(variables, rows, weighted=weights is not None)
