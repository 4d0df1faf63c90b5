"""ECHoS Engage: citizen engagement and surveys for the National Cancer Mission Hubs."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app import error_pages, i18n, security
from app.config import load_config
from app.extensions import babel, csrf, db, limiter, login_manager, mail, migrate
from app.logs import configure_logging

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"


def create_app(config: dict | None = None) -> Flask:
    """Build the application; `config` overrides environment settings (tests)."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(load_config(Path(app.instance_path)))
    if config:
        app.config.update(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS_DIR)

    if app.config["PROXY_FIX_HOPS"]:
        hops = app.config["PROXY_FIX_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    configure_logging(app)
    _init_extensions(app)
    i18n.init_app(app)
    security.init_app(app)
    error_pages.init_app(app)
    _register_blueprints(app)
    _register_cli(app)

    from app.auth.roles import Role

    app.jinja_env.globals["Role"] = Role
    return app


def _init_extensions(app: Flask) -> None:
    from app import models  # noqa: F401  (every table known to Alembic)
    from app.auth.services import get_user_by_session_token

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))
    babel.init_app(app, locale_selector=i18n.select_locale)
    csrf.init_app(app)
    limiter.init_app(app)
    mail.init_app(app)

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # the sign-in page explains itself
    login_manager.session_protection = "strong"
    login_manager.user_loader(get_user_by_session_token)


def _register_blueprints(app: Flask) -> None:
    from app.admin.outbox_views import bp as outbox_bp
    from app.admin.views import bp as admin_bp
    from app.api.token_views import bp as api_tokens_bp
    from app.api.views import bp as api_bp
    from app.auth.views import bp as auth_bp
    from app.consent.manage_views import bp as manage_consent_bp
    from app.consent.my_data_views import bp as my_data_bp
    from app.consent.views import bp as consent_bp
    from app.consultations.manage_views import bp as manage_consultations_bp
    from app.consultations.moderation_views import bp as moderation_bp
    from app.consultations.views import bp as consultations_bp
    from app.events.manage_views import bp as manage_events_bp
    from app.events.views import bp as events_bp
    from app.public.views import bp as public_bp
    from app.results.import_views import bp as results_import_bp
    from app.results.monitor_views import bp as results_monitor_bp
    from app.results.report_views import bp as results_report_bp
    from app.results.views import bp as results_bp
    from app.surveys.manage_views import bp as manage_surveys_bp
    from app.surveys.views import bp as surveys_bp

    for blueprint in (public_bp, auth_bp, admin_bp, surveys_bp, manage_surveys_bp, consent_bp,
                      my_data_bp, manage_consent_bp, results_bp, consultations_bp,
                      manage_consultations_bp, moderation_bp, events_bp, manage_events_bp,
                      outbox_bp, api_bp, api_tokens_bp, results_import_bp,
                      results_monitor_bp, results_report_bp):
        app.register_blueprint(blueprint)

    from app.auth.permissions import public

    public(app.view_functions["static"])


def _register_cli(app: Flask) -> None:
    from app.audit.cli import audit_cli
    from app.auth.cli import users_cli
    from app.consent.cli import consent_cli
    from app.consultations.cli import deliberation_cli
    from app.demo import demo_cli
    from app.events.cli import events_cli
    from app.results import import_cli, monitor_cli, report_cli  # noqa: F401  (their commands)
    from app.results.cli import results_cli
    from app.surveys.cli import surveys_cli

    for group in (users_cli, demo_cli, surveys_cli, audit_cli, consent_cli, deliberation_cli,
                  events_cli, results_cli):
        app.cli.add_command(group)
