"""Importing responses from CSV."""

from __future__ import annotations

import base64
import binascii
import csv
import io
from pathlib import Path

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileAllowed, FileField
from wtforms import BooleanField, HiddenField, SelectField
from wtforms.validators import InputRequired

from app.auth.permissions import roles_required
from app.auth.roles import Role
from app.extensions import db
from app.forms import BaseForm
from app.i18n import current_language
from app.results import importing
from app.results.codebook import codebook, codebook_csv
from app.results.views import survey_or_404
from app.surveys.services import definition_of, latest_version

bp = Blueprint("results_import", __name__, template_folder="templates",
               url_prefix="/<lang:lang_code>/admin/results")

# A checked file rides along in the page (base64) so "Import" needs no second upload;
# larger files are chosen again, as form fields are capped well below uploads.
KEEP_MAX_BYTES = 300 * 1024
DELIMITER_CHOICES = {"": None, "comma": ",", "semicolon": ";", "tab": "\t"}


class ImportForm(BaseForm):
    version = SelectField(_l("Survey version"), coerce=int, validators=[InputRequired(
        _l("Choose one of the versions listed."))])
    upload = FileField(
        _l("CSV file"),
        description=_l("UTF-8, with a header row naming the columns as in the wide CSV "
                       "export. Comma or semicolon separated."),
        validators=[FileAllowed(["csv", "txt"], _l("Upload a .csv file."))],
    )
    delimiter = SelectField(_l("Column separator"), default="", choices=[
        ("", _l("Recognise it from the header")), ("comma", _l("Comma (,)")),
        ("semicolon", _l("Semicolon (;)")), ("tab", _l("Tab"))])
    consent_on_paper = BooleanField(
        _l("I confirm that we hold a consent form signed on paper for every response in "
           "this file."))
    kept = HiddenField()
    kept_name = HiddenField()


def _version_of(survey, number: int | None):
    if number is None:
        return latest_version(survey)
    return next((v for v in survey.versions if v.number == number), None)


def _form(survey) -> ImportForm:
    form = ImportForm()
    form.version.choices = [(v.number, _("Version %(number)d", number=v.number))
                            for v in reversed(survey.versions)]
    if form.version.data is None:
        form.version.data = latest_version(survey).number
    return form


@bp.route("/<slug>/import", methods=["GET", "POST"])
@roles_required(Role.ANALYST)
def import_page(slug: str):
    """Check a CSV of paper or external responses, then import it all or nothing."""
    survey = survey_or_404(slug)
    form = _form(survey)
    report = None
    status = 200
    if request.method == "POST":
        report, status = _handle(survey, form)
        if report is None and status == 302:
            return redirect(url_for("results_import.import_page", slug=slug))
    version = _version_of(survey, form.version.data) or latest_version(survey)
    definition = definition_of(version)
    _describe_upload(form)
    return render_template(
        "results/import.html", survey=survey, form=form, report=report,
        definition=definition, version=version, needs_consent=bool(definition.consent_document),
        max_rows=importing.MAX_ROWS, max_megabytes=importing.MAX_BYTES // (1024 * 1024),
        page_has_errors=bool(form.errors or (report and report.errors)),
        attempted_import=request.form.get("action") == "import",
    ), status


def _describe_upload(form: ImportForm) -> None:
    """Say which file is kept from the last check; without one, a file is required."""
    if form.kept.data and form.kept_name.data:
        form.upload.description = _(
            "The file %(name)s is kept from the last check; choose another file only to "
            "replace it.", name=form.kept_name.data)
    else:
        form.upload.flags.required = True


def _handle(survey, form: ImportForm) -> tuple[importing.ImportReport | None, int]:
    """Check (and on "import", store) the posted file; (None, 302) after an import."""
    if not form.validate_on_submit():
        return None, 400
    version = _version_of(survey, form.version.data)
    if version is None:
        form.version.errors = [_("Choose one of the versions listed.")]
        return None, 400
    data, name = _posted_file(form)
    if data is None:
        form.upload.errors = [*form.upload.errors, _("Choose a CSV file to check.")]
        return None, 400
    report = importing.parse(data, version, file_name=name,
                             delimiter=DELIMITER_CHOICES.get(form.delimiter.data or ""))
    form.kept.data = base64.b64encode(data).decode("ascii") \
        if len(data) <= KEEP_MAX_BYTES else ""
    form.kept_name.data = name if form.kept.data else ""
    if report.errors or request.form.get("action") != "import":
        return report, 400 if report.errors else 200
    try:
        count = importing.apply(report, staff_id=current_user.id,
                                consent_on_paper=bool(form.consent_on_paper.data))
    except importing.ImportRefused as refusal:
        form.attach_error(refusal.field, refusal.message)
        return report, 400
    db.session.commit()
    flash(_("%(count)d responses were imported into version %(number)d.", count=count,
            number=version.number), "success")
    return None, 302


def _posted_file(form: ImportForm) -> tuple[bytes | None, str]:
    """The uploaded file, or the one checked before and kept in the page."""
    upload = form.upload.data
    if upload is not None and getattr(upload, "filename", ""):
        data = upload.read(importing.MAX_BYTES + 1)
        return data, Path(upload.filename).name
    if form.kept.data:
        try:
            return base64.b64decode(form.kept.data, validate=True), form.kept_name.data or ""
        except (binascii.Error, ValueError):
            return None, ""
    return None, ""


@bp.route("/<slug>/import-template.csv")
@roles_required(Role.ANALYST)
def import_template(slug: str):
    """The header row an import file needs for one version (the latest by default)."""
    survey = survey_or_404(slug)
    version = _version_of(survey, request.args.get("version", type=int))
    if version is None:
        abort(404)
    buffer = io.StringIO()
    csv.writer(buffer).writerow(importing.expected_columns(version))
    return Response(buffer.getvalue().encode("utf-8-sig"), mimetype="text/csv", headers={
        "Content-Disposition":
            f'attachment; filename="{slug}-v{version.number}-import-template.csv"'})


@bp.route("/<slug>/import-codebook.csv")
@roles_required(Role.ANALYST)
def import_codebook(slug: str):
    """The codebook of one version in the reader's language: columns, codes and rules."""
    survey = survey_or_404(slug)
    version = _version_of(survey, request.args.get("version", type=int))
    if version is None:
        abort(404)
    text = codebook_csv(codebook(version), current_language().code)
    return Response(text.encode("utf-8-sig"), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{slug}-v{version.number}-codebook.csv"'})
