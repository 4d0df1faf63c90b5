"""Requests per second for our pages against a bare Flask endpoint, in one run.

Uses the WSGI test client (no sockets) so the figure is what the app itself
costs per request. The baseline is the same loop against a minimal Flask app.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

from flask import Flask
from flask_migrate import upgrade

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import MIGRATIONS_DIR, create_app


def bare_app() -> Flask:
    app = Flask("baseline")

    @app.route("/")
    def index():
        return "ok"

    return app


def rate(client, path: str, seconds: float) -> float:
    """Requests per second for GET path over roughly `seconds`."""
    done = 0
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    while time.perf_counter() < deadline:
        response = client.get(path)
        assert response.status_code == 200, response.status_code
        done += 1
    return done / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
        logging.getLogger("echos").setLevel(logging.WARNING)  # keep stderr readable
        with app.app_context():
            upgrade(directory=str(MIGRATIONS_DIR))
        subject = app.test_client()
        baseline = bare_app().test_client()

        for path in ("/en/", "/ar/login"):
            ours, theirs = [], []
            for _ in range(args.rounds):
                theirs.append(rate(baseline, "/", args.seconds))
                ours.append(rate(subject, path, args.seconds))
            ours_median, theirs_median = statistics.median(ours), statistics.median(theirs)
            print(
                f"GET {path:<10} {ours_median:8.0f} req/s   "
                f"baseline (bare Flask) {theirs_median:8.0f} req/s   "
                f"ratio {ours_median / theirs_median:.3f}"
            )


if __name__ == "__main__":
    main()
