"""The history the details chart draws for a session, decided in the poller thread.

A session whose source reads its own records (`TimelineReader`: Claude Code, Codex, Gemini CLI,
Copilot CLI) is drawn from them, so a session that began before the app did has its whole history
and every compaction. Other agents, imported sessions, and sessions whose records cannot be read
now or draw no point are drawn from the usage samples the poller stored while it watched them.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from llm_session_manager.core.errors import StoreError
from llm_session_manager.core.models import Session, SessionKey, UsageSample
from llm_session_manager.core.sources.base import TimelineReader
from llm_session_manager.core.timeline import Timeline, own_share
from llm_session_manager.core.timeline_cache import TimelineCache
from llm_session_manager.core.usage_series import UsageSeries, timeline_series, usage_series

if TYPE_CHECKING:
    from llm_session_manager.core.poller import Poller

log = logging.getLogger(__name__)


class SessionHistory:
    def __init__(self, poller: Poller, cache: TimelineCache | None = None) -> None:
        self._poller = poller
        self._cache = cache if cache is not None else TimelineCache()

    def series(self, key: SessionKey) -> UsageSeries:
        session = self._poller.session(key)
        timeline = self._timeline(session) if session is not None else None
        if session is not None and timeline is not None and timeline.points:
            if session.facts.lineage is not None:  # a fork's records hold its parent's requests
                timeline = own_share(timeline, session.facts.usage.total)
            return timeline_series(timeline, session.facts.context.window)
        return usage_series(self._samples(key))

    def _timeline(self, session: Session) -> Timeline | None:
        source = self._poller.source_for(session.key.agent)
        if session.imported or not session.facts.paths or not isinstance(source, TimelineReader):
            return None
        try:
            return self._cache.get(source, session.facts)
        except Exception as exc:  # the agents' files: whatever is wrong costs the chart only
            log.warning("cannot read the history of %s from its records, using samples: %s",
                        session.key, exc)  # fmt: skip
            return None

    def _samples(self, key: SessionKey) -> tuple[UsageSample, ...]:
        store = self._poller.store
        if store is None:
            return ()
        try:
            return tuple(store.samples_for(key))
        except StoreError as exc:
            log.warning("cannot read the usage samples of %s: %s", key, exc)
            return ()
