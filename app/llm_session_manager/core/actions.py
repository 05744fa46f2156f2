"""What a user can do to sessions, without Qt: the CLI calls these directly, the UI's worker calls
them in the poller thread (the only thread that touches the database after start-up).

Each action writes through the store and refreshes the poller's view of user data, so the next
snapshot shows the change.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from llm_session_manager.core import handoff
from llm_session_manager.core.errors import AppError
from llm_session_manager.core.handoff import ExportResult, ImportResult
from llm_session_manager.core.models import SessionKey, UsageSample
from llm_session_manager.core.poller import Poller
from llm_session_manager.core.requests import (
    ExportRequest,
    HideRequest,
    ImportRequest,
    Outcome,
    PreviewRequest,
    ProjectRequest,
    Request,
    TagRequest,
)

if TYPE_CHECKING:
    from llm_session_manager.store.repo import Store


class Actions:
    def __init__(self, poller: Poller) -> None:
        self._poller = poller

    def _store(self) -> Store:
        store = self._poller.store
        if store is None:
            raise AppError("the database is not available; changes cannot be saved")
        return store

    def tag(self, key: SessionKey, tags: Sequence[str]) -> tuple[str, ...]:
        clean = [t.strip() for t in tags if t.strip()]
        if not clean:
            raise AppError("give at least one non-empty tag")
        store = self._store()
        store.add_tags(key, clean)
        self._poller.reload_user_data()
        return tuple(store.tags_by_session().get(key, ()))

    def untag(self, key: SessionKey, tags: Sequence[str]) -> tuple[tuple[str, ...], list[str]]:
        """Returns the tags now on the session and the ones that were not there."""
        store = self._store()
        removed = store.remove_tags(key, tags)
        self._poller.reload_user_data()
        missing = sorted(set(tags) - set(removed))
        return tuple(store.tags_by_session().get(key, ())), missing

    def set_project(self, key: SessionKey, name: str | None) -> str | None:
        clean = (name or "").strip() or None
        self._store().set_project(key, clean)
        self._poller.reload_user_data()
        return clean

    def set_hidden(self, key: SessionKey, hidden: bool) -> None:
        self._store().set_hidden(key, hidden)
        self._poller.reload_user_data()

    def all_tags(self) -> list[str]:
        return list(self._store().all_tags())

    def history(self, key: SessionKey, since: datetime | None = None) -> list[UsageSample]:
        return list(self._store().samples_for(key, since))

    def export(
        self, key: SessionKey, path: Path, fmt: str | None = None, redact: bool = True
    ) -> ExportResult:
        """Write the session's context document (json/yaml/markdown; None: from the extension)."""
        return handoff.export_session(self._poller, key, path, fmt, redact)

    def preview(self, key: SessionKey, redact: bool = True) -> str:
        """The Markdown export (report + continuation brief) of a session, for a preview."""
        return handoff.preview(self._poller, key, redact)

    def import_context(
        self, path: Path, session_id: str | None = None, overwrite: bool = False
    ) -> ImportResult:
        """Import an exported document as an `imported` session; ImportRejected names the field."""
        return handoff.import_context(self._poller, path, session_id, overwrite)

    def perform(self, request: Request) -> Outcome:
        """Run one request from the UI; an error is an unsuccessful outcome, never an exception."""
        try:
            return self._perform(request)
        except (AppError, OSError, ValueError) as exc:
            return Outcome(request, False, str(exc))

    def _perform(self, request: Request) -> Outcome:
        if isinstance(request, TagRequest):
            if request.remove:
                now, _missing = self.untag(request.key, request.tags)
            else:
                now = self.tag(request.key, request.tags)
            return Outcome(request, True, f"tags: {', '.join(now) or '(none)'}", now)
        if isinstance(request, ProjectRequest):
            name = self.set_project(request.key, request.name)
            return Outcome(request, True, f"project: {name or '(from its folder)'}", name)
        if isinstance(request, HideRequest):
            self.set_hidden(request.key, request.hidden)
            return Outcome(request, True, "hidden" if request.hidden else "shown")
        if isinstance(request, ExportRequest):
            done = self.export(request.key, Path(request.path), request.fmt, request.redact)
            return Outcome(request, True, f"exported to {done.path} ({done.redacted} secrets "
                                          "redacted)", done)  # fmt: skip
        if isinstance(request, ImportRequest):
            result = self.import_context(
                Path(request.path), request.session_id, request.overwrite
            )
            return Outcome(request, True, f"imported as {result.key}", result)
        if isinstance(request, PreviewRequest):
            text = self.preview(request.key, request.redact)
            return Outcome(request, True, "preview ready", text)
        return Outcome(request, False, f"{type(request).__name__} is not supported")
