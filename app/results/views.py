"""Analyst downloads."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request, stream_with_context

from app.auth.permissions import roles_required
from app.auth.roles import Role
from app.i18n import current_language
from app.results import participation
from app.results.exports import long_csv
from app.surveys.places import country_names
from app.surveys.services import get_survey

bp = Blueprint("results", __name__, template_folder="templates",
               url_prefix="/<lang:lang_code>/admin/results")


@bp.route("/<slug>/answers.csv")
@roles_required(Role.ANALYST)
def answers_csv(slug: str):
    """Every analysable answer in long format (UTF-8 CSV), streamed."""
    survey = get_survey(slug)
    if survey is None:
        abort(404)
    return Response(stream_with_context(long_csv(survey)), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{slug}-answers.csv"'})


@bp.route("/<slug>/participation")
@roles_required(Role.ANALYST, Role.ORGANISER)
def participation_page(slug: str):
    """Who took part, per group, against the population of one country."""
    survey = get_survey(slug)
    if survey is None or not survey.versions:
        abort(404)
    available = participation.countries_with_benchmarks()
    country = request.args.get("country", "")
    if country not in available:
        country = available[0] if available else ""
    reports = participation.report(survey, country, current_language().code) \
        if country else []
    return render_template("results/participation.html", survey=survey, country=country,
                           countries=available, reports=reports,
                           country_names=country_names(current_language().code),
                           k=participation.DEFAULT_K)
