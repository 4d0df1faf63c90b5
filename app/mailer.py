"""Sending e-mail: SMTP when MAIL_SERVER is set, otherwise files in instance/outbox/.

The outbox lets a development machine (and the tests) read every message that
would have gone out, with Python's own e-mail parser.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path

from flask import current_app
from flask_mail import Message

from app.extensions import mail
from app.timeutil import utcnow


def outbox_dir() -> Path:
    return Path(current_app.instance_path) / "outbox"


def send_mail(*, to: str, subject: str, body: str,
              attachments: Sequence[tuple[str, str, bytes]] = ()) -> None:
    """Send one plain-text message; attachments are (file name, content type, bytes)."""
    message = Message(subject=subject, recipients=[to], body=body)
    for filename, content_type, data in attachments:
        message.attach(filename, content_type, data)
    if current_app.config.get("MAIL_SERVER"):
        mail.send(message)
        return
    folder = outbox_dir()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{utcnow():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"  # sorts by time
    (folder / name).write_bytes(message.as_bytes())
