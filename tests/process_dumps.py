"""The process dumps recorded next to the real clients (`data/real-clients/live/*.json`).

Each file holds one or more pretty-printed JSON objects, one per process, with the fields
`ProcessInfo` has; tests build process tables from them instead of inventing processes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from llm_session_manager.core.processes import ProcessInfo

LIVE = Path(__file__).resolve().parent / "data" / "real-clients" / "live"


def load_dump(name: str) -> list[ProcessInfo]:
    text = (LIVE / name).read_text()
    decoder = json.JSONDecoder()
    infos: list[ProcessInfo] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return infos
        obj: dict[str, Any]
        obj, pos = decoder.raw_decode(text, pos)
        infos.append(
            ProcessInfo(
                pid=obj["pid"], name=obj["name"], exe=obj["exe"], cmdline=tuple(obj["cmdline"]),
                create_time=obj["create_time"], ppid=obj["ppid"], cwd=obj["cwd"],
                open_files=tuple(obj["open_files"]),
            )
        )
