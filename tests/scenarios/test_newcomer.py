"""A newcomer's first hour, driven through the app's own windows (offscreen, real widgets).

New database… from the no-database page, File ▸ Import…, labelling with real key presses, a judge
run against the loopback fake server from the Judge panel, a blind review, the Leaderboards (when
this branch has them) and File ▸ Export… of cross-annotations, read back.
"""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from tiebreak.core.sample import sample_file
from tiebreak.gui import files as files_module
from tiebreak.gui import screens as registry
from tiebreak.gui.main_window import MainWindow

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


@pytest.fixture
def settings(tmp_path):
    """App settings in an INI file under tmp_path, installed app-wide."""
    from tiebreak.gui import settings as app_settings

    s = app_settings.Settings(tmp_path / "settings.ini")
    app_settings.install(s)
    yield s
    app_settings.install(app_settings.Settings(tmp_path / "settings-after.ini"))


def _tab(window: MainWindow, qtbot, title: str):
    """Go to the tab ``title`` and wait until its screen is built (it may load in the background)."""
    index = next(i for i, (t, _) in enumerate(window._entries) if t == title)
    window.tabs.setCurrentIndex(index)
    qtbot.waitUntil(lambda: window.screen(index) is not None, timeout=60000)
    return window.screen(index)


def test_newcomer_opens_imports_labels_judges_reviews_and_exports(qtbot, settings, tmp_path, monkeypatch, fake_openai):
    window = MainWindow(None, settings, error="No database is open.")
    qtbot.addWidget(window)
    window.resize(1024, 640)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)

    # 1. New database… from the error page
    db = tmp_path / "mine.sqlite"
    monkeypatch.setattr(files_module.QFileDialog, "getSaveFileName", lambda *a, **k: (str(db), ""))
    window.files.actions["new_db"].trigger()
    assert window.ctx is not None and window.ctx.store.counts()["annotations"] == 0

    # 2. File ▸ Import… (the bundled AlpacaEval annotations file), in the background
    monkeypatch.setattr(files_module.QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(sample_file())], ""))
    window.files.actions["import"].trigger()
    qtbot.waitUntil(lambda: not window.files.busy(), timeout=60000)
    assert window.files.last_error == "" and window.ctx.store.counts()["annotations"] == 1200
    assert "1200 annotations" in window.files.dialog.text()
    window.files.dialog.button(QMessageBox.StandardButton.Ok).click()  # the newcomer reads it and closes it
    window.activateWindow()  # (the offscreen platform does not hand the focus back by itself)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)

    # 3. Label three comparisons with real keys
    labelling = window.screen(0)
    labelling.show_form()
    form = labelling.form
    form.reload()
    form.annotator.setCurrentText("newbie")
    qtbot.keyClick(form.annotator.lineEdit(), Qt.Key.Key_Return)
    ws = labelling.workspace
    assert ws.session is not None and ws.session.current() is not None
    ws.setFocus()
    for key in (Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_Left):
        qtbot.keyClick(ws, key)
    human = window.ctx.store.annotations_frame(sources=["label"])
    assert len(human) == 3

    # 4. Judge four comparisons against the loopback server from the Judge panel
    judge = _tab(window, qtbot, "Judge")
    judge.base_url.setText(fake_openai.base_url)
    names = [judge.configs.list.item(r).text() for r in range(judge.configs.list.count())]
    row = next(r for r, n in enumerate(names) if n.startswith("tiebreak-weighted "))
    judge.configs.list.setCurrentRow(row)
    judge.limit.setValue(4)
    with qtbot.waitSignal(judge.run_finished, timeout=60000) as finished:
        assert judge.start(), judge.status.text()
    summary = finished.args[0]
    assert summary.judged == 4 and fake_openai.chat_requests >= 4
    run_judge = judge._run_name

    # 5. Review: draw an audit sample, vote blind, accept
    review = _tab(window, qtbot, "Review")
    qtbot.waitUntil(lambda: review.form.judge.count() > 0, timeout=60000)
    review.form.judge.setCurrentText("weighted_alpaca_eval_gpt4_turbo")
    review.form.n.setValue(2)
    review.form.draw()
    review.form.reviewer.setText("newbie")
    review.start()
    rws = review.workspace
    rws.setFocus()
    for _ in range(2):
        qtbot.keyClick(rws, Qt.Key.Key_1)
        qtbot.keyClick(rws, Qt.Key.Key_A)
    assert rws.session.current() is None  # both items reviewed

    # 6. The Leaderboards, when this branch has them
    if any(title == "Leaderboards" for title, _ in registry.SCREENS):
        board = _tab(window, qtbot, "Leaderboards")
        assert board.objectName() != "errorPage"

    # 7. File ▸ Export… cross-annotations, then read the file back
    out = tmp_path / "cross.json"
    monkeypatch.setattr(files_module.QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(out), "Cross-annotations (*.json)"))  # fmt: skip
    window.files.actions["export"].trigger()
    qtbot.waitUntil(lambda: not window.files.busy(), timeout=60000)
    QApplication.processEvents()
    records = json.loads(out.read_text())
    annotators = {r["annotator"] for r in records}
    assert {"humans", "reviewers", run_judge, "weighted_alpaca_eval_gpt4_turbo"} == annotators, annotators
    assert sum(r["annotator"] == "humans" for r in records) == 3  # newbie's three key presses
    assert sum(r["annotator"] == "reviewers" for r in records) == 2  # the two reviewed items
    assert sum(r["annotator"] == run_judge for r in records) == 4  # the judge run
    assert f"Exported {len(records)} annotations" in window.files.last_message
    window.close()
    window.ctx.store.close()
