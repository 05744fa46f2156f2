"""Where the app keeps its files, and where its shipped resources are.

`AppPaths` is built once in `cli.main()` and passed down; nothing reads platformdirs elsewhere.
`resource_path()` is the only place that knows about installed wheels and PyInstaller bundles.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "llm-session-manager"
CONFIG_NAME = "config.yaml"
DB_NAME = "sessions.db"


@dataclass(frozen=True)
class AppPaths:
    config_file: Path
    data_dir: Path

    @property
    def db_path(self) -> Path:
        return self.data_dir / DB_NAME

    @classmethod
    def from_platformdirs(cls) -> AppPaths:
        import platformdirs

        return cls(
            config_file=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / CONFIG_NAME,
            data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        )

    @classmethod
    def under(cls, root: Path) -> AppPaths:
        """Everything below one folder (`--data-dir`, tests, development)."""
        return cls(config_file=root / CONFIG_NAME, data_dir=root)


def resource_path(*parts: str) -> Path:
    """A shipped file: from a PyInstaller bundle, an installed wheel or the source tree."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is not None:
        base = Path(bundle) / "resources"
    else:
        here = Path(__file__).resolve()
        installed = here.parent / "resources"
        base = installed if installed.is_dir() else here.parents[2] / "resources"
    return base.joinpath(*parts)
