"""Which reading of the agents' records the stored facts come from.

Cursors let a poll read only the bytes appended since the last one, so the facts of a file that
never changes again are never rebuilt. When a version of the app reads more from the same records
(a field it did not take, a count it got wrong), those facts would stay as the older version
built them. RECORDS_REVISION is raised with each such change; a store whose facts come from an
older revision forgets its file cursors and recorded file problems once, in one transaction, so
the next poll reads every file again from its first byte. Everything the user set (tags,
projects, notes, hidden sessions, imports), the usage history and each session's last figures
stay: a session whose files are gone keeps what it had.
"""

from __future__ import annotations

import logging

from llm_session_manager.store.db import database
from llm_session_manager.store.failures import store_failures
from llm_session_manager.store.records import FileCursorRecord, FileProblemRecord, MetaRecord
from llm_session_manager.store.repo import Store

log = logging.getLogger(__name__)

# 1: the facts before the meta table. 2: Claude's nested layout, recorded windows, pending tools
# and versions; Codex output-only tool errors; Copilot CLI estimates; the agents' versions.
# 3: Claude sessions' lineage (a fork counts its parent's copied requests once).
RECORDS_REVISION = 3
_KEY = "records_revision"


def stored_revision(store: Store) -> int:
    """The revision the store's facts were read with; 1 for a store from before the meta table."""
    m = MetaRecord
    with store_failures(store.path, "reading the records revision", log):
        value = m.select(m.value).where(m.key == _KEY).scalar()
    try:
        return int(value) if value is not None else 1
    except (TypeError, ValueError):
        return 1  # not a number this code wrote: read everything again to be sure


def reread_if_outdated(store: Store, revision: int = RECORDS_REVISION) -> bool:
    """Forget every file cursor when the stored facts come from another reading of the records;
    True when it did (the next poll then reads every file from its first byte)."""
    if stored_revision(store) == revision:
        return False
    m = MetaRecord
    with store_failures(store.path, "resetting the file cursors", log), database.atomic():
        forgotten = FileCursorRecord.delete().execute()
        FileProblemRecord.delete().execute()  # found again, with their lines, as files are read
        m.insert(key=_KEY, value=str(revision)).on_conflict_replace().execute()
    if forgotten:
        log.info("this version reads the records differently: %d files are read again once",
                 forgotten)
    return True
