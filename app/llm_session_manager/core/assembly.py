"""Facts + live state + the user's data + the config -> the sessions every surface shows.

Judging a session (window, cost, health) is most of the work of a poll with nothing new, so a
session whose inputs are what they were is taken as last assembled; so is the whole list while
none of its inputs moved. Health moves with the clock (time since the last activity), so nothing
is reused longer than JUDGEMENT_REFRESH.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from llm_session_manager.config import Config
from llm_session_manager.core import accounting, health
from llm_session_manager.core.models import LiveState, Session, SessionFacts, SessionKey

# How long a computed health and advice stand when nothing changed: recomputing them for every
# session on every poll was most of a poll with nothing new.
JUDGEMENT_REFRESH = timedelta(seconds=60)

_UserTuple = tuple[str | None, tuple[str, ...], bool, bool]  # project, tags, imported, hidden


@dataclass
class UserData:
    """What the user set on sessions (through the store)."""

    tags: dict[SessionKey, tuple[str, ...]] = field(default_factory=dict)
    projects: dict[SessionKey, str] = field(default_factory=dict)
    hidden: set[SessionKey] = field(default_factory=set)
    imported: set[SessionKey] = field(default_factory=set)
    version: int = 0  # bumped on every change, so a poll can tell nothing changed


@dataclass(frozen=True)
class _Assembled:
    """A session as last assembled, with what it was assembled from."""

    raw: SessionFacts
    live: LiveState
    user: _UserTuple
    config: Config
    at: datetime
    session: Session


@dataclass(frozen=True)
class _LastList:
    """The last list and what it came from; `oldest` is the time of its oldest judgement."""

    facts_version: int
    user_version: int
    config: Config
    live: Mapping[SessionKey, LiveState]
    oldest: datetime
    sessions: list[Session]


class Assembler:
    def __init__(self) -> None:
        self._assembled: dict[SessionKey, _Assembled] = {}
        self._last: _LastList | None = None

    def assemble(
        self,
        facts: Mapping[SessionKey, SessionFacts],
        facts_version: int,
        user: UserData,
        live: Mapping[SessionKey, LiveState],
        config: Config,
        now: datetime,
    ) -> list[Session]:
        """The sessions, newest activity first. `facts_version` must change whenever `facts`
        does: an unchanged version (with the same user data, live states and config) returns
        the last list itself."""
        last = self._last
        if (last is not None and last.facts_version == facts_version
                and last.user_version == user.version and last.config is config
                and last.live == live and now - last.oldest < JUDGEMENT_REFRESH):
            return last.sessions
        out: list[Session] = []
        oldest = now
        idle = LiveState()
        for key, raw in facts.items():
            state = live.get(key, idle)
            mine = (user.projects.get(key), user.tags.get(key, ()), key in user.imported,
                    key in user.hidden)  # fmt: skip
            prev = self._assembled.get(key)
            if (prev is not None and prev.raw is raw and prev.live == state
                    and prev.user == mine and prev.config is config
                    and now - prev.at < JUDGEMENT_REFRESH):
                out.append(prev.session)
                oldest = min(oldest, prev.at)
                continue
            session = judge(raw, state, mine, config, now)
            self._assembled[key] = _Assembled(raw, state, mine, config, now, session)
            out.append(session)
        out.sort(key=_recency, reverse=True)
        self._last = _LastList(facts_version, user.version, config, dict(live), oldest, out)
        return out


def judge(
    raw: SessionFacts, live: LiveState, mine: _UserTuple, config: Config, now: datetime
) -> Session:
    facts = accounting.apply(raw, config)
    return Session(
        facts=facts,
        live=live,
        project=mine[0] or project_of(facts.cwd),
        tags=mine[1],
        cost_usd=accounting.estimate_cost(facts, config),
        health=health.assess(facts, live, config, now),
        imported=mine[2],
        hidden=mine[3],
    )


def _recency(session: Session) -> datetime:
    return session.facts.last_activity_at or datetime.min.replace(tzinfo=UTC)


def project_of(cwd: str | None) -> str | None:
    """A session's default project: the last folder of its working directory."""
    if not cwd:
        return None
    name = os.path.basename(cwd.rstrip("/\\"))
    return name or cwd
