"""The staff roles and what each is for, in the visitor's language."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l


class Role(enum.StrEnum):
    ADMIN = "admin"
    ORGANISER = "organiser"
    MODERATOR = "moderator"
    ANALYST = "analyst"
    TRANSLATOR = "translator"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])

    @property
    def description(self) -> str:
        return str(ROLE_DESCRIPTIONS[self])


ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.ORGANISER: _l("Organiser"),
    Role.MODERATOR: _l("Moderator"),
    Role.ANALYST: _l("Analyst"),
    Role.TRANSLATOR: _l("Translator"),
}

ROLE_DESCRIPTIONS = {
    Role.ADMIN: _l("Manages users and roles, retention periods and the audit trail."),
    Role.ORGANISER: _l("Sets up consultations, surveys and events, and runs them."),
    Role.MODERATOR: _l("Reviews comments and statements before and after they appear."),
    Role.ANALYST: _l("Sees participation and results, weights them and exports data."),
    Role.TRANSLATOR: _l("Translates consultations, statements and surveys."),
}
