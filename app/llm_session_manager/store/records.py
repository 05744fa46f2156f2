"""The tables as peewee records. Only store/ sees these; repo.py turns rows into core.models.

The schema itself is built by migrations.py from literal DDL; tests/unit/test_migrations.py checks
that these declarations and the migrated schema agree column by column.

A session is referred to by its key text "agent:session_id" (`session_key`), not by a foreign key:
tags, project names, samples and notification times are the user's and the poller's own data, and
may be written before the session row exists (an import, a tag set from the CLI on a fresh DB).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from peewee import (
    AutoField,
    BigIntegerField,
    BooleanField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from llm_session_manager.store.db import BaseRecord

if TYPE_CHECKING:  # the stubs make fields generic; at run time they are plain classes
    _DateTimeBase = DateTimeField[datetime]
    _BigIntegerBase = BigIntegerField[int]
else:
    _DateTimeBase = DateTimeField
    _BigIntegerBase = BigIntegerField

_U64 = 1 << 64
_I64_MAX = (1 << 63) - 1


class UtcDateTimeField(_DateTimeBase):
    """An aware datetime stored as naive UTC, the form both SQLite and PostgreSQL order correctly.

    A naive datetime is refused: its instant is unknown, and mixing it with aware ones would make
    comparisons in queries silently wrong.
    """

    def db_value(self, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise ValueError(f"{self.name}: expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{self.name}: naive datetime {value.isoformat()} (want a time zone)")
        return value.astimezone(UTC).replace(tzinfo=None)

    def python_value(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str):
            # SQLite hands back the text the driver wrote ("YYYY-MM-DD HH:MM:SS[.ffffff]");
            # fromisoformat reads it far faster than peewee's strptime format list.
            value = datetime.fromisoformat(value)
        if isinstance(value, datetime):
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        raise ValueError(f"{self.name}: cannot read {value!r} as a datetime")


class UInt64Field(_BigIntegerBase):
    """st_dev / st_ino are unsigned 64-bit; SQL integers are signed. Wrap to keep them exact."""

    def db_value(self, value: Any) -> Any:
        if value is None:
            return None
        number = int(value)
        return number - _U64 if number > _I64_MAX else number

    def python_value(self, value: Any) -> Any:
        return None if value is None else unsigned_64(int(value))


def unsigned_64(number: int) -> int:
    """A stored (signed 64-bit) st_dev / st_ino as the unsigned number the OS gave."""
    return number + _U64 if number < 0 else number


class SessionRecord(BaseRecord):
    id = AutoField()
    key = TextField(unique=True)  # "agent:session_id"
    agent = TextField()
    session_id = TextField()
    facts_json = TextField()  # core.codec.facts_to_dict, as JSON
    last_activity_at = UtcDateTimeField(null=True)
    updated_at = UtcDateTimeField()
    hidden = BooleanField(default=False)
    imported = BooleanField(default=False)

    class Meta:
        table_name = "session"


class FileCursorRecord(BaseRecord):
    id = AutoField()
    path = TextField(unique=True)
    agent = TextField(index=True)  # load_cursors(agent) at start-up
    session_id = TextField()
    role = TextField()
    dev = UInt64Field()
    ino = UInt64Field()
    size = BigIntegerField()
    mtime_ns = BigIntegerField()
    offset = BigIntegerField()
    lines = BigIntegerField()
    # The file's accumulator (Source.dump), loaded only when the file changes again.
    state_json = TextField(null=True)

    class Meta:
        table_name = "file_cursor"


class TagRecord(BaseRecord):
    id = AutoField()
    name = TextField(unique=True)

    class Meta:
        table_name = "tag"


class SessionTagRecord(BaseRecord):
    id = AutoField()
    session_key = TextField()
    tag = ForeignKeyField(TagRecord, on_delete="CASCADE")

    class Meta:
        table_name = "session_tag"
        indexes = ((("session_key", "tag"), True),)


class ProjectRecord(BaseRecord):
    id = AutoField()
    session_key = TextField(unique=True)
    name = TextField()

    class Meta:
        table_name = "project"


class UsageSampleRecord(BaseRecord):
    id = AutoField()
    session_key = TextField()
    at = UtcDateTimeField()
    total_tokens = BigIntegerField()
    context_tokens = BigIntegerField(null=True)
    window = BigIntegerField(null=True)

    class Meta:
        table_name = "usage_sample"
        indexes = ((("session_key", "at"), False),)


class NotificationRecord(BaseRecord):
    """The last time each condition was notified for a session: one row per pair, for cooldown."""

    id = AutoField()
    session_key = TextField()
    condition = TextField()
    at = UtcDateTimeField()

    class Meta:
        table_name = "notification"
        indexes = ((("session_key", "condition"), True),)


class NoteRecord(BaseRecord):
    """The user's free-text note on a session (exported and imported with it)."""

    id = AutoField()
    session_key = TextField(unique=True)
    text = TextField()
    updated_at = UtcDateTimeField()

    class Meta:
        table_name = "note"


class ImportedDocumentRecord(BaseRecord):
    """An imported export document, kept whole so exporting the session gives it back exactly."""

    id = AutoField()
    session_key = TextField(unique=True)
    schema_version = IntegerField()
    document_json = TextField()
    imported_at = UtcDateTimeField()

    class Meta:
        table_name = "imported_document"


class FileProblemRecord(BaseRecord):
    """An unreadable record file or line, kept across runs (the cursor moves past a bad line, so
    a later run would not see it again). `line` 0 means the file as a whole."""

    id = AutoField()
    path = TextField()
    line = IntegerField()
    message = TextField()
    count = IntegerField()
    seen_at = UtcDateTimeField()

    class Meta:
        table_name = "file_problem"
        indexes = ((("path", "line", "message"), True),)


class MetaRecord(BaseRecord):
    """Facts about the database itself, by key (which reading of the records its facts are)."""

    key = TextField(primary_key=True)
    value = TextField()

    class Meta:
        table_name = "meta"


RECORDS: tuple[type[BaseRecord], ...] = (
    SessionRecord,
    FileCursorRecord,
    TagRecord,
    SessionTagRecord,
    ProjectRecord,
    UsageSampleRecord,
    NotificationRecord,
    NoteRecord,
    ImportedDocumentRecord,
    FileProblemRecord,
    MetaRecord,
)
