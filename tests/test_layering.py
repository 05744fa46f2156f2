"""The core and the store never import Qt; the UI never reaches the database directly."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "app" / "llm_session_manager"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def _modules(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


def test_core_and_store_import_no_qt() -> None:
    offenders = [
        (str(path.relative_to(PACKAGE)), name)
        for folder in ("core", "store")
        for path in _modules(folder)
        for name in _imports(path)
        if name.split(".")[0] in ("PySide6", "shiboken6")
    ]
    assert _modules("core"), "core/ has no modules: the layering check would pass vacuously"
    assert offenders == []


def test_ui_does_not_touch_the_database() -> None:
    offenders = [
        (str(path.relative_to(PACKAGE)), name)
        for path in _modules("ui")
        for name in _imports(path)
        if name.split(".")[0] in ("peewee", "playhouse")
        or name.startswith("llm_session_manager.store")
    ]
    assert offenders == []


def test_core_does_not_import_the_cli_or_ui() -> None:
    offenders = [
        (str(path.relative_to(PACKAGE)), name)
        for path in _modules("core")
        for name in _imports(path)
        if name.startswith(("llm_session_manager.ui", "llm_session_manager.cli"))
    ]
    assert offenders == []
