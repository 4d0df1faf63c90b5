"""Access rules for views.

Every view is marked either `public` or `roles_required(...)`; a test walks the
URL map and fails on any view carrying neither, so nothing is left open by
forgetting a decorator.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import abort, g, request
from flask_login import current_user

from app.auth.roles import Role
from app.extensions import db, login_manager

F = TypeVar("F", bound=Callable)
ANY_STAFF: tuple[Role, ...] = tuple(Role)


def public(view: F) -> F:
    """Open to everyone, participants included."""
    view.access_rule = "public"  # type: ignore[attr-defined]
    return view


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Signed-in staff holding one of the roles (administrators always pass)."""
    if not roles:
        raise ValueError("name at least one role")

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.access_rule = tuple(roles)  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorate


staff_required = roles_required(*ANY_STAFF)


def holds_for_hub(hub_id: int, *roles: Role) -> bool:
    """The signed-in user holds one of the roles for this very hub (or network-wide).

    Stricter than ``User.has_role(hub_id=...)``, whose hub-less form passes any hub
    role: pages about one hub's consultation or event use this one.
    """
    return any((assignment.role == Role.ADMIN and assignment.hub_id is None)
               or (assignment.role in roles and assignment.hub_id in (None, hub_id))
               for assignment in current_user.roles)


def api_token_required(view: F) -> F:
    """A valid API token in ``Authorization: Bearer ...`` (no cookies); JSON errors.

    The token's owner must be active and an analyst (administrators pass); the owner
    and token are in ``g.api_user`` and ``g.api_token`` for the view.
    """

    @wraps(view)
    def wrapped(*args, **kwargs):
        from app.api import errors, services

        scheme, _space, presented = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            return errors.missing_token()
        result = services.verify(presented.strip())
        db.session.commit()  # last_used_at
        if result.refusal is not None:
            return errors.refused(result.refusal)
        g.api_token = result.token
        g.api_user = result.token.user
        return view(*args, **kwargs)

    wrapped.access_rule = "api-token"  # type: ignore[attr-defined]
    return wrapped  # type: ignore[return-value]
