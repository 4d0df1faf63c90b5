"""`flask results ...` commands: Importing responses from CSV."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from app.extensions import db
from app.results import importing
from app.results.cli import results_cli, survey_and_version
from app.surveys.services import definition_of

DELIMITER_NAMES = {",": ",", ";": ";", "tab": "\t", "\\t": "\t", "comma": ",",
                   "semicolon": ";"}


@results_cli.command("import-responses")
@click.argument("slug")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--version", "number", type=int, help="Survey version number (default: latest).")
@click.option("--dry-run", is_flag=True, help="Check every row and report; store nothing.")
@click.option("--delimiter", type=click.Choice(sorted(DELIMITER_NAMES)),
              help="Column separator (default: guessed from the header line).")
@click.option("--consent-on-paper/--no-consent-on-paper", default=False,
              help="State that a signed paper consent form is held for every response "
                   "(needed when the survey has a consent document).")
def import_responses(slug: str, file: Path, number: int | None, dry_run: bool,
                     delimiter: str | None, consent_on_paper: bool) -> None:
    """Import completed questionnaires for SLUG from FILE (the wide CSV export's layout).

    Every row is checked first; if any row is rejected, nothing is stored, the
    rejected rows are listed and the exit code is 1.
    """
    _survey, version = survey_and_version(slug, number)
    with file.open("rb") as handle:
        report = importing.parse(handle, version, file_name=file.name,
                                 delimiter=DELIMITER_NAMES[delimiter] if delimiter else None,
                                 max_bytes=importing.CLI_MAX_BYTES,
                                 max_rows=importing.CLI_MAX_ROWS)
    if report.errors:
        _print_errors(report)
        click.echo(f"Nothing imported: {len(report.rejected_lines)} of {report.row_count} "
                   f"rows rejected, {len(report.errors)} problems.", err=True)
        sys.exit(1)
    if dry_run:
        click.echo(f"{len(report.rows)} rows can be imported into {slug} version "
                   f"{version.number} (dry run: nothing stored).")
        return
    needs_consent = definition_of(version).consent_document is not None
    if needs_consent and not consent_on_paper:
        raise click.ClickException(
            "This survey has a consent document: confirm with --consent-on-paper that a "
            "signed paper consent form is held for every response.")
    count = importing.apply(report, staff_id=None, consent_on_paper=consent_on_paper)
    db.session.commit()
    click.echo(f"Imported {count} responses into {slug} version {version.number}.")


def _print_errors(report: importing.ImportReport) -> None:
    click.echo("line\tcolumn\tvalue\tproblem")
    for error in report.errors:
        line = "-" if error.line is None else str(error.line)
        click.echo(f"{line}\t{error.column or '-'}\t{_short(error.value)}\t{error.message}")


def _short(value: str, limit: int = 40) -> str:
    value = value.replace("\t", " ").replace("\n", " ")
    return value if len(value) <= limit else value[: limit - 1] + "…"
