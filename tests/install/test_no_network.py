"""The app opens no network socket: not in a poll over every agent's samples, not in the tray app.

Three independent checks, each in a fresh process (tests/install/app_driver.py):
- an audit hook sees every socket Python creates, connects, binds or resolves: none at all;
- after three polls the running tray app (offscreen) holds no IPv4, IPv6 or packet socket, by
  whatever code it was opened (each socket fd in /proc/self/fd asked for its family);
- in a network namespace with no interface up (`unshare -n`) the same run still works.
The tray app's single-instance channel is a local (AF_UNIX) socket made by Qt, and with a session
bus it reaches the notification service over that bus's local socket: never the network. These
runs have no session bus, so the audit hook must see no socket at all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .samples import make_sample_home

DRIVER = Path(__file__).with_name("app_driver.py")


def _env(home: Path) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
            "QT_QPA_PLATFORM": "offscreen"}


def _drive(home: Path, data: Path, polls: int, *args: str, prefix: tuple[str, ...] = ()
           ) -> dict[str, Any]:
    cmd = [*prefix, sys.executable, str(DRIVER), str(polls), "--data-dir", str(data), *args]
    done = subprocess.run(cmd, env=_env(home), capture_output=True, text=True, timeout=180,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    report: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    report["stdout"] = done.stdout
    return report


def test_cli_poll_creates_no_socket(tmp_path: Path) -> None:
    home = make_sample_home(tmp_path / "home")
    report = _drive(home, tmp_path / "data", 0, "list", "--format", "json")
    assert report["exit"] == 0
    rows = json.loads(report["stdout"].rsplit("\n\n", 1)[0])
    assert len({row["agent"] for row in rows}) == 7  # every agent was really read
    assert report["socket_events"] == []


def test_tray_app_polls_without_any_inet_socket(tmp_path: Path) -> None:
    home = make_sample_home(tmp_path / "home")
    report = _drive(home, tmp_path / "data", 3, "monitor", "--interval", "0.25")
    assert report["exit"] == 0 and report["polls"] == 3
    assert report["inet_sockets_open"] == []
    assert report["socket_events"] == []


def _can_unshare() -> str | None:
    try:
        done = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True,
                              timeout=10, check=False)
    except FileNotFoundError:
        return "needs unshare (util-linux)"
    if done.returncode != 0:
        return f"cannot make a network namespace here: {done.stderr.strip()}"
    return None


def test_works_in_a_network_namespace_with_no_network(tmp_path: Path) -> None:
    reason = _can_unshare()
    if reason:
        pytest.skip(reason)
    home = make_sample_home(tmp_path / "home")
    ip = subprocess.run(["unshare", "-n", "cat", "/proc/net/dev"], capture_output=True,
                        text=True, check=True, timeout=10).stdout
    assert [line.split(":")[0].strip() for line in ip.splitlines()[2:]] == ["lo"]
    report = _drive(home, tmp_path / "data", 3, "monitor", "--interval", "0.25",
                    prefix=("unshare", "-n"))
    assert report["exit"] == 0 and report["polls"] == 3
    assert report["socket_events"] == []
    listing = _drive(home, tmp_path / "data", 0, "list", "--format", "json",
                     prefix=("unshare", "-n"))
    assert len({row["agent"] for row in json.loads(listing["stdout"].rsplit("\n\n", 1)[0])}) == 7


def test_the_checks_see_a_socket_when_there_is_one(tmp_path: Path) -> None:
    """The control: the same hook and /proc walk report a socket that a process did open."""
    code = (
        "import socket, sys; sys.path.insert(0, sys.argv[1]); import app_driver as d;"
        "sys.addaudithook(d._hook); s = socket.socket(); s.bind(('127.0.0.1', 0));"
        "print(len(d.inet_sockets()), [e[0] for e in d.events])"
    )
    done = subprocess.run([sys.executable, "-c", code, str(DRIVER.parent)], capture_output=True,
                          text=True, check=True, timeout=60)
    assert done.stdout.split() == ["1", "['socket.__new__',", "'socket.bind']"]
