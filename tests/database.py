"""Test databases: the schema is always built by running the Alembic migrations."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from app import MIGRATIONS_DIR, create_app
from app.extensions import db

BACKENDS = ("sqlite", "postgres")


def required(component: str) -> bool:
    return os.environ.get(f"REQUIRE_{component.upper()}") == "1"


def unavailable(component: str, reason: str) -> None:
    """Skip on a machine without the component; fail where CI demands it."""
    if required(component):
        pytest.fail(f"{component} is required (REQUIRE_{component.upper()}=1): {reason}")
    pytest.skip(f"{component} unavailable: {reason}")


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A throw-away schema in the test database, so runs never see each other's tables."""
    base_url = os.environ.get("TEST_DATABASE_URL")
    if not base_url:
        unavailable("postgres", "TEST_DATABASE_URL is not set")
    schema = f"test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(base_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as error:
        engine.dispose()
        unavailable("postgres", f"cannot connect to {base_url}: {error.orig}")
    separator = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def app_config(database_url: str, **overrides) -> dict:
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key",
        "RATELIMIT_ENABLED": False,
        "SESSION_COOKIE_SECURE": False,
    }
    config.update(overrides)
    return config


def migrate_database(database_url: str, instance_path: Path) -> None:
    app = create_app(app_config(database_url))
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        db.engine.dispose()


def empty_all_tables() -> None:
    """Delete every row but Alembic's, leaving the migrated schema in place."""
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{table.name}"' for table in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()
