"""The File menu: New/Open/recent databases, Import (menu and drops), Export, the error page's buttons."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QMessageBox, QPushButton

from tiebreak.core.cli import build_parser, cmd_leaderboard
from tiebreak.core.sample import open_database, sample_file
from tiebreak.gui import files as files_module
from tiebreak.gui.main_window import MainWindow

LABELLING = (("Labelling", "tiebreak.gui.labelling.screen:LabellingScreen"),)


@pytest.fixture
def window(qtbot, settings):
    """The main window with no database (the error page)."""
    w = MainWindow(None, settings, screens=list(LABELLING), error="Could not open the database x: gone")
    qtbot.addWidget(w)
    w.resize(1024, 640)
    w.show()
    yield w
    if w.ctx is not None:
        w.ctx.store.close()


def _click(box: QMessageBox, which: QMessageBox.StandardButton) -> None:
    box.button(which).click()


def _wait_idle(qtbot, w: MainWindow) -> None:
    qtbot.waitUntil(lambda: not w.files.busy(), timeout=30000)


def test_error_page_offers_new_and_open_and_new_rebuilds_the_screens(window, qtbot, tmp_path, monkeypatch):
    page = window.tabs.widget(0)
    assert "--db" not in page.text()
    buttons = {b.text(): b for b in page.findChildren(QPushButton)}
    assert set(buttons) == {"Open database…", "New database…"}
    target = tmp_path / "new.sqlite"
    monkeypatch.setattr(files_module.QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    buttons["New database…"].click()
    assert target.exists() and window.ctx is not None and window.ctx.db_path == target
    assert window.tabs.count() == 1 and window.tabs.tabText(0) == "Labelling"
    assert window.screen(0).ctx.store is window.ctx.store
    assert window.settings.recent_databases() == [str(target.resolve())]
    assert [a.text() for a in window.files.recent_menu.actions()] == [str(target.resolve())]


def test_open_keeps_the_current_database_when_the_file_is_not_one(window, tmp_path, sample_db):
    assert window.switch_database(sample_db)
    store = window.ctx.store
    junk = tmp_path / "junk.sqlite"
    junk.write_text("not a database")
    assert not window.switch_database(junk)
    assert window.ctx.store is store and "junk.sqlite" in window.files.last_error
    assert window.files.dialog.isVisible()


def test_import_from_the_menu_runs_in_the_background_and_reloads(window, qtbot, tmp_path, monkeypatch):
    window.switch_database(tmp_path / "db.sqlite", create=True)
    form = window.screen(0).form
    assert form.reference.count() == 0 and "no comparisons yet" in form.message.text()
    form.annotator.setCurrentText("ada")  # typed before importing
    monkeypatch.setattr(files_module.QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(sample_file())], ""))
    with qtbot.waitSignal(window.ctx.events.annotations_changed, timeout=30000):
        window.files.actions["import"].trigger()
    _wait_idle(qtbot, window)
    assert window.ctx.store.counts()["annotations"] == 1200
    # the start form offers what was imported (it said "import some first"), keeping the typed name
    assert form.reference.count() > 0 and form.candidates.count() > 0 and form.message.text() == ""
    assert form.annotator.currentText() == "ada"
    assert "1200 annotations" in window.files.last_message
    # the worker refitted the leaderboard's LC panels after the commit: the next leaderboard fits nothing
    assert "leaderboard cache: 1 panel(s)" in window.files.last_message.splitlines()[-1]
    args = build_parser(command="leaderboard").parse_args(["leaderboard"])
    assert cmd_leaderboard.cached_records(window.ctx.store, args) is not None


def test_a_bad_record_names_file_record_and_field_and_changes_nothing(window, qtbot, tmp_path):
    window.switch_database(tmp_path / "db.sqlite", create=True)
    bad = tmp_path / "bad.json"
    good = {"instruction": "i", "output_1": "a", "output_2": "b", "generator_1": "g1", "generator_2": "g2",
            "annotator": "judge", "preference": 1.0}  # fmt: skip
    bad.write_text(json.dumps([good, {**good, "preference": "left"}]))
    window.files.import_paths([sample_file(), bad])
    _wait_idle(qtbot, window)
    error = window.files.last_error
    assert "bad.json" in error and "record 2" in error and "preference" in error
    assert window.ctx.store.counts()["annotations"] == 0


def _drop(window: MainWindow, paths: list[Path]) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)  # fmt: skip
    window.dropEvent(event)


def test_a_drop_lists_what_it_adds_and_imports_only_when_confirmed(window, qtbot, tmp_path):
    window.switch_database(tmp_path / "db.sqlite", create=True)
    _drop(window, [sample_file()])
    _wait_idle(qtbot, window)
    box = window.files.dialog
    assert box.isVisible() and "annotations.json.gz" in box.text() and "1200 annotations" in box.text()
    assert window.ctx.store.counts()["annotations"] == 0  # the dry run kept nothing
    _click(box, QMessageBox.StandardButton.Cancel)
    assert window.ctx.store.counts()["annotations"] == 0
    _drop(window, [sample_file()])
    _wait_idle(qtbot, window)
    _click(window.files.dialog, QMessageBox.StandardButton.Yes)
    _wait_idle(qtbot, window)
    assert window.ctx.store.counts()["annotations"] == 1200


@pytest.mark.parametrize("fmt", ["alpaca-eval", "cross-annotations", "csv", "jsonl"])
def test_export_asks_before_replacing_then_writes(window, qtbot, tmp_path, sample_db, fmt):
    window.switch_database(sample_db)
    target = tmp_path / f"out.{fmt}"
    target.write_text("keep me")
    window.files.export_to(target, fmt)
    assert target.read_text() == "keep me" and "already exists" in window.files.dialog.text()
    _click(window.files.dialog, QMessageBox.StandardButton.Cancel)
    assert target.read_text() == "keep me"
    window.files.export_to(target, fmt)
    _click(window.files.dialog, QMessageBox.StandardButton.Yes)
    _wait_idle(qtbot, window)
    assert "Exported 1200 annotations" in window.files.last_message
    fresh = open_database(tmp_path / "back.sqlite", create=True)
    from tiebreak.core.formats.importer import import_files

    assert import_files(fresh, [target]).records == 1200
    fresh.close()


def test_export_refuses_the_open_database_itself(window, qtbot, sample_db):
    window.switch_database(sample_db)
    window.files.export_to(Path(sample_db), "csv")
    _click(window.files.dialog, QMessageBox.StandardButton.Yes)
    _wait_idle(qtbot, window)
    assert window.files.last_error and open_database(sample_db).counts()["annotations"] == 1200


def test_review_remembers_reviewer_judge_and_stream_per_database(qtbot, settings, sample_db, tmp_path):
    from tiebreak.core.review.audit import sample_audit
    from tiebreak.gui.context import AppContext
    from tiebreak.gui.review import ReviewScreen

    store = open_database(sample_db)
    judge = "weighted_alpaca_eval_gpt4_turbo"
    sample_audit(store, judge, 5, "uniform")
    first = ReviewScreen(AppContext(store=store, db_path=sample_db))
    qtbot.addWidget(first)
    qtbot.waitUntil(lambda: first.form.judge.count() > 0, timeout=30000)  # read off the GUI thread
    first.form.reviewer.setText("rita")
    first.form.judge.setCurrentText(judge)
    first.start()
    again = ReviewScreen(AppContext(store=store, db_path=sample_db))
    qtbot.addWidget(again)
    qtbot.waitUntil(lambda: again.form.judge.count() > 0, timeout=30000)
    assert again.form.reviewer.text() == "rita" and again.form.judge.currentText() == judge
    assert again.form.stream.currentText() == "random"
    other = open_database(tmp_path / "other.sqlite", create=True)
    fresh = ReviewScreen(AppContext(store=other, db_path=tmp_path / "other.sqlite"))
    qtbot.addWidget(fresh)
    qtbot.waitUntil(lambda: not fresh.form.runner.busy, timeout=30000)
    assert fresh.form.reviewer.text() == "" and "File ▸ Import" in fresh.form.message.text()
    store.close()
    other.close()


def test_a_screen_whose_module_is_not_loaded_shows_a_placeholder_first(qtbot, settings, tmp_path, monkeypatch, sample_db):
    (tmp_path / "app2_slow_screen.py").write_text(
        "import time\nfrom PySide6.QtWidgets import QLabel\ntime.sleep(0.3)\n"
        "class Screen(QLabel):\n    def __init__(self, ctx, parent=None):\n        super().__init__('ready', parent)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    w = MainWindow(None, settings, screens=[*LABELLING, ("Slow", "app2_slow_screen:Screen")])
    qtbot.addWidget(w)
    w.switch_database(sample_db)
    w.tabs.setCurrentIndex(1)
    assert w.screen(1) is None and w.tabs.widget(1).objectName() == "loadingPage"
    qtbot.waitUntil(lambda: w.screen(1) is not None, timeout=30000)
    assert w.tabs.widget(1).text() == "ready" and w.tabs.currentIndex() == 1
    w.ctx.store.close()


def test_deferred_builds_show_the_placeholder_even_for_an_imported_module(qtbot, settings, sample_db):
    import tiebreak.gui.annotators  # noqa: F401 (imported: only the deferral shows the placeholder)

    w = MainWindow(None, settings, screens=[*LABELLING, ("Annotators", "tiebreak.gui.annotators:AnnotatorsScreen")])
    qtbot.addWidget(w)
    w.defer_builds = True
    w.switch_database(sample_db)
    w.tabs.setCurrentIndex(1)
    assert w.screen(1) is None and w.tabs.widget(1).objectName() == "loadingPage"
    qtbot.waitUntil(lambda: w.screen(1) is not None, timeout=30000)
    assert w.tabs.widget(1) is w.screen(1) and w.tabs.currentIndex() == 1
    w.ctx.store.close()


def test_a_screen_still_loading_when_the_window_closes_is_never_built(qtbot, settings, sample_db):
    import tiebreak.gui.annotators  # noqa: F401 (imported: the build waits only for the deferral)
    from tiebreak.gui.main_window import DEFER_MS

    w = MainWindow(None, settings, screens=[*LABELLING, ("Annotators", "tiebreak.gui.annotators:AnnotatorsScreen")])
    qtbot.addWidget(w)
    w.defer_builds = True
    w.switch_database(sample_db)
    w.tabs.setCurrentIndex(1)  # the build is scheduled ...
    w.close()  # ... and the window closes (then its database) before it runs
    w.ctx.store.close()
    qtbot.wait(DEFER_MS * 10)
    assert w.screen(1) is None  # not built on a closed database (it raised, in the event loop, before)


def test_the_window_accepts_dragged_local_files_only_with_a_database_open(window, sample_db):
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QDragEnterEvent

    def enter(urls):
        mime = QMimeData()
        mime.setUrls(urls)
        event = QDragEnterEvent(QPoint(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                                Qt.KeyboardModifier.NoModifier)  # fmt: skip
        event.setAccepted(False)
        window.dragEnterEvent(event)
        return event.isAccepted()

    local = [QUrl.fromLocalFile(str(sample_file()))]
    assert not enter(local)  # no database yet: nowhere to import
    window.switch_database(sample_db)
    assert enter(local) and not enter([QUrl("https://example.com/a.json")])


def test_every_export_format_is_offered():
    from tiebreak.core.formats.exporter import EXPORT_FORMATS
    from tiebreak.gui.files import EXPORT_FILTERS

    assert {f for _, f, _ in EXPORT_FILTERS} == set(EXPORT_FORMATS)
