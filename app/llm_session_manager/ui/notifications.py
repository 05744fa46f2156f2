"""Shows the notices the poller thread planned (core/notify.py) through the tray icon.

`QSystemTrayIcon.showMessage` reaches the user both ways a Linux desktop offers: with an XEmbed
tray Qt draws its own balloon, with a StatusNotifierItem host it sends
org.freedesktop.Notifications.Notify. Over D-Bus Qt attaches the "default" action (what makes the
popup clickable) only to the `Critical` message icon, so every notice uses it: a notice is
always "a session needs you". `messageClicked` carries no payload, so the key of the last message
is remembered and a click opens that session; a click on an older popup opens the newest one.
Sending Notify ourselves (jeepney, an action per popup) would fix that, at the cost of a
dependency and a D-Bus listener beside the one Qt already runs; not worth it for this case.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QSystemTrayIcon

from llm_session_manager.core.models import SessionKey
from llm_session_manager.core.notify import Message, Notice, summarize

log = logging.getLogger(__name__)

SHOW_MS = 10_000


class Notifier(QObject):
    session_requested = Signal(object)  # SessionKey: the message's session was clicked
    open_requested = Signal()  # a message without a session was clicked

    def __init__(self, icon: QSystemTrayIcon, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._icon = icon
        self.last_message: Message | None = None
        self._enabled = True
        icon.messageClicked.connect(self.on_message_clicked)

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
        self._icon.showMessage(
            message.title, message.body, QSystemTrayIcon.MessageIcon.Critical, SHOW_MS
        )

    def tell(self, title: str, body: str) -> None:
        """A message about the app itself; a click on it opens the window."""
        self.show_message(Message(title, body, None, ()))

    @Slot()
    def on_message_clicked(self) -> None:
        key: SessionKey | None = self.last_message.key if self.last_message else None
        if key is None:
            self.open_requested.emit()
        else:
            self.session_requested.emit(key)
