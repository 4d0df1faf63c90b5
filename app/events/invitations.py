"""Invitations, reminders, answers (RSVP), tickets for check-in, evaluation requests.

Each message goes out in the registrant's language, with the session's calendar file
in the session's time zone and the ticket's QR code. The ticket code is both the
answer link and what staff scan at the door; only its hash is stored.

Building messages needs a request context (absolute links, templates, the language),
so the organiser pages call these functions.
"""

from __future__ import annotations

import segno
from flask import render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from app.audit.services import record as audit
from app.errors import DomainError
from app.events.calendar import CalendarEntry, session_ics
from app.events.models import ChoiceStatus, Event, EventSession, Registration, SessionChoice
from app.events.registration import contact_of
from app.extensions import db
from app.mailer import send_mail
from app.surveys.codes import code_hash, new_code
from app.timeutil import utcnow

ORGANISER_EMAIL = "events@echos-engage.eu"


def issue_ticket(choice: SessionChoice) -> str:
    """A new ticket code for this place; any older one stops working."""
    token = new_code()
    choice.check_in_hash = code_hash(token)
    return token


def choice_by_ticket(token: str) -> SessionChoice | None:
    if not token:
        return None
    return db.session.scalar(select(SessionChoice).where(
        SessionChoice.check_in_hash == code_hash(token)))


def qr_svg(data: str) -> str:
    """An SVG QR code (no styles, so the page's security policy allows it)."""
    return segno.make(data, error="m").svg_inline(scale=5, title="QR")


def calendar_file(session: EventSession, language: str, method: str = "REQUEST") -> bytes:
    event = session.event
    text = event.text_for(language)
    place = session.venue or session.online_url
    return session_ics(CalendarEntry(
        uid=f"session-{session.id}@echos-engage", title=text.title,
        description=text.description, starts_at=session.starts_at, ends_at=session.ends_at,
        timezone=session.timezone, location=place, url=session.online_url,
        organizer_email=ORGANISER_EMAIL, sequence=session.sequence), method=method)


def _send(choice: SessionChoice, template: str, subject, *, ticket: str | None) -> bool:
    """``subject`` turns the title into the subject line, in the current language."""
    registration = choice.registration
    address = contact_of(registration.participant_id).get("email")
    if not address:
        return False
    session, event = choice.session, registration.event
    with force_locale(registration.language):
        text = event.text_for(registration.language)
        links = {}
        attachments = [("session.ics", "text/calendar; method=REQUEST",
                        calendar_file(session, registration.language))]
        if ticket:
            links["ticket"] = url_for("events.ticket", lang_code=registration.language,
                                      slug=event.slug, token=ticket, _external=True)
            attachments.append(("check-in.png", "image/png", _qr_png(
                url_for("manage_events.scan", lang_code=registration.language, token=ticket,
                        _external=True))))
        body = render_template(template, event=event, text=text, session=session,
                               choice=choice, links=links, language=registration.language)
        send_mail(to=address, subject=subject(text.title), body=body, attachments=attachments)
    return True


def _qr_png(data: str) -> bytes:
    import io

    out = io.BytesIO()
    segno.make(data, error="m").save(out, kind="png", scale=6)
    return out.getvalue()


def send_invitations(session: EventSession) -> tuple[int, int]:
    """Invite everyone selected and not yet invited; returns (sent, without e-mail)."""
    sent = missing = 0
    for choice in db.session.scalars(select(SessionChoice).where(
            SessionChoice.session_id == session.id,
            SessionChoice.status == ChoiceStatus.SELECTED)):
        ticket = issue_ticket(choice)
        if _send(choice, "events/mail/invitation.txt",
                 lambda title: _("You are invited: %(title)s", title=title), ticket=ticket):
            sent += 1
        else:
            missing += 1
        choice.status, choice.invited_at = ChoiceStatus.INVITED, utcnow()
    audit(action="event.invitations_sent", actor="organiser", subject=f"session:{session.id}",
          details={"sent": sent, "without_email": missing})
    return sent, missing


def send_reminders(session: EventSession) -> int:
    """Remind the invited to answer and the confirmed of the date (new ticket each)."""
    sent = 0
    for choice in db.session.scalars(select(SessionChoice).where(
            SessionChoice.session_id == session.id,
            SessionChoice.status.in_((ChoiceStatus.INVITED, ChoiceStatus.CONFIRMED)))):
        sent += _send(choice, "events/mail/reminder.txt",
                      lambda title: _("Reminder: %(title)s", title=title),
                      ticket=issue_ticket(choice))
    return sent


def answer(choice: SessionChoice, coming: bool) -> None:
    """Yes or no to an invitation; the latest answer counts until the session starts."""
    if choice.status not in (ChoiceStatus.INVITED, ChoiceStatus.CONFIRMED,
                             ChoiceStatus.DECLINED):
        raise DomainError(_("This invitation can no longer be answered."))
    if choice.session.starts_at <= utcnow():
        raise DomainError(_("This session has already started."))
    choice.status = ChoiceStatus.CONFIRMED if coming else ChoiceStatus.DECLINED
    choice.answered_at = utcnow()


def send_confirmation(registration: Registration, code: str) -> bool:
    """The registration receipt with the private link, in the person's language."""
    address = contact_of(registration.participant_id).get("email")
    if not address:
        return False
    event: Event = registration.event
    with force_locale(registration.language):
        text = event.text_for(registration.language)
        link = url_for("events.private", lang_code=registration.language, slug=event.slug,
                       code=code, _external=True)
        body = render_template("events/mail/confirmation.txt", event=event, text=text,
                               registration=registration, link=link,
                               language=registration.language)
        send_mail(to=address, subject=_("You are registered: %(title)s", title=text.title),
                  body=body)
    return True


def send_evaluations(session: EventSession) -> int:
    """Ask everyone who attended for their evaluation, once."""
    sent = 0
    for choice in db.session.scalars(select(SessionChoice).where(
            SessionChoice.session_id == session.id, SessionChoice.checked_in_at.is_not(None),
            SessionChoice.evaluation_sent_at.is_(None))):
        registration = choice.registration
        address = contact_of(registration.participant_id).get("email")
        if not address:
            continue
        with force_locale(registration.language):
            text = registration.event.text_for(registration.language)
            link = url_for("surveys.start", lang_code=registration.language,
                           slug=registration.event.evaluation_survey, _external=True)
            body = render_template("events/mail/evaluation.txt", text=text, link=link,
                                   session=session, language=registration.language)
            send_mail(to=address, subject=_("How was it? %(title)s", title=text.title),
                      body=body)
        choice.evaluation_sent_at = utcnow()
        sent += 1
    return sent
