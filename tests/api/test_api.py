"""The JSON API for analysts: tokens, endpoints against the results services, the
OpenAPI document, and the token pages."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.api import openapi
from app.api import services as api
from app.api.models import ApiToken
from app.audit.models import AuditEntry
from app.auth import services as auth_services
from app.auth.models import User
from app.auth.roles import Role
from app.extensions import db
from app.results import benchmarks, participation, wide
from app.results.codebook import codebook, codebook_json
from app.results.models import Benchmark
from app.surveys.models import Answer, Response
from app.surveys.services import get_survey, latest_version
from app.timeutil import utcnow
from tests.factories import csrf_token, make_user
from tests.pages import check_page
from tests.results.test_benchmarks import sdmx
from tests.results.test_participation import SLUG as CONSULTATION
from tests.results.test_participation import respondent
from tests.results.test_wide_exports import DEFINITION, PEOPLE, answer
from tests.results.test_wide_exports import SLUG as WIDE
from tests.surveys.factories import open_survey

SECRET_KEY = "test-secret-key"  # tests.database.app_config


# Helpers -------------------------------------------------------------------------------


def analyst_token(app, *, email: str = "analyst@example.org", roles=(Role.ANALYST,),
                  days: int | None = 90) -> tuple[int, str]:
    """A user holding `roles` and a working token of theirs: (user id, clear token)."""
    user_id = make_user(app, email=email, roles=roles)
    with app.app_context():
        created = api.create_token(db.session.get(User, user_id), name="script",
                                   expires_in_days=days)
        db.session.commit()
        return user_id, created.secret


def get(client, url: str, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(url, headers=headers)


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.data[:500]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["message"]
    return body["error"]


@pytest.fixture
def answered(app):
    """The wide-export survey answered by seven people, the last of whom withdrew."""
    open_survey(app, WIDE, DEFINITION)
    browsers = [answer(app, PEOPLE[i % 2]) for i in range(6)]
    withdrawing = answer(app, PEOPLE[2])
    page = "/en/my-data/withdraw/echos-participation/research"
    withdrawing.post(page, data={"csrf_token": csrf_token(withdrawing, page)})
    return browsers


def withdrawn_pseudonym(app) -> str:
    with app.app_context():
        participant = db.session.scalar(select(Response.participant_id).join(Answer).where(
            Answer.value_text == "withdrawn person"))
        return wide.pseudonym(SECRET_KEY, participant)


# Tokens --------------------------------------------------------------------------------


def test_a_token_is_shown_once_and_only_its_hash_is_kept(app):
    user_id = make_user(app, email="analyst@example.org", roles=(Role.ANALYST,))
    with app.app_context():
        user = db.session.get(User, user_id)
        created = api.create_token(user, name="R on my laptop", expires_in_days=30)
        db.session.commit()
        secret = created.secret
        assert secret.startswith("ee_") and len(secret) > 40
        stored = db.session.scalars(select(ApiToken)).one()
        assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert stored.prefix == secret[:10]
        stored_text = " ".join(str(v) for v in (stored.name, stored.token_hash, stored.prefix))
        assert secret not in stored_text
        assert stored.expires_at - stored.created_at == timedelta(days=30)
        entry = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "api_token.created")).one()
        assert entry.actor == f"user:{user_id}" and entry.subject == f"api_token:{stored.id}"
        assert secret not in json.dumps(entry.details)
        assert [t.id for t in api.tokens_of(user)] == [stored.id]
        with pytest.raises(ValueError):
            api.create_token(user, name="too long", expires_in_days=366)


def test_last_used_is_written_at_most_once_a_minute(app):
    _user_id, secret = analyst_token(app)
    with app.app_context():
        now = utcnow()
        assert api.verify(secret, now).ok
        token = db.session.scalars(select(ApiToken)).one()
        assert token.last_used_at == now
        assert api.verify(secret, now + timedelta(seconds=30)).ok
        assert token.last_used_at == now
        assert api.verify(secret, now + timedelta(seconds=61)).ok
        assert token.last_used_at == now + timedelta(seconds=61)


def test_refused_tokens(app, client):
    user_id, secret = analyst_token(app)
    url = "/api/v1/surveys"
    assert get(client, url, secret).status_code == 200

    error = error_of(get(client, url, None), 401)
    assert error["code"] == "missing_token"
    response = client.get(url, headers={"Authorization": f"Basic {secret}"})
    assert error_of(response, 401)["code"] == "missing_token"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert error_of(get(client, url, secret[:-1] + "x"), 401)["code"] == "invalid_token"
    assert error_of(get(client, url, "not-a-token"), 401)["code"] == "invalid_token"

    # the account is deactivated, then active again without the analyst role
    with app.app_context():
        user = db.session.get(User, user_id)
        user.active = False
        db.session.commit()
    assert error_of(get(client, url, secret), 401)["code"] == "account_inactive"
    with app.app_context():
        user = db.session.get(User, user_id)
        user.active = True
        user.roles.clear()
        auth_services.add_role(user, Role.ORGANISER)
        db.session.commit()
    assert error_of(get(client, url, secret), 403)["code"] == "role_required"
    with app.app_context():
        auth_services.add_role(db.session.get(User, user_id), Role.ANALYST)
        db.session.commit()
    assert get(client, url, secret).status_code == 200

    # expired
    with app.app_context():
        token = db.session.scalars(select(ApiToken)).one()
        token.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert api.verify(secret).refusal == api.Refusal.EXPIRED
    assert error_of(get(client, url, secret), 401)["code"] == "token_expired"

    # revoked, and audited
    with app.app_context():
        token = db.session.scalars(select(ApiToken)).one()
        token.expires_at = utcnow() + timedelta(days=1)
        user = db.session.get(User, user_id)
        assert api.revoke(token, actor=user)
        assert not api.revoke(token, actor=user)
        db.session.commit()
        assert db.session.scalar(select(AuditEntry.subject).where(
            AuditEntry.action == "api_token.revoked")) == f"api_token:{token.id}"
    assert error_of(get(client, url, secret), 401)["code"] == "token_revoked"


def test_administrators_may_use_tokens(app, client):
    _user_id, secret = analyst_token(app, email="admin@example.org", roles=(Role.ADMIN,))
    assert get(client, "/api/v1/benchmarks", secret).status_code == 200


def test_a_signed_in_session_is_not_a_token(app, client, auth):
    auth.login_as(Role.ANALYST)
    response = client.get("/api/v1/surveys")
    assert error_of(response, 401)["code"] == "missing_token"


# Endpoints -----------------------------------------------------------------------------


def test_surveys_list_matches_the_services(app, client, answered):
    _user_id, secret = analyst_token(app)
    body = get(client, "/api/v1/surveys", secret).get_json()
    found = {s["slug"]: s for s in body["surveys"]}
    with app.app_context():
        survey = get_survey(WIDE)
        assert found[WIDE]["status"] == survey.status.value == "open"
        assert found[WIDE]["versions"] == [
            {"number": v.number, "created": v.created_at.isoformat()} for v in survey.versions]
    assert found[WIDE]["languages"] == ["en", "de"]
    assert found[WIDE]["title"] == {"en": "Wide test", "de": "Breiter Test"}
    assert found[WIDE]["analysable_responses"] == 6  # seven answered, one withdrew


def test_codebook(app, client, answered):
    _user_id, secret = analyst_token(app)
    body = get(client, f"/api/v1/surveys/{WIDE}/codebook?version=1", secret).get_json()
    with app.app_context():
        expected = json.loads(codebook_json(codebook(latest_version(get_survey(WIDE)))))
    assert body == {"survey": WIDE, "version": 1, "variables": expected}
    assert "email" not in {v["name"] for v in body["variables"]}  # contact data left out
    assert get(client, f"/api/v1/surveys/{WIDE}/codebook", secret).get_json() == body
    assert error_of(get(client, f"/api/v1/surveys/{WIDE}/codebook?version=2", secret),
                    404)["code"] == "not_found"
    for bad in ("abc", "0", "-1", "1.5", "99999999999"):
        error = error_of(get(client, f"/api/v1/surveys/{WIDE}/codebook?version={bad}",
                             secret), 400)
        assert error["code"] == "bad_parameter" and error["message"].startswith("version")
    assert error_of(get(client, "/api/v1/surveys/nope/codebook", secret), 404)


def test_responses_pages_cover_every_row_once_without_withdrawn_people(app, client,
                                                                        answered):
    _user_id, secret = analyst_token(app)
    with app.app_context():
        survey = get_survey(WIDE)
        expected = list(wide.wide_rows(survey, latest_version(survey), secret=SECRET_KEY))
    assert len(expected) == 6
    rows, pages = [], 0
    url = f"/api/v1/surveys/{WIDE}/responses?limit=4"
    while url:
        response = get(client, url, secret)
        assert response.status_code == 200, response.data
        body = response.get_json()
        pages += 1
        assert body["columns"][:3] == ["respondent", "language", "completed_at"]
        assert all(set(row) == set(body["columns"]) for row in body["rows"])
        rows.extend(body["rows"])
        nxt = body["next"]
        url = None if nxt is None else urlsplit(nxt).path + "?" + urlsplit(nxt).query
    assert pages == 2
    assert rows == expected
    respondents = [row["respondent"] for row in rows]
    assert len(set(respondents)) == len(respondents)
    assert withdrawn_pseudonym(app) not in respondents
    assert "withdrawn person" not in json.dumps(rows)
    assert "someone@example.org" not in json.dumps(rows)  # contact answers never appear

    # one page of everything; exactly a page's worth has no next link
    whole = get(client, f"/api/v1/surveys/{WIDE}/responses?limit=1000", secret).get_json()
    assert whole["rows"] == expected and whole["next"] is None
    exact = get(client, f"/api/v1/surveys/{WIDE}/responses?limit=6", secret).get_json()
    assert len(exact["rows"]) == 6 and exact["next"] is None


def test_a_withdrawal_between_pages_takes_effect_at_once(app, client, answered):
    _user_id, secret = analyst_token(app)
    first = get(client, f"/api/v1/surveys/{WIDE}/responses?limit=3", secret).get_json()
    later = answered[-1]  # answered last, so on the second page
    page = "/en/my-data/withdraw/echos-participation/research"
    later.post(page, data={"csrf_token": csrf_token(later, page)})
    nxt = urlsplit(first["next"])
    second = get(client, f"{nxt.path}?{nxt.query}", secret).get_json()
    assert len(first["rows"]) == 3 and len(second["rows"]) == 2
    seen = [r["respondent"] for r in first["rows"] + second["rows"]]
    assert len(set(seen)) == 5


def test_responses_bad_parameters(app, client, answered):
    _user_id, secret = analyst_token(app)
    base = f"/api/v1/surveys/{WIDE}/responses"
    for query, name in (("limit=0", "limit"), ("limit=1001", "limit"), ("limit=x", "limit"),
                        ("after=%%%", "after"), ("after=eDE", "after"),
                        ("after=" + "A" * 5000, "after"), ("version=two", "version")):
        error = error_of(get(client, f"{base}?{query}", secret), 400)
        assert error["message"].startswith(name), (query, error)
    assert error_of(get(client, f"{base}?version=9", secret), 404)
    assert error_of(get(client, "/api/v1/surveys/missing/responses", secret), 404)


def test_participation_matches_the_report_with_small_cells_hidden(app, client, tmp_path):
    open_survey(app, CONSULTATION)
    path = tmp_path / "demo_pjan.csv"
    path.write_text(sdmx({"AT": 2024}))
    with app.app_context():
        benchmarks.store(benchmarks.read_file(path))
        db.session.commit()
    for age, times in (("25_34", 12), ("35_44", 11), ("65_74", 3)):
        for _ in range(times):
            respondent(app, age)
    _user_id, secret = analyst_token(app)
    url = f"/api/v1/surveys/{CONSULTATION}/participation?country=at&language=en"
    body = get(client, url, secret).get_json()
    assert body["country"] == "AT" and body["k"] == participation.DEFAULT_K
    with app.app_context():
        reports = participation.report(get_survey(CONSULTATION), "AT", "en")
    assert [v["variable"] for v in body["variables"]] == [r.variable for r in reports]
    age = next(v for v in body["variables"] if v["variable"] == "age_band")
    report = next(r for r in reports if r.variable == "age_band")
    assert age["n"] == report.n == 26
    assert age["benchmark"] == {"source": report.source, "year": 2024}
    assert "Eurostat" in report.source
    lines = {c["category"]: c for c in age["categories"]}
    for line in report.lines:
        shown = lines[line.category]
        assert shown["count"] == line.count
        assert shown["label"] == line.label
        assert shown["benchmark_share"] == pytest.approx(line.row.benchmark_share)
        assert shown["under_represented"] == line.row.under_represented
        if line.count is None:
            assert shown["suppressed"] and shown["share"] is None
            assert shown["ci_low"] is None and shown["ratio"] is None
        else:
            assert shown["share"] == pytest.approx(line.row.share)
            assert shown["ci_low"] == pytest.approx(line.row.ci_low)
            assert shown["ci_high"] == pytest.approx(line.row.ci_high)
            assert shown["ratio"] == pytest.approx(line.row.ratio)
    assert lines["25_34"]["count"] == 12
    assert lines["65_74"]["count"] is None and lines["35_44"]["count"] is None
    assert lines["75_plus"]["count"] == 0 and lines["75_plus"]["under_represented"]
    numbers = {key for key, value in lines["35_44"].items()
               if isinstance(value, int | float) and not isinstance(value, bool)}
    assert numbers == {"benchmark_share"}  # nothing that gives the hidden 11 away
    assert age["goodness_of_fit"]["chi2"] == pytest.approx(report.fit.chi2)
    assert age["goodness_of_fit"]["dof"] == report.fit.dof
    assert age["r_indicator"]["r"] == pytest.approx(report.r.r)

    assert error_of(get(client, url.replace("country=at", "country=Austria"), secret),
                    400)["message"].startswith("country")
    assert error_of(get(client, url.replace("country=at&", ""), secret), 400)
    assert error_of(get(client, url.replace("language=en", "language=<b>"), secret), 400)
    assert error_of(get(client, url.replace("country=at", "country=FR"), secret), 404)

    # the benchmarks themselves
    every = get(client, "/api/v1/benchmarks", secret).get_json()["benchmarks"]
    with app.app_context():
        stored = db.session.scalars(select(Benchmark)).all()
        assert len(every) == len(stored)
        first = next(b for b in stored if b.category == "25_34")
    assert {"variable": "age_band", "category": "25_34", "geography": "AT", "year": 2024,
            "source": first.source, "share": pytest.approx(first.share),
            "count": first.count} in every
    assert get(client, "/api/v1/benchmarks?country=fr", secret).get_json() == {
        "benchmarks": []}
    assert len(get(client, "/api/v1/benchmarks?variable=age_band&country=at",
                   secret).get_json()["benchmarks"]) == len(every)


def test_errors_are_json_never_html(app, client):
    _user_id, secret = analyst_token(app)
    assert error_of(get(client, "/api/v1/nothing-here", secret), 404)["code"] == "not_found"
    assert error_of(get(client, "/api/", secret), 404)
    response = client.post("/api/v1/surveys", headers={"Authorization": f"Bearer {secret}"})
    assert error_of(response, 405)["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]
    assert error_of(client.delete("/api/v1/benchmarks"), 405)


# The OpenAPI document ------------------------------------------------------------------


def test_openapi_document_is_valid_and_public(client):
    validator = pytest.importorskip("openapi_spec_validator")
    response = client.get("/api/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.get_json()
    validator.validate(document)
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert "Error" in document["components"]["schemas"]


def test_openapi_paths_match_the_routes(app):
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api.") or rule.endpoint in ("api.unknown",
                                                                     "api.static"):
            continue
        assert rule.methods - {"HEAD", "OPTIONS"} == {"GET"}, rule.rule
        routes.add(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule))
    assert routes == set(openapi.PATHS)
    for path, item in openapi.PATHS.items():
        assert set(item) == {"get"}
        declared = {p["name"] for p in item["get"].get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"{(\w+)}", path)), path


def test_document_lists_the_errors_each_endpoint_gives():
    for path, item in openapi.PATHS.items():
        responses = item["get"]["responses"]
        if item["get"]["security"]:
            assert {"401", "403"} <= set(responses), path
        if "{slug}" in path:
            assert {"400", "404"} <= set(responses), path


# Token pages ---------------------------------------------------------------------------


def test_token_pages_create_show_once_and_revoke(app, client, auth):
    user_id = auth.login_as(Role.ANALYST)
    page = "/en/admin/api-tokens/"
    soup = check_page(client.get(page))
    assert soup.find("a", href=page) is not None  # linked from the staff navigation
    assert "You have no API tokens yet." in soup.text

    response = client.post(page, data={"csrf_token": csrf_token(client, page),
                                       "name": "Stata at the institute",
                                       "expires_in_days": "30"})
    soup = check_page(response, status=201)
    assert response.headers["Cache-Control"] == "no-store"
    secret = soup.find("textarea", id="token").text.strip()
    assert secret.startswith("ee_")
    assert "will not be shown again" in soup.text
    with app.app_context():
        token = db.session.scalars(select(ApiToken)).one()
        assert token.user_id == user_id and token.name == "Stata at the institute"
        assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert token.expires_at - token.created_at == timedelta(days=30)
    assert get(client, "/api/v1/surveys", secret).status_code == 200

    listing = client.get(page).get_data(as_text=True)
    assert secret not in listing and token.prefix in listing
    assert "Stata at the institute" in listing

    # someone else's token cannot be revoked from here
    other_id, other_secret = analyst_token(app, email="other@example.org")
    with app.app_context():
        other = db.session.scalar(select(ApiToken.id).where(ApiToken.user_id == other_id))
    response = client.post(f"{page}{other}/revoke", data={"csrf_token": csrf_token(client, page)})
    assert response.status_code == 404
    assert get(client, "/api/v1/surveys", other_secret).status_code == 200

    response = client.post(f"{page}{token.id}/revoke",
                           data={"csrf_token": csrf_token(client, page)})
    assert response.status_code == 302
    soup = check_page(client.get(page))
    assert "has been revoked" in soup.text and "Revoked" in soup.text
    assert get(client, "/api/v1/surveys", secret).status_code == 401

    # without the CSRF token nothing happens
    assert client.post(page, data={"name": "x"}).status_code == 400
    with app.app_context():
        assert db.session.scalar(select(db.func.count(ApiToken.id))) == 2


def test_token_form_keeps_what_was_typed(app, client, auth):
    auth.login_as(Role.ANALYST)
    page = "/en/admin/api-tokens/"
    response = client.post(page, data={"csrf_token": csrf_token(client, page),
                                       "name": "", "expires_in_days": "400"})
    soup = check_page(response, status=400)
    assert "Give the token a name." in soup.text
    assert "Enter a whole number of days from 1 to 365." in soup.text
    assert soup.find("input", id="expires_in_days")["value"] == "400"
    response = client.post(page, data={"csrf_token": csrf_token(client, page),
                                       "name": "My R", "expires_in_days": "abc"})
    soup = check_page(response, status=400)
    assert soup.find("input", id="name")["value"] == "My R"
    assert soup.find("input", id="expires_in_days")["value"] == "abc"
    # empty means the default
    response = client.post(page, data={"csrf_token": csrf_token(client, page),
                                       "name": "Default", "expires_in_days": ""})
    assert response.status_code == 201
    with app.app_context():
        token = db.session.scalars(select(ApiToken)).one()
        assert token.expires_at - token.created_at == timedelta(days=api.DEFAULT_EXPIRY_DAYS)


def test_token_pages_in_arabic(app, client, auth):
    auth.login_as(Role.ANALYST)
    soup = check_page(client.get("/ar/admin/api-tokens/"), lang="ar")
    assert soup.find("html")["dir"] == "rtl"
    token_example = soup.find("code", class_="code")
    assert token_example is not None and "Bearer" in token_example.text


def test_staff_without_the_analyst_role_see_no_link(app, client, auth):
    auth.login_as(Role.ORGANISER)
    html = client.get("/en/admin/").get_data(as_text=True)
    assert "/en/admin/api-tokens/" not in html
    assert client.get("/en/admin/api-tokens/").status_code == 403


def test_tables_match_the_page_and_cli_with_weights_and_groups(app, client):
    from app.results import weighting
    from app.results.analysis import analyse
    from app.results.table_output import as_dict
    from tests.results.stored import store_responses
    from tests.results.test_weighting_tables import BENCHMARKS, people
    from tests.results.test_weighting_tables import DEFINITION as WEIGHTS_DEFINITION
    from tests.results.test_weighting_tables import SLUG as WEIGHTS

    open_survey(app, WEIGHTS, WEIGHTS_DEFINITION)
    with app.app_context():
        benchmarks.store(benchmarks.read_plain(BENCHMARKS))
        store_responses(WEIGHTS, people())
        survey = get_survey(WEIGHTS)
        scheme = weighting.define(survey, weighting.SchemeInput("pt", "PT", ("sex", "area")),
                                  actor="a")
        weighting.compute(survey, scheme, actor="a")
        db.session.commit()
        expected = json.loads(json.dumps(as_dict(analyse(
            survey, secret=SECRET_KEY, scheme_name="pt", by="area"))))
    _user, token = analyst_token(app)
    body = get(client, f"/api/v1/surveys/{WEIGHTS}/tables?scheme=pt&by=area", token).json
    assert body == expected
    colour = next(t for t in body["tables"] if t["variable"] == "colour")
    green = next(c for c in colour["categories"] if c["label"] == "Green")
    assert green["count"] is None and green["share"] is None  # 3 people: hidden
    sex = next(t for t in body["tables"] if t["variable"] == "sex")
    assert sex["comparison"]["test"]["name"] == "chi-square"
    assert [c["weighted_share"] for c in sex["categories"]] == pytest.approx([0.5, 0.5])
    assert error_of(get(client, f"/api/v1/surveys/{WEIGHTS}/tables?scheme=nope", token),
                    400)["message"]
    assert error_of(get(client, f"/api/v1/surveys/{WEIGHTS}/tables?by=age", token), 400)
    assert get(client, f"/api/v1/surveys/{WEIGHTS}/tables", None).status_code == 401


def test_each_token_has_its_own_rate_limit_answered_in_json(make_app):
    app = make_app(RATELIMIT_ENABLED=True, API_RATE_LIMIT="3 per minute")
    client = app.test_client()
    _user, token = analyst_token(app)
    _other, second = analyst_token(app, email="second@example.org")
    for _ in range(3):
        assert get(client, "/api/v1/surveys", token).status_code == 200
    refused = error_of(get(client, "/api/v1/surveys", token), 429)
    assert refused["code"] == "too_many_requests"
    assert get(client, "/api/v1/surveys", second).status_code == 200  # its own allowance
