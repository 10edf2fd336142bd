"""Tests of the labelling workspace: keys -> SQLite -> statistics -> undo, held keys, help."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication


def label_rows(store):
    return store.conn.execute(
        "SELECT id, comparison_id, preference, raw_choice, swapped, retracted_at FROM annotations"
        " WHERE source = 'label' ORDER BY id"
    ).fetchall()


def test_held_key_records_one_label(workspace, qtbot, ctx):
    first = workspace.session.current().pair.comparison_id
    press = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_1, Qt.KeyboardModifier.NoModifier, "1", False)
    QApplication.sendEvent(workspace, press)
    for _ in range(5):  # the keyboard's auto-repeat while the key is held
        repeat = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_1, Qt.KeyboardModifier.NoModifier, "1", True)
        QApplication.sendEvent(workspace, repeat)
    rows = label_rows(ctx.store)
    assert len(rows) == 1 and rows[0][1] == first and rows[0][3] == "left"


def test_cheatsheet_lists_every_action(workspace, qtbot):
    qtbot.keyClick(workspace, Qt.Key.Key_Question)
    dialog = workspace._dialogs["cheatsheet"]
    assert dialog.isVisible()
    text = dialog.browser.toPlainText()
    specs = workspace.all_specs()
    assert len(specs) >= 20  # workspace table + window table
    for spec in specs:
        assert spec.text in text and spec.key_label in text, spec.id
    dialog.close()
    qtbot.keyClick(workspace, Qt.Key.Key_H)
    assert workspace._dialogs["guidelines"].isVisible()
    assert "Can't judge" in workspace._dialogs["guidelines"].browser.toPlainText()
    workspace._dialogs["guidelines"].close()


def test_buttons_print_their_keys_and_menus_hold_every_action(workspace):
    window = workspace.window()
    menu_actions = {a for m in window.menus.values() for a in m.actions()}
    for spec in workspace.specs:
        assert workspace.actions_by_id[spec.id] in menu_actions, spec.id
        assert not workspace.actions_by_id[spec.id].autoRepeat()
        if spec.button:
            assert f"[{spec.key_label}]" in workspace.view.button_widgets[spec.id].text()


def test_skip_flag_and_cant_judge_keys(workspace, qtbot, ctx):
    first = workspace.session.current().pair.comparison_id
    qtbot.keyClick(workspace, Qt.Key.Key_Space)
    assert workspace.session.queue.pending[-1] == first
    second = workspace.session.current().pair.comparison_id
    qtbot.keyClick(workspace, Qt.Key.Key_F)
    assert ctx.store.conn.execute("SELECT comparison_id FROM flags").fetchall() == [(second,)]
    assert workspace.session.current().pair.comparison_id == second  # a flag does not advance
    workspace.view.rationale.setPlainText("reference answer is truncated")
    qtbot.keyClick(workspace, Qt.Key.Key_F)  # the box's text becomes the flag's note
    assert ctx.store.conn.execute("SELECT note FROM flags ORDER BY id").fetchall() == [
        (None,), ("reference answer is truncated",)]
    assert workspace.view.rationale.toPlainText() == ""
    qtbot.keyClick(workspace, Qt.Key.Key_C)
    assert label_rows(ctx.store)[-1][2:4] == (None, "cant_judge")
    assert workspace.session.queue.is_done(second)


def test_arrow_keys_map_to_screen_positions(workspace, qtbot, ctx):
    for key, mod, choice in ((Qt.Key.Key_Right, Qt.KeyboardModifier.NoModifier, "right"),
                             (Qt.Key.Key_Down, Qt.KeyboardModifier.NoModifier, "tie_good"),
                             (Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier, "tie_bad"),
                             (Qt.Key.Key_4, Qt.KeyboardModifier.NoModifier, "tie_bad")):  # fmt: skip
        shown = workspace.session.current()
        qtbot.keyClick(workspace, key, mod)
        row = label_rows(ctx.store)[-1]
        assert row[1] == shown.pair.comparison_id and row[3] == choice
        if choice == "right":
            assert row[2] == (1.0 if shown.swapped else 2.0)


def test_rationale_box_takes_typing_and_is_stored(workspace, qtbot, ctx):
    qtbot.keyClick(workspace, Qt.Key.Key_R)
    box = workspace.view.rationale
    assert box.hasFocus()
    qtbot.keyClicks(box, "1 is clearer")  # typing digits in the box must not vote
    assert label_rows(ctx.store) == []
    qtbot.keyClick(box, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert workspace.hasFocus()
    qtbot.keyClick(workspace, Qt.Key.Key_2)
    row = ctx.store.conn.execute("SELECT rationale, raw_choice FROM annotations WHERE source='label'").fetchone()
    assert row == ("1 is clearer", "right")
    assert box.toPlainText() == ""


def test_toggles_diff_raw_lengths(workspace, qtbot):
    qtbot.keyClick(workspace, Qt.Key.Key_D)
    assert workspace.view.left.rendered.mode == "diff"
    qtbot.keyClick(workspace, Qt.Key.Key_D)
    qtbot.keyClick(workspace, Qt.Key.Key_M)
    assert workspace.view.left.rendered.mode == "plain"
    assert "```" in workspace.view.left.view.toPlainText() or "```" in workspace.view.right.view.toPlainText()
    assert "chars" not in workspace.view.left.header.text()  # badges off by default
    qtbot.keyClick(workspace, Qt.Key.Key_L)
    assert "chars]" in workspace.view.left.header.text()


def test_names_hidden_until_vote_then_revealed(workspace, qtbot):
    shown = workspace.session.current()
    names = {shown.pair.generator_1, shown.pair.generator_2}
    visible = workspace.view.left.header.text() + workspace.view.right.header.text()
    assert not any(n in visible for n in names)
    assert not any(n in workspace.view.reveal.text() for n in names)
    qtbot.keyClick(workspace, Qt.Key.Key_1)
    reveal = workspace.view.reveal.text()
    assert f"Left was {shown.left_generator}" in reveal and shown.right_generator in reveal


def test_errors_go_to_the_status_bar(workspace, qtbot):
    window = workspace.window()
    qtbot.keyClick(workspace, Qt.Key.Key_Backspace)  # nothing to undo yet
    assert "nothing to undo" in window.statusBar().currentMessage()
    with workspace.ctx.store.transaction() as tx:  # the database fails under us
        tx.execute("DROP TABLE flags")
    qtbot.keyClick(workspace, Qt.Key.Key_F)
    assert "flag" in window.statusBar().currentMessage() and "flags" in window.statusBar().currentMessage()


def test_prefetched_next_item_is_the_one_shown_with_the_right_sides(workspace, qtbot):
    from tiebreak.gui.labelling.render import show_text

    view = workspace.view
    for _ in range(4):
        qtbot.waitUntil(lambda: view._prefetched is not None)
        prepared = view._prefetched[1]["left"][0]
        qtbot.keyClick(workspace, Qt.Key.Key_3)
        shown = workspace.session.current()
        assert view.left.view.document() is prepared  # the vote only swapped documents in
        for pane, text in ((view.left, shown.left), (view.right, shown.right)):
            fresh = type(pane.view)()
            show_text(fresh, text, raw=False)
            assert pane.view.toPlainText() == fresh.toPlainText()  # and they are this item's sides
            fresh.deleteLater()
    qtbot.keyClick(workspace, Qt.Key.Key_M)  # a toggle after prefetching: the prefetch is not used
    assert view.left.rendered.mode == "plain" and "```" in view.left.view.toPlainText() + view.right.view.toPlainText()


def test_the_garbage_of_a_press_is_collected_in_idle_time_not_in_the_next_press(workspace, qtbot):
    import gc

    view, seen = workspace.view, []

    def watch(phase, info):
        if phase == "start":
            seen.append((info["generation"], view._prefetched is not None))

    thresholds = gc.get_threshold()
    gc.set_threshold(10**6, 10**6, 10**6)  # no automatic collection: every one seen was asked for
    gc.callbacks.append(watch)
    try:
        qtbot.waitUntil(lambda: view._prefetched is not None)
        seen.clear()
        qtbot.keyClick(workspace, Qt.Key.Key_1)
        assert seen == []  # the press itself collects nothing
        qtbot.waitUntil(lambda: view._prefetched is not None)
        qtbot.waitUntil(lambda: bool(seen))
        assert seen[0] == (1, True)  # the young generations, after the next item was prepared
    finally:
        gc.callbacks.remove(watch)
        gc.set_threshold(*thresholds)


def test_idle_collection_waits_while_an_import_holds_the_collector():
    import gc

    from tiebreak.gui.screen_loader import collect_young, quiet_collector

    seen = []
    gc.callbacks.append(lambda phase, info: seen.append(info["generation"]) if phase == "start" else None)
    try:
        with quiet_collector():
            collect_young()
            assert seen == []
        collect_young()
        assert seen == [1]
    finally:
        gc.callbacks.pop()
        gc.unfreeze()


def test_many_models_and_judges_never_make_the_window_taller_than_640(workspace, qtbot):
    """The statistics scroll in their column; the window still fits 1024x640 (a 1366x768 laptop)."""
    from tiebreak.core.labelling.stats import AgreementLine, StatsSnapshot, WinRateLine
    from tiebreak.core.metrics.accumulate import WinRateSums

    wins = tuple(WinRateLine.of(f"model-{k:02d}", "humans", WinRateSums.of([2.0, 1.0, 1.5]).finalise())
                 for k in range(40))  # fmt: skip
    judges = tuple(AgreementLine(f"judge-{k}", 30, 0.6, 20) for k in range(8))
    view = workspace.view
    view.stats.show_snapshot(StatsSnapshot(1, wins, judges))
    window = workspace.window()
    window.resize(1024, 640)
    qtbot.waitUntil(lambda: window.height() == 640 and window.width() == 1024)
    assert window.minimumSizeHint().height() <= 640
    assert view.stats_area.verticalScrollBar().maximum() > 0  # the rest is a scroll away
    assert view.stats_area.widget() is view.stats and view.stats.win_table.rowCount() == 40


class _PaintLog:
    """Records which of the watched widgets receive paint events."""

    def __init__(self, *widgets) -> None:
        from PySide6.QtCore import QObject

        paints = self.paints = []

        class Count(QObject):
            def eventFilter(self, obj, event):  # noqa: N802 (Qt override)
                if event.type() == QEvent.Type.Paint:
                    paints.append(obj)
                return False

        self.filter = Count()
        for widget in widgets:
            widget.installEventFilter(self.filter)


def test_a_changed_statistics_line_repaints_itself_and_nothing_under_it(workspace, qtbot):
    view = workspace.view
    strips = (view.stats.session_label, view.progress_label, view.reveal, view.progress)
    parents = {w.parentWidget() for w in strips}  # the statistics panel, the workspace columns
    log = _PaintLog(*strips, *parents)
    qtbot.waitExposed(view.stats.session_label)
    view.progress.setRange(0, 2)
    qtbot.wait(100)  # the first show's paints are over
    log.paints.clear()
    view.stats.session_label.setText("items done: 99")
    view.progress_label.setText("99 / 100")
    view.reveal.setText("Left was model-a")
    view.progress.setValue(1)
    qtbot.waitUntil(lambda: set(strips) <= set(log.paints))
    assert not parents & set(log.paints)  # each strip fills its own background: no parent painted under it


def test_the_progress_bar_repaints_only_when_its_filled_width_changes(workspace, qtbot):
    bar = workspace.view.progress
    qtbot.waitExposed(bar)
    bar.setRange(0, 100 * bar.width())  # 100 values per pixel
    log = _PaintLog(bar)
    QApplication.processEvents()
    log.paints.clear()
    bar.setValue(10)  # a tenth of a pixel: nothing to draw
    QApplication.processEvents()
    assert log.paints == [] and bar.value() == 10 and bar.filled_width() == 0
    bar.setValue(250)
    qtbot.waitUntil(lambda: log.paints != [])
    assert bar.filled_width() == round((bar.width() - 2) * 250 / (100 * bar.width()))


def test_the_progress_bar_paints_with_the_next_paint_never_inside_the_key_press(workspace, qtbot):
    bar = workspace.view.progress
    counter = _PaintLog()
    paints = counter.paints
    bar.installEventFilter(counter.filter)
    qtbot.waitExposed(bar)
    bar.setRange(0, 10)
    QApplication.processEvents()
    paints.clear()
    for value in (3, 7, 10, 12):  # chunks of the bar change: QProgressBar repainted synchronously here
        bar.setValue(value)
    assert paints == [] and bar.value() == 10  # clamped to the range
    qtbot.waitUntil(lambda: len(paints) >= 1)
    bar.removeEventFilter(counter.filter)


def test_the_judge_verdicts_of_the_item_on_screen_are_read_in_idle_time_not_inside_the_vote(workspace, qtbot):
    feed = workspace.stats_feed
    assert feed is not None
    reads = []
    read = feed._judge_rows
    feed._judge_rows = lambda ids: (reads.append(set(ids)), read(ids))[1]
    for _ in range(3):
        on_screen = workspace.session.current().pair.comparison_id
        qtbot.waitUntil(lambda cid=on_screen: {cid} in reads)  # idle time after the item was shown
        n = len(reads)
        qtbot.keyClick(workspace, Qt.Key.Key_1)
        assert len(reads) == n  # the vote itself read nothing


def test_a_vote_shows_the_next_item_from_pictures_painted_in_idle_time(workspace, qtbot):
    view = workspace.view
    pairs = (view.instruction, view.left.pair, view.right.pair)

    def shown() -> int:
        return sum(v.shown_ahead for p in pairs for v in p.views)

    qtbot.waitExposed(view)
    for _ in range(3):
        qtbot.waitUntil(lambda: all(p.spare.ahead.ready for p in pairs))  # the next item, painted ahead
        before = shown()
        qtbot.keyClick(workspace, Qt.Key.Key_1)
        qtbot.waitUntil(lambda b=before: shown() == b + 3)  # instruction and both outputs: no document painted


def test_the_instruction_box_grows_with_a_taller_instruction_and_does_not_shrink_until_a_resize(workspace, qtbot):
    from tiebreak.gui.labelling.render import prepare

    view = workspace.view
    qtbot.waitExposed(view)
    box = view.instruction
    before = box.height()
    tall = prepare(box.spare, "a line\n\n" * 4, True)[0]
    assert view._fit_instruction(tall) and box.height() > before
    grown = box.height()
    short = prepare(box.spare, "short", True)[0]
    assert not view._fit_instruction(short) and box.height() == grown  # the columns below stay put
    window = workspace.window()
    window.resize(window.width() - 40, window.height())
    qtbot.waitUntil(lambda: view._instruction_floor == 0)  # a resize fits it afresh
    view._fit_instruction(short)
    assert box.height() < grown


def test_on_real_outputs_every_vote_shows_the_next_item_from_pictures_painted_ahead(qtbot, make_window, sample_db):
    """The bundled AlpacaEval sample: instructions and outputs of every length and markup."""
    from tiebreak.core.labelling.choices import candidates
    from tiebreak.core.labelling.session import QueueSpec
    from tiebreak.core.sample import open_database
    from tiebreak.gui.context import AppContext

    store = open_database(sample_db)
    window = make_window(AppContext(store=store, db_path=sample_db))
    screen = window.screen(0)
    reference = "gpt4_1106_preview"
    assert screen.start(QueueSpec("ada", reference, tuple(candidates(store, reference))))
    ws = screen.workspace
    ws.setFocus()
    pairs = (ws.view.instruction, ws.view.left.pair, ws.view.right.pair)

    def shown() -> int:
        return sum(v.shown_ahead for p in pairs for v in p.views)

    for _ in range(25):
        qtbot.waitUntil(lambda: all(p.spare.ahead.ready for p in pairs))
        before = shown()
        qtbot.keyClick(ws, Qt.Key.Key_1)
        qtbot.waitUntil(lambda b=before: shown() == b + 3)  # nothing moved: all three pictures fit


def test_at_the_apps_collector_threshold_a_key_press_runs_no_automatic_collection(workspace, qtbot):
    import gc

    from tiebreak.gui.screen_loader import tune_collector

    view, seen = workspace.view, []
    thresholds = gc.get_threshold()

    def press() -> list[int]:
        qtbot.waitUntil(lambda: view._prefetched is not None)  # idle time over: young generations collected
        seen.clear()
        qtbot.keyClick(workspace, Qt.Key.Key_1)
        return list(seen)

    gc.callbacks.append(lambda phase, info: seen.append(info["generation"]) if phase == "start" else None)
    try:
        gc.set_threshold(10, 10, 10)  # a press allocates more than this (with 50 models, more than Python's 700)
        assert press() != []
        tune_collector()  # what make_application sets
        assert [press() for _ in range(5)] == [[]] * 5
    finally:
        gc.callbacks.pop()
        gc.set_threshold(*thresholds)


def test_the_first_vote_of_a_session_does_not_show_the_rationale_box_again(workspace, qtbot):
    from PySide6.QtCore import QEvent, QObject

    box = workspace.view.rationale
    assert box.isVisible()
    events = []

    class Shows(QObject):
        def eventFilter(self, obj, event):  # noqa: N802
            if event.type() in (QEvent.Type.Show, QEvent.Type.Hide):
                events.append(event.type())
            return False

    spy = Shows()
    box.installEventFilter(spy)
    workspace.setFocus()
    qtbot.keyClick(workspace, Qt.Key.Key_Left)  # a Show here laid out and repainted the whole window
    qtbot.keyClick(workspace, Qt.Key.Key_Right)
    assert events == [] and box.isVisible()


def test_a_one_line_strip_cuts_a_long_text_at_the_end_and_shows_it_whole_as_its_tooltip(qtbot):
    from tiebreak.gui.labelling.style import TextStrip

    strip = TextStrip(1, bold=True)
    qtbot.addWidget(strip)
    strip.resize(220, strip.height())
    strip.show()
    qtbot.waitExposed(strip)
    long = "Output 2  — FuseChat-Gemma-2-9B-Instruct (candidate)  [2,570 chars]"
    strip.setText(long)
    image = strip.grab().toImage()  # paints: one line, cut, never wrapped into two clipped lines
    assert strip.toolTip() == long and strip.text() == long
    background = image.pixelColor(2, 2)
    inked = [y for y in range(image.height())
             if any(image.pixelColor(x, y) != background for x in range(4, image.width() - 4))]  # fmt: skip
    assert inked and inked[-1] - inked[0] <= strip.fontMetrics().height()  # the ink spans a single line
    strip.setText("Left")
    strip.grab()
    assert strip.toolTip() == ""  # fits: no tooltip
