"""Supported languages and how each request's language is chosen.

Order of precedence: the URL prefix (/de/...), then the language the visitor
chose last time (a cookie), then the browser's Accept-Language, then English.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, g, has_request_context, request, url_for
from werkzeug.routing import BaseConverter
from werkzeug.wrappers import Response

LANGUAGE_COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


@dataclass(frozen=True)
class Language:
    code: str
    native_name: str
    english_name: str
    rtl: bool = False

    @property
    def direction(self) -> str:
        return "rtl" if self.rtl else "ltr"


# Only languages whose catalogue is complete are listed; a test enforces it.
LANGUAGES: tuple[Language, ...] = (
    Language("en", "English", "English"),
    Language("de", "Deutsch", "German"),
    Language("fr", "Français", "French"),
    Language("pt", "Português", "Portuguese"),
    Language("ar", "العربية", "Arabic", rtl=True),
)
BY_CODE = {language.code: language for language in LANGUAGES}
CODES = tuple(BY_CODE)
DEFAULT = "en"


class LanguageConverter(BaseConverter):
    """Match only supported language codes, so /xx/ is a plain 404."""

    regex = "(?:" + "|".join(CODES) + ")"


def best_language(cookie_value: str | None, accept_languages) -> str:
    """Pick a language for a request that has none in its URL."""
    if cookie_value in BY_CODE:
        return cookie_value
    match = accept_languages.best_match(CODES) if accept_languages else None
    return match or DEFAULT


def current_language() -> Language:
    """The language of the request being served; English for CLI commands and jobs."""
    if not has_request_context():
        return BY_CODE[DEFAULT]
    code = g.get("lang_code")
    if code is None:
        # No route matched (a 404), but the address may still start with a language.
        prefix = request.path.lstrip("/").split("/", 1)[0]
        code = prefix if prefix in BY_CODE else None
    if code is None:
        code = best_language(request.cookies.get(LANGUAGE_COOKIE), request.accept_languages)
    return BY_CODE[code]


def select_locale() -> str:
    return current_language().code


def switcher_links() -> list[tuple[Language, str]]:
    """The same page in every supported language, for the language switcher."""
    endpoint = request.endpoint
    localised = bool(endpoint) and current_app.url_map.is_endpoint_expecting(endpoint, "lang_code")
    links = []
    for language in LANGUAGES:
        if localised and request.method == "GET":
            params = {**request.args.to_dict(), **(request.view_args or {})}
            url = url_for(endpoint, **params, lang_code=language.code)
        else:
            url = url_for("public.home", lang_code=language.code)
        links.append((language, url))
    return links


def init_app(app: Flask) -> None:
    app.url_map.converters["lang"] = LanguageConverter

    @app.url_value_preprocessor
    def pull_lang_code(endpoint: str | None, values: dict | None) -> None:
        if values and "lang_code" in values:
            g.lang_code = values.pop("lang_code")

    @app.url_defaults
    def add_lang_code(endpoint: str, values: dict) -> None:
        if "lang_code" in values or not app.url_map.is_endpoint_expecting(endpoint, "lang_code"):
            return
        values["lang_code"] = current_language().code

    @app.after_request
    def remember_language(response: Response) -> Response:
        code = g.get("lang_code")
        if code and request.cookies.get(LANGUAGE_COOKIE) != code:
            response.set_cookie(
                LANGUAGE_COOKIE,
                code,
                max_age=COOKIE_MAX_AGE,
                samesite="Lax",
                secure=app.config["SESSION_COOKIE_SECURE"],
                httponly=True,
            )
        return response

    @app.context_processor
    def language_context() -> dict:
        return {"current_language": current_language(), "language_links": switcher_links}
