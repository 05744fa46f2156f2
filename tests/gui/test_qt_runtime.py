"""The Qt binding the app runs on must survive a long-running poller.

PySide6 6.12.0 drops a reference to True on every Signal.emit() made from Python; the tray app
emits a snapshot every poll, so it would abort ("bool_dealloc") after a few hours. This runs the
emits in a child process, where a broken binding can crash without taking the test run with it.
"""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from PySide6.QtCore import QCoreApplication, QObject, Signal

class Emitter(QObject):
    ready = Signal(object)

app = QCoreApplication([])
emitter = Emitter()
got = []
emitter.ready.connect(got.append)
before = sys.getrefcount(True), sys.getrefcount(False)
for i in range(200):
    emitter.ready.emit(i)
after = sys.getrefcount(True), sys.getrefcount(False)
print(len(got), after[0] - before[0], after[1] - before[1])
"""


def test_signal_emits_do_not_leak_or_drop_references() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    received, true_delta, false_delta = map(int, done.stdout.split())
    assert received == 200
    assert (true_delta, false_delta) == (0, 0)
