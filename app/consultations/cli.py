"""`flask deliberation ...`: Polis import and export, opinion-group reports and recomputes.

Clustering takes seconds on a big conversation, so it runs here (by hand or from a timer),
never in a voter's request.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from app.consultations import analysis, polis, services
from app.consultations.models import (
    Consultation,
    ConsultationStatus,
    ContentStatus,
    OpinionSnapshot,
    SnapshotKind,
    Statement,
    Vote,
    Voter,
)
from app.extensions import db
from app.hubs.models import Hub
from app.hubs.services import get_hub_by_slug

deliberation_cli = AppGroup("deliberation", help="Polis import/export, opinion groups.")

_TOP_REPNESS = 3
_TEXT_WIDTH = 70


def _consultation(key: str) -> Consultation:
    consultation = services.get(key)
    if consultation is None:
        raise click.ClickException(f"No consultation {key!r} (give its id or slug).")
    return consultation


def _hub(slug: str | None) -> Hub:
    """The named hub, or the first one created: most installations have a single hub."""
    hub = (get_hub_by_slug(slug) if slug
           else db.session.scalar(select(Hub).order_by(Hub.id).limit(1)))
    if hub is None:
        raise click.ClickException(f"No hub {slug!r}." if slug
                                   else "No hub yet; create one before importing.")
    return hub


@deliberation_cli.command("import-polis")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--hub", "hub_slug", help="Hub slug (default: the first hub created).")
@click.option("--title", help="Consultation title (default: the directory's name).")
@click.option("--language", default="en", show_default=True,
              help="Language of the title and statements.")
def import_polis(directory: Path, hub_slug: str | None, title: str | None,
                 language: str) -> None:
    """Import a Polis export (comments.csv, votes.csv[, participants-votes.csv]).

    The new consultation's id is the last line printed, for scripts.
    """
    hub = _hub(hub_slug)
    try:
        consultation = polis.import_polis(directory, hub=hub, title=title, language=language)
    except ValueError as error:
        db.session.rollback()
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
    db.session.commit()
    for line in _import_summary(consultation):
        click.echo(line)
    click.echo(str(consultation.id))


def _import_summary(consultation: Consultation) -> list[str]:
    cid = consultation.id
    statuses = dict(db.session.execute(
        select(Statement.status, func.count(Statement.id))
        .where(Statement.consultation_id == cid).group_by(Statement.status)).all())
    voters = db.session.scalar(
        select(func.count(Voter.id)).where(Voter.consultation_id == cid))
    return [
        f"Imported {consultation.slug!r}: "
        f"{sum(statuses.values())} statements ({statuses.get(ContentStatus.HIDDEN, 0)} hidden), "
        f"{voters} voters, {analysis.vote_count(cid)} votes.",
        *(f"{kind.value.capitalize()} groups: {_sizes(analysis.latest_snapshot(cid, kind))}"
          for kind in SnapshotKind),
    ]


def _sizes(snapshot: OpinionSnapshot | None) -> str:
    if snapshot is None or not snapshot.payload["groups"]:
        return "none"
    groups = snapshot.payload["groups"]
    return f"k={len(groups)} (" + ", ".join(
        f"{g['id']}: {len(g['members'])}" for g in groups) + ")"


@deliberation_cli.command("export-polis")
@click.argument("key", metavar="CONSULTATION")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def export_polis(key: str, directory: Path) -> None:
    """Write a consultation as a Polis export (CONSULTATION: id or slug)."""
    written = polis.export_polis(_consultation(key), directory)
    click.echo(", ".join(f"{name}: {rows} rows" for name, rows in written.items())
               + f" written to {directory}")


@deliberation_cli.command("report")
@click.argument("key", metavar="CONSULTATION")
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
def report(key: str, as_json: bool) -> None:
    """Opinion groups, what sets each apart, what all share (latest snapshots)."""
    consultation = _consultation(key)
    data = analysis.report(consultation.id)
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    texts = dict(db.session.execute(
        select(Statement.number, Statement.text)
        .where(Statement.consultation_id == consultation.id)).all())
    title = consultation.text_for(consultation.default_language).title
    click.echo(f"Consultation {consultation.id} ({consultation.slug}): {title}")
    for kind in SnapshotKind:
        click.echo("")
        for line in _snapshot_lines(kind, data[kind.value], texts):
            click.echo(line)


def _snapshot_lines(kind: SnapshotKind, snapshot: dict[str, Any] | None,
                    texts: dict[int, str]) -> list[str]:
    name = "Computed groups" if kind == SnapshotKind.COMPUTED else "Imported Polis groups"
    if snapshot is None:
        hint = " (run `flask deliberation recompute`)" if kind == SnapshotKind.COMPUTED else ""
        return [f"{name}: none{hint}"]
    lines = [f"{name}: k={snapshot['k']}, {snapshot['participants']} participants, "
             f"{snapshot['statements']} statements, {snapshot['vote_count']} votes, "
             f"as of {snapshot['created_at']}"]
    for group in snapshot["groups"]:
        lines.append(f"  Group {group['id']}: {len(group['members'])} people")
        for item in snapshot["repness"].get(str(group["id"]), [])[:_TOP_REPNESS]:
            lines.append(f"    {item['direction']:<8} {item['probability']:4.0%}  "
                         f"{_statement(item['statement'], texts)}")
    for direction in ("agree", "disagree"):
        found = snapshot["consensus"][direction]
        lines.append(f"  Consensus ({direction}):{'' if found else ' none'}")
        lines += [f"    {item['probability']:4.0%}  {_statement(item['statement'], texts)}"
                  for item in found]
    return lines


def _statement(number: int, texts: dict[int, str]) -> str:
    text = " ".join(texts.get(number, "").split())
    if len(text) > _TEXT_WIDTH:
        text = text[:_TEXT_WIDTH - 1] + "…"
    return f"#{number} {text}"


@deliberation_cli.command("recompute")
@click.argument("key", metavar="CONSULTATION", required=False)
@click.option("--all-open", is_flag=True,
              help="Every open consultation whose votes changed since its last snapshot.")
def recompute(key: str | None, all_open: bool) -> None:
    """Cluster the current votes into a new snapshot (safe to run from a timer)."""
    if bool(key) == all_open:
        raise click.UsageError("Give a CONSULTATION or --all-open.")
    if key:
        targets = [_consultation(key)]
    else:
        targets = [c for c in services.all_consultations()
                   if c.status == ConsultationStatus.OPEN and _stale(c)]
    for consultation in targets:
        snapshot = analysis.compute_snapshot(consultation.id)
        db.session.commit()
        left_out = len(snapshot.payload["left_out"])
        click.echo(f"{consultation.slug}: snapshot {snapshot.id}: {_sizes(snapshot)}; "
                   f"{snapshot.vote_count} votes, {left_out} left out (too few votes).")
    if not targets:
        click.echo("Nothing to recompute.")


def _stale(consultation: Consultation) -> bool:
    """No snapshot yet, or votes were cast, changed or withdrawn since the last one."""
    latest = analysis.latest_snapshot(consultation.id)
    if latest is None:
        return True
    changed = db.session.scalar(select(func.max(Vote.updated_at)).join(Statement).where(
        Statement.consultation_id == consultation.id))
    return (latest.vote_count != len(analysis.counted_votes(consultation.id))
            or (changed is not None and changed > latest.created_at))
