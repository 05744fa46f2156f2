"""Snapshots for the window tests, from a real poll of the real clients' sample home.

Only the OS boundary is recorded rather than live: the process table comes from what psutil
reported while the real Claude Code and Codex ran (tests/data/real-clients/live), so two
sessions are live (idle, matched by cwd) and the rest ended, as the poller decides.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from llm_session_manager.config import Config
from llm_session_manager.core.models import SessionKey, Snapshot
from llm_session_manager.core.poller import Poller
from llm_session_manager.core.processes import ProcessTable
from llm_session_manager.core.sources.registry import build_sources
from llm_session_manager.core.tokens import count_tokens
from process_dumps import load_dump

DUMPS = ("codex-process-tree.json", "claude-process-busy.json")

# Sessions of the sample home, by what a test needs of them.
COMPACTED = SessionKey("claude-code", "81c214e6-cd39-403f-b856-ac5ce6a0f407")  # 38.8k, 1 compaction
MOCK_SESSION = SessionKey("claude-code", "984fb08c-2335-4d98-8a9a-ba9fc10c3c14")  # 28.9k, live
READ_MISSING = SessionKey("claude-code", "0b9297ac-171e-4230-83a5-785e076a5fe9")  # 19k, 1 error
SAY_HELLO = SessionKey("claude-code", "9f0872f4-68e2-4afc-b54d-208680e00ae9")  # 9.4k
ODD_PATH = SessionKey("claude-code", "24237997-fab8-43e0-93cd-29f8ded17d6b")  # "my.app_v2 space"
CODEX_LIVE = SessionKey("codex", "01a20fd1-4b89-7f80-8a4c-8dc40102662d")  # idle, cxapp





def recorded_processes() -> ProcessTable:
    return ProcessTable({p.pid: p for name in DUMPS for p in load_dump(name)})


def sample_poller(
    home: Path,
    store: Any = None,
    config: Config | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Poller:
    config = config or Config()
    sources = build_sources(config, {}, home, count_tokens=count_tokens)
    kwargs: dict[str, Any] = {"scan_processes": recorded_processes}
    if clock is not None:
        kwargs["clock"] = clock
    return Poller(sources, store, config, **kwargs)


def sample_snapshot(home: Path) -> Snapshot:
    return sample_poller(home).poll_once()


class StepClock:
    """A clock a test moves by hand, so samples and relative times are reproducible."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)


def transcript_of(home: Path, key: SessionKey) -> Path:
    return next((home / ".claude" / "projects").rglob(f"{key.session_id}.jsonl"))


def replay(path: Path, poll: Callable[[], object], steps: int) -> None:
    """Write a transcript back line by line in `steps` chunks, polling after each: the store
    gets the usage samples the real session would have left while it ran."""
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"")
    size = max(1, -(-len(lines) // steps))
    for start in range(0, len(lines), size):
        with path.open("ab") as handle:
            handle.writelines(lines[start : start + size])
        poll()
