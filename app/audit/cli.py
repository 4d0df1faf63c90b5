"""`flask audit ...`: check the audit trail has not been tampered with."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from app.audit import services

audit_cli = AppGroup("audit", help="Tamper-evident audit trail.")


@audit_cli.command("verify")
def verify() -> None:
    """Recompute every hash and link; exit 1 naming the first broken entry."""
    result = services.verify()
    if not result.ok:
        click.echo(f"BROKEN at entry {result.first_broken_id}: {result.reason}")
        sys.exit(1)
    click.echo(f"OK: {result.checked} entries")
