"""The assembler reuses what it judged only while every input stands still."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from llm_session_manager.config import Config
from llm_session_manager.core.assembly import JUDGEMENT_REFRESH, Assembler, UserData
from llm_session_manager.core.models import Context, LiveState, SessionFacts, SessionKey

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
A = SessionKey("claude-code", "a")
B = SessionKey("codex", "b")


def facts(key: SessionKey, minutes_ago: int, tokens: int = 50_000) -> SessionFacts:
    return SessionFacts(
        key=key, model="claude-sonnet-4-5", cwd="/home/dev/src/shop",
        started_at=T0 - timedelta(hours=1), last_activity_at=T0 - timedelta(minutes=minutes_ago),
        context=Context(tokens=tokens),
    )  # fmt: skip


def test_nothing_moved_gives_the_same_list_and_each_input_breaks_it() -> None:
    assembler, user, config = Assembler(), UserData(), Config()
    known = {A: facts(A, 5), B: facts(B, 1)}
    first = assembler.assemble(known, 1, user, {}, config, T0)
    assert [s.key for s in first] == [B, A]  # newest activity first
    assert first[1].project == "shop" and first[1].facts.context.window == 200_000
    assert assembler.assemble(known, 1, user, {}, config, T0 + timedelta(seconds=5)) is first

    user.tags[A] = ("billing",)
    user.version += 1
    tagged = assembler.assemble(known, 1, user, {}, config, T0 + timedelta(seconds=6))
    assert tagged is not first and {s.key: s.tags for s in tagged}[A] == ("billing",)
    assert {s.key: s for s in tagged}[B] is first[0]  # B's inputs did not move

    waiting = {A: LiveState(state="waiting", pids=(42,))}
    live = assembler.assemble(known, 1, user, waiting, config, T0 + timedelta(seconds=7))
    assert {s.key: s.state for s in live}[A] == "waiting"

    known[A] = facts(A, 0, tokens=190_000)
    grown = assembler.assemble(known, 2, user, waiting, config, T0 + timedelta(seconds=8))
    assert {s.key: s.facts.context.tokens for s in grown}[A] == 190_000

    other = replace(config, default_window=100_000)
    assert assembler.assemble(known, 2, user, waiting, other, T0 + timedelta(seconds=9)) is not (
        grown
    )


def test_the_whole_list_is_judged_again_when_its_oldest_judgement_is_due() -> None:
    assembler, user, config = Assembler(), UserData(), Config()
    known = {A: facts(A, 5)}
    first = assembler.assemble(known, 1, user, {}, config, T0)
    later = assembler.assemble(known, 1, user, {}, config, T0 + JUDGEMENT_REFRESH)
    assert later is not first
    before, after = first[0].health, later[0].health
    assert before is not None and after is not None
    activity = {f.name: f.raw for f in after.factors}["activity"]
    assert activity != {f.name: f.raw for f in before.factors}["activity"]
