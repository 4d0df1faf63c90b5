"""Plain factory functions and helpers for building test data and signing in."""

from __future__ import annotations

from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient

from app.auth import services
from app.auth.models import User
from app.auth.roles import Role
from app.extensions import db
from app.hubs.models import Hub
from app.hubs.services import ensure_hub

DEFAULT_PASSWORD = "correct horse battery staple"


def make_user(
    app: Flask,
    *,
    email: str = "staff@example.org",
    roles=(Role.ORGANISER,),
    password: str = DEFAULT_PASSWORD,
    name: str = "Staff Member",
    hub: Hub | None = None,
) -> int:
    """Create a committed user; returns the id (objects do not outlive the context)."""
    with app.app_context():
        user = services.create_user(
            email=email, name=name, password=password, roles=list(roles), hub=hub
        )
        db.session.commit()
        return user.id


def make_hub(app: Flask, slug: str = "pt", country: str = "PT") -> int:
    with app.app_context():
        hub = ensure_hub(slug=slug, name=f"Hub {country}", country=country)
        db.session.commit()
        return hub.id


def get_user(app: Flask, user_id: int) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def csrf_token(client: FlaskClient, path: str = "/en/login") -> str:
    """The CSRF token the server put in a page's form, as a browser would send it."""
    soup = BeautifulSoup(client.get(path).data, "html.parser")
    field = soup.find("input", attrs={"name": "csrf_token"})
    assert field is not None, f"no CSRF token on {path}"
    return field["value"]


class AuthActions:
    """Sign in and out through the real sign-in form."""

    def __init__(self, client: FlaskClient, app: Flask) -> None:
        self.client = client
        self.app = app

    def login(
        self, email: str = "staff@example.org", password: str = DEFAULT_PASSWORD, lang: str = "en"
    ):
        token = csrf_token(self.client, f"/{lang}/login")
        return self.client.post(
            f"/{lang}/login",
            data={"email": email, "password": password, "csrf_token": token},
        )

    def login_as(self, *roles: Role, email: str | None = None) -> int:
        email = email or f"{'-'.join(r.value for r in roles) or 'norole'}@example.org"
        user_id = make_user(self.app, email=email, roles=roles)
        response = self.login(email)
        assert response.status_code == 302, response.data
        return user_id

    def logout(self):
        token = csrf_token(self.client, "/en/")
        return self.client.post("/en/logout", data={"csrf_token": token})
