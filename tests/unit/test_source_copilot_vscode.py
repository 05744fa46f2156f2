"""The Copilot Chat (VS Code) source on a real session (Piebald-AI/splitrail, Copilot Chat 0.33).

The file is copied into a fake VS Code user dir in tmp_path with a `workspace.json` written here.
It records no token counts, so the expected numbers are the prompt and reply texts read from
the file here and counted with the same offline tokenizer. The change-log (`.jsonl`) cases are in
`test_source_copilot_vscode_log.py`.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from llm_session_manager.config import AgentConfig, Config
from llm_session_manager.core import processes
from llm_session_manager.core.models import SessionFacts, SessionKey
from llm_session_manager.core.poller import Poller
from llm_session_manager.core.processes import ProcessInfo, ProcessTable
from llm_session_manager.core.sources import copilot_vscode, cursor, registry
from llm_session_manager.core.sources.base import SnapshotSource
from llm_session_manager.core.sources.copilot_vscode import CopilotVSCodeSource, default_user_dirs
from llm_session_manager.core.tokens import count_tokens

REAL = (Path(__file__).resolve().parents[1] / "data" / "public" / "copilot-vscode"
        / "splitrail__copilot.trimmed.json")
SESSION = "f56f201a-672e-4cc5-ada9-4736258cc586"
FOLDER = "/home/dev/src/splitrail"
MODEL = "generic-copilot/litellm/anthropic/claude-haiku-4.5"


def _doc() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(REAL.read_text())
    return data


def _ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    user = tmp_path / "Code" / "User"
    workspace = user / "workspaceStorage" / "9a1b"
    (workspace / "chatSessions").mkdir(parents=True)
    shutil.copyfile(REAL, workspace / "chatSessions" / f"{SESSION}.json")
    (workspace / "workspace.json").write_text(json.dumps({"folder": f"file://{FOLDER}"}))
    return user


def _facts(user: Path) -> dict[str, SessionFacts]:
    source = CopilotVSCodeSource([user], count_tokens=count_tokens)
    result = source.read(source.watched())
    assert result.problems == () and result.retry == ()
    return {f.key.session_id: f for f in result.facts}


def test_default_user_dirs_cover_vscode_its_builds_and_forks(tmp_path: Path) -> None:
    # formats.md §4.1: the same layout for Insiders, VSCodium and the forks Cursor, Windsurf and
    # Positron, under each OS's app data dir.
    products = ("Code", "Code - Insiders", "VSCodium", "Cursor", "Windsurf", "Positron")
    assert default_user_dirs({}, tmp_path, "linux") == [
        tmp_path / ".config" / p / "User" for p in products]
    assert default_user_dirs({}, tmp_path, "darwin") == [
        tmp_path / "Library" / "Application Support" / p / "User" for p in products]
    roaming = Path("C:/Users/u/AppData/Roaming")
    assert default_user_dirs({"APPDATA": str(roaming)}, tmp_path, "win32") == [
        roaming / p / "User" for p in products]


def test_info_lists_every_editor_user_dir(tmp_path: Path) -> None:
    source = copilot_vscode.create(AgentConfig(), {}, tmp_path)
    names = [root.parent.name for root in source.roots()]
    assert names[-2:] == ["Windsurf", "Positron"]


def test_registered_sources_are_snapshot_sources(tmp_path: Path) -> None:
    assert registry.SOURCE_MODULES["cursor"] == cursor.__name__
    assert registry.SOURCE_MODULES["copilot-vscode"] == copilot_vscode.__name__
    for module in (cursor, copilot_vscode):
        source = module.create(AgentConfig(roots=("~/x/User",)), {}, tmp_path, count_tokens)
        assert isinstance(source, SnapshotSource)
        # Cursor's agent transcripts and chat stores keep their default roots when only a user
        # dir is configured.
        extra = ([tmp_path / ".cursor" / "projects", tmp_path / ".cursor" / "chats"]
                 if module is cursor else [])
        assert list(source.roots()) == [tmp_path / "x" / "User", *extra]


def test_real_session_facts(user_dir: Path) -> None:
    doc = _doc()
    facts = _facts(user_dir)[SESSION]
    assert facts.key == SessionKey("copilot-vscode", SESSION)
    assert facts.title == "Adding a debug option to the application"  # customTitle
    assert facts.cwd == FOLDER  # from workspace.json
    assert facts.model == MODEL
    assert (facts.prompts, facts.replies) == (3, 3)
    assert facts.first_prompt == "Does this application have a debug option"
    assert facts.started_at == _ms(doc["creationDate"])
    assert facts.last_activity_at == _ms(doc["lastMessageDate"])
    assert facts.errors.total == 0
    assert facts.turn_hint == "turn_done"


def test_real_session_tokens_are_counted_from_prompts_and_markdown(user_dir: Path) -> None:
    requests = _doc()["requests"]
    # Copilot Chat 0.33 records no token counts: neither promptTokens nor outputTokens.
    assert not any("promptTokens" in r["result"]["metadata"] for r in requests)
    prompts = [r["message"]["text"] for r in requests]
    replies = ["".join(p["value"] for p in r["response"] if "kind" not in p) for r in requests]
    facts = _facts(user_dir)[SESSION]
    assert facts.usage.source == "counted"
    assert facts.usage.input == sum(count_tokens(t) for t in prompts)
    assert facts.usage.output == sum(count_tokens(t) for t in replies)
    assert facts.usage.output > 500  # the replies' markdown, not the tool-call chrome
    assert [(m.model, m.usage) for m in facts.by_model] == [(MODEL, facts.usage)]
    assert facts.context.tokens is None  # no prompt size recorded: the fill is unknown


def test_empty_window_chat_takes_its_folder_from_the_prompt_cache_key(tmp_path: Path) -> None:
    user = tmp_path / "User"
    empty = user / "globalStorage" / "emptyWindowChatSessions"
    empty.mkdir(parents=True)
    shutil.copyfile(REAL, empty / f"{SESSION}.json")
    assert _facts(user)[SESSION].cwd == "/home/sample/workspace/splitrail"


def test_transferred_chats_are_read_in_both_formats(tmp_path: Path) -> None:
    # VS Code keeps a chat handed over to another workspace in
    # globalStorage/transferredChatSessions/ (formats.md §4.1), written whole as `.json`; a
    # `.jsonl` there is a change log, and a `.json` beside its `.jsonl` is the stale copy.
    user = tmp_path / "Windsurf" / "User"
    transferred = user / "globalStorage" / "transferredChatSessions"
    transferred.mkdir(parents=True)
    shutil.copyfile(REAL, transferred / f"{SESSION}.json")
    log_id = "0c4f1e2a-7d7b-4a8e-9a55-2f1f5c3e9b10"
    doc = {**_doc(), "sessionId": log_id, "customTitle": "Moved chat"}
    (transferred / f"{log_id}.jsonl").write_text(json.dumps({"kind": 0, "v": doc}) + "\n")
    (transferred / f"{log_id}.json").write_text("{}")
    source = CopilotVSCodeSource([user], count_tokens=count_tokens)
    assert sorted(source.watched()) == sorted(
        [str(transferred / f"{SESSION}.json"), str(transferred / f"{log_id}.jsonl")])
    facts = _facts(user)
    assert set(facts) == {SESSION, log_id}
    assert facts[log_id].title == "Moved chat"
    assert facts[SESSION].cwd == "/home/sample/workspace/splitrail"  # the prompt cache key's


def test_a_cancelled_turn_is_finished_but_not_an_error(user_dir: Path) -> None:
    # formats.md §4.1: `isCanceled: true` marks a turn the user stopped; only
    # `result.errorDetails` is an error.
    doc = _doc()
    last = doc["requests"][-1]
    last["isCanceled"], last["result"] = True, {}
    path = user_dir / "workspaceStorage" / "9a1b" / "chatSessions" / f"{SESSION}.json"
    path.write_text(json.dumps(doc))
    facts = _facts(user_dir)[SESSION]
    assert facts.turn_hint == "turn_done"
    assert facts.errors.total == 0


@pytest.mark.parametrize("canceled", [True, False])
def test_the_cancel_message_is_not_an_error(user_dir: Path, canceled: bool) -> None:
    # The extension writes errorDetails {message: "Canceled"} for a request the user stopped,
    # with or without isCanceled; a real failure next to it still counts.
    doc = _doc()
    doc["requests"][-1]["result"]["errorDetails"] = {"message": "Canceled"}
    doc["requests"][-1]["isCanceled"] = canceled
    doc["requests"][0]["result"]["errorDetails"] = {"message": "Request failed: 429"}
    path = user_dir / "workspaceStorage" / "9a1b" / "chatSessions" / f"{SESSION}.json"
    path.write_text(json.dumps(doc))
    errors = _facts(user_dir)[SESSION].errors
    assert (errors.api, errors.last_message) == (1, "Request failed: 429")


def test_recorded_tokens_are_exact_and_set_the_context(user_dir: Path) -> None:
    doc = _doc()
    for i, request in enumerate(doc["requests"]):
        request["result"]["metadata"].update(promptTokens=10_000 + i, outputTokens=100 + i)
    doc["requests"][1]["result"]["errorDetails"] = {"message": "Request failed: 429"}
    path = user_dir / "workspaceStorage" / "9a1b" / "chatSessions" / f"{SESSION}.json"
    path.write_text(json.dumps(doc))
    facts = _facts(user_dir)[SESSION]
    assert facts.usage.source == "exact"
    assert (facts.usage.input, facts.usage.output) == (30_003, 303)
    assert facts.context.tokens == 10_002  # the latest turn's whole prompt
    assert (facts.errors.api, facts.errors.last_message) == (1, "Request failed: 429")
    assert facts.errors.recent == (_ms(doc["requests"][1]["timestamp"]),)


def _proc(pid: int, exe: str, *args: str, cwd: str | None = None) -> ProcessInfo:
    return ProcessInfo(pid, exe.rsplit("/", 1)[-1], exe, (exe, *args), 0.0, 1, cwd=cwd)


def test_live_when_an_editor_has_the_workspace_open(user_dir: Path) -> None:
    source = CopilotVSCodeSource([user_dir], count_tokens=count_tokens)
    facts = {f.key.session_id: f for f in source.read(source.watched()).facts}
    open_by_uri = ProcessTable.from_infos([
        _proc(10, "/usr/share/code/code", "--folder-uri", f"file://{FOLDER}", cwd="/home/dev"),
        _proc(11, "/usr/share/code/code", "--type=renderer", FOLDER),
    ])
    live = source.live(open_by_uri, facts)
    assert (live[SESSION].state, live[SESSION].pids, live[SESSION].mapping) == (
        "idle", (10,), "cwd")
    by_cwd = ProcessTable.from_infos([_proc(20, "/usr/bin/codium", cwd=FOLDER)])
    assert source.live(by_cwd, facts)[SESSION].pids == (20,)
    for fork in ("/usr/share/windsurf/windsurf", "/usr/lib/positron/positron"):
        in_a_fork = ProcessTable.from_infos([_proc(21, fork, cwd=FOLDER)])
        assert source.live(in_a_fork, facts)[SESSION].pids == (21,)
        assert processes._info_of({"pid": 21, "name": fork.rsplit("/", 1)[-1], "exe": fork,
                                   "cmdline": [fork]}) is not None  # kept by the scan
    elsewhere = ProcessTable.from_infos([_proc(30, "/usr/bin/code-insiders", "/home/dev/x")])
    assert source.live(elsewhere, facts) == {}
    assert source.live(ProcessTable(), facts) == {}


def test_poller_rereads_a_rewritten_session_and_never_writes(user_dir: Path) -> None:
    path = user_dir / "workspaceStorage" / "9a1b" / "chatSessions" / f"{SESSION}.json"
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    poller = Poller([CopilotVSCodeSource([user_dir], count_tokens=count_tokens)], None,
                    Config(), scan_processes=ProcessTable)
    first = poller.poll_once()
    assert [s.key.session_id for s in first.sessions] == [SESSION]
    assert poller.poll_once().files_read == 0  # unchanged: one stat, no read
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    doc = _doc()
    doc["customTitle"] = "Renamed"
    path.write_text(json.dumps(doc))
    assert poller.poll_once().sessions[0].facts.title == "Renamed"
