"""The selected session: health factors and why, the usage chart, errors, compactions, advice
with its actions, tags, project, and buttons to export or open the folder and the transcript.

It renders what the window hands it (a Session, its recommendations, its history) and asks for
changes by `request_made`; it never reads files or the store.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from llm_session_manager.core import formatting as fmt
from llm_session_manager.core.models import Recommendation, Session, SessionKey
from llm_session_manager.core.requests import Outcome, PreviewRequest, ProjectRequest, TagRequest
from llm_session_manager.core.usage_series import UsageSeries
from llm_session_manager.ui.project_field import ProjectField
from llm_session_manager.ui.session_table import GREY, LEVEL_COLOURS
from llm_session_manager.ui.tag_editor import TagEditor
from llm_session_manager.ui.usage_chart import UsageChart


class DetailsPanel(QFrame):
    request_made = Signal(object)  # TagRequest | ProjectRequest | PreviewRequest
    export_clicked = Signal()
    message = Signal(str)  # a one-line status for the window

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("details")
        self.setFocusPolicy(self.focusPolicy().StrongFocus)
        self._session: Session | None = None
        self._recommendations: tuple[Recommendation, ...] = ()
        self._brief_pending: PreviewRequest | None = None

        self.header = QLabel(self)
        self.header.setWordWrap(True)
        self.health = QLabel(self)
        self.health.setWordWrap(True)
        self.chart = UsageChart(self)
        self.errors = QLabel(self)
        self.errors.setWordWrap(True)
        self.advice = QWidget(self)
        self._advice_layout = QVBoxLayout(self.advice)
        self._advice_layout.setContentsMargins(0, 0, 0, 0)
        self.tags = TagEditor(self)
        self.project = ProjectField(self)
        self.export_button = QPushButton("Export…", self)
        self.export_button.setToolTip("Export this session (Ctrl+E)")
        self.folder_button = QPushButton("Open folder", self)
        self.transcript_button = QPushButton("Open transcript", self)
        self.empty = QLabel("Select a session to see its details.", self)

        edit_row = QHBoxLayout()
        edit_row.addWidget(QLabel("Tags:", self))
        edit_row.addWidget(self.tags, 2)
        edit_row.addWidget(QLabel("Project:", self))
        edit_row.addWidget(self.project, 1)
        edit_row.addWidget(self.export_button)
        edit_row.addWidget(self.folder_button)
        edit_row.addWidget(self.transcript_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.empty)
        layout.addWidget(self.header)
        layout.addWidget(self.health)
        layout.addWidget(self.chart, 1)
        layout.addWidget(self.errors)
        layout.addWidget(self.advice)
        layout.addLayout(edit_row)
        self._content = (self.header, self.health, self.chart, self.errors, self.advice,
                         self.tags, self.project, self.export_button, self.folder_button,
                         self.transcript_button)

        self.tags.tags_added.connect(self._tags_added)
        self.tags.tag_removed.connect(self._tag_removed)
        self.project.project_changed.connect(self._project_changed)
        self.export_button.clicked.connect(self.export_clicked)
        self.folder_button.clicked.connect(self.open_folder)
        self.transcript_button.clicked.connect(self.open_transcript)
        self.set_session(None)

    # -- what the window hands in -----------------------------------------------------

    @property
    def key(self) -> SessionKey | None:
        return None if self._session is None else self._session.key

    def set_session(
        self, session: Session | None, recommendations: Sequence[Recommendation] = ()
    ) -> None:
        previous = self.key
        self._session = session
        for widget in self._content:
            widget.setVisible(session is not None)
        self.empty.setVisible(session is None)
        if session is None:
            self.chart.clear()
            return
        if session.key != previous:
            self.chart.clear("Loading history…")
        self._render(session)
        recs = tuple(r for r in recommendations if session.key in r.keys)
        if recs != self._recommendations or session.key != previous:
            self._recommendations = recs
            self._render_advice()

    def set_history(self, key: SessionKey, series: UsageSeries) -> None:
        if key == self.key:
            self.chart.set_series(series)

    def set_known_tags(self, tags: Sequence[str]) -> None:
        self.tags.set_known_tags(tags)

    def recommendations(self) -> tuple[Recommendation, ...]:
        return self._recommendations

    def _render(self, s: Session) -> None:
        f = s.facts
        agent = fmt.agent_with_version(s.key.agent, f.agent_version)
        bits = [agent, f.model, f.git_branch and f"branch {f.git_branch}"]
        meta = " · ".join(b for b in bits if b)
        title = html.escape(f.title or "(no title)")
        self.header.setText(
            f"<b>{html.escape(s.project or '—')}</b> — “{title}” — {html.escape(meta)}"
            f"<br><small>{html.escape(str(s.key))} · {html.escape(s.state)}"
            f"{' · ' + html.escape(s.live.detail) if s.live.detail else ''}</small>"
        )
        # The header shows the release line only; the exact build is a hover away.
        version = f"{fmt.agent_label(s.key.agent)} {f.agent_version}" if f.agent_version else ""
        self.header.setToolTip(version)
        self.health.setText(_health_html(s))
        errors = f.errors
        lines = [f"Errors: {errors.tool} tool, {errors.api} API"]
        if errors.last_message:
            lines[0] += f" — last: {errors.last_message[:160]}"
        lines.append(f"Context: {fmt.context_cell(s)} · {fmt.compaction_text(s)}")
        self.errors.setText("\n".join(lines))
        self.tags.set_tags(s.tags)
        self.project.set_project(s.project)
        self.folder_button.setEnabled(bool(f.cwd))
        self.transcript_button.setEnabled(bool(f.paths))

    def _render_advice(self) -> None:
        while self._advice_layout.count():
            item = self._advice_layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        for rec in self._recommendations:
            row = QWidget(self.advice)
            line = QHBoxLayout(row)
            line.setContentsMargins(0, 0, 0, 0)
            text = QLabel(f"<b>{html.escape(rec.title)}</b> — {html.escape(rec.reason)}", row)
            text.setWordWrap(True)
            line.addWidget(text, 1)
            brief = QPushButton("Copy brief", row)
            brief.setProperty("recommendation", rec.id)
            brief.clicked.connect(self._copy_brief_clicked)
            line.addWidget(brief)
            command = rec.resume_command or rec.command
            resume = QPushButton("Copy resume command", row)
            resume.setToolTip(command or "no command for this advice")
            resume.setEnabled(bool(command))
            resume.setProperty("recommendation", rec.id)
            resume.clicked.connect(self._copy_command_clicked)
            line.addWidget(resume)
            self._advice_layout.addWidget(row)
        if not self._recommendations:
            self._advice_layout.addWidget(QLabel("Recommendations: none for this session.",
                                                 self.advice))

    # -- actions ----------------------------------------------------------------------

    def _rec(self) -> Recommendation | None:
        wanted = self.sender().property("recommendation") if self.sender() else None
        return next((r for r in self._recommendations if r.id == wanted), None)

    @Slot()
    def _copy_brief_clicked(self) -> None:
        rec = self._rec()
        if rec is not None:
            self.copy_brief(rec)

    def copy_brief(self, rec: Recommendation) -> None:
        """The recommendation's own brief; without one, the brief section of the session's
        Markdown export, asked for with a PreviewRequest (redacted: it is meant for pasting)."""
        if rec.brief:
            self._copy(rec.brief, "Continuation brief copied")
            return
        if self._session is None:
            return
        self._brief_pending = PreviewRequest(self._session.key, redact=True)
        self.request_made.emit(self._brief_pending)

    @Slot()
    def _copy_command_clicked(self) -> None:
        rec = self._rec()
        command = rec and (rec.resume_command or rec.command)
        if command:
            self._copy(command, "Resume command copied")

    def wants(self, outcome: Outcome) -> bool:
        return self._brief_pending is not None and outcome.request == self._brief_pending

    def on_outcome(self, outcome: Outcome) -> None:
        if not self.wants(outcome):
            return
        self._brief_pending = None
        brief = fmt.brief_from_markdown(outcome.payload) if outcome.ok else None
        if brief:
            self._copy(brief, "Continuation brief copied")
        else:
            self.message.emit(f"No brief: {outcome.message or 'the export has none'}")

    def _copy(self, text: str, done: str) -> None:
        QGuiApplication.clipboard().setText(text)
        self.message.emit(done)

    @Slot(object)
    def _tags_added(self, tags: tuple[str, ...]) -> None:
        if self._session is not None:
            self.request_made.emit(TagRequest(self._session.key, tags))

    @Slot(str)
    def _tag_removed(self, tag: str) -> None:
        if self._session is not None:
            self.request_made.emit(TagRequest(self._session.key, (tag,), remove=True))

    @Slot(object)
    def _project_changed(self, name: str | None) -> None:
        if self._session is not None:
            self.request_made.emit(ProjectRequest(self._session.key, name))

    @Slot()
    def open_folder(self) -> None:
        if self._session is not None and self._session.facts.cwd:
            self._open(Path(self._session.facts.cwd))

    @Slot()
    def open_transcript(self) -> None:
        if self._session is not None and self._session.facts.paths:
            self._open(Path(self._session.facts.paths[0]))

    def _open(self, path: Path) -> None:
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
            self.message.emit(f"Cannot open {path}")


def _health_html(s: Session) -> str:
    h = s.health
    if h is None:
        return "Health: not computed"
    colour = LEVEL_COLOURS.get(h.level, GREY)
    rows = "".join(
        f"<tr><td>{html.escape(f.name)}</td><td>{html.escape(f.raw)}</td>"
        f"<td align='right'>{f.weight * 100:.0f}%</td>"
        f"<td align='right'>→ {f.score:.0f}</td><td>{html.escape(f.reason)}</td></tr>"
        for f in h.factors
    )
    return (
        f"<span style='color:{colour}'>●</span> <b>Health {h.score:.0f}</b> {h.level}"
        f"<table cellspacing='0' cellpadding='2' style='margin-top:2px'>"
        f"<tr><th align='left'>factor</th><th align='left'>value</th><th>weight</th>"
        f"<th>score</th><th align='left'>why</th></tr>{rows}</table>"
    )
