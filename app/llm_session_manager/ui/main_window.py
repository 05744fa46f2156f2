"""The window: filters, the session table, the details of the selected session, and dialogs.

It renders snapshots (`on_snapshot`, connected by the app to the worker's snapshot_ready) and asks
for everything else by the host's command signals; answers come back as outcomes, history and
tags from the worker, connected here to bound methods so they run in the GUI thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QHideEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QMainWindow,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from llm_session_manager.config import Config
from llm_session_manager.core import formatting as fmt
from llm_session_manager.core.models import Problem, SessionKey, Snapshot
from llm_session_manager.core.requests import HideRequest, Outcome, Request, TagRequest
from llm_session_manager.core.usage_series import UsageSeries
from llm_session_manager.paths import AppPaths
from llm_session_manager.ui.details_panel import DetailsPanel
from llm_session_manager.ui.export_dialog import ExportDialog
from llm_session_manager.ui.filter_bar import FilterBar
from llm_session_manager.ui.import_dialog import ImportDialog
from llm_session_manager.ui.problem_bar import ProblemBar
from llm_session_manager.ui.session_table import (
    SessionFilterProxyModel,
    SessionTableModel,
    SessionTableView,
)
from llm_session_manager.ui.table_area import TableArea
from llm_session_manager.ui.window_dialogs import WindowDialogs
from llm_session_manager.ui.window_state import WINDOW_FILE, WindowState
from llm_session_manager.ui.worker import PollerHost

APP_TITLE = "LLM Session Manager"


class MainWindow(QMainWindow):
    hidden_to_tray = Signal()  # the first time a user closes the window while the tray stays

    def __init__(self, host: PollerHost, config: Config, paths: AppPaths,
                 parent: Any = None) -> None:
        super().__init__(parent)
        self._host = host
        self._config = config
        self._config_problems: tuple[Problem, ...] = ()
        self._snapshot: Snapshot | None = None
        self._selected: SessionKey | None = None
        self._pending: SessionKey | None = None  # show_session before its snapshot arrived
        self._quitting = False
        self._details_total: int | None = None  # the selected session's tokens at its last chart
        self.setWindowTitle(APP_TITLE)
        self.resize(1180, 760)
        self.dialogs = WindowDialogs(self, paths, self.send_request)
        self.layout_state = WindowState(paths.data_dir / WINDOW_FILE)

        self.model = SessionTableModel(self)
        self.proxy = SessionFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.table = SessionTableView(self.proxy, config.health, self)
        self.delegate = self.table.delegate

        self.filters = FilterBar(config.ui.show_ended, self)
        self.problem_bar = ProblemBar(self)
        self.stack = TableArea(self.table, self.proxy, self.model, self)
        self.empty = self.stack.empty
        self.details = DetailsPanel(self)
        self.splitter = splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self.stack)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.problem_bar)
        layout.addWidget(self.filters)
        layout.addWidget(splitter, 1)
        self.setCentralWidget(central)
        self._build_actions()
        self._connect()
        self._apply_filters()
        self.layout_state.restore(self, splitter, self.table)

    # -- wiring -----------------------------------------------------------------------

    def _build_actions(self) -> None:
        menu = self.menuBar().addMenu("&Session")
        self.export_action = QAction("&Export…", self, shortcut=QKeySequence("Ctrl+E"))
        self.import_action = QAction("&Import…", self, shortcut=QKeySequence("Ctrl+I"))
        self.hide_action = QAction("&Hide ended session", self)
        self.refresh_action = QAction("&Refresh now", self, shortcut=QKeySequence("F5"))
        self.settings_action = QAction("&Settings…", self)
        self.close_action = QAction("&Close window", self, shortcut=QKeySequence("Ctrl+W"))
        for action in (self.export_action, self.import_action, self.hide_action,
                       self.refresh_action, self.settings_action, self.close_action):
            menu.addAction(action)
        self.export_action.triggered.connect(self.show_export)
        self.import_action.triggered.connect(self.show_import)
        self.hide_action.triggered.connect(self.hide_selected)
        self.refresh_action.triggered.connect(self._host.refresh_requested)
        self.settings_action.triggered.connect(self.show_settings)
        self.close_action.triggered.connect(self.close_window)
        self.find_shortcut = QShortcut(QKeySequence.StandardKey.Find, self)
        self.find_shortcut.activated.connect(self.focus_search)
        # Enter and Delete act on the table's row only while the table has the focus.
        for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            enter = QShortcut(QKeySequence(key), self.table)
            enter.setContext(Qt.ShortcutContext.WidgetShortcut)
            enter.activated.connect(self.focus_details)
        delete = QShortcut(QKeySequence(Qt.Key.Key_Delete), self.table)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(self.hide_selected)

    def _connect(self) -> None:
        worker = self._host.worker
        # Bound methods of this GUI-thread object: the calls are queued into this thread.
        worker.outcome_ready.connect(self.on_outcome)
        worker.history_ready.connect(self.on_history)
        worker.tags_ready.connect(self.on_tags)
        worker.roots_ready.connect(self.stack.set_roots)
        app = QApplication.instance()
        if app is not None:  # a quit from the tray or a signal: keep the layout as it is now
            app.aboutToQuit.connect(self.save_layout)
        self.filters.filters_changed.connect(self._apply_filters)
        self.filters.refresh_clicked.connect(self._host.refresh_requested)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.table.activated.connect(self.focus_details)
        self.details.request_made.connect(self.send_request)
        self.details.export_clicked.connect(self.show_export)
        self.details.message.connect(self.statusBar().showMessage)

    # -- from the worker --------------------------------------------------------------

    @Slot(object)
    def on_snapshot(self, snapshot: Snapshot) -> None:
        if snapshot is self._snapshot:  # connected twice: render once
            return
        first = self._snapshot is None
        self._snapshot = snapshot
        self.model.set_sessions(snapshot.sessions, snapshot.taken_at)
        shown = [s for s in snapshot.sessions if not s.hidden]
        self.filters.set_choices((s.key.agent for s in shown), (t for s in shown for t in s.tags))
        self.filters.set_counts(fmt.counts_text(snapshot.sessions))
        self.problem_bar.set_problems([fmt.problem_text(p) for p in snapshot.problems])
        self.stack.update_view()
        if first:
            self._host.tags_requested.emit()
        if self._pending is not None and self.model.session(self._pending) is not None:
            key, self._pending = self._pending, None
            self.select_session(key)
        self._refresh_details()

    @Slot(object)
    def on_outcome(self, outcome: Outcome) -> None:
        if self.dialogs.route(outcome):
            return
        if self.details.wants(outcome):
            self.details.on_outcome(outcome)
            return
        if outcome.ok:
            self.statusBar().showMessage(outcome.message, 5000)
            if isinstance(outcome.request, TagRequest):
                self._host.tags_requested.emit()
        else:
            self.show_problem(outcome.message)

    @Slot(object, object)
    def on_history(self, key: SessionKey, series: UsageSeries) -> None:
        self.details.set_history(key, series)

    @Slot(object)
    def on_tags(self, tags: Sequence[str]) -> None:
        self.details.set_known_tags(tags)

    # -- the agreed interface for the app and the tray --------------------------------

    @Slot()
    def show_and_raise(self) -> None:
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()

    @Slot(object)
    def show_session(self, key: SessionKey) -> None:
        """Bring the window up on one session (a notification or tray menu click)."""
        self.show_and_raise()
        if self.model.session(key) is None:
            self._pending = key  # selected when the snapshot that has it arrives
            self.setWindowTitle(f"{APP_TITLE} — {key.agent}:{fmt.short_id(key.session_id)}")
            return
        self.select_session(key)

    @Slot(str)
    def show_problem(self, text: str) -> None:
        self.problem_bar.show_problem(text)

    show_notice = show_problem  # the name ui/app.py uses

    @Slot()
    def show_settings(self) -> None:
        self.dialogs.show_settings(self._config, self._config_problems)

    def set_config(self, config: Config, problems: Sequence[Problem] = ()) -> None:
        """A reloaded config: the context bar's thresholds and the settings dialog follow it."""
        self._config = config
        self._config_problems = tuple(problems)
        self.delegate.set_health(config.health)
        self.table.viewport().update()
        if self._snapshot is not None:
            self.stack.update_view()  # the poll the new config asks for brings fresh roots
        self.dialogs.set_config(config, problems)

    def prepare_to_quit(self) -> None:
        """The app is quitting: the next close really closes, without the tray notice."""
        self._quitting = True

    # -- selection --------------------------------------------------------------------

    def select_session(self, key: SessionKey) -> bool:
        row = self.model.row_of(key)
        if row is None:
            return False
        source = self.model.index(row, 0)
        if not self.proxy.mapFromSource(source).isValid():
            self.filters.reset()  # the user asked for this session: show it whatever the filter
            self._apply_filters()
        index = self.proxy.mapFromSource(source)
        if not index.isValid():  # hidden with Delete: still show its details
            self._show_details(key)
            return False
        flags = (QItemSelectionModel.SelectionFlag.ClearAndSelect
                 | QItemSelectionModel.SelectionFlag.Rows)
        self.table.selectionModel().setCurrentIndex(index, flags)
        self.table.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        # A window just shown has not laid out its table yet: scroll again once it has.
        QTimer.singleShot(0, self._scroll_to_current)
        return True

    @Slot()
    def _scroll_to_current(self) -> None:
        current = self.table.currentIndex()
        if current.isValid():
            self.table.scrollTo(current, QAbstractItemView.ScrollHint.PositionAtCenter)

    @property
    def snapshot(self) -> Snapshot | None:
        """The snapshot shown now."""
        return self._snapshot

    def selected_key(self) -> SessionKey | None:
        return self._selected

    @Slot(QModelIndex, QModelIndex)
    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        key = current.data(SessionTableModel.IdRole) if current.isValid() else None
        if key != self._selected:
            self._show_details(key)

    def _show_details(self, key: SessionKey | None) -> None:
        self._selected = key
        session = self.model.session(key) if key is not None else None
        recs = self._snapshot.recommendations if self._snapshot else ()
        self.details.set_session(session, recs)
        self.setWindowTitle(fmt.window_title_for(session, APP_TITLE))
        self.hide_action.setEnabled(session is not None and session.state == "ended")
        self._details_total = session.facts.usage.total if session else None
        if key is not None:
            self._host.history_requested.emit(key)

    def _refresh_details(self) -> None:
        key = self._selected
        if key is None:
            return
        before = self.details.key
        session = self.model.session(key)
        recs = self._snapshot.recommendations if self._snapshot else ()
        old_total = self._details_total
        self.details.set_session(session, recs)
        total = session.facts.usage.total if session else None
        self._details_total = total
        if session is not None and (before != key or total != old_total):
            self._host.history_requested.emit(key)  # new records: a new point on the chart

    # -- commands ---------------------------------------------------------------------

    @Slot(object)
    def send_request(self, request: Request) -> None:
        self._host.request_requested.emit(request)

    @Slot()
    def focus_search(self) -> None:
        self.show_and_raise()
        self.filters.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filters.search.selectAll()

    @Slot()
    def focus_details(self) -> None:
        if self._selected is not None:
            self.details.setFocus(Qt.FocusReason.ShortcutFocusReason)

    @Slot()
    def hide_selected(self) -> None:
        session = self.model.session(self._selected) if self._selected else None
        if session is None:
            return
        if session.state != "ended":
            self.statusBar().showMessage("Only ended sessions can be hidden.", 5000)
            return
        self.send_request(HideRequest(session.key, True))

    @Slot()
    def show_export(self) -> None:
        if self._selected is None:
            self.statusBar().showMessage("Select a session to export.", 5000)
            return
        self.dialogs.show_export(self._selected)

    @Slot()
    def show_import(self) -> None:
        self.dialogs.show_import()

    @property
    def export_dialog(self) -> ExportDialog | None:
        return self.dialogs.export

    @property
    def import_dialog(self) -> ImportDialog | None:
        return self.dialogs.import_

    # -- filters ----------------------------------------------------------------------

    @Slot()
    def _apply_filters(self) -> None:
        values = self.filters.values()
        self.proxy.set_filters(
            state=values["state"], agent=values["agent"], tag=values["tag"],
            search=values["search"], show_ended=values["show_ended"],
        )
        if self._snapshot is not None:  # before the first snapshot the table stays in place
            self.stack.update_view()

    # -- closing ----------------------------------------------------------------------

    @Slot()
    def close_window(self) -> None:
        """Session ▸ Close window (Ctrl+W): what the title bar's close button does."""
        if self._stays_in_tray():
            self._hide_to_tray()
        else:
            self.close()  # the last window: the app quits, as no tray could bring it back

    def closeEvent(self, event: QCloseEvent) -> None:
        # A spontaneous close comes from the user (title bar, Alt+F4); app.quit() closes windows
        # with non-spontaneous events, and then no "still in the tray" notice must appear.
        if self._stays_in_tray() and event.spontaneous():
            event.ignore()
            self._hide_to_tray()
            return
        event.accept()

    def hideEvent(self, event: QHideEvent) -> None:
        self.save_layout()  # hidden to the tray, closed or minimised: as the user left it
        super().hideEvent(event)

    @Slot()
    def save_layout(self) -> None:
        self.layout_state.save(self, self.splitter, self.table)

    def _stays_in_tray(self) -> bool:
        app = QApplication.instance()
        return (isinstance(app, QApplication) and not app.quitOnLastWindowClosed()
                and not self._quitting)

    def _hide_to_tray(self) -> None:
        self.hide()
        if not self.layout_state.told_tray:  # once per user, not once per launch
            self.layout_state.set_told_tray()
            self.hidden_to_tray.emit()
