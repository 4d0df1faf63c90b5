"""Analysts' personal API tokens: list, create (shown once), revoke."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import format_date, format_datetime
from flask_babel import gettext as _
from flask_login import current_user

from app.api import services
from app.api.forms import TokenForm
from app.auth.permissions import roles_required
from app.auth.roles import Role
from app.extensions import db
from app.timeutil import utcnow

bp = Blueprint("api_tokens", __name__, template_folder="templates",
               url_prefix="/<lang:lang_code>/admin/api-tokens")


def _index(form: TokenForm, status: int = 200):
    return render_template("api/tokens.html", form=form,
                           tokens=services.tokens_of(current_user), now=utcnow(),
                           format_date=format_date, format_datetime=format_datetime), status


@bp.route("/")
@roles_required(Role.ANALYST)
def index():
    return _index(TokenForm())


@bp.route("/", methods=["POST"])
@roles_required(Role.ANALYST)
def create():
    """Create a token and show it this once; the page is not cached anywhere."""
    form = TokenForm()
    if not form.validate_on_submit():
        return _index(form, 400)
    created = services.create_token(current_user, name=form.name.data,
                                    expires_in_days=form.days)
    db.session.commit()
    response = render_template("api/created.html", token=created.token, secret=created.secret,
                               format_date=format_date)
    return response, 201, {"Cache-Control": "no-store"}


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@roles_required(Role.ANALYST)
def revoke(token_id: int):
    token = services.token_of(current_user, token_id)
    if token is None:
        abort(404)
    if services.revoke(token, actor=current_user):
        db.session.commit()
        flash(_("The token %(name)s has been revoked. Scripts using it no longer get in.",
                name=token.name), "success")
    return redirect(url_for(".index"))
