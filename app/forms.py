"""Form base shared by every domain."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class BaseForm(FlaskForm):
    """Strips surrounding white space from every input but passwords before validation."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            filters = unbound_field.kwargs.get("filters", ())
            # A password is taken exactly as typed.
            if unbound_field.field_class is not PasswordField and _strip not in filters:
                unbound_field.kwargs["filters"] = (_strip, *filters)
            return unbound_field.bind(form=form, **options)

    def attach_error(self, field_name: str | None, message: object) -> None:
        """Show a service's error next to its field, or at the top of the form."""
        field = getattr(self, field_name, None) if field_name else None
        if field is not None:
            field.errors = [*field.errors, str(message)]
        else:
            self.form_errors.append(str(message))


class FormData:
    """Stored values shaped as an object, to prefill a WTForms form (``obj=``)."""

    def __init__(self, **values: object) -> None:
        self.__dict__.update(values)


def require_main_language_title(form) -> bool:
    """A multilingual form needs a title in its main language; False adds the error."""
    title = getattr(form, f"title_{form.default_language.data}", None)
    if title is not None and not title.data:
        title.errors = [*title.errors, str(_l("Give a title in the main language."))]
        return False
    return True
