"""Per-language rows (titles, descriptions) kept in step with what an editor submitted."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def sync_by_language(rows: list[Any], wanted: Mapping[str, Any],
                     make: Callable[[str], Any], fill: Callable[[Any, Any], None]) -> None:
    """Drop rows whose language is no longer wanted, add new ones, refill the rest.

    ``rows`` is an ORM relationship list (so removal deletes the row); ``make`` builds a
    row for a language and ``fill`` copies the submitted values onto it.
    """
    existing = {row.language: row for row in rows}
    for language, row in existing.items():
        if language not in wanted:
            rows.remove(row)
    for language, given in wanted.items():
        row = existing.get(language)
        if row is None:
            row = make(language)
            rows.append(row)
        fill(row, given)
