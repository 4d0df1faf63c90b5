"""`flask results report CONSULTATION -o FILE`: the printable report as HTML or PDF."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from app.i18n import CODES
from app.results.cli import results_cli

SUFFIXES = (".html", ".htm", ".pdf")


@results_cli.command("report")
@click.argument("slug")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="File to write: .html for a web page, .pdf for a PDF.")
@click.option("--language", default="en", show_default=True, help="Language of the report.")
def report_command(slug: str, output: Path, language: str) -> None:
    """Write the 'what we heard' report of CONSULTATION to a file (HTML or PDF)."""
    from app.consultations.services import get_by_slug
    from app.results import report
    from app.results.report_views import chromium, render_report

    suffix = output.suffix.lower()
    if suffix not in SUFFIXES:
        raise click.ClickException(f"Write to a .html or .pdf file, not {output.name!r}.")
    if language not in CODES:
        raise click.ClickException(f"Unknown language {language!r}; use one of "
                                   f"{', '.join(CODES)}.")
    consultation = get_by_slug(slug)
    if consultation is None:
        raise click.ClickException(f"No consultation {slug!r}.")
    # The reader's language comes from the URL, as on the site.
    with current_app.test_request_context(
            f"/{language}/admin/results/consultations/{slug}/report"):
        found = report.consultation_report(consultation, language=language,
                                           secret=current_app.config["SECRET_KEY"])
        html = render_report(found, document=True)
        browser = chromium() if suffix == ".pdf" else None
    if suffix != ".pdf":
        output.write_text(html, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
        return
    if browser is None:
        raise click.ClickException("No Chromium on this machine (set CHROMIUM_PATH, or "
                                   "apt-get install chromium); write a .html file and print "
                                   "it from a browser instead.")
    try:
        output.write_bytes(report.print_pdf(html, chromium=browser))
    except report.ReportError as error:
        raise click.ClickException(f"The PDF could not be made: {error}") from error
    click.echo(f"wrote {output}", err=True)
