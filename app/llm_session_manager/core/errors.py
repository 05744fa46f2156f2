"""Errors the core raises, one small tree so callers catch what they can act on.

    AppError
    ├── ConfigError        a config file that cannot be used (the loader reports, never raises)
    ├── StoreError         the database is locked, corrupt, or too new; carries the path
    │   └── SchemaTooNewError
    ├── SessionNotFound    an ID that matches no session
    ├── AmbiguousSession   an ID prefix that matches several sessions
    └── ImportRejected     an import document that fails validation; names the field
"""

from __future__ import annotations


class AppError(Exception):
    """Base of every error this app raises on purpose."""


class ConfigError(AppError):
    pass


class StoreError(AppError):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


class SchemaTooNewError(StoreError):
    def __init__(self, path: str, found: int, known: int) -> None:
        super().__init__(
            path, f"database schema version {found} is newer than this app knows ({known})"
        )
        self.found = found
        self.known = known


class SessionNotFound(AppError):
    pass


class AmbiguousSession(AppError):
    pass


class ImportRejected(AppError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
