"""One app per data folder: a second launch asks the running one to show its window, then exits.

QLocalServer is a Unix domain socket (a named pipe on Windows): local IPC, never the network.
The name comes from the user and the data folder, so two test runs with different `--data-dir`
(or two users on one machine) never find each other.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

CONNECT_MS = 500
SHOW = b"show\n"


def instance_name(data_dir: Path) -> str:
    user = str(os.getuid()) if hasattr(os, "getuid") else os.environ.get("USERNAME", "")
    digest = hashlib.sha256(f"{user}:{data_dir.resolve()}".encode()).hexdigest()[:16]
    return f"llm-session-manager-{digest}"


def ask_running_instance(name: str, message: bytes = SHOW) -> bool:
    """True when an instance answered under `name` and was told to show its window."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(CONNECT_MS):
        return False
    socket.write(message)
    socket.waitForBytesWritten(CONNECT_MS)
    socket.disconnectFromServer()
    return True


class InstanceServer(QObject):
    """Listens under the instance name; `activation_requested` when a second launch calls."""

    activation_requested = Signal()

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._server = QLocalServer(self)
        self._server.newConnection.connect(self.on_new_connection)
        self.name = name

    def listen(self) -> bool:
        # Nobody answered, so a socket file left by a crashed instance is stale: remove it.
        QLocalServer.removeServer(self.name)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not self._server.listen(self.name):
            log.warning("single instance: cannot listen as %s: %s",
                        self.name, self._server.errorString())
            return False
        return True

    def close(self) -> None:
        self._server.close()

    @Slot()
    def on_new_connection(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            socket.readyRead.connect(self.on_ready_read)
            socket.disconnected.connect(socket.deleteLater)
            if socket.bytesAvailable():
                self._read(socket)

    @Slot()
    def on_ready_read(self) -> None:
        socket = self.sender()
        if isinstance(socket, QLocalSocket):
            self._read(socket)

    def _read(self, socket: QLocalSocket) -> None:
        data = bytes(socket.readAll().data())
        if SHOW.strip() in data:
            self.activation_requested.emit()
