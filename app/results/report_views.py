"""The printable consultation report: an HTML page to print, and the same as a PDF file."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, render_template, url_for
from flask_login import current_user
from markupsafe import Markup

from app.auth.permissions import holds_for_hub, roles_required
from app.auth.roles import Role
from app.consultations import services as consultation_services
from app.consultations.models import Consultation
from app.consultations.views import group_name
from app.i18n import current_language
from app.results import figures, report
from app.results.views import _page_gettext, _percent, _ratio
from app.surveys.places import country_names

bp = Blueprint("results_report", __name__, template_folder="templates",
               url_prefix="/<lang:lang_code>/admin/results/consultations")
logger = logging.getLogger("echos.results.report")
DOCUMENT_LAYOUT = "results/report_document.html"
PAGE_LAYOUT = "base.html"


def _consultation(slug: str) -> Consultation:
    """Analysts see every consultation's report; organisers those of their own hub."""
    consultation = consultation_services.get_by_slug(slug)
    if consultation is None:
        abort(404)
    if not (current_user.has_role(Role.ANALYST)
            or holds_for_hub(consultation.hub_id, Role.ORGANISER)):
        abort(403)
    return consultation


def chromium() -> str | None:
    """The Chromium this server prints with (config ``CHROMIUM_PATH``), if it has one."""
    configured = current_app.config.get("CHROMIUM_PATH") or os.environ.get("CHROMIUM_PATH")
    return report.chromium_path(configured)


def _stylesheet() -> Markup:
    """The site's stylesheet, inlined so Chromium prints offline from a file."""
    path = Path(current_app.static_folder or "") / "css" / "app.css"
    return Markup(path.read_text(encoding="utf-8").replace("</", "<\\/"))


def render_report(found: report.Report, *, document: bool, pdf_available: bool = False
                  ) -> str:
    """The report as HTML: a site page, or a self-contained document to print or save.

    Needs a request context for the reader's language (the CLI makes one).
    """
    rtl = current_language().direction == "rtl"
    charts: dict[str, object] = {}
    for section in found.surveys:
        slug = section.survey.slug
        for variable in section.participation:
            charts[f"{slug}/participation/{variable.variable}"] = figures.participation_charts(
                variable, gettext=_page_gettext, percent=_percent, ratio=_ratio, rtl=rtl)
        if section.analysis is not None:
            weighted = section.analysis.scheme is not None
            for table in section.analysis.tables:
                charts[f"{slug}/table/{table.variable.name}"] = figures.table_chart(
                    table, gettext=_page_gettext, percent=_percent, rtl=rtl, weighted=weighted)
    return render_template(
        "results/report.html", report=found, consultation=found.consultation,
        text=found.text, charts=charts, document=document, pdf_available=pdf_available,
        layout=DOCUMENT_LAYOUT if document else PAGE_LAYOUT,
        inline_css=_stylesheet() if document else None, percent=_percent,
        group_name=group_name, country_names=country_names(current_language().code))


def _report(consultation: Consultation) -> report.Report:
    return report.consultation_report(consultation, language=current_language().code,
                                      secret=current_app.config["SECRET_KEY"])


@bp.route("/<slug>/report")
@roles_required(Role.ORGANISER, Role.ANALYST)
def report_page(slug: str):
    """What we heard: the consultation's report, laid out to read, print or save."""
    consultation = _consultation(slug)
    return render_report(_report(consultation), document=False,
                         pdf_available=chromium() is not None)


@bp.route("/<slug>/report.pdf")
@roles_required(Role.ORGANISER, Role.ANALYST)
def report_pdf(slug: str):
    """The same report as a PDF file, printed by headless Chromium on the server."""
    consultation = _consultation(slug)
    browser = chromium()
    if browser is None:
        return _unavailable(consultation, "missing", 404)
    html = render_report(_report(consultation), document=True)
    try:
        data = report.print_pdf(html, chromium=browser)
    except report.ReportError as error:
        logger.warning("report PDF of %s failed: %s", slug, error)
        return _unavailable(consultation, "failed", 503)
    name = f"{slug}-report-{current_language().code}.pdf"
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{name}"'})


def _unavailable(consultation: Consultation, reason: str, status: int):
    return render_template(
        "results/report_unavailable.html", consultation=consultation, reason=reason,
        text=consultation.text_for(current_language().code),
        report_url=url_for(".report_page", slug=consultation.slug)), status
