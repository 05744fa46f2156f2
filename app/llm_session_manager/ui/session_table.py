"""The session table: a source model in a stable order, and the proxy that sorts and filters it.

`set_sessions` diffs by key, so a poll every few seconds moves no row and resets nothing: the
view keeps its selection, sort and scroll position. Cell text comes from core.formatting.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from llm_session_manager.config import HealthConfig
from llm_session_manager.core import formatting as fmt
from llm_session_manager.core.models import Session, SessionKey

Index = QModelIndex | QPersistentModelIndex

LEVEL_COLOURS = {"healthy": "#2e7d32", "warning": "#f9a825", "critical": "#c62828"}
GREY = "#9e9e9e"


class Column(IntEnum):
    HEALTH = 0
    PROJECT = 1
    TITLE = 2
    AGENT = 3
    STATE = 4
    CONTEXT = 5
    TOKENS = 6
    COST = 7
    TAGS = 8
    LAST = 9


HEADERS = {
    Column.HEALTH: "●", Column.PROJECT: "Project", Column.TITLE: "Title", Column.AGENT: "Agent",
    Column.STATE: "State", Column.CONTEXT: "Context", Column.TOKENS: "Tokens",
    Column.COST: "Cost", Column.TAGS: "Tags", Column.LAST: "Last",
}

_RIGHT = (Column.TOKENS, Column.COST, Column.LAST)


class SessionTableModel(QAbstractTableModel):
    SortRole = Qt.ItemDataRole.UserRole + 1  # the raw value: numbers sort as numbers
    IdRole = Qt.ItemDataRole.UserRole + 2  # the SessionKey
    SessionRole = Qt.ItemDataRole.UserRole + 3  # the Session itself (frozen)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[Session] = []
        self._row_of: dict[SessionKey, int] = {}
        self._now = datetime.now(UTC)

    # -- updating ---------------------------------------------------------------------

    def set_sessions(self, sessions: Sequence[Session], now: datetime | None = None) -> None:
        """Replace the rows by key: remove departures, update changes, append arrivals."""
        incoming = {s.key: s for s in sessions}
        for row in range(len(self._rows) - 1, -1, -1):  # backwards: earlier rows keep indexes
            if self._rows[row].key not in incoming:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._rows[row]
                self.endRemoveRows()
        self._row_of = {s.key: i for i, s in enumerate(self._rows)}
        last = len(Column) - 1
        time_moved = now is not None and now != self._now
        if now is not None:
            self._now = now
        for row, old in enumerate(self._rows):
            new = incoming[old.key]
            if new != old:
                self._rows[row] = new
                self.dataChanged.emit(self.index(row, 0), self.index(row, last))
        if time_moved and self._rows:  # "2m" becomes "3m" without the session changing
            self.dataChanged.emit(
                self.index(0, Column.LAST), self.index(len(self._rows) - 1, Column.LAST)
            )
        arrivals = [s for s in sessions if s.key not in self._row_of]
        if arrivals:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(arrivals) - 1)
            self._rows.extend(arrivals)
            self.endInsertRows()
            self._row_of = {s.key: i for i, s in enumerate(self._rows)}

    def session(self, key: SessionKey) -> Session | None:
        row = self._row_of.get(key)
        return None if row is None else self._rows[row]

    def row_of(self, key: SessionKey) -> int | None:
        return self._row_of.get(key)

    def sessions(self) -> tuple[Session, ...]:
        return tuple(self._rows)

    # -- Qt model interface -----------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Column):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[Column(section)]
        if role == Qt.ItemDataRole.ToolTipRole and section == Column.HEALTH:
            return "Health score (0-100)"
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        session, column = self._rows[index.row()], Column(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(session, column)
        if role == self.SortRole:
            return self._sort_value(session, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(session, column)
        if role == self.IdRole:
            return session.key
        if role == self.SessionRole:
            return session
        if role == Qt.ItemDataRole.ForegroundRole and column == Column.HEALTH:
            level = session.health.level if session.health else None
            return QColor(LEVEL_COLOURS.get(level or "", GREY))
        if role == Qt.ItemDataRole.TextAlignmentRole and column in _RIGHT:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, s: Session, column: Column) -> str:
        if column == Column.HEALTH:
            return f"● {fmt.health_cell(s)}"
        if column == Column.PROJECT:
            return s.project or fmt.DASH
        if column == Column.TITLE:
            return s.facts.title or fmt.short_id(s.key.session_id)
        if column == Column.AGENT:
            return fmt.agent_label(s.key.agent)
        if column == Column.STATE:
            return s.state
        if column == Column.CONTEXT:
            return fmt.context_cell(s)
        if column == Column.TOKENS:
            return fmt.token_cell(s.facts.usage)
        if column == Column.COST:
            return fmt.cost_cell(s.cost_usd)
        if column == Column.TAGS:
            return ", ".join(s.tags)
        return fmt.relative_time(s.facts.last_activity_at, self._now)

    def _sort_value(self, s: Session, column: Column) -> Any:
        # One type per column: QVariant compares numbers numerically, strings locale-aware.
        if column == Column.HEALTH:
            return s.health.score if s.health else -1.0
        if column == Column.PROJECT:
            return (s.project or "").lower()
        if column == Column.TITLE:
            return (s.facts.title or "").lower()
        if column == Column.AGENT:
            return fmt.agent_label(s.key.agent).lower()
        if column == Column.STATE:
            return fmt.STATE_ORDER.get(s.state, 9)
        if column == Column.CONTEXT:
            fill = s.facts.context.fill
            return -1.0 if fill is None else fill
        if column == Column.TOKENS:
            return s.facts.usage.total
        if column == Column.COST:
            return -1.0 if s.cost_usd is None else s.cost_usd
        if column == Column.TAGS:
            return ", ".join(s.tags).lower()
        return fmt.timestamp(s.facts.last_activity_at)

    def _tooltip(self, s: Session, column: Column) -> str | None:
        if column == Column.HEALTH:
            return fmt.health_tooltip(s)
        if column == Column.TITLE:
            return f"{s.facts.title or '(no title)'}\n{s.key}"
        if column == Column.PROJECT:
            return s.facts.cwd
        if column == Column.STATE:
            return fmt.state_tooltip(s)
        if column == Column.CONTEXT:
            return fmt.context_tooltip(s)
        if column == Column.TOKENS:
            return fmt.token_tooltip(s.facts.usage)
        if column == Column.COST:
            return fmt.cost_tooltip(s.cost_usd)
        if column == Column.LAST:
            return fmt.absolute_time(s.facts.last_activity_at)
        return None


ANY = ""  # the "no filter" value of every choice filter

STATE_FILTERS = ("live", "all", "active", "waiting", "idle", "ended", "imported")


class SessionFilterProxyModel(QSortFilterProxyModel):
    """Sorts by SortRole and filters by state, agent, tag, project and search text.

    `state` "live" shows active, waiting and idle sessions; ended and imported ones join them
    when `show_ended` / `show_imported` say so. "all" shows every state, and a specific state
    exactly that state.
    Hidden sessions (Delete in the window) never show.
    """

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setSortRole(SessionTableModel.SortRole)
        self.setDynamicSortFilter(True)
        self.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self._state = "live"
        self._agent = ANY
        self._tag = ANY
        self._project = ANY
        self._search = ""
        self._show_ended = True
        self._show_imported = True

    def set_filters(
        self,
        *,
        state: str | None = None,
        agent: str | None = None,
        tag: str | None = None,
        project: str | None = None,
        search: str | None = None,
        show_ended: bool | None = None,
        show_imported: bool | None = None,
    ) -> None:
        """Change any of the filters (None: keep) and filter once."""
        self.beginFilterChange()
        if state is not None:
            if state not in STATE_FILTERS:
                raise ValueError(f"unknown state filter {state!r}")
            self._state = state
        if agent is not None:
            self._agent = agent
        if tag is not None:
            self._tag = tag
        if project is not None:
            self._project = project
        if search is not None:
            self._search = search.strip().lower()
        if show_ended is not None:
            self._show_ended = show_ended
        if show_imported is not None:
            self._show_imported = show_imported
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model = self.sourceModel()
        index = model.index(source_row, 0, source_parent)
        session = model.data(index, SessionTableModel.SessionRole)
        if not isinstance(session, Session) or session.hidden:
            return False
        return self._state_ok(session) and self._others_ok(session)

    @property
    def state_filter(self) -> str:
        return self._state

    @property
    def narrowed(self) -> bool:
        """A search, agent, tag or project filter is set (beyond the state filter)."""
        return bool(self._agent or self._tag or self._project or self._search)

    def held_back_by_state(self) -> dict[str, int]:
        """The visible sessions, by state, that every filter but the state filter lets through:
        what changing the state filter (or ticking "show ended") would bring into view."""
        held: dict[str, int] = {}
        model = self.sourceModel()
        for row in range(model.rowCount()):
            session = model.data(model.index(row, 0), SessionTableModel.SessionRole)
            if (isinstance(session, Session) and not session.hidden
                    and not self._state_ok(session) and self._others_ok(session)):
                held[session.state] = held.get(session.state, 0) + 1
        return held

    def _others_ok(self, session: Session) -> bool:
        return (
            (not self._agent or session.key.agent == self._agent)
            and (not self._tag or self._tag in session.tags)
            and (not self._project or session.project == self._project)
            and (not self._search or self._search in fmt.search_text(session))
        )

    def _state_ok(self, session: Session) -> bool:
        state = session.state
        if self._state == "all":
            return True
        if self._state != "live":
            return state == self._state
        if state == "imported":
            return self._show_imported
        if state == "ended":
            return self._show_ended
        return True


_WIDTHS = ((Column.HEALTH, 52), (Column.PROJECT, 130), (Column.AGENT, 100), (Column.STATE, 70),
           (Column.CONTEXT, 130), (Column.TOKENS, 70), (Column.COST, 64), (Column.TAGS, 110),
           (Column.LAST, 54))  # fmt: skip


class SessionTableView(QTableView):
    """The session table as the window shows it: whole rows, newest first, a fill bar for the
    context column, the title taking the spare width."""

    def __init__(self, proxy: SessionFilterProxyModel, health: HealthConfig, parent: Any = None
                 ) -> None:
        # Imported here: the delegate imports this module's colours and model.
        from llm_session_manager.ui.context_bar_delegate import ContextBarDelegate

        super().__init__(parent)
        self.setObjectName("sessions")
        self.setModel(proxy)
        self.setSortingEnabled(True)
        self.sortByColumn(Column.LAST, Qt.SortOrder.DescendingOrder)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.verticalHeader().hide()
        self.setWordWrap(False)
        self.delegate = ContextBarDelegate(health, self)
        self.setItemDelegateForColumn(Column.CONTEXT, self.delegate)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(Column.TITLE, QHeaderView.ResizeMode.Stretch)
        for column, width in _WIDTHS:
            self.setColumnWidth(column, width)
