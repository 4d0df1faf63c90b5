"""My data: with the private access code, no account — see, download, withdraw, erase."""

from __future__ import annotations

import csv
import io
import json
from functools import wraps

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from app.audit.services import record as audit
from app.auth.permissions import public
from app.consent import services
from app.consent.views import MY_DATA_KEY
from app.errors import DomainError
from app.extensions import db, limiter
from app.i18n import current_language
from app.participants.models import Participant
from app.surveys import services as surveys
from app.surveys.labels import display_answer

bp = Blueprint("my_data", __name__, template_folder="templates",
               url_prefix="/<lang:lang_code>/my-data")


def with_participant(view):
    """The participant signed in to My data with their code, or the code form."""

    @wraps(view)
    def wrapped(**kwargs):
        participant_id = session.get(MY_DATA_KEY)
        participant = db.session.get(Participant, participant_id) if participant_id else None
        if participant is None:
            return redirect(url_for("my_data.index"))
        return view(participant, **kwargs)

    return wrapped


@bp.route("/", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
@public
def index():
    """Enter the access code, then see everything held about you."""
    participant_id = session.get(MY_DATA_KEY)
    participant = db.session.get(Participant, participant_id) if participant_id else None
    error, typed = None, ""
    if request.method == "POST":
        typed = request.form.get("code", "")
        found = services.participant_by_access_code(typed)
        if found is not None:
            session[MY_DATA_KEY] = found.id
            return redirect(url_for("my_data.index"))
        error = (_("Enter your access code.") if not typed.strip() else
                 _("We could not find data for this code. Check it and try again."))
    if participant is None:
        return render_template("my_data/code.html", error=error, typed=typed), (
            400 if error else 200)
    return render_template("my_data/overview.html", **_overview(participant))


def _overview(participant: Participant) -> dict:
    language = current_language().code
    consents = []
    latest: dict[int, object] = {}
    for record in services.records_of(participant.id):
        latest[record.version.document_id] = record
    for record in latest.values():
        consents.append((record, services.definition_of(record.version)))
    responses = []
    for response in services.responses_of(participant.id):
        definition = surveys.definition_of(response.version)
        answers = surveys.load_answers(response, definition)
        lang = definition.language_for(language)
        shown = [(q.label.get(lang) if q.label else q.id, display_answer(q, answers[q.id], lang))
                 for q in definition.questions() if q.id in answers and not q.contact]
        responses.append((response, definition, lang, shown))
    from app.consultations.personal_data import contributions_of  # built on consent

    return {"participant": participant, "consents": consents, "responses": responses,
            "consultations": contributions_of(participant.id),
            "contacts": services.contact_details_of(participant.id),
            "records": services.records_of(participant.id), "language": language}


def everything(participant: Participant) -> dict:
    """All data held about one participant, for the JSON download (Art. 15 and 20)."""
    data = _overview(participant)
    return {
        "participant": participant.id,
        "consents": [services.receipt(r, data["language"]) for r in data["records"]],
        "responses": [
            {"survey": r.version.survey.slug, "version": r.version.number,
             "status": r.status.value, "started": r.started_at.isoformat(),
             "completed": r.completed_at.isoformat() if r.completed_at else None,
             "languages": r.languages,
             "answers": [{"question": label, "answer": answer} for label, answer in shown]}
            for r, _definition, _lang, shown in data["responses"]
        ],
        "contact_details": [{"field": c.field, "value": c.value} for c in data["contacts"]],
        "consultations": data["consultations"],
    }


@bp.route("/export.json")
@public
@with_participant
def export_json(participant: Participant):
    """Everything about me as JSON."""
    audit(action="data.exported", actor="participant", subject=participant.id,
          details={"format": "json"})
    db.session.commit()
    body = json.dumps(everything(participant), ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": 'attachment; filename="my-data.json"'})


@bp.route("/export.csv")
@public
@with_participant
def export_csv(participant: Participant):
    """Everything about me as one CSV table: what, which question, which answer."""
    data = everything(participant)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["kind", "source", "item", "value"])
    for consent in data["consents"]:
        for purpose in consent["services"][0]["purposes"]:
            writer.writerow(["consent", consent["consentReceiptID"], purpose["purpose"],
                             "yes" if purpose["consented"] else "no"])
    for response in data["responses"]:
        for answer in response["answers"]:
            writer.writerow(["answer", response["survey"], answer["question"], answer["answer"]])
    for contact in data["contact_details"]:
        writer.writerow(["contact", "", contact["field"], contact["value"]])
    for place in data["consultations"]:
        for vote in place["votes"]:
            writer.writerow(["vote", place["consultation"], vote["text"], vote["vote"]])
        for statement in place["statements"]:
            writer.writerow(["statement", place["consultation"], statement["statement"],
                             statement["text"]])
        for comment in place["comments"]:
            writer.writerow(["comment", place["consultation"], comment["id"], comment["text"]])
    audit(action="data.exported", actor="participant", subject=participant.id,
          details={"format": "csv"})
    db.session.commit()
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="my-data.csv"'})


@bp.route("/receipts/<receipt_id>.json")
@public
@with_participant
def receipt_json(participant: Participant, receipt_id: str):
    """One consent receipt, machine-readable."""
    record = next((r for r in services.records_of(participant.id)
                   if r.receipt_id == receipt_id), None)
    if record is None:
        abort(404)
    body = json.dumps(services.receipt(record, current_language().code), ensure_ascii=False,
                      indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="consent-receipt-{receipt_id}.json"'})


@bp.route("/receipts/<receipt_id>")
@public
@with_participant
def receipt_page(participant: Participant, receipt_id: str):
    """One consent receipt, printable."""
    record = next((r for r in services.records_of(participant.id)
                   if r.receipt_id == receipt_id), None)
    if record is None:
        abort(404)
    consent = services.definition_of(record.version)
    return render_template("my_data/receipt.html", record=record, consent=consent,
                           language=consent.language_for(current_language().code))


@bp.route("/withdraw/<document>/<purpose>", methods=["GET", "POST"])
@public
@with_participant
def withdraw(participant: Participant, document: str, purpose: str):
    """Withdraw one consent, in one step after a confirmation."""
    doc = services.get_document(document)
    record = services.current_record(participant.id, doc) if doc else None
    if record is None or purpose not in record.granted:
        abort(404)
    consent = services.definition_of(record.version)
    if request.method == "POST":
        try:
            services.withdraw(participant_id=participant.id, document=doc, purpose=purpose)
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "error")
        else:
            db.session.commit()
            flash(_("Your consent was withdrawn. From now on this data is no longer used for "
                    "this purpose."), "success")
        return redirect(url_for("my_data.index"))
    return render_template("my_data/withdraw.html", consent=consent,
                           purpose=consent.purpose(purpose), document=document,
                           language=consent.language_for(current_language().code))


@bp.route("/erase", methods=["GET", "POST"])
@public
@with_participant
def erase(participant: Participant):
    """Erase everything about me (GDPR Art. 17), after a confirmation."""
    if request.method == "POST":
        services.erase(participant.id)
        db.session.commit()
        session.pop(MY_DATA_KEY, None)
        session.pop("survey_codes", None)
        return redirect(url_for("my_data.erased"))
    return render_template("my_data/erase.html")


@bp.route("/erased")
@public
def erased():
    """Confirmation that nothing is left."""
    return render_template("my_data/erased.html")


@bp.route("/close", methods=["POST"])
@public
def close():
    """Leave My data on a shared device."""
    session.pop(MY_DATA_KEY, None)
    return redirect(url_for("public.home"))
