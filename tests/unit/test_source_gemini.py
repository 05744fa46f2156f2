"""The Gemini CLI source, driven as the poller drives it, on the chats Gemini CLI 0.61.0 wrote.

Expected tokens are read off the records (and agree with what the mock billed: its
`promptTokenCount` is 3000 + 10 per content and includes `cachedContentTokenCount`, 1024 from the
second request of a conversation on; candidates 20, thoughts 12). Hand-written input only for what
the samples lack: the older single-document shape, API errors, rewinds, bad lines.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest

from llm_session_manager.config import AgentConfig
from llm_session_manager.core.models import SessionFacts, SessionKey, Usage
from llm_session_manager.core.sources.gemini import GeminiSource, create
from llm_session_manager.core.sources.gemini_chat import ChatAccumulator
from llm_session_manager.core.tail import Cursor, FileStat, read_appended

DATA = Path(__file__).resolve().parents[1] / "data"
GEMINI_DIR = DATA / "real-clients" / "home" / ".gemini"
PUBLIC = DATA / "public" / "gemini"
GMAPP = "/home/dev/src/gmapp"
MODEL = "gemini-3.1-pro-preview"

SAY_HELLO = "569a705c-233c-4b9b-8f88-2fb7070c91d0"
AGAIN = "e469d77f-a0e8-4549-8e18-11b05ce1c310"
SHELL = "5ab0c23d-9cc2-4c26-866d-502794381f44"  # a tool call written twice under one id
RESUMED = "adea444b-50ee-4b62-8d31-753f58b9c843"  # failing read, then --resume replays history
SUMMARISED = "679089f5-afcd-429e-9a56-13379589b165"  # a `$set` summary patch
INTERACTIVE = "ae3c08d0-3a4c-40ff-b0aa-4305112bcd7b"

# One reply of the mock: prompt 3010 + 10 per earlier content, candidates 20, thoughts 12.
FIRST = Usage(input=3010, output=32, reasoning=12)


def feed_file(source: GeminiSource, path: str, role: str) -> ChatAccumulator:
    from llm_session_manager.core.sources.base import TrackedFile

    acc = source.new_accumulator(TrackedFile(path, "x", role))
    result = read_appended(path, Cursor(), FileStat.of(path), acc.feed)
    assert result.bad_line_count == 0, result.bad_lines
    assert isinstance(acc, ChatAccumulator)
    return acc


def build_all(source: GeminiSource) -> dict[str, SessionFacts]:
    members: dict[str, list] = {}
    for tracked in source.discover():
        members.setdefault(tracked.session_id, []).append(
            (tracked, feed_file(source, tracked.path, tracked.role))
        )
    return {sid: source.build(SessionKey("gemini", sid), m) for sid, m in members.items()}


@pytest.fixture(scope="module")
def real() -> dict[str, SessionFacts]:
    return build_all(GeminiSource([GEMINI_DIR]))


def test_every_chat_is_found_with_its_full_id_project_and_model(
    real: dict[str, SessionFacts],
) -> None:
    assert set(real) == {SAY_HELLO, AGAIN, SHELL, RESUMED, SUMMARISED, INTERACTIVE}
    for facts in real.values():
        assert facts.cwd == GMAPP  # from tmp/gmapp/.project_root
        assert facts.model == MODEL
        assert facts.usage.source == "exact"
        assert facts.context.window is None  # the config's model table decides


def test_single_reply_tokens(real: dict[str, SessionFacts]) -> None:
    facts = real[SAY_HELLO]
    # input 3010 (cached 0), output 20 + 12 thoughts: Usage.total is Gemini's own total, 3042.
    assert facts.usage == FIRST
    assert facts.usage.total == 3042
    assert facts.context.tokens == 3010
    assert (facts.prompts, facts.replies) == (1, 1)
    assert facts.title == "Say hello"
    assert facts.turn_hint == "turn_done"
    assert [m.model for m in facts.by_model] == [MODEL]


def test_reply_written_twice_is_counted_once(real: dict[str, SessionFacts]) -> None:
    facts = real[SHELL]
    # 14c63d08 (twice: 3010/20/0/12) + 830362e6 (3030 incl. 1024 cached).
    assert facts.usage == Usage(input=3010 + 2006, output=64, cache_read=1024, reasoning=24)
    assert facts.usage.total == 3042 + 3062
    assert (facts.prompts, facts.replies) == (1, 2)  # the tool result is no prompt
    assert facts.context.tokens == 3030
    assert facts.errors.total == 0


def test_resumed_session_replay_is_not_counted_again(real: dict[str, SessionFacts]) -> None:
    facts = real[RESUMED]
    # Before resume: 3010 and 3030 (1024 cached); after: 3050 (1024 cached). The replayed
    # `$set messages` repeats the first two without tokens and adds nothing.
    assert facts.usage == Usage(input=3010 + 2006 + 2026, output=96, cache_read=2048, reasoning=36)
    assert (facts.prompts, facts.replies) == (2, 3)
    assert facts.context.tokens == 3050
    assert facts.errors.tool == 1  # the failing read_file, once although it is written twice
    assert facts.errors.api == 0
    assert facts.errors.last_message is not None
    assert facts.errors.last_message.startswith("ReadFile failed: Path not in workspace")
    assert str(facts.started_at) == "2026-11-24 23:10:22.013000+00:00"  # the first header
    assert str(facts.last_activity_at) == "2026-11-24 23:10:25.346000+00:00"


def test_summary_patch_is_the_title(real: dict[str, SessionFacts]) -> None:
    assert real[SUMMARISED].title == "Hello from the mock Gemini server."
    assert real[SUMMARISED].first_prompt == "hello json"
    assert real[INTERACTIVE].title == "interactive hello"


def test_dump_restore_mid_file_equals_one_pass(tmp_path: Path) -> None:
    source = GeminiSource([GEMINI_DIR])
    tracked = next(t for t in source.discover() if t.session_id == RESUMED)
    lines = Path(tracked.path).read_bytes().splitlines()
    for cut in range(len(lines) + 1):
        first = source.new_accumulator(tracked)
        for line in lines[:cut]:
            first.feed(line)
        state = orjson.loads(orjson.dumps(first.dump()))
        second = source.restore(tracked, state)
        for line in lines[cut:]:
            second.feed(line)
        whole = source.new_accumulator(tracked)
        for line in lines:
            whole.feed(line)
        assert second.dump() == whole.dump()
        key = SessionKey("gemini", RESUMED)
        assert source.build(key, [(tracked, second)]) == source.build(key, [(tracked, whole)])


def test_restore_refuses_other_versions() -> None:
    state = ChatAccumulator().dump()
    with pytest.raises(ValueError):
        ChatAccumulator.restore({**state, "version": 99})
    with pytest.raises(KeyError):
        ChatAccumulator.restore({**state, "surprise": 1})


@pytest.mark.parametrize("line", [b'{"id": "x", "type"', b"[1, 2]", b"\xff\xfe", b"not json"])
def test_bad_lines_raise_value_error(line: bytes) -> None:
    with pytest.raises(ValueError):
        ChatAccumulator().feed(line)


def _chat_dir(tmp_path: Path, project: str = "proj") -> Path:
    chats = tmp_path / ".gemini" / "tmp" / project / "chats"
    chats.mkdir(parents=True)
    return chats


def test_legacy_json_document_is_read_message_by_message(tmp_path: Path) -> None:
    chats = _chat_dir(tmp_path)
    shutil.copy(PUBLIC / "agentsview__standard_session.json",
                chats / "session-2024-01-01T10-00-sess-uui.json")
    facts = build_all(GeminiSource([tmp_path / ".gemini"]))["sess-uuid-1"]
    # Here `total` = input + cached + output + thoughts: input excludes the cached part.
    assert facts.usage == Usage(input=1500 + 2000, output=250 + 400, cache_read=150, reasoning=150)
    assert (facts.prompts, facts.replies) == (2, 2)
    assert facts.context.tokens == 2050
    assert facts.title == "Fix the login bug"
    assert str(facts.started_at) == "2024-01-01 10:00:00+00:00"


def test_legacy_document_on_one_line_and_without_final_newline(tmp_path: Path) -> None:
    chats = _chat_dir(tmp_path)
    document = orjson.loads((PUBLIC / "agentsview__tool_calls_with_results.json").read_bytes())
    (chats / "session-2024-01-01T10-00-compact.json").write_bytes(orjson.dumps(document) + b"\n")
    pretty = orjson.dumps(document, option=orjson.OPT_INDENT_2)  # no newline at the end
    (chats / "session-2024-01-01T10-00-pretty.json").write_bytes(pretty)
    source = GeminiSource([tmp_path / ".gemini"])
    for tracked in source.discover():
        acc = feed_file(source, tracked.path, tracked.role)
        facts = source.build(SessionKey("gemini", tracked.session_id), [(tracked, acc)])
        assert tracked.session_id == "sess-uuid-tool-results"
        assert (facts.prompts, facts.replies, facts.model) == (1, 1, "gemini-2.5-pro")
        assert facts.first_prompt == "Read the planning doc"


def test_legacy_garbage_is_a_bad_line() -> None:
    acc = ChatAccumulator(legacy=True)
    with pytest.raises(ValueError):
        acc.feed(b'  "type": "user"')


def _record(**fields: object) -> bytes:
    return orjson.dumps(fields)


def test_api_error_rewind_and_running_tool(tmp_path: Path) -> None:
    acc = ChatAccumulator()
    header = {"sessionId": "s1", "projectHash": "h", "startTime": "2026-01-01T00:00:00Z"}
    acc.feed(orjson.dumps(header))
    acc.feed(_record(id="u1", timestamp="2026-01-01T00:00:01Z", type="user",
                     content=[{"text": "first"}]))
    tokens = {"input": 100, "output": 10, "cached": 0, "thoughts": 0, "tool": 0, "total": 110}
    acc.feed(_record(id="g1", timestamp="2026-01-01T00:00:02Z", type="gemini", content="ok",
                     tokens=tokens, model="gemini-2.5-pro"))
    acc.feed(_record(id="e1", timestamp="2026-01-01T00:00:03Z", type="error",
                     content="[API Error: quota exceeded]"))
    assert acc.api_errors == 1 and acc.last_error == "[API Error: quota exceeded]"
    assert acc.turn_hint == "turn_done"
    acc.feed(_record(id="u2", timestamp="2026-01-01T00:00:04Z", type="user",
                     content=[{"text": "second"}]))
    assert acc.turn_hint == "working"
    acc.feed(_record(id="g2", timestamp="2026-01-01T00:00:05Z", type="gemini", content="",
                     tokens=tokens, toolCalls=[{"id": "c1", "name": "shell",
                                                "status": "executing"}]))
    assert acc.turn_hint == "tool_running"
    acc.feed(b'{"$rewindTo":"u2"}')
    assert (acc.prompts, acc.replies) == (1, 1)
    source = GeminiSource([tmp_path])
    from llm_session_manager.core.sources.base import TrackedFile

    facts = source.build(SessionKey("gemini", "s1"), [(TrackedFile("/x/chats/f", "s1"), acc)])
    # The rewound reply was billed: its tokens stay in the usage.
    assert facts.usage == Usage(input=200, output=20)
    assert facts.context.tokens == 100


def test_subagent_chat_belongs_to_its_parent(tmp_path: Path) -> None:
    chats = _chat_dir(tmp_path)
    main = GEMINI_DIR / "tmp" / "gmapp" / "chats" / "session-2026-11-24T23-10-569a705c.jsonl"
    shutil.copy(main, chats / main.name)
    sub = chats / SAY_HELLO
    sub.mkdir()
    shutil.copy(main, sub / "sub-session.jsonl")
    facts = build_all(GeminiSource([tmp_path / ".gemini"]))
    assert set(facts) == {SAY_HELLO}
    assert facts[SAY_HELLO].usage == FIRST + FIRST
    assert facts[SAY_HELLO].prompts == 1
    assert facts[SAY_HELLO].cwd == GMAPP  # no .project_root: the session context names it


def test_projects_json_maps_the_project_folder(tmp_path: Path) -> None:
    chats = _chat_dir(tmp_path, "named")
    main = GEMINI_DIR / "tmp" / "gmapp" / "chats" / "session-2026-11-24T23-10-569a705c.jsonl"
    shutil.copy(main, chats / main.name)
    (tmp_path / ".gemini" / "projects.json").write_text('{"projects": {"/w/named": "named"}}')
    assert build_all(GeminiSource([tmp_path / ".gemini"]))[SAY_HELLO].cwd == "/w/named"


def test_a_chat_without_its_header_yet_waits(tmp_path: Path) -> None:
    chats = _chat_dir(tmp_path)
    (chats / "session-2026-01-01T00-00-abcd1234.jsonl").write_bytes(b'{"sessionId":"abc')
    assert GeminiSource([tmp_path / ".gemini"]).discover() == []


def test_roots_follow_gemini_cli_home(tmp_path: Path) -> None:
    default = create(AgentConfig(), {}, tmp_path)
    assert default.roots() == [tmp_path / ".gemini" / "tmp"]
    moved = create(AgentConfig(), {"GEMINI_CLI_HOME": "/elsewhere"}, tmp_path)
    assert moved.roots() == [Path("/elsewhere/.gemini/tmp")]
    configured = create(AgentConfig(roots=("~/g",)), {"GEMINI_CLI_HOME": "/x"}, tmp_path)
    assert configured.roots() == [tmp_path / "g" / "tmp"]
