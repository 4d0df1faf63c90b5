"""Imports every domain's models so the metadata (and Alembic) sees all tables."""

from app.audit.models import AuditEntry
from app.auth.models import RoleAssignment, User
from app.consent.models import (
    ConsentDocument,
    ConsentRecord,
    ConsentVersion,
    ContactDetail,
    ErasureRequest,
)
from app.hubs.models import Hub
from app.participants.models import Participant
from app.surveys.models import Answer, Invitation, Response, Survey, SurveyVersion

__all__ = [
    "Answer",
    "AuditEntry",
    "ConsentDocument",
    "ConsentRecord",
    "ConsentVersion",
    "ContactDetail",
    "ErasureRequest",
    "Hub",
    "Invitation",
    "Participant",
    "Response",
    "RoleAssignment",
    "Survey",
    "SurveyVersion",
    "User",
]
