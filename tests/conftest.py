"""Fixtures: every app test runs on SQLite and, when available, on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

from app import TRANSLATIONS_DIR, create_app
from app.extensions import db
from tests.database import (
    BACKENDS,
    app_config,
    empty_all_tables,
    migrate_database,
    postgres_schema,
)
from tests.factories import AuthActions

pytest_plugins = ["tests.browser.fixtures"]


@pytest.fixture(scope="session", autouse=True)
def compiled_translations() -> None:
    """Compile catalogues so `pytest` alone works as well as `make test`."""
    for po_path in Path(TRANSLATIONS_DIR).glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[str]:
    """A migrated database per backend, shared by the session and emptied per test."""
    instance_path = tmp_path_factory.mktemp("instance")
    if request.param == "sqlite":
        url = f"sqlite:///{instance_path / 'test.db'}"
        migrate_database(url, instance_path)
        yield url
    else:
        with postgres_schema() as url:
            migrate_database(url, instance_path)
            yield url


@pytest.fixture
def make_app(database_url: str) -> Iterator:
    """Build apps on the test database with config overrides; empties tables after."""
    built: list[Flask] = []

    def factory(**overrides) -> Flask:
        app = create_app(app_config(database_url, **overrides))
        built.append(app)
        return app

    yield factory
    for app in built:
        with app.app_context():
            db.session.remove()
    if built:
        on_test_database = [a for a in built if a.config["SQLALCHEMY_DATABASE_URI"] == database_url]
        cleaner = on_test_database[0] if on_test_database else factory()
        with cleaner.app_context():
            empty_all_tables()
    for app in built:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def app(make_app) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def auth(client: FlaskClient, app: Flask) -> AuthActions:
    return AuthActions(client, app)
