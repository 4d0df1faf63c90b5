"""ICS export: sessions written in their own zone survive a round trip and DST changes.

Every check parses the bytes back with ``icalendar`` rather than matching strings,
except where the wire form itself is the point (TZID parameters, escaping).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from app.events.calendar import PRODID, CalendarEntry, session_ics


def entry(
    starts_at: datetime,
    ends_at: datetime,
    timezone: str = "Europe/Lisbon",
    **extra,
) -> CalendarEntry:
    return CalendarEntry(
        uid="session-7@echos-engage",
        title="Citizens' assembly",
        description="Day one",
        starts_at=starts_at,
        ends_at=ends_at,
        timezone=timezone,
        **extra,
    )


def local(zone: str, *args: int, fold: int = 0) -> datetime:
    """A wall time in ``zone`` as the UTC instant a session would be stored with."""
    return datetime(*args, tzinfo=ZoneInfo(zone), fold=fold).astimezone(UTC)


def parse(data: bytes) -> tuple[Calendar, object]:
    calendar = Calendar.from_ical(data)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return calendar, events[0]


def start_end(data: bytes) -> tuple[datetime, datetime]:
    _, event = parse(data)
    return event.decoded("dtstart"), event.decoded("dtend")


def zone_key(moment: datetime) -> str:
    return getattr(moment.tzinfo, "key", None) or str(moment.tzinfo)


def test_calendar_headers_and_event_properties() -> None:
    data = session_ics(
        entry(
            local("Europe/Lisbon", 2026, 5, 4, 18),
            local("Europe/Lisbon", 2026, 5, 4, 20),
            location="Casa da Música",
            url="https://engage.example/events/7",
            organizer_email="panel@engage.example",
            sequence=3,
        )
    )
    calendar, event = parse(data)
    assert str(calendar["PRODID"]) == PRODID
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(event["UID"]) == "session-7@echos-engage"
    assert str(event["SUMMARY"]) == "Citizens' assembly"
    assert str(event["DESCRIPTION"]) == "Day one"
    assert str(event["LOCATION"]) == "Casa da Música"
    assert str(event["URL"]) == "https://engage.example/events/7"
    assert str(event["ORGANIZER"]) == "mailto:panel@engage.example"
    assert event.decoded("sequence") == 3
    assert str(event["STATUS"]) == "CONFIRMED"
    stamp = event.decoded("dtstamp")
    assert stamp.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - stamp) < timedelta(minutes=5)
    alarms = event.walk("VALARM")
    assert len(alarms) == 1
    assert str(alarms[0]["ACTION"]) == "DISPLAY"
    assert alarms[0].decoded("trigger") == -timedelta(days=1)
    assert str(alarms[0]["DESCRIPTION"])


def test_start_is_wall_time_in_the_session_zone() -> None:
    starts = local("Europe/Lisbon", 2026, 5, 4, 18, 30)
    ends = local("Europe/Lisbon", 2026, 5, 4, 20)
    data = session_ics(entry(starts, ends))
    assert b"DTSTART;TZID=Europe/Lisbon:20260504T183000" in data
    assert b"DTEND;TZID=Europe/Lisbon:20260504T200000" in data
    start, end = start_end(data)
    assert zone_key(start) == "Europe/Lisbon"
    assert zone_key(end) == "Europe/Lisbon"
    assert (start.hour, start.minute) == (18, 30)
    assert start.utcoffset() == timedelta(hours=1)  # summer time
    assert start == starts
    assert start.astimezone(UTC) == datetime(2026, 5, 4, 17, 30, tzinfo=UTC)
    assert end.astimezone(UTC) == ends


def test_non_utc_input_is_rewritten_in_the_session_zone() -> None:
    starts = datetime(2026, 3, 1, 9, tzinfo=ZoneInfo("America/New_York"))
    data = session_ics(entry(starts, starts + timedelta(hours=2), "Asia/Tokyo"))
    start, _ = start_end(data)
    assert zone_key(start) == "Asia/Tokyo"
    assert (start.day, start.hour) == (1, 23)
    assert start == starts


def test_same_local_hour_across_the_dst_change_is_25_hours_apart() -> None:
    saturday = session_ics(
        entry(local("Europe/Lisbon", 2026, 10, 24, 10), local("Europe/Lisbon", 2026, 10, 24, 12))
    )
    sunday = session_ics(
        entry(local("Europe/Lisbon", 2026, 10, 25, 10), local("Europe/Lisbon", 2026, 10, 25, 12))
    )
    sat_start, _ = start_end(saturday)
    sun_start, _ = start_end(sunday)
    assert sat_start.hour == sun_start.hour == 10
    assert sat_start.utcoffset() == timedelta(hours=1)
    assert sun_start.utcoffset() == timedelta(0)
    assert sat_start.astimezone(UTC) == datetime(2026, 10, 24, 9, tzinfo=UTC)
    assert sun_start.astimezone(UTC) == datetime(2026, 10, 25, 10, tzinfo=UTC)
    assert sun_start.astimezone(UTC) - sat_start.astimezone(UTC) == timedelta(hours=25)


def test_session_spanning_the_dst_change_keeps_its_length() -> None:
    # 00:30 CEST (22:30 UTC) to 03:30 CET (02:30 UTC): three wall hours, four real ones.
    starts = local("Europe/Vienna", 2026, 10, 25, 0, 30)
    ends = local("Europe/Vienna", 2026, 10, 25, 3, 30)
    data = session_ics(entry(starts, ends, "Europe/Vienna"))
    assert b"DTSTART;TZID=Europe/Vienna:20261025T003000" in data
    assert b"DTEND;TZID=Europe/Vienna:20261025T033000" in data
    start, end = start_end(data)
    assert start.astimezone(UTC) == datetime(2026, 10, 24, 22, 30, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2026, 10, 25, 2, 30, tzinfo=UTC)
    # Same-tzinfo subtraction in Python ignores the offset change: compare in UTC.
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=4)


def test_spring_forward_session_is_one_hour_shorter_than_its_wall_span() -> None:
    starts = local("Europe/Vienna", 2026, 3, 29, 1, 0)
    ends = local("Europe/Vienna", 2026, 3, 29, 4, 0)
    start, end = start_end(session_ics(entry(starts, ends, "Europe/Vienna")))
    assert (start.hour, end.hour) == (1, 4)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=2)


def test_second_occurrence_of_a_repeated_hour_keeps_its_instant() -> None:
    # 02:30 happens twice in Vienna on 2026-10-25; RFC 5545 reads a TZID wall time
    # as the first one, so the second must not be written that way.
    starts = local("Europe/Vienna", 2026, 10, 25, 2, 30, fold=1)
    assert starts == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    start, end = start_end(session_ics(entry(starts, starts + timedelta(hours=1), "Europe/Vienna")))
    assert start.astimezone(UTC) == starts
    assert end.astimezone(UTC) == starts + timedelta(hours=1)


def test_vtimezone_has_standard_and_daylight_for_a_dst_zone() -> None:
    data = session_ics(
        entry(local("Europe/Lisbon", 2026, 10, 24, 10), local("Europe/Lisbon", 2026, 10, 24, 12))
    )
    calendar, _ = parse(data)
    timezones = calendar.walk("VTIMEZONE")
    assert [str(tz["TZID"]) for tz in timezones] == ["Europe/Lisbon"]
    assert timezones[0].walk("STANDARD")
    assert timezones[0].walk("DAYLIGHT")
    assert data.index(b"BEGIN:VTIMEZONE") < data.index(b"BEGIN:VEVENT")
    offsets = {
        (component.name, component.decoded("tzoffsetto"))
        for component in timezones[0].walk()
        if component.name in {"STANDARD", "DAYLIGHT"}
    }
    assert ("STANDARD", timedelta(0)) in offsets
    assert ("DAYLIGHT", timedelta(hours=1)) in offsets


def test_zone_without_dst_gets_only_standard() -> None:
    starts = datetime(2026, 7, 1, 1, tzinfo=UTC)
    calendar, _ = parse(session_ics(entry(starts, starts + timedelta(hours=1), "Asia/Tokyo")))
    (timezone,) = calendar.walk("VTIMEZONE")
    assert timezone.walk("STANDARD")
    assert not timezone.walk("DAYLIGHT")


def test_utc_session_is_written_in_utc_without_vtimezone() -> None:
    starts = datetime(2026, 7, 1, 12, tzinfo=UTC)
    data = session_ics(entry(starts, starts + timedelta(hours=1), "UTC"))
    assert b"DTSTART:20260701T120000Z" in data
    assert b"VTIMEZONE" not in data
    start, _ = start_end(data)
    assert start == starts


def test_special_and_non_latin_text_round_trips() -> None:
    title = "Assembleia, sessão 2; votação"
    description = "Linha 1, com vírgula;\nLinha 2 — جلسة المواطنين، الجزء الثاني\n\\fim"
    location = "قاعة المدينة; Sala 3, piso 1"
    data = session_ics(
        replace(
            entry(
                local("Asia/Beirut", 2026, 6, 1, 17),
                local("Asia/Beirut", 2026, 6, 1, 19),
                "Asia/Beirut",
            ),
            title=title,
            description=description,
            location=location,
        )
    )
    assert b"SUMMARY:Assembleia\\, sess\xc3\xa3o 2\\; vota\xc3\xa7\xc3\xa3o" in data
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))
    _, event = parse(data)
    assert str(event["SUMMARY"]) == title
    assert str(event["DESCRIPTION"]) == description
    assert str(event["LOCATION"]) == location


def test_cancelled_session() -> None:
    starts = local("Europe/Lisbon", 2026, 5, 4, 18)
    cancelled = entry(starts, starts + timedelta(hours=2), cancelled=True, sequence=2)
    calendar, event = parse(session_ics(cancelled))
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(event["STATUS"]) == "CANCELLED"
    assert event.decoded("sequence") == 2
    assert not event.walk("VALARM")

    mailed = replace(cancelled, organizer_email="panel@engage.example")
    calendar, event = parse(session_ics(mailed, method="REQUEST"))
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"

    calendar, event = parse(session_ics(replace(mailed, cancelled=False), method="cancel"))
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"


def test_request_method_needs_an_organiser() -> None:
    starts = local("Europe/Lisbon", 2026, 5, 4, 18)
    plain = entry(starts, starts + timedelta(hours=2))
    with pytest.raises(ValueError, match="organizer"):
        session_ics(plain, method="REQUEST")
    with pytest.raises(ValueError, match="METHOD"):
        session_ics(plain, method="ADD-SOMETHING")
    calendar, _ = parse(
        session_ics(replace(plain, organizer_email="panel@engage.example"), method="REQUEST")
    )
    assert str(calendar["METHOD"]) == "REQUEST"


def test_naive_datetimes_are_rejected() -> None:
    aware = datetime(2026, 5, 4, 17, tzinfo=UTC)
    naive = datetime(2026, 5, 4, 19)
    with pytest.raises(ValueError, match="naive"):
        session_ics(entry(aware.replace(tzinfo=None), naive))
    with pytest.raises(ValueError, match="ends_at"):
        session_ics(entry(aware, naive))


@pytest.mark.parametrize("zone", ["Europe/Atlantis", "", "../etc/passwd", "Lisbon"])
def test_unknown_zone_is_rejected(zone: str) -> None:
    starts = datetime(2026, 5, 4, 17, tzinfo=UTC)
    with pytest.raises(ValueError, match="time zone"):
        session_ics(entry(starts, starts + timedelta(hours=1), zone))


def test_end_must_follow_start() -> None:
    starts = datetime(2026, 5, 4, 17, tzinfo=UTC)
    with pytest.raises(ValueError, match="after"):
        session_ics(entry(starts, starts))
