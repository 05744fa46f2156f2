"""Which notifications a snapshot calls for: a session that turned critical or started waiting.

`NotificationPlanner.plan(snapshot, now)` runs in the poller thread (the only thread that touches
the store) and returns the `Notice`s to show. A notice fires when its condition appears (it was
not there in the previous snapshot; at start-up every condition is new), the condition is one of
`config.ui.notify_on`, and the same session was not notified of the same condition within
`config.ui.notify_cooldown_minutes`. The cooldown is kept in the store, so restarting the app does
not repeat what was said minutes ago. The config is read at each plan, so a reload applies at the
next poll.

While paused the planner keeps following the conditions but says nothing and records nothing: a
session that turned critical during a pause stays quiet after it, until it recovers and turns
critical again. A pause is the user saying "not now" to what happens in it.

Quiet hours (`config.ui.quiet_hours`, local wall-clock time) differ: they are a routine, not a
choice made while looking at the screen, so what still needs the user when they end is said then.
A condition that appears in quiet hours is held, not recorded; one that ends while held is
dropped (nothing arrives in a burst at 07:00 about a prompt answered at 03:00); those still true at
the first poll after quiet hours are notified once, through the usual cooldown, together with
anything new of that poll, which `summarize` makes one message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Literal, Protocol

from llm_session_manager.config import Config
from llm_session_manager.core.errors import StoreError
from llm_session_manager.core.formatting import agent_label
from llm_session_manager.core.models import (
    LIVE_STATES,
    Recommendation,
    Session,
    SessionKey,
    Snapshot,
)

log = logging.getLogger(__name__)

Condition = Literal["critical", "waiting"]
def session_name(session: Session) -> str:
    """What a person calls the session: its project, else its title, else its short id."""
    return session.project or session.facts.title or session.key.session_id[:8]


class CooldownStore(Protocol):
    """The part of `store.repo.Store` the planner uses (a fake in tests, None without a store)."""

    def last_notified(self, key: SessionKey, condition: str) -> datetime | None: ...

    def record_notified(self, key: SessionKey, condition: str, at: datetime) -> None: ...


@dataclass(frozen=True)
class Notice:
    key: SessionKey
    condition: Condition
    title: str
    body: str


@dataclass(frozen=True)
class Message:
    """What is shown: one notice as it is, or a summary of several. `key` is what a click opens."""

    title: str
    body: str
    key: SessionKey | None
    notices: tuple[Notice, ...]


def conditions_of(session: Session) -> set[Condition]:
    """The conditions a session is in now; only live, non-imported sessions have any."""
    if session.imported or session.live.state not in LIVE_STATES:
        return set()
    found: set[Condition] = set()
    if session.health is not None and session.health.level == "critical":
        found.add("critical")
    if session.live.state == "waiting":
        found.add("waiting")
    return found


class NotificationPlanner:
    def __init__(
        self,
        store: CooldownStore | None,
        config: Callable[[], Config],
        *,
        zone: tzinfo | None = None,
    ) -> None:
        self._store = store
        self._config = config  # read at each plan: a reload applies to the next poll
        # The zone whose wall clock the quiet hours are read in; None: the system's own.
        self._zone = zone
        self._previous: dict[SessionKey, set[Condition]] = {}
        self._paused_until: datetime | None = None
        # Conditions that appeared in quiet hours and still hold: said when quiet hours end.
        self._held: set[tuple[SessionKey, Condition]] = set()
        # Without a store (or when it fails) the cooldown is kept for this run only.
        self._memory: dict[tuple[SessionKey, Condition], datetime] = {}

    def pause(self, until: datetime | None) -> None:
        """Stay quiet until `until` (aware); None resumes."""
        self._paused_until = until

    def paused(self, now: datetime) -> bool:
        return self._paused_until is not None and now < self._paused_until

    def quiet(self, now: datetime) -> bool:
        """Whether `now` (aware) falls in the config's quiet hours, on the planner's wall clock."""
        hours = self._config().ui.quiet_hours
        return hours is not None and hours.contains(now.astimezone(self._zone))

    def plan(self, snapshot: Snapshot, now: datetime) -> list[Notice]:
        config = self._config()
        wanted = set(config.ui.notify_on)
        current = {s.key: conditions_of(s) & wanted for s in snapshot.sessions}
        previous, self._previous = self._previous, {k: c for k, c in current.items() if c}
        due = {
            (key, condition)
            for key, conditions in current.items()
            for condition in conditions
            if condition not in previous.get(key, set())
        }
        # Held conditions that ended (or that notify_on no longer names) are forgotten here.
        held = {(key, c) for key, c in self._held if c in current.get(key, ())}
        self._held = set()
        if not config.ui.notifications or self.paused(now):
            return []
        if self.quiet(now):
            self._held = held | due
            return []
        due |= held
        if not due:
            return []
        cooldown = timedelta(minutes=config.ui.notify_cooldown_minutes)
        recommendations = snapshot.recommendations
        notices: list[Notice] = []
        for session in snapshot.sessions:  # the snapshot's order, critical before waiting
            for condition in sorted(current[session.key]):
                if (session.key, condition) not in due:
                    continue
                last = self._last(session.key, condition)
                if last is not None and now - _aware(last) < cooldown:
                    continue
                self._record(session.key, condition, now)
                notices.append(make_notice(session, condition, recommendations))
        return notices

    def _last(self, key: SessionKey, condition: Condition) -> datetime | None:
        remembered = self._memory.get((key, condition))
        if self._store is None:
            return remembered
        try:
            stored = self._store.last_notified(key, condition)
        except StoreError as exc:
            log.warning("notification cooldown not readable (%s); kept in memory", exc)
            return remembered
        if stored is None:
            return remembered
        return stored if remembered is None else max(_aware(stored), remembered)

    def _record(self, key: SessionKey, condition: Condition, now: datetime) -> None:
        self._memory[(key, condition)] = now
        if self._store is None:
            return
        try:
            self._store.record_notified(key, condition, now)
        except StoreError as exc:
            log.warning("notification time not saved (%s); kept in memory", exc)


def make_notice(
    session: Session, condition: Condition, recommendations: Iterable[Recommendation] = ()
) -> Notice:
    """Title says which session and what; body says where (agent, title) and why."""
    name = session_name(session)
    where = [agent_label(session.key.agent)]
    title_text = session.facts.title
    if title_text and title_text != name:
        where.append(_clip(title_text, 60))
    if condition == "critical":
        why = [critical_reason(session)]
        advice = next(
            (r.title for r in recommendations if session.key in r.keys and r.kind == "restart"),
            None,
        )
        if advice:
            why.append(advice[:1].lower() + advice[1:])
        return Notice(session.key, condition, f"{name} is critical", " · ".join(where + why))
    waiting = f"waiting for {session.live.detail or 'input'}"
    if session.live.since is not None:
        # The user's own clock: "since 14:02" is what they compare with the agent's window.
        waiting += f" since {session.live.since.astimezone():%H:%M}"
    return Notice(session.key, condition, f"{name} is waiting for you",
                  " · ".join([*where, waiting]))


def critical_reason(session: Session) -> str:
    """The reason of the factor that cost the most points (the one to act on)."""
    if session.health is None or not session.health.factors:
        return "health critical"
    worst = max(session.health.factors, key=lambda f: (100.0 - f.score) * f.weight)
    return f"{worst.reason} (health {session.health.score:.0f})"


def summarize(notices: Sequence[Notice]) -> Message | None:
    """One message for what fired in one poll: the notice itself, or `N sessions need attention`.

    A click on a summary opens the first critical session (else the first waiting one).
    """
    if not notices:
        return None
    if len(notices) == 1:
        only = notices[0]
        return Message(only.title, only.body, only.key, (only,))
    ordered = sorted(notices, key=lambda n: n.condition != "critical")
    keys = list(dict.fromkeys(n.key for n in ordered))
    title = (
        f"{len(keys)} sessions need attention" if len(keys) > 1 else ordered[0].title
    )
    body = "\n".join(n.title for n in ordered[:5])
    if len(ordered) > 5:
        body += f"\n… and {len(ordered) - 5} more"
    return Message(title, body, ordered[0].key, tuple(ordered))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
