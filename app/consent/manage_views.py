"""Organiser and data-protection pages: consent statistics, records export, erasures."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.permissions import roles_required
from app.auth.roles import Role
from app.consent import services
from app.consent.models import ConsentChannel
from app.errors import DomainError
from app.extensions import db
from app.i18n import current_language
from app.participants.models import Participant

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


@bp.route("/paper/<document>", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def paper(document: str):
    """Enter a signed paper consent form; the person gets a receipt and an access code."""
    doc = services.get_document(document)
    if doc is None:
        abort(404)
    version = services.latest_version(doc)
    consent = services.definition_of(version)
    language = consent.language_for(current_language().code)
    errors: dict[str, str] = {}
    if request.method == "POST":
        form_language = request.form.get("language", "")
        granted = request.form.getlist("granted")
        if form_language not in consent.languages:
            errors["language"] = _("Choose the language of the form that was signed.")
        if any(p not in {x.id for x in consent.purposes} for p in granted):
            abort(400)
        if request.form.get("signed") != "yes":
            errors["signed"] = _("Confirm that you have the signed form.")
        if not errors:
            participant = Participant()
            db.session.add(participant)
            db.session.flush()
            try:
                record = services.give_consent(
                    participant=participant, version=version, language=form_language,
                    asked=[p.id for p in consent.purposes], granted=granted,
                    channel=ConsentChannel.PAPER, actor=f"staff:{current_user.id}")
            except DomainError as error:
                db.session.rollback()
                errors[f"granted-{error.field}"] = str(error.message)
            else:
                code = services.new_access_code(participant)
                db.session.commit()
                return render_template("consent/manage/paper_done.html", record=record,
                                       consent=consent, language=language, access_code=code)
    return render_template("consent/manage/paper.html", consent=consent, document=document,
                           language=language, errors=errors, values=request.form), (
        400 if errors else 200)
