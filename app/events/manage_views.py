"""Organiser pages: events, sessions, panel selection, invitations, check-in, overview."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.audit.services import record as audit
from app.auth.permissions import holds_for_hub, roles_required
from app.auth.roles import Role
from app.consultations import services as consultation_services
from app.consultations.services import WRITING_LANGUAGES, language_name
from app.errors import DomainError
from app.events import check_in, invitations, panels, selection, services, statistics
from app.events.forms import NO_CONSULTATION, EventTextsForm, SessionForm, WalkInForm
from app.events.models import (
    ChoiceStatus,
    Event,
    EventSession,
    EventStatus,
    SessionChoice,
    SessionMode,
)
from app.events.registration import contact_of
from app.extensions import db
from app.forms import FormData
from app.hubs.models import Hub
from app.i18n import LANGUAGES, current_language
from app.surveys.places import country_names

bp = Blueprint("manage_events", __name__, template_folder="templates",
               url_prefix="/<lang:lang_code>/admin/events")
# Registration dates are days; they start and end at midnight in Brussels time.
NETWORK_ZONE = ZoneInfo("Europe/Brussels")
MAX_SEED = 2**31 - 1


def _holds(hub_id: int, *roles: Role) -> bool:
    """The signed-in person holds one of the roles (organiser by default) for this hub."""
    return holds_for_hub(hub_id, *(roles or (Role.ORGANISER,)))


def _event(slug: str) -> Event:
    event = services.get_by_slug(slug)
    if event is None:
        abort(404)
    if not _holds(event.hub_id):
        abort(403)
    return event


def _session(event: Event, session_id: int) -> EventSession:
    found = next((s for s in event.sessions if s.id == session_id), None)
    if found is None:
        abort(404)
    return found


def _names() -> dict[str, str]:
    return country_names(current_language().code)


@bp.route("/")
@roles_required(Role.ORGANISER)
def index():
    events = [e for e in services.all_events() if _holds(e.hub_id)]
    return render_template("events/manage/index.html", events=events,
                           country_names=_names())


def _event_form(event: Event | None) -> EventTextsForm:
    hubs = [h for h in db.session.scalars(select(Hub).order_by(Hub.name)) if _holds(h.id)]
    form = EventTextsForm(obj=None if request.method == "POST" or event is None
                          else _form_data(event))
    consultations = [(str(c.id), c.text_for(current_language().code).title)
                     for c in consultation_services.all_consultations() if _holds(c.hub_id)]
    form.set_choices(hubs, consultations)
    if request.method == "GET" and event is None:
        form.default_language.data = current_language().code
    return form


def _form_data(event: Event) -> FormData:
    values = {"hub": str(event.hub_id), "default_language": event.default_language,
              "consultation": str(event.consultation_id or NO_CONSULTATION),
              "accessibility": list(event.accessibility),
              "registration_opens": event.registration_opens.astimezone(NETWORK_ZONE).date()
              if event.registration_opens else None,
              "registration_closes": (event.registration_closes.astimezone(NETWORK_ZONE)
                                      - timedelta(days=1)).date()
              if event.registration_closes else None}
    for text in event.texts:
        values[f"title_{text.language}"] = text.title
        values[f"description_{text.language}"] = text.description
        values[f"accessibility_note_{text.language}"] = text.accessibility_note
    return FormData(**values)


def _texts(form) -> list[services.TextInput]:
    return [services.TextInput(
        language=lang.code, title=getattr(form, f"title_{lang.code}").data or "",
        description=getattr(form, f"description_{lang.code}").data or "",
        accessibility_note=getattr(form, f"accessibility_note_{lang.code}").data or "")
        for lang in LANGUAGES]


def _apply(event: Event, form) -> None:
    event.hub_id = int(form.hub.data)
    event.consultation_id = int(form.consultation.data) if form.consultation.data else None
    event.accessibility = [k for k in form.accessibility.data or []]
    opens, closes = form.registration_opens.data, form.registration_closes.data
    event.registration_opens = datetime.combine(opens, time(), NETWORK_ZONE) if opens else None
    event.registration_closes = datetime.combine(closes + timedelta(days=1), time(),
                                                 NETWORK_ZONE) if closes else None


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def new():
    form = _event_form(None)
    if form.validate_on_submit():
        hub = db.session.get(Hub, int(form.hub.data))
        try:
            event = services.create_event(slug=form.slug.data, hub=hub,
                                          default_language=form.default_language.data,
                                          texts=_texts(form))
            _apply(event, form)
        except DomainError as error:
            db.session.rollback()
            form.attach_error(error.field, error.message)
        else:
            audit(action="event.created", actor=f"user:{current_user.id}",
                  subject=f"event:{event.id}")
            db.session.commit()
            flash(_("The event has been created as a draft. Now add its sessions."), "success")
            return redirect(url_for(".edit", slug=event.slug))
    return render_template("events/manage/edit.html", form=form, event=None,
                           languages=LANGUAGES), 400 if form.errors else 200


@bp.route("/<slug>", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def edit(slug: str):
    event = _event(slug)
    form = _event_form(event)
    del form.slug
    if form.validate_on_submit():
        try:
            event.default_language = form.default_language.data
            services.set_texts(event, _texts(form))
            _apply(event, form)
        except DomainError as error:
            db.session.rollback()
            form.attach_error(error.field, error.message)
        else:
            db.session.commit()
            flash(_("Your changes have been saved."), "success")
            return redirect(url_for(".edit", slug=slug))
    return render_template("events/manage/edit.html", form=form, event=event,
                           languages=LANGUAGES, Status=EventStatus,
                           country_names=_names()), 400 if form.errors else 200


@bp.route("/<slug>/status", methods=["POST"])
@roles_required(Role.ORGANISER)
def change_status(slug: str):
    event = _event(slug)
    try:
        status = EventStatus(request.form.get("status", ""))
    except ValueError:
        abort(400)
    event.status = status
    audit(action="event.status", actor=f"user:{current_user.id}", subject=f"event:{event.id}",
          details={"status": status.value})
    db.session.commit()
    flash(_("The event is now: %(status)s.", status=status.label), "success")
    return redirect(url_for(".edit", slug=slug))


def _session_form(obj=None) -> SessionForm:
    form = SessionForm(obj=obj)
    names = _names()
    form.set_choices(sorted(names.items(), key=lambda item: item[1]), services.zones(),
                     sorted(((c, language_name(c, current_language().code))
                             for c in WRITING_LANGUAGES), key=lambda item: item[1]))
    return form


@bp.route("/<slug>/sessions/new", methods=["GET", "POST"])
@bp.route("/<slug>/sessions/<int:session_id>", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def session_form(slug: str, session_id: int | None = None):
    """A session: country, place or link, local times in the venue's zone, languages."""
    event = _event(slug)
    found = _session(event, session_id) if session_id else None
    obj = None
    if found is not None and request.method == "GET":
        obj = FormData(country=found.country, mode=found.mode.value, venue=found.venue,
                    online_url=found.online_url, timezone=found.timezone,
                    local_start=found.local_start.replace(tzinfo=None),
                    local_end=found.local_end.replace(tzinfo=None), capacity=found.capacity,
                    languages=found.languages, interpretation=found.interpretation)
    form = _session_form(obj)
    if request.method == "GET" and found is None:
        form.country.data = event.hub.country
        form.timezone.data = "Europe/Brussels"
        form.languages.data = [event.default_language]
    if form.validate_on_submit():
        given = services.SessionInput(
            country=form.country.data, venue=form.venue.data or "",
            online_url=form.online_url.data or "", mode=SessionMode(form.mode.data),
            languages=form.languages.data, interpretation=form.interpretation.data or [],
            local_start=form.local_start.data, local_end=form.local_end.data,
            timezone=form.timezone.data, capacity=form.capacity.data)
        try:
            services.save_session(event, given, found)
        except DomainError as error:
            db.session.rollback()
            form.attach_error(error.field, error.message)
        else:
            db.session.commit()
            flash(_("The session has been saved."), "success")
            return redirect(url_for(".edit", slug=slug, _anchor="sessions"))
    return render_template("events/manage/session.html", form=form, event=event,
                           session=found), 400 if form.errors else 200


@bp.route("/<slug>/sessions/<int:session_id>/delete", methods=["POST"])
@roles_required(Role.ORGANISER)
def delete_session(slug: str, session_id: int):
    event = _event(slug)
    try:
        services.delete_session(_session(event, session_id))
    except DomainError as error:
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(_("The session has been deleted."), "success")
    return redirect(url_for(".edit", slug=slug, _anchor="sessions"))


def _quotas_from_form(counts) -> tuple[list[selection.Quota], dict[str, str]]:
    quotas, errors = [], {}
    for category, values in counts.items():
        for value in values:
            key = f"{category}.{value}"
            low, high = request.form.get(f"min.{key}", "").strip(), \
                request.form.get(f"max.{key}", "").strip()
            if not low and not high:
                continue
            if (low and not low.isdigit()) or (high and not high.isdigit()):
                errors[f"min-{category}-{value}"] = _("Enter whole numbers.")
                continue
            minimum, maximum = int(low or 0), int(high or 100000)
            if minimum > maximum:
                errors[f"min-{category}-{value}"] = _(
                    "The minimum cannot be more than the maximum.")
                continue
            quotas.append(selection.Quota(category, value, minimum, maximum))
    return quotas, errors


@bp.route("/<slug>/sessions/<int:session_id>/selection", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def select_panel(slug: str, session_id: int):
    """Quotas, LEXIMIN (or the legacy method), probabilities, the seeded draw."""
    event = _event(slug)
    session_ = _session(event, session_id)
    pool = panels.pool(session_)
    counts = panels.category_counts(pool)
    errors: dict[str, str] = {}
    preview = infeasible = None
    form = request.form
    if request.method == "POST":
        quotas, errors = _quotas_from_form(counts)
        size_text = form.get("panel_size", "").strip()
        seed_text = form.get("seed", "").strip()
        algorithm = form.get("algorithm") if form.get("algorithm") in ("leximin", "legacy") \
            else "leximin"
        if not size_text.isdigit() or not 1 <= int(size_text) <= len(pool):
            errors["panel_size"] = _("Enter a panel size between 1 and %(num)d, the number "
                                     "of registrants.", num=len(pool))
        if form.get("action") == "draw" and (not seed_text.isdigit()
                                             or int(seed_text) > MAX_SEED):
            errors["seed"] = _("Enter the seed as a whole number, for example from a public "
                               "dice roll.")
        if not errors:
            household = form.get("one_per_household") == "1"
            try:
                if form.get("action") == "draw":
                    panels.run_selection(session_, panel_size=int(size_text), quotas=quotas,
                                         algorithm=algorithm, seed=int(seed_text),
                                         one_per_household=household,
                                         actor_id=current_user.id)
                    db.session.commit()
                    flash(_("The panel has been drawn."), "success")
                    return redirect(url_for(".select_panel", slug=slug,
                                            session_id=session_id))
                probabilities, _lottery, capped = panels.distribution(
                    session_, panel_size=int(size_text), quotas=quotas, algorithm=algorithm,
                    one_per_household=household)
                preview = {"probabilities": probabilities, "capped": capped,
                           "minimum": min(probabilities.values())}
            except selection.InfeasibleQuotas as error:
                db.session.rollback()
                infeasible = error.infeasible
            except ValueError:
                db.session.rollback()
                errors["panel_size"] = _("No panel of this size is possible: there are too "
                                         "few households.")
    latest = panels.latest_selection(session_)
    choices = list(db.session.scalars(select(SessionChoice).where(
        SessionChoice.session_id == session_.id).order_by(SessionChoice.id)))
    return render_template(
        "events/manage/selection.html", event=event, session=session_, pool=pool,
        counts=counts, errors=errors, values=form, preview=preview, infeasible=infeasible,
        latest=latest, choices=choices, ChoiceStatus=ChoiceStatus,
        categories=panels.CATEGORY_QUESTIONS, unknown=panels.UNKNOWN,
        labels=panels.category_labels(event, current_language().code),
        country_names=_names()), 400 if errors else 200


@bp.route("/<slug>/sessions/<int:session_id>/messages", methods=["POST"])
@roles_required(Role.ORGANISER)
def messages(slug: str, session_id: int):
    """Invitations, reminders, replacing drop-outs, evaluation requests."""
    event = _event(slug)
    session_ = _session(event, session_id)
    action = request.form.get("action")
    if action == "invite":
        sent, missing = invitations.send_invitations(session_)
        flash(_("%(sent)d invitations sent; %(missing)d people gave no e-mail address and "
                "need a call or letter.", sent=sent, missing=missing), "success")
    elif action == "remind":
        flash(_("%(num)d reminders sent.", num=invitations.send_reminders(session_)), "success")
    elif action == "replace":
        try:
            added = panels.fill_freed_places(session_, actor_id=current_user.id)
        except selection.InfeasibleQuotas:
            db.session.rollback()
            flash(_("The freed places cannot be filled within the quotas from the waiting "
                    "list."), "error")
            return redirect(url_for(".select_panel", slug=slug, session_id=session_id))
        flash(_("%(num)d people from the waiting list were selected. Send them their "
                "invitations.", num=len(added)), "success")
    elif action == "evaluate":
        flash(_("%(num)d evaluation requests sent.",
                num=invitations.send_evaluations(session_)), "success")
    else:
        abort(400)
    db.session.commit()
    return redirect(url_for(".select_panel", slug=slug, session_id=session_id))


@bp.route("/<slug>/sessions/<int:session_id>/check-in", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def check_in_page(slug: str, session_id: int):
    """On the day, from a phone: search by name, check in, add walk-ins."""
    event = _event(slug)
    session_ = _session(event, session_id)
    # The app-wide CSRF check covers this form; its own token field would be prefixed.
    walk_in = WalkInForm(prefix="walkin", meta={"csrf": False})
    walk_in.language.choices = [(lang.code, lang.native_name) for lang in LANGUAGES]
    if request.method == "POST" and request.form.get("choice", "").isdigit():
        choice = db.session.get(SessionChoice, int(request.form["choice"]))
        if choice is None or choice.session_id != session_.id:
            abort(404)
        _check_in(choice)
        return redirect(url_for(".check_in_page", slug=slug, session_id=session_id,
                                q=request.form.get("q", "")))
    if walk_in.validate_on_submit():
        try:
            check_in.walk_in(session_, name=walk_in.name.data, email=walk_in.email.data or "",
                             language=walk_in.language.data, signed=walk_in.signed.data,
                             staff_id=current_user.id)
        except DomainError as error:
            db.session.rollback()
            walk_in.attach_error(error.field, error.message)
        else:
            db.session.commit()
            flash(_("The walk-in participant has been added and checked in."), "success")
            return redirect(url_for(".check_in_page", slug=slug, session_id=session_id))
    query = request.args.get("q", "")
    everyone = check_in.expected(session_)
    people = check_in.matching(everyone, query)
    return render_template("events/manage/check_in.html", event=event, session=session_,
                           people=people, query=query, walk_in=walk_in,
                           arrived=sum(1 for p in everyone if p.choice.checked_in_at),
                           country_names=_names()), 400 if walk_in.errors else 200


def _check_in(choice: SessionChoice) -> None:
    """Record attendance and say what happened (a second scan is harmless)."""
    try:
        done = check_in.check_in(choice, staff_id=current_user.id)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(_("Checked in.") if done else _("Already checked in."), "success")


@bp.route("/scan/<token>", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def scan(token: str):
    """What a staff phone opens when it scans a ticket's QR code."""
    choice = invitations.choice_by_ticket(token)
    if choice is None:
        abort(404)
    event = _event(choice.session.event.slug)
    if request.method == "POST":
        _check_in(choice)
        return redirect(url_for(".check_in_page", slug=event.slug,
                                session_id=choice.session_id))
    name = contact_of(choice.registration.participant_id).get("full_name", "")
    return render_template("events/manage/scan.html", event=event, choice=choice,
                           name=name, token=token,
                           country_names=_names())


@bp.route("/<slug>/overview")
@roles_required(Role.ORGANISER, Role.ANALYST)
def overview(slug: str):
    """One event across countries; registered, selected and attended by group."""
    event = services.get_by_slug(slug)
    if event is None:
        abort(404)
    if not _holds(event.hub_id, Role.ORGANISER, Role.ANALYST):
        abort(403)
    return render_template("events/manage/overview.html", event=event,
                           countries=statistics.by_country(event),
                           groups=statistics.by_group(event), country_names=_names(),
                           categories=panels.CATEGORY_QUESTIONS, unknown=panels.UNKNOWN,
                           labels=panels.category_labels(event, current_language().code))
