"""Importing export documents: malformed input is refused, naming the field; the DB is untouched."""

from __future__ import annotations

import copy
import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from llm_session_manager.config import Config
from llm_session_manager.core.actions import Actions
from llm_session_manager.core.conversation import MAX_TURNS
from llm_session_manager.core.errors import AppError, ImportRejected
from llm_session_manager.core.export import build_document, render
from llm_session_manager.core.importer import MAX_BYTES, MAX_STRING, parse_document
from llm_session_manager.core.models import SessionKey
from llm_session_manager.core.poller import Poller
from llm_session_manager.core.processes import ProcessTable
from llm_session_manager.core.sources.base import ConversationReader
from llm_session_manager.core.sources.registry import build_sources
from llm_session_manager.store.repo import Store

COMPACTED = "81c214e6-cd39-403f-b856-ac5ce6a0f407"
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
def setup(sample_home: Path, tmp_path: Path) -> tuple[Poller, Path, dict[str, Any]]:
    config = Config()
    db_path = tmp_path / "data" / "s.db"
    poller = Poller(build_sources(config, {}, sample_home), Store.open(db_path), config,
                    scan_processes=ProcessTable)  # fmt: skip
    session = next(s for s in poller.poll_once().sessions if s.key.session_id == COMPACTED)
    source = poller.source_for("claude-code")
    assert isinstance(source, ConversationReader)
    doc, _ = build_document(session, source.conversation(session.facts), "n", now=NOW)
    doc["session"]["tags"] = ["handoff", "urgent"]
    doc["session"]["project"] = "Payments"
    return poller, db_path, doc


def rows(db_path: Path) -> list[str]:
    """Every row of every table, as SQL text: the database's content, in comparable form."""
    conn = sqlite3.connect(db_path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def changed(field: str, value: Any) -> Callable[[dict[str, Any]], Any]:
    """A mutation setting the dotted field (`a.b[0].c`) to `value`; `...` deletes it."""

    def mutate(doc: dict[str, Any]) -> Any:
        parts = field.replace("[", ".").replace("]", "").split(".")
        target: Any = doc
        for part in parts[:-1]:
            target = target[int(part)] if part.isdigit() else target[part]
        last: Any = int(parts[-1]) if parts[-1].isdigit() else parts[-1]
        if value is ...:
            del target[last]
        else:
            target[last] = value
        return json.dumps(doc)

    return mutate


def text(raw: str) -> Callable[[dict[str, Any]], Any]:
    return lambda doc: raw


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


# (name, mutation -> document text, the field the error must name, a word the message must have)
MALFORMED: list[tuple[str, Callable[[dict[str, Any]], Any], str, str]] = [
    ("a list, not an object", text("[1, 2]"), "document", "object"),
    ("broken JSON", text('{"schema_version": 1,'), "document", "JSON"),
    ("broken YAML", text("schema_version: [1, 2"), "document", "YAML"),
    ("empty file", text(""), "document", "object"),
    ("missing schema_version", changed("schema_version", ...), "schema_version", "missing"),
    ("schema_version as text", changed("schema_version", "1"), "schema_version", "integer"),
    ("a future schema", changed("schema_version", 2), "schema_version", "not supported"),
    ("wrong kind", changed("kind", "something-else"), "kind", "expected"),
    ("unknown top-level field", changed("payload", {"x": 1}), "payload", "unknown"),
    ("missing session", changed("session", ...), "session", "missing"),
    ("agent is a number", changed("session.agent", 7), "session.agent", "text"),
    ("empty session id", changed("session.session_id", ""), "session.session_id", "session ID"),
    ("tags not a list", changed("session.tags", "a,b"), "session.tags", "list"),
    ("a tag is a number", changed("session.tags[1]", 5), "session.tags[1]", "text"),
    ("negative cost", changed("session.cost_usd", -1.5), "session.cost_usd", "≥ 0"),
    ("bad health level", changed("session.health.level", "great"), "session.health.level",
     "one of"),
    ("usage count as text", changed("session.facts.usage.input", "12"),
     "session.facts.usage.input", "int"),
    ("facts of another session", changed("session.facts.key.session_id", "other"),
     "session.facts.key", "match"),
    ("start time not a time", changed("session.facts.started_at", "yesterday"),
     "session.facts.started_at", "ISO"),
    ("unknown facts field", changed("session.facts.secret_sauce", 1),
     "session.facts.secret_sauce", "unknown"),
    ("integer beyond 64 bits", changed("session.facts.prompts", 1 << 70),
     "session.facts.prompts", "64-bit"),
    ("turns not a list", changed("conversation.turns", {"0": {}}), "conversation.turns", "list"),
    ("unknown role", changed("conversation.turns[0].role", "robot"),
     "conversation.turns[0].role", "one of"),
    ("is_error as text", changed("conversation.turns[1].is_error", "yes"),
     "conversation.turns[1].is_error", "true or false"),
    ("time without a zone", changed("conversation.turns[0].timestamp", "2026-11-24T23:05:46"),
     "conversation.turns[0].timestamp", "zone"),
    ("turn missing its text", changed("conversation.turns[2].text", ...),
     "conversation.turns[2].text", "missing"),
    ("too many turns", changed("conversation.turns",
                               [{"role": "user", "text": "x", "tool": None, "tool_input": None,
                                 "is_error": False, "timestamp": None, "subagent": False,
                                 "paths": []}] * (MAX_TURNS + 1)),
     "conversation.turns", "limit"),
    ("negative redaction count", changed("redaction.count", -1), "redaction.count", "≥ 0"),
    ("huge string", changed("brief", "x" * (MAX_STRING + 1)), "brief", "limit"),
    ("NaN", text('{"schema_version": NaN}'), "document", "NaN"),
    ("duplicate JSON key", text('{"kind": "a", "kind": "b"}'), "kind", "twice"),
    ("duplicate YAML key", text("kind: a\nkind: b\n"), "kind", "twice"),
    ("deep JSON nesting", text(deep(100_000)), "document", "nested"),
    ("deep YAML nesting", text("schema_version: 1\nsession: " + deep(40) + "\n"), "document",
     "nested"),
    ("python object tag", text("kind: !!python/object/apply:os.system ['echo pwned']\n"),
     "document", "python/object"),
    ("python name tag", text("kind: !!python/name:os.system\n"), "document", "python/name"),
    ("binary tag", text("brief: !!binary aGVsbG8=\n"), "document", "binary"),
    ("custom tag", text("brief: !shell 'rm -rf /'\n"), "document", "!shell"),
    ("YAML aliases (billion laughs)",
     text('a: &a ["lol", "lol"]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n'), "document", "aliases"),
    ("unquoted YAML date", lambda doc: render(doc, "yaml").replace(
        f"exported_at: '{doc['exported_at']}'", "exported_at: 2026-11-25 09:00:00", 1),
     "exported_at", "text"),
]  # fmt: skip


def test_there_are_at_least_twenty_malformed_cases() -> None:
    assert len(MALFORMED) >= 20


@pytest.mark.parametrize(("name", "mutate", "field", "word"), MALFORMED,
                         ids=[m[0] for m in MALFORMED])  # fmt: skip
def test_malformed_documents_are_refused_naming_the_field_and_change_nothing(
    setup: tuple[Poller, Path, dict[str, Any]],
    tmp_path: Path,
    name: str,
    mutate: Callable[[dict[str, Any]], Any],
    field: str,
    word: str,
) -> None:
    poller, db_path, doc = setup
    path = tmp_path / "bad.json"
    path.write_text(mutate(copy.deepcopy(doc)), encoding="utf-8")
    before = rows(db_path)
    with pytest.raises(ImportRejected) as info:
        Actions(poller).import_context(path)
    assert info.value.field == field, str(info.value)
    assert str(info.value).startswith(f"{field}: ")
    assert word in str(info.value)
    assert rows(db_path) == before
    assert not any(s.imported for s in poller.poll_once().sessions)


def test_oversized_and_non_utf8_files_are_refused_before_parsing(
    setup: tuple[Poller, Path, dict[str, Any]], tmp_path: Path
) -> None:
    poller, db_path, _ = setup
    before = rows(db_path)
    big = tmp_path / "big.json"
    with big.open("wb") as handle:
        handle.truncate(MAX_BYTES + 1)
    with pytest.raises(ImportRejected, match=r"^document: is .* bytes; the limit"):
        Actions(poller).import_context(big)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"brief: caf\xe9\n")
    with pytest.raises(ImportRejected, match=r"^document: not UTF-8"):
        Actions(poller).import_context(latin)
    with pytest.raises(ImportRejected, match=r"^document: is 7 bytes; the limit is 5"):
        parse_document('{"a":1}', max_bytes=5)
    assert rows(db_path) == before


def test_a_valid_import_appears_as_imported_with_tags_project_and_notes(
    setup: tuple[Poller, Path, dict[str, Any]], tmp_path: Path
) -> None:
    poller, _, doc = setup
    actions = Actions(poller)
    path = tmp_path / "ok.yaml"
    path.write_text(render(doc, "yaml"), encoding="utf-8")

    with pytest.raises(AppError, match="exists; add --overwrite"):
        actions.import_context(path)  # the same session is on this machine already
    result = actions.import_context(path, session_id="copy-1")
    key = SessionKey("claude-code", "copy-1")
    assert (result.key, result.replaced) == (key, False)
    found = {s.key: s for s in poller.poll_once().sessions}
    imported = found[key]
    assert imported.state == "imported"
    assert imported.tags == ("handoff", "urgent") and imported.project == "Payments"
    assert found[SessionKey("claude-code", COMPACTED)].state != "imported"  # the original stays

    out = tmp_path / "again.yaml"
    exported = actions.export(key, out)
    assert exported.from_import
    again = parse_document(out.read_text(encoding="utf-8"))
    want = copy.deepcopy(doc)
    want["session"]["session_id"] = "copy-1"
    want["session"]["facts"]["key"]["session_id"] = "copy-1"
    assert again == want

    # --overwrite replaces it; a fresh poller (a restart) still shows it as imported.
    doc2 = copy.deepcopy(want)
    doc2["session"]["tags"] = ["replaced"]
    path.write_text(render(doc2, "json"), encoding="utf-8")
    with pytest.raises(AppError, match="exists"):
        actions.import_context(path)
    assert actions.import_context(path, overwrite=True).replaced
    store = poller.store
    assert store is not None
    config = Config()
    restarted = Poller(build_sources(config, {}, Path(tmp_path / "nohome")), store, config,
                       scan_processes=ProcessTable)  # fmt: skip
    after = {s.key: s for s in restarted.poll_once().sessions}[key]
    assert (after.state, after.tags) == ("imported", ("replaced",))
