"""Respondent pages: start, one page at a time, review, submit, resume."""

from __future__ import annotations

from functools import wraps

from email_validator import EmailNotValidError, validate_email
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from app.auth.permissions import public
from app.auth.roles import Role
from app.consent import gate as consent_gate
from app.errors import DomainError
from app.extensions import db, limiter
from app.i18n import current_language
from app.mailer import send_mail
from app.surveys import engine, services
from app.surveys.codes import new_code, normalise_code
from app.surveys.definition import Definition
from app.surveys.models import Channel, InvitationStatus, Response, ResponseStatus, Survey
from app.surveys.question_types import input_id, question_type
from app.surveys.rendering import PageContext

bp = Blueprint(
    "surveys", __name__, template_folder="templates", url_prefix="/<lang:lang_code>/s/<slug>"
)
SESSION_KEY = "survey_codes"
# Where to send a respondent when the survey is part of something else (an event's
# registration): {survey slug: local path}, set by that other page.
RETURN_KEY = "survey_return"
INVITATION_KEY = "survey_invitations"


def _codes() -> dict[str, str]:
    return dict(session.get(SESSION_KEY) or {})


def _remember(slug: str, code: str) -> None:
    codes = _codes()
    codes[slug] = code
    session[SESSION_KEY] = codes


def _load(slug: str) -> tuple[Survey, Definition]:
    survey = services.get_survey(slug)
    if survey is None or not survey.versions:
        abort(404)
    return survey, services.definition_of(services.latest_version(survey))


def _current_response(slug: str) -> tuple[Response | None, str | None]:
    code = _codes().get(slug)
    response = services.find_response(code)
    return response, code


def _require_response(slug: str) -> tuple[Survey, Definition, Response, str]:
    survey = services.get_survey(slug)
    if survey is None:
        abort(404)
    response, code = _current_response(slug)
    if response is None or response.version.survey_id != survey.id:
        return None  # type: ignore[return-value]
    return survey, services.definition_of(response.version), response, code


def with_response(view):
    """Give the view this browser's response to the survey, or send it to the start."""

    @wraps(view)
    def wrapped(slug: str, **kwargs):
        found = _require_response(slug)
        if found is None:
            return redirect(url_for("surveys.start", slug=slug))
        survey, definition, response, code = found
        if definition.consent_document and response.channel != Channel.PREVIEW:
            refused = consent_gate.refused_purposes(response, definition)
            if refused is None:  # no valid consent yet, or it must be renewed
                return redirect(url_for("consent.capture", slug=slug))
            # Questions under a refused purpose are neither asked nor stored.
            definition = definition.without_purposes(refused)
        return view(slug, survey, definition, response, code, **kwargs)

    return wrapped


def _may_preview() -> bool:
    return current_user.is_authenticated and current_user.has_role(Role.ORGANISER)


def _language(definition: Definition) -> str:
    return definition.language_for(current_language().code)


@bp.route("/")
@public
def start(slug: str):
    """What the survey is about, and a button to start or continue it."""
    survey, definition = _load(slug)
    response, code = _current_response(slug)
    if code is None or (response is not None and response.status != ResponseStatus.IN_PROGRESS):
        # Made now, so a double click on Start still finds one response.
        code = new_code()
        _remember(slug, code)
        response = None
    preview = _may_preview()
    closed = None if preview else services.accepting_reason(survey, definition)
    needs_invitation = definition.settings.mode == "invited" and response is None and not preview
    return render_template(
        "surveys/start.html",
        survey=survey,
        definition=definition,
        response=response,
        closed=closed,
        preview=preview,
        needs_invitation=needs_invitation,
        language=_language(definition),
        page_count=len(engine.pages_that_apply(definition, {})),
    )


@bp.route("/start", methods=["POST"])
@public
def begin(slug: str):
    """Create the response (once per code) and go to the first page."""
    survey, definition = _load(slug)
    preview = request.form.get("preview") == "1" and _may_preview()
    closed = None if preview else services.accepting_reason(survey, definition)
    if closed is not None:
        return render_template(
            "surveys/closed.html",
            definition=definition,
            reason=closed,
            language=_language(definition),
        ), 403
    invitation = None
    if definition.settings.mode == "invited" and not preview:
        token = request.form.get("invitation", "")
        invitation = services.find_invitation(survey, token) if token.strip() else None
        if invitation is None or invitation.status in (
            InvitationStatus.COMPLETED,
            InvitationStatus.REVOKED,
        ):
            return render_template(
                "surveys/start.html",
                survey=survey,
                definition=definition,
                response=None,
                closed=None,
                needs_invitation=True,
                language=_language(definition),
                invitation_error=_("This invitation code is not valid or has been used."),
                invitation_value=token,
                page_count=len(engine.pages_that_apply(definition, {})),
            ), 400
    if definition.consent_document and not preview:
        # The response is created only once consent is given (nothing stored before).
        if invitation is not None:
            session[INVITATION_KEY] = {**session.get(INVITATION_KEY, {}), slug: token}
        return redirect(url_for("consent.capture", slug=slug))
    code = _codes().get(slug) or new_code()
    response = services.start_response(
        version=services.latest_version(survey),
        code=code,
        language=current_language().code,
        channel=Channel.PREVIEW if preview else Channel.WEB,
        invitation=invitation,
    )
    db.session.commit()
    _remember(slug, code)
    return _go_to(slug, definition, response)


REVIEW = "_review"


def _go_to(slug: str, definition: Definition, response: Response):
    """To the page where this respondent stopped (or the next that still applies)."""
    answers = services.load_answers(response, definition)
    where = response.current_page
    applying = [p.id for p in engine.pages_that_apply(definition, answers)]
    if where == REVIEW:
        target = None
    elif where in applying:
        target = where
    elif where:
        following = engine.next_page(definition, answers, where)
        target = following.id if following else None
    else:
        target = applying[0] if applying else None
    if target is None:
        return redirect(url_for("surveys.review", slug=slug))
    return redirect(url_for("surveys.page", slug=slug, page_id=target))


@bp.route("/p/<page_id>", methods=["GET", "POST"])
@public
@with_response
def page(slug: str, survey, definition: Definition, response: Response, code: str, page_id: str):
    """One page of questions; answers are saved each time a page is sent."""
    if response.status != ResponseStatus.IN_PROGRESS:
        return redirect(url_for("surveys.thanks", slug=slug))
    try:
        current = definition.page(page_id)
    except KeyError:
        abort(404)
    answers = services.load_answers(response, definition)
    language = _language(definition)
    if current not in engine.pages_that_apply(definition, answers):
        return _go_to(slug, definition, response)

    if request.method == "POST":
        action = request.form.get("action", "next")
        reading = engine.read_page(definition, current, request.form, answers)
        if action in ("back", "later"):
            # Keep what was valid; nothing typed is thrown away by going back.
            answers = services.save_page(response, definition, current.id, reading.values, answers)
            services.note_language(response, current_language().code)
            previous = engine.previous_page(definition, answers, current.id)
            if action == "later" or previous is None:
                response.current_page = current.id
            else:
                response.current_page = previous.id
            db.session.commit()
            if action == "later":
                return redirect(url_for("surveys.saved", slug=slug))
            return redirect(url_for("surveys.page", slug=slug, page_id=response.current_page))
        if reading.ok:
            answers = services.save_page(response, definition, current.id, reading.values, answers)
            services.note_language(response, current_language().code)
            quota = services.full_quota(survey, definition, answers)
            if quota is not None:
                response.status = ResponseStatus.SCREENED_OUT
                db.session.commit()
                message = quota.message.get(language) if quota.message else None
                reason = message or _(
                    "We already have enough answers from people like you. Thank you for your time."
                )
                return render_template(
                    "surveys/closed.html", definition=definition, language=language, reason=reason
                )
            scope = engine.scope_of(definition, answers)
            extra = engine.follow_ups(current, scope, set(request.form.getlist("_shown")))
            if extra:
                db.session.commit()
                return _render_page(
                    survey,
                    definition,
                    response,
                    code,
                    current,
                    answers,
                    request.form,
                    [],
                    200,
                    follow_up=True,
                )
            following = engine.next_page(definition, answers, current.id)
            response.current_page = following.id if following else REVIEW
            db.session.commit()
            return _go_to(slug, definition, response)
        return _render_page(
            survey, definition, response, code, current, answers, request.form, reading.errors, 400
        )
    return _render_page(
        survey,
        definition,
        response,
        code,
        current,
        answers,
        _stored_form_values(definition, answers),
        [],
        200,
    )


def _render_page(
    survey,
    definition: Definition,
    response: Response,
    code: str,
    current,
    answers: engine.Answers,
    form_values: MultiDict,
    errors: list,
    status: int,
    *,
    follow_up: bool = False,
):
    language = _language(definition)
    scope = engine.scope_of(definition, answers)
    if errors:
        # Judge relevance on what was just typed, so the same questions stay on screen.
        reading = engine.read_page(definition, current, form_values, answers)
        scope = engine.scope_of(definition, {**answers, **reading.values})
    return render_template(
        "surveys/page.html",
        survey=survey,
        definition=definition,
        page=current,
        language=language,
        errors=errors,
        follow_up=follow_up,
        ctx=PageContext.build(language, form_values, errors, scope),
        progress=engine.progress(definition, answers, current.id),
        has_previous=engine.previous_page(definition, answers, current.id) is not None,
        code=code,
    ), status


def _stored_form_values(definition: Definition, answers: engine.Answers) -> MultiDict:
    values = MultiDict()
    for question in definition.questions():
        if question.id in answers:
            stored = question_type(question.type).form_values(question, answers[question.id])
            for key, value in stored.items(multi=True):
                values.add(key, value)
    return values


@bp.route("/continue")
@public
@with_response
def carry_on(slug: str, survey, definition: Definition, response: Response, code: str):
    """Straight to where this respondent stopped (used after consenting)."""
    return _go_to(slug, definition, response)


@bp.route("/review", methods=["GET"])
@public
@with_response
def review(slug: str, survey, definition: Definition, response: Response, code: str):
    """Every answer on one page, with links to change them, before sending."""
    if response.status == ResponseStatus.COMPLETE:
        return redirect(url_for("surveys.thanks", slug=slug))
    answers = engine.prune(definition, services.load_answers(response, definition))
    return render_template(
        "surveys/review.html",
        survey=survey,
        definition=definition,
        response=response,
        language=_language(definition),
        answers=answers,
        pages=engine.pages_that_apply(definition, answers),
        missing=engine.unanswered_required(definition, answers),
        code=code,
    )


@bp.route("/submit", methods=["POST"])
@public
@with_response
def submit(slug: str, _survey, definition: Definition, response: Response, _code: str):
    """Send the answers; sending twice (double click, reload) keeps one response."""
    try:
        services.submit(response, definition)
    except DomainError as error:
        db.session.rollback()
        if error.field:
            return redirect(url_for("surveys.page", slug=slug, page_id=error.field))
        return redirect(url_for("surveys.review", slug=slug))
    db.session.commit()
    return redirect(url_for("surveys.thanks", slug=slug))


@bp.route("/thanks")
@public
@with_response
def thanks(slug: str, survey, definition: Definition, response: Response, _code: str):
    """Confirmation, with scores when the survey shows a result page."""
    if response.status != ResponseStatus.COMPLETE:
        return redirect(url_for("surveys.review", slug=slug))
    answers = services.load_answers(response, definition)
    scores = [
        (q, answers.get(q.id))
        for q in definition.questions()
        if q.type == "calculate" and q.option("show_on_result_page")
    ]
    return render_template(
        "surveys/thanks.html",
        survey=survey,
        definition=definition,
        language=_language(definition),
        scores=scores,
        show_scores=definition.settings.result_page,
        return_to=(session.get(RETURN_KEY) or {}).get(slug),
    )


@bp.route("/saved")
@public
@with_response
def saved(slug: str, survey, definition: Definition, _response: Response, code: str):
    """The resume code and link, for someone stopping now."""
    return render_template(
        "surveys/saved.html",
        survey=survey,
        definition=definition,
        language=_language(definition),
        code=code,
    )


def _email_limit() -> str:
    return current_app.config["RESUME_EMAIL_RATE_LIMIT"]


@bp.route("/email-link", methods=["POST"])
@limiter.limit(_email_limit)
@public
@with_response
def email_link(slug: str, survey, definition: Definition, _response: Response, code: str):
    """Send the resume link to an address the respondent gives; the address is not kept."""
    language = _language(definition)
    typed = request.form.get("email", "").strip()
    try:
        address = validate_email(typed, check_deliverability=False).normalized
    except EmailNotValidError:
        error = (
            _("Enter your e-mail address.")
            if not typed
            else _("Enter an e-mail address in the form name@example.org.")
        )
        return render_template(
            "surveys/saved.html",
            survey=survey,
            definition=definition,
            language=language,
            code=code,
            email_error=error,
            email_value=typed,
        ), 400
    title = definition.title.get(language)
    link = url_for("surveys.resume_link", slug=slug, code=code, _external=True)
    send_mail(
        to=address,
        subject=_("Your link to continue: %(title)s", title=title),
        body=render_template("surveys/email_resume.txt", title=title, link=link, code=code),
    )
    flash(
        _("We sent the link to %(address)s. We do not keep this address.", address=address),
        "success",
    )
    return redirect(url_for("surveys.saved", slug=slug))


@bp.route("/resume", methods=["GET", "POST"])
@public
def resume(slug: str):
    """Continue from a resume code typed in, on any device."""
    survey, definition = _load(slug)
    error = None
    typed = ""
    if request.method == "POST":
        typed = request.form.get("code", "")
        response = services.find_response(typed) if typed.strip() else None
        if response is not None and response.version.survey_id == survey.id:
            _remember(slug, normalise_code(typed))
            return _continue(slug, definition, response)
        error = (
            _("Enter your resume code.")
            if not typed.strip()
            else _("We could not find answers for this code. Check it and try again.")
        )
    return render_template(
        "surveys/resume.html",
        survey=survey,
        definition=definition,
        language=_language(definition),
        error=error,
        typed=typed,
        input_id=input_id("code"),
    ), 400 if error else 200


@bp.route("/resume/<code>")
@public
def resume_link(slug: str, code: str):
    """The resume link: opening it in another browser continues where the person stopped."""
    survey, definition = _load(slug)
    response = services.find_response(code)
    if response is None or response.version.survey_id != survey.id:
        abort(404)
    _remember(slug, normalise_code(code))
    return _continue(slug, definition, response)


def _continue(slug: str, definition: Definition, response: Response):
    if response.status == ResponseStatus.COMPLETE:
        return redirect(url_for("surveys.thanks", slug=slug))
    services.note_language(response, current_language().code)
    db.session.commit()
    return _go_to(slug, definition, response)


@bp.context_processor
def survey_helpers() -> dict:
    from app.surveys.labels import display_answer

    return {"display_answer": display_answer}
