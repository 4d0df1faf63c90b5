"""Account rules, independent of any page."""

from __future__ import annotations

import pytest

from app.auth import services
from app.auth.models import User
from app.auth.roles import Role
from app.errors import DomainError
from app.extensions import db
from app.hubs.services import ensure_hub


def test_password_is_hashed_with_argon2(app):
    with app.app_context():
        user = services.create_user(
            email="A@Example.org ", name="A", password="long enough pw", roles=[Role.ANALYST]
        )
        assert user.email == "a@example.org"
        assert user.password_hash.startswith("$argon2id$")
        assert "long enough pw" not in user.password_hash
        assert services.authenticate(email="a@example.org", password="long enough pw") is user
        assert services.authenticate(email="a@example.org", password="wrong password") is None


def test_short_password_and_duplicate_email_are_refused(app):
    with app.app_context():
        with pytest.raises(DomainError) as short:
            services.create_user(email="a@example.org", name="A", password="short")
        assert short.value.field == "password"
        services.create_user(email="a@example.org", name="A", password="long enough pw")
        with pytest.raises(DomainError) as duplicate:
            services.create_user(email="A@example.org", name="B", password="long enough pw")
        assert duplicate.value.field == "email"


def test_roles_per_hub(app):
    with app.app_context():
        portugal = ensure_hub(slug="pt", name="Hub Portugal", country="PT")
        austria = ensure_hub(slug="at", name="Hub Austria", country="AT")
        user = services.create_user(
            email="o@example.org",
            name="O",
            password="long enough pw",
            roles=[Role.ORGANISER],
            hub=portugal,
        )
        assert user.has_role(Role.ORGANISER, hub_id=portugal.id)
        assert not user.has_role(Role.ORGANISER, hub_id=austria.id)
        assert not user.has_role(Role.ANALYST)
        services.add_role(user, Role.ANALYST)
        assert user.has_role(Role.ANALYST, hub_id=austria.id)
        # adding the same role twice keeps one assignment
        services.add_role(user, Role.ANALYST)
        assert len(user.roles) == 2


def test_admin_passes_every_role_check(app):
    with app.app_context():
        admin = services.create_user(
            email="ad@example.org", name="Ad", password="long enough pw", roles=[Role.ADMIN]
        )
        assert all(admin.has_role(role) for role in Role)


def test_last_admin_is_protected(app):
    with app.app_context():
        admin = services.create_user(
            email="ad@example.org", name="Ad", password="long enough pw", roles=[Role.ADMIN]
        )
        other = services.create_user(
            email="o@example.org", name="O", password="long enough pw", roles=[Role.ADMIN]
        )
        db.session.commit()
        services.set_active(other, False, acting_user=admin)
        with pytest.raises(DomainError):
            services.set_active(admin, False, acting_user=other)
        with pytest.raises(DomainError):
            services.remove_role(admin, admin.roles[0].id, acting_user=admin)


def test_removing_a_role_signs_the_user_out(app):
    with app.app_context():
        admin = services.create_user(
            email="ad@example.org", name="Ad", password="long enough pw", roles=[Role.ADMIN]
        )
        user = services.create_user(
            email="o@example.org", name="O", password="long enough pw", roles=[Role.ORGANISER]
        )
        db.session.commit()
        token = user.session_token
        services.remove_role(user, user.roles[0].id, acting_user=admin)
        db.session.commit()
        assert db.session.get(User, user.id).session_token != token
        assert services.get_user_by_session_token(token) is None
