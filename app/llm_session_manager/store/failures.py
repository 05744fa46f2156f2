"""The store's error guard: a failure of the database file becomes one StoreError with its path.

Locked, corrupt, read-only or full: the caller gets a StoreError naming the file and what to do,
and the failure is logged once on the caller's logger. A StoreError passes through unchanged, and
our own SQL mistakes (integrity, programming errors) are left to surface as they are.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from llm_session_manager.core.errors import StoreError
from llm_session_manager.store.db import is_store_failure, store_error


@contextmanager
def store_failures(path: str, action: str, log: logging.Logger) -> Iterator[None]:
    """Run the block; a database failure in it is logged as `action` and raised as StoreError."""
    try:
        yield
    except StoreError:
        raise
    except Exception as exc:
        if not is_store_failure(exc):
            raise
        error = store_error(path, exc)
        log.warning("store: %s failed: %s", action, error)
        raise error from exc
