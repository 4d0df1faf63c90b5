"""Citizens' pages: find a consultation, read it, vote on statements, discuss, see results."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import format_date
from flask_babel import gettext as _

from app.auth.permissions import public
from app.consent import services as consent_services
from app.consent import views as consent_views
from app.consent.markdown import render as markdown
from app.consent.models import ConsentChannel
from app.consultations import analysis, comments, group_profiles, moderation, services, voting
from app.consultations.charts import opinion_map_svg
from app.consultations.models import (
    Consultation,
    ConsultationStatus,
    ContentStatus,
    SnapshotKind,
    Statement,
    Topic,
)
from app.consultations.participation import asked_purposes, has_valid_consent
from app.errors import DomainError
from app.extensions import db, limiter
from app.i18n import CODES, current_language
from app.surveys import services as survey_services
from app.surveys.places import country_names
from app.timeutil import utcnow

bp = Blueprint("consultations", __name__, template_folder="templates",
               url_prefix="/<lang:lang_code>/c")
PENDING_VOTE_KEY = "pending_votes"  # a vote given before consent, applied right after it
GROUP_NAMES = "ABCDEFGHIJ"


def _consultation(slug: str) -> Consultation:
    consultation = services.get_by_slug(slug)
    if consultation is None or consultation.status == ConsultationStatus.DRAFT:
        abort(404)
    return consultation


def _participant_id() -> str | None:
    return session.get(consent_views.MY_DATA_KEY)


def _voter(consultation: Consultation):
    return voting.find_voter(consultation, _participant_id())


def with_voter(view):
    """Give the view this person's voter seat; without consent, ask for it first."""

    @wraps(view)
    def wrapped(slug: str, **kwargs):
        consultation = _consultation(slug)
        if not services.accepting_contributions(consultation):
            flash(_("This consultation is closed. You can still read it and see the results."),
                  "info")
            return redirect(url_for("consultations.detail", slug=slug))
        participant_id = _participant_id()
        if not has_valid_consent(consultation, participant_id):
            if request.method == "POST" and request.form.get("vote") in voting.VOTE_VALUES:
                pending = dict(session.get(PENDING_VOTE_KEY) or {})
                pending[slug] = [request.form.get("statement", ""), request.form["vote"]]
                session[PENDING_VOTE_KEY] = pending
            return redirect(url_for("consultations.consent", slug=slug))
        voter = voting.voter_for(consultation, participant_id)
        return view(consultation, voter, **kwargs)

    return wrapped


def group_name(group_id: int) -> str:
    return GROUP_NAMES[group_id] if 0 <= group_id < len(GROUP_NAMES) else str(group_id + 1)


@bp.app_context_processor
def _helpers():
    return {"consultation_text": lambda c: c.text_for(current_language().code),
            "markdown": markdown, "format_date": format_date, "survey_title": _survey_title,
            "render_item": lambda item: comments.rendering(item, current_language().code),
            "language_name": lambda code: services.language_name(
                code, current_language().code)}


def _survey_title(survey) -> str:
    if not survey.versions:
        return survey.slug
    definition = survey_services.definition_of(survey_services.latest_version(survey))
    return definition.title.get(definition.language_for(current_language().code))


@bp.route("/")
@public
def index():
    """Every consultation that is not a draft, with filters by topic, country and language."""
    topic = request.args.get("topic") or None
    country = request.args.get("country") or None
    language = request.args.get("language") or None
    status = request.args.get("status") or None
    found = services.public_listing(
        topic=Topic(topic) if topic in set(Topic) else None,
        country=country if country and len(country) == 2 else None,
        language=language if language in CODES else None,
        status=ConsultationStatus(status) if status in set(ConsultationStatus) else None)
    names = country_names(current_language().code)
    countries = [(code, names.get(code, code)) for code in services.listing_countries()]
    return render_template("consultations/index.html", consultations=found, Topic=Topic,
                           countries=sorted(countries, key=lambda c: c[1]), languages=CODES,
                           filters={"topic": topic or "", "country": country or "",
                                    "language": language or "", "status": status or ""},
                           statuses=services.PUBLIC_STATUSES, country_names=names)


@bp.route("/<slug>/")
@public
def detail(slug: str):
    """The consultation: what it is about, its phases, how to take part, the discussion."""
    consultation = _consultation(slug)
    voter = _voter(consultation)
    today = utcnow().date()
    return render_template(
        "consultations/detail.html", consultation=consultation,
        current_phase=services.current_phase(consultation, today), today=today,
        progress=voting.progress(consultation, voter),
        accepting=services.accepting_contributions(consultation),
        thread=comments.thread(consultation, viewer=voter),
        country_names=country_names(current_language().code),
        snapshot=analysis.latest_snapshot(consultation.id), languages=_writing_languages(),
        errors={}, values={}, events=_linked_events(consultation))


def _linked_events(consultation: Consultation) -> list:
    from app.events.models import Event, EventStatus  # events link to consultations

    return list(db.session.scalars(db.select(Event).where(
        Event.consultation_id == consultation.id, Event.status == EventStatus.PUBLISHED)))


@bp.route("/<slug>/consent", methods=["GET", "POST"])
@public
def consent(slug: str):
    """The same consent page as for surveys, asking what voting and comments need."""
    consultation = _consultation(slug)
    document = consent_services.get_document(consultation.consent_document)
    if document is None:
        abort(404)
    version = consent_services.latest_version(document)
    definition = consent_services.definition_of(version)
    language = definition.language_for(current_language().code)
    asked = asked_purposes(definition)
    participant_id = _participant_id()
    previous = consent_services.current_record(participant_id, document) \
        if participant_id else None
    renewing = previous is not None
    changed = renewing and consent_services.needs_renewal(previous, document)
    if has_valid_consent(consultation, participant_id):
        return redirect(url_for("consultations.vote", slug=slug))
    values = request.form
    outcome = consent_views.evaluate_capture(values, definition, asked, renewing=renewing) \
        if request.method == "POST" else consent_views.CaptureOutcome()
    if outcome.too_young is not None:
        return render_template("consent/too_young.html", age_limit=outcome.too_young,
                               back_url=url_for("consultations.consent", slug=slug))
    if outcome.granted is not None and not outcome.ask_guardian:
        participant = consent_views.participant_for_session()
        try:
            record = consent_services.give_consent(
                participant=participant, version=version, language=language, asked=asked,
                granted=outcome.granted, channel=ConsentChannel.WEB,
                actor="guardian" if outcome.guardian_needed else "participant")
        except DomainError:
            db.session.rollback()
            abort(400)
        access_code = None if participant.access_code_hash else \
            consent_services.new_access_code(participant)
        _apply_pending_vote(consultation, participant.id)
        db.session.commit()
        session[consent_views.MY_DATA_KEY] = participant.id
        consent_views.remember_receipt(
            record, access_code, slug=f"c/{slug}", continue_to="statements",
            continue_url=url_for("consultations.vote", slug=slug))
        return redirect(url_for("consultations.receipt", slug=slug))
    page = consent_views.render_capture(
        consent=definition, language=language, asked=asked, errors=outcome.errors,
        values=values, guardian_needed=outcome.guardian_needed, renewing=renewing,
        changed=changed, action_url=url_for("consultations.consent", slug=slug),
        activity_title=consultation.text_for(current_language().code).title)
    return page, 400 if outcome.errors else 200


def _apply_pending_vote(consultation: Consultation, participant_id: str) -> None:
    pending = dict(session.get(PENDING_VOTE_KEY) or {})
    given = pending.pop(consultation.slug, None)
    session[PENDING_VOTE_KEY] = pending
    if not given or not str(given[0]).isdigit():
        return
    statement = voting.statement_by_number(consultation, int(given[0]))
    if statement is not None and statement.status == ContentStatus.PUBLISHED:
        voter = voting.voter_for(consultation, participant_id)
        voting.cast_vote(voter, statement, voting.VOTE_VALUES[given[1]])


@bp.route("/<slug>/receipt")
@public
def receipt(slug: str):
    return consent_views.receipt_page(f"c/{slug}",
                                      fallback_url=url_for("consultations.detail", slug=slug))


@bp.route("/<slug>/vote", methods=["GET", "POST"])
@public
@with_voter
def vote(consultation: Consultation, voter):
    """One statement at a time: agree, disagree or pass, then the next."""
    if request.method == "POST":
        _record_vote(consultation, voter)
        return redirect(url_for("consultations.vote", slug=consultation.slug))
    statement, done, total = voting.standing(consultation, voter)
    return render_template("consultations/vote.html", consultation=consultation,
                           statement=statement, done=done, total=total,
                           comment_count=comments.comment_count(consultation, statement)
                           if statement else 0)


def _record_vote(consultation: Consultation, voter) -> None:
    number = request.form.get("statement", "")
    value = voting.VOTE_VALUES.get(request.form.get("vote", ""))
    statement = voting.statement_by_number(consultation, int(number)) \
        if number.isdigit() else None
    if statement is None or value is None:
        flash(_("Your vote did not reach us. Please choose again."), "error")
        return
    try:
        voting.cast_vote(voter, statement, value)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return
    db.session.commit()


@bp.route("/<slug>/statements", methods=["GET"])
@public
def statements(slug: str):
    """Every statement as a list, with your current vote; anyone may read them."""
    consultation = _consultation(slug)
    voter = _voter(consultation)
    return render_template("consultations/statements.html", consultation=consultation,
                           statements=voting.published_statements(consultation),
                           votes=voting.votes_of(voter), voter=voter,
                           accepting=services.accepting_contributions(consultation),
                           own_pending=_own_pending(consultation, voter))


def _own_pending(consultation: Consultation, voter):
    if voter is None:
        return []
    return list(db.session.scalars(db.select(Statement).where(
        Statement.consultation_id == consultation.id, Statement.author_id == voter.id,
        Statement.status.in_((ContentStatus.PENDING, ContentStatus.HIDDEN)))))


@bp.route("/<slug>/statements/vote", methods=["POST"])
@public
@with_voter
def vote_in_list(consultation: Consultation, voter):
    """A vote from the list view; back to the same statement in the list."""
    _record_vote(consultation, voter)
    number = request.form.get("statement", "")
    anchor = f"s-{number}" if number.isdigit() else None
    return redirect(url_for("consultations.statements", slug=consultation.slug,
                            _anchor=anchor))


@bp.route("/<slug>/statements/new", methods=["GET", "POST"])
@public
@limiter.limit("30 per hour", methods=["POST"])
@with_voter
def new_statement(consultation: Consultation, voter):
    """Add your own statement for others to vote on; usually checked by a moderator first."""
    if not consultation.participant_statements:
        abort(404)
    errors: dict[str, str] = {}
    values = request.form
    if request.method == "POST":
        language = values.get("language", "")
        if language not in services.WRITING_LANGUAGES:
            errors["language"] = _("Choose the language you wrote in.")
        else:
            try:
                statement = voting.submit_statement(consultation, voter, values.get("text", ""),
                                                    language)
            except DomainError as error:
                db.session.rollback()
                errors[error.field or "text"] = str(error.message)
            else:
                db.session.commit()
                if statement.status == ContentStatus.PUBLISHED:
                    flash(_("Thank you. Your statement is now open for votes."), "success")
                else:
                    flash(_("Thank you. A moderator will check your statement before others "
                            "can vote on it."), "success")
                return redirect(url_for("consultations.vote", slug=consultation.slug))
    return render_template("consultations/new_statement.html", consultation=consultation,
                           errors=errors, values=values,
                           languages=_writing_languages()), 400 if errors else 200


def _writing_languages() -> list[tuple[str, str]]:
    here = current_language().code
    named = [(code, services.language_name(code, here)) for code in services.WRITING_LANGUAGES]
    return sorted(named, key=lambda item: item[1].casefold())


@bp.route("/<slug>/statements/<int:number>")
@public
def statement(slug: str, number: int):
    """One statement, its discussion, and a way to vote on it."""
    consultation = _consultation(slug)
    found = voting.statement_by_number(consultation, number)
    if found is None or found.status != ContentStatus.PUBLISHED:
        abort(404)
    voter = _voter(consultation)
    return render_template("consultations/statement.html", consultation=consultation,
                           statement=found, vote=voting.votes_of(voter).get(found.id),
                           thread=comments.thread(consultation, statement=found, viewer=voter),
                           accepting=services.accepting_contributions(consultation),
                           languages=_writing_languages(), errors={}, values={})


@bp.route("/<slug>/comments", methods=["POST"])
@public
@limiter.limit("60 per hour")
@with_voter
def add_comment(consultation: Consultation, voter):
    """A comment or a reply, on the consultation or on one statement."""
    form = request.form
    statement_number = form.get("statement", "")
    statement = voting.statement_by_number(consultation, int(statement_number)) \
        if statement_number.isdigit() else None
    parent_id = form.get("parent", "")
    parent = db.session.get(comments.Comment, int(parent_id)) if parent_id.isdigit() else None
    back = url_for("consultations.statement", slug=consultation.slug,
                   number=statement.number) if statement else \
        url_for("consultations.detail", slug=consultation.slug)
    errors: dict[str, str] = {}
    language = form.get("language", "")
    if language not in services.WRITING_LANGUAGES:
        errors["comment-language"] = _("Choose the language you wrote in.")
    else:
        try:
            comment = comments.add_comment(consultation, voter, form.get("body", ""), language,
                                           statement=statement, parent=parent)
        except DomainError as error:
            db.session.rollback()
            errors["comment-body"] = str(error.message)
        else:
            db.session.commit()
            if comment.status == ContentStatus.PENDING:
                flash(_("Thank you. A moderator will look at your comment before others can "
                        "see it."), "success")
            else:
                flash(_("Your comment has been published."), "success")
            return redirect(f"{back}#comment-{comment.id}")
    template = "consultations/statement.html" if statement else "consultations/detail.html"
    today = utcnow().date()
    return render_template(
        template, consultation=consultation, statement=statement,
        vote=voting.votes_of(voter).get(statement.id) if statement else None,
        thread=comments.thread(consultation, statement=statement, viewer=voter),
        accepting=True, languages=_writing_languages(), errors=errors, values=form,
        reply_to=parent, current_phase=services.current_phase(consultation, today),
        today=today, progress=voting.progress(consultation, voter),
        country_names=country_names(current_language().code),
        snapshot=analysis.latest_snapshot(consultation.id),
        events=_linked_events(consultation)), 400


@bp.route("/<slug>/report/<kind>/<int:item_id>", methods=["GET", "POST"])
@public
@limiter.limit("30 per hour", methods=["POST"])
@with_voter
def report(consultation: Consultation, voter, kind: str, item_id: int):
    """Tell the moderators about a statement or comment that breaks the rules."""
    if kind == "statement":
        item = voting.statement_by_number(consultation, item_id)
    elif kind == "comment":
        item = db.session.get(comments.Comment, item_id)
    else:
        abort(404)
    if item is None or item.consultation_id != consultation.id or \
            item.status != ContentStatus.PUBLISHED:
        abort(404)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            moderation.report(reporter=voter, reason=request.form.get("reason", ""),
                              **{kind: item})
        except DomainError as error:
            db.session.rollback()
            errors["reason-offensive"] = str(error.message)
        else:
            db.session.commit()
            flash(_("Thank you. The moderators will look at it."), "success")
            target = url_for("consultations.statement", slug=consultation.slug,
                             number=item.number) if kind == "statement" else \
                url_for("consultations.detail", slug=consultation.slug)
            return redirect(target)
    return render_template("consultations/report.html", consultation=consultation, item=item,
                           kind=kind, reasons=moderation.FLAG_REASONS, errors=errors,
                           values=request.form), 400 if errors else 200


@bp.route("/<slug>/results")
@public
def results(slug: str):
    """Opinion groups for everyone: the map, what each group thinks, what unites everyone."""
    consultation = _consultation(slug)
    language = current_language().code
    voter = _voter(consultation)
    views = []
    for kind in SnapshotKind:
        snapshot = analysis.latest_snapshot(consultation.id, kind)
        if snapshot is None:
            continue
        payload = snapshot.payload
        mine = analysis.group_of_voter(snapshot, voter.number) if voter else None
        highlight = next(((x, y) for number, x, y, _g in payload["points"]
                          if voter is not None and number == voter.number), None)
        chart = opinion_map_svg(
            [(x, y, g) for _n, x, y, g in payload["points"]],
            {g["id"]: group_name(g["id"]) for g in payload["groups"]},
            title=_("Map of participants by how they voted"),
            description=_("Each mark is one participant; people who voted alike are close "
                          "together. Groups are shown by letter and shape."),
            id_prefix=f"map-{kind.value}", highlight=highlight,
            highlight_label=_("You")) if payload["points"] else None
        views.append({
            "kind": kind, "snapshot": snapshot, "payload": payload, "chart": chart,
            "my_group": mine,
            "profiles": group_profiles.group_profiles(consultation, snapshot, language),
        })
    statements_by_number = {s.number: s for s in voting.published_statements(consultation)}
    return render_template("consultations/results.html", consultation=consultation,
                           views=views, statements=statements_by_number, group_name=group_name,
                           vote_count=analysis.vote_count(consultation.id))
