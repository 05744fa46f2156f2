"""The parts of reading Cursor agent transcripts: the `.txt` format, the prompt's tags, the
accumulator's saved state, resolving a projects slug to its folder, the cursor-agent process
mapping and the conversation.

No public sample of these files exists: the fixtures follow formats.md §3.2 (`.txt` blocks of
`user:` / `assistant:` lines with `[Tool call] <name>` and `[Tool result]`; `.jsonl` messages) and
the tool-call body and `<user_query>` shapes agentsview parses.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from llm_session_manager.core.models import SessionFacts
from llm_session_manager.core.processes import ProcessInfo, ProcessTable
from llm_session_manager.core.sources.cursor import CursorSource
from llm_session_manager.core.sources.cursor_slug import SlugResolver
from llm_session_manager.core.sources.cursor_transcript_lines import TranscriptAccumulator
from llm_session_manager.core.sources.cursor_transcript_text import prompt_text, prompt_time
from llm_session_manager.core.tail import Cursor, FileStat, read_appended
from llm_session_manager.core.tokens import count_tokens

TEXT_TRANSCRIPT = """user:
<user_query>
rename the parser module
and update its imports
</user_query>

assistant:
[Thinking] where is it imported
  grep first
I'll find the imports first.
[Tool call] grep
  pattern=import parser
  path=src/app
[Tool result]
  src/app/main.py:1:import parser

Renamed it and fixed one import.

user:
thanks, now run the tests
assistant:
[Tool call] run_terminal_cmd
  command: pytest -q
All green.
"""


def _slug(folder: Path) -> str:
    """How Cursor names a workspace's projects folder: every separator, `.`, `_`, space → `-`."""
    return "".join(c if c.isalnum() else "-" for c in str(folder)).strip("-")


def _feed(path: Path) -> TranscriptAccumulator:
    acc = TranscriptAccumulator(path.suffix == ".txt", count_tokens)
    read_appended(str(path), Cursor(), FileStat.of(str(path)), acc.feed)
    return acc


def test_text_transcript_blocks_tools_and_counted_tokens(tmp_path: Path) -> None:
    root = tmp_path / "projects"
    path = root / "slug" / "agent-transcripts" / "c-text.txt"
    path.parent.mkdir(parents=True)
    path.write_text(TEXT_TRANSCRIPT)
    source = CursorSource([], count_tokens=count_tokens, transcript_roots=[root])
    (facts,) = source.read(source.watched()).facts
    assert facts.first_prompt == "rename the parser module\nand update its imports"
    assert facts.title == "rename the parser module and update its imports"  # one line
    assert (facts.prompts, facts.replies) == (2, 2)
    assert facts.usage.source == "counted"
    lines = TEXT_TRANSCRIPT.splitlines()
    # Input: the prompts (with their tags) and the tool's result; output: the rest of the
    # replies, the thinking, the tools' names and arguments.
    assert facts.usage.input == sum(map(count_tokens, [*lines[1:6], *lines[14:16], lines[19]]))
    assert facts.usage.output == sum(map(count_tokens, [
        "where is it imported", *lines[8:10], "grep", *lines[11:13], *lines[16:18],
        "run_terminal_cmd", *lines[22:24]]))
    assert facts.files_touched == ("src/app",)
    assert facts.turn_hint is None  # a .txt never says where its turn stands

    turns = [(t.role, t.tool, t.tool_input, t.text) for t in source.conversation(facts).turns]
    assert turns == [
        ("user", None, None, "rename the parser module\nand update its imports"),
        ("assistant", None, None, "I'll find the imports first."),
        ("tool_call", "grep", "src/app", ""),
        ("tool_result", "grep", None, "src/app/main.py:1:import parser"),
        ("assistant", None, None, "Renamed it and fixed one import."),
        ("user", None, None, "thanks, now run the tests"),
        ("tool_call", "run_terminal_cmd", "pytest -q", ""),
        ("assistant", None, None, "All green."),
    ]


def test_a_first_prompt_still_being_written_already_titles_the_session(tmp_path: Path) -> None:
    path = tmp_path / "c.txt"
    path.write_text("user:\nfix the flaky test\n")
    assert _feed(path).prompt == "fix the flaky test"


def test_prompt_tags_and_their_time() -> None:
    message = ("<timestamp>Friday, Jul 17, 2026, 12:26 AM (UTC+9)</timestamp>\n"
               "<attached_files>a.py</attached_files>\n<user_query>\nfix it\n</user_query>")
    assert prompt_text(message) == "fix it"
    assert prompt_text("<timestamp>x</timestamp>\nplain words") == "plain words"
    assert prompt_time(message) == datetime(2026, 7, 16, 15, 26, tzinfo=UTC)
    assert prompt_time("<timestamp>Mon, Jan 5, 2026, 12:05 PM (UTC-5:30)</timestamp>") == (
        datetime(2026, 1, 5, 17, 35, tzinfo=UTC))
    assert prompt_time("<timestamp>Jul 17, 2026, 09:00 (UTC)</timestamp>") == datetime(
        2026, 7, 17, 9, 0, tzinfo=UTC)
    assert prompt_time("<timestamp>Friday, Jul 17, 2026, 12:26 AM</timestamp>") is None  # no zone
    assert prompt_time("no tag, Jul 17, 2026, 12:26 AM (UTC+9)") is None


def test_saved_state_restores_an_equal_accumulator(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    lines = [{"role": "user", "message": {"content": [{"type": "text", "text": "hello there"}]}},
             {"role": "assistant", "message": {"content": [{"type": "text", "text": "hi"}]}},
             {"type": "turn_ended", "status": "success"}]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    acc = _feed(path)
    restored = TranscriptAccumulator.from_state(acc.dump(), count_tokens)
    assert restored.dump() == acc.dump()
    assert (restored.prompts, restored.replies, restored.turn_hint) == (1, 1, "turn_done")
    for text in (True, False):
        assert TranscriptAccumulator(text, count_tokens).turn_hint is None


# -- the slug ---------------------------------------------------------------------------------


def test_a_slug_resolves_to_its_one_folder_and_stays_unknown_when_ambiguous(
    tmp_path: Path,
) -> None:
    app = tmp_path / "src" / "my_app.v2"
    app.mkdir(parents=True)
    resolver = SlugResolver(windows=False)
    assert resolver.resolve(_slug(app)) == str(app)  # `_` and `.` are `-` in the slug
    # Never decoded by swapping `-` for `/`: a folder that does not exist is not made up.
    assert resolver.resolve(_slug(tmp_path / "src" / "nothing-here")) is None

    (tmp_path / "src" / "my" / "app" / "v2").mkdir(parents=True)  # also encodes to the slug
    assert SlugResolver(windows=False).resolve(_slug(app)) is None
    # A folder the IDE names is taken without walking.
    assert SlugResolver(windows=False).resolve(_slug(app), [str(app)]) == str(app)


def test_a_resolved_slug_is_kept_and_an_unknown_one_is_tried_again_later(tmp_path: Path) -> None:
    now = [0.0]
    resolver = SlugResolver(windows=False, clock=lambda: now[0])
    late = tmp_path / "late_project"
    assert resolver.resolve(_slug(late)) is None
    late.mkdir()
    assert resolver.resolve(_slug(late)) is None  # kept unknown for a while
    now[0] += 600
    assert resolver.resolve(_slug(late)) == str(late)


def test_windows_slugs_start_at_the_drive_and_ignore_case() -> None:
    resolver = SlugResolver(windows=True)
    assert resolver.same("c-Users-dev-My-App", "C:\\users\\dev\\my_app")
    assert not resolver.same("c-Users-dev-My-App", "C:\\Users\\dev\\other")


# -- live -------------------------------------------------------------------------------------

BUNDLE = "/home/dev/.local/share/cursor-agent/versions/2026.01.28-fd13201"


def _agent(pid: int, cwd: str, *args: str, ppid: int = 1) -> ProcessInfo:
    return ProcessInfo(pid, "node", f"{BUNDLE}/node", (f"{BUNDLE}/node", f"{BUNDLE}/index.js",
                                                       *args), 0.0, ppid, cwd=cwd)  # fmt: skip


def _session(session_id: str, slug: str, at: int, hint: str | None) -> SessionFacts:
    from llm_session_manager.core.models import SessionKey

    path = f"/home/dev/.cursor/projects/{slug}/agent-transcripts/{session_id}.jsonl"
    return SessionFacts(key=SessionKey("cursor", session_id), paths=(path,), turn_hint=hint,
                        last_activity_at=datetime.fromtimestamp(at, UTC))  # fmt: skip


def test_a_running_cursor_agent_is_its_workspaces_newest_transcript_session() -> None:
    sessions = {
        "old": _session("old", "home-dev-src-my-app", 100, "turn_done"),
        "new": _session("new", "home-dev-src-my-app", 200, "working"),
        "elsewhere": _session("elsewhere", "home-dev-src-other", 300, "turn_done"),
    }
    table = ProcessTable.from_infos([
        _agent(10, "/home/dev/src/my_app"),
        _agent(11, "/home/dev/src/my_app", "worker", ppid=10),  # its own child: one session
        _agent(20, "/home/dev", "--workspace", "src/other"),
        ProcessInfo(30, "rg", f"{BUNDLE}/rg", (f"{BUNDLE}/rg", "x"), 0.0, 10,
                    cwd="/home/dev/src/other"),  # a tool the agent runs, not an agent
    ])
    live = CursorSource([]).live(table, sessions)
    assert set(live) == {"new", "elsewhere"}
    assert (live["new"].state, live["new"].pids, live["new"].mapping) == (
        "active", (10, 11), "cwd")
    assert (live["elsewhere"].state, live["elsewhere"].pids) == ("idle", (20,))
    assert CursorSource([]).live(ProcessTable(), sessions) == {}


def test_the_conversation_of_a_jsonl_transcript(tmp_path: Path) -> None:
    path = tmp_path / "projects" / "slug" / "agent-transcripts" / "c-1" / "c-1.jsonl"
    path.parent.mkdir(parents=True)
    lines = [
        {"role": "user", "message": {"content": [{"type": "text", "text":
            "<timestamp>Friday, Jul 17, 2026, 12:26 AM (UTC+9)</timestamp>\nfix the login"}]}},
        {"role": "assistant", "message": {"content": [
            {"type": "thinking", "thinking": "look at auth.py"},
            {"type": "text", "text": "Reading it."},
            {"type": "tool_use", "name": "read_file", "input": {"target_file": "auth.py"}}]}},
        {"role": "user", "message": {"content": [
            {"type": "tool_result", "content": "no such file", "is_error": True}]}},
        {"type": "turn_ended", "status": "error"},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines) + '{"role": "us')
    os.utime(path, (1_784_000_000, 1_784_000_000))
    source = CursorSource([], transcript_roots=[tmp_path / "projects"])
    (facts,) = source.read(source.watched()).facts
    assert (facts.errors.tool, facts.errors.api) == (1, 1)
    turns = [(t.role, t.text, t.tool, t.paths, t.is_error)
             for t in source.conversation(facts).turns]
    assert turns == [
        ("user", "fix the login", None, (), False),
        ("assistant", "Reading it.", None, (), False),
        ("tool_call", "", "read_file", ("auth.py",), False),
        ("tool_result", "no such file", None, (), True),
        ("error", "turn error", None, (), True),
    ]
