"""How the window goes away (title bar and Ctrl+W alike) and comes back as the user left it.

No poll runs here: these are about the window itself, so its host is a poller with no source.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QApplication

from llm_session_manager.config import Config
from llm_session_manager.core.poller import Poller
from llm_session_manager.paths import AppPaths
from llm_session_manager.ui.main_window import MainWindow
from llm_session_manager.ui.session_table import Column
from llm_session_manager.ui.window_state import WINDOW_FILE
from llm_session_manager.ui.worker import PollerHost


@pytest.fixture
def app() -> Iterator[QApplication]:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    yield app
    app.setQuitOnLastWindowClosed(True)  # pytest-qt's default, whatever a test set


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"  # not created: the window makes it when it saves


def make_window(qtbot, data: Path) -> MainWindow:  # type: ignore[no-untyped-def]
    host = PollerHost(Poller([], None, Config()), 600_000)
    window = MainWindow(host, Config(), AppPaths.under(data))
    qtbot.addWidget(window)
    return window


def test_ctrl_w_with_a_tray_hides_to_it_and_says_so_once(qtbot, app, data: Path) -> None:
    app.setQuitOnLastWindowClosed(False)  # what ui/app.py sets when a tray exists
    window = make_window(qtbot, data)
    with qtbot.waitActive(window):
        window.show_and_raise()
    closed: list[bool] = []
    app.lastWindowClosed.connect(lambda: closed.append(True))
    with qtbot.waitSignal(window.hidden_to_tray, timeout=1000):
        qtbot.keyClick(window, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    assert not window.isVisible()
    told: list[bool] = []
    window.hidden_to_tray.connect(lambda: told.append(True))
    window.show_and_raise()
    window.close_action.trigger()
    assert not window.isVisible() and told == [] and closed == []


# Qt quits on the last window closed only from inside app.exec(), so this runs in a process of
# its own: the app must end by itself, where a hidden window would leave it running.
NO_TRAY_APP = """
import sys
from pathlib import Path
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from llm_session_manager.config import Config
from llm_session_manager.core.poller import Poller
from llm_session_manager.paths import AppPaths
from llm_session_manager.ui.main_window import MainWindow
from llm_session_manager.ui.worker import PollerHost

app = QApplication(sys.argv[:1])
app.setQuitOnLastWindowClosed(True)  # what ui/app.py sets when no tray exists
host = PollerHost(Poller([], None, Config()), 600_000)
window = MainWindow(host, Config(), AppPaths.under(Path(sys.argv[1])))
window.hidden_to_tray.connect(lambda: print("told about the tray"))
window.show()
QTimer.singleShot(300, window.close_action.trigger)
QTimer.singleShot(8000, lambda: (print("still running"), app.exit(3)))
sys.exit(app.exec())
"""


def test_ctrl_w_without_a_tray_closes_and_quits_like_the_title_bar(data: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-c", NO_TRAY_APP, str(data)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, "")
    assert (data / WINDOW_FILE).is_file()  # and the layout was kept on the way out


def test_a_new_window_reopens_as_the_last_one_was_left(qtbot, app, data: Path) -> None:
    app.setQuitOnLastWindowClosed(False)
    first = make_window(qtbot, data)
    default = make_window(qtbot, data / "elsewhere")
    first.resize(700, 500)
    with qtbot.waitExposed(first):
        first.show_and_raise()
    first.table.sortByColumn(Column.TOKENS, Qt.SortOrder.AscendingOrder)
    first.table.setColumnWidth(Column.PROJECT, 217)
    first.splitter.setSizes([300, 100])
    saved_sizes = first.splitter.sizes()
    with qtbot.waitSignal(first.hidden_to_tray, timeout=1000):
        app.sendEvent(first.windowHandle(), QCloseEvent())  # the title bar's close
    assert (data / WINDOW_FILE).is_file()

    second = make_window(qtbot, data)
    header = second.table.horizontalHeader()
    assert (second.width(), second.height()) == (700, 500)
    assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == (
        Column.TOKENS, Qt.SortOrder.AscendingOrder)
    assert second.proxy.sortColumn() == Column.TOKENS  # the rows follow the restored header
    assert second.table.columnWidth(Column.PROJECT) == 217
    with qtbot.waitExposed(second):
        second.show_and_raise()
    assert second.splitter.sizes() == saved_sizes
    told: list[bool] = []
    second.hidden_to_tray.connect(lambda: told.append(True))
    app.sendEvent(second.windowHandle(), QCloseEvent())
    assert not second.isVisible() and told == []  # told once per user, not once per launch
    # Another data folder is another user's window: defaults, and the notice still due.
    assert default.proxy.sortColumn() == Column.LAST
    assert default.table.horizontalHeader().sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    assert not default.layout_state.told_tray


@pytest.mark.parametrize("content", [
    b"\x00\xff\xfe garbage [[[\n=\n",
    b"[window]\ngeometry=not bytes at all\nsplitter=@ByteArray(junk)\n"
    b"[table]\nheader=@ByteArray(\\x1\\x2\\x3)\ncolumns=10\nlayout=1\n[tray]\ntold=maybe\n",
])
def test_a_corrupt_file_opens_the_window_with_the_defaults(
    qtbot, data: Path, content: bytes
) -> None:
    data.mkdir()
    (data / WINDOW_FILE).write_bytes(content)
    window = make_window(qtbot, data)
    fresh = make_window(qtbot, data.parent / "fresh")
    assert (window.width(), window.height()) == (fresh.width(), fresh.height())
    assert window.proxy.sortColumn() == Column.LAST
    assert window.table.columnWidth(Column.PROJECT) == fresh.table.columnWidth(Column.PROJECT)
    assert not window.layout_state.told_tray
    window.save_layout()  # and the next save replaces it with a usable one
    assert make_window(qtbot, data).table.columnWidth(Column.PROJECT) == (
        window.table.columnWidth(Column.PROJECT))
