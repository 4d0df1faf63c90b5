"""Sign-in and sign-out through the real forms."""

from __future__ import annotations

from app.auth.roles import Role
from tests.factories import DEFAULT_PASSWORD, csrf_token, make_user
from tests.pages import check_page, text_of


def test_login_page(client):
    soup = check_page(client.get("/en/login"))
    assert soup.find("input", attrs={"name": "email", "autocomplete": "username"})
    assert soup.find("input", attrs={"name": "password", "type": "password"})


def test_sign_in_and_out(app, client, auth):
    make_user(app, roles=[Role.ANALYST])
    response = auth.login()
    assert response.status_code == 302
    assert response.location == "/en/admin/"
    soup = check_page(client.get("/en/admin/"))
    assert "Analyst" in text_of(soup)
    response = auth.logout()
    assert response.status_code == 302
    assert client.get("/en/admin/").status_code == 302


def test_wrong_password_and_unknown_email_get_the_same_message(app, client, auth):
    make_user(app)
    wrong_password = check_page(auth.login(password="not the password"), status=400)
    unknown = check_page(auth.login(email="nobody@example.org"), status=400)
    message = wrong_password.select_one(".error-summary li").get_text(strip=True)
    assert message == unknown.select_one(".error-summary li").get_text(strip=True)
    assert "not correct" in message
    # what was typed stays; the password never comes back
    assert wrong_password.find("input", attrs={"name": "email"})["value"] == "staff@example.org"
    assert not wrong_password.find("input", attrs={"name": "password"}).get("value")


def test_empty_form_errors_link_to_fields_in_german(client):
    token = csrf_token(client, "/de/login")
    soup = check_page(client.post("/de/login", data={"csrf_token": token}), status=400, lang="de")
    links = [a["href"] for a in soup.select(".error-summary a")]
    assert links == ["#email", "#password"]
    assert soup.title.get_text().startswith("Fehler")
    email = soup.find("input", attrs={"name": "email"})
    assert email["aria-invalid"] == "true"
    assert "email-error" in email["aria-describedby"]


def test_deactivated_user_cannot_sign_in(app, auth):
    user_id = make_user(app)
    with app.app_context():
        from app.auth.models import User
        from app.extensions import db

        db.session.get(User, user_id).active = False
        db.session.commit()
    assert auth.login().status_code == 400


def test_session_is_renewed_at_sign_in(app, client, auth):
    make_user(app)
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    auth.login()
    with client.session_transaction() as session:
        assert "planted" not in session
        assert "_user_id" in session


def test_next_only_goes_to_this_site(app, client):
    make_user(app)
    for target, expected in (
        ("/en/admin/users", "/en/admin/users"),
        ("https://evil.example/", "/en/admin/"),
        ("//evil.example/", "/en/admin/"),
    ):
        token = csrf_token(client, "/en/login")
        response = client.post(
            "/en/login",
            data={
                "email": "staff@example.org",
                "password": DEFAULT_PASSWORD,
                "csrf_token": token,
                "next": target,
            },
        )
        assert response.location == expected
        client.post("/en/logout", data={"csrf_token": csrf_token(client, "/en/")})


def test_login_is_rate_limited_with_a_friendly_page(make_app):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    for _ in range(3):
        token = csrf_token(client, "/fr/login")
        response = client.post(
            "/fr/login", data={"email": "a@b.org", "password": "x" * 12, "csrf_token": token}
        )
        assert response.status_code == 400
    token = csrf_token(client, "/fr/login")
    response = client.post(
        "/fr/login", data={"email": "a@b.org", "password": "x" * 12, "csrf_token": token}
    )
    soup = check_page(response, status=429, lang="fr")
    assert "429" in text_of(soup)
    # reading the page is never limited
    assert client.get("/fr/login").status_code == 200


def test_post_without_csrf_token_is_refused(app, client):
    make_user(app)
    response = client.post(
        "/en/login", data={"email": "staff@example.org", "password": DEFAULT_PASSWORD}
    )
    check_page(response, status=400)
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_deactivation_ends_existing_sessions(app, client, auth):
    from app.auth import services
    from app.auth.models import User
    from app.extensions import db

    admin_id = make_user(app, email="admin@example.org", roles=[Role.ADMIN])
    user_id = make_user(app)
    auth.login()
    assert client.get("/en/admin/").status_code == 200
    with app.app_context():
        services.set_active(
            db.session.get(User, user_id), False, acting_user=db.session.get(User, admin_id)
        )
        db.session.commit()
    assert client.get("/en/admin/").status_code == 302
