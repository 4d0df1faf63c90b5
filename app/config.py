"""Settings read from environment variables, so one image runs anywhere."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PRODUCTION = "production"


class ConfigError(RuntimeError):
    """A setting that the app cannot start without is missing or wrong."""


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _dev_secret_key(instance_path: Path) -> str:
    """Keep one random key per checkout so dev sessions survive restarts."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def load_config(instance_path: Path) -> dict[str, object]:
    """Build the Flask config mapping from the environment."""
    env = os.environ.get("ECHOS_ENV", "development")
    production = env == PRODUCTION
    database_url = os.environ.get("DATABASE_URL") or (f"sqlite:///{instance_path / 'echos.db'}")
    if database_url.startswith("postgres://"):
        # Heroku-style URLs; SQLAlchemy wants the driver spelled out.
        database_url = "postgresql+psycopg://" + database_url[len("postgres://") :]
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]

    secret_key = os.environ.get("SECRET_KEY")
    if not secret_key:
        if production:
            raise ConfigError("SECRET_KEY must be set when ECHOS_ENV=production")
        secret_key = _dev_secret_key(instance_path)

    redis_url = os.environ.get("REDIS_URL")
    return {
        "ENV_NAME": env,
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": redis_url,
        # Shared counters across workers need Redis; one process can count in memory.
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour"),
        # Per API token: enough for paging through a large survey, not for hammering.
        "API_RATE_LIMIT": os.environ.get("API_RATE_LIMIT", "300 per minute"),
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_CONTENT_LENGTH", 16 * 1024 * 1024)),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", production),
        "REMEMBER_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", production),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "PERMANENT_SESSION_LIFETIME": int(os.environ.get("SESSION_LIFETIME_SECONDS", 8 * 3600)),
        "WTF_CSRF_TIME_LIMIT": None,  # a slow form on a phone must not expire mid-answer
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("DEFAULT_TIMEZONE", "UTC"),
        "PROXY_FIX_HOPS": int(os.environ.get("PROXY_FIX_HOPS", 0)),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        "DEMO_CONTENT_ALLOWED": not production,
        # Without MAIL_SERVER, messages are written to instance/outbox/ (development).
        "MAIL_SERVER": os.environ.get("MAIL_SERVER") or None,
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", 587)),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS", True),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME"),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD"),
        "MAIL_DEFAULT_SENDER": os.environ.get(
            "MAIL_DEFAULT_SENDER", "ECHoS Engage <no-reply@localhost>"
        ),
        "RESUME_EMAIL_RATE_LIMIT": os.environ.get("RESUME_EMAIL_RATE_LIMIT", "5 per hour"),
    }
