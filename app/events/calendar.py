"""ICS calendar files (RFC 5545) for event sessions, built with ``icalendar``.

Sessions are stored as UTC instants, but a calendar entry is written in the
session's own IANA zone (``DTSTART;TZID=Europe/Lisbon:...``) with a matching
VTIMEZONE block: calendar clients then show the wall time the organisers
announced, and a session across a daylight-saving change keeps its true length.
Pure module: no Flask, no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Alarm, Calendar, Event, Timezone, vCalAddress

PRODID = "-//ECHoS Engage//Events//EN"
# iTIP methods (RFC 5546) that make sense for a single organiser-owned session.
METHODS = frozenset({"PUBLISH", "REQUEST", "CANCEL"})
# The reminder fires this long before the session starts.
REMINDER_BEFORE = timedelta(days=1)
# Zones that icalendar writes as UTC ("...Z") and so need no VTIMEZONE.
_UTC_ZONES = frozenset({"UTC", "Etc/UTC", "Etc/Universal", "Etc/Zulu", "Universal", "Zulu"})


@dataclass(frozen=True)
class CalendarEntry:
    """One session as it should appear in an attendee's calendar."""

    uid: str  # stable, e.g. f"session-{id}@echos-engage"
    title: str
    description: str
    starts_at: datetime  # timezone-aware (UTC)
    ends_at: datetime  # timezone-aware (UTC)
    timezone: str  # IANA zone of the session, e.g. "Europe/Lisbon"
    location: str = ""
    url: str = ""
    organizer_email: str = ""
    sequence: int = 0  # bump when a session changes
    cancelled: bool = False


def session_ics(entry: CalendarEntry, *, method: str = "PUBLISH") -> bytes:
    """The ``.ics`` bytes for one session, in the session's own time zone.

    ``method`` is the iTIP method (PUBLISH for downloads and feeds, REQUEST or
    CANCEL for invitations mailed by the organiser, who is then required). A
    cancelled entry is always STATUS:CANCELLED; sent as a REQUEST it becomes a
    CANCEL, since a REQUEST cannot withdraw an invitation. Raises ValueError for
    naive datetimes, an unknown zone, an end not after the start, an unknown
    method, or REQUEST/CANCEL without an organiser.
    """
    zone = _zone(entry.timezone)
    for name, value in (("starts_at", entry.starts_at), ("ends_at", entry.ends_at)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    if entry.ends_at <= entry.starts_at:
        raise ValueError("ends_at must be after starts_at")
    method = method.upper()
    if method not in METHODS:
        raise ValueError(f"unsupported METHOD {method!r}; use one of {', '.join(sorted(METHODS))}")
    if entry.cancelled and method == "REQUEST":
        method = "CANCEL"
    if method in {"REQUEST", "CANCEL"} and not entry.organizer_email:
        raise ValueError(f"METHOD:{method} needs organizer_email (RFC 5546 requires ORGANIZER)")
    cancelled = entry.cancelled or method == "CANCEL"

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)

    event = Event()
    event.add("uid", entry.uid)
    event.add("dtstamp", datetime.now(UTC).replace(microsecond=0))
    event.add("dtstart", _local(entry.starts_at, zone))
    event.add("dtend", _local(entry.ends_at, zone))
    event.add("summary", entry.title)
    event.add("description", entry.description)
    if entry.location:
        event.add("location", entry.location)
    if entry.url:
        event.add("url", entry.url)
    if entry.organizer_email:
        event.add("organizer", vCalAddress(f"mailto:{entry.organizer_email}"))
    event.add("sequence", entry.sequence)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if not cancelled:
        reminder = Alarm()
        reminder.add("action", "DISPLAY")
        reminder.add("description", entry.title)
        reminder.add("trigger", -REMINDER_BEFORE)
        event.add_component(reminder)

    if entry.timezone not in _UTC_ZONES:
        vtimezone = _vtimezone(entry.timezone, entry.starts_at.year, entry.ends_at.year)
        calendar.add_component(Timezone.from_ical(vtimezone))
    calendar.add_component(event)
    return calendar.to_ical()


def _zone(name: str) -> ZoneInfo:
    """The IANA zone, or ValueError: a typo must not silently become UTC."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {name!r}") from error


def _local(instant: datetime, zone: ZoneInfo) -> datetime:
    """The instant as wall time in ``zone``, or in UTC when the wall time is ambiguous.

    RFC 5545 reads a repeated wall time (the hour after clocks go back) as its
    first occurrence, so an instant in the second occurrence must be written in
    UTC to keep its meaning.
    """
    local = instant.astimezone(zone)
    if local.fold and local.replace(fold=0).utcoffset() != local.utcoffset():
        return instant.astimezone(UTC)
    return local


@lru_cache(maxsize=64)
def _vtimezone(name: str, first_year: int, last_year: int) -> bytes:
    """VTIMEZONE covering the session's years, serialised.

    Cached because icalendar derives it slowly from the tz database; kept as bytes
    so no caller can mutate a shared component.
    """
    return Timezone.from_tzinfo(
        ZoneInfo(name),
        name,
        first_date=date(first_year, 1, 1),
        last_date=date(last_year + 1, 1, 1),
    ).to_ical()
