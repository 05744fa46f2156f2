"""Quiet hours: parsing "HH:MM-HH:MM" and which wall-clock times fall inside, over midnight too."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone

import pytest

from llm_session_manager.core.quiet_hours import QuietHours, parse_quiet_hours

PLUS_ONE = timezone(timedelta(hours=1))


def at(hour: int, minute: int = 0, tz: timezone = PLUS_ONE) -> datetime:
    return datetime(2026, 11, 24, hour, minute, tzinfo=tz)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("22:00-07:00", time(22), time(7)),
        (" 9:30 - 12:45 ", time(9, 30), time(12, 45)),
        ("23:00–06:00", time(23), time(6)),  # an en dash, as typography writes ranges
        ("22:00-24:00", time(22), time(0)),  # until midnight
    ],
)
def test_parse(text: str, start: time, end: time) -> None:
    assert parse_quiet_hours(text) == QuietHours(start, end)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("22-07", "expected a daily time range"),
        ("22:00", "expected a daily time range"),
        ("22:00-07:00-08:00", "expected a daily time range"),
        ("25:00-07:00", "25:00 is not a time of day"),
        ("22:00-07:60", "07:60 is not a time of day"),
        ("24:00-07:00", "24:00 is not a time of day"),  # 24:00 only ends a window
        ("07:00-07:00", "the start and the end are the same time"),
        ("00:00-24:00", "the start and the end are the same time"),
    ],
)
def test_malformed_ranges_say_why(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_quiet_hours(text)


def test_a_window_over_midnight_holds_from_its_start_up_to_its_end() -> None:
    night = parse_quiet_hours("22:00-07:00")
    assert night.wraps
    inside = [at(22), at(23, 59), at(0), at(3, 30), at(6, 59)]
    outside = [at(7), at(12), at(21, 59)]
    assert [night.contains(t) for t in inside] == [True] * len(inside)
    assert [night.contains(t) for t in outside] == [False] * len(outside)


def test_a_window_within_one_day() -> None:
    lunch = parse_quiet_hours("12:00-13:30")
    assert not lunch.wraps
    assert [lunch.contains(at(h, m)) for h, m in ((11, 59), (12, 0), (13, 29), (13, 30))] == [
        False, True, True, False,
    ]


def test_until_midnight_ends_at_midnight() -> None:
    evening = parse_quiet_hours("22:00-24:00")
    assert evening.contains(at(23, 59)) and not evening.contains(at(0))
    assert evening.text == "22:00-00:00"


def test_the_wall_clock_of_the_given_datetime_decides() -> None:
    night = parse_quiet_hours("22:00-07:00")
    instant = datetime(2026, 11, 24, 21, 30, tzinfo=UTC)  # 22:30 at UTC+1
    assert not night.contains(instant)
    assert night.contains(instant.astimezone(PLUS_ONE))


def test_texts() -> None:
    night = parse_quiet_hours("9:05-7:00")
    assert (night.text, night.end_text) == ("09:05-07:00", "07:00")
