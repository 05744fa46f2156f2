"""Desktop notifications the app sends itself over the session bus, so a click says which popup.

`QSystemTrayIcon.showMessage` reports a click without saying on which popup. Here each popup is
sent with org.freedesktop.Notifications.Notify and a "default" action; the id the server returns
is remembered with what the popup is about (bounded, dropped on NotificationClosed), and
ActionInvoked(id, "default") emits `activated` with it. jeepney speaks D-Bus because QtDBus cannot
marshal Notify's uint32 `replaces_id`. No thread: a QSocketNotifier watches the bus socket and its
slot drains what arrived without blocking; Notify is one round trip with a short timeout.

`NotificationBus.open()` is None without a session bus; `notify()` is False when the message was
not delivered (no notification service, any D-Bus error), and the caller shows it another way.
"""

from __future__ import annotations

import logging
from collections import OrderedDict, deque
from typing import Any

from jeepney import DBusAddress, HeaderFields, MatchRule, MessageType, new_method_call
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import DBusConnection, open_dbus_connection
from PySide6.QtCore import QObject, QSocketNotifier, Signal

log = logging.getLogger(__name__)

SERVICE = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
NOTIFICATIONS = DBusAddress(PATH, bus_name=SERVICE, interface=SERVICE)
CALL_TIMEOUT_S = 1.0  # a notification server answers in milliseconds
MAX_REMEMBERED = 64  # popups whose click can still open their session
URGENCY_NORMAL, URGENCY_CRITICAL = 1, 2


class NotificationBus(QObject):
    activated = Signal(object)  # the `about` value of the clicked popup

    def __init__(self, connection: DBusConnection, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._conn: DBusConnection | None = connection
        self._sent: OrderedDict[int, object] = OrderedDict()
        self._signals: deque[Any] = deque()
        rule = MatchRule(type="signal", interface=SERVICE, path=PATH)
        self._filter = connection.filter(rule, queue=self._signals)
        connection.send_and_get_reply(message_bus.AddMatch(rule), timeout=CALL_TIMEOUT_S)
        self._watch = QSocketNotifier(connection.sock.fileno(), QSocketNotifier.Type.Read, self)
        self._watch.activated.connect(self._drain)

    @classmethod
    def open(cls, parent: QObject | None = None) -> NotificationBus | None:
        try:
            connection = open_dbus_connection("SESSION", auth_timeout=CALL_TIMEOUT_S)
        except Exception as exc:  # no bus address, no daemon, refused: Qt shows the messages
            log.info("no session bus for notifications (%s)", exc)
            return None
        try:
            return cls(connection, parent)
        except Exception as exc:
            log.info("session bus unusable for notifications (%s)", exc)
            connection.close()
            return None

    @property
    def remembered(self) -> dict[int, object]:
        return dict(self._sent)

    def notify(self, title: str, body: str, about: object, *, urgent: bool = True,
               timeout_ms: int = -1, app_name: str = "", desktop_entry: str = "") -> bool:
        """Show a popup whose click emits `activated(about)`; False if it was not shown."""
        if self._conn is None:
            return False
        urgency = URGENCY_CRITICAL if urgent else URGENCY_NORMAL
        hints: dict[str, tuple[str, object]] = {"urgency": ("y", urgency)}
        if desktop_entry:
            hints["desktop-entry"] = ("s", desktop_entry)
        call = new_method_call(NOTIFICATIONS, "Notify", "susssasa{sv}i", (
            app_name, 0, "", title, body, ["default", "Open"], hints, timeout_ms))
        try:
            reply = self._conn.send_and_get_reply(call, timeout=CALL_TIMEOUT_S)
        except TimeoutError:
            log.warning("notification server did not answer in %.1f s", CALL_TIMEOUT_S)
            return False
        except Exception as exc:
            log.warning("session bus lost (%s): notifications go through the tray", exc)
            self.close()
            return False
        if reply.header.message_type == MessageType.error:
            log.info("Notify failed: %s %s", reply.header.fields.get(HeaderFields.error_name),
                     reply.body)
            return False
        (notification_id,) = reply.body
        self._sent[notification_id] = about
        while len(self._sent) > MAX_REMEMBERED:
            self._sent.popitem(last=False)
        self._drain()  # signals read along with the reply are not seen by the socket notifier
        return True

    def _drain(self, *_args: object) -> None:
        conn = self._conn
        if conn is None:
            return
        try:
            while True:
                conn.recv_messages(timeout=0)
        except TimeoutError:
            pass
        except Exception as exc:
            log.warning("session bus lost (%s): notifications go through the tray", exc)
            self.close()
        while self._signals:
            self._handle(self._signals.popleft())

    def _handle(self, message: Any) -> None:
        member = message.header.fields.get(HeaderFields.member)
        if member == "ActionInvoked" and message.body[0] in self._sent:
            if message.body[1] == "default":
                self.activated.emit(self._sent[message.body[0]])
        elif member == "NotificationClosed":
            self._sent.pop(message.body[0], None)

    def close(self) -> None:
        if self._conn is None:
            return
        self._watch.setEnabled(False)
        self._filter.close()
        self._conn.close()
        self._conn = None
