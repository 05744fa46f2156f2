"""The session model and its proxy, fed with snapshots of a real poll of the sample home."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QTableView

from llm_session_manager.config import Config
from llm_session_manager.core.models import Session, SessionKey, Snapshot
from llm_session_manager.ui.session_table import (
    Column,
    SessionFilterProxyModel,
    SessionTableModel,
)
from window_facts import (
    CODEX_LIVE,
    COMPACTED,
    MOCK_SESSION,
    ODD_PATH,
    READ_MISSING,
    SAY_HELLO,
    sample_snapshot,
)


@pytest.fixture
def snapshot(sample_home: Path) -> Snapshot:
    return sample_snapshot(sample_home)


@pytest.fixture
def proxy(snapshot: Snapshot, qtbot: object) -> SessionFilterProxyModel:
    model = SessionTableModel()
    model.set_sessions(snapshot.sessions, snapshot.taken_at)
    proxy = SessionFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.set_filters(state="all")
    return proxy


def keys(proxy: SessionFilterProxyModel) -> list[SessionKey]:
    return [proxy.index(r, 0).data(SessionTableModel.IdRole) for r in range(proxy.rowCount())]


def test_model_passes_the_model_tester(qtmodeltester, snapshot: Snapshot) -> None:
    model = SessionTableModel()
    model.set_sessions(snapshot.sessions, snapshot.taken_at)
    assert model.rowCount() == len(snapshot.sessions) > 10
    qtmodeltester.check(model, force_py=True)
    proxy = SessionFilterProxyModel()
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy, force_py=True)


def test_cells_tooltips_and_roles(proxy: SessionFilterProxyModel, snapshot: Snapshot) -> None:
    model = proxy.sourceModel()
    assert isinstance(model, SessionTableModel)
    row = model.row_of(COMPACTED)
    assert row is not None

    def cell(column: Column, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        return model.index(row, column).data(role)

    assert cell(Column.TOKENS) == "38.8k"
    assert "38,818 tokens" in str(cell(Column.TOKENS, Qt.ItemDataRole.ToolTipRole))
    assert cell(Column.TOKENS, SessionTableModel.SortRole) == 38_818
    assert cell(Column.AGENT) == "Claude Code"
    assert cell(Column.PROJECT) == "myapp"
    assert cell(Column.STATE) == "ended"
    # 9,945 tokens in the window of the sample's model, as the shipped table sizes it.
    compacted = model.session(COMPACTED)
    assert compacted is not None
    window = Config().window_for(compacted.facts.model)
    assert window == 1_000_000
    assert cell(Column.CONTEXT) == f"{9945 / window * 100:.0f}%"
    assert cell(Column.CONTEXT, SessionTableModel.SortRole) == pytest.approx(9945 / window)
    assert "estimate" in str(cell(Column.COST, Qt.ItemDataRole.ToolTipRole))
    assert str(cell(Column.LAST, Qt.ItemDataRole.ToolTipRole)).startswith("2026-11-24")
    assert cell(Column.HEALTH, SessionTableModel.IdRole) == COMPACTED
    assert model.row_of(CODEX_LIVE) is not None
    live = model.session(CODEX_LIVE)
    assert live is not None and live.state == "idle"


def test_proxy_sorts_tokens_as_numbers(proxy: SessionFilterProxyModel) -> None:
    proxy.set_filters(search="myapp")  # 9.4k, 19k, 28.9k ... all in one project
    proxy.sort(Column.TOKENS, Qt.SortOrder.AscendingOrder)
    shown = keys(proxy)
    texts = [proxy.index(r, Column.TOKENS).data() for r in range(proxy.rowCount())]
    assert shown.index(SAY_HELLO) < shown.index(READ_MISSING) < shown.index(MOCK_SESSION)
    assert texts.index("9.4k") < texts.index("19k") < texts.index("28.9k") < texts.index("38.8k")
    values = [proxy.index(r, Column.TOKENS).data(SessionTableModel.SortRole)
              for r in range(proxy.rowCount())]
    assert values == sorted(values)  # as strings "19k" < "28.9k" < "9.4k" would hold instead
    proxy.sort(Column.TOKENS, Qt.SortOrder.DescendingOrder)
    assert keys(proxy)[0] == COMPACTED  # the largest of the project: 38.8k


def test_filters(proxy: SessionFilterProxyModel, snapshot: Snapshot) -> None:
    everything = len(keys(proxy))
    assert everything == len(snapshot.sessions)
    proxy.set_filters(state="live")
    proxy.set_filters(show_ended=False)
    assert set(keys(proxy)) == {CODEX_LIVE, MOCK_SESSION}
    proxy.set_filters(show_ended=True)
    assert len(keys(proxy)) == everything
    proxy.set_filters(state="ended")
    assert CODEX_LIVE not in keys(proxy) and COMPACTED in keys(proxy)
    proxy.set_filters(state="all", agent="codex")
    assert keys(proxy) and all(k.agent == "codex" for k in keys(proxy))
    proxy.set_filters(agent="", project="my.app_v2 space")
    assert keys(proxy) == [ODD_PATH]
    proxy.set_filters(project="", search="81C214")  # the id, case-insensitive
    assert keys(proxy) == [COMPACTED]
    proxy.set_filters(search="PLEASE LIST")  # the title
    assert keys(proxy) == [COMPACTED]


def test_what_only_the_state_filter_holds_back(
    proxy: SessionFilterProxyModel, snapshot: Snapshot
) -> None:
    ended = sum(1 for s in snapshot.sessions if s.state == "ended")
    proxy.set_filters(state="live", show_ended=False)
    assert not proxy.narrowed and proxy.state_filter == "live"
    assert proxy.held_back_by_state() == {"ended": ended}
    proxy.set_filters(search="81C214")  # one ended session passes the search
    assert proxy.narrowed and proxy.rowCount() == 0
    assert proxy.held_back_by_state() == {"ended": 1}
    proxy.set_filters(search="", agent="codex", state="ended")
    assert proxy.held_back_by_state() == {"idle": 1}  # the live Codex session
    proxy.set_filters(state="all")
    assert proxy.held_back_by_state() == {}


def test_tag_filter_and_hidden_sessions(snapshot: Snapshot, qtbot: object) -> None:
    sessions = [
        replace(s, tags=("backend",)) if s.key == COMPACTED
        else replace(s, hidden=True) if s.key == SAY_HELLO else s
        for s in snapshot.sessions
    ]
    model = SessionTableModel()
    model.set_sessions(sessions)
    proxy = SessionFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.set_filters(state="all")
    assert SAY_HELLO not in keys(proxy)  # hidden with Delete
    proxy.set_filters(tag="backend")
    assert keys(proxy) == [COMPACTED]
    proxy.set_filters(tag="", search="BACKEND")
    assert keys(proxy) == [COMPACTED]


def test_next_snapshot_keeps_selection_sort_and_rows(
    qtbot, sample_home: Path, snapshot: Snapshot
) -> None:
    first = [s for s in snapshot.sessions if s.key != SAY_HELLO]  # arrives with the next poll
    model = SessionTableModel()
    model.set_sessions(first, snapshot.taken_at)
    proxy = SessionFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.set_filters(state="all")
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(proxy)
    view.setSortingEnabled(True)
    view.sortByColumn(Column.TOKENS, Qt.SortOrder.DescendingOrder)
    selected = proxy.mapFromSource(model.index(model.row_of(READ_MISSING) or 0, 0))
    view.selectionModel().setCurrentIndex(
        selected, QItemSelectionModel.SelectionFlag.ClearAndSelect
        | QItemSelectionModel.SelectionFlag.Rows,
    )
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))
    proxy.modelReset.connect(lambda: resets.append(True))
    changed: list[int] = []
    model.dataChanged.connect(lambda top, _bottom, _roles: changed.append(top.row()))

    # The next poll: one session grew, one arrived, one ended its life in the records.
    grown = next(s for s in first if s.key == COMPACTED)
    usage = replace(grown.facts.usage, output=grown.facts.usage.output + 100_000)
    gone = next(s for s in first if s.key == ODD_PATH)
    later = snapshot.taken_at + timedelta(minutes=1)
    second: list[Session] = [
        replace(s, facts=replace(s.facts, usage=usage)) if s.key == COMPACTED else s
        for s in first if s is not gone
    ] + [next(s for s in snapshot.sessions if s.key == SAY_HELLO)]
    with qtbot.waitSignals([model.rowsInserted, model.rowsRemoved], timeout=1000):
        model.set_sessions(second, later)

    assert resets == []
    assert model.row_of(COMPACTED) in changed
    assert model.row_of(ODD_PATH) is None and model.row_of(SAY_HELLO) is not None
    current = view.selectionModel().currentIndex()
    assert current.data(SessionTableModel.IdRole) == READ_MISSING
    assert [i.data(SessionTableModel.IdRole) for i in view.selectionModel().selectedRows()] == [
        READ_MISSING
    ]
    assert view.horizontalHeader().sortIndicatorSection() == Column.TOKENS
    assert keys(proxy)[0] == COMPACTED  # re-sorted in place: 138.8k now leads
    tokens = [proxy.index(r, Column.TOKENS).data(SessionTableModel.SortRole)
              for r in range(proxy.rowCount())]
    assert tokens == sorted(tokens, reverse=True)
