"""Reading the agents' records as the poller does on first sight, and extending a real Claude
Code transcript by one request, for the tests of several sources."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import orjson

from llm_session_manager.core.models import SessionFacts, SessionKey
from llm_session_manager.core.sources.base import FileAccumulator, Source, TrackedFile
from llm_session_manager.core.tail import Cursor, FileStat, read_appended


def build_files(source: Source, agent: str) -> dict[str, SessionFacts]:
    """Read every file whole, as the poller does on first sight, then build each session."""
    members: dict[str, list[tuple[TrackedFile, FileAccumulator]]] = defaultdict(list)
    for tracked in source.discover():
        acc = source.new_accumulator(tracked)
        result = read_appended(tracked.path, Cursor(), FileStat.of(tracked.path), acc.feed)
        assert result.bad_line_count == 0, result.bad_lines
        members[tracked.session_id].append((tracked, acc))
    return {sid: source.build(SessionKey(agent, sid), m) for sid, m in members.items()}


def claude_request(
    transcript: Path,
    n: int,
    *,
    input_tokens: int,
    output_tokens: int,
    cache_read: int = 0,
    timestamp: str | None = None,
) -> bytes:
    """One more request (a JSON line), shaped like the transcript's last reply with usage, with
    fresh ids (numbered `n`) and only the given usage."""
    last = None
    with transcript.open("rb") as handle:
        for raw in handle:
            record = orjson.loads(raw)
            if record.get("type") == "assistant" and "usage" in record.get("message", {}):
                last = record
    assert last is not None
    last["message"]["id"] = f"msg_test_{n}"
    last["requestId"] = f"req_test_{n}"
    last["uuid"] = f"00000000-0000-4000-8000-{n:012d}"
    if timestamp is not None:
        last["timestamp"] = timestamp
    last["message"]["usage"] = {"input_tokens": input_tokens, "output_tokens": output_tokens,
                                "cache_creation_input_tokens": 0,
                                "cache_read_input_tokens": cache_read}  # fmt: skip
    return orjson.dumps(last) + b"\n"
