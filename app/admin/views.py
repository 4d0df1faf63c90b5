"""Staff workspace and user management."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user

from app.admin.forms import ALL_HUBS, ChangePasswordForm, ConfirmForm, NewUserForm, RoleForm
from app.auth import services
from app.auth.models import User
from app.auth.permissions import roles_required, staff_required
from app.auth.roles import Role
from app.errors import DomainError
from app.extensions import db
from app.hubs.models import Hub
from app.hubs.services import list_hubs

bp = Blueprint("admin", __name__, template_folder="templates", url_prefix="/<lang:lang_code>/admin")


def _hub_from_choice(value: str) -> Hub | None:
    return None if value == ALL_HUBS else db.session.get(Hub, int(value))


@bp.route("/")
@staff_required
def dashboard():
    """What the signed-in staff member can do, by role."""
    return render_template("admin/dashboard.html", Role=Role)


@bp.route("/users")
@roles_required(Role.ADMIN)
def users():
    """Every staff account with its roles."""
    return render_template("admin/users.html", users=services.list_users())


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def new_user():
    """Create a staff account with a first role."""
    form = NewUserForm()
    form.set_choices(list_hubs())
    if form.validate_on_submit():
        try:
            user = services.create_user(
                email=form.email.data,
                name=form.name.data,
                password=form.password.data,
                roles=[Role(form.role.data)],
                hub=_hub_from_choice(form.hub.data),
            )
        except DomainError as error:
            db.session.rollback()
            form.attach_error(error.field, error.message)
        else:
            db.session.commit()
            flash(_("The account for %(name)s was created.", name=user.name), "success")
            return redirect(url_for("admin.edit_user", user_id=user.id))
    status = 400 if form.errors or form.form_errors else 200
    return render_template("admin/new_user.html", form=form), status


def _render_edit(user: User, role_form: RoleForm, status: int = 200):
    return (
        render_template(
            "admin/edit_user.html", user=user, role_form=role_form, action_form=ConfirmForm()
        ),
        status,
    )


@bp.route("/users/<int:user_id>")
@roles_required(Role.ADMIN)
def edit_user(user_id: int):
    """One account: its roles and whether it may sign in."""
    user = db.get_or_404(User, user_id)
    role_form = RoleForm()
    role_form.set_choices(list_hubs())
    return _render_edit(user, role_form)


@bp.route("/users/<int:user_id>/roles", methods=["POST"])
@roles_required(Role.ADMIN)
def add_role(user_id: int):
    """Give a role, network-wide or for one hub."""
    user = db.get_or_404(User, user_id)
    role_form = RoleForm()
    role_form.set_choices(list_hubs())
    if not role_form.validate_on_submit():
        return _render_edit(user, role_form, 400)
    services.add_role(user, Role(role_form.role.data), _hub_from_choice(role_form.hub.data))
    db.session.commit()
    flash(_("Role added."), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/users/<int:user_id>/roles/<int:assignment_id>/remove", methods=["POST"])
@roles_required(Role.ADMIN)
def remove_role(user_id: int, assignment_id: int):
    """Take a role away; the person is signed out so it applies at once."""
    user = db.get_or_404(User, user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.remove_role(user, assignment_id, acting_user=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(_("Role removed."), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@roles_required(Role.ADMIN)
def toggle_active(user_id: int):
    """Deactivate an account (it can no longer sign in) or reactivate it."""
    user = db.get_or_404(User, user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.set_active(user, not user.active, acting_user=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        if user.active:
            flash(_("The account is active again."), "success")
        else:
            flash(_("The account is deactivated."), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/account/password", methods=["GET", "POST"])
@staff_required
def change_password():
    """Staff change their own password; other sessions are signed out."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = services.authenticate(email=current_user.email, password=form.current_password.data)
        if user is None:
            db.session.rollback()
            form.attach_error("current_password", _("Your current password is not correct."))
        else:
            services.set_password(user, form.password.data)
            db.session.commit()
            login_user(user)  # the rotated token replaces the one in this session
            flash(_("Your password was changed."), "success")
            return redirect(url_for("admin.dashboard"))
    status = 400 if form.errors or form.form_errors else 200
    return render_template("admin/change_password.html", form=form), status
