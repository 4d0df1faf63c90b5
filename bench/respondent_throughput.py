"""Respondent path throughput under gunicorn, against a bare Flask insert endpoint.

Each simulated respondent starts the event evaluation survey and answers it page
by page (GET the page, POST its answers, follow the redirect): one "cycle" is one
page shown and saved. The baseline, served by the same gunicorn settings, does
GET a form + POST one INSERT + redirect. Answers are generated (illustrative).

Uses PostgreSQL when BENCH_DATABASE_URL or TEST_DATABASE_URL is set (a throw-away
schema), else SQLite with one worker.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SLUG = "event-evaluation"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Client:
    """A keep-alive connection with one cookie jar: one respondent's browser."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: list[tuple[str, str]] | None = None):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response.status, response.getheader("Location"), data


TOKEN = re.compile(rb'name="csrf_token" value="([^"]+)"')


def page_answers() -> dict[str, list[tuple[str, str]]]:
    """Form fields that answer every question of each page (computed once, so the
    client spends its time waiting for the server, not parsing HTML)."""
    from app.surveys.loader import load_definitions
    from app.surveys.services import SURVEYS_DIR

    definition = load_definitions([SURVEYS_DIR / f"{SLUG}.yaml"]).definitions[SLUG]
    answers: dict[str, list[tuple[str, str]]] = {}
    for page in definition.pages:
        fields: list[tuple[str, str]] = [("_shown", q.id) for q in page.questions]
        for question in page.questions:
            substantive = [c.value for c in question.choices if not c.special]
            if question.type == "rating":
                fields.append((question.id, "7"))
            elif question.type == "matrix":
                fields += [(f"{question.id}.{row.id}", substantive[-1]) for row in question.rows]
            elif substantive:
                fields.append((question.id, substantive[-1]))
            elif question.type in ("text", "long_text"):
                fields.append((question.id, "Illustrative answer text."))
        answers[page.id] = [*fields, ("action", "next")]
    return answers


ANSWERS: dict[str, list[tuple[str, str]]] = {}


def respondent_cycles(port: int, deadline: float, counts: list[int]) -> None:
    done = 0
    while time.perf_counter() < deadline:
        client = Client(port)
        status, _, html = client.request("GET", f"/en/s/{SLUG}/")
        token = TOKEN.search(html).group(1).decode()
        status, location, _ = client.request("POST", f"/en/s/{SLUG}/start",
                                             [("csrf_token", token)])
        while location and "/p/" in location and time.perf_counter() < deadline:
            status, _, html = client.request("GET", location)
            token = TOKEN.search(html).group(1).decode()
            fields = [("csrf_token", token), *ANSWERS[location.rsplit("/", 1)[-1]]]
            status, location, _ = client.request("POST", location, fields)
            assert status == 302, status
            done += 1
        if location and location.endswith("/review"):
            status, _, html = client.request("GET", location)
            token = TOKEN.search(html).group(1).decode()
            client.request("POST", f"/en/s/{SLUG}/submit", [("csrf_token", token)])
    counts.append(done)


def baseline_cycles(port: int, deadline: float, counts: list[int]) -> None:
    client = Client(port)
    done = 0
    while time.perf_counter() < deadline:
        client.request("GET", "/")
        status, _, _ = client.request("POST", "/answer", [("value", "x")])
        assert status == 302
        done += 1
    counts.append(done)


def serve(app_spec: str, env: dict, workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind",
         f"127.0.0.1:{port}", "--log-level", "warning", app_spec],
        cwd=ROOT, env=env)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{app_spec} did not start")


def measure(worker, port: int, clients: int, seconds: float) -> float:
    counts: list[int] = []
    deadline = time.perf_counter() + seconds
    threads = [threading.Thread(target=worker, args=(port, deadline, counts))
               for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - started)


def prepare(database_url: str) -> None:
    from flask_migrate import upgrade

    from app import MIGRATIONS_DIR, create_app
    from app.extensions import db
    from app.surveys import services
    from app.surveys.models import SurveyStatus

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        services.load_survey_files([services.SURVEYS_DIR / f"{SLUG}.yaml"])
        services.set_status(services.get_survey(SLUG), SurveyStatus.OPEN)
        db.session.commit()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    postgres = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    with tempfile.TemporaryDirectory() as folder:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        if postgres:
            admin = create_engine(postgres)
            with admin.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            url = f"{postgres}{'&' if '?' in postgres else '?'}options=-csearch_path%3D{schema}"
            workers = args.workers
        else:
            url = f"sqlite:///{Path(folder) / 'bench.db'}"
            workers = 1  # SQLite allows one writer at a time
        try:
            import logging

            logging.disable(logging.INFO)
            prepare(url)
            ANSWERS.update(page_answers())
            env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench",
                   "RATELIMIT_ENABLED": "0", "LOG_LEVEL": "WARNING"}
            ours, port = serve("wsgi:app", env, workers)
            base, base_port = serve("bench._baseline_app:app", env, workers)
            try:
                measure(respondent_cycles, port, 1, 1)  # warm-up
                measure(baseline_cycles, base_port, 1, 1)
                subject = measure(respondent_cycles, port, args.clients, args.seconds)
                baseline = measure(baseline_cycles, base_port, args.clients, args.seconds)
            finally:
                for process in (ours, base):
                    process.terminate()
                    process.wait(10)
        finally:
            if postgres:
                with admin.begin() as connection:
                    connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    backend = "PostgreSQL" if postgres else "SQLite"
    print(f"respondent page cycles (GET page + POST answers), {backend}, {workers} workers, "
          f"{args.clients} clients: {subject:.0f}/s   baseline (bare Flask, 1 insert): "
          f"{baseline:.0f}/s   ratio {subject / baseline:.3f}")


if __name__ == "__main__":
    main()
