"""Analysts' pages: who took part, weighting, tables, downloads."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.auth.permissions import holds_for_hub, roles_required
from app.auth.roles import Role
from app.consultations.models import Consultation
from app.extensions import db
from app.i18n import LANGUAGES, current_language
from app.results import export_jobs, figures, participation, weighting
from app.results.analysis import AnalysisError, analyse, group_variables, parse_by
from app.results.codebook import codebook, codebook_csv, codebook_ddi, codebook_json
from app.results.exports import long_csv
from app.results.forms import ExportForm, SchemeForm
from app.results.models import ExportJob, ExportStatus, WeightingMethod, WeightingScheme
from app.results.tables import MIN_GROUP_N
from app.results.thresholds import min_cell_size
from app.surveys.places import country_names
from app.surveys.services import definition_of, funnel, get_survey, latest_version, list_surveys

bp = Blueprint("results", __name__, template_folder="templates",
               url_prefix="/<lang:lang_code>/admin/results")

CODEBOOKS = {"csv": "text/csv", "json": "application/json", "xml": "application/xml"}


def survey_or_404(slug: str):
    """A survey with at least one version, or 404: every results page starts here."""
    survey = get_survey(slug)
    if survey is None or not survey.versions:
        abort(404)
    return survey


@bp.route("/")
@roles_required(Role.ANALYST, Role.ORGANISER)
def index():
    """Every survey with its results pages: the analysts' and organisers' way in."""
    rows = [(survey, funnel(survey)) for survey in list_surveys() if survey.versions]
    consultations = [c for c in db.session.scalars(select(Consultation).order_by(
        Consultation.slug)) if current_user.has_role(Role.ANALYST)
        or holds_for_hub(c.hub_id, Role.ORGANISER)]
    return render_template("results/index.html", rows=rows, consultations=consultations)


@bp.route("/<slug>/answers.csv")
@roles_required(Role.ANALYST)
def answers_csv(slug: str):
    """Every analysable answer in long format (UTF-8 CSV), streamed."""
    survey = survey_or_404(slug)
    return Response(stream_with_context(long_csv(survey)), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{slug}-answers.csv"'})


@bp.route("/<slug>/participation")
@roles_required(Role.ANALYST, Role.ORGANISER)
def participation_page(slug: str):
    """Who took part, per group, against the population of one country."""
    survey = survey_or_404(slug)
    available = participation.countries_with_benchmarks()
    country = request.args.get("country", "")
    if country not in available:
        country = available[0] if available else ""
    k = min_cell_size(survey)
    reports = participation.report(survey, country, current_language().code, k=k) \
        if country else []
    rtl = current_language().direction == "rtl"
    charts = {r.variable: figures.participation_charts(
        r, gettext=_page_gettext, percent=_percent, ratio=_ratio, rtl=rtl) for r in reports}
    return render_template("results/participation.html", survey=survey, country=country,
                           countries=available, reports=reports, charts=charts,
                           country_names=country_names(current_language().code), k=k)


def _ratio(value: float) -> str:
    return format_decimal(value, "0.00")


# Weighting ------------------------------------------------------------------------------


def _scheme_form(survey) -> SchemeForm:
    form = SchemeForm()
    names = country_names(current_language().code)
    form.geography.choices = [(c, names.get(c, c))
                              for c in participation.countries_with_benchmarks()]
    labels = dict(group_variables(survey, current_language().code))
    form.variables.choices = [(v, labels.get(v, v))
                              for v in weighting.weighting_variables(survey)]
    return form


@bp.route("/<slug>/weighting", methods=["GET", "POST"])
@roles_required(Role.ANALYST)
def weighting_page(slug: str):
    """Define weighting schemes and see how each fitted."""
    survey = survey_or_404(slug)
    form = _scheme_form(survey)
    if form.validate_on_submit():
        given = weighting.SchemeInput(
            form.name.data, form.geography.data, form.variables.data,
            WeightingMethod(form.method.data), form.lower.data, form.upper.data,
            form.tolerance.data, form.max_iterations.data)
        problems = weighting.check(survey, given)
        for field, message in problems:
            form.attach_error(field, message)
        if not problems:
            scheme = weighting.define(survey, given, actor=current_user.email)
            weighting.compute(survey, scheme, actor=current_user.email)
            db.session.commit()
            _flash_outcome(scheme)
            return redirect(url_for(".weighting_page", slug=slug) + f"#scheme-{scheme.id}")
    return render_template("results/weighting.html", survey=survey, form=form,
                           schemes=weighting.schemes_of(survey),
                           country_names=country_names(current_language().code))


@bp.post("/<slug>/weighting/<int:scheme_id>/compute")
@roles_required(Role.ANALYST)
def compute_scheme(slug: str, scheme_id: int):
    """Compute a scheme again, e.g. after more responses came in."""
    survey = survey_or_404(slug)
    scheme = db.session.get(WeightingScheme, scheme_id)
    if scheme is None or scheme.survey_id != survey.id:
        abort(404)
    weighting.compute(survey, scheme, actor=current_user.email)
    db.session.commit()
    _flash_outcome(scheme)
    return redirect(url_for(".weighting_page", slug=slug) + f"#scheme-{scheme.id}")


def _flash_outcome(scheme: WeightingScheme) -> None:
    if scheme.problem:
        flash(_("The weights of %(name)s could not be computed: %(reason)s",
                name=scheme.name, reason=scheme.problem), "error")
    else:
        flash(_("Weights of %(name)s computed for %(num)d respondents.", name=scheme.name,
                num=scheme.n), "success")


# Tables ---------------------------------------------------------------------------------


@bp.route("/<slug>/tables")
@roles_required(Role.ANALYST, Role.ORGANISER)
def tables_page(slug: str):
    """Every question's distribution, weighted if asked, and compared across groups."""
    survey = survey_or_404(slug)
    language = current_language().code
    schemes = [s for s in weighting.schemes_of(survey) if s.computed_at and not s.problem]
    scheme_name = request.args.get("scheme", "")
    by = parse_by(request.args.getlist("by"))
    problem = None
    try:
        analysis = analyse(survey, secret=current_app.config["SECRET_KEY"],
                           scheme_name=scheme_name or None, by=by, language=language)
    except AnalysisError:
        problem = _("That weighting or grouping is not available; the tables below are "
                    "unweighted and not grouped.")
        scheme_name, by = "", ()
        analysis = analyse(survey, secret=current_app.config["SECRET_KEY"], language=language)
    groups = group_variables(survey, language)
    labels = dict(groups)
    weighted = analysis.scheme is not None
    charts = {t.variable.name: figures.table_chart(
        t, gettext=_page_gettext, percent=_percent, rtl=current_language().direction == "rtl",
        weighted=weighted) for t in analysis.tables}
    core = [g for g in groups if g[0] in participation.GROUP_VARIABLES]
    return render_template("results/tables.html", survey=survey, analysis=analysis,
                           schemes=schemes, scheme_name=scheme_name, by=by,
                           core_groups=core, other_groups=[g for g in groups if g not in core],
                           problem=problem, min_group_n=MIN_GROUP_N, charts=charts,
                           percent=_percent,
                           group_label=" \u00d7 ".join(labels.get(n, n) for n in by))


def _page_gettext(text: str, **values: object) -> str:
    """Translate and format as templates do, so ``%%`` reads ``%`` without values too."""
    return _(text) % values


def _percent(value: float) -> str:
    return format_percent(value, "#,##0.0%")


# Downloads ------------------------------------------------------------------------------


def _export_form(survey) -> ExportForm:
    form = ExportForm()
    definition = definition_of(latest_version(survey))
    names = {language.code: language.native_name for language in LANGUAGES}
    form.language.choices = [(code, names.get(code, code)) for code in definition.languages]
    form.scheme.choices = [("", _("No weights"))] + [
        (str(s.id), s.name) for s in weighting.schemes_of(survey)
        if s.computed_at and not s.problem]
    form.version.choices = [(str(v.number), str(v.number))
                            for v in sorted(survey.versions, key=lambda v: -v.number)]
    if not form.language.data:
        form.language.data = current_language().code if current_language().code in \
            definition.languages else definition.languages[0]
    return form


@bp.route("/<slug>/exports", methods=["GET", "POST"])
@roles_required(Role.ANALYST)
def exports_page(slug: str):
    """Ask for a row-level file, follow its progress, download it."""
    survey = survey_or_404(slug)
    form = _export_form(survey)
    if form.validate_on_submit():
        version = next(v for v in survey.versions if str(v.number) == form.version.data)
        scheme = db.session.get(WeightingScheme, int(form.scheme.data)) \
            if form.scheme.data else None
        job = export_jobs.request_export(survey, version, format_=form.format.data,
                                         language=form.language.data, scheme=scheme,
                                         requested_by=current_user.email)
        db.session.commit()
        if job.status == ExportStatus.QUEUED and not _running(job):
            export_jobs.start(current_app._get_current_object(), job.id)
        return redirect(url_for(".exports_page", slug=slug) + f"#job-{job.id}")
    jobs = export_jobs.jobs_of(survey)
    active = any(job.status in export_jobs.ACTIVE for job in jobs)
    return render_template("results/exports.html", survey=survey, form=form, jobs=jobs,
                           active=active, codebooks=CODEBOOKS)


def _running(job: ExportJob) -> bool:
    import threading

    return any(t.name == f"export-{job.id}" for t in threading.enumerate())


@bp.route("/<slug>/exports/<int:job_id>/progress.json")
@roles_required(Role.ANALYST)
def export_progress(slug: str, job_id: int):
    """How far a file has got, for the downloads page's progress bars."""
    job = _job_or_404(survey_or_404(slug), job_id)
    return jsonify({"status": str(job.status), "rows_done": job.rows_done,
                    "rows_total": job.rows_total,
                    "text": _("%(done)d of %(total)d rows", done=job.rows_done,
                              total=job.rows_total)})


def _job_or_404(survey, job_id: int) -> ExportJob:
    job = db.session.get(ExportJob, job_id)
    if job is None or job.survey_id != survey.id:
        abort(404)
    return job


@bp.route("/<slug>/exports/<int:job_id>/download")
@roles_required(Role.ANALYST)
def download_export(slug: str, job_id: int):
    job = _job_or_404(survey_or_404(slug), job_id)
    path = export_jobs.job_file(job, export_jobs.exports_dir(current_app.instance_path))
    if path is None:
        abort(404)
    return send_file(path, mimetype=export_jobs.MIME_TYPES.get(path.suffix,
                                                                "application/octet-stream"),
                     as_attachment=True, download_name=f"{slug}-{job.format}{path.suffix}")


@bp.route("/<slug>/codebook.<kind>")
@roles_required(Role.ANALYST)
def codebook_download(slug: str, kind: str):
    survey = survey_or_404(slug)
    if kind not in CODEBOOKS:
        abort(404)
    version = latest_version(survey)
    variables = codebook(version)
    if kind == "csv":
        body: str | bytes = codebook_csv(variables, current_language().code).encode("utf-8-sig")
    elif kind == "json":
        body = codebook_json(variables)
    else:
        body = codebook_ddi(variables, survey)
    return Response(body, mimetype=CODEBOOKS[kind], headers={
        "Content-Disposition": f'attachment; filename="{slug}-codebook.{kind}"'})
