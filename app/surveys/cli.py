"""`flask surveys ...`: check, load, import and export survey definitions."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from app.extensions import db
from app.surveys import services
from app.surveys.loader import DefinitionError, dump_yaml, load_definitions

surveys_cli = AppGroup("surveys", help="Survey definitions and invitations.")


def _paths(paths: tuple[str, ...]) -> list[Path]:
    return [Path(p) for p in paths] or [services.SURVEYS_DIR]


@surveys_cli.command("check")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
def check(paths: tuple[str, ...]) -> None:
    """Validate definitions (default: all of surveys/); exit 1 listing every problem."""
    result = load_definitions(_paths(paths), library=[services.SURVEYS_DIR])
    for problem in result.problems:
        click.echo(str(problem), err=True)
    if result.problems:
        click.echo(f"{len(result.problems)} problem(s) found.", err=True)
        sys.exit(1)
    click.echo(
        f"{len(result.definitions)} definition(s) OK: {', '.join(sorted(result.definitions))}"
    )


@surveys_cli.command("load")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
def load(paths: tuple[str, ...]) -> None:
    """Store definitions as immutable versions (idempotent: unchanged files add nothing)."""
    try:
        loaded, _result = services.load_survey_files(_paths(paths))
    except DefinitionError as error:
        db.session.rollback()
        for problem in error.problems:
            click.echo(str(problem), err=True)
        sys.exit(1)
    db.session.commit()
    for item in loaded:
        state = "new version" if item.created else "unchanged"
        click.echo(f"{item.slug}: version {item.number} ({state})")


@surveys_cli.command("invite")
@click.argument("slug")
@click.option("--count", type=int, default=0, help="Number of anonymous invitations.")
@click.option(
    "--invitees",
    type=click.Path(exists=True, dir_okay=False),
    help="CSV with a 'reference' column (one invitation per row).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    required=True,
    help="CSV to write the tokens to (they are not stored in clear).",
)
def invite(slug: str, count: int, invitees: str | None, output: str) -> None:
    """Create single-use invitation tokens for an invited-mode survey."""
    survey = services.get_survey(slug)
    if survey is None:
        raise click.ClickException(f"No survey {slug!r}; run `flask surveys load` first.")
    references: list[str | None] = [None] * count
    if invitees:
        with open(invitees, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            if "reference" not in (reader.fieldnames or []):
                raise click.ClickException("The invitee CSV needs a 'reference' column.")
            references += [row["reference"].strip() or None for row in reader]
    if not references:
        raise click.ClickException("Give --count or --invitees.")
    created = services.create_invitations(survey, references)
    db.session.commit()
    with open(output, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["reference", "token"])
        for token, reference in created:
            writer.writerow([reference or "", token])
    click.echo(f"{len(created)} invitation(s) written to {output}")


@surveys_cli.command("import-xlsform")
@click.argument("xlsx", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True)
def import_xlsform(xlsx: str, output: str) -> None:
    """Convert an XLSForm workbook into a YAML definition, listing what is unsupported."""
    from app.surveys.xlsform import XLSFormError, read_xlsform

    try:
        definition, problems = read_xlsform(xlsx, survey_id=Path(output).stem)
    except XLSFormError as error:
        raise click.ClickException(str(error)) from error
    for problem in problems:
        row = f" row {problem.row}" if problem.row else ""
        click.echo(f"{xlsx}: sheet {problem.sheet}{row}: {problem.message}", err=True)
    Path(output).write_text(dump_yaml(definition), encoding="utf-8")
    result = load_definitions([Path(output)], library=[services.SURVEYS_DIR])
    for problem in result.problems:
        click.echo(str(problem), err=True)
    click.echo(f"Wrote {output} ({len(problems)} unsupported feature(s) skipped).")
    if result.problems:
        sys.exit(1)


@surveys_cli.command("export-xlsform")
@click.argument("survey")
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True)
def export_xlsform(survey: str, output: str) -> None:
    """Write a survey (a stored survey's latest version, or a YAML file) as XLSForm."""
    from app.surveys.xlsform import write_xlsform

    if Path(survey).is_file():
        result = load_definitions([Path(survey)], library=[services.SURVEYS_DIR])
        if result.problems:
            for problem in result.problems:
                click.echo(str(problem), err=True)
            sys.exit(1)
        data = next(iter(result.definitions.values())).data
    else:
        stored = services.get_survey(survey)
        if stored is None:
            raise click.ClickException(f"No survey {survey!r} and no such file.")
        data = services.latest_version(stored).definition
    write_xlsform(dict(data), output)
    click.echo(f"Wrote {output}")
