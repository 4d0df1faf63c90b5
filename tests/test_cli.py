"""Command-line tools used by operators and by `make run`."""

from __future__ import annotations

from sqlalchemy import func, select

from app.auth.models import User
from app.extensions import db
from app.hubs.models import Hub
from tests.factories import make_hub


def test_users_create_with_prompted_password(app, runner):
    result = runner.invoke(
        args=["users", "create", "--email", "Ops@Example.org", "--role", "admin", "--name", "Ops"],
        input="a long password\na long password\n",
    )
    assert result.exit_code == 0, result.output
    assert "ops@example.org" in result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "ops@example.org"))
        assert [a.role.value for a in user.roles] == ["admin"]


def test_users_create_for_a_hub_with_generated_password(app, runner, auth):
    make_hub(app, "se", "SE")
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "s@example.org",
            "--role",
            "organiser",
            "--role",
            "analyst",
            "--hub",
            "se",
            "--generate-password",
        ]
    )
    assert result.exit_code == 0, result.output
    password = result.output.strip().splitlines()[-1].removeprefix("Password: ")
    assert auth.login("s@example.org", password).status_code == 302
    listing = runner.invoke(args=["users", "list"])
    assert "organiser@se" in listing.output and "analyst@se" in listing.output


def test_users_create_errors_are_messages(app, runner):
    bad_role = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "x@example.org",
            "--role",
            "king",
            "--password",
            "a long password",
        ]
    )
    assert bad_role.exit_code != 0
    short = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "x@example.org",
            "--role",
            "admin",
            "--password",
            "short",
        ]
    )
    assert short.exit_code != 0
    assert "at least 12 characters" in short.output
    unknown_hub = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "x@example.org",
            "--role",
            "admin",
            "--hub",
            "atlantis",
            "--password",
            "long password",
        ]
    )
    assert unknown_hub.exit_code != 0
    assert "atlantis" in unknown_hub.output


def test_demo_load_is_idempotent_and_prints_logins(app, runner, auth):
    first = runner.invoke(args=["demo", "load"])
    second = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0 and second.exit_code == 0
    assert "organiser@demo.echos.eu" in first.output
    assert "analyst@demo.echos.eu" in first.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 5
        assert db.session.scalar(select(func.count()).select_from(Hub)) == 12
    line = next(line for line in first.output.splitlines() if "organiser@demo" in line)
    password = line.split("/")[-1].strip()
    assert auth.login("organiser@demo.echos.eu", password).status_code == 302


def test_demo_load_refused_in_production(make_app):
    app = make_app(DEMO_CONTENT_ALLOWED=False)
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code != 0
    assert "production" in result.output
