"""Analyst downloads."""

from __future__ import annotations

from flask import Blueprint, Response, abort, stream_with_context

from app.auth.permissions import roles_required
from app.auth.roles import Role
from app.results.exports import long_csv
from app.surveys.services import get_survey

bp = Blueprint("results", __name__, url_prefix="/<lang:lang_code>/admin/results")


@bp.route("/<slug>/answers.csv")
@roles_required(Role.ANALYST)
def answers_csv(slug: str):
    """Every analysable answer in long format (UTF-8 CSV), streamed."""
    survey = get_survey(slug)
    if survey is None:
        abort(404)
    return Response(stream_with_context(long_csv(survey)), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{slug}-answers.csv"'})
