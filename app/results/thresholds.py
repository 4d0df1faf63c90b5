"""The disclosure threshold k that applies to a survey's results.

An administrator sets it per consultation (``Consultation.min_cell_size``); a survey
linked to several consultations takes the strictest, so a table cannot be shown with a
smaller k on one consultation's page than the other allows.
"""

from __future__ import annotations

from sqlalchemy import func, select

from app.consultations.models import Consultation, consultation_survey
from app.extensions import db
from app.surveys.models import Survey

DEFAULT_K = 10


def min_cell_size(survey: Survey) -> int:
    strictest = db.session.scalar(
        select(func.max(Consultation.min_cell_size))
        .join(consultation_survey, consultation_survey.c.consultation_id == Consultation.id)
        .where(consultation_survey.c.survey_id == survey.id))
    return max(int(strictest), 1) if strictest is not None else DEFAULT_K
