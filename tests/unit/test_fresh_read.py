"""Reading files from 0 on several cores gives exactly what reading them here gives."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from llm_session_manager.core import fresh_read

# Run in a child process: forking a test process that may hold Qt or other threads is not what
# the product does (it shares only from a single-threaded CLI), and the child must be that.
PROBE = """
import json, sys
from pathlib import Path
from llm_session_manager.config import Config
from llm_session_manager.core import fresh_read
from llm_session_manager.core.codec import facts_to_dict
from llm_session_manager.core.poller import Poller
from llm_session_manager.core.processes import ProcessTable
from llm_session_manager.core.sources.registry import build_sources

home = Path(sys.argv[1])
shared = []
original = fresh_read._shared
def spy(jobs, max_line, workers):
    shared.append(workers)
    return original(jobs, max_line, workers)
fresh_read._shared = spy

def poll(parallel):
    fresh_read.PARALLEL_MIN_BYTES = 0 if parallel else 1 << 60
    config = Config()
    snapshot = Poller(build_sources(config, {}, home), None, config,
                      scan_processes=ProcessTable).poll_once(advise=False)
    return {str(s.key): facts_to_dict(s.facts) for s in snapshot.sessions}, snapshot.bytes_read

serial, serial_bytes = poll(False)
parallel, parallel_bytes = poll(True)
print(json.dumps({"same": serial == parallel, "sessions": len(serial), "shared": shared,
                  "bytes": [serial_bytes, parallel_bytes]}))
"""


def test_shared_read_equals_serial_read(sample_home: Path) -> None:
    done = subprocess.run([sys.executable, "-c", PROBE, str(sample_home)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    cores = os.cpu_count() or 1
    # The shared path ran (on one core there is nothing to share with, and it must not).
    assert got["shared"] == ([min(fresh_read.MAX_WORKERS, cores)] if cores > 1 else [])
    assert got["sessions"] >= 20
    assert got["same"] is True
    assert got["bytes"][0] == got["bytes"][1] > 0


def test_small_reads_and_threaded_processes_stay_serial() -> None:
    assert fresh_read._workers_for(fresh_read.PARALLEL_MIN_BYTES - 1) == 1


def test_a_process_with_a_native_thread_reads_serially() -> None:
    """A QThread is invisible to Python's threading module; the kernel still counts it."""
    probe = (
        "from PySide6.QtCore import QThread\n"
        "from llm_session_manager.core import fresh_read\n"
        "alone = fresh_read._workers_for(1 << 40)\n"
        "thread = QThread(); thread.start()\n"
        "with_qt = fresh_read._workers_for(1 << 40)\n"
        "thread.quit(); thread.wait()\n"
        "print(alone, with_qt)\n"
    )
    env = {"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin"}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    alone, with_qt = map(int, done.stdout.split())
    assert with_qt == 1
    assert alone == min(fresh_read.MAX_WORKERS, os.cpu_count() or 1)
