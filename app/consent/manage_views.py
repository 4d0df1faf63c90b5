"""Organiser and data-protection pages: consent statistics, records export, erasures."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, render_template

from app.auth.permissions import roles_required
from app.auth.roles import Role
from app.consent import services
from app.i18n import current_language

bp = Blueprint("manage_consent", __name__, template_folder="templates",
               url_prefix="/<lang:lang_code>/admin/consent")


@bp.route("/")
@roles_required(Role.ORGANISER)
def index():
    """How many people agreed or said no, per document version and purpose."""
    language = current_language().code
    rows = []
    for document in services.documents():
        definition = services.definition_of(services.latest_version(document))
        rows.append((document, definition, definition.language_for(language),
                     services.statistics(document)))
    return render_template("consent/manage/index.html", rows=rows,
                           erasures=services.erasure_requests())


@bp.route("/records.csv")
@roles_required(Role.ADMIN)
def records_csv():
    """Every consent record, pseudonymous, as proof of consent (administrators only)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["receipt_id", "participant", "document", "version", "language",
                     "granted", "refused", "channel", "actor", "time_utc", "shown_text_sha256"])
    for consent in services.all_records():
        writer.writerow([consent.receipt_id, consent.participant_id,
                         consent.version.document.slug, consent.version.number, consent.language,
                         " ".join(consent.granted), " ".join(consent.refused),
                         consent.channel.value, consent.actor, consent.created_at.isoformat(),
                         consent.shown_text_hash])
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="consent-records.csv"'})
