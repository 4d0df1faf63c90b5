"""Sign in and sign out for staff."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.auth import services
from app.auth.forms import LoginForm
from app.auth.permissions import public
from app.extensions import db, limiter

bp = Blueprint("auth", __name__, template_folder="templates", url_prefix="/<lang:lang_code>")


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths, so the sign-in page cannot send people elsewhere."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@public
def login():
    """Staff sign-in; one message for every kind of failure."""
    form = LoginForm(next=request.args.get("next", ""))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(_safe_next(form.next.data) or url_for("admin.dashboard"))
    if form.validate_on_submit():
        user = services.authenticate(email=form.email.data, password=form.password.data)
        if user is None:
            db.session.rollback()
            form.attach_error(None, _("The e-mail address or password is not correct."))
        else:
            db.session.commit()
            destination = _safe_next(form.next.data) or url_for("admin.dashboard")
            # A fresh session at sign-in: nothing set before it carries over.
            session.clear()
            login_user(user)
            session.permanent = True
            flash(_("You are signed in."), "success")
            return redirect(destination)
    status = 400 if form.errors or form.form_errors else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@public
def logout():
    """Sign out (POST only, so a link or image cannot sign someone out)."""
    logout_user()
    session.clear()
    flash(_("You are signed out."), "success")
    return redirect(url_for("public.home"))
