"""Domain errors that carry a message meant for the person using the app."""

from __future__ import annotations


class DomainError(Exception):
    """A rule was broken by the input; `message` is a lazy translatable string.

    `field` names the form field the message belongs to, when there is one, so
    views can show it next to that field rather than at the top of the page.
    """

    def __init__(self, message: object, *, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field
