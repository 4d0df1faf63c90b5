"""The development outbox: messages that would have been e-mailed, readable in the app.

Only when no MAIL_SERVER is configured; with a real server the messages are gone.
"""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, render_template

from app.auth.permissions import roles_required
from app.auth.roles import Role
from app.mailer import outbox_dir

bp = Blueprint("outbox", __name__, template_folder="templates",
               url_prefix="/<lang:lang_code>/admin/outbox")
SHOWN = 200


def _messages() -> list[Path]:
    folder = outbox_dir()
    if current_app.config.get("MAIL_SERVER") or not folder.is_dir():
        return []
    return sorted(folder.glob("*.eml"), reverse=True)[:SHOWN]


def _read(name: str) -> EmailMessage:
    path = next((p for p in _messages() if p.name == name), None)
    if path is None:
        abort(404)
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


@bp.route("/")
@roles_required(Role.ORGANISER)
def index():
    """The newest messages first."""
    rows = []
    for path in _messages():
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        rows.append((path.name, message["To"], message["Subject"], message["Date"]))
    return render_template("admin/outbox.html", rows=rows,
                           configured=bool(current_app.config.get("MAIL_SERVER")))


@bp.route("/<name>")
@roles_required(Role.ORGANISER)
def show(name: str):
    message = _read(name)
    body = message.get_body(preferencelist=("plain",))
    attachments = [part.get_filename() for part in message.iter_attachments()]
    return render_template("admin/outbox_message.html", name=name, message=message,
                           body=body.get_content() if body else "", attachments=attachments)


@bp.route("/<name>/<part_name>")
@roles_required(Role.ORGANISER)
def attachment(name: str, part_name: str):
    message = _read(name)
    part = next((p for p in message.iter_attachments() if p.get_filename() == part_name), None)
    if part is None:
        abort(404)
    return Response(part.get_content() if part.get_content_maintype() != "text"
                    else part.get_content().encode(), mimetype=part.get_content_type(),
                    headers={"Content-Disposition": f'attachment; filename="{part_name}"'})
