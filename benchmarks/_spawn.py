"""Runs benchmark commands from a small helper process, so their peak RSS is their own.

Linux carries a process's RSS high-water mark across execve: a child forked (or vforked) by a
big parent reports at least the parent's RSS as its ru_maxrss. The benchmark's own process
holds the manifest and the generator's templates, so its children would all report its size.
This module, run as a script, is a lean python that forks the commands instead; their
ru_maxrss (from os.wait4) then has only its ~10 MB as floor.

Protocol: one JSON request per stdin line {"cmd", "env", "out", "err"}; one JSON reply per line
{"seconds", "maxrss_kb", "rc"}.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Run:
    seconds: float
    rss_mb: float
    rc: int
    stdout: str


class Spawner:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.proc = subprocess.Popen(
            [sys.executable, "-S", __file__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, bufsize=1,
        )

    def run(self, cmd: Sequence[str], env: Mapping[str, str]) -> Run:
        out, err = self.workdir / "stdout", self.workdir / "stderr"
        assert self.proc.stdin is not None and self.proc.stdout is not None
        request = {"cmd": list(cmd), "env": dict(env), "out": str(out), "err": str(err)}
        self.proc.stdin.write(json.dumps(request) + "\n")
        reply = json.loads(self.proc.stdout.readline())
        if reply["rc"] != 0:
            sys.stderr.write(f"! {' '.join(cmd[:4])} ... exited {reply['rc']}\n")
            sys.stderr.write(err.read_text(errors="replace")[-2000:])
        return Run(reply["seconds"], reply["maxrss_kb"] / 1024, reply["rc"],
                   out.read_text(encoding="utf-8", errors="replace"))

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait()


def _serve() -> None:
    for line in sys.stdin:
        req = json.loads(line)
        with open(req["out"], "wb") as out, open(req["err"], "wb") as err:
            t0 = time.perf_counter()
            proc = subprocess.Popen(req["cmd"], env=req["env"], stdout=out, stderr=err)
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped: tell Popen
        reply = {"seconds": seconds, "maxrss_kb": usage.ru_maxrss, "rc": proc.returncode}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    _serve()
