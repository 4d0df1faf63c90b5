"""Friendly error pages in the visitor's language; never a bare stack trace."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.extensions import db

logger = logging.getLogger("echos.errors")

TITLES = {
    400: _l("Something in the request was not right"),
    403: _l("You do not have access to this page"),
    404: _l("Page not found"),
    405: _l("This action is not possible here"),
    413: _l("What you sent is too large"),
    429: _l("Too many attempts"),
    500: _l("Sorry, something went wrong on our side"),
}
EXPLANATIONS = {
    400: _l("Please go back, check what you entered and try again."),
    403: _l(
        "Your account does not have a role that allows this. Ask an administrator if "
        "you need access."
    ),
    404: _l(
        "If you typed the web address, check it is correct. If you pasted it, check you "
        "copied the entire address."
    ),
    405: _l("Please go back and use the buttons on the page."),
    429: _l("Please wait a few minutes before you try again."),
    500: _l("What you had already saved is safe. Please try again in a few minutes."),
}
CSRF_EXPLANATION = _l(
    "The form was open for too long or was sent twice. Please go back, reload the page and "
    "try again."
)


def render_error(code: int, explanation: object | None = None):
    if code == 413:
        megabytes = (request.max_content_length or 0) // (1024 * 1024)
        explanation = _l(
            "The upload is larger than %(size)s MB. Please send a smaller file.", size=megabytes
        )
    text = explanation or EXPLANATIONS.get(code, EXPLANATIONS[400])
    return render_template(
        "errors/error.html",
        code=code,
        title=TITLES.get(code, TITLES[400]),
        explanation=text,
    ), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def handle_csrf(error: CSRFError):
        return render_error(400, CSRF_EXPLANATION)

    @app.errorhandler(HTTPException)
    def handle_http(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        if error.code >= 500:
            db.session.rollback()
        return render_error(error.code)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        logger.exception("unhandled error", extra={"path": request.path})
        db.session.rollback()
        try:
            return render_error(500)
        except Exception:  # the page itself failed: answer in plain text
            logger.exception("error page failed")
            return InternalServerError.description, 500
