"""`flask events select`: draw a citizens' panel from Sortition Foundation input files.

Selection is an offline, published act (the seed often comes from a public dice
roll), so it runs from the command line on the organisers' files rather than in
a web request; the optional JSON output is the record to publish.
"""

from __future__ import annotations

import csv
import json
import warnings
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
import numpy as np
from flask.cli import AppGroup

from app.events import selection
from app.events.selection import Infeasible, Quota, Registrant

events_cli = AppGroup("events", help="Events: panel selection.")

_CATEGORY_COLUMNS = ("category", "name", "min", "max")
_ALGORITHMS = ("leximin", "legacy")
_DEFAULT_DRAWS = 2000


class _FileError(click.ClickException):
    """An input file is malformed; the message names the file (and line when known)."""


@events_cli.command("select")
@click.option("--respondents", "respondents_csv", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="respondents.csv: an id column plus one column per category.")
@click.option("--categories", "categories_csv", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="categories.csv: category, name, min, max.")
@click.option("--size", type=click.IntRange(min=1), required=True, help="Panel size.")
@click.option("--seed", type=click.IntRange(min=0), required=True,
              help="Published random seed (e.g. from a public dice roll).")
@click.option("--algorithm", type=click.Choice(_ALGORITHMS), default="leximin",
              show_default=True, help="LEXIMIN (fairest lottery) or the legacy greedy draw.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the result as JSON to this file.")
@click.option("--draws", type=click.IntRange(min=1), default=None,
              help=f"Legacy only: draws to estimate chances from [default: {_DEFAULT_DRAWS}].")
@click.option("--household-column",
              help="Respondents column holding a household id: at most one person per household.")
def select(respondents_csv: Path, categories_csv: Path, size: int, seed: int, algorithm: str,
           json_out: Path | None, draws: int | None, household_column: str | None) -> None:
    """Select a panel of SIZE people meeting the quotas, reproducibly from SEED.

    Prints the panel and everyone's chance of selection. LEXIMIN chances are
    exact; legacy chances are estimated from --draws seeded runs of the greedy draw.
    """
    if draws is not None and algorithm != "legacy":
        raise click.UsageError("--draws applies only to --algorithm legacy.")
    draws = draws or _DEFAULT_DRAWS
    _check_categories(categories_csv)
    pool, quotas = _read_pool(respondents_csv, categories_csv)
    one_per_household = household_column is not None
    if household_column is not None:
        pool = _with_households(pool, respondents_csv, household_column)

    try:
        infeasible = selection.check_feasible(
            pool, quotas, size, one_per_household=one_per_household
        )
    except ValueError as error:
        raise click.ClickException(f"Panel of {size}: {error}.") from error
    if infeasible is not None:
        raise click.ClickException(_describe_infeasible(infeasible, size))

    capped = False
    try:
        if algorithm == "leximin":
            distribution, capped = _leximin(pool, quotas, size, one_per_household)
            probabilities = distribution.probabilities
            panel = selection.draw_panel(distribution, seed)
        else:
            probabilities = selection.legacy_probabilities(
                pool, quotas, size, draws=draws, seed=seed, one_per_household=one_per_household
            )
            panel = selection.legacy_draw(
                pool, quotas, size, np.random.default_rng(seed),
                one_per_household=one_per_household,
            )
    except selection.InfeasibleQuotas as error:
        raise click.ClickException(_describe_infeasible(error.infeasible, size)) from error
    except selection.SelectionFailed as error:
        raise click.ClickException(
            f"{error}; the legacy method cannot complete this panel, try --algorithm leximin."
        ) from error

    order = [registrant.id for registrant in pool]
    chosen = [rid for rid in order if rid in panel]
    minimum = min(probabilities.values())
    click.echo(f"Algorithm: {algorithm}")
    if algorithm == "legacy":
        click.echo(f"Probabilities estimated from {draws} draws.")
    click.echo(f"Seed: {seed}")
    click.echo(f"Panel ({len(chosen)} of {len(pool)}):")
    for rid in chosen:
        click.echo(f"  {rid}")
    click.echo("Selection probabilities (id, probability, selected):")
    width = max(len(rid) for rid in order)
    for rid in order:
        click.echo(f"  {rid:<{width}}  {probabilities[rid]:.4f}  "
                   f"{'yes' if rid in panel else 'no'}")
    click.echo(f"Minimum probability: {minimum:.4f}")

    if json_out is not None:
        counts = Counter((c, v) for r in pool if r.id in panel for c, v in r.features.items())
        record: dict[str, Any] = {
            "algorithm": algorithm,
            "seed": seed,
            "size": size,
            "panel": chosen,
            "probabilities": {rid: probabilities[rid] for rid in order},
            "minimum": minimum,
            "quotas": [
                {"category": q.category, "value": q.value, "min": q.minimum,
                 "max": q.maximum, "selected": counts[(q.category, q.value)]}
                for q in quotas
            ],
            "draws": draws if algorithm == "legacy" else None,
            "capped": capped,
            "one_per_household": one_per_household,
        }
        try:
            json_out.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n",
                                encoding="utf-8")
        except OSError as error:
            raise click.ClickException(f"cannot write {json_out}: {error.strerror}") from error
        click.echo(f"Wrote {json_out}")


def _leximin(pool: Sequence[Registrant], quotas: Sequence[Quota], size: int,
             one_per_household: bool) -> tuple[selection.Distribution, bool]:
    """LEXIMIN, turning an iteration-cap warning into a visible line instead of a traceback."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", selection.IterationCapWarning)
        distribution = selection.leximin(pool, quotas, size, one_per_household=one_per_household)
    notes = []
    for warning in caught:
        if issubclass(warning.category, selection.IterationCapWarning):
            notes.append(str(warning.message))
        else:
            warnings.warn_explicit(warning.message, warning.category,
                                   warning.filename, warning.lineno)
    capped = distribution.capped or bool(notes)
    if capped:
        detail = "; ".join(notes) or "LEXIMIN stopped at its iteration cap"
        click.echo(f"Warning: {detail}. The panel is valid, but some chances may be slightly "
                   "below the optimum.", err=True)
    return distribution, capped


def _check_categories(path: Path) -> None:
    """Validate categories.csv with line numbers, which read_sortition_csv does not give."""
    seen: dict[tuple[str, str], int] = {}
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = {(name or "").strip().lower() for name in reader.fieldnames or []}
            missing = [column for column in _CATEGORY_COLUMNS if column not in header]
            if missing:
                raise _FileError(f"{path}: missing column(s) {', '.join(missing)} "
                                 f"(needs {', '.join(_CATEGORY_COLUMNS)})")
            for row in reader:
                cells = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if k}
                if not cells.get("category"):
                    continue
                line = reader.line_num
                bounds = []
                for column in ("min", "max"):
                    try:
                        bounds.append(int(cells[column]))
                    except ValueError:
                        raise _FileError(f"{path} line {line}: {column} {cells[column]!r} "
                                         "is not a whole number") from None
                low, high = bounds
                label = f"{cells['category']}={cells['name']}"
                if low < 0 or low > high:
                    raise _FileError(f"{path} line {line}: {label} needs 0 <= min <= max, "
                                     f"got min {low}, max {high}")
                key = (cells["category"], cells["name"])
                if key in seen:
                    raise _FileError(f"{path} line {line}: {label} repeats line {seen[key]}")
                seen[key] = line
    except (csv.Error, UnicodeDecodeError) as error:
        raise _FileError(f"{path}: not a readable UTF-8 CSV file ({error})") from error


def _read_pool(respondents: Path, categories: Path) -> tuple[list[Registrant], list[Quota]]:
    """read_sortition_csv, with its errors turned into a clean exit that names the file."""
    try:
        pool, quotas = selection.read_sortition_csv(respondents, categories)
    except (csv.Error, UnicodeDecodeError) as error:
        raise _FileError(f"{respondents} or {categories}: not a readable UTF-8 CSV file "
                         f"({error})") from error
    except (ValueError, KeyError) as error:
        raise _FileError(str(error).strip("'\"")) from error
    counts = Counter(registrant.id for registrant in pool)
    if "" in counts:
        row = next(i for i, r in enumerate(pool, start=1) if not r.id)
        raise _FileError(f"{respondents}: data row {row} has an empty id")
    repeated = sorted(rid for rid, count in counts.items() if count > 1)
    if repeated:
        raise _FileError(f"{respondents}: repeated id(s): {', '.join(repeated)}")
    return pool, quotas


def _with_households(pool: list[Registrant], path: Path, column: str) -> list[Registrant]:
    """The pool with households from ``column`` (read_sortition_csv only knows 'household')."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [(name or "").strip() for name in reader.fieldnames or []]
        by_lower = {name.lower(): name for name in header}
        name = column if column in header else by_lower.get(column.strip().lower())
        if name is None:
            raise _FileError(f"{path}: no household column {column!r} "
                             f"(columns: {', '.join(header)})")
        values = [
            {(k or "").strip(): (v or "").strip() for k, v in row.items()}.get(name) or None
            for row in reader
        ]
    if len(values) != len(pool):
        raise _FileError(f"{path}: could not match households to respondents")
    return [Registrant(r.id, r.features, household)
            for r, household in zip(pool, values, strict=True)]


def _describe_infeasible(infeasible: Infeasible, size: int) -> str:
    """The conflicting quotas and the smallest change that would make a panel possible."""
    lines = [f"No panel of {size} meets the quotas.", "Conflicting quotas:"]
    lines += [f"  {_quota(q)}" for q in infeasible.conflicts]
    lines.append("Nearest feasible quotas (changed ones only):")
    for before, after in zip(infeasible.conflicts, _changed(infeasible), strict=True):
        lines.append(f"  {_quota(before)} -> min {after.minimum}, max {after.maximum}")
    return "\n".join(lines)


def _changed(infeasible: Infeasible) -> list[Quota]:
    """The relaxed versions of the conflicting quotas, in the same order."""
    relaxed = {(q.category, q.value): q for q in infeasible.relaxed}
    return [relaxed[(q.category, q.value)] for q in infeasible.conflicts]


def _quota(quota: Quota) -> str:
    return f"{quota.category}={quota.value}: min {quota.minimum}, max {quota.maximum}"
