"""Snapshots for the tray and notification tests, built from the real clients' records.

The sessions come from one real poll of the sample home; a test then makes some of them live
(the process table is the OS boundary) or fills their context, and health is assessed again by
the real `core.health`, so every level a test sees is one the app would compute.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

from llm_session_manager.config import Config, HealthConfig, HealthWeights
from llm_session_manager.core import health
from llm_session_manager.core.models import LiveState, LiveStateName, Session, Snapshot
from llm_session_manager.core.poller import Poller
from llm_session_manager.core.processes import ProcessTable
from llm_session_manager.core.sources.registry import build_sources

# A user who weighs context fill most: a full window alone makes a session critical.
CONTEXT_FIRST = Config(
    health=HealthConfig(weights=HealthWeights(tokens=0.7, duration=0.1, activity=0.1, errors=0.1))
)


def real_sessions(home: Path, now: datetime, config: Config = CONTEXT_FIRST) -> list[Session]:
    """Every session of the sample home, as one poll at `now` sees them (none live)."""
    sources = build_sources(config, {}, home)
    poller = Poller(
        sources, None, config, clock=lambda: now, scan_processes=lambda: ProcessTable({})
    )
    return list(poller.poll_once().sessions)


def find(sessions: list[Session], prefix: str) -> Session:
    return next(s for s in sessions if s.key.session_id.startswith(prefix))


def make_live(
    session: Session,
    now: datetime,
    state: LiveStateName = "idle",
    detail: str | None = None,
    config: Config = CONTEXT_FIRST,
) -> Session:
    live = LiveState(state, (4242,), "pid-file", detail)
    return replace(session, live=live, health=health.assess(session.facts, live, config, now))


def fill_context(
    session: Session, now: datetime, fill: float = 0.97, compactions: int = 2,
    config: Config = CONTEXT_FIRST,
) -> Session:
    """The same session after its context filled up and it compacted (health re-assessed)."""
    window = session.facts.context.window or 200_000
    context = replace(
        session.facts.context, tokens=int(window * fill), window=window, compactions=compactions
    )
    facts = replace(session.facts, context=context)
    return replace(session, facts=facts, health=health.assess(facts, session.live, config, now))


def snapshot_of(sessions: list[Session], now: datetime) -> Snapshot:
    live = [s for s in sessions if s.live.state != "ended"]
    return Snapshot(
        taken_at=now, sessions=tuple(sessions), level=health.aggregate_level(live)
    )
