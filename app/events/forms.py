"""Organiser forms: events with texts per language, sessions, walk-ins."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import URL, DataRequired, Email, Length, NumberRange, Optional, Regexp

from app.events.models import ACCESSIBILITY, SessionMode
from app.forms import BaseForm, require_main_language_title
from app.i18n import LANGUAGES

NO_CONSULTATION = ""


class EventForm(BaseForm):
    slug = StringField(_l("Web address"), description=_l(
        "Lower-case letters, digits and hyphens, for example citizens-panel-2027. It cannot "
        "be changed later."), validators=[
            DataRequired(_l("Enter a web address.")), Length(max=64),
            Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", message=_l(
                "Use lower-case letters, digits and hyphens only, for example "
                "screening-rural-areas."))])
    hub = SelectField(_l("Hub"), choices=[], validators=[DataRequired()])
    consultation = SelectField(_l("Linked consultation"), choices=[], default=NO_CONSULTATION,
                               validators=[Optional()])
    default_language = SelectField(_l("Main language"), choices=[],
                                   validators=[DataRequired()])
    registration_opens = DateField(_l("Registration opens on"), validators=[Optional()],
                                   description=_l("Leave empty to open it at once."))
    registration_closes = DateField(_l("Registration closes at the end of"),
                                    validators=[Optional()])
    accessibility = SelectMultipleField(_l("Access offered"), choices=[])

    def set_choices(self, hubs, consultations) -> None:
        self.hub.choices = [(str(h.id), f"{h.name} ({h.country})") for h in hubs]
        self.consultation.choices = [(NO_CONSULTATION, str(_l("None"))), *consultations]
        self.default_language.choices = [(lang.code, lang.native_name) for lang in LANGUAGES]
        self.accessibility.choices = [(key, str(label)) for key, label in ACCESSIBILITY.items()]

    def validate(self, extra_validators=None) -> bool:
        """Every error at once, including the main-language title and the dates' order."""
        valid = super().validate(extra_validators)
        valid = require_main_language_title(self) and valid
        opens, closes = self.registration_opens.data, self.registration_closes.data
        if opens and closes and closes < opens:
            self.registration_closes.errors = [
                *self.registration_closes.errors,
                str(_l("Registration must close after it opens."))]
            valid = False
        return valid


def _with_texts(form_class: type[BaseForm]) -> type[BaseForm]:
    namespace: dict = {}
    for language in LANGUAGES:
        namespace[f"title_{language.code}"] = StringField(
            _l("Title"), validators=[Optional(), Length(max=200)])
        namespace[f"description_{language.code}"] = TextAreaField(
            _l("Description"), description=_l("You can use Markdown: **bold**, lists, links."),
            validators=[Optional(), Length(max=20000)])
        namespace[f"accessibility_note_{language.code}"] = TextAreaField(
            _l("About access"), description=_l(
                "For example: the nearest accessible entrance, quiet room, how to ask for "
                "travel costs."), validators=[Optional(), Length(max=5000)])
    return type(f"{form_class.__name__}WithTexts", (form_class,), namespace)


EventTextsForm = _with_texts(EventForm)


class SessionForm(BaseForm):
    country = SelectField(_l("Country"), choices=[], validators=[DataRequired()])
    mode = SelectField(_l("How people take part"), choices=[], validators=[DataRequired()])
    venue = StringField(_l("Venue name and address"), validators=[Optional(), Length(max=300)])
    online_url = StringField(_l("Link for joining online"), validators=[
        Optional(), Length(max=500), URL(message=_l("Enter a full link, starting https://"))])
    local_start = DateTimeLocalField(_l("Starts (local time)"), format="%Y-%m-%dT%H:%M",
                                     validators=[DataRequired(_l(
                                         "Enter the start date and time."))])
    local_end = DateTimeLocalField(_l("Ends (local time)"), format="%Y-%m-%dT%H:%M",
                                   validators=[DataRequired(_l("Enter the end date and time."))])
    timezone = SelectField(_l("Time zone of the venue"), choices=[],
                           validators=[DataRequired()])
    capacity = IntegerField(_l("Places"), validators=[
        DataRequired(_l("Enter how many people can take part, for example 30.")),
        NumberRange(min=1, max=100000)])
    languages = SelectMultipleField(_l("Languages spoken"), choices=[],
                                    validators=[DataRequired(_l("Choose at least one."))])
    interpretation = SelectMultipleField(_l("Interpreting offered into"), choices=[])

    def set_choices(self, countries, zones, languages) -> None:
        self.country.choices = countries
        self.mode.choices = [(m.value, m.label) for m in SessionMode]
        self.timezone.choices = [(z, z.replace("_", " ")) for z in zones]
        self.languages.choices = languages
        self.interpretation.choices = languages


class WalkInForm(BaseForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter the person's name.")),
                                               Length(max=200)])
    email = StringField(_l("E-mail address"), validators=[
        Optional(), Email(message=_l("Enter an e-mail address like name@example.org."))])
    language = SelectField(_l("Language"), choices=[])
    signed = BooleanField(_l("The person has read and signed the paper consent form"))
