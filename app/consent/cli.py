"""`flask consent ...`: load consent documents, enforce retention periods."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from app.consent import services
from app.consent.document import load_documents
from app.extensions import db
from app.surveys.loader import DefinitionError

consent_cli = AppGroup("consent", help="Consent documents, retention.")


@consent_cli.command("check")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
def check(paths: tuple[str, ...]) -> None:
    """Validate consent documents (default: surveys/consent/)."""
    found, problems = load_documents([Path(p) for p in paths] or None)
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        sys.exit(1)
    click.echo(f"{len(found)} consent document(s) OK: {', '.join(sorted(found))}")


@consent_cli.command("load")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
def load(paths: tuple[str, ...]) -> None:
    """Store consent documents as versions (idempotent)."""
    try:
        loaded = services.load_document_files([Path(p) for p in paths] or None)
    except DefinitionError as error:
        db.session.rollback()
        for problem in error.problems:
            click.echo(str(problem), err=True)
        sys.exit(1)
    db.session.commit()
    for item in loaded:
        click.echo(f"{item.slug}: version {item.number} "
                   f"({'new version' if item.created else 'unchanged'})")


@consent_cli.command("enforce-retention")
def enforce_retention() -> None:
    """Delete what has outlived its retention period (safe to run from cron)."""
    counts = services.enforce_retention()
    db.session.commit()
    click.echo(", ".join(f"{name}: {count}" for name, count in counts.items()))
