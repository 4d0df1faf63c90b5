"""Imports every domain's models so the metadata (and Alembic) sees all tables."""

from app.api.models import ApiToken
from app.audit.models import AuditEntry
from app.auth.models import RoleAssignment, User
from app.consent.models import (
    ConsentDocument,
    ConsentRecord,
    ConsentVersion,
    ContactDetail,
    ErasureRequest,
)
from app.consultations.models import (
    Ban,
    BlockedTerm,
    Comment,
    Consultation,
    ConsultationText,
    Flag,
    OpinionSnapshot,
    Phase,
    Statement,
    Translation,
    Vote,
    Voter,
)
from app.events.models import (
    Event,
    EventSession,
    EventText,
    PanelSelection,
    Registration,
    SessionChoice,
)
from app.hubs.models import Hub
from app.participants.models import Participant
from app.results.models import Benchmark, ExportJob, ResponseWeight, WeightingScheme
from app.surveys.models import Answer, Invitation, Response, Survey, SurveyVersion

__all__ = [
    "Answer",
    "ApiToken",
    "AuditEntry",
    "Ban",
    "Benchmark",
    "BlockedTerm",
    "Comment",
    "ConsentDocument",
    "ConsentRecord",
    "ConsentVersion",
    "Consultation",
    "ConsultationText",
    "ContactDetail",
    "ErasureRequest",
    "Event",
    "EventSession",
    "EventText",
    "ExportJob",
    "Flag",
    "Hub",
    "Invitation",
    "OpinionSnapshot",
    "PanelSelection",
    "Participant",
    "Phase",
    "Registration",
    "Response",
    "ResponseWeight",
    "RoleAssignment",
    "SessionChoice",
    "Statement",
    "Survey",
    "SurveyVersion",
    "Translation",
    "User",
    "Vote",
    "Voter",
    "WeightingScheme",
]
