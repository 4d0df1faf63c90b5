"""Small-cell suppression: no suppressed count can be worked back out of the published ones.

Besides the counting rule (every line with a published total has 0 or >= 2 suppressed
cells), the tests check the stronger property directly with linear algebra: a suppressed
value is recoverable exactly when its unit vector lies in the row space of the equations
the published numbers give.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.results.disclosure import (
    SuppressedTable,
    is_suppressed,
    suppress_counts,
    suppress_table,
)

Entry = tuple[int, int]


def augmented(table: SuppressedTable) -> list[list[int | None]]:
    """The published table with row totals as last column and column totals as last row."""
    rows = [[*row, total] for row, total in zip(table.cells, table.row_totals, strict=True)]
    return [*rows, [*table.column_totals, table.grand_total]]


def lines(n_rows: int, n_cols: int) -> list[tuple[list[Entry], Entry]]:
    """Every additive constraint of the augmented table: (members, total)."""
    row_lines = [([(i, j) for j in range(n_cols)], (i, n_cols)) for i in range(n_rows + 1)]
    col_lines = [([(i, j) for i in range(n_rows)], (n_rows, j)) for j in range(n_cols + 1)]
    return row_lines + col_lines


def recoverable(published: list[list[int | None]]) -> set[Entry]:
    """Suppressed entries whose value follows exactly from the published sums."""
    n_rows, n_cols = len(published) - 1, len(published[0]) - 1
    hidden = [
        (i, j) for i, row in enumerate(published) for j, value in enumerate(row) if value is None
    ]
    if not hidden:
        return set()
    column = {entry: index for index, entry in enumerate(hidden)}
    equations = []
    for members, total in lines(n_rows, n_cols):
        equation = np.zeros(len(hidden))
        for entry in members:
            if entry in column:
                equation[column[entry]] = 1
        if total in column:
            equation[column[total]] = -1
        equations.append(equation)
    matrix = np.array(equations)
    rank = np.linalg.matrix_rank(matrix)
    found = set()
    for entry, index in column.items():
        unit = np.zeros(len(hidden))
        unit[index] = 1
        if np.linalg.matrix_rank(np.vstack([matrix, unit])) == rank:
            found.add(entry)
    return found


def assert_protected(counts: list[list[int]], k: int, table: SuppressedTable) -> None:
    n_rows, n_cols = len(counts), len(counts[0])
    published = augmented(table)
    truth = [[*row, sum(row)] for row in counts]
    truth.append([*(sum(col) for col in zip(*counts, strict=True)), sum(map(sum, counts))])
    for i, row in enumerate(published):
        for j, value in enumerate(row):
            if value is not None:
                assert value == truth[i][j]
                assert not 0 < value < k, (i, j)
    for members, total in lines(n_rows, n_cols):
        if published[total[0]][total[1]] is not None:
            hidden = sum(published[i][j] is None for i, j in members)
            assert hidden != 1, (members, total)
    assert recoverable(published) == set()
    inner_hidden = {
        (i, j) for i in range(n_rows) for j in range(n_cols) if table.cells[i][j] is None
    }
    assert table.primary == {
        (i, j) for i in range(n_rows) for j in range(n_cols) if 0 < counts[i][j] < k
    }
    assert table.primary | table.secondary == inner_hidden
    assert not table.primary & table.secondary


def test_a_row_total_does_not_give_away_its_small_cell() -> None:
    counts = [[3, 20, 30], [10, 12, 40], [15, 25, 50]]
    table = suppress_table(counts, k=5)
    assert table.primary == {(0, 0)}
    assert table.cells[0] == [None, None, 30]  # 53 - 30 = 23 = 3 + 20: no single value
    assert table.row_totals == [53, 62, 90]
    assert table.column_totals == [28, 57, 120]
    assert table.grand_total == 205
    assert_protected(counts, 5, table)


def test_a_column_total_does_not_give_away_its_small_cell() -> None:
    counts = [[30, 40], [2, 50], [25, 60]]
    table = suppress_table(counts, k=5)
    assert table.primary == {(1, 0)}
    assert [row[0] for row in table.cells] == [30, None, None]  # smallest other: 25
    assert table.secondary == {(2, 0), (1, 1), (2, 1)}
    assert table.cells == [[30, 40], [None, None], [None, None]]
    assert_protected(counts, 5, table)


def test_secondary_suppression_is_repeated_until_every_line_is_safe() -> None:
    # 3 is primary; the row hides 20, which leaves column 1 with one hidden cell, so 12
    # goes too; that reaches row 1, which column 0 (hiding 3 and 10) already covers.
    counts = [[3, 20, 30], [10, 12, 40], [15, 25, 50]]
    table = suppress_table(counts, k=5)
    assert table.secondary == {(0, 1), (1, 0), (1, 1)}
    assert (1, 1) in table.secondary  # neither in the primary cell's row nor its column


def test_a_chain_of_suppressed_cells_gets_no_solvable_link() -> None:
    # Every line has 0 or >= 2 suppressed cells, yet the sums of rows 0-1 minus the sums of
    # columns 0-1 would give cell (1, 2) = 2: it must be tied into a cycle.
    counts = [[1, 2, 50, 60], [3, 4, 2, 70], [80, 90, 1, 2], [85, 95, 3, 4]]
    table = suppress_table(counts, k=5)
    assert table.secondary == {(0, 2)}
    assert_protected(counts, 5, table)


def test_zeros_are_shown() -> None:
    counts = [[0, 3, 20], [0, 4, 30]]
    table = suppress_table(counts, k=5)
    assert [row[0] for row in table.cells] == [0, 0]
    assert table.primary == {(0, 1), (1, 1)}
    assert table.secondary == {(0, 2), (1, 2)}  # the rows need a second hidden cell, not 0
    assert table.column_totals == [0, 7, 50]
    assert_protected(counts, 5, table)


def test_a_zero_is_taken_only_when_no_non_zero_cell_is_left() -> None:
    counts = [[20, 0, 0], [3, 30, 40]]
    table = suppress_table(counts, k=5)
    # Column 1 hides 30 and has only the zero above it left.
    assert (0, 1) in table.secondary
    assert table.cells == [[None, None, 0], [None, None, 40]]
    assert_protected(counts, 5, table)


def test_totals_below_k_are_suppressed_and_not_left_to_subtraction() -> None:
    counts = [[1, 2], [10, 20]]
    table = suppress_table(counts, k=5)
    assert table.row_totals[0] is None  # 3 < 5
    assert table.row_totals[1] is None  # else 33 - 30 would give the 3 back
    assert table.column_totals == [11, 22]
    assert table.grand_total == 33
    assert_protected(counts, 5, table)


def test_a_grand_total_below_k_is_suppressed() -> None:
    table = suppress_table([[1, 0], [0, 2]], k=5)
    assert table.grand_total is None
    assert table.cells == [[None, 0], [0, None]]


def test_k_one_suppresses_nothing() -> None:
    counts = [[1, 0, 2], [3, 1, 4]]
    table = suppress_table(counts, k=1)
    assert table.cells == counts
    assert table.row_totals == [3, 8]
    assert table.column_totals == [4, 1, 6]
    assert table.grand_total == 11
    assert table.primary == table.secondary == set()


@pytest.mark.parametrize("k", [0, -3])
def test_k_below_one_is_refused(k: int) -> None:
    with pytest.raises(ValueError):
        suppress_table([[1]], k)
    with pytest.raises(ValueError):
        suppress_counts([1], k)


def test_bad_tables_are_refused() -> None:
    with pytest.raises(ValueError):
        suppress_table([[1, 2], [3]], 5)
    with pytest.raises(ValueError):
        suppress_counts([4, -1], 5)


def test_empty_tables() -> None:
    table = suppress_table([], 5)
    assert (table.cells, table.row_totals, table.column_totals) == ([], [], [])
    assert table.grand_total == 0
    assert suppress_counts([], 5) == ([], 0)


def test_a_single_cell_row_hides_its_total_with_the_cell() -> None:
    counts = [[3], [40]]
    table = suppress_table(counts, k=5)
    assert table.cells == [[None], [None]]
    assert table.row_totals == [None, None]
    assert table.column_totals == [43]
    assert_protected(counts, 5, table)


@pytest.mark.parametrize(
    ("counts", "cells", "total"),
    [
        ([3, 20, 30], [None, None, 30], 53),
        ([0, 3, 6, 9], [0, None, None, 9], 18),
        ([1, 2, 0], [None, None, 0], None),
        ([0, 0, 0], [0, 0, 0], 0),
        ([3], [None], None),
        ([7, 8], [7, 8], 15),
    ],
)
def test_one_way_counts(counts: list[int], cells: list[int | None], total: int | None) -> None:
    assert suppress_counts(counts, 5) == (cells, total)


def test_is_suppressed() -> None:
    assert is_suppressed(None)
    assert not is_suppressed(0)


tables = st.integers(1, 5).flatmap(
    lambda n_cols: st.lists(
        st.lists(st.integers(0, 30), min_size=n_cols, max_size=n_cols), min_size=1, max_size=5
    )
)


@settings(max_examples=300, deadline=None)
@given(counts=tables, k=st.integers(1, 12))
def test_suppressed_tables_never_disclose_a_small_count(counts: list[list[int]], k: int) -> None:
    table = suppress_table(counts, k)
    assert_protected(counts, k, table)
    assert suppress_table(counts, k) == table  # deterministic


@settings(max_examples=300, deadline=None)
@given(counts=st.lists(st.integers(0, 30), max_size=8), k=st.integers(1, 12))
def test_suppressed_counts_never_disclose_a_small_count(counts: list[int], k: int) -> None:
    cells, total = suppress_counts(counts, k)
    published = [*cells, total]
    for value, true in zip(published, [*counts, sum(counts)], strict=True):
        assert value is None or (value == true and not 0 < value < k)
    hidden = published.count(None)
    assert hidden != 1
