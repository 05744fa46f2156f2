"""The Notifier over a real private dbus-daemon, with a small notification server (jeepney).

The server runs in a thread of the test (the app itself has none for this): it records every
Notify, answers with a fresh id, and emits ActionInvoked / NotificationClosed when asked.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator
from itertools import count

import pytest
from jeepney import DBusAddress, MessageType, new_method_return, new_signal
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection
from PySide6.QtWidgets import QSystemTrayIcon

from llm_session_manager.core.models import SessionKey
from llm_session_manager.core.notify import Notice
from llm_session_manager.ui.dbus_notifications import PATH, SERVICE, NotificationBus
from llm_session_manager.ui.notifications import Notifier

# CI installs dbus (.ci/run), so there a missing daemon fails rather than skips.
pytestmark = pytest.mark.skipif(
    shutil.which("dbus-daemon") is None and not os.environ.get("CI"),
    reason="needs dbus-daemon (see .ci/run)",
)

FIRST = SessionKey("claude-code", "11111111-aaaa-4000-8000-000000000001")
SECOND = SessionKey("codex", "22222222-bbbb-4000-8000-000000000002")


class FakeNotificationServer:
    def __init__(self) -> None:
        self.conn = open_dbus_connection("SESSION")
        reply = self.conn.send_and_get_reply(message_bus.RequestName(SERVICE), timeout=5)
        assert reply.body == (1,), "the name is ours"  # DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER
        self.calls: list[tuple[int, tuple[object, ...]]] = []
        self._ids = count(1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                msg = self.conn.receive(timeout=0.05)
            except TimeoutError:
                continue
            if msg.header.message_type == MessageType.method_call:
                nid = next(self._ids)
                self.calls.append((nid, msg.body))
                self.conn.send(new_method_return(msg, "u", (nid,)))

    def emit(self, member: str, signature: str, body: tuple[object, ...]) -> None:
        self.conn.send(new_signal(DBusAddress(PATH, interface=SERVICE), member, signature, body))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.conn.close()


@pytest.fixture
def bus(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    out = subprocess.run(
        ["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1"],
        capture_output=True, text=True, check=True, timeout=10,
    ).stdout.split()
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", out[0])
    try:
        yield out[0]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(out[1]), signal.SIGTERM)


@pytest.fixture
def server(bus: str) -> Iterator[FakeNotificationServer]:
    made = FakeNotificationServer()
    yield made
    made.close()


@pytest.fixture
def notifier(qtbot) -> Iterator[Notifier]:
    icon = QSystemTrayIcon()
    made = Notifier(icon, None, NotificationBus.open())
    yield made
    if made.bus is not None:
        made.bus.close()


def _notice(key: SessionKey, name: str) -> Notice:
    return Notice(key, "critical", f"{name} is critical", "context 91%")


def test_a_click_on_the_older_popup_opens_the_older_session(qtbot, server, notifier) -> None:
    assert notifier.bus is not None
    notifier.on_notices((_notice(FIRST, "first"),))
    notifier.on_notices((_notice(SECOND, "second"),))
    assert [body[3] for _, body in server.calls] == ["first is critical", "second is critical"]
    assert all(body[5] == ["default", "Open"] for _, body in server.calls)
    first_id, second_id = (nid for nid, _ in server.calls)
    assert notifier.bus.remembered == {first_id: FIRST, second_id: SECOND}

    with qtbot.waitSignal(notifier.session_requested, timeout=5000) as clicked:
        server.emit("ActionInvoked", "us", (first_id, "default"))
    assert clicked.args == [FIRST]

    server.emit("NotificationClosed", "uu", (first_id, 2))
    qtbot.waitUntil(lambda: first_id not in notifier.bus.remembered, timeout=5000)
    with qtbot.waitSignal(notifier.session_requested, timeout=5000) as clicked:
        server.emit("ActionInvoked", "us", (first_id, "default"))  # closed: ignored
        server.emit("ActionInvoked", "us", (second_id, "default"))
    assert clicked.args == [SECOND]


def test_a_summary_opens_the_session_it_names_and_an_app_message_the_window(
    qtbot, server, notifier
) -> None:
    notifier.on_notices((Notice(SECOND, "waiting", "second is waiting for you", "w"),
                         _notice(FIRST, "first")))
    notifier.tell("LLM Session Manager is still running", "tray")
    (summary_id, summary), (tell_id, _) = server.calls
    assert summary[3] == "2 sessions need attention"
    with qtbot.waitSignal(notifier.session_requested, timeout=5000) as clicked:
        server.emit("ActionInvoked", "us", (summary_id, "default"))
    assert clicked.args == [FIRST]  # the critical one, as summarize picks
    with qtbot.waitSignal(notifier.open_requested, timeout=5000):
        server.emit("ActionInvoked", "us", (tell_id, "default"))


def test_remembered_popups_are_bounded(qtbot, server, notifier) -> None:
    assert notifier.bus is not None
    for number in range(80):
        notifier.on_notices((_notice(SessionKey("codex", f"s{number}"), f"s{number}"),))
    remembered = notifier.bus.remembered
    assert len(remembered) == 64 and max(remembered) == 80 and min(remembered) == 17


def test_without_a_notification_service_the_tray_shows_it(qtbot, bus, notifier) -> None:
    assert notifier.bus is not None  # a bus, but nobody owns org.freedesktop.Notifications
    notifier.on_notices((_notice(FIRST, "first"),))
    notifier.on_notices((_notice(SECOND, "second"),))
    assert notifier.bus.remembered == {}
    with qtbot.waitSignal(notifier.session_requested) as clicked:
        notifier._icon.messageClicked.emit()
    assert clicked.args == [SECOND]  # Qt's click says no more than "the last one"


def test_without_a_session_bus_the_tray_shows_it(qtbot, monkeypatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    assert NotificationBus.open() is None
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
    assert NotificationBus.open() is None
    icon = QSystemTrayIcon()
    notifier = Notifier(icon, None, None)
    notifier.on_notices((_notice(FIRST, "first"),))
    with qtbot.waitSignal(notifier.session_requested) as clicked:
        icon.messageClicked.emit()
    assert clicked.args == [FIRST]


def test_a_lost_bus_falls_back_to_the_tray(qtbot, bus, server, notifier) -> None:
    assert notifier.bus is not None
    notifier.on_notices((_notice(FIRST, "first"),))
    assert len(server.calls) == 1
    notifier.bus._conn.sock.shutdown(2)  # the daemon went away
    notifier.on_notices((_notice(SECOND, "second"),))
    assert notifier.bus._conn is None and len(server.calls) == 1
    assert notifier.last_message is not None and notifier.last_message.key == SECOND
