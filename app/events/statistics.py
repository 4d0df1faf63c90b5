"""Numbers for organisers: per-country overview and registered/selected/attended by group.

Group counts go through small-cell suppression (the event's threshold), since a
handful of people in a session are easy to recognise.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select

from app.events import panels
from app.events.models import ChoiceStatus, Event, Registration, SessionChoice
from app.extensions import db
from app.results.disclosure import suppress_counts

SELECTED = (ChoiceStatus.SELECTED, ChoiceStatus.INVITED, ChoiceStatus.CONFIRMED,
            ChoiceStatus.DECLINED)


@dataclass(frozen=True)
class CountryRow:
    country: str
    sessions: int
    capacity: int
    registered: int
    selected: int
    confirmed: int
    attended: int
    languages: list[str]
    interpretation: list[str]


def _choices(event: Event) -> list[SessionChoice]:
    ids = [s.id for s in event.sessions]
    return list(db.session.scalars(select(SessionChoice).where(
        SessionChoice.session_id.in_(ids)))) if ids else []


def by_country(event: Event) -> list[CountryRow]:
    """One event across countries: sessions, places and people per country."""
    choices = _choices(event)
    rows = []
    for country in sorted({s.country for s in event.sessions}):
        sessions = [s for s in event.sessions if s.country == country]
        ids = {s.id for s in sessions}
        mine = [c for c in choices if c.session_id in ids]
        rows.append(CountryRow(
            country=country, sessions=len(sessions), capacity=sum(s.capacity for s in sessions),
            registered=sum(c.status != ChoiceStatus.CANCELLED for c in mine),
            selected=sum(c.status in SELECTED for c in mine),
            confirmed=sum(c.status == ChoiceStatus.CONFIRMED for c in mine),
            attended=sum(c.checked_in_at is not None for c in mine),
            languages=sorted({lang for s in sessions for lang in s.languages}),
            interpretation=sorted({lang for s in sessions for lang in s.interpretation})))
    return rows


@dataclass(frozen=True)
class GroupRow:
    category: str
    value: str
    registered: int | None  # None: suppressed
    selected: int | None
    attended: int | None


def by_group(event: Event) -> list[GroupRow]:
    """Registered, selected and attended people per category value, small cells hidden.

    Each person counts once per event, with the furthest stage they reached in any
    session; people who withdrew consent for analysis are left out.
    """
    stage: dict[int, int] = {}
    for choice in _choices(event):
        if choice.status == ChoiceStatus.CANCELLED and choice.checked_in_at is None:
            continue
        reached = 3 if choice.checked_in_at else 2 if choice.status in SELECTED else 1
        stage[choice.registration_id] = max(stage.get(choice.registration_id, 0), reached)
    keep = panels.analysable(list(stage))
    registrations = db.session.scalars(select(Registration).where(
        Registration.id.in_(list(stage)))).all()
    features = panels.answers_of(event, registrations)
    rows: list[GroupRow] = []
    for category in panels.CATEGORY_QUESTIONS:
        counts = [Counter(), Counter(), Counter()]
        for registration_id, reached in stage.items():
            if registration_id not in keep:
                continue
            value = features.get(registration_id, {}).get(category, panels.UNKNOWN)
            for level in range(reached):
                counts[level][value] += 1
        values = sorted(set(counts[0]))
        if values == [panels.UNKNOWN]:
            continue
        columns = [suppress_counts([c[v] for v in values], event.min_cell_size)[0]
                   for c in counts]
        rows.extend(GroupRow(category, value, columns[0][i], columns[1][i], columns[2][i])
                    for i, value in enumerate(values))
    return rows
