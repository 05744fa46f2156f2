"""Quiet hours: a daily window of local time, e.g. "22:00-07:00", in which no popup is shown.

The window may wrap midnight (the start is later than the end). The start is inside the window and
the end is not, so "22:00-07:00" is quiet from 22:00:00 up to 06:59:59. "24:00" is accepted as an
end and means midnight. A window whose start equals its end is refused: it would be read as either
"always" or "never", and "always" is what `ui.notifications: false` already says.

Times are wall-clock times: `contains` reads the time of day of the datetime it is given, so the
caller passes a local one (the planner converts, the tray's clock is already local). Across a
daylight-saving change the window follows the clock on the wall, which is what a user means.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time

_RANGE = re.compile(r"\s*(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})\s*")
FORMAT_HINT = 'a daily time range like "22:00-07:00" (local time, 24-hour clock)'


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time

    @property
    def wraps(self) -> bool:
        """True when the window runs over midnight (22:00-07:00)."""
        return self.end <= self.start

    def contains(self, local: datetime) -> bool:
        """Whether the wall-clock time of `local` falls in the window."""
        now = local.time().replace(tzinfo=None)
        if self.wraps:
            return now >= self.start or now < self.end
        return self.start <= now < self.end

    @property
    def text(self) -> str:
        """The config form, "22:00-07:00" (midnight as an end reads "00:00")."""
        return f"{_clock(self.start)}-{_clock(self.end)}"

    @property
    def end_text(self) -> str:
        return _clock(self.end)


def parse_quiet_hours(text: str) -> QuietHours:
    """"HH:MM-HH:MM" to a window; raises ValueError saying what is wrong with `text`."""
    match = _RANGE.fullmatch(text)
    if match is None:
        raise ValueError(f"expected {FORMAT_HINT}")
    start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
    if start_h > 23 or start_m > 59:
        raise ValueError(f"{match.group(1)}:{match.group(2)} is not a time of day")
    if end_h == 24 and end_m == 0:
        end_h = 0  # "22:00-24:00": until midnight
    elif end_h > 23 or end_m > 59:
        raise ValueError(f"{match.group(3)}:{match.group(4)} is not a time of day")
    start, end = time(start_h, start_m), time(end_h, end_m)
    if start == end:
        raise ValueError(
            "the start and the end are the same time (to turn notifications off for good, "
            "set ui.notifications: false)"
        )
    return QuietHours(start, end)


def _clock(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"
