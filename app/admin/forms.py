"""Forms for managing staff accounts."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from app.auth.roles import Role
from app.auth.services import MIN_PASSWORD_LENGTH, PASSWORD_TOO_SHORT
from app.forms import BaseForm

ALL_HUBS = "all"


def role_choices() -> list[tuple[str, str]]:
    """Administrator last, so the most powerful role is never the one picked by default."""
    ordered = sorted(Role, key=lambda role: role == Role.ADMIN)
    return [(role.value, role.label) for role in ordered]


def password_validators() -> list:
    return [
        DataRequired(_l("Enter a password.")),
        Length(min=MIN_PASSWORD_LENGTH, max=1024, message=PASSWORD_TOO_SHORT),
    ]


class RoleForm(BaseForm):
    role = SelectField(_l("Role"), choices=[], validators=[DataRequired()])
    hub = SelectField(_l("Hub"), choices=[], default=ALL_HUBS)

    def set_choices(self, hubs) -> None:
        self.role.choices = role_choices()
        self.hub.choices = [(ALL_HUBS, str(_l("All hubs")))] + [
            (str(hub.id), f"{hub.name} ({hub.country})") for hub in hubs
        ]


class NewUserForm(RoleForm):
    name = StringField(
        _l("Full name"),
        validators=[DataRequired(_l("Enter the person's name.")), Length(max=200)],
        render_kw={"autocomplete": "off"},
    )
    email = EmailField(
        _l("E-mail address"),
        validators=[
            DataRequired(_l("Enter an e-mail address.")),
            Email(
                _l("Enter an e-mail address in the form name@example.org."),
                check_deliverability=False,
            ),
            Length(max=320),
        ],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Initial password"),
        description=_l(
            "At least %(count)d characters. Share it with the person privately.",
            count=MIN_PASSWORD_LENGTH,
        ),
        validators=password_validators(),
        render_kw={"autocomplete": "new-password"},
    )


class ChangePasswordForm(BaseForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Enter your current password."))],
        render_kw={"autocomplete": "current-password"},
    )
    password = PasswordField(
        _l("New password"),
        description=_l("At least %(count)d characters.", count=MIN_PASSWORD_LENGTH),
        validators=password_validators(),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[
            DataRequired(_l("Repeat the new password.")),
            EqualTo("password", _l("The two passwords do not match.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class ConfirmForm(BaseForm):
    """A bare form for one-button POST actions; it only carries the CSRF token."""
