"""Live state of Gemini CLI and Copilot CLI from the recorded process dumps.

The process tables are what psutil reported while the real clients ran (real-clients/live); the
sessions are built from the records those clients wrote. In-use files are created in a tmp copy.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import pytest

from llm_session_manager.core.live_copilot import copilot_live
from llm_session_manager.core.live_gemini import gemini_live
from llm_session_manager.core.models import LiveState, SessionFacts, SessionKey
from llm_session_manager.core.processes import ProcessTable
from llm_session_manager.core.sources.copilot_cli import CopilotCliSource
from llm_session_manager.core.sources.gemini import GeminiSource
from llm_session_manager.core.tail import Cursor, FileStat, read_appended
from process_dumps import load_dump

DATA = Path(__file__).resolve().parents[1] / "data" / "real-clients"
GEMINI_LATEST = "ae3c08d0-3a4c-40ff-b0aa-4305112bcd7b"  # the newest chat in /home/dev/src/gmapp
COPILOT_OPEN = "80f4e48c-0a72-485c-b74d-493a85bb25aa"  # its in-use file is open in the dump
COPILOT_OTHER = "3d22299d-94e3-4425-82df-62793dd5d687"
COPILOT_NATIVE, COPILOT_LAUNCHER = 4427, 4415


def build(source: GeminiSource | CopilotCliSource) -> dict[str, SessionFacts]:
    members: dict[str, list[Any]] = {}
    for tracked in source.discover():
        acc = source.new_accumulator(tracked)
        read_appended(tracked.path, Cursor(), FileStat.of(tracked.path), acc.feed)
        members.setdefault(tracked.session_id, []).append((tracked, acc))
    return {sid: source.build(SessionKey(source.agent, sid), m) for sid, m in members.items()}


# ---- Gemini ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gemini_sessions() -> dict[str, SessionFacts]:
    return build(GeminiSource([DATA / "home" / ".gemini"]))


def test_gemini_maps_by_cwd_to_the_latest_session_of_the_project(
    gemini_sessions: dict[str, SessionFacts],
) -> None:
    table = ProcessTable.from_infos(load_dump("gemini-process.json"))
    found = gemini_live(table, gemini_sessions)
    # The relaunched child does the work; its launcher is reported with it. The mock server
    # (`python3 mocks/gemini_mock.py`) is no Gemini.
    assert found == {GEMINI_LATEST: LiveState("idle", (29537, 29526), "cwd")}


def test_gemini_state_follows_the_turn(gemini_sessions: dict[str, SessionFacts]) -> None:
    sessions = dict(gemini_sessions)
    sessions[GEMINI_LATEST] = dataclasses.replace(sessions[GEMINI_LATEST], turn_hint="working")
    table = ProcessTable.from_infos(load_dump("gemini-process.json"))
    assert gemini_live(table, sessions)[GEMINI_LATEST].state == "active"


def test_gemini_in_another_directory_maps_nothing(gemini_sessions: dict[str, SessionFacts]) -> None:
    infos = [dataclasses.replace(p, cwd="/tmp") for p in load_dump("gemini-process.json")]
    assert gemini_live(ProcessTable.from_infos(infos), gemini_sessions) == {}


# ---- Copilot CLI ----------------------------------------------------------------------------


@pytest.fixture
def copilot_home(tmp_path: Path) -> Path:
    home = tmp_path / ".copilot"
    shutil.copytree(DATA / "home" / ".copilot", home)
    return home


def copilot_table(home: Path | None = None, open_files: bool = True) -> ProcessTable:
    infos = []
    for info in load_dump("copilot-process.json"):
        files = info.open_files or ()
        if home is not None:  # the dump's /home/dev/.copilot is the tmp copy here
            files = tuple(f.replace("/home/dev/.copilot", str(home)) for f in files)
        infos.append(dataclasses.replace(info, open_files=files if open_files else ()))
    return ProcessTable.from_infos(infos)


def test_copilot_maps_the_session_whose_in_use_file_it_holds() -> None:
    sessions = build(CopilotCliSource([DATA / "home" / ".copilot"]))
    found = copilot_live([Path("/home/dev/.copilot")], copilot_table(), sessions)
    assert found == {
        COPILOT_OPEN: LiveState("idle", (COPILOT_NATIVE, COPILOT_LAUNCHER), "open-file")
    }


def test_copilot_lock_file_when_open_files_cannot_be_read(copilot_home: Path) -> None:
    sessions = build(CopilotCliSource([copilot_home]))
    lock = copilot_home / "session-state" / COPILOT_OTHER / f"inuse.{COPILOT_NATIVE}.lock"
    lock.touch()
    found = copilot_live([copilot_home], copilot_table(open_files=False), sessions)
    assert found == {
        COPILOT_OTHER: LiveState("idle", (COPILOT_NATIVE, COPILOT_LAUNCHER), "lock-file")
    }


def test_copilot_stale_lock_is_ignored_and_cwd_decides(copilot_home: Path) -> None:
    sessions = build(CopilotCliSource([copilot_home]))
    (copilot_home / "session-state" / COPILOT_OTHER / "inuse.999999.lock").touch()
    found = copilot_live([copilot_home], copilot_table(open_files=False), sessions)
    # No file tells: the most recent session in the process's cwd (the interactive one).
    assert found == {
        COPILOT_OPEN: LiveState("idle", (COPILOT_NATIVE, COPILOT_LAUNCHER), "cwd")
    }


def test_copilot_waiting_for_a_permission(copilot_home: Path) -> None:
    sessions = build(CopilotCliSource([copilot_home]))
    sessions[COPILOT_OPEN] = dataclasses.replace(sessions[COPILOT_OPEN], turn_hint="permission")
    found = copilot_live([copilot_home], copilot_table(copilot_home), sessions)
    assert found[COPILOT_OPEN] == LiveState(
        "waiting", (COPILOT_NATIVE, COPILOT_LAUNCHER), "open-file", "permission prompt"
    )


def test_no_copilot_process_no_live_session() -> None:
    sessions = build(CopilotCliSource([DATA / "home" / ".copilot"]))
    table = ProcessTable.from_infos(load_dump("gemini-process.json"))
    assert copilot_live([Path("/home/dev/.copilot")], table, sessions) == {}
