"""The JSON API for analysts' scripts.

Read only (GET), authenticated by a personal token in ``Authorization: Bearer ...``
and never by the session cookie, so it is exempt from CSRF. Every answer is JSON,
errors included; bad parameters get a 400 that names the parameter, never a 500.
The document describing all of this is ``app/api/openapi.py``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import re

from flask import Blueprint, current_app, jsonify, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from app.api import errors, openapi, services
from app.auth.permissions import api_token_required, public
from app.extensions import csrf, db, limiter
from app.i18n import CODES, DEFAULT
from app.results import participation, table_output
from app.results.analysis import AnalysisError, analyse
from app.results.codebook import codebook, codebook_json
from app.results.thresholds import min_cell_size
from app.surveys.models import Survey, SurveyVersion
from app.surveys.services import get_survey

bp = Blueprint("api", __name__, template_folder="templates",
               url_prefix="/api")
csrf.exempt(bp)
logger = logging.getLogger("echos.api")


def _rate_key() -> str:
    """One allowance per token (hashed, never stored), or per address without one."""
    presented = request.headers.get("Authorization", "")
    if presented:
        return "api-token:" + hashlib.sha256(presented.encode()).hexdigest()
    return "api-address:" + (request.remote_addr or "")


limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=_rate_key)(bp)

COUNTRY_PATTERN = re.compile(r"^[A-Za-z]{2}$")
LANGUAGE_PATTERN = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})?$")
CURSOR_PATTERN = re.compile(r"^r([0-9]{1,18})$")


class ApiError(Exception):
    """Raised by the helpers below; turned into the JSON error response it carries."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


@bp.errorhandler(ApiError)
def _api_error(error: ApiError) -> Response:
    return error.response


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    """Anything Flask itself refuses inside the API is JSON too."""
    code = error.code or 500
    return errors.json_error(code, re.sub(r"\W+", "_", (error.name or "error").lower()),
                             error.description or "")


@bp.errorhandler(Exception)
def _unexpected(error: Exception) -> Response:
    logger.exception("unhandled API error", extra={"path": request.path})
    db.session.rollback()
    return errors.json_error(500, "server_error", _(
        "Something went wrong on our side. Please try again in a few minutes."))


def _no_cache(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


# Parameters ---------------------------------------------------------------------------


def _integer(name: str, default: int | None = None, *, low: int = 1,
             high: int | None = None) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise ApiError(errors.bad_parameter(name, _("give a whole number.")))
    value = int(raw)
    if value < low or (high is not None and value > high):
        message = (_("give a number from %(low)d to %(high)d.", low=low, high=high)
                   if high is not None else _("give a number of at least %(low)d.", low=low))
        raise ApiError(errors.bad_parameter(name, message))
    return value


def _survey(slug: str) -> Survey:
    survey = get_survey(slug)
    if survey is None or not survey.versions:
        raise ApiError(errors.not_found(_("There is no survey %(slug)s.", slug=slug)))
    return survey


def _version(survey: Survey) -> SurveyVersion:
    number = _integer("version")
    version = services.version_of(survey, number)
    if version is None:
        raise ApiError(errors.not_found(_("Survey %(slug)s has no version %(number)s.",
                                          slug=survey.slug, number=number)))
    return version


def _cursor(raw: str | None) -> int:
    """The response id a page starts after; the cursor is opaque to clients."""
    if not raw:
        return 0
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    match = CURSOR_PATTERN.match(text)
    if match is None:
        raise ApiError(errors.bad_parameter("after", _(
            "not a cursor from a next link; start again without it.")))
    return int(match.group(1))


def _make_cursor(response_id: int) -> str:
    return base64.urlsafe_b64encode(f"r{response_id}".encode("ascii")).decode("ascii").rstrip("=")


# Endpoints ----------------------------------------------------------------------------


@bp.get("/openapi.json")
@public
def openapi_document():
    """The OpenAPI 3.1 description of this API; no token needed to read it."""
    return jsonify(openapi.document())


@bp.get("/v1/surveys")
@api_token_required
def surveys():
    return _no_cache(jsonify({"surveys": services.survey_summaries()}))


@bp.get("/v1/surveys/<slug>/codebook")
@api_token_required
def survey_codebook(slug: str):
    survey = _survey(slug)
    version = _version(survey)
    return _no_cache(jsonify({"survey": survey.slug, "version": version.number,
                              "variables": json.loads(codebook_json(codebook(version)))}))


@bp.get("/v1/surveys/<slug>/participation")
@api_token_required
def survey_participation(slug: str):
    survey = _survey(slug)
    country = request.args.get("country", "")
    if not COUNTRY_PATTERN.match(country):
        raise ApiError(errors.bad_parameter("country", _(
            "give a two-letter country code, for example AT.")))
    country = country.upper()
    language = request.args.get("language") or DEFAULT
    if not LANGUAGE_PATTERN.match(language):
        raise ApiError(errors.bad_parameter("language", _(
            "give a language code, for example en.")))
    if country not in participation.countries_with_benchmarks():
        raise ApiError(errors.not_found(_(
            "No population benchmark is stored for %(country)s.", country=country)))
    k = min_cell_size(survey)
    with force_locale(language if language in CODES else DEFAULT):
        variables = services.participation_report(survey, country, language, k=k)
    return _no_cache(jsonify({"survey": survey.slug, "country": country,
                              "language": language, "k": k, "variables": variables}))


@bp.get("/v1/surveys/<slug>/tables")
@api_token_required
def survey_tables(slug: str):
    """Every question's distribution, weighted by a scheme and compared across groups."""
    survey = _survey(slug)
    version = _version(survey)
    language = request.args.get("language") or DEFAULT
    if not LANGUAGE_PATTERN.match(language):
        raise ApiError(errors.bad_parameter("language", _(
            "give a language code, for example en.")))
    try:
        analysis = analyse(survey, secret=current_app.config["SECRET_KEY"],
                           scheme_name=request.args.get("scheme") or None,
                           by=request.args.get("by") or None, language=language,
                           questions=request.args.getlist("question") or None,
                           version=version)
    except AnalysisError as error:
        raise ApiError(errors.bad_parameter("scheme" if "scheme" in str(error) else "by",
                                            str(error))) from error
    return _no_cache(jsonify(table_output.as_dict(analysis)))


@bp.get("/v1/surveys/<slug>/responses")
@api_token_required
def survey_responses(slug: str):
    survey = _survey(slug)
    version = _version(survey)
    limit = _integer("limit", services.DEFAULT_PAGE, high=services.MAX_PAGE)
    after = _cursor(request.args.get("after"))
    variables = codebook(version)
    page = services.response_page(survey, version, secret=current_app.config["SECRET_KEY"],
                                  after=after, limit=limit, variables=variables)
    next_link = None if page.last_id is None else url_for(
        ".survey_responses", slug=survey.slug, version=version.number, limit=limit,
        after=_make_cursor(page.last_id), _external=True)
    return _no_cache(jsonify({
        "survey": survey.slug, "version": version.number, "limit": limit,
        "columns": ["respondent", "language", "completed_at", *(v.name for v in variables)],
        "rows": page.rows, "next": next_link}))


@bp.get("/v1/benchmarks")
@api_token_required
def benchmarks():
    country = request.args.get("country") or None
    return _no_cache(jsonify({"benchmarks": services.benchmark_rows(
        request.args.get("variable") or None, country.upper() if country else None)}))


# Anything else under /api ---------------------------------------------------------------


@bp.route("/", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@public
def unknown(rest: str = ""):
    """A JSON 404 (or 405 for a known path with another method) instead of an HTML page."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    try:
        endpoint, _values = adapter.match(request.path, method="GET")
    except HTTPException:
        endpoint = None
    if endpoint and endpoint != "api.unknown" and request.method != "GET":
        response = errors.json_error(405, "method_not_allowed", _(
            "The API only reads: use GET."))
        response.headers["Allow"] = "GET, HEAD, OPTIONS"
        return response
    return errors.not_found(_("There is nothing at this address. The paths are listed in "
                              "%(url)s.", url=url_for(".openapi_document")))
