"""What `info` says about the desktop: is there a system tray, is there a notification service.

Both answers need Qt, and neither may fail or hang `info`: a user runs it precisely when something
is wrong. So Qt is asked to try the real display first and fall back to `offscreen` (a platform
list, as QT_QPA_PLATFORM allows), instead of aborting when the display cannot be reached.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

NOTIFICATIONS = "org.freedesktop.Notifications"
_HEADLESS = ("offscreen", "minimal")


def _platforms(env: Mapping[str, str]) -> str | None:
    """The QT_QPA_PLATFORM list to try, or None when there is no display to try."""
    chosen = env.get("QT_QPA_PLATFORM")
    if chosen:
        return chosen
    if sys.platform in ("darwin", "win32"):
        return None  # Qt's default platform; there is always a display session
    candidates = []
    if env.get("WAYLAND_DISPLAY"):
        candidates.append("wayland")
    if env.get("DISPLAY"):
        candidates.append("xcb")
    if not candidates:
        return ""
    return ";".join([*candidates, "offscreen"])


def tray_status(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    platforms = _platforms(env)
    if platforms == "":
        return "no display (neither DISPLAY nor WAYLAND_DISPLAY is set)"
    try:
        from PySide6.QtWidgets import QApplication, QSystemTrayIcon

        app = QApplication.instance()
        if app is None:
            if platforms is not None:
                os.environ["QT_QPA_PLATFORM"] = platforms
            # Qt's complaints about a display it could not reach are the answer, not noise.
            os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")
            app = QApplication(sys.argv[:1])
        name = QApplication.platformName()
        if name in _HEADLESS:
            return f"no display (Qt platform {name}; tried {platforms or 'the default'})"
        if QSystemTrayIcon.isSystemTrayAvailable():
            return f"available (Qt platform {name})"
        return f"not available (Qt platform {name}): no tray host is running on this desktop"
    except Exception as exc:  # info must answer whatever Qt does
        return f"unknown ({type(exc).__name__}: {exc})"


def notification_status(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    if sys.platform in ("darwin", "win32"):
        return "the system's own (not checked)"
    if not env.get("DBUS_SESSION_BUS_ADDRESS") and not _default_bus_exists():
        return "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)"
    try:
        from PySide6.QtCore import QCoreApplication
        from PySide6.QtDBus import QDBusConnection

        if QCoreApplication.instance() is None:
            QCoreApplication(sys.argv[:1])  # QtDBus wants an application object first
        bus = QDBusConnection.sessionBus()
        if not bus.isConnected():
            return f"no D-Bus session bus ({bus.lastError().message() or 'cannot connect'})"
        interface = bus.interface()
        registered = interface.isServiceRegistered(NOTIFICATIONS)
        if registered.isValid() and registered.value():
            return f"available ({NOTIFICATIONS} is running)"
        activatable = interface.activatableServiceNames()
        if activatable.isValid() and NOTIFICATIONS in (activatable.value() or []):
            return f"available on demand ({NOTIFICATIONS} starts by D-Bus activation)"
        return f"not available: nothing provides {NOTIFICATIONS} on the session bus"
    except Exception as exc:
        return f"unknown ({type(exc).__name__}: {exc})"


def _default_bus_exists() -> bool:
    """systemd-logind's per-user bus, used when the variable is not exported."""
    getuid = getattr(os, "getuid", None)
    return getuid is not None and os.path.exists(f"/run/user/{getuid()}/bus")
