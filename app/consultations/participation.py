"""Who may vote and write in a consultation: consent first, as for surveys."""

from __future__ import annotations

from app.consent import services as consent
from app.consent.document import ConsentDefinition
from app.consultations.models import Consultation

# What taking part in a consultation needs (participation) and what it offers to allow
# (research: that votes and group membership may be analysed with survey answers).
CONSULTATION_PURPOSES = ("participation", "research")


def asked_purposes(definition: ConsentDefinition) -> list[str]:
    return [p.id for p in definition.purposes if p.id in CONSULTATION_PURPOSES]


def has_valid_consent(consultation: Consultation, participant_id: str | None) -> bool:
    """True when the person's current decision grants every required purpose asked here."""
    if not participant_id:
        return False
    document = consent.get_document(consultation.consent_document)
    if document is None:
        return False
    record = consent.current_record(participant_id, document)
    if record is None or consent.needs_renewal(record, document):
        return False
    definition = consent.definition_of(record.version)
    required = {p.id for p in definition.purposes
                if p.required and p.id in CONSULTATION_PURPOSES}
    return required <= set(record.granted)
