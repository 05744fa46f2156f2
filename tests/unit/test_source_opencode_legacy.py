"""opencode's older `storage/` JSON layout, and opencode's live mapping.

No real client writes `storage/` any more (opencode 1.x migrates it into opencode.db), so these
files are built here in the shapes public readers of that layout document (session, message and
part JSON with the same fields the database's `data` column holds).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from llm_session_manager.core.models import SessionFacts
from llm_session_manager.core.processes import ProcessInfo, ProcessTable
from llm_session_manager.core.sources.opencode import OpencodeSource

SAMPLE_DB = (Path(__file__).resolve().parents[1] / "data" / "real-clients" / "opencode-home"
             / ".local" / "share" / "opencode" / "opencode.db")  # fmt: skip
T0 = 1_760_000_000_000  # ms


def write(path: Path, data: dict[str, object]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def make_session(storage: Path, sid: str, directory: str, parent: str | None = None) -> Path:
    data: dict[str, object] = {"id": sid, "projectID": "prj1", "directory": directory,
                               "title": f"title of {sid}", "version": "0.15.0",
                               "time": {"created": T0, "updated": T0 + 9000}}  # fmt: skip
    if parent:
        data["parentID"] = parent
    return write(storage / "session" / "prj1" / f"{sid}.json", data)


def make_message(storage: Path, sid: str, mid: str, role: str, at: int, **extra: object) -> Path:
    data: dict[str, object] = {"id": mid, "sessionID": sid, "role": role,
                               "time": {"created": at, "completed": at + 100}, **extra}
    return write(storage / "message" / sid / f"{mid}.json", data)


def make_part(storage: Path, mid: str, pid: str, data: dict[str, object]) -> Path:
    return write(storage / "part" / mid / f"{pid}.json", {"id": pid, "messageID": mid, **data})


def tokens(inp: int, out: int, reasoning: int, read: int, write_: int) -> dict[str, object]:
    return {"input": inp, "output": out, "reasoning": reasoning,
            "cache": {"read": read, "write": write_}}  # fmt: skip


def build_storage(data_dir: Path) -> Path:
    storage = data_dir / "storage"
    make_session(storage, "ses_a", "/home/dev/src/legacy")
    make_message(storage, "ses_a", "msg_001", "user", T0 + 1000)
    make_part(storage, "msg_001", "prt_001", {"type": "text", "text": "fix the build"})
    make_message(storage, "ses_a", "msg_002", "assistant", T0 + 2000, modelID="claude-sonnet-4-5",
                 providerID="anthropic", cost=0.01, tokens=tokens(10, 200, 50, 3000, 400))
    make_part(storage, "msg_002", "prt_002", {"type": "tool", "tool": "bash", "state": {
        "status": "error", "error": "exit 1", "time": {"start": T0 + 2100, "end": T0 + 2200}}})
    make_message(storage, "ses_a", "msg_003", "assistant", T0 + 3000, modelID="claude-sonnet-4-5",
                 providerID="anthropic", cost=0.02, tokens=tokens(20, 100, 0, 3400, 0))
    # A subagent's child session: its tokens are the parent's.
    make_session(storage, "ses_b", "/home/dev/src/legacy", parent="ses_a")
    make_message(storage, "ses_b", "msg_004", "assistant", T0 + 2500, modelID="claude-haiku-4-5",
                 providerID="anthropic", tokens=tokens(5, 5, 0, 0, 0))
    return storage


def facts_of(source: OpencodeSource) -> dict[str, SessionFacts]:
    result = source.read(source.watched())
    assert result.problems == () and result.retry == ()
    return {f.key.session_id: f for f in result.facts}


def test_legacy_layout_is_read(tmp_path: Path) -> None:
    storage = build_storage(tmp_path)
    facts = facts_of(OpencodeSource([tmp_path]))
    assert set(facts) == {"ses_a"}
    a = facts["ses_a"]
    session = json.loads((storage / "session" / "prj1" / "ses_a.json").read_text())
    assert a.agent_version == session["version"]
    assert a.cwd == "/home/dev/src/legacy"
    assert a.title == "title of ses_a"
    assert a.first_prompt == "fix the build"
    assert a.usage.input == 10 + 20 + 5
    assert a.usage.output == 250 + 100 + 5
    assert a.usage.reasoning == 50
    assert a.usage.cache_read == 6400 and a.usage.cache_creation == 400
    assert {m.model for m in a.by_model} == {"claude-sonnet-4-5", "claude-haiku-4-5"}
    assert a.model == "claude-sonnet-4-5"
    assert a.context.tokens == 20 + 3400
    assert a.errors.tool == 1
    assert (a.prompts, a.replies) == (1, 2)


def test_legacy_watch_list_is_cheap(tmp_path: Path) -> None:
    storage = build_storage(tmp_path)
    old = time.time() - 30 * 86400
    os.utime(storage / "message" / "ses_b", (old, old))  # a folder nobody wrote for a month
    watched = set(OpencodeSource([tmp_path]).watched())
    assert str(storage / "session" / "prj1" / "ses_a.json") in watched
    assert str(storage / "message" / "ses_a") in watched
    assert str(storage / "message" / "ses_b") in watched
    # Files of a recently written folder are watched (opencode rewrites them in place)...
    assert str(storage / "message" / "ses_a" / "msg_002.json") in watched
    # ...those of an old folder are not, and part files never are.
    assert not any(p.startswith(str(storage / "message" / "ses_b") + os.sep) for p in watched)
    assert not any(p.startswith(str(storage / "part")) for p in watched)


def test_rewritten_message_is_reread(tmp_path: Path) -> None:
    storage = build_storage(tmp_path)
    source = OpencodeSource([tmp_path])
    facts_of(source)
    path = make_message(storage, "ses_a", "msg_003", "assistant", T0 + 3000,
                        modelID="claude-sonnet-4-5", tokens=tokens(20, 900, 0, 3400, 0))
    result = source.read([str(path)])
    assert [f.usage.output for f in result.facts] == [250 + 900 + 5]


def test_half_written_message_is_retried(tmp_path: Path) -> None:
    storage = build_storage(tmp_path)
    broken = storage / "message" / "ses_a" / "msg_009.json"
    broken.write_text('{"id": "msg_009", "role": "assist')
    source = OpencodeSource([tmp_path])
    assert str(broken) in source.watched()  # the poller lists before it reads
    result = source.read([str(broken)])
    assert result.retry == (str(broken),)
    assert [f.key.session_id for f in result.facts] == ["ses_a"]


def test_database_copy_wins_over_storage(tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    shutil.copy(SAMPLE_DB, tmp_path / "opencode.db")
    # A session left behind in storage/ after opencode migrated it into the database.
    make_session(storage, "ses_df0003d7affewYGGRNysiMPFUB", "/somewhere/else")
    facts = facts_of(OpencodeSource([tmp_path]))
    assert facts["ses_df0003d7affewYGGRNysiMPFUB"].cwd == "/home/dev/src/other"


# -- live -----------------------------------------------------------------------------------

NPM_EXE = "/opt/r/node_modules/opencode-ai/bin/opencode.exe"


def proc(pid: int, cmdline: tuple[str, ...], cwd: str, name: str = "opencode",
         exe: str = NPM_EXE, created: float = 100.0) -> ProcessInfo:
    return ProcessInfo(pid, name, exe, cmdline, created, 1, cwd=cwd)


def test_live_maps_the_process_to_the_newest_session_in_its_cwd(tmp_path: Path) -> None:
    shutil.copy(SAMPLE_DB, tmp_path / "opencode.db")
    source = OpencodeSource([tmp_path])
    facts = facts_of(source)
    # As psutil showed opencode 1.18.33 installed from npm, plus what must not count.
    table = ProcessTable.from_infos([
        proc(10, ("/opt/r/node_modules/.bin/opencode",), "/home/dev/src/demo"),
        proc(11, ("opencode", "serve", "--port", "4096"), "/home/dev/src/other"),
        proc(12, ("node", "/opt/r/node_modules/opencode-ai/bin/opencode"), "/home/dev/src/other",
             name="node", exe="/usr/bin/node"),
        proc(13, ("opencode", "run", "hi"), "/home/dev/src/nothing-here"),
    ])  # fmt: skip
    live = source.live(table, facts)
    assert set(live) == {"ses_df0008101ffeU7dtBTqnuNRDhR"}
    state = live["ses_df0008101ffeU7dtBTqnuNRDhR"]
    assert (state.state, state.pids, state.mapping) == ("idle", (10,), "cwd")


def test_live_open_turn_is_active(tmp_path: Path) -> None:
    storage = build_storage(tmp_path)
    path = storage / "message" / "ses_a" / "msg_003.json"
    data = json.loads(path.read_text())
    del data["time"]["completed"]
    path.write_text(json.dumps(data))
    source = OpencodeSource([tmp_path])
    facts = facts_of(source)
    table = ProcessTable.from_infos([proc(20, ("opencode",), "/home/dev/src/legacy",
                                          exe="/usr/local/bin/opencode")])
    assert source.live(table, facts)["ses_a"].state == "active"
