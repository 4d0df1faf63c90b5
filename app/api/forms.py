"""The form for creating an API token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField, ValidationError
from wtforms.validators import DataRequired, Length

from app.api.services import DEFAULT_EXPIRY_DAYS, MAX_EXPIRY_DAYS
from app.forms import BaseForm


class TokenForm(BaseForm):
    name = StringField(
        _l("Name"),
        description=_l("So you can tell your tokens apart, for example the project or "
                       "computer it is for."),
        validators=[DataRequired(_l("Give the token a name.")),
                    Length(max=100, message=_l("Keep the name to 100 characters or fewer."))])
    # Text, not IntegerField: what was typed is kept and the message is our own.
    expires_in_days = StringField(
        _l("Expires after (days)"),
        description=_l("From 1 to %(max)d days. Empty means %(default)d days.",
                       max=MAX_EXPIRY_DAYS, default=DEFAULT_EXPIRY_DAYS),
        default=str(DEFAULT_EXPIRY_DAYS))

    def validate_expires_in_days(self, field: StringField) -> None:
        value = field.data or ""
        if value == "":
            return
        if not (value.isascii() and value.isdigit()
                and 1 <= int(value) <= MAX_EXPIRY_DAYS):
            raise ValidationError(str(_l("Enter a whole number of days from 1 to %(max)d.",
                                         max=MAX_EXPIRY_DAYS)))

    @property
    def days(self) -> int:
        return int(self.expires_in_days.data) if self.expires_in_days.data \
            else DEFAULT_EXPIRY_DAYS
