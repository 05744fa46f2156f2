"""A private desktop for end-to-end tests: Xvfb, a session bus, dunst and a tray host.

Every process is started here, remembered by pid and killed by pid in `close()`. Screenshots are
`xwd -root` decoded with QImage (no ImageMagick); colours read back exactly from Xvfb.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import struct
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QImage

TOOLS = {
    "common": ["Xvfb", "xwd", "xdotool", "dbus-daemon", "dunst", "dunstctl"],
    "xembed": ["trayer"],
    "sni": ["status-notifier-watcher", "gtk-sni-tray-standalone"],
}
WIDTH, HEIGHT = 800, 600


def missing_tools(host: str) -> list[str]:
    return [t for t in TOOLS["common"] + TOOLS[host] if shutil.which(t) is None]


def wait_for(what: str, check: Callable[[], object], timeout: float = 10.0) -> object:
    """Poll `check` until it returns something truthy; the test's one way to wait on a process."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.1)


@dataclass(frozen=True)
class Spot:
    count: int
    x: int
    y: int


def _free_display() -> int:
    for number in range(90, 200):
        if not Path(f"/tmp/.X{number}-lock").exists() and not Path(
            f"/tmp/.X11-unix/X{number}"
        ).exists():
            return number
    raise RuntimeError("no free X display number")


class Desktop:
    def __init__(self, workdir: Path, host: str) -> None:
        self.workdir = workdir
        self.host = host
        self.pids: list[int] = []
        self._procs: list[subprocess.Popen[bytes]] = []
        self.env = dict(os.environ)
        self.display = ""

    # -- processes ----------------------------------------------------------------------------

    def spawn(self, name: str, argv: Sequence[str], env: dict[str, str] | None = None
              ) -> subprocess.Popen[bytes]:
        log = (self.workdir / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            list(argv), env=env or self.env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, cwd=self.workdir,
        )
        log.close()
        self._procs.append(proc)
        self.pids.append(proc.pid)
        return proc

    def start(self) -> None:
        number = _free_display()
        self.display = f":{number}"
        self.spawn("xvfb", ["Xvfb", self.display, "-screen", "0", f"{WIDTH}x{HEIGHT}x24",
                            "-nolisten", "tcp"])
        wait_for("Xvfb", lambda: Path(f"/tmp/.X11-unix/X{number}").exists(), 10)
        self.env.update(DISPLAY=self.display, QT_QPA_PLATFORM="xcb")
        for name in ("WAYLAND_DISPLAY", "XDG_SESSION_TYPE", "DBUS_SESSION_BUS_ADDRESS"):
            self.env.pop(name, None)
        out = subprocess.run(
            ["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1"],
            env=self.env, capture_output=True, text=True, check=True, timeout=10,
        ).stdout.split()
        self.env["DBUS_SESSION_BUS_ADDRESS"] = out[0]
        self.pids.append(int(out[1]))
        (self.workdir / "dunstrc").write_text(
            "[global]\n  follow = none\n  geometry = \"300x5-0+40\"\n", encoding="utf-8"
        )
        self.spawn("dunst", ["dunst", "-config", str(self.workdir / "dunstrc")])
        wait_for("dunst", lambda: self.run_ok(["dunstctl", "is-paused"]), 10)
        if self.host == "xembed":
            self.spawn("trayer", [
                "trayer", "--edge", "top", "--align", "right", "--widthtype", "request",
                "--height", "32", "--transparent", "false", "--SetDockType", "true",
            ])
        else:
            self.spawn("sni-watcher", ["status-notifier-watcher"])
            wait_for("the StatusNotifierWatcher", lambda: "StatusNotifierWatcher" in self.run(
                ["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
                 "/org/freedesktop/DBus", "org.freedesktop.DBus.ListNames"]), 10)
            self.spawn("sni-host", ["gtk-sni-tray-standalone", "--bottom", "--end", "-s", "32",
                                    "-c", "#303030"])

    def close(self) -> None:
        for pid in reversed(self.pids):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for proc in self._procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        for pid in self.pids:  # the forked dbus-daemon is no child of ours
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def run(self, argv: Sequence[str]) -> str:
        done = subprocess.run(list(argv), env=self.env, capture_output=True, text=True,
                              timeout=10)
        return done.stdout

    def run_ok(self, argv: Sequence[str]) -> bool:
        return subprocess.run(list(argv), env=self.env, capture_output=True,
                              timeout=10).returncode == 0

    # -- screen -------------------------------------------------------------------------------

    def screenshot(self) -> QImage:
        data = self._xwd_root()
        # The header is 25 big-endian CARD32s; the pixels follow it and the colour map.
        header = struct.unpack(">25I", data[:100])
        size, width, height = header[0], header[4], header[5]
        bits_per_pixel, bytes_per_line, ncolors = header[11], header[12], header[19]
        pixels = data[size + ncolors * 12:]
        fmt = QImage.Format.Format_RGB32 if bits_per_pixel == 32 else QImage.Format.Format_BGR888
        image = QImage(pixels, width, height, bytes_per_line, fmt)
        return image.convertToFormat(QImage.Format.Format_RGB32)  # a copy that owns its bytes

    def _xwd_root(self) -> bytes:
        """The root window's pixels as xwd writes them.

        With windows of more than one visual (the GTK tray host, dunst's popups), xwd walks the
        window tree, and a popup that closes during the walk ends it with BadWindow and exit 1.
        That race is xwd's, not the app's, so a failed grab is taken again a few times.
        """
        errors: list[str] = []
        for _ in range(5):
            done = subprocess.run(["xwd", "-root", "-silent"], env=self.env,
                                  capture_output=True, timeout=10)
            if done.returncode == 0 and len(done.stdout) > 100:
                return done.stdout
            errors.append(done.stderr.decode(errors="replace").strip()
                          or f"exit {done.returncode}")
            time.sleep(0.1)
        raise AssertionError("xwd -root failed five times: " + " | ".join(errors))

    def find_colour(self, colour: str, near: Spot | None = None) -> Spot:
        """How many pixels have exactly `colour` (within 24 px of `near`), and their centre."""
        image = self.screenshot()
        left = top = 0
        if near is not None:  # the tray icon only: the window shows the same colours
            left, top = max(0, near.x - 24), max(0, near.y - 24)
            image = image.copy(QRect(left, top, 48, 48))
        rgb = QColor(colour)
        needle = bytes([rgb.blue(), rgb.green(), rgb.red()])
        raw = bytes(image.constBits())
        stride = image.bytesPerLine()
        xs: list[int] = []
        ys: list[int] = []
        at = raw.find(needle)
        while at != -1:
            if at % 4 == 0:
                ys.append(at // stride)
                xs.append((at % stride) // 4)
            at = raw.find(needle, at + 1)
        if not xs:
            return Spot(0, -1, -1)
        return Spot(len(xs), left + sum(xs) // len(xs), top + sum(ys) // len(ys))

    def wait_colour(self, colour: str, near: Spot | None = None, minimum: int = 40,
                    timeout: float = 20.0) -> Spot:
        found = wait_for(f"{colour} on screen", lambda: (
            spot if (spot := self.find_colour(colour, near)).count >= minimum else None),
            timeout)
        assert isinstance(found, Spot)
        return found

    def click(self, x: int, y: int, button: int = 1) -> None:
        subprocess.run(["xdotool", "mousemove", str(x), str(y), "click", str(button)],
                       env=self.env, check=True, timeout=10)

    # -- windows and notifications ------------------------------------------------------------

    def visible_windows(self, name: str) -> list[str]:
        return self.run(["xdotool", "search", "--onlyvisible", "--name", name]).split()

    def window_name(self, wid: str) -> str:
        return self.run(["xdotool", "getwindowname", wid]).strip()

    def notifications(self) -> list[dict[str, object]]:
        """Every notification dunst showed (its history, including those still displayed)."""
        raw = self.run(["dunstctl", "history"])
        shown = json.loads(raw)["data"][0] if raw.strip() else []
        return [{k: v.get("data") for k, v in item.items()} for item in shown]
