"""`flask results ...` commands: Participation funnel and live monitor."""

from __future__ import annotations

from app.results.cli import results_cli  # noqa: F401  (commands attach to this group)
