"""Run the CLI (or the tray app) in this process while recording every socket it tries to use.

    python tests/install/app_driver.py POLLS ARGS...

An audit hook (PEP 578) records each socket created, connected, bound or resolved through Python,
whatever the address family. When the app has polled POLLS times (0: do not count), the process
lists its own open network sockets (/proc/self/fd), then sends itself SIGTERM, which the tray
app handles by quitting cleanly, as it would at logout. The last stdout line is a JSON report.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

events: list[list[Any]] = []
SOCKET_EVENTS = {"socket.__new__", "socket.connect", "socket.bind", "socket.getaddrinfo",
                 "socket.sendto", "socket.sendmsg", "socket.gethostbyname"}


_checking = False  # our own look at the fds below is not the app's doing


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event in SOCKET_EVENTS and not _checking:
        events.append([event, repr(args[1:])[:200]])


def inet_sockets() -> list[str]:
    """This process's open network sockets (IPv4, IPv6, packet), whoever opened them (Qt too).

    /proc/self/net/tcp lists only connected or listening sockets, so each socket fd is asked
    for its family directly, through a duplicate of the fd.
    """
    global _checking
    network = {socket.AF_INET, socket.AF_INET6, getattr(socket, "AF_PACKET", -1)}
    found = []
    _checking = True
    try:
        for fd in Path("/proc/self/fd").iterdir():
            try:
                if not os.readlink(fd).startswith("socket:"):
                    continue
                sock = socket.socket(fileno=os.dup(int(fd.name)))
            except OSError:
                continue
            with sock:
                if sock.family in network:
                    found.append(f"fd {fd.name}: {sock.family.name} {sock.type.name}")
    finally:
        _checking = False
    return found


def main() -> int:
    polls_wanted = int(sys.argv[1])
    argv = sys.argv[2:]
    report: dict[str, Any] = {"polls": 0, "inet_sockets_open": None}
    if polls_wanted:
        from llm_session_manager.core import poller

        original = poller.Poller.poll_once

        def counted(self: poller.Poller, *args: Any, **kwargs: Any) -> Any:
            result = original(self, *args, **kwargs)
            report["polls"] += 1
            if report["polls"] == polls_wanted:
                report["inet_sockets_open"] = inet_sockets()
                os.kill(os.getpid(), signal.SIGTERM)  # the app's own handler quits it
            return result

        poller.Poller.poll_once = counted  # type: ignore[method-assign]
    sys.addaudithook(_hook)
    from llm_session_manager.cli import main as cli_main

    code = cli_main(argv)
    report.update(exit=code, socket_events=events)
    sys.stdout.flush()
    print("\n" + json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
