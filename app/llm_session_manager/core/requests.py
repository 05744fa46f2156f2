"""What the UI asks the worker to do: frozen requests in, one frozen outcome out.

The UI thread never touches the store; it emits one of these by signal and the poller thread runs
it through `core.actions.Actions.perform`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from llm_session_manager.core.models import SessionKey


@dataclass(frozen=True)
class TagRequest:
    key: SessionKey
    tags: tuple[str, ...]
    remove: bool = False


@dataclass(frozen=True)
class ProjectRequest:
    key: SessionKey
    name: str | None


@dataclass(frozen=True)
class HideRequest:
    key: SessionKey
    hidden: bool


@dataclass(frozen=True)
class ExportRequest:
    key: SessionKey
    path: str
    fmt: str | None = None  # json | yaml | markdown; None: from the extension
    redact: bool = True


@dataclass(frozen=True)
class ImportRequest:
    path: str
    session_id: str | None = None
    overwrite: bool = False


@dataclass(frozen=True)
class PreviewRequest:
    """The Markdown export (with its continuation brief) of a session, for a dialog's preview."""

    key: SessionKey
    redact: bool = True


Request = TagRequest | ProjectRequest | HideRequest | ExportRequest | ImportRequest | PreviewRequest


@dataclass(frozen=True)
class Outcome:
    """The answer to one request. `payload` is a frozen result (e.g. an export's) or text."""

    request: Request
    ok: bool
    message: str
    payload: Any = None
