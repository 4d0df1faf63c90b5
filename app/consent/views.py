"""Consent before any answer: the capture page, the age check and the receipt."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from app.auth.permissions import public
from app.consent import services
from app.consent.ages import digital_consent_age
from app.consent.document import ConsentDefinition
from app.consent.markdown import render as markdown
from app.consent.models import ConsentChannel
from app.errors import DomainError
from app.extensions import db
from app.i18n import current_language
from app.participants.models import Participant
from app.surveys import services as surveys
from app.surveys.codes import new_code
from app.surveys.places import country_codes, country_names

bp = Blueprint("consent", __name__, template_folder="templates",
               url_prefix="/<lang:lang_code>/s/<slug>")
MY_DATA_KEY = "my_data_participant"
RECEIPT_KEY = "consent_receipt"
SURVEY_CODES = "survey_codes"
INVITATION_KEY = "survey_invitations"


def _survey_and_document(slug: str):
    survey = surveys.get_survey(slug)
    if survey is None or not survey.versions:
        abort(404)
    definition = surveys.definition_of(surveys.latest_version(survey))
    if not definition.consent_document:
        abort(404)
    document = services.get_document(definition.consent_document)
    if document is None:
        abort(404)
    return survey, definition, document


def _asked(survey_definition, consent: ConsentDefinition) -> list[str]:
    """The purposes this survey needs, in the document's order."""
    return [p.id for p in consent.purposes if p.id in survey_definition.consent_purposes]


def _current_response(slug: str):
    code = (session.get(SURVEY_CODES) or {}).get(slug)
    return surveys.find_response(code), code


@bp.route("/consent", methods=["GET", "POST"])
@public
def capture(slug: str):
    """Layered information, one choice per purpose, nothing pre-ticked; then the age check."""
    survey, definition, document = _survey_and_document(slug)
    version = services.latest_version(document)
    consent = services.definition_of(version)
    language = consent.language_for(current_language().code)
    asked = _asked(definition, consent)
    response, code = _current_response(slug)
    renewing = response is not None
    previous = services.current_record(response.participant_id, document) if renewing else None
    changed = previous is not None and services.needs_renewal(previous, document)
    if not renewing and surveys.accepting_reason(survey, definition) is not None:
        return redirect(url_for("surveys.start", slug=slug))
    if not renewing and definition.settings.mode == "invited" and not (
            session.get(INVITATION_KEY) or {}).get(slug):
        return redirect(url_for("surveys.start", slug=slug))

    values = request.form
    outcome = evaluate_capture(values, consent, asked, renewing=renewing) \
        if request.method == "POST" else CaptureOutcome()
    if outcome.ask_guardian:
        return _render(survey, definition, consent, language, asked, {}, values,
                       guardian_needed=True, renewing=renewing, changed=changed), 200
    if outcome.too_young is not None:
        return render_template("consent/too_young.html", age_limit=outcome.too_young,
                               back_url=url_for("consent.capture", slug=slug)), 200
    if outcome.granted is not None:
        return _record(survey, definition, version, language, asked, outcome.granted,
                       response, code, guardian=outcome.guardian_needed)
    return _render(survey, definition, consent, language, asked, outcome.errors, values,
                   guardian_needed=outcome.guardian_needed, renewing=renewing,
                   changed=changed), 400 if outcome.errors else 200


@dataclass
class CaptureOutcome:
    """What the posted consent form says: errors, or the purposes granted."""

    errors: dict[str, str] = field(default_factory=dict)
    granted: list[str] | None = None  # set when the choices can be recorded
    guardian_needed: bool = False
    ask_guardian: bool = False  # show the guardian question before recording
    too_young: int | None = None  # the age limit, when no guardian agreed


def evaluate_capture(values, consent: ConsentDefinition, asked: list[str], *,
                     renewing: bool) -> CaptureOutcome:
    """Check one yes/no per purpose, then age and country, then the guardian answer."""
    outcome = CaptureOutcome()
    errors = outcome.errors
    choices = {pid: values.get(f"purpose.{pid}") for pid in asked}
    for pid, choice in choices.items():
        if choice not in ("yes", "no"):
            errors[f"purpose-{pid}-yes"] = _("Choose yes or no.")
        elif choice == "no" and consent.purpose(pid).required:
            errors[f"purpose-{pid}-yes"] = _(
                "To take part you need to agree to this. If you do not want to, you can "
                "close this page: nothing has been stored.")
    age, country = None, values.get("country", "")
    if not renewing:
        raw_age = values.get("age", "").strip()
        if not raw_age.isdigit() or not 1 <= int(raw_age) <= 120:
            errors["age"] = _("Enter your age in years, for example 42.")
        else:
            age = int(raw_age)
        if country not in country_codes():
            errors["country"] = _("Choose the country where you live.")
    if errors:
        return outcome
    if age is not None and age < digital_consent_age(country):
        outcome.guardian_needed = True
        if values.get("guardian_shown") != "1":
            outcome.ask_guardian = True
            return outcome
        if values.get("guardian") != "yes":
            outcome.too_young = digital_consent_age(country)
            return outcome
    outcome.granted = [pid for pid, choice in choices.items() if choice == "yes"]
    return outcome


def render_capture(*, consent: ConsentDefinition, language: str, asked: list[str],
                   errors: dict, values, guardian_needed: bool, renewing: bool, changed: bool,
                   action_url: str, activity_title: str) -> str:
    """The capture page for any activity (survey, consultation, event)."""
    purposes = [consent.purpose(pid) for pid in asked]
    names = country_names(current_language().code)
    return render_template(
        "consent/capture.html", consent=consent, language=language,
        required=[p for p in purposes if p.required],
        optional=[p for p in purposes if not p.required], errors=errors, values=values,
        guardian_needed=guardian_needed, renewing=renewing, changed=changed, markdown=markdown,
        countries=sorted(names.items(), key=lambda item: item[1]), action_url=action_url,
        activity_title=activity_title,
        age_limit=digital_consent_age(values.get("country")) if values else None)


def _render(survey, definition, consent: ConsentDefinition, language: str, asked: list[str],
            errors: dict, values, *, guardian_needed: bool, renewing: bool, changed: bool):
    return render_capture(
        consent=consent, language=language, asked=asked, errors=errors, values=values,
        guardian_needed=guardian_needed, renewing=renewing, changed=changed,
        action_url=url_for("consent.capture", slug=survey.slug),
        activity_title=definition.title.get(definition.language_for(current_language().code)))


def _record(survey, definition, version, language, asked, granted, response, code, *,
            guardian: bool):
    participant = response.participant if response is not None else participant_for_session()
    try:
        record = services.give_consent(
            participant=participant, version=version, language=language, asked=asked,
            granted=granted, channel=ConsentChannel.WEB,
            actor="guardian" if guardian else "participant")
    except DomainError:
        db.session.rollback()
        abort(400)
    access_code = services.new_access_code(participant) if not participant.access_code_hash \
        else None
    if response is None:
        code = code or new_code()
        token = (session.get(INVITATION_KEY) or {}).get(survey.slug)
        invitation = surveys.find_invitation(survey, token) if token else None
        response = surveys.start_response(version=surveys.latest_version(survey), code=code,
                                          language=current_language().code,
                                          participant=participant, invitation=invitation)
        codes = dict(session.get(SURVEY_CODES) or {})
        codes[survey.slug] = code
        session[SURVEY_CODES] = codes
    db.session.commit()
    session[MY_DATA_KEY] = participant.id
    remember_receipt(record, access_code, slug=survey.slug,
                     continue_url=url_for("surveys.carry_on", slug=survey.slug))
    return redirect(url_for("consent.receipt", slug=survey.slug))


def remember_receipt(record, access_code: str | None, *, slug: str, continue_url: str,
                     continue_to: str = "questions") -> None:
    """Show the receipt once, then send the person on to what they came for."""
    session[RECEIPT_KEY] = {"slug": slug, "receipt": record.receipt_id, "code": access_code,
                            "continue": continue_url, "continue_to": continue_to}


def participant_for_session() -> Participant:
    """The same person across activities in this browser, else someone new."""
    known = session.get(MY_DATA_KEY)
    participant = db.session.get(Participant, known) if known else None
    if participant is None:
        participant = Participant()
        db.session.add(participant)
        db.session.flush()
    return participant


@bp.route("/receipt")
@public
def receipt(slug: str):
    """What was agreed, the private access code (shown once), and a way on."""
    return receipt_page(slug, fallback_url=url_for("surveys.start", slug=slug))


def receipt_page(slug: str, *, fallback_url: str):
    """The receipt just recorded for this activity, or back to its start page."""
    pending = session.get(RECEIPT_KEY) or {}
    if pending.get("slug") != slug:
        return redirect(fallback_url)
    record = next((r for r in services.records_of(session.get(MY_DATA_KEY, ""))
                   if r.receipt_id == pending["receipt"]), None)
    if record is None:
        return redirect(fallback_url)
    consent = services.definition_of(record.version)
    language = consent.language_for(current_language().code)
    return render_template("consent/receipt.html", record=record, consent=consent,
                           language=language, access_code=pending.get("code"),
                           continue_url=pending.get("continue") or fallback_url,
                           continue_to=pending.get("continue_to", "questions"))
