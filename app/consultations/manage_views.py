"""Organiser pages: create and edit consultations, phases, linked surveys, statements."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.audit.services import record as audit
from app.auth.permissions import holds_for_hub, roles_required
from app.auth.roles import Role
from app.consultations import analysis, comments, services, voting
from app.consultations.forms import NETWORK, ConsultationTextsForm, SeedStatementForm
from app.consultations.models import (
    Consultation,
    ConsultationStatus,
    ContentStatus,
    PhaseKind,
    Statement,
    StatementModeration,
    Topic,
)
from app.errors import DomainError
from app.extensions import db
from app.forms import FormData
from app.hubs.models import Hub
from app.i18n import LANGUAGES, current_language
from app.surveys import services as survey_services
from app.surveys.places import country_names

bp = Blueprint("manage_consultations", __name__, template_folder="templates",
               url_prefix="/<lang:lang_code>/admin/consultations")
EXTRA_PHASE_ROWS = 2


def _hubs_for(role: Role) -> list[Hub]:
    hubs = list(db.session.scalars(select(Hub).order_by(Hub.name)))
    return [h for h in hubs if current_user.has_role(role, hub_id=h.id)
            and _holds_for_hub(role, h.id)]


def _holds_for_hub(role: Role, hub_id: int) -> bool:
    return holds_for_hub(hub_id, role)


def _consultation(slug: str, role: Role = Role.ORGANISER) -> Consultation:
    consultation = services.get_by_slug(slug)
    if consultation is None:
        abort(404)
    if not _holds_for_hub(role, consultation.hub_id) and not (
            role != Role.ORGANISER and _holds_for_hub(Role.ORGANISER, consultation.hub_id)):
        abort(403)
    return consultation


def _countries() -> list[tuple[str, str]]:
    names = country_names(current_language().code)
    return sorted(names.items(), key=lambda item: item[1])


@bp.route("/")
@roles_required(Role.ORGANISER, Role.TRANSLATOR)
def index():
    """Every consultation of the hubs this person works for."""
    rows = [c for c in services.all_consultations()
            if _holds_for_hub(Role.ORGANISER, c.hub_id)
            or _holds_for_hub(Role.TRANSLATOR, c.hub_id)]
    return render_template("consultations/manage/index.html", consultations=rows,
                           country_names=country_names(current_language().code))


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def new():
    hubs = _hubs_for(Role.ORGANISER)
    form = ConsultationTextsForm()
    form.set_choices(hubs, _countries())
    if request.method == "GET" and hubs:
        form.country.data = hubs[0].country
        form.default_language.data = current_language().code
    if form.validate_on_submit():
        hub = next(h for h in hubs if str(h.id) == form.hub.data)
        try:
            consultation = services.create_consultation(
                slug=form.slug.data, hub=hub, country=form.country.data,
                topic=Topic(form.topic.data), default_language=form.default_language.data,
                texts=_texts(form))
            _apply_settings(consultation, form, hub)
        except DomainError as error:
            db.session.rollback()
            form.attach_error(error.field, error.message)
        else:
            audit(action="consultation.created", actor=f"user:{current_user.id}",
                  subject=f"consultation:{consultation.id}")
            db.session.commit()
            flash(_("The consultation has been created as a draft."), "success")
            return redirect(url_for(".edit", slug=consultation.slug))
    return render_template("consultations/manage/edit.html", form=form, consultation=None,
                           languages=LANGUAGES), 400 if form.errors else 200


def _texts(form) -> list[services.TextInput]:
    return [services.TextInput(language=lang.code,
                               title=getattr(form, f"title_{lang.code}").data or "",
                               summary=getattr(form, f"summary_{lang.code}").data or "",
                               body=getattr(form, f"body_{lang.code}").data or "")
            for lang in LANGUAGES]


def _apply_settings(consultation: Consultation, form, hub: Hub) -> None:
    services.update_settings(
        consultation, hub=hub, country=form.country.data, topic=Topic(form.topic.data),
        default_language=form.default_language.data,
        moderation=StatementModeration(form.statement_moderation.data),
        participant_statements=form.participant_statements.data)
    if current_user.has_role(Role.ADMIN) and form.min_cell_size.data:
        consultation.min_cell_size = form.min_cell_size.data


@bp.route("/<slug>", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def edit(slug: str):
    """Settings and texts in every language, status, phases, linked surveys."""
    consultation = _consultation(slug)
    hubs = _hubs_for(Role.ORGANISER)
    form = ConsultationTextsForm(obj=None if request.method == "POST" else _form_data(
        consultation))
    form.set_choices(hubs, _countries())
    del form.slug
    if form.validate_on_submit():
        hub = next((h for h in hubs if str(h.id) == form.hub.data), consultation.hub)
        try:
            consultation.default_language = form.default_language.data
            services.set_texts(consultation, _texts(form))
            _apply_settings(consultation, form, hub)
        except DomainError as error:
            db.session.rollback()
            form.attach_error(error.field, error.message)
        else:
            audit(action="consultation.changed", actor=f"user:{current_user.id}",
                  subject=f"consultation:{consultation.id}")
            db.session.commit()
            flash(_("Your changes have been saved."), "success")
            return redirect(url_for(".edit", slug=slug))
    return render_template("consultations/manage/edit.html", form=form,
                           consultation=consultation, languages=LANGUAGES,
                           surveys=survey_services.list_surveys(), Status=ConsultationStatus,
                           snapshot=analysis.latest_snapshot(consultation.id)), \
        400 if form.errors else 200


def _form_data(consultation: Consultation) -> FormData:
    values = {"hub": str(consultation.hub_id), "country": consultation.country,
              "topic": consultation.topic.value,
              "default_language": consultation.default_language,
              "statement_moderation": consultation.statement_moderation.value,
              "participant_statements": consultation.participant_statements,
              "min_cell_size": consultation.min_cell_size}
    for text in consultation.texts:
        values[f"title_{text.language}"] = text.title
        values[f"summary_{text.language}"] = text.summary
        values[f"body_{text.language}"] = text.body
    return FormData(**values)


@bp.route("/<slug>/status", methods=["POST"])
@roles_required(Role.ORGANISER)
def change_status(slug: str):
    consultation = _consultation(slug)
    try:
        status = ConsultationStatus(request.form.get("status", ""))
    except ValueError:
        abort(400)
    if status == ConsultationStatus.OPEN and not consultation.texts:
        abort(400)
    services.set_status(consultation, status)
    audit(action="consultation.status", actor=f"user:{current_user.id}",
          subject=f"consultation:{consultation.id}", details={"status": status.value})
    db.session.commit()
    flash(_("The consultation is now: %(status)s.", status=status.label), "success")
    return redirect(url_for(".edit", slug=slug))


@bp.route("/<slug>/surveys", methods=["POST"])
@roles_required(Role.ORGANISER)
def link_surveys(slug: str):
    consultation = _consultation(slug)
    wanted = set(request.form.getlist("survey"))
    services.set_surveys(consultation, [s for s in survey_services.list_surveys()
                                        if s.slug in wanted])
    db.session.commit()
    flash(_("The linked surveys have been saved."), "success")
    return redirect(url_for(".edit", slug=slug, _anchor="surveys"))


@bp.route("/<slug>/phases", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def phases(slug: str):
    """Phases with dates and a description per language; blank rows are ignored."""
    consultation = _consultation(slug)
    errors: dict[str, str] = {}
    rows = _phase_rows(consultation) if request.method == "GET" else _posted_rows()
    if request.method == "POST":
        parsed = []
        for index, row in enumerate(rows):
            if not (row["starts_on"] or row["ends_on"]):
                continue
            starts, ends = _date(row["starts_on"]), _date(row["ends_on"])
            if starts is None:
                errors[f"phases-{index}-starts_on"] = _("Enter the start date as YYYY-MM-DD.")
            if ends is None:
                errors[f"phases-{index}-ends_on"] = _("Enter the end date as YYYY-MM-DD.")
            if row["kind"] not in set(PhaseKind):
                errors[f"phases-{index}-kind"] = _("Choose the kind of phase.")
            if starts and ends and row["kind"] in set(PhaseKind):
                parsed.append(services.PhaseInput(PhaseKind(row["kind"]), starts, ends,
                                                  row["description"]))
        if not errors:
            try:
                services.set_phases(consultation, parsed)
            except DomainError as error:
                db.session.rollback()
                errors[error.field or "phases"] = str(error.message)
            else:
                db.session.commit()
                flash(_("The phases have been saved."), "success")
                return redirect(url_for(".phases", slug=slug))
    return render_template("consultations/manage/phases.html", consultation=consultation,
                           rows=rows, errors=errors, kinds=list(PhaseKind),
                           languages=LANGUAGES), 400 if errors else 200


def _phase_rows(consultation: Consultation) -> list[dict]:
    rows = [{"kind": p.kind.value, "starts_on": p.starts_on.isoformat(),
             "ends_on": p.ends_on.isoformat(), "description": dict(p.description)}
            for p in consultation.phases]
    blank = {"kind": "", "starts_on": "", "ends_on": "", "description": {}}
    return rows + [dict(blank) for _ in range(EXTRA_PHASE_ROWS)]


def _posted_rows() -> list[dict]:
    count = min(int(request.form.get("rows", "0") or 0), 30)
    rows = []
    for index in range(count):
        prefix = f"phases-{index}-"
        rows.append({
            "kind": request.form.get(prefix + "kind", ""),
            "starts_on": request.form.get(prefix + "starts_on", "").strip(),
            "ends_on": request.form.get(prefix + "ends_on", "").strip(),
            "description": {lang.code: text for lang in LANGUAGES
                            if (text := request.form.get(
                                f"{prefix}description-{lang.code}", "").strip())},
        })
    return rows


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


@bp.route("/<slug>/statements", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def statements(slug: str):
    """Seed statements, every statement with its votes, and the opinion-group update."""
    consultation = _consultation(slug)
    form = SeedStatementForm()
    form.language.choices = [(lang.code, lang.native_name) for lang in LANGUAGES]
    if request.method == "GET":
        form.language.data = consultation.default_language
    if form.validate_on_submit():
        text = " ".join(form.text.data.split())
        voting.add_statement(consultation, text, form.language.data, seed=True)
        db.session.commit()
        flash(_("The statement has been added."), "success")
        return redirect(url_for(".statements", slug=slug))
    rows = list(db.session.scalars(select(Statement).where(
        Statement.consultation_id == consultation.id).order_by(Statement.number)))
    return render_template("consultations/manage/statements.html", consultation=consultation,
                           form=form, statements=rows,
                           snapshot=analysis.latest_snapshot(consultation.id),
                           vote_count=analysis.vote_count(consultation.id)), \
        400 if form.errors else 200


@bp.route("/<slug>/recompute", methods=["POST"])
@roles_required(Role.ORGANISER)
def recompute(slug: str):
    """Update the opinion groups now (voters never wait for this)."""
    consultation = _consultation(slug)
    snapshot = analysis.compute_snapshot(consultation.id)
    db.session.commit()
    flash(_("The opinion groups have been updated: %(k)d groups from %(votes)d votes.",
            k=snapshot.payload["k"], votes=snapshot.vote_count), "success")
    return redirect(url_for(".statements", slug=slug))


@bp.route("/<slug>/translations", methods=["GET", "POST"])
@roles_required(Role.TRANSLATOR, Role.ORGANISER)
def translations(slug: str):
    """Translate statements and comments into the consultation's languages."""
    consultation = _consultation(slug, Role.TRANSLATOR)
    errors: dict[str, str] = {}
    if request.method == "POST":
        kind, item_id = request.form.get("kind"), request.form.get("item", "")
        model = {"statement": Statement, "comment": comments.Comment}.get(kind or "")
        item = db.session.get(model, int(item_id)) if model and item_id.isdigit() else None
        if item is None or item.consultation_id != consultation.id or \
                item.status != ContentStatus.PUBLISHED:
            abort(404)
        language = request.form.get("language", "")
        if language not in consultation.languages:
            abort(400)
        try:
            comments.translate(item, language, request.form.get("text", ""),
                               translator_id=current_user.id)
        except DomainError as error:
            db.session.rollback()
            errors[f"{kind}-{item.id}-{language}"] = str(error.message)
        else:
            db.session.commit()
            flash(_("The translation has been saved."), "success")
            return redirect(url_for(".translations", slug=slug, _anchor=f"{kind}-{item.id}"))
    return render_template("consultations/manage/translations.html",
                           consultation=consultation, errors=errors, values=request.form,
                           items=comments.needing_translation(consultation),
                           Statement=Statement), 400 if errors else 200


@bp.app_template_global()
def network_label(code: str) -> str:
    return _("Europe-wide") if code == NETWORK else code
