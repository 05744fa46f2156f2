"""Export documents of real sessions: exact JSON/YAML round trips, the brief, redaction."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from llm_session_manager.config import Config
from llm_session_manager.core.brief import continuation_brief
from llm_session_manager.core.conversation import Conversation, Turn
from llm_session_manager.core.export import build_document, format_for, render
from llm_session_manager.core.importer import parse_document
from llm_session_manager.core.models import Session, SessionKey
from llm_session_manager.core.poller import Poller
from llm_session_manager.core.processes import ProcessTable
from llm_session_manager.core.sources.base import ConversationReader
from llm_session_manager.core.sources.registry import build_sources
from llm_session_manager.store.repo import Store

MYAPP = Path(".claude/projects/-home-dev-src-myapp")
COMPACTED = "81c214e6-cd39-403f-b856-ac5ce6a0f407"
TOOL_ERROR = "0b9297ac-171e-4230-83a5-785e076a5fe9"
CODEX_FAIL = "01a20fd1-0524-7aa0-bb11-fe5f97df676a"
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
ANTHROPIC = "sk-ant-api03-PlantedPlantedPlanted0123456789"
GITHUB = "ghp_PlantedPlantedPlantedPlanted01234567"


def sessions(home: Path, data: Path) -> tuple[Poller, dict[str, Session]]:
    config = Config()
    poller = Poller(build_sources(config, {}, home), Store.open(data / "s.db"), config,
                    scan_processes=ProcessTable)  # fmt: skip
    return poller, {s.key.session_id: s for s in poller.poll_once().sessions}


def document(poller: Poller, session: Session, redact: bool = True) -> tuple[dict[str, Any], int]:
    source = poller.source_for(session.key.agent)
    assert isinstance(source, ConversationReader)
    conversation = source.conversation(session.facts)
    return build_document(session, conversation, "a note\nwith two lines", redact, now=NOW)


@pytest.mark.parametrize("session_id", [COMPACTED, TOOL_ERROR, CODEX_FAIL])
@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_json_and_yaml_round_trip_exactly(
    sample_home: Path, tmp_path: Path, session_id: str, fmt: Any
) -> None:
    poller, found = sessions(sample_home, tmp_path)
    doc, _ = document(poller, found[session_id])
    text = render(doc, fmt)
    back = parse_document(text)
    assert back == doc
    assert render(back, fmt) == text
    assert back["session"]["facts"]["key"]["session_id"] == session_id
    assert back["conversation"]["turns"]


def test_yaml_keeps_awkward_strings_exactly() -> None:
    base = Session(facts=build_session_facts())
    awkward = [
        "line\r\nbreaks", "trailing \nspaces ", "tab\there\nx", "yes", "1.0", "null",
        "2026-11-24T23:05:46Z", "- dash", "#hash", "\u2028sep\nx", "ünïcode\n😀", "",
        "  lead\nx", "end\n", "a: b\nc: d", "!!python/object", "'quoted'\n\"q\"",
    ]  # fmt: skip
    turns = tuple(Turn("user", text) for text in awkward)
    doc, _ = build_document(base, Conversation(turns=turns), None, redact=False, now=NOW)
    text = render(doc, "yaml")
    assert parse_document(text) == doc
    assert [t["text"] for t in parse_document(render(doc, "json"))["conversation"]["turns"]] \
        == awkward  # fmt: skip


def build_session_facts() -> Any:
    from llm_session_manager.core.models import SessionFacts

    return SessionFacts(SessionKey("claude-code", "s1"), title="t", started_at=NOW)


def test_the_document_carries_metadata_figures_health_and_the_conversation(
    sample_home: Path, tmp_path: Path
) -> None:
    poller, found = sessions(sample_home, tmp_path)
    session = found[COMPACTED]
    doc, _ = document(poller, session)
    assert doc["schema_version"] == 1
    s = doc["session"]
    assert (s["agent"], s["session_id"], s["project"], s["notes"]) == (
        "claude-code", COMPACTED, "myapp", "a note\nwith two lines")  # fmt: skip
    assert s["facts"]["usage"]["cache_read"] == session.facts.usage.cache_read
    assert s["health"]["level"] == session.health.level if session.health else s["health"] is None
    roles = [t["role"] for t in doc["conversation"]["turns"]]
    assert {"user", "assistant", "tool_call", "tool_result", "compaction"} <= set(roles)
    assert doc["conversation"]["omitted_turns"] == 0


def test_markdown_brief_has_first_prompt_tools_errors_and_compactions(
    sample_home: Path, tmp_path: Path
) -> None:
    poller, found = sessions(sample_home, tmp_path)
    compacted, _ = document(poller, found[COMPACTED])
    md = render(compacted, "markdown")
    brief = compacted["brief"]
    assert brief in md.replace("```markdown\n", "")  # the brief is in the report, whole
    assert "> [[tool:bash]] please list the files" in brief  # the first prompt, as the goal
    assert "Tools used: Bash ×1" in brief
    assert "`ls`" in brief  # the command it ran
    assert "Compaction points (1)" in brief and "9841 tokens before, 591 after" in brief
    assert "- Last request: fourth turn after compact" in brief

    failed, _ = document(poller, found[TOOL_ERROR])
    assert "Read failed: File does not exist" in failed["brief"]
    assert "`/nonexistent/definitely-missing.txt`" in failed["brief"]  # a file it touched
    codex, _ = document(poller, found[CODEX_FAIL])
    assert "exec_command failed: Chunk ID" in codex["brief"]
    assert "> [[tool:fail]] list a missing dir" in codex["brief"]
    md = render(failed, "markdown")
    assert "### Tool result `Read` (failed)" in md and "## Continuation brief" in md


def test_brief_is_built_from_the_turns_without_a_record() -> None:
    session = Session(facts=build_session_facts())
    turns = (
        Turn("user", "refactor the parser"),
        Turn("tool_call", tool="Edit", tool_input="src/parser.py", paths=("src/parser.py",)),
        Turn("tool_result", "ok", tool="Edit"),
        Turn("error", "API Error: 529 overloaded", is_error=True),
    )
    brief = continuation_brief(session, Conversation(turns=turns))
    assert "> refactor the parser" in brief
    assert "Changed: `src/parser.py`" in brief
    assert "API error: API Error: 529 overloaded" in brief
    assert "- The record ends with an error." in brief
    assert "- Session state: ended." in brief


def test_secrets_in_a_real_transcript_are_redacted_and_counted(
    sample_home: Path, tmp_path: Path
) -> None:
    path = sample_home / MYAPP / f"{COMPACTED}.jsonl"
    lines = [orjson.loads(raw) for raw in path.read_bytes().splitlines()]
    record = next(r for r in lines if r["type"] == "user" and isinstance(
        r["message"]["content"], str))  # fmt: skip
    record["uuid"] = "99999999-0000-4000-8000-000000000001"
    record["message"]["content"] = f"deploy with {ANTHROPIC} and GITHUB_TOKEN={GITHUB}"
    with path.open("ab") as handle:
        handle.write(orjson.dumps(record) + b"\n")
    poller, found = sessions(sample_home, tmp_path)
    doc, count = document(poller, found[COMPACTED])
    text = json.dumps(doc)
    assert ANTHROPIC not in text and GITHUB not in text
    assert count == doc["redaction"]["count"] and count >= 2
    assert "[REDACTED:anthropic-key]" in text and "[REDACTED:github-token]" in text
    assert "secrets redacted" in render(doc, "markdown")
    kept, zero = document(poller, found[COMPACTED], redact=False)
    assert zero == 0 and ANTHROPIC in json.dumps(kept)
    assert kept["redaction"] == {"applied": False, "count": 0}


@pytest.mark.parametrize(
    ("name", "given", "want"),
    [("a.json", None, "json"), ("a.YML", None, "yaml"), ("a.yaml", None, "yaml"),
     ("a.md", None, "markdown"), ("a.txt", "yaml", "yaml"), ("a.json", "markdown", "markdown")],
)  # fmt: skip
def test_format_comes_from_the_option_else_the_extension(
    name: str, given: str | None, want: str
) -> None:
    assert format_for(Path(name), given) == want


def test_an_unknown_extension_without_format_is_refused() -> None:
    with pytest.raises(ValueError, match="--format"):
        format_for(Path("out.txt"))
