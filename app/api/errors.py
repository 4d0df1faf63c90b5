"""JSON error bodies for the API: scripts read a code, people read the message.

Every error the API gives has the same shape, ``{"error": {"code": ..., "message": ...}}``,
and never an HTML page, so a script can tell "token expired" from "no such survey".
"""

from __future__ import annotations

from flask import Response, jsonify
from flask_babel import gettext as _

from app.api.services import Refusal

AUTH_CHALLENGE = 'Bearer realm="api"'


def json_error(status: int, code: str, message: str,
               headers: dict[str, str] | None = None) -> Response:
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def missing_token() -> Response:
    return json_error(401, "missing_token", _(
        "Send an API token in the header Authorization: Bearer <token>."),
        {"WWW-Authenticate": AUTH_CHALLENGE})


def refused(refusal: Refusal) -> Response:
    """401 for a token that does not work, 403 when its owner is no longer an analyst."""
    messages = {
        Refusal.UNKNOWN: _("This API token is not valid."),
        Refusal.REVOKED: _("This API token has been revoked."),
        Refusal.EXPIRED: _("This API token has expired. Create a new one."),
        Refusal.INACTIVE: _("The account this API token belongs to is deactivated."),
        Refusal.NOT_ANALYST: _("The API is for analysts; the account this token belongs to "
                               "no longer has the analyst role."),
    }
    if refusal == Refusal.NOT_ANALYST:
        return json_error(403, refusal.value, messages[refusal])
    return json_error(401, refusal.value, messages[refusal], {
        "WWW-Authenticate": f'{AUTH_CHALLENGE}, error="invalid_token"'})


def bad_parameter(name: str, message: str) -> Response:
    return json_error(400, "bad_parameter", f"{name}: {message}")


def not_found(message: str) -> Response:
    return json_error(404, "not_found", message)
