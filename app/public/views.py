"""Public entry points."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from app.auth.permissions import public
from app.consultations.models import ConsultationStatus
from app.consultations.services import public_listing
from app.health import database_status
from app.i18n import LANGUAGE_COOKIE, best_language, current_language
from app.surveys.services import open_surveys

bp = Blueprint("public", __name__, template_folder="templates")


@bp.route("/")
@public
def root():
    """Send visitors to their language: last choice, then the browser's."""
    code = best_language(request.cookies.get(LANGUAGE_COOKIE), request.accept_languages)
    response = redirect(url_for("public.home", lang_code=code))
    response.headers["Vary"] = "Accept-Language, Cookie"
    return response


@bp.route("/<lang:lang_code>/")
@public
def home():
    """Introduce the platform and list what is open to take part in."""
    language = current_language().code
    surveys = [(survey, definition, definition.language_for(language))
               for survey, definition in open_surveys()]
    consultations = public_listing(status=ConsultationStatus.OPEN)
    return render_template("public/home.html", surveys=surveys, consultations=consultations)


@bp.route("/healthz")
@public
def healthz():
    """For load balancers: 200 when the database answers, 503 when it does not."""
    database_ok = database_status()
    body = {
        "status": "ok" if database_ok else "degraded",
        "database": "ok" if database_ok else "unavailable",
    }
    return body, 200 if database_ok else 503
