"""Staff accounts: creating, authenticating and assigning roles.

Plain functions over the session; callers commit (one use case, one commit).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.auth.models import RoleAssignment, User, new_session_token
from app.auth.roles import Role
from app.errors import DomainError
from app.extensions import db
from app.hubs.models import Hub
from app.timeutil import utcnow

logger = logging.getLogger("echos.auth")
MIN_PASSWORD_LENGTH = 12
PASSWORD_TOO_SHORT = _l(
    "Password must be at least %(count)d characters.", count=MIN_PASSWORD_LENGTH
)
_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def normalise_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(PASSWORD_TOO_SHORT, field="password")
    return _hasher.hash(password)


def generate_password() -> str:
    return secrets.token_urlsafe(15)


def get_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def get_user_by_session_token(token: str) -> User | None:
    return db.session.scalar(select(User).where(User.session_token == token))


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(func.lower(User.name), User.id)))


def create_user(
    *, email: str, name: str, password: str, roles: Sequence[Role] = (), hub: Hub | None = None
) -> User:
    email = normalise_email(email)
    if get_user_by_email(email) is not None:
        raise DomainError(_l("A user with this e-mail address already exists."), field="email")
    user = User(email=email, name=name.strip() or email, password_hash=hash_password(password))
    db.session.add(user)
    for role in roles:
        user.roles.append(RoleAssignment(role=Role(role), hub=hub))
    db.session.flush()
    logger.info("user created", extra={"user_id": user.id, "roles": [str(r) for r in roles]})
    return user


def authenticate(*, email: str, password: str) -> User | None:
    """Return the active user for these credentials, or None, revealing nothing else."""
    user = get_user_by_email(email)
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = utcnow()
    return user


def set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.session_token = new_session_token()


def add_role(user: User, role: Role, hub: Hub | None = None) -> RoleAssignment:
    hub_id = hub.id if hub else None
    for assignment in user.roles:
        if assignment.role == role and assignment.hub_id == hub_id:
            return assignment
    assignment = RoleAssignment(role=role, hub=hub)
    user.roles.append(assignment)
    db.session.flush()
    logger.info("role added", extra={"user_id": user.id, "role": str(role), "hub_id": hub_id})
    return assignment


def remove_role(user: User, assignment_id: int, *, acting_user: User) -> None:
    assignment = next((a for a in user.roles if a.id == assignment_id), None)
    if assignment is None:
        raise DomainError(_l("That role assignment no longer exists."))
    if assignment.role == Role.ADMIN and assignment.hub_id is None and _is_last_admin(user):
        raise DomainError(_l("The last administrator cannot lose the administrator role."))
    user.roles.remove(assignment)
    if user.id != acting_user.id:
        # Sign the user out so the narrower rights apply at once.
        user.session_token = new_session_token()
    db.session.flush()
    logger.info("role removed", extra={"user_id": user.id, "role": str(assignment.role)})


def set_active(user: User, active: bool, *, acting_user: User) -> None:
    if not active and user.id == acting_user.id:
        raise DomainError(_l("You cannot deactivate your own account."))
    if not active and _is_last_admin(user):
        raise DomainError(_l("The last administrator cannot be deactivated."))
    user.active = active
    if not active:
        user.session_token = new_session_token()
    db.session.flush()


def _is_last_admin(user: User) -> bool:
    if not any(a.role == Role.ADMIN and a.hub_id is None for a in user.roles):
        return False
    admins = db.session.scalar(
        select(func.count(func.distinct(RoleAssignment.user_id)))
        .join(User)
        .where(RoleAssignment.role == Role.ADMIN, RoleAssignment.hub_id.is_(None), User.active)
    )
    return admins <= 1
