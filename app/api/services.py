"""API tokens and the data the JSON API serves.

Tokens: only a SHA-256 hash is stored, so a leaked database holds nothing that works;
the token itself is shown once when created. A token works only while its owner is
active and still an analyst (administrators pass), so taking the role away or
deactivating the account stops every script at once, without revoking tokens one by one.

Plain functions over the session with no Flask globals; callers commit.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.api.models import ApiToken
from app.audit.services import record as audit
from app.auth.models import User
from app.auth.roles import Role
from app.consent.services import analysable_count
from app.extensions import db
from app.results import participation
from app.results import wide as wide_export
from app.results.codebook import Variable
from app.results.models import Benchmark
from app.surveys.models import Survey, SurveyVersion
from app.surveys.services import definition_of, latest_version, list_surveys
from app.timeutil import utcnow

TOKEN_PREFIX = "ee_"
PREFIX_SHOWN = 10  # characters kept in clear to tell tokens apart in lists
DEFAULT_EXPIRY_DAYS = 90
MAX_EXPIRY_DAYS = 365
LAST_USED_EVERY = timedelta(minutes=1)  # at most one write per token per minute
MAX_PAGE = 1000
DEFAULT_PAGE = 100


# Tokens --------------------------------------------------------------------------------


class Refusal(enum.StrEnum):
    """Why a presented token does not let its bearer in."""

    UNKNOWN = "invalid_token"
    REVOKED = "token_revoked"
    EXPIRED = "token_expired"
    INACTIVE = "account_inactive"
    NOT_ANALYST = "role_required"


@dataclass(frozen=True)
class Created:
    token: ApiToken
    secret: str  # the token in clear: give it to the user now, it is never stored


@dataclass(frozen=True)
class Verified:
    token: ApiToken | None
    refusal: Refusal | None

    @property
    def ok(self) -> bool:
        return self.refusal is None


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def may_hold_tokens(user: User) -> bool:
    return user.active and user.has_role(Role.ANALYST)


def create_token(user: User, *, name: str, expires_in_days: int | None = DEFAULT_EXPIRY_DAYS,
                 now: datetime | None = None) -> Created:
    """A new token for `user`; the clear token is in the result and nowhere else."""
    if not name.strip() or len(name) > 100:
        raise ValueError("a token needs a name of 1 to 100 characters")
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        raise ValueError(f"expiry must be 1 to {MAX_EXPIRY_DAYS} days")
    now = now or utcnow()
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name.strip(), token_hash=hash_token(secret),
                     prefix=secret[:PREFIX_SHOWN], created_at=now,
                     expires_at=now + timedelta(days=expires_in_days)
                     if expires_in_days is not None else None)
    db.session.add(token)
    db.session.flush()
    audit(action="api_token.created", actor=f"user:{user.id}", subject=f"api_token:{token.id}",
          details={"prefix": token.prefix, "expires_at": token.expires_at.isoformat()
                   if token.expires_at else None})
    return Created(token, secret)


def tokens_of(user: User) -> list[ApiToken]:
    """The user's tokens, newest first, revoked and expired ones included."""
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def token_of(user: User, token_id: int) -> ApiToken | None:
    """One of the user's own tokens; another user's token is as good as missing."""
    return db.session.scalar(select(ApiToken).where(ApiToken.id == token_id,
                                                    ApiToken.user_id == user.id))


def revoke(token: ApiToken, *, actor: User, now: datetime | None = None) -> bool:
    """Stop the token working; False when it was already revoked."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = now or utcnow()
    db.session.flush()
    audit(action="api_token.revoked", actor=f"user:{actor.id}", subject=f"api_token:{token.id}",
          details={"prefix": token.prefix})
    return True


def is_expired(token: ApiToken, now: datetime | None = None) -> bool:
    return token.expires_at is not None and token.expires_at <= (now or utcnow())


def verify(presented: str, now: datetime | None = None) -> Verified:
    """Who a presented token belongs to, or why it is refused.

    The lookup is by hash, so the secret never meets a timing-dependent comparison;
    the stored hash is compared once more in constant time all the same.
    """
    now = now or utcnow()
    if not presented.startswith(TOKEN_PREFIX) or len(presented) > 200:
        return Verified(None, Refusal.UNKNOWN)
    digest = hash_token(presented)
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return Verified(None, Refusal.UNKNOWN)
    if token.revoked_at is not None:
        return Verified(token, Refusal.REVOKED)
    if is_expired(token, now):
        return Verified(token, Refusal.EXPIRED)
    if not token.user.active:
        return Verified(token, Refusal.INACTIVE)
    if not token.user.has_role(Role.ANALYST):
        return Verified(token, Refusal.NOT_ANALYST)
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        token.last_used_at = now
        db.session.flush()
    return Verified(token, None)


# Surveys -------------------------------------------------------------------------------


def _finite(value: float | None) -> float | None:
    """JSON has no NaN or infinity: an undefined statistic is null."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def survey_summaries() -> list[dict[str, Any]]:
    out = []
    for survey in list_surveys():
        if not survey.versions:
            continue
        definition = definition_of(latest_version(survey))
        out.append({
            "slug": survey.slug,
            "status": survey.status.value,
            "title": {lang: definition.title.get(lang) for lang in definition.languages},
            "languages": list(definition.languages),
            "default_language": definition.default_language,
            "versions": [{"number": v.number, "created": v.created_at.isoformat()}
                         for v in survey.versions],
            "analysable_responses": analysable_count(survey.id),
        })
    return out


def version_of(survey: Survey, number: int | None) -> SurveyVersion | None:
    if number is None:
        return latest_version(survey) if survey.versions else None
    return next((v for v in survey.versions if v.number == number), None)


def participation_report(survey: Survey, country: str, language: str,
                         k: int = participation.DEFAULT_K) -> list[dict[str, Any]]:
    """The participation report as plain data; a hidden count hides every figure from it.

    Share, interval, ratio and p-value of a suppressed cell would give its count back
    (share times n), so they are null too; the flag stays, as on the page.
    """
    reports = participation.report(survey, country, language, k=k)
    out = []
    for report in reports:
        lines = []
        for line in report.lines:
            row = line.row
            hidden = line.count is None
            lines.append({
                "category": line.category,
                "label": line.label,
                "count": line.count,
                "suppressed": hidden,
                "share": None if hidden else _finite(row.share),
                "ci_low": None if hidden else _finite(row.ci_low),
                "ci_high": None if hidden else _finite(row.ci_high),
                "benchmark_share": _finite(row.benchmark_share),
                "ratio": None if hidden else _finite(row.ratio),
                "p_value": None if hidden else _finite(row.p_value),
                "under_represented": bool(row.under_represented),
            })
        fit = report.fit
        out.append({
            "variable": report.variable,
            "label": report.label,
            "n": report.n,
            "benchmark": {"source": report.source, "year": report.year},
            "categories": lines,
            "goodness_of_fit": {"chi2": _finite(fit.chi2), "dof": fit.dof,
                                "p_value": _finite(fit.p_value),
                                "cramers_v": _finite(fit.cramers_v), "n": fit.n,
                                "valid": bool(fit.valid)},
            "r_indicator": None if report.r is None else {
                "r": _finite(report.r.r), "sd": _finite(report.r.sd), "cv": _finite(report.r.cv),
                "mean_propensity": _finite(report.r.mean_propensity)},
        })
    return out


def benchmark_rows(variable: str | None = None, country: str | None = None
                   ) -> list[dict[str, Any]]:
    query = select(Benchmark).order_by(Benchmark.variable, Benchmark.geography,
                                       Benchmark.year.desc(), Benchmark.source,
                                       Benchmark.category)
    if variable:
        query = query.where(Benchmark.variable == variable)
    if country:
        query = query.where(Benchmark.geography == country)
    return [{"variable": b.variable, "category": b.category, "geography": b.geography,
             "year": b.year, "source": b.source, "share": _finite(b.share),
             "count": _finite(b.count)} for b in db.session.scalars(query)]


# Row-level data ------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    rows: list[wide_export.Row]
    last_id: int | None  # response id of the last row, when more rows follow


def response_page(survey: Survey, version: SurveyVersion, *, secret: str, after: int = 0,
                  limit: int = DEFAULT_PAGE, variables: list[Variable] | None = None) -> Page:
    """Up to `limit` wide rows of responses with an id above `after`, in id order: the
    rows of the wide export, so each page costs one page of work. People whose consent
    no longer allows analysis are left out when each page is read."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be 1 to {MAX_PAGE}")
    found = list(wide_export.rows_with_ids(survey, version, secret=secret, after=after,
                                           limit=limit + 1, variables=variables))
    page, more = found[:limit], len(found) > limit
    return Page([row for _id, row in page], page[-1][0] if more and page else None)
