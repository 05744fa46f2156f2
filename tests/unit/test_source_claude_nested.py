"""The older nested layout, `projects/<project>/<session id>/<name>.jsonl`, read as ccusage does.

ccusage scans `projects/` for every `*.jsonl` and takes the session id from the parent folder when a
transcript is nested (formats.md §1.1). Its own fixture for that layout is
`projects/project-alpha/session-alpha/chat.jsonl` (tests/data/public/claude-code/, MIT), laid out
here as ccusage has it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson

from agent_records import build_files
from llm_session_manager.core.models import SessionFacts
from llm_session_manager.core.sources.base import TrackedFile
from llm_session_manager.core.sources.claude_code import ClaudeCodeSource

DATA = Path(__file__).resolve().parents[1] / "data"
ALPHA = DATA / "public" / "claude-code" / "ccusage__project-alpha__session-alpha__chat.jsonl"
REAL_PROJECT = DATA / "real-clients" / "home" / ".claude" / "projects" / "-home-dev-src-myapp"
WITH_SUBAGENT = "c065c4b0-94cd-4361-87a1-940b36729be3"  # a main transcript and one subagent's


def ccusage_tokens(*paths: Path) -> tuple[int, int, int, int]:
    """(input, output, cache creation, cache read) the way ccusage counts these files.

    Every line with a `message.usage` object is an entry; entries sharing (message id, request
    id) are one request, of which the copy with the larger total is kept, across all the files
    (formats.md §1.4). The files here have no `/btw` replays and no per-TTL cache breakdown.
    """
    kept: dict[tuple[str, str], tuple[int, int, int, int]] = {}
    for path in paths:
        for line in path.read_bytes().splitlines():
            record = orjson.loads(line)
            message = record.get("message")
            usage = message.get("usage") if isinstance(message, dict) else None
            if not isinstance(usage, dict):
                continue
            entry = tuple(
                int(usage.get(field) or 0)
                for field in (
                    "input_tokens",
                    "output_tokens",
                    "cache_creation_input_tokens",
                    "cache_read_input_tokens",
                )
            )
            key = (message["id"], record["requestId"])
            if key not in kept or sum(entry) > sum(kept[key]):
                kept[key] = (entry[0], entry[1], entry[2], entry[3])
    return (
        sum(e[0] for e in kept.values()),
        sum(e[1] for e in kept.values()),
        sum(e[2] for e in kept.values()),
        sum(e[3] for e in kept.values()),
    )


def build_all(source: ClaudeCodeSource) -> dict[str, SessionFacts]:
    return build_files(source, "claude-code")


def put(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


def tokens(facts: SessionFacts) -> tuple[int, int, int, int]:
    u = facts.usage
    return (u.input, u.output, u.cache_creation, u.cache_read)


def test_ccusage_fixture_in_its_nested_place(tmp_path: Path) -> None:
    nested = put(ALPHA, tmp_path / "projects" / "project-alpha" / "session-alpha" / "chat.jsonl")
    source = ClaudeCodeSource([tmp_path])
    assert source.discover() == [TrackedFile(str(nested), "session-alpha", "main")]

    facts = build_all(source)
    assert set(facts) == {"session-alpha"}  # the folder's name, not the file's "chat"
    expected = ccusage_tokens(nested)
    # By hand: three requests, each once: 100+200+300 in, 50+75+125 out, 25+50+0 written to and
    # 10+20+40 read from cache.
    assert expected == (600, 250, 75, 70)
    assert tokens(facts["session-alpha"]) == expected
    assert facts["session-alpha"].usage.total == sum(expected)
    assert facts["session-alpha"].paths == (str(nested),)


def test_flat_nested_and_subagent_files_make_one_session(tmp_path: Path) -> None:
    project = tmp_path / "projects" / "-home-dev-src-myapp"
    flat = put(REAL_PROJECT / f"{WITH_SUBAGENT}.jsonl", project / f"{WITH_SUBAGENT}.jsonl")
    agent_name = "agent-a880016ef36b519e2.jsonl"
    agent = put(
        REAL_PROJECT / WITH_SUBAGENT / "subagents" / agent_name,
        project / WITH_SUBAGENT / "subagents" / agent_name,
    )
    # An older CLI's copy of the same conversation, nested in the session folder.
    copy = put(flat, project / WITH_SUBAGENT / "chat.jsonl")
    # Files in a session folder that are no transcripts, and a project's memory notes.
    for name in ("subagents/journal.jsonl", "tool-results/t1.jsonl", "workflows/w.jsonl"):
        put(ALPHA, project / WITH_SUBAGENT / name)
    put(ALPHA, project / "memory" / "notes.jsonl")
    source = ClaudeCodeSource([tmp_path])

    found = {(t.path, t.session_id, t.role) for t in source.discover()}
    assert found == {
        (str(flat), WITH_SUBAGENT, "main"),
        (str(copy), WITH_SUBAGENT, "main"),
        (str(agent), WITH_SUBAGENT, "subagent"),
    }
    facts = build_all(source)
    assert set(facts) == {WITH_SUBAGENT}
    whole = facts[WITH_SUBAGENT]
    assert set(whole.paths) == {str(flat), str(copy), str(agent)}
    # The copy's requests are the flat file's: counted once, and the subagent's are added.
    assert tokens(whole) == ccusage_tokens(flat, agent) == ccusage_tokens(flat, copy, agent)
    # Context, prompts and title are the main conversation's, as in the real flat layout.
    real = build_all(ClaudeCodeSource([REAL_PROJECT.parents[1]]))[WITH_SUBAGENT]
    assert real.context.tokens is not None
    assert whole.context == real.context
    assert (whole.title, whole.first_prompt, whole.replies) == (
        real.title, real.first_prompt, real.replies
    )

    # A different nested transcript adds its own requests to the same session.
    other = put(ALPHA, project / WITH_SUBAGENT / "older.jsonl")
    facts = build_all(source)
    assert set(facts) == {WITH_SUBAGENT}
    assert tokens(facts[WITH_SUBAGENT]) == tuple(
        a + b for a, b in zip(ccusage_tokens(flat, agent), ccusage_tokens(other), strict=True)
    )


def test_an_agent_transcript_nested_in_a_session_folder_is_a_subagent(tmp_path: Path) -> None:
    session = tmp_path / "projects" / "p" / "s1"
    agent = put(ALPHA, session / "agent-x.jsonl")
    main = put(ALPHA, session / "main.jsonl")
    found = sorted((t.path, t.session_id, t.role) for t in ClaudeCodeSource([tmp_path]).discover())
    assert found == [(str(agent), "s1", "subagent"), (str(main), "s1", "main")]
