"""Whether a respondent may go on: valid, current consent for what the survey needs."""

from __future__ import annotations

from app.consent import services
from app.surveys.definition import Definition
from app.surveys.models import Response


def refused_purposes(response: Response, definition: Definition) -> frozenset[str] | None:
    """The purposes this respondent refused, or None when consent must be (re)given."""
    document = services.get_document(definition.consent_document)
    if document is None:
        return None
    record = services.current_record(response.participant_id, document)
    if record is None or services.needs_renewal(record, document):
        return None
    consent = services.definition_of(record.version)
    required = {p.id for p in consent.purposes
                if p.required and p.id in definition.consent_purposes}
    if not required <= set(record.granted):
        return None
    return frozenset(record.refused)
