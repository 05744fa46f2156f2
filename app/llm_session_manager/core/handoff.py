"""Export a session to a file and import one back: the two actions behind `export` and
`import-context` (and the window's dialogs), in the poller's thread like every other action.

Export reads the session's conversation from the agent's record (through the source's
`ConversationReader`), or, for an imported session, gives back the stored document with the
user's current tags, project and notes, so export -> import -> export yields the same document.
The output file is written whole or not at all (temp file + rename), and never inside a folder
an agent's records live in.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llm_session_manager.core.conversation import Conversation
from llm_session_manager.core.errors import AppError, ImportRejected, SessionNotFound
from llm_session_manager.core.export import (
    Format,
    build_document,
    format_for,
    redact_document,
    render,
)
from llm_session_manager.core.importer import MAX_BYTES, parse_document, prepare_import
from llm_session_manager.core.models import Session, SessionKey
from llm_session_manager.core.sources.base import ConversationReader

if TYPE_CHECKING:
    from llm_session_manager.core.poller import Poller
    from llm_session_manager.store.documents import Documents


@dataclass(frozen=True)
class ExportResult:
    key: SessionKey
    path: Path
    format: Format
    redacted: int  # secrets replaced by this export
    turns: int
    from_import: bool  # the stored document of an imported session was written
    note: str | None = None  # what is missing from the conversation, if anything


@dataclass(frozen=True)
class ImportResult:
    key: SessionKey
    title: str | None
    turns: int
    replaced: bool  # a session with this key existed and was overwritten


def export_session(
    poller: Poller, key: SessionKey, path: Path, fmt: str | None = None, redact: bool = True
) -> ExportResult:
    try:
        chosen = format_for(path, fmt)
    except ValueError as exc:
        raise AppError(str(exc)) from None
    _refuse_agent_folder(poller, path)
    document, redacted, from_import = session_document(poller, key, redact)
    _write(path, render(document, chosen))
    conversation = document["conversation"]
    turns = len(conversation["turns"])
    return ExportResult(key, path, chosen, redacted, turns, from_import, conversation["note"])


def preview(poller: Poller, key: SessionKey, redact: bool = True) -> str:
    """The Markdown export of a session (report + continuation brief), without writing a file."""
    document, _, _ = session_document(poller, key, redact)
    return render(document, "markdown")


def brief_for(poller: Poller, key: SessionKey, redact: bool = True) -> str:
    """The continuation brief alone, read from the session's record (for restart advice)."""
    from llm_session_manager.core.brief import continuation_brief
    from llm_session_manager.core.redact import Redactor

    session = _session(poller, key)
    if session is None:
        raise SessionNotFound(f"no session {key} (see `list` for IDs)")
    brief = continuation_brief(session, _conversation(poller, session))
    return Redactor().text(brief) if redact else brief


def session_document(
    poller: Poller, key: SessionKey, redact: bool = True
) -> tuple[dict[str, Any], int, bool]:
    """(document, secrets redacted, whether it is an imported session's stored document)."""
    session = _session(poller, key)
    if session is None:
        raise SessionNotFound(f"no session {key} (see `list` for IDs)")
    docs = _documents(poller)
    notes = docs.note(key) if docs is not None else None
    stored = docs.load_document(key) if docs is not None and session.imported else None
    if stored is not None:
        document = _current_user_data(stored, session, notes)
        if not redact:
            return document, 0, True
        cleaned, redacted = redact_document(document)
        return cleaned, redacted, True
    conversation = _conversation(poller, session)
    document, redacted = build_document(session, conversation, notes, redact)
    return document, redacted, False


def import_context(
    poller: Poller,
    path: Path,
    session_id: str | None = None,
    overwrite: bool = False,
    *,
    max_bytes: int = MAX_BYTES,
) -> ImportResult:
    """Validate the document in `path` fully before anything is written; then store it whole."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ImportRejected("document", f"is {size:,} bytes; the limit is {max_bytes:,}")
        raw = path.read_bytes()
    except OSError as exc:
        raise AppError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ImportRejected("document", f"not UTF-8 text (byte {exc.start})") from None
    prepared = prepare_import(parse_document(text, max_bytes=max_bytes), session_id)
    docs = _documents(poller)
    if docs is None:
        raise AppError("the database is not available; nothing can be imported")
    exists = _session(poller, prepared.key) is not None
    if exists and not overwrite:
        raise AppError(
            f"session {prepared.key} exists; add --overwrite to replace it, "
            "or --session-id NEW to import it beside it"
        )
    docs.import_session(
        prepared.facts, prepared.tags, prepared.project, prepared.notes, prepared.document
    )
    poller.put_imported(prepared.facts)
    poller.reload_user_data()
    turns = len(prepared.document["conversation"]["turns"])
    return ImportResult(prepared.key, prepared.facts.title, turns, exists)


def _session(poller: Poller, key: SessionKey) -> Session | None:
    session = poller.session(key)
    if session is None:  # not polled yet in this process, or new since the last poll
        poller.poll_once()
        session = poller.session(key)
    return session


def _documents(poller: Poller) -> Documents | None:
    store = poller.store
    if store is None:
        return None
    from llm_session_manager.store.documents import Documents

    return Documents(store)


def _conversation(poller: Poller, session: Session) -> Conversation:
    source = poller.source_for(session.key.agent)
    if not isinstance(source, ConversationReader):
        return Conversation(unavailable=f"reading {session.key.agent} conversations is not "
                                        "supported yet")  # fmt: skip
    try:
        return source.conversation(session.facts)
    except OSError as exc:
        return Conversation(unavailable=f"the record could not be read ({exc.strerror or exc})")


def _current_user_data(
    stored: dict[str, Any], session: Session, notes: str | None
) -> dict[str, Any]:
    """The stored document with the tags, project and notes the user has now."""
    fields = {"project": session.project, "tags": list(session.tags), "notes": notes}
    return {**stored, "session": {**stored["session"], **fields}}


def _refuse_agent_folder(poller: Poller, path: Path) -> None:
    target = path.expanduser().resolve()
    for source in poller.sources:
        for root in source.roots():
            resolved = root.expanduser().resolve()
            if target == resolved or resolved in target.parents:
                raise AppError(f"will not write into {root}: it holds {source.agent}'s own records")


def _write(path: Path, text: str) -> None:
    target = path.expanduser()
    if not target.parent.is_dir():
        raise AppError(f"cannot write {path}: the folder {target.parent} does not exist")
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, target)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise AppError(f"cannot write {path}: {exc.strerror or exc}") from None
