"""Citizens' event pages: find an event, register, see and answer your invitation."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_time, get_timezone_name
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
from flask_babel import get_locale
from flask_babel import gettext as _

from app.auth.permissions import public
from app.consent import views as consent_views
from app.consent.markdown import render as markdown
from app.errors import DomainError
from app.events import invitations, registration, services
from app.events.models import ACCESSIBILITY, ChoiceStatus, Event, EventSession, EventStatus
from app.extensions import db, limiter
from app.i18n import current_language
from app.surveys import services as survey_services
from app.surveys.places import country_names
from app.surveys.views import RETURN_KEY

bp = Blueprint("events", __name__, template_folder="templates",
               url_prefix="/<lang:lang_code>/e")
TIMEZONE_COOKIE = "tz"
NEW_CODE_KEY = "event_new_code"
DASH = "\u2013"  # between start and end times


def _event(slug: str) -> Event:
    event = services.get_by_slug(slug)
    if event is None or event.status == EventStatus.DRAFT:
        abort(404)
    return event


def visitor_zone() -> ZoneInfo | None:
    """The zone the visitor's browser reported (set by a small script), if valid."""
    name = request.cookies.get(TIMEZONE_COOKIE, "")
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def when(session_: EventSession, zone: ZoneInfo | None = None) -> str:
    """Day, hours and zone name in the reader's language, in the given zone (the
    session's own by default), e.g. for a reader in French "samedi 13 mars 2027, ..."."""
    zone = zone or session_.zone
    locale = str(get_locale() or current_language().code)  # force_locale in e-mails
    start, end = session_.starts_at.astimezone(zone), session_.ends_at.astimezone(zone)
    day = format_date(start.date(), "full", locale=locale)
    hours = f"{format_time(start, 'short', locale=locale)}{DASH}" \
        f"{format_time(end, 'short', locale=locale)}"
    if end.date() != start.date():
        hours = f"{format_time(start, 'short', locale=locale)} {DASH} " \
            f"{format_date(end.date(), 'full', locale=locale)} " \
            f"{format_time(end, 'short', locale=locale)}"
    name = get_timezone_name(start, width="long", locale=locale)
    return f"{day}, {hours} ({name})"


@bp.app_context_processor
def _helpers():
    return {"event_text": lambda e: e.text_for(current_language().code),
            "session_when": when, "visitor_zone": visitor_zone,
            "accessibility_labels": ACCESSIBILITY}


@bp.route("/")
@public
def index():
    """Published events, soonest first."""
    return render_template("events/index.html", events=services.public_events(),
                           country_names=country_names(current_language().code))


@bp.route("/<slug>/")
@public
def detail(slug: str):
    """The event: what, where and when in each country, access, and how to register."""
    event = _event(slug)
    participant_id = session.get(consent_views.MY_DATA_KEY)
    return render_template(
        "events/detail.html", event=event, markdown=markdown,
        closed=services.registration_closed_reason(event),
        registered=registration.registration_of(event, participant_id) is not None,
        country_names=country_names(current_language().code))


@bp.route("/<slug>/register", methods=["GET", "POST"])
@public
@limiter.limit("30 per hour", methods=["POST"])
def register(slug: str):
    """Step 1: the registration questions (a survey, with consent). Step 2: sessions."""
    event = _event(slug)
    closed = services.registration_closed_reason(event)
    if closed:
        flash(closed, "info")
        return redirect(url_for("events.detail", slug=slug))
    participant_id = session.get(consent_views.MY_DATA_KEY)
    answered = registration.registration_response(event, participant_id)
    if answered is None:
        return render_template("events/register_start.html", event=event)
    existing = registration.registration_of(event, participant_id)
    errors: dict[str, str] = {}
    chosen = {c.session_id for c in existing.choices
              if c.status != ChoiceStatus.CANCELLED} if existing else set()
    if request.method == "POST":
        chosen = {int(s) for s in request.form.getlist("session") if s.isdigit()}
        try:
            found, code = registration.register(event, participant_id, chosen,
                                                current_language().code)
        except DomainError as error:
            db.session.rollback()
            errors[error.field or "sessions"] = str(error.message)
        else:
            if code:
                invitations.send_confirmation(found, code)
                session[NEW_CODE_KEY] = code
            db.session.commit()
            if code:
                return redirect(url_for("events.private", slug=slug, code=code))
            flash(_("Your sessions have been saved."), "success")
            return redirect(url_for("events.register", slug=slug))
    return render_template("events/register_sessions.html", event=event, errors=errors,
                           chosen=chosen, existing=existing,
                           country_names=country_names(current_language().code)), \
        400 if errors else 200


@bp.route("/<slug>/register/start", methods=["POST"])
@public
def start_survey(slug: str):
    """Remember to come back here, then open the registration survey."""
    event = _event(slug)
    survey = survey_services.get_survey(event.registration_survey)
    if survey is None:
        abort(404)
    returns = dict(session.get(RETURN_KEY) or {})
    returns[survey.slug] = url_for("events.register", slug=slug)
    session[RETURN_KEY] = returns
    return redirect(url_for("surveys.start", slug=survey.slug))


@bp.route("/<slug>/r/<code>", methods=["GET", "POST"])
@public
@limiter.limit("30 per hour", methods=["POST"])
def private(slug: str, code: str):
    """Your registration: status per session, answer invitations, change or cancel."""
    event = _event(slug)
    found = registration.find_by_code(event, code)
    if found is None:
        abort(404)
    if request.method == "POST":
        action = request.form.get("action")
        try:
            if action == "cancel":
                registration.cancel(found)
                flash(_("Your registration has been cancelled."), "success")
            elif action in ("yes", "no"):
                choice = next((c for c in found.choices
                               if str(c.id) == request.form.get("choice")), None)
                if choice is None:
                    abort(400)
                invitations.answer(choice, action == "yes")
                flash(_("Thank you for your answer.") if action == "yes" else
                      _("Thank you for letting us know."), "success")
            else:
                abort(400)
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "error")
        else:
            db.session.commit()
        return redirect(url_for("events.private", slug=slug, code=code))
    new_code = session.pop(NEW_CODE_KEY, None) == code
    return render_template("events/private.html", event=event, registration=found,
                           new_code=new_code, code=code,
                           closed=services.registration_closed_reason(event),
                           country_names=country_names(current_language().code))


@bp.route("/<slug>/ticket/<token>")
@public
def ticket(slug: str, token: str):
    """The invitation's ticket: answer, add to calendar, show the QR code at the door."""
    event = _event(slug)
    choice = invitations.choice_by_ticket(token)
    if choice is None or choice.session.event_id != event.id:
        abort(404)
    scan_url = url_for("manage_events.scan", token=token, _external=True)
    return render_template("events/ticket.html", event=event, choice=choice, token=token,
                           qr=invitations.qr_svg(scan_url),
                           country_names=country_names(current_language().code))


@bp.route("/<slug>/ticket/<token>", methods=["POST"])
@public
@limiter.limit("30 per hour")
def answer(slug: str, token: str):
    event = _event(slug)
    choice = invitations.choice_by_ticket(token)
    if choice is None or choice.session.event_id != event.id:
        abort(404)
    try:
        invitations.answer(choice, request.form.get("action") == "yes")
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(_("Thank you for your answer."), "success")
    return redirect(url_for("events.ticket", slug=slug, token=token))


@bp.route("/<slug>/sessions/<int:session_id>.ics")
@public
def calendar(slug: str, session_id: int):
    """Any session as a calendar file, in the session's time zone."""
    event = _event(slug)
    found = next((s for s in event.sessions if s.id == session_id), None)
    if found is None:
        abort(404)
    body = invitations.calendar_file(found, current_language().code, method="PUBLISH")
    return Response(body, mimetype="text/calendar", headers={
        "Content-Disposition": f'attachment; filename="{slug}-{session_id}.ics"'})
