"""Usage samples of every session over a period, for the usage windows and the burn rate.

One read for all sessions (not one per session): the samples at or after `since`, plus each
session's last sample before it, the base the first growth in the period is measured from.
Kept apart from repo.py, which is at its size limit; the same guard turns database failures
into one StoreError with the path.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, cast

from peewee import fn

from llm_session_manager.core.models import SessionKey, UsageSample
from llm_session_manager.store.db import is_store_failure, store_error
from llm_session_manager.store.records import UsageSampleRecord
from llm_session_manager.store.repo import Store

log = logging.getLogger(__name__)


def samples_since(store: Store, since: datetime) -> dict[SessionKey, list[UsageSample]]:
    """Samples at or after `since` and each session's last one before it, oldest first."""
    s = UsageSampleRecord
    columns = (s.session_key, s.at, s.total_tokens, s.context_tokens, s.window)
    latest = (
        s.select(s.session_key, fn.MAX(s.at).alias("last_at"))
        .where(s.at < since)
        .group_by(s.session_key)
        .alias("base")
    )
    bases = s.select(*columns).join(
        latest, on=((s.session_key == latest.c.session_key) & (s.at == latest.c.last_at))
    )
    recent = s.select(*columns).where(s.at >= since).order_by(s.at, s.id)
    try:
        rows = [*cast("list[tuple[Any, ...]]", list(bases.tuples())),
                *cast("list[tuple[Any, ...]]", list(recent.tuples()))]
    except Exception as exc:
        if not is_store_failure(exc):
            raise
        error = store_error(store.path, exc)
        log.warning("store: reading usage samples failed: %s", error)
        raise error from exc
    out: dict[SessionKey, list[UsageSample]] = {}
    for key_text, at, total, context, window in rows:
        key = SessionKey.parse(key_text)
        out.setdefault(key, []).append(UsageSample(key, at, total, context, window))
    for history in out.values():
        history.sort(key=lambda sample: sample.at)
    return out
