"""Hub look-ups and creation, callable from views, CLI and tests alike."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.hubs.models import Hub


def list_hubs() -> list[Hub]:
    return list(db.session.scalars(select(Hub).order_by(Hub.country, Hub.name)))


def get_hub_by_slug(slug: str) -> Hub | None:
    return db.session.scalar(select(Hub).where(Hub.slug == slug))


def ensure_hub(*, slug: str, name: str, country: str, region: str | None = None) -> Hub:
    """Create the hub if it is missing; return it either way (idempotent loads)."""
    hub = get_hub_by_slug(slug)
    if hub is None:
        hub = Hub(slug=slug, name=name, country=country.upper(), region=region)
        db.session.add(hub)
        db.session.flush()
    return hub
