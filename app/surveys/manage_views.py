"""Organiser pages: surveys, versions, status, preview, invitations, uploads."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.permissions import roles_required
from app.auth.roles import Role
from app.consent.services import anonymise_survey
from app.extensions import db
from app.surveys import services
from app.surveys.forms import InvitationForm, UploadForm
from app.surveys.loader import DefinitionError, dump_yaml, parse_source
from app.surveys.models import SurveyStatus

bp = Blueprint("manage_surveys", __name__, template_folder="templates",
               url_prefix="/<lang:lang_code>/admin/surveys")


def _survey_or_404(slug: str):
    survey = services.get_survey(slug)
    if survey is None:
        abort(404)
    return survey


@bp.route("/")
@roles_required(Role.ORGANISER)
def index():
    """Every survey with its status and how many have answered."""
    return render_template("surveys/manage/index.html", rows=_survey_rows(), form=UploadForm())


def _survey_rows() -> list[tuple]:
    rows = []
    for survey in services.list_surveys():
        version = services.latest_version(survey)
        rows.append((survey, version, services.definition_of(version), services.funnel(survey)))
    return rows


@bp.route("/<slug>")
@roles_required(Role.ORGANISER)
def detail(slug: str):
    """One survey: versions, status, completion funnel, preview and invitations."""
    survey = _survey_or_404(slug)
    return _render_detail(survey, InvitationForm())


def _render_detail(survey, invitation_form: InvitationForm, status: int = 200):
    version = services.latest_version(survey)
    definition = services.definition_of(version)
    return render_template(
        "surveys/manage/detail.html", survey=survey, version=version, definition=definition,
        funnel=services.funnel(survey), invitations=services.invitation_counts(survey),
        invitation_list=services.recent_invitations(survey), invitation_form=invitation_form,
        closed_reason=services.accepting_reason(survey, definition), SurveyStatus=SurveyStatus,
    ), status


@bp.route("/<slug>/status", methods=["POST"])
@roles_required(Role.ORGANISER)
def change_status(slug: str):
    """Open or close a survey for responses."""
    survey = _survey_or_404(slug)
    try:
        status = SurveyStatus(request.form.get("status", ""))
    except ValueError:
        abort(400)
    services.set_status(survey, status)
    db.session.commit()
    flash(_("The survey is now %(status)s.", status=status_label(status)), "success")
    return redirect(url_for("manage_surveys.detail", slug=slug))


def status_label(status: SurveyStatus) -> str:
    return {SurveyStatus.DRAFT: _("a draft"), SurveyStatus.OPEN: _("open"),
            SurveyStatus.CLOSED: _("closed")}[status]


@bp.context_processor
def names() -> dict:
    """Labels for stored states, in the reader's language."""
    from app.i18n import LANGUAGES

    return {
        "status_names": {"draft": _("Draft"), "open": _("Open"), "closed": _("Closed")},
        "invitation_names": {"unused": _("Not used yet"), "started": _("Started"),
                             "completed": _("Completed"), "revoked": _("Revoked")},
        "language_names": {language.code: language.native_name for language in LANGUAGES},
    }


@bp.route("/<slug>/anonymise", methods=["POST"])
@roles_required(Role.ORGANISER)
def anonymise(slug: str):
    """After closing: separate every response from the person who gave it."""
    survey = _survey_or_404(slug)
    if survey.status != SurveyStatus.CLOSED:
        abort(400)
    count = anonymise_survey(survey.id, actor=f"staff:{current_user.id}")
    db.session.commit()
    flash(_("%(count)d responses were separated from the people who gave them.", count=count),
          "success")
    return redirect(url_for("manage_surveys.detail", slug=slug))


@bp.route("/<slug>/versions/<int:number>.yaml")
@roles_required(Role.ORGANISER)
def download(slug: str, number: int):
    """The exact YAML of one stored version."""
    survey = services.get_survey(slug)
    version = next((v for v in (survey.versions if survey else []) if v.number == number), None)
    if version is None:
        abort(404)
    return Response(version.source, mimetype="application/yaml", headers={
        "Content-Disposition": f'attachment; filename="{slug}-v{number}.yaml"'})


@bp.route("/upload", methods=["POST"])
@roles_required(Role.ORGANISER)
def upload():
    """Check an uploaded definition; store it as a new version when it is clean."""
    form = UploadForm()
    problems: list[str] = []
    if form.validate_on_submit():
        upload_file = form.definition.data
        name = Path(upload_file.filename or "upload.yaml").name
        try:
            text, extra = _definition_text(upload_file, name)
        except ValueError as error:
            problems = [str(error)]
        else:
            problems = extra
            source, found = parse_source(text, name)
            if source is not None:
                source.file = f"{source.id or Path(name).stem}.yaml"
                try:
                    stored = services.store_checked_source(source)
                except DefinitionError as error:
                    found = error.problems
                else:
                    db.session.commit()
                    flash(_("Version %(number)d of %(slug)s was stored.",
                            number=stored.number, slug=stored.slug) if stored.created else
                          _("This definition is already stored as version %(number)d.",
                            number=stored.number), "success")
                    return redirect(url_for("manage_surveys.detail", slug=stored.slug))
            problems += [str(problem) for problem in found]
    return render_template("surveys/manage/index.html", rows=_survey_rows(), form=form,
                           problems=problems), 400


def _definition_text(upload_file, name: str) -> tuple[str, list[str]]:
    """YAML text of an upload; an XLSForm is converted first (its gaps become problems)."""
    data = upload_file.read()
    if not name.lower().endswith(".xlsx"):
        try:
            return data.decode("utf-8"), []
        except UnicodeDecodeError as error:
            raise ValueError(_("The file is not UTF-8 text.")) from error
    from app.surveys.xlsform import XLSFormError, read_xlsform

    with tempfile.NamedTemporaryFile(suffix=".xlsx") as handle:
        handle.write(data)
        handle.flush()
        try:
            definition, gaps = read_xlsform(handle.name, survey_id=Path(name).stem)
        except XLSFormError as error:
            raise ValueError(str(error)) from error
    notes = [f"{name}: {gap.sheet} {gap.row or ''}: {gap.message}" for gap in gaps]
    return dump_yaml(definition), notes


@bp.route("/<slug>/invitations", methods=["POST"])
@roles_required(Role.ORGANISER)
def invitations(slug: str):
    """Create invitation codes and hand them over once, as a CSV download."""
    survey = _survey_or_404(slug)
    form = InvitationForm()
    references: list[str | None] = []
    if form.validate_on_submit():
        references = [None] * (form.count.data or 0)
        if form.invitees.data:
            text = form.invitees.data.read().decode("utf-8-sig", errors="replace")
            reader = csv.DictReader(io.StringIO(text))
            if "reference" not in (reader.fieldnames or []):
                form.invitees.errors = [_("The file needs a column named reference.")]
            else:
                references += [row["reference"].strip() or None for row in reader]
        if not references and not form.invitees.errors:
            form.count.errors = [_("Enter a number of invitations or choose a file.")]
    if form.errors or not references:
        return _render_detail(survey, form, 400)
    created = services.create_invitations(survey, references)
    db.session.commit()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["reference", "token", "link"])
    for token, reference in created:
        link = url_for("surveys.start", slug=slug, _external=True)
        writer.writerow([reference or "", token, link])
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{slug}-invitations.csv"'})
