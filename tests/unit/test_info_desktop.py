"""`info`'s desktop lines, each probe in its own process (Qt and D-Bus connections are per process).

The D-Bus cases run a private bus with a config of our own, so the machine's activatable services
do not leak in; one case adds an activation file for the notification service.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PROBE = (
    "from llm_session_manager.ui.desktop_probe import notification_status, tray_status;"
    "print(tray_status()); print(notification_status())"
)
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={dir}</listen>
  <servicedir>{services}</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "DBUS_SESSION_BUS_ADDRESS",
                        "XDG_RUNTIME_DIR")}
    env.update(extra)
    return env


def _probe(env: dict[str, str]) -> list[str]:
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                          text=True, timeout=60, check=True)
    return done.stdout.splitlines()


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    if shutil.which("dbus-daemon") is None:
        if os.environ.get("CI"):  # .ci/run installs it: missing there is a failure
            pytest.fail("CI lacks dbus-daemon: .ci/run should have installed dbus-bin")
        pytest.skip("needs dbus-daemon (package dbus-bin; .ci/run installs it)")
    services = tmp_path / "services"
    services.mkdir()
    config = tmp_path / "bus.conf"
    config.write_text(BUS_CONFIG.format(dir=tmp_path, services=services))
    out = subprocess.run(
        ["dbus-daemon", f"--config-file={config}", "--fork", "--print-address=1",
         "--print-pid=1"], capture_output=True, text=True, check=True, timeout=10,
    ).stdout.split()
    try:
        yield out[0], services
    finally:
        os.kill(int(out[1]), signal.SIGTERM)


def test_no_display_and_no_bus_are_said_plainly(tmp_path: Path) -> None:
    if Path(f"/run/user/{os.getuid()}/bus").exists():
        pytest.skip("this machine has a per-user bus at /run/user/<uid>/bus")
    tray, notifications = _probe(_env())
    assert tray == "no display (neither DISPLAY nor WAYLAND_DISPLAY is set)"
    assert notifications == "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)"


def test_unreachable_display_falls_back_instead_of_aborting() -> None:
    tray, _ = _probe(_env(DISPLAY=":4321"))  # nothing listens there
    assert tray.startswith("no display (Qt platform offscreen; tried xcb;offscreen)")


def test_notification_service_absent_then_activatable(bus: tuple[str, Path]) -> None:
    address, services = bus
    _, notifications = _probe(_env(DBUS_SESSION_BUS_ADDRESS=address))
    assert notifications == (
        "not available: nothing provides org.freedesktop.Notifications on the session bus"
    )
    (services / "notifications.service").write_text(
        "[D-BUS Service]\nName=org.freedesktop.Notifications\nExec=/bin/false\n"
    )
    subprocess.run(
        ["dbus-send", "--session", "--dest=org.freedesktop.DBus", "--type=method_call",
         "/org/freedesktop/DBus", "org.freedesktop.DBus.ReloadConfig"],
        env=_env(DBUS_SESSION_BUS_ADDRESS=address), check=True, timeout=10,
    )  # fmt: skip
    _, notifications = _probe(_env(DBUS_SESSION_BUS_ADDRESS=address))
    assert notifications.startswith("available on demand (org.freedesktop.Notifications")


def test_info_has_the_desktop_lines(tmp_path: Path, sample_home: Path) -> None:
    env = _env(HOME=str(sample_home), XDG_CONFIG_HOME=str(tmp_path / "cfg"))
    done = subprocess.run(
        [sys.executable, "-m", "llm_session_manager", "--data-dir", str(tmp_path / "d"), "info"],
        env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    lines = done.stdout.splitlines()
    assert any(line.startswith("system tray: ") for line in lines)
    assert any(line.startswith("notifications: ") for line in lines)
    entry = tmp_path / "cfg" / "autostart" / "llm-session-manager.desktop"
    assert f"start at login: off ({entry} absent)" in lines
