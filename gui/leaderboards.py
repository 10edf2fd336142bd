"""The Leaderboards screen: models and evaluators (AlpacaEval's two boards), paired tests, plots; live."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QStackedWidget,
    QTableView,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from tiebreak.core.errors import TiebreakError
from tiebreak.core.metrics.boards import (
    BoardsSnapshot,
    compute_boards,
    export_alpaca_eval,
    export_csv,
    paired_tables,
)
from tiebreak.gui.context import AppContext
from tiebreak.gui.leaderboard_tables import (
    IntervalDelegate,
    empty_eval,
    empty_panel,
    evaluators_model,
    fill_paired,
    models_model,
    proxy_for,
    table_view,
)  # fmt: skip
from tiebreak.gui.safe_text import plain_label
from tiebreak.gui.store_job import JobRunner

REFRESH_MS = 1500  # new labels: recompute at most this often while the screen is visible


class LeaderboardsScreen(QWidget):
    """Both leaderboards, recomputed in the background whenever labels change.

    Signals
    -------
    browse_requested(dict)
        A plot point was clicked: a browse filter (``generator`` and/or ``group``).
    snapshot_ready(object)
        A new :class:`BoardsSnapshot` is on screen.
    """

    browse_requested = Signal(dict)
    snapshot_ready = Signal(object)
    paired_ready = Signal(object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, n_resamples: int = 2000) -> None:
        super().__init__(parent)
        self.ctx, self.n_resamples = ctx, n_resamples
        self.snapshot: BoardsSnapshot | None = None
        self._panels: list[tuple[str, str]] = []
        self.jobs = JobRunner(ctx.store, ctx.db_path, self)
        self.pool = self.jobs.pool
        self._generation, self._snap_gen, self._stale, self.computing = 0, -1, True, False
        self.panel_combo = QComboBox()
        self.panel_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.panel_combo.currentIndexChanged.connect(lambda _i: self._show_panel())
        self.filter = QLineEdit(placeholderText="Filter by model or annotator…")
        self.filter.textChanged.connect(self._apply_filter)
        self.export_button = QPushButton("Export…")
        self.export_button.setMenu(self._export_menu())
        self.placeholder = plain_label("Computing the leaderboards…")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.models_view = table_view(proxy_for(models_model(empty_panel())))
        self.models_view.setItemDelegateForColumn(3, IntervalDelegate(self.models_view))
        self.evaluators_view = table_view(proxy_for(QStandardItemModel()))  # no scipy import here: fast first visit
        self.paired = QTableWidget()
        self.paired.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.plots = None  # built on the first visit of its tab (pyqtgraph is slow to start)
        self._plots_tab = QWidget()
        QVBoxLayout(self._plots_tab).addWidget(QLabel("Loading the plots…"))
        self.tabs = QTabWidget()
        paired = QWidget()
        box = QVBoxLayout(paired)
        box.addWidget(QLabel("Row − column win rate in points over the instructions both have; bold: "
                             "Holm-adjusted paired t test p < 0.05 (hover a cell for n and p).", wordWrap=True))
        self.paired_note = plain_label("")
        box.addWidget(self.paired_note)
        box.addWidget(self.paired, 1)
        for view, title in ((self.models_view, "Models"), (self.evaluators_view, "Evaluators"),
                            (paired, "Paired comparisons (Holm)"), (self._plots_tab, "Plots")):  # fmt: skip
            self.tabs.addTab(view, title)
        self.tabs.currentChanged.connect(lambda k: self.plots_page() if self.tabs.widget(k) is self._plots_tab else None)
        self.notes = plain_label("")  # notes name groups and models: imported text, never markup
        self.notes.setWordWrap(True)
        self.notes.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(self.tabs)
        top = QHBoxLayout()
        for w in (QLabel("Reference · annotators"), self.panel_combo, self.filter, self.export_button):
            top.addWidget(w)
        col = QVBoxLayout(self)
        col.addLayout(top)
        col.addWidget(self.stack, 1)
        col.addWidget(self.notes)
        self._timer = QTimer(self, singleShot=True, interval=REFRESH_MS,
                             timeout=lambda: self.reload() if self.isVisible() else None)
        ctx.events.annotations_changed.connect(self._on_changed)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._stale:
            QTimer.singleShot(0, self.reload)

    def _on_changed(self, _change: object) -> None:
        self._stale = True
        if self.isVisible() and not self._timer.isActive():
            self._timer.start()

    def reload(self) -> None:
        """Recompute in the background (paired tests: per panel, when it is shown)."""
        self._stale, self.computing = False, True
        self._generation += 1
        if self.snapshot is None:
            self.stack.setCurrentWidget(self.placeholder)
        self._compute(0 if self.n_resamples else None)

    def _compute(self, n_resamples: int | None) -> None:
        """Phase 1 without bootstrap (Wilson intervals, seconds sooner), then with BCa (None: one phase)."""
        gen, n = self._generation, self.n_resamples if n_resamples is None else n_resamples

        def done(snap: BoardsSnapshot) -> None:
            self._on_done(snap, gen)
            if n_resamples == 0 and gen == self._generation:
                self.notes.setText(self.notes.text() + "\nComputing BCa bootstrap intervals…")
                self._compute(None)
            elif gen == self._generation:
                self.computing = False

        self.jobs.run(lambda st: compute_boards(st, n_resamples=n, paired=False), done,
                      lambda m: self._on_failed(m, gen))  # fmt: skip

    def _on_failed(self, message: str, generation: int) -> None:
        self.computing = self.computing and generation != self._generation
        self.placeholder.setText(f"The leaderboards could not be computed: {message}")
        self.ctx.events.status_message.emit(f"Leaderboards: {message}")

    def _on_done(self, snap: BoardsSnapshot, generation: int) -> None:
        if generation != self._generation:
            return  # an older computation finished after a newer one started
        if self.snapshot is not None and generation == self._snap_gen:  # phase 2: same data, keep paired
            snap.paired.update({k: v for k, v in self.snapshot.paired.items() if k not in snap.paired})
        self.snapshot, self._snap_gen = snap, generation
        current = self.current_panel()
        self._panels = snap.panels
        self.panel_combo.blockSignals(True)
        self.panel_combo.clear()
        for ref, group in self._panels:
            self.panel_combo.addItem(f"{ref} · {group}")
        self.panel_combo.setCurrentIndex(self._panels.index(current) if current in self._panels else 0)
        self.panel_combo.blockSignals(False)
        ev = snap.evaluators if snap.evaluators is not None else empty_eval()
        self._set_model(self.evaluators_view, evaluators_model(ev))
        self.evaluators_view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # humans first
        self._show_panel()
        self.notes.setText("\n".join(snap.notes))
        self.stack.setCurrentWidget(self.tabs)
        self.snapshot_ready.emit(snap)

    def _on_paired(self, snap: BoardsSnapshot, sel: tuple[str, str], tables: dict) -> None:
        snap.paired.update(tables)
        snap.paired.setdefault(sel, None)  # fewer than 2 models: nothing to test
        self.paired_note.setText("")
        if snap is self.snapshot and sel == self.current_panel():
            fill_paired(self.paired, tables.get(sel), [k[0] for k in snap.panel(*sel).index])
            self.paired_ready.emit(sel)

    def plots_page(self):
        """The Plots tab's page, built (and filled from the current snapshot) on first use."""
        if self.plots is None:
            from tiebreak.gui.leaderboard_plots import PlotsPage

            self.plots = PlotsPage()
            self.plots.browse_requested.connect(self.browse_requested)
            layout = self._plots_tab.layout()
            layout.itemAt(0).widget().hide()
            layout.addWidget(self.plots)
            if self.snapshot is not None:
                sel = self.current_panel() or (None, None)
                self.plots.show_snapshot(self.snapshot, sel[0], sel[1])
        return self.plots

    def current_panel(self) -> tuple[str, str] | None:
        """The selected (reference, annotator group), None before the first snapshot."""
        k = self.panel_combo.currentIndex()
        return self._panels[k] if 0 <= k < len(self._panels) else None

    def select_panel(self, reference: str, group: str) -> None:
        """Show the models of ``reference`` judged by ``group``."""
        self.panel_combo.setCurrentIndex(self._panels.index((reference, group)))

    def _set_model(self, view: QTableView, model) -> None:  # noqa: D401 - a filtered, sortable model
        proxy = proxy_for(model)
        proxy.setFilterFixedString(self.filter.text())
        view.setModel(proxy)
        view.resizeColumnsToContents()

    def _show_panel(self) -> None:
        snap, sel = self.snapshot, self.current_panel()
        if snap is None:
            return
        ref, group = sel if sel else (None, None)
        panel = snap.panel(ref, group) if sel else empty_panel()
        self._set_model(self.models_view, models_model(panel))
        self.models_view.sortByColumn(1, Qt.SortOrder.DescendingOrder)  # best win rate first
        self.models_view.setColumnWidth(3, max(self.models_view.columnWidth(3), 170))
        order = [k[0] for k in panel.index] if sel else []
        fill_paired(self.paired, snap.paired.get(sel) if sel else None, order)
        if sel and sel not in snap.paired:
            self.paired_note.setText("Computing the paired tests of this panel…")
            self.jobs.run(lambda st: paired_tables(st, sel), lambda t: self._on_paired(snap, sel, t),
                          lambda m: self.paired_note.setText(f"Paired tests failed: {m}"))  # fmt: skip
        if self.plots is not None:
            self.plots.show_snapshot(snap, ref, group)

    def _apply_filter(self, text: str) -> None:
        for view in (self.models_view, self.evaluators_view):
            view.model().setFilterFixedString(text)

    def _export_menu(self) -> QMenu:
        menu = QMenu(self)
        menu.addAction("Models table (CSV)…", lambda: self._ask(self.export_models, "models.csv"))
        menu.addAction("AlpacaEval leaderboard (CSV)…", lambda: self._ask(self.export_alpaca_eval, "leaderboard.csv"))
        menu.addAction("Evaluators table (CSV)…", lambda: self._ask(self.export_evaluators, "evaluators.csv"))
        menu.addAction("Plots (PNG)…", lambda: self._ask_folder(".png"))
        menu.addAction("Plots (SVG)…", lambda: self._ask_folder(".svg"))
        return menu

    def _ask(self, export, default: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export", default, "CSV (*.csv)")
        if path:
            self._report(lambda: export(path, force=True))

    def _ask_folder(self, suffix: str) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export the plots into")
        if folder:
            self._report(lambda: self.plots_page().export_all(folder, suffix))

    def _report(self, action) -> None:
        try:
            result = action()
        except (TiebreakError, OSError, ValueError) as exc:
            self.ctx.events.status_message.emit(f"Export failed: {exc}")
        else:
            self.ctx.events.status_message.emit(f"Exported {result}")

    def _selected(self) -> tuple[BoardsSnapshot, str, str]:
        sel = self.current_panel()
        if self.snapshot is None or sel is None:
            raise TiebreakError("export: the leaderboards are not computed yet or have no labels")
        return self.snapshot, sel[0], sel[1]

    def export_models(self, path: str | Path, force: bool = False) -> Path:
        """Write the selected panel's models table (fractions, every column) to CSV."""
        snap, ref, group = self._selected()
        return export_csv(snap.panel(ref, group), path, force=force, protect=self.ctx.db_path)

    def export_alpaca_eval(self, path: str | Path, force: bool = False) -> Path:
        """Write the selected panel in AlpacaEval's leaderboard CSV format."""
        snap, ref, group = self._selected()
        return export_alpaca_eval(snap, ref, group, path, force=force, protect=self.ctx.db_path)

    def export_evaluators(self, path: str | Path, force: bool = False) -> Path:
        """Write the evaluator leaderboard to CSV."""
        if self.snapshot is None or self.snapshot.evaluators is None:
            raise TiebreakError("export: no evaluator leaderboard (no human labels yet)")
        return export_csv(self.snapshot.evaluators, path, force=force, protect=self.ctx.db_path)

