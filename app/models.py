"""Imports every domain's models so the metadata (and Alembic) sees all tables."""

from app.auth.models import RoleAssignment, User
from app.hubs.models import Hub

__all__ = ["Hub", "RoleAssignment", "User"]
