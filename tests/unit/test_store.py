"""store.repo.Store: dataclasses in and out, upserts, user data, speed, failures as StoreError."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from llm_session_manager.core.errors import SchemaTooNewError, StoreError
from llm_session_manager.core.models import Context, SessionFacts, SessionKey, Usage, UsageSample
from llm_session_manager.core.tail import Cursor
from llm_session_manager.store.migrations import LATEST
from llm_session_manager.store.repo import Store, StoredCursor, StoredSession

T0 = datetime(2026, 4, 1, 10, 0, tzinfo=UTC)
A = SessionKey("claude-code", "aaaa-1111")
B = SessionKey("codex", "bbbb-2222")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "sessions.db")
    yield s
    s.close()


def facts(key: SessionKey, tokens: int = 100, at: datetime = T0) -> SessionFacts:
    return SessionFacts(
        key=key,
        title=f"title of {key.session_id}",
        cwd="/home/dev/src/app",
        model="m",
        started_at=at - timedelta(hours=1),
        last_activity_at=at,
        usage=Usage(input=tokens, output=tokens // 2),
        context=Context(tokens=tokens, window=200_000, window_source="table"),
        prompts=3,
        paths=(f"/logs/{key.session_id}.jsonl",),
    )


def cursor(path: str, key: SessionKey = A, offset: int = 10, ino: int = 42) -> StoredCursor:
    return StoredCursor(path, key.agent, key.session_id, "main", Cursor(1, ino, 99, 7, offset, 3))


# --- sessions -------------------------------------------------------------------------------


def test_facts_round_trip_and_upsert(store: Store) -> None:
    store.save_facts([facts(A), facts(B)])
    loaded = store.load_sessions()
    assert loaded == {A: StoredSession(facts(A)), B: StoredSession(facts(B))}

    newer = facts(A, tokens=500, at=T0 + timedelta(minutes=5))
    store.save_facts([newer])
    assert store.load_sessions()[A].facts == newer
    assert len(store.load_sessions()) == 2


def test_hidden_is_the_users_and_survives_resaves(store: Store) -> None:
    store.save_facts([facts(A)])
    assert store.set_hidden(A, True) is True
    store.save_facts([facts(A, tokens=999)])
    assert store.load_sessions()[A].hidden is True
    assert store.set_hidden(A, False) is True
    assert store.load_sessions()[A].hidden is False
    assert store.set_hidden(B, True) is False  # not stored


def test_imported_flag_is_set_as_given(store: Store) -> None:
    store.save_facts([facts(B)], imported=True)
    assert store.load_sessions()[B].imported is True
    store.save_facts([facts(B)])  # read from the agent's files again
    assert store.load_sessions()[B].imported is False


def test_duplicate_keys_in_one_batch_keep_the_last(store: Store) -> None:
    store.save_facts([facts(A, tokens=1), facts(A, tokens=2)])
    assert store.load_sessions()[A].facts.usage.input == 2


def test_delete_session_forgets_everything_about_it(store: Store) -> None:
    store.save_facts([facts(A), facts(B)])
    store.add_tags(A, ["x", "shared"])
    store.add_tags(B, ["shared"])
    store.set_project(A, "alpha")
    store.add_samples([UsageSample(A, T0, 10, 5, 100)])
    store.record_notified(A, "critical", T0)
    store.save_cursors([(cursor("/a.jsonl", A), {"n": 1}), (cursor("/b.jsonl", B), None)])

    assert store.delete_session(A) is True
    assert set(store.load_sessions()) == {B}
    assert store.tags_by_session() == {B: ("shared",)}
    assert store.all_tags() == ["shared"]  # "x" was used by A only
    assert store.projects_by_session() == {}
    assert store.samples_for(A) == []
    assert store.last_notified(A, "critical") is None
    assert set(store.load_cursors("claude-code")) == set()
    assert set(store.load_cursors("codex")) == {"/b.jsonl"}
    assert store.delete_session(A) is False


def test_a_row_that_no_longer_decodes_is_skipped(store: Store, tmp_path: Path) -> None:
    store.save_facts([facts(A), facts(B)])
    with sqlite3.connect(tmp_path / "sessions.db") as conn:
        conn.execute("UPDATE session SET facts_json = '{\"key\": 5}' WHERE key = ?", (str(A),))
    conn.close()
    assert store.file_problems() == []
    assert set(store.load_sessions()) == {B}
    (problem,) = store.file_problems()
    assert problem.where == store.path and str(A) in problem.message and "key" in problem.message


# --- cursors --------------------------------------------------------------------------------


def test_cursors_round_trip_without_state_then_state_on_demand(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    big = (1 << 64) - 5  # st_ino is unsigned 64-bit; SQL integers are signed
    items = [(cursor("/a.jsonl", ino=big), {"seen": ["x"], "n": 3}), (cursor("/b.jsonl"), None)]
    items.append((cursor("/c.jsonl", B), {"n": 9}))
    store.save_cursors(items)

    with caplog.at_level(logging.DEBUG, logger="peewee"):
        loaded = store.load_cursors("claude-code")
    assert loaded == {"/a.jsonl": items[0][0], "/b.jsonl": items[1][0]}
    assert loaded["/a.jsonl"].cursor.ino == big
    selects = [r.getMessage() for r in caplog.records if "file_cursor" in r.getMessage()]
    assert selects and not any("state_json" in m for m in selects)  # the warm path stays cheap

    assert store.load_cursor_state("/a.jsonl") == {"seen": ["x"], "n": 3}
    assert store.load_cursor_state("/b.jsonl") is None
    assert store.load_cursor_state("/missing") is None


def test_save_cursors_replaces_and_delete_cursors_removes(store: Store) -> None:
    store.save_cursors([(cursor("/a.jsonl", offset=10), {"n": 1})])
    store.save_cursors([(cursor("/a.jsonl", offset=20), None)])
    assert store.load_cursors("claude-code")["/a.jsonl"].cursor.offset == 20
    assert store.load_cursor_state("/a.jsonl") is None

    store.save_cursors([(cursor(f"/f{i}"), None) for i in range(1500)])
    assert store.delete_cursors([f"/f{i}" for i in range(1500)] + ["/nope"]) == 1500
    assert set(store.load_cursors("claude-code")) == {"/a.jsonl"}


def test_state_that_is_not_an_object_is_a_value_error(store: Store, tmp_path: Path) -> None:
    store.save_cursors([(cursor("/a.jsonl"), {"n": 1})])
    with sqlite3.connect(tmp_path / "sessions.db") as conn:
        conn.execute("UPDATE file_cursor SET state_json = '[1]'")
    conn.close()
    with pytest.raises(ValueError, match=r"/a\.jsonl"):
        store.load_cursor_state("/a.jsonl")


# --- tags and projects ----------------------------------------------------------------------


def test_tags(store: Store) -> None:
    assert store.add_tags(A, ["wip", " review ", "wip"]) == ["wip", "review"]
    assert store.add_tags(A, ["review", "later"]) == ["later"]
    assert store.add_tags(B, ["wip"]) == ["wip"]
    assert store.tags_by_session() == {A: ("wip", "review", "later"), B: ("wip",)}
    assert store.all_tags() == ["later", "review", "wip"]

    assert store.remove_tags(A, ["review", "nope", "wip"]) == ["review", "wip"]
    assert store.tags_by_session() == {A: ("later",), B: ("wip",)}
    assert store.all_tags() == ["later", "wip"]  # "review" is no longer used anywhere
    assert store.remove_tags(A, []) == []
    with pytest.raises(ValueError, match="blank"):
        store.add_tags(A, ["ok", "  "])
    assert store.tags_by_session()[A] == ("later",)


def test_projects(store: Store) -> None:
    store.set_project(A, "alpha")
    store.set_project(B, "beta")
    store.set_project(A, "  gamma ")
    assert store.projects_by_session() == {A: "gamma", B: "beta"}
    store.set_project(A, None)
    store.set_project(B, "   ")
    assert store.projects_by_session() == {}


# --- samples and notifications --------------------------------------------------------------


def test_samples_in_order_since_and_pruned(store: Store) -> None:
    later = [UsageSample(A, T0 + timedelta(minutes=m), 100 * m, 10 * m, 200) for m in (3, 1, 2)]
    store.add_samples([*later, UsageSample(B, T0, 1, None, None)])
    got = store.samples_for(A)
    assert [s.total_tokens for s in got] == [100, 200, 300]
    assert got[0] == UsageSample(A, T0 + timedelta(minutes=1), 100, 10, 200)
    assert got[0].at.tzinfo is not None and got[0].at.utcoffset() == timedelta(0)
    assert store.samples_for(B) == [UsageSample(B, T0, 1, None, None)]

    local = (T0 + timedelta(minutes=2)).astimezone(timezone(timedelta(hours=-5)))
    assert [s.total_tokens for s in store.samples_for(A, since=local)] == [200, 300]

    assert store.prune_samples(T0 + timedelta(minutes=2)) == 2  # B's and A's first
    assert [s.total_tokens for s in store.samples_for(A)] == [200, 300]
    assert store.samples_for(B) == []


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="naive"):
        store.add_samples([UsageSample(A, datetime(2026, 1, 1), 1)])


def test_notifications(store: Store) -> None:
    assert store.last_notified(A, "critical") is None
    store.record_notified(A, "critical", T0)
    store.record_notified(A, "waiting", T0 + timedelta(minutes=1))
    store.record_notified(A, "critical", T0 + timedelta(minutes=9))
    assert store.last_notified(A, "critical") == T0 + timedelta(minutes=9)
    assert store.last_notified(A, "waiting") == T0 + timedelta(minutes=1)
    assert store.last_notified(B, "critical") is None


# --- bulk -----------------------------------------------------------------------------------
# Speed is measured by benchmarks/, not asserted here; this checks the chunked bulk paths.


def test_bulk_saves_and_loads_round_trip(store: Store) -> None:
    keys = [SessionKey("claude-code", f"s-{i:05d}") for i in range(2000)]
    all_facts = [facts(k, tokens=i) for i, k in enumerate(keys)]
    cursors = [(cursor(f"/logs/{k.session_id}.jsonl", k), {"n": 1, "ids": ["a"] * 5}) for k in keys]
    store.save_cursors(cursors)
    store.save_facts(all_facts)
    store.save_facts(all_facts)  # all conflicts: the update path

    sessions = store.load_sessions()
    loaded_cursors = store.load_cursors("claude-code")
    assert len(sessions) == 2000 and sessions[keys[7]].facts == all_facts[7]
    assert sessions[keys[1999]].facts == all_facts[1999]
    assert len(loaded_cursors) == 2000
    assert store.load_cursor_state("/logs/s-01999.jsonl") == {"n": 1, "ids": ["a"] * 5}


# --- failures -------------------------------------------------------------------------------


def test_locked_database_write_is_a_store_error_and_nothing_breaks(tmp_path: Path) -> None:
    path = tmp_path / "sessions.db"
    store = Store.open(path, timeout=0.1)
    store.save_facts([facts(A)])

    other = sqlite3.connect(path, timeout=0.1, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError) as info:
            store.save_facts([facts(B)])
        assert info.value.path == str(path)
        assert "locked" in str(info.value)
    finally:
        other.execute("ROLLBACK")
        other.close()

    assert set(store.load_sessions()) == {A}
    store.save_facts([facts(B)])  # the same Store works again once the lock is gone
    assert set(store.load_sessions()) == {A, B}
    store.close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        conn.close()


def test_corrupt_file_is_a_store_error_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "sessions.db"
    path.write_bytes(os.urandom(8192))
    with pytest.raises(StoreError) as info:
        Store.open(path)
    assert info.value.path == str(path)
    assert str(path) in str(info.value)
    assert "not a usable database" in str(info.value)


def test_too_new_schema_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "sessions.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {LATEST + 5}")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(SchemaTooNewError):
        Store.open(path)
    assert path.read_bytes() == before


def test_a_data_path_under_a_file_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(StoreError) as info:
        Store.open(blocker / "sessions.db")
    assert "--data-dir" in str(info.value)


def test_a_database_path_that_is_a_folder_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "sessions.db").mkdir()
    with pytest.raises(StoreError) as info:
        Store.open(tmp_path / "sessions.db")
    assert "cannot open the database file" in str(info.value)


def test_another_thread_gets_its_own_connection_with_the_same_settings(store: Store) -> None:
    """Opened on the main thread, used by the poller thread: as the app does."""
    seen: list[object] = []

    def work() -> None:
        try:
            store.save_facts([facts(A)])
            store.add_tags(A, ["from-thread"])
            seen.append(store._db.pragma("foreign_keys"))
        except Exception as exc:  # surfaced below, on the test's thread
            seen.append(exc)
        finally:
            store.close()

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(10)
    assert seen == [1]
    assert store.tags_by_session() == {A: ("from-thread",)}
