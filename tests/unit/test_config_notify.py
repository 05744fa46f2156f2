"""The notification rules of the config: ui.notify_on and ui.quiet_hours, read and reported."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest
import yaml
from test_config import load_text

from llm_session_manager.config import (
    NOTIFY_CONDITIONS,
    Config,
    QuietHours,
    config_to_dict,
    default_config_text,
)
from llm_session_manager.core.notify import Condition


def test_the_config_names_exactly_the_planners_conditions() -> None:
    assert Condition.__args__ == NOTIFY_CONDITIONS  # type: ignore[attr-defined]
    assert Config().ui.notify_on == ("critical", "waiting")
    assert Config().ui.quiet_hours is None


def test_the_rules_are_read(tmp_path: Path) -> None:
    config, messages, _ = load_text(
        tmp_path,
        "ui:\n"
        "  notify_on: [waiting, critical, waiting]\n"
        "  quiet_hours: 22:30-07:00\n",  # unquoted: still a string to YAML
    )
    assert messages == []
    assert config.ui.notify_on == ("critical", "waiting")
    assert config.ui.quiet_hours == QuietHours(time(22, 30), time(7, 0))


@pytest.mark.parametrize(
    ("value", "expected"),
    [("[critical]", ("critical",)), ("waiting", ("waiting",)), ("[]", ())],
)
def test_notify_on_may_name_one_or_none(tmp_path: Path, value: str, expected: tuple) -> None:
    config, messages, _ = load_text(tmp_path, f"ui:\n  notify_on: {value}\n")
    assert (config.ui.notify_on, messages) == (expected, [])


@pytest.mark.parametrize("value", ["", "null", '""', "'  '"])
def test_empty_quiet_hours_mean_none(tmp_path: Path, value: str) -> None:
    config, messages, _ = load_text(tmp_path, f"ui:\n  quiet_hours: {value}\n")
    assert (config.ui.quiet_hours, messages) == (None, [])


def test_an_unknown_condition_is_reported_with_its_line_and_the_rest_applies(
    tmp_path: Path,
) -> None:
    config, messages, places = load_text(
        tmp_path,
        "poll_interval_s: 3\n"
        "ui:\n"
        "  theme: dark\n"
        "  notify_on: [critical, warning]\n"
        "  notify_cooldown_minutes: 5\n",
    )
    assert messages == [
        "ui.notify_on: 'warning' is not a condition (critical | waiting); notifying on critical"
    ]
    assert places == [f"{tmp_path / 'config.yaml'}:4"]
    assert config.ui.notify_on == ("critical",)
    assert (config.poll_interval_s, config.ui.theme, config.ui.notify_cooldown_minutes) == (
        3.0, "dark", 5.0,
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("[warning, urgent]",
         "ui.notify_on: 'warning', 'urgent' are not conditions (critical | waiting); "
         "using the default critical, waiting"),
        ("{critical: true}", "ui.notify_on: expected a list of critical | waiting, got a mapping"),
        ("7", "ui.notify_on: expected a list of critical | waiting, got 7"),
        ("[critical, 3]",
         "ui.notify_on: 3 is not a condition (critical | waiting); notifying on critical"),
    ],
)
def test_notify_on_with_nothing_usable_falls_back_to_the_default(
    tmp_path: Path, value: str, expected: str
) -> None:
    config, messages, _ = load_text(tmp_path, f"ui:\n  notify_on: {value}\n")
    assert messages == [expected]
    default = ("critical",) if "notifying on critical" in expected else NOTIFY_CONDITIONS
    assert config.ui.notify_on == default


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("'22:00'", 'ui.quiet_hours: expected a daily time range like "22:00-07:00" (local time, '
                    "24-hour clock), got '22:00'; no quiet hours"),
        ("22:00", 'ui.quiet_hours: expected a daily time range like "22:00-07:00" (local time, '
                  "24-hour clock) in quotes, got 1320; no quiet hours"),  # base 60 to YAML 1.1
        ("'22:00-31:00'", "ui.quiet_hours: 31:00 is not a time of day, got '22:00-31:00'; "
                          "no quiet hours"),
        ("'8:00-8:00'", "ui.quiet_hours: the start and the end are the same time"),
        ("[22, 7]", "ui.quiet_hours: expected a daily time range"),
    ],
)
def test_malformed_quiet_hours_are_reported_and_mean_none(
    tmp_path: Path, value: str, expected: str
) -> None:
    config, messages, places = load_text(
        tmp_path, f"ui:\n  notifications: true\n  quiet_hours: {value}\n  theme: light\n"
    )
    assert len(messages) == 1 and messages[0].startswith(expected)
    assert places[0].endswith(":3")
    assert config.ui.quiet_hours is None
    assert config.ui.theme == "light"


def test_the_rules_round_trip_through_show_config(tmp_path: Path) -> None:
    custom, _, _ = load_text(
        tmp_path, "ui: {notify_on: [waiting], quiet_hours: '23:00-24:00'}\n"
    )
    shown = config_to_dict(custom)["ui"]
    assert (shown["notify_on"], shown["quiet_hours"]) == (["waiting"], "23:00-00:00")
    dumped = yaml.safe_dump(config_to_dict(custom), sort_keys=False)
    again, messages, _ = load_text(tmp_path, dumped)
    assert messages == [] and again == custom


def test_init_config_explains_the_rules() -> None:
    text = default_config_text()
    assert '  notify_on: ["critical", "waiting"]\n' in text
    assert "  quiet_hours: null\n" in text
    assert '"22:00-07:00"' in text  # the example in the comment above it
