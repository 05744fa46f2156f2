"""Shows the notices the poller thread planned (core/notify.py): over D-Bus, else the tray icon.

With a notification service on the session bus each message is its own popup with a "default"
action (ui/dbus_notifications.py): a click opens the session of that popup, also an older one.
The summary of several notices opens `Message.key`, the session `summarize` picks.

Without one (no session bus, no service, any D-Bus error) the tray icon shows the message:
`QSystemTrayIcon.showMessage` reaches the user both ways a Linux desktop offers: with an XEmbed
tray Qt draws its own balloon, with a StatusNotifierItem host it sends
org.freedesktop.Notifications.Notify. Over D-Bus Qt attaches the "default" action (what makes the
popup clickable) only to the `Critical` message icon, so every notice uses it: a notice is
always "a session needs you". `messageClicked` carries no payload, so the key of the last message
is remembered and a click opens that session; there a click on an older popup opens the newest.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QSystemTrayIcon

from llm_session_manager.core.models import SessionKey
from llm_session_manager.core.notify import Message, Notice, summarize
from llm_session_manager.ui.dbus_notifications import NotificationBus

log = logging.getLogger(__name__)

SHOW_MS = 10_000
APP_TITLE = "LLM Session Manager"


class Notifier(QObject):
    session_requested = Signal(object)  # SessionKey: the message's session was clicked
    open_requested = Signal()  # a message without a session was clicked

    def __init__(self, icon: QSystemTrayIcon, parent: QObject | None = None,
                 bus: NotificationBus | None = None) -> None:
        super().__init__(parent)
        self._icon = icon
        self.last_message: Message | None = None
        self._enabled = True
        self.bus = bus
        icon.messageClicked.connect(self.on_message_clicked)
        if bus is not None:
            bus.setParent(self)
            bus.activated.connect(self.on_popup_clicked)

    def set_enabled(self, enabled: bool) -> None:
        """`ui.notifications` of the config; the planner checks it too, this covers a reload."""
        self._enabled = enabled

    @Slot(object)
    def on_notices(self, notices: Sequence[Notice]) -> None:
        message = summarize(notices)
        if message is None or not self._enabled:
            return
        self.show_message(message)

    def show_message(self, message: Message) -> None:
        self.last_message = message
        log.info("notify: %s — %s", message.title, message.body.replace("\n", "; "))
        if self.bus is not None and self.bus.notify(
            message.title, message.body, message.key, urgent=message.key is not None,
            timeout_ms=SHOW_MS, app_name=APP_TITLE,
            desktop_entry=QGuiApplication.desktopFileName(),
        ):
            return
        self._icon.showMessage(
            message.title, message.body, QSystemTrayIcon.MessageIcon.Critical, SHOW_MS
        )

    def tell(self, title: str, body: str) -> None:
        """A message about the app itself; a click on it opens the window."""
        self.show_message(Message(title, body, None, ()))

    @Slot()
    def on_message_clicked(self) -> None:
        self.on_popup_clicked(self.last_message.key if self.last_message else None)

    @Slot(object)
    def on_popup_clicked(self, key: SessionKey | None) -> None:
        if key is None:
            self.open_requested.emit()
        else:
            self.session_requested.emit(key)
