"""Organiser forms: consultation settings with one title, summary and body per language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from app.consultations.models import StatementModeration, Topic
from app.forms import BaseForm, require_main_language_title
from app.i18n import LANGUAGES

NETWORK = "EU"  # a consultation across the whole network rather than one country


class ConsultationForm(BaseForm):
    slug = StringField(_l("Web address"), description=_l(
        "Lower-case letters, digits and hyphens, for example screening-rural-areas. It "
        "cannot be changed later."), validators=[
            DataRequired(_l("Enter a web address.")), Length(max=64),
            Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", message=_l(
                "Use lower-case letters, digits and hyphens only, for example "
                "screening-rural-areas."))])
    hub = SelectField(_l("Hub"), choices=[], validators=[DataRequired()])
    country = SelectField(_l("Country"), choices=[], validators=[DataRequired()])
    topic = SelectField(_l("Topic"), choices=[], validators=[DataRequired()])
    default_language = SelectField(_l("Main language"), description=_l(
        "Shown when a visitor's language has no text."), choices=[],
        validators=[DataRequired()])
    statement_moderation = SelectField(_l("New statements from participants"), choices=[])
    participant_statements = BooleanField(_l("Participants may add their own statements"),
                                          default=True)
    min_cell_size = IntegerField(_l("Smallest group shown in results"), description=_l(
        "Groups with fewer people are hidden in every table. Only administrators can "
        "change this."), default=10, validators=[Optional(), NumberRange(min=1, max=100)])

    def validate(self, extra_validators=None) -> bool:
        """Every error at once: a missing title in the main language joins the others."""
        valid = super().validate(extra_validators)
        return require_main_language_title(self) and valid

    def set_choices(self, hubs, countries: list[tuple[str, str]]) -> None:
        self.hub.choices = [(str(h.id), f"{h.name} ({h.country})") for h in hubs]
        self.country.choices = [(NETWORK, str(_l("Europe-wide"))), *countries]
        self.topic.choices = [(t.value, t.label) for t in Topic]
        self.default_language.choices = [(lang.code, lang.native_name) for lang in LANGUAGES]
        self.statement_moderation.choices = [
            (StatementModeration.PRE.value, str(_l("A moderator checks them first"))),
            (StatementModeration.POST.value, str(_l("Shown at once; moderators check later"))),
        ]


def text_fields(form_class: type[BaseForm]) -> type[BaseForm]:
    """Add title, summary and body fields for every supported language."""
    namespace: dict = {}
    for language in LANGUAGES:
        namespace[f"title_{language.code}"] = StringField(
            _l("Title"), validators=[Optional(), Length(max=200)])
        namespace[f"summary_{language.code}"] = TextAreaField(
            _l("Summary"), description=_l("One or two sentences for the list of consultations."),
            validators=[Optional(), Length(max=600)])
        namespace[f"body_{language.code}"] = TextAreaField(
            _l("Full text"), description=_l("You can use Markdown: **bold**, lists, links."),
            validators=[Optional(), Length(max=20000)])
    return type(f"{form_class.__name__}WithTexts", (form_class,), namespace)


ConsultationTextsForm = text_fields(ConsultationForm)


class SeedStatementForm(BaseForm):
    text = TextAreaField(_l("Statement"), description=_l(
        "One idea people can agree or disagree with, in at most 280 characters."),
        validators=[DataRequired(_l("Write the statement.")), Length(max=280)])
    language = SelectField(_l("Language"), choices=[])
