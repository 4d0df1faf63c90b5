"""Small-cell suppression (statistical disclosure control) for aggregate pages and exports.

Counts of fewer than ``k`` people could identify someone, so every published table goes
through this module first. The rules:

- Primary: a cell with ``0 < n < k`` is suppressed. Zeros are shown (they reveal nothing
  about a person). A margin (row total, column total, grand total) with ``0 < n < k`` is
  suppressed as well.
- Secondary: a suppressed value must not be recoverable by subtraction. Every row and
  column is a line ``cells + ... = total``; the line of row totals sums to the grand total,
  and so does the line of column totals. Until nothing changes: in any line where exactly
  one entry is suppressed, also suppress the smallest published cell of that line
  (non-zero cells first, then zeros, lowest index on ties), or the line's total when the
  line has no other cell.
- "Two per line" is not enough on its own: two blocks of suppressed cells joined by a
  single suppressed cell let that cell be solved from sums of several lines. Seen as a
  graph (lines are vertices, suppressed entries are edges) a suppressed value is exactly
  determined by the published sums if and only if its edge is a bridge, so each bridge
  gets an extra suppressed cell that closes a cycle through it.

The result guarantees that no suppressed value follows from the published numbers by
linear equations alone. It does not promise a minimum width for the feasible range of a
suppressed cell (that needs linear programming); the two-per-line rule with non-zero cells
preferred keeps those ranges useful in practice. Deterministic: same input, same output.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

__all__ = ["SuppressedTable", "is_suppressed", "suppress_counts", "suppress_table"]


@dataclass(frozen=True)
class SuppressedTable:
    """A two-way table ready to publish: ``None`` marks a suppressed value."""

    cells: list[list[int | None]]
    row_totals: list[int | None]
    column_totals: list[int | None]
    grand_total: int | None
    primary: set[tuple[int, int]]  # cells suppressed because 0 < n < k
    secondary: set[tuple[int, int]]  # cells suppressed so margins cannot reveal a primary one


def is_suppressed(value: int | None) -> bool:
    """True for a suppressed value, so templates need not know the ``None`` convention."""
    return value is None


def suppress_table(counts: Sequence[Sequence[int]], k: int) -> SuppressedTable:
    """Suppress cells and margins of a two-way table of counts with threshold ``k``."""
    _check_k(k)
    n_rows = len(counts)
    n_cols = len(counts[0]) if n_rows else 0
    if any(len(row) != n_cols for row in counts):
        raise ValueError("every row must have the same number of cells")
    # The augmented table: row n_rows holds the column totals, column n_cols the row totals.
    values: dict[tuple[int, int], int] = {}
    for i, row in enumerate(counts):
        for j, n in enumerate(row):
            values[i, j] = _check_count(n)
        values[i, n_cols] = sum(row)
    for j in range(n_cols):
        values[n_rows, j] = sum(counts[i][j] for i in range(n_rows))
    values[n_rows, n_cols] = sum(values[i, n_cols] for i in range(n_rows))

    lines: list[_Line] = [
        _Line(tuple((i, j) for j in range(n_cols)), (i, n_cols)) for i in range(n_rows + 1)
    ] + [_Line(tuple((i, j) for i in range(n_rows)), (n_rows, j)) for j in range(n_cols + 1)]
    suppressed = _protect(values, lines, k)

    def shown(key: tuple[int, int]) -> int | None:
        return None if key in suppressed else values[key]

    inner = {key for key in suppressed if key[0] < n_rows and key[1] < n_cols}
    primary = {key for key in inner if 0 < values[key] < k}
    return SuppressedTable(
        cells=[[shown((i, j)) for j in range(n_cols)] for i in range(n_rows)],
        row_totals=[shown((i, n_cols)) for i in range(n_rows)],
        column_totals=[shown((n_rows, j)) for j in range(n_cols)],
        grand_total=shown((n_rows, n_cols)),
        primary=primary,
        secondary=inner - primary,
    )


def suppress_counts(counts: Sequence[int], k: int) -> tuple[list[int | None], int | None]:
    """Suppress a one-way table (e.g. answers to one question); returns cells and total."""
    _check_k(k)
    values: dict[int, int] = {i: _check_count(n) for i, n in enumerate(counts)}
    total_key = len(counts)
    values[total_key] = sum(counts)
    suppressed = _protect(values, [_Line(tuple(range(len(counts))), total_key)], k)
    cells = [None if i in suppressed else n for i, n in enumerate(counts)]
    return cells, None if total_key in suppressed else values[total_key]


# --- core ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    """One additive constraint: the members sum to the total."""

    members: tuple[Hashable, ...]
    total: Hashable


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")


def _check_count(n: int) -> int:
    if n < 0:
        raise ValueError(f"counts cannot be negative, got {n}")
    return n


def _protect(values: dict[Hashable, int], lines: list[_Line], k: int) -> set[Hashable]:
    """Return the keys to suppress: primary ones, then secondary ones until safe."""
    order = {key: index for index, key in enumerate(values)}
    ends = _endpoints(lines, values)
    margins = {line.total for line in lines}
    suppressed = {key for key, n in values.items() if 0 < n < k}
    while _fix_single(values, lines, suppressed, order) or _fix_bridge(
        values, ends, margins, suppressed, order
    ):
        pass
    return suppressed


def _fix_single(
    values: dict[Hashable, int],
    lines: list[_Line],
    suppressed: set[Hashable],
    order: dict[Hashable, int],
) -> bool:
    """Suppress one more entry in the first line with exactly one suppressed entry."""
    for line in lines:
        hidden = [key for key in (*line.members, line.total) if key in suppressed]
        if len(hidden) != 1:
            continue
        candidates = [key for key in line.members if key not in suppressed]
        if candidates:
            suppressed.add(min(candidates, key=lambda key: _cost(values[key], order[key])))
        else:
            suppressed.add(line.total)
        return True
    return False


def _cost(value: int, index: int) -> tuple[bool, int, int]:
    """Smallest non-zero value first, then zeros, ties to the lowest index."""
    return value == 0, value, index


def _fix_bridge(
    values: dict[Hashable, int],
    ends: dict[Hashable, list[object]],
    margins: set[Hashable],
    suppressed: set[Hashable],
    order: dict[Hashable, int],
) -> bool:
    """Close a cycle through the first suppressed entry that sums of lines could solve."""
    edges = sorted(suppressed, key=order.__getitem__)
    bridge = _first_bridge(edges, ends)
    if bridge is None:
        return False
    rest = [edge for edge in edges if edge != bridge]
    side_a = _reachable(ends[bridge][0], rest, ends)
    side_b = _reachable(ends[bridge][1], rest, ends)
    candidates = [
        key
        for key in values
        if key not in suppressed
        and (
            (ends[key][0] in side_a and ends[key][1] in side_b)
            or (ends[key][0] in side_b and ends[key][1] in side_a)
        )
    ]
    if not candidates:  # cannot happen once every line has 0 or >= 2 suppressed entries
        raise RuntimeError("no cell can protect a suppressed value")
    suppressed.add(
        min(candidates, key=lambda key: (key in margins, *_cost(values[key], order[key])))
    )
    return True


_FREE = object()  # stands for "no constraint": an entry that sits in only one line


def _endpoints(lines: list[_Line], values: dict[Hashable, int]) -> dict[Hashable, list[object]]:
    """Map each entry to the two lines (graph vertices) it belongs to."""
    ends: dict[Hashable, list[object]] = {key: [] for key in values}
    for index, line in enumerate(lines):
        for key in (*line.members, line.total):
            ends[key].append(index)
    for key, pair in ends.items():
        pair.extend([_FREE] * (2 - len(pair)))
        if len(pair) != 2:
            raise ValueError(f"entry {key!r} belongs to more than two lines")
    return ends


def _first_bridge(edges: list[Hashable], ends: dict[Hashable, list[object]]) -> Hashable | None:
    """Return the first edge (in ``edges`` order) whose removal disconnects its ends."""
    adjacency: dict[object, list[tuple[object, Hashable]]] = {}
    for edge in edges:
        a, b = ends[edge]
        adjacency.setdefault(a, []).append((b, edge))
        adjacency.setdefault(b, []).append((a, edge))
    discovered: dict[object, int] = {}
    low: dict[object, int] = {}
    bridges: set[Hashable] = set()
    for root in adjacency:
        if root in discovered:
            continue
        discovered[root] = low[root] = len(discovered)
        # Iterative Tarjan: (vertex, edge used to reach it, iterator over neighbours).
        stack = [(root, None, iter(adjacency[root]))]
        while stack:
            vertex, via, neighbours = stack[-1]
            for neighbour, edge in neighbours:
                if edge == via:
                    continue
                if neighbour in discovered:
                    low[vertex] = min(low[vertex], discovered[neighbour])
                else:
                    discovered[neighbour] = low[neighbour] = len(discovered)
                    stack.append((neighbour, edge, iter(adjacency[neighbour])))
                    break
            else:
                stack.pop()
                if stack:
                    parent = stack[-1][0]
                    low[parent] = min(low[parent], low[vertex])
                    if low[vertex] > discovered[parent]:
                        bridges.add(via)
    return next((edge for edge in edges if edge in bridges), None)


def _reachable(
    start: object, edges: list[Hashable], ends: dict[Hashable, list[object]]
) -> set[object]:
    """Vertices reachable from ``start`` over ``edges``."""
    adjacency: dict[object, list[object]] = {}
    for edge in edges:
        a, b = ends[edge]
        adjacency.setdefault(a, []).append(b)
        adjacency.setdefault(b, []).append(a)
    seen = {start}
    todo = [start]
    while todo:
        for neighbour in adjacency.get(todo.pop(), []):
            if neighbour not in seen:
                seen.add(neighbour)
                todo.append(neighbour)
    return seen
