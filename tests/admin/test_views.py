"""Administrators manage accounts and roles through the pages."""

from __future__ import annotations

from sqlalchemy import select

from app.auth.models import RoleAssignment, User
from app.auth.roles import Role
from app.extensions import db
from tests.factories import csrf_token, get_user, make_hub, make_user
from tests.pages import check_page, text_of


def test_dashboard_lists_roles(client, auth):
    auth.login_as(Role.MODERATOR)
    soup = check_page(client.get("/en/admin/"))
    assert "Moderator" in text_of(soup)
    assert not soup.find("a", href="/en/admin/users")


def test_users_page_lists_accounts(app, client, auth):
    auth.login_as(Role.ADMIN, email="admin@example.org")
    make_user(app, email="analyst@example.org", name="Ana Lyst", roles=[Role.ANALYST])
    soup = check_page(client.get("/de/admin/users"), lang="de")
    rows = soup.select("tbody tr")
    assert len(rows) == 2
    assert "analyst@example.org" in text_of(soup)


def test_create_account_with_hub_role(app, client, auth):
    auth.login_as(Role.ADMIN, email="admin@example.org")
    hub_id = make_hub(app, "at", "AT")
    soup = check_page(client.get("/en/admin/users/new"))
    assert soup.find("option", attrs={"value": str(hub_id)})
    response = client.post(
        "/en/admin/users/new",
        data={
            "csrf_token": csrf_token(client, "/en/admin/users/new"),
            "name": "  Olga Organiser ",
            "email": "Olga@Example.org",
            "password": "a long password",
            "role": "organiser",
            "hub": str(hub_id),
        },
    )
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "olga@example.org"))
        assert user.name == "Olga Organiser"
        assert [(a.role, a.hub_id) for a in user.roles] == [(Role.ORGANISER, hub_id)]


def test_create_account_errors_keep_input(client, auth):
    auth.login_as(Role.ADMIN, email="admin@example.org")
    response = client.post(
        "/fr/admin/users/new",
        data={
            "csrf_token": csrf_token(client, "/fr/admin/users/new"),
            "name": "Jean",
            "email": "admin@example.org",
            "password": "short",
            "role": "analyst",
            "hub": "all",
        },
    )
    soup = check_page(response, status=400, lang="fr")
    assert [a["href"] for a in soup.select(".error-summary a")] == ["#password"]
    assert soup.find("input", attrs={"name": "name"})["value"] == "Jean"

    response = client.post(
        "/fr/admin/users/new",
        data={
            "csrf_token": csrf_token(client, "/fr/admin/users/new"),
            "name": "Jean",
            "email": "admin@example.org",
            "password": "a long password",
            "role": "analyst",
            "hub": "all",
        },
    )
    soup = check_page(response, status=400, lang="fr")
    assert [a["href"] for a in soup.select(".error-summary a")] == ["#email"]


def test_add_and_remove_roles(app, client, auth):
    auth.login_as(Role.ADMIN, email="admin@example.org")
    user_id = make_user(app, email="t@example.org", roles=[Role.TRANSLATOR])
    page = f"/en/admin/users/{user_id}"
    check_page(client.get(page))
    response = client.post(
        f"{page}/roles",
        data={"csrf_token": csrf_token(client, page), "role": "moderator", "hub": "all"},
    )
    assert response.status_code == 302
    assert {a.role for a in get_user(app, user_id).roles} == {Role.TRANSLATOR, Role.MODERATOR}

    with app.app_context():
        assignment_id = db.session.scalar(
            select(RoleAssignment.id).where(
                RoleAssignment.user_id == user_id, RoleAssignment.role == Role.TRANSLATOR
            )
        )
    response = client.post(
        f"{page}/roles/{assignment_id}/remove", data={"csrf_token": csrf_token(client, page)}
    )
    assert response.status_code == 302
    assert {a.role for a in get_user(app, user_id).roles} == {Role.MODERATOR}


def test_invalid_role_is_an_error_not_a_crash(app, client, auth):
    auth.login_as(Role.ADMIN, email="admin@example.org")
    user_id = make_user(app, email="t@example.org")
    page = f"/en/admin/users/{user_id}"
    response = client.post(
        f"{page}/roles",
        data={"csrf_token": csrf_token(client, page), "role": "emperor", "hub": "all"},
    )
    soup = check_page(response, status=400)
    assert soup.select(".error-summary a[href='#role']")


def test_deactivate_and_reactivate(app, client, auth):
    admin_id = auth.login_as(Role.ADMIN, email="admin@example.org")
    user_id = make_user(app, email="t@example.org")
    page = f"/en/admin/users/{user_id}"
    client.post(f"{page}/active", data={"csrf_token": csrf_token(client, page)})
    assert get_user(app, user_id).active is False
    client.post(f"{page}/active", data={"csrf_token": csrf_token(client, page)})
    assert get_user(app, user_id).active is True

    own = f"/en/admin/users/{admin_id}"
    response = client.post(
        f"{own}/active", data={"csrf_token": csrf_token(client, own)}, follow_redirects=True
    )
    soup = check_page(response)
    assert soup.select_one(".notice-error")
    assert get_user(app, admin_id).active is True


def test_change_password(app, client, auth):
    auth.login_as(Role.ANALYST, email="a@example.org")
    page = "/en/admin/account/password"
    response = client.post(
        page,
        data={
            "csrf_token": csrf_token(client, page),
            "current_password": "wrong",
            "password": "new password 1",
            "confirm": "new password 1",
        },
    )
    check_page(response, status=400)
    response = client.post(
        page,
        data={
            "csrf_token": csrf_token(client, page),
            "current_password": "correct horse battery staple",
            "password": "new password 1",
            "confirm": "new password 1",
        },
    )
    assert response.status_code == 302
    assert client.get("/en/admin/").status_code == 200  # this session stays signed in
    auth.logout()
    assert auth.login("a@example.org", "new password 1").status_code == 302
