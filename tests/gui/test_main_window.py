"""The window with a real poller thread over a temporary store and the sample home: snapshots
arrive in the GUI thread, edits go out as requests, persist and come back in the next snapshot."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QThread
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QApplication

from llm_session_manager.config import Config
from llm_session_manager.core.models import SessionKey
from llm_session_manager.core.requests import HideRequest, ProjectRequest, TagRequest
from llm_session_manager.paths import AppPaths
from llm_session_manager.store.repo import Store
from llm_session_manager.ui.main_window import MainWindow
from llm_session_manager.ui.session_table import SessionTableModel
from llm_session_manager.ui.worker import PollerHost
from window_facts import CODEX_LIVE, COMPACTED, MOCK_SESSION, SAY_HELLO, sample_poller


@pytest.fixture
def host(qtbot, tmp_path: Path, sample_home: Path) -> Iterator[PollerHost]:
    store = Store.open(tmp_path / "sessions.db")
    # A long interval: every poll in these tests is one the test (or a request) asked for.
    host = PollerHost(sample_poller(sample_home, store), 600_000)
    yield host
    assert host.shutdown()
    store.close()


@pytest.fixture
def window(qtbot, host: PollerHost, tmp_path: Path) -> MainWindow:
    window = MainWindow(host, Config(), AppPaths.under(tmp_path / "app"))
    qtbot.addWidget(window)
    host.worker.snapshot_ready.connect(window.on_snapshot)  # as ui/app.py wires it
    host.start()
    # Waits watch the GUI side: pytest-qt's waitSignal on a worker signal would run its own
    # callback (and stop its timer) in the worker thread.
    qtbot.waitUntil(lambda: window.model.rowCount() > 0, timeout=10_000)
    return window


def session(window: MainWindow, key):  # type: ignore[no-untyped-def]
    return window.model.session(key)


def test_snapshots_arrive_in_the_gui_thread_and_the_thread_stops_cleanly(
    qtbot, qtlog, host: PollerHost, tmp_path: Path
) -> None:
    app = QApplication.instance()
    assert app is not None
    seen: list[bool] = []
    window = MainWindow(host, Config(), AppPaths.under(tmp_path / "app"))
    qtbot.addWidget(window)
    host.worker.snapshot_ready.connect(window.on_snapshot)
    # A callable without a receiver runs in the emitting thread: here, the thread in which
    # on_snapshot fed the model. (A subclass overriding on_snapshot would not do: PySide6
    # connects an overridden slot directly, in the worker thread.)
    window.model.dataChanged.connect(
        lambda *_: seen.append(QThread.currentThread() is app.thread())
    )
    window.model.rowsInserted.connect(
        lambda *_: seen.append(QThread.currentThread() is app.thread())
    )
    host.start()
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=10_000)
    first = window.snapshot
    host.refresh_requested.emit()  # a second snapshot: its time moves "Last" (dataChanged)
    qtbot.waitUntil(lambda: window.snapshot is not first, timeout=10_000)
    assert len(seen) >= 2
    assert all(seen)
    assert window.model.row_of(COMPACTED) is not None
    assert window.filters.counts.text() == f"2 live · {window.model.rowCount() - 2} ended"
    thread = host.worker.thread()
    assert thread is not app.thread()
    assert host.shutdown(5000)
    assert thread.isFinished()
    warnings = [r for r in qtlog.records if r.type.value >= 1]  # QtWarningMsg and worse
    assert warnings == []


def test_show_session_selects_scrolls_and_titles(qtbot, window: MainWindow) -> None:
    window.filters.select(window.filters.state, "live")
    window.filters.show_ended.setChecked(False)  # COMPACTED ended: hidden by the filter now
    with qtbot.waitSignal(window._host.history_requested, timeout=2000) as asked:
        window.show_session(COMPACTED)
    assert asked.args == [COMPACTED]
    assert window.isVisible()
    assert window.windowTitle() == "LLM Session Manager — claude-code:81c214e6"
    assert window.selected_key() == COMPACTED
    current = window.table.currentIndex()
    assert current.data(SessionTableModel.IdRole) == COMPACTED
    assert window.table.visualRect(current).intersects(window.table.viewport().rect())
    assert window.details.key == COMPACTED
    assert "myapp" in window.details.header.text()
    qtbot.waitUntil(lambda: bool(window.details.chart.series.points), timeout=5000)


def test_tag_edit_persists_and_comes_back(qtbot, window: MainWindow) -> None:
    window.show_session(COMPACTED)
    editor = window.details.tags
    editor.field.setText("backend, urgent")
    with qtbot.waitSignal(window._host.request_requested, timeout=1000) as sent:
        qtbot.keyClick(editor.field, Qt.Key.Key_Return)
    assert sent.args == [TagRequest(COMPACTED, ("backend", "urgent"))]
    qtbot.waitUntil(lambda: session(window, COMPACTED).tags == ("backend", "urgent"), timeout=5000)
    qtbot.waitUntil(lambda: [c.text() for c in editor.chips()] == ["backend  ×", "urgent  ×"])
    qtbot.waitUntil(lambda: "urgent" in editor.known_tags(), timeout=5000)  # tags_ready
    assert window.filters.tag.findData("backend") > 0

    with qtbot.waitSignal(window._host.request_requested, timeout=1000) as sent:
        qtbot.mouseClick(editor.chips()[1], Qt.MouseButton.LeftButton)
    assert sent.args == [TagRequest(COMPACTED, ("urgent",), remove=True)]
    qtbot.waitUntil(lambda: session(window, COMPACTED).tags == ("backend",), timeout=5000)


def test_project_edit_persists_and_comes_back(qtbot, window: MainWindow) -> None:
    window.show_session(MOCK_SESSION)
    field = window.details.project
    assert field.text() == "myapp"
    field.setFocus()
    field.selectAll()
    qtbot.keyClicks(field, "billing")
    with qtbot.waitSignal(window._host.request_requested, timeout=1000) as sent:
        qtbot.keyClick(field, Qt.Key.Key_Return)
    assert sent.args == [ProjectRequest(MOCK_SESSION, "billing")]
    qtbot.waitUntil(lambda: session(window, MOCK_SESSION).project == "billing", timeout=5000)
    row = window.model.row_of(MOCK_SESSION)
    assert window.model.index(row, 1).data() == "billing"
    window.filters.search.setText("BILLING")
    assert window.proxy.rowCount() == 1


def test_delete_hides_an_ended_session_only(qtbot, window: MainWindow) -> None:
    with qtbot.waitActive(window):  # shortcuts fire only in the active window
        window.show_and_raise()
    window.show_session(CODEX_LIVE)  # idle: live, so Delete does nothing
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_Delete)
    assert "Only ended sessions" in window.statusBar().currentMessage()
    window.show_session(SAY_HELLO)
    window.table.setFocus()
    with qtbot.waitSignal(window._host.request_requested, timeout=1000) as sent:
        qtbot.keyClick(window.table, Qt.Key.Key_Delete)
    assert sent.args == [HideRequest(SAY_HELLO, True)]
    qtbot.waitUntil(lambda: session(window, SAY_HELLO).hidden, timeout=5000)
    shown = [window.proxy.index(r, 0).data(SessionTableModel.IdRole)
             for r in range(window.proxy.rowCount())]
    assert SAY_HELLO not in shown


def test_keyboard_search_and_enter(qtbot, window: MainWindow) -> None:
    with qtbot.waitActive(window):
        window.show_and_raise()
    window.table.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.filters.search.hasFocus()
    qtbot.keyClicks(window.filters.search, "81c214")
    # It ended, and "show ended" starts unticked: the table area says so instead of going blank.
    assert window.proxy.rowCount() == 0
    assert window.stack.currentWidget() is window.empty
    assert window.empty.text() == ("No live session matches the search and filters. 1 ended one "
                                   "does — tick “show ended” to see it.")
    window.filters.show_ended.setChecked(True)
    assert window.proxy.rowCount() == 1
    assert window.stack.currentWidget() is window.table
    window.table.setFocus()
    window.table.setCurrentIndex(window.proxy.index(0, 0))
    qtbot.keyClick(window.table, Qt.Key.Key_Return)
    assert window.details.hasFocus()


def test_problems_show_in_a_dismissible_bar(qtbot, window: MainWindow) -> None:
    window.show_problem("config.yaml:3: poll_interval_s must be a number; using 5")
    assert window.problem_bar.isVisibleTo(window)
    assert "config.yaml:3" in window.problem_bar.label.text()
    qtbot.mouseClick(window.problem_bar.close_button, Qt.MouseButton.LeftButton)
    assert not window.problem_bar.isVisibleTo(window)


def test_closing_hides_to_the_tray_once_told(qtbot, window: MainWindow) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)  # what ui/app.py sets when a tray exists
    try:
        with qtbot.waitExposed(window):
            window.show_and_raise()
        # A close event sent to the native window arrives spontaneous, as a title-bar close does.
        with qtbot.waitSignal(window.hidden_to_tray, timeout=1000):
            app.sendEvent(window.windowHandle(), QCloseEvent())
        assert not window.isVisible()
        told: list[bool] = []
        window.hidden_to_tray.connect(lambda: told.append(True))
        window.show_and_raise()
        app.sendEvent(window.windowHandle(), QCloseEvent())
        assert not window.isVisible() and told == []  # said once only
        window.show_and_raise()
        window.prepare_to_quit()
        assert window.close()
        assert told == []
    finally:
        app.setQuitOnLastWindowClosed(True)


def test_live_only_by_default_and_the_filtered_empty_state(qtbot, window: MainWindow) -> None:
    assert not Config().ui.show_ended and not window.filters.show_ended.isChecked()
    states = {window.proxy.index(r, 0).data(SessionTableModel.SessionRole).state
              for r in range(window.proxy.rowCount())}
    assert window.proxy.rowCount() == 2 and states <= {"active", "waiting", "idle"}
    ended = window.model.rowCount() - 2
    window.filters.select(window.filters.state, "waiting")  # no sample session waits
    assert window.stack.currentWidget() is window.empty
    assert window.empty.text() == (f"No waiting sessions. {window.model.rowCount()} in other "
                                   "states — choose State “All” to see them.")
    window.filters.select(window.filters.state, "live")
    window.filters.select(window.filters.agent, "gemini")  # every Gemini session ended
    assert window.empty.text().startswith("No live session matches the search and filters. ")
    window.filters.select(window.filters.agent, "")
    window.filters.search.setText("no such words anywhere")
    assert window.empty.text() == (
        f"No session matches the search and filters ({window.model.rowCount()} sessions in all).")
    window.filters.search.clear()
    assert window.stack.currentWidget() is window.table
    window.filters.select(window.filters.state, "ended")
    assert window.proxy.rowCount() == ended


def empty_home_window(  # type: ignore[no-untyped-def]
    qtbot, home: Path, tmp_path: Path, monkeypatch, store=None
):
    """A window over `home` (as $HOME), polling it with the recorded process table."""
    monkeypatch.setenv("HOME", str(home))
    for name in ("CLAUDE_CONFIG_DIR", "CODEX_HOME"):
        monkeypatch.delenv(name, raising=False)
    host = PollerHost(sample_poller(home, store), 600_000)
    window = MainWindow(host, Config(), AppPaths.under(tmp_path / "app"))
    qtbot.addWidget(window)
    host.worker.snapshot_ready.connect(window.on_snapshot)
    host.start()
    return host, window


def test_empty_state_names_each_root_and_what_is_in_it(
    qtbot, tmp_path: Path, monkeypatch
) -> None:
    empty_home = tmp_path / "empty-home"
    (empty_home / ".codex" / "sessions").mkdir(parents=True)
    host, window = empty_home_window(qtbot, empty_home, tmp_path, monkeypatch)
    try:
        qtbot.waitUntil(lambda: window.snapshot is not None, timeout=10_000)
    finally:
        assert host.shutdown()
    assert window.stack.currentWidget() is window.empty
    text = window.empty.text()
    assert text.startswith("No sessions yet. Looking in: ~/.claude/projects (not found), ")
    assert "~/.codex/sessions (no files), ~/.codex/archived_sessions (not found)" in text
    assert "Start Claude Code, Codex" in text


def test_empty_state_counts_the_files_of_sessions_all_hidden(
    qtbot, tmp_path: Path, monkeypatch
) -> None:
    home = tmp_path / "home"
    project = home / ".claude" / "projects" / "-home-u-app"
    project.mkdir(parents=True)
    (project / "11111111-2222-3333-4444-555555555555.jsonl").write_text("")
    key = SessionKey("claude-code", "11111111-2222-3333-4444-555555555555")
    store = Store.open(tmp_path / "sessions.db")
    host, window = empty_home_window(qtbot, home, tmp_path, monkeypatch, store)
    try:
        qtbot.waitUntil(lambda: window.model.session(key) is not None, timeout=10_000)
        window.filters.show_ended.setChecked(True)
        assert window.stack.currentWidget() is window.table
        window.send_request(HideRequest(key, True))
        qtbot.waitUntil(lambda: window.stack.currentWidget() is window.empty, timeout=10_000)
        assert "Looking in: ~/.claude/projects (1 file), " in window.empty.text()
        assert "~/.codex/sessions (not found)" in window.empty.text()
        # A config reload (as ui/app.py passes it on) polls again, with the roots as they are now.
        (home / ".codex" / "sessions").mkdir(parents=True)
        host.config_changed.emit(Config())
        window.set_config(Config())
        qtbot.waitUntil(lambda: "~/.codex/sessions (no files)" in window.empty.text(),
                        timeout=10_000)
        # And so does every poll: a new session's file counts once it is hidden too.
        second = SessionKey("claude-code", "66666666-2222-3333-4444-555555555555")
        (project / f"{second.session_id}.jsonl").write_text("")
        host.refresh_requested.emit()
        qtbot.waitUntil(lambda: window.stack.currentWidget() is window.table, timeout=10_000)
        window.send_request(HideRequest(second, True))
        qtbot.waitUntil(lambda: "~/.claude/projects (2 files)" in window.empty.text(),
                        timeout=10_000)
    finally:
        assert host.shutdown()
        store.close()
