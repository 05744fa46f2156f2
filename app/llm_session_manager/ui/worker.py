"""The one poller thread: a QObject moved to a QThread, events out and commands in by signal.

The worker owns the Poller (and through it the store) after start-up; the GUI thread only receives
frozen snapshots and outcomes. Don't subclass QThread: the worker needs the thread's event loop for
its timer and for queued commands.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from llm_session_manager.config import Config
from llm_session_manager.core.actions import Actions
from llm_session_manager.core.models import SessionKey, Snapshot
from llm_session_manager.core.notify import NotificationPlanner
from llm_session_manager.core.poller import Poller
from llm_session_manager.core.requests import Request
from llm_session_manager.core.root_status import root_statuses
from llm_session_manager.core.session_history import SessionHistory
from llm_session_manager.core.usage_series import usage_series

log = logging.getLogger(__name__)


class PollWorker(QObject):
    snapshot_ready = Signal(object)  # core.models.Snapshot
    poll_failed = Signal(str)
    outcome_ready = Signal(object)  # core.requests.Outcome
    history_ready = Signal(object, object)  # SessionKey, core.usage_series.UsageSeries
    tags_ready = Signal(object)  # tuple[str, ...]: every tag in use, for completion
    notices_ready = Signal(object)  # tuple[core.notify.Notice, ...], after the snapshot
    # tuple[core.root_status.RootStatus, ...], just before a snapshot with no session to show:
    # the window's empty state says where the records were looked for and what was found.
    roots_ready = Signal(object)

    def __init__(self, poller: Poller, interval_ms: int) -> None:
        super().__init__()  # no parent: it is moved to another thread
        self._poller = poller
        self._actions = Actions(poller)
        # Here because it reads the agents' files (and keeps what it read): the window never does.
        self._history = SessionHistory(poller)
        # Decided here because the cooldown lives in the store, which only this thread touches.
        self._planner = NotificationPlanner(poller.store, lambda: poller.config)
        self._interval_ms = interval_ms
        self._timer: QTimer | None = None
        self._paused = False

    @Slot()
    def start(self) -> None:
        """Connected to QThread.started: runs in the worker thread, so the timer lives there."""
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.poll_now)
        self._timer.start(self._interval_ms)
        self.poll_now()

    @Slot()
    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()

    @Slot()
    def poll_now(self) -> None:
        thread = QThread.currentThread()
        try:
            snapshot = self._poller.poll_once(cancelled=thread.isInterruptionRequested)
        except Exception as exc:  # never let a poll kill the thread
            log.exception("poll failed")
            self.poll_failed.emit(str(exc))
            return
        if not any(not s.hidden for s in snapshot.sessions):
            self._tell_roots()
        self.snapshot_ready.emit(snapshot)
        self._notify(snapshot)

    def _tell_roots(self) -> None:
        # Listed here, on the poller's thread, so the window never touches the agents' files;
        # only for an empty window, as a busy one does not show them.
        try:
            roots = root_statuses(self._poller.sources)
        except Exception:  # the empty state's detail must not stop polling
            log.exception("cannot list the roots")
            return
        self.roots_ready.emit(roots)

    def _notify(self, snapshot: Snapshot) -> None:
        try:
            notices = self._planner.plan(snapshot, snapshot.taken_at)
        except Exception:  # a notification problem must not stop polling
            log.exception("notification planning failed")
            return
        if notices:
            self.notices_ready.emit(tuple(notices))

    @Slot(object)
    def pause_notifications(self, until: object) -> None:
        """`until`: an aware datetime, or None to resume."""
        self._planner.pause(until if isinstance(until, datetime) else None)

    @Slot(int)
    def set_interval(self, interval_ms: int) -> None:
        self._interval_ms = max(250, interval_ms)
        if self._timer is not None:
            self._timer.start(self._interval_ms)

    @Slot(object)
    def set_config(self, config: Config) -> None:
        self._poller.set_config(config)
        self.set_interval(int(config.poll_interval_s * 1000))
        self.poll_now()

    @Slot(object)
    def perform(self, request: Request) -> None:
        outcome = self._actions.perform(request)
        self.outcome_ready.emit(outcome)
        if outcome.ok:
            self.poll_now()  # the change shows in the next snapshot at once

    @Slot(object)
    def request_history(self, key: SessionKey) -> None:
        """The session's chart: from its agent's records where its source reads them, else from
        the stored samples."""
        try:
            series = self._history.series(key)
        except Exception as exc:  # the chart's history must not stop the poller thread
            log.warning("cannot read history of %s: %s", key, exc)
            series = usage_series(())
        self.history_ready.emit(key, series)

    @Slot()
    def request_tags(self) -> None:
        try:
            self.tags_ready.emit(tuple(self._actions.all_tags()))
        except Exception as exc:
            log.warning("cannot read tags: %s", exc)
            self.tags_ready.emit(())


class PollerHost(QObject):
    """Lives in the GUI thread and owns the poller thread; commands go out as signals."""

    refresh_requested = Signal()
    request_requested = Signal(object)
    history_requested = Signal(object)
    tags_requested = Signal()
    config_changed = Signal(object)
    notifications_pause_requested = Signal(object)  # datetime | None

    def __init__(
        self,
        poller: Poller,
        interval_ms: int,
        parent: QObject | None = None,
        *,
        on_stop: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self._thread = QThread(self)
        self._thread.setObjectName("poller")
        self.worker = PollWorker(poller, interval_ms)
        self.worker.moveToThread(self._thread)
        self._thread.started.connect(self.worker.start)
        self._thread.finished.connect(self.worker.deleteLater)
        self.refresh_requested.connect(self.worker.poll_now)
        self.request_requested.connect(self.worker.perform)
        self.history_requested.connect(self.worker.request_history)
        self.tags_requested.connect(self.worker.request_tags)
        self.config_changed.connect(self.worker.set_config)
        self.notifications_pause_requested.connect(self.worker.pause_notifications)
        self._on_stop = on_stop
        self._running = False

    def start(self) -> None:
        if not self._running:
            self._running = True
            self._thread.start()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Stop the thread and wait for it; True when it ended in time."""
        if not self._running:
            return True
        self._running = False
        self._thread.requestInterruption()
        self._thread.quit()
        ended = self._thread.wait(timeout_ms)
        if not ended:
            log.warning("the poller thread did not stop within %d ms", timeout_ms)
        if self._on_stop is not None:
            self._on_stop()
        return bool(ended)

    @property
    def running(self) -> bool:
        return self._running
