"""Asking a Cursor database about one composer without reading the database whole.

After a restart the poller hands the source only the files that changed. When a transcript changed
but the IDE's global database did not, the source still has to know whether that database holds
the transcript's composer (then the database's record is the session, see `cursor.py`), and
reading every composer of a database that can be hundreds of MB to answer that would cost what the
unchanged stat saved. So the one `composerData:<id>` row is fetched, and the answer kept until the
database is read whole.
"""

from __future__ import annotations

from collections.abc import Collection

import orjson

from llm_session_manager.core.sources.cursor_db import kv_value, open_readonly, tables
from llm_session_manager.core.sources.cursor_records import header_bubble_ids, inline_bubbles
from llm_session_manager.core.sources.json_values import as_dict


class ComposerPeek:
    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._answers: dict[str, dict[str, bool]] = {}  # database -> composer id -> has messages

    def has_messages(self, db: str, cid: str) -> bool:
        """Whether `db` holds composer `cid` with a message. Raises DbBusy / DbError."""
        answers = self._answers.setdefault(db, {})
        if cid not in answers:
            with open_readonly(db, self._timeout) as conn:
                names = tables(conn)
                value = kv_value(conn, f"composerData:{cid}") if "cursorDiskKV" in names else None
            answers[cid] = _has_messages(value)
        return answers[cid]

    def forget(self, db: str) -> None:
        """`db` was read whole: its cache answers from now on."""
        self._answers.pop(db, None)

    def keep_only(self, dbs: Collection[str]) -> None:
        self._answers = {db: a for db, a in self._answers.items() if db in dbs}


def _has_messages(value: bytes | str | None) -> bool:
    if value is None:
        return False
    try:
        doc = as_dict(orjson.loads(value))
    except orjson.JSONDecodeError:
        return False  # not a document a read could show either
    return bool(header_bubble_ids(doc) or inline_bubbles(doc))
