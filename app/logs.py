"""Structured request logs: one JSON line per request.

Only the path is logged, never the query string or form data, and private codes
in the path are redacted, because resume and access codes travel there.
"""

from __future__ import annotations

import logging
import sys
import time
import uuid

from flask import Flask, g, request
from pythonjsonlogger.json import JsonFormatter
from werkzeug.wrappers import Response

REQUEST_ID_HEADER = "X-Request-ID"
# URL parts that open someone's answers: never written to a log.
SECRET_URL_ARGS = frozenset({"code", "token"})
logger = logging.getLogger("echos.request")


def _loggable_path() -> str:
    path = request.path
    for name, value in (request.view_args or {}).items():
        if name in SECRET_URL_ARGS and value:
            path = path.replace(str(value), "[redacted]")
    return path


def configure_logging(app: Flask) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    root = logging.getLogger("echos")
    root.handlers[:] = [handler]
    root.setLevel(app.config["LOG_LEVEL"])
    root.propagate = False

    @app.before_request
    def start_timer() -> None:
        g.request_started = time.perf_counter()
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if 0 < len(incoming) <= 64 else uuid.uuid4().hex

    @app.after_request
    def log_request(response: Response) -> Response:
        started = g.get("request_started")
        duration_ms = round((time.perf_counter() - started) * 1000, 2) if started else None
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
        if request.endpoint != "static":
            logger.info(
                "request",
                extra={
                    "request_id": g.get("request_id"),
                    "method": request.method,
                    "path": _loggable_path(),
                    "endpoint": request.endpoint,
                    "status": response.status_code,
                    "duration_ms": duration_ms,
                },
            )
        return response
