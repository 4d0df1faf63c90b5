"""Every route is either public or guarded by roles, and the guard holds."""

from __future__ import annotations

import pytest
from werkzeug.routing import Rule

from app import create_app
from app.auth import services as auth_services
from app.auth.permissions import ANY_STAFF
from app.auth.roles import Role
from tests.database import app_config
from tests.factories import csrf_token

SAMPLE_ARGS = {"lang_code": "en", "filename": "css/app.css"}


def _rules() -> list[Rule]:
    app = create_app(app_config("sqlite://"))
    return sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule)


def _access_rule(app, rule: Rule):
    return getattr(app.view_functions[rule.endpoint], "access_rule", None)


def _protected_cases():
    app = create_app(app_config("sqlite://"))
    cases = []
    for rule in _rules():
        access = _access_rule(app, rule)
        if access == "public":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            cases.append(pytest.param(rule.endpoint, method, id=f"{method} {rule.rule}"))
    return cases


def _url(app, endpoint: str) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    args = {name: SAMPLE_ARGS.get(name, 1) for name in rule.arguments}
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **args)


def test_every_view_declares_who_may_use_it():
    app = create_app(app_config("sqlite://"))
    undeclared = [rule.rule for rule in _rules() if _access_rule(app, rule) is None]
    assert not undeclared, f"views without @public or @roles_required: {undeclared}"


def _check_api_token_route(app, client, auth, url: str, method: str) -> None:
    """API routes take a bearer token only: no token or a signed-in session is a 401."""
    from app.api import services as api_services
    from app.auth.models import User
    from app.extensions import db

    response = client.open(url, method=method)
    assert response.status_code == 401 and response.is_json
    assert response.headers["WWW-Authenticate"].startswith("Bearer")

    # a staff session cookie is not a token
    user_id = auth.login_as(Role.ANALYST, email="holder@example.org")
    assert client.open(url, method=method).status_code == 401

    with app.app_context():
        user = db.session.get(User, user_id)
        secret = api_services.create_token(user, name="access test").secret
        db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.open(url, method=method, headers=headers).status_code not in (401, 403)

    # staff without the analyst role cannot hold a working token
    with app.app_context():
        user = db.session.get(User, user_id)
        user.roles.clear()
        auth_services.add_role(user, Role.ORGANISER)
        db.session.commit()
    assert client.open(url, method=method, headers=headers).status_code == 403


def test_there_are_protected_routes():
    assert len(_protected_cases()) >= 8


@pytest.mark.parametrize(("endpoint", "method"), _protected_cases())
def test_protected_route(app, client, auth, endpoint, method):
    required = _access_rule(
        app, next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    )
    url = _url(app, endpoint)
    if required == "api-token":
        _check_api_token_route(app, client, auth, url, method)
        return
    data = {"csrf_token": csrf_token(client)} if method == "POST" else None

    # anonymous visitors are sent to sign in
    response = client.open(url, method=method, data=data)
    assert response.status_code == 302, response.status_code
    assert response.location.startswith("/en/login")

    # staff without a matching role are refused
    others = [role for role in ANY_STAFF if role not in required and role != Role.ADMIN]
    auth.login_as(*others[:1], email="other@example.org")
    data = {"csrf_token": csrf_token(client, "/en/")} if method == "POST" else None
    assert client.open(url, method=method, data=data).status_code == 403
    auth.logout()

    # a holder of the role gets past the guard
    auth.login_as(required[0], email="holder@example.org")
    data = {"csrf_token": csrf_token(client, "/en/")} if method == "POST" else None
    response = client.open(url, method=method, data=data)
    assert response.status_code not in (401, 403)
    assert not (response.status_code == 302 and "/login" in response.location)
