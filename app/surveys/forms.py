"""Organiser forms for surveys."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import IntegerField
from wtforms.validators import NumberRange, Optional

from app.forms import BaseForm


class UploadForm(BaseForm):
    definition = FileField(
        _l("Survey definition file"),
        description=_l("A YAML definition (.yaml) or an XLSForm workbook (.xlsx)."),
        validators=[
            FileRequired(_l("Choose a file to upload.")),
            FileAllowed(["yaml", "yml", "xlsx"], _l("Upload a .yaml or .xlsx file.")),
        ],
    )


class InvitationForm(BaseForm):
    count = IntegerField(
        _l("Number of invitations"),
        description=_l("Each invitation is a single-use code. Leave empty to use a file."),
        validators=[Optional(), NumberRange(min=1, max=50000,
                                            message=_l("Enter a number from 1 to 50,000."))],
    )
    invitees = FileField(
        _l("Invitee list"),
        description=_l("A CSV file with a column named reference, one row per invitee."),
        validators=[FileAllowed(["csv"], _l("Upload a .csv file."))],
    )
