"""First visits load off the GUI thread: the screen is up at once, its core loader runs in a worker.

Real SQLite files (a file database is what the app opens; an in-memory one has a single
connection and is read on the GUI thread). The core loaders are wrapped only to note the thread
they run on; they read the real database.
"""

from __future__ import annotations

import threading

import pytest

from tests.core.test_crowd import simulate_crowd
from tests.gui._data import CANDIDATES, fill_store
from tiebreak.core.store import Store
from tiebreak.gui.context import AppContext


def spy(monkeypatch, module, name: str) -> list[str]:
    """Wrap ``module.name`` so that each call notes its thread's name (the real function runs)."""
    real, threads = getattr(module, name), []

    def wrapper(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return threads


@pytest.fixture
def file_store(tmp_path):
    path = tmp_path / "visits.tiebreak"
    store = Store(path, create=True)
    yield store, path
    store.close()


def test_annotators_first_load_runs_in_a_worker(file_store, qtbot, monkeypatch):
    from tiebreak.gui import annotators

    store, path = file_store
    simulate_crowd(store, n_items=16)
    threads = spy(monkeypatch, annotators, "annotators_snapshot_at")
    screen = annotators.AnnotatorsScreen(AppContext(store=store, db_path=path))
    qtbot.addWidget(screen)
    assert screen.table.rowCount() == 0 and "Loading" in screen.summary.text()  # up before the data
    screen.show()
    qtbot.waitExposed(screen)  # the screen answers events while the worker reads
    qtbot.waitUntil(lambda: screen.table.rowCount() == 4)
    assert threads and threading.main_thread().name not in threads
    assert screen.group.currentText() == "humans" and "4 annotator(s) in humans" in screen.summary.text()
    screen.overlap.setValue(5)  # a later change is computed in the worker too
    qtbot.waitUntil(lambda: "below 5 label(s)" in screen.summary.text())
    assert len(threads) == 2 and threading.main_thread().name not in threads


def test_annotators_empty_file_database_says_so(file_store, qtbot):
    from tiebreak.gui.annotators import AnnotatorsScreen

    store, path = file_store
    screen = AnnotatorsScreen(AppContext(store=store, db_path=path))
    qtbot.addWidget(screen)
    qtbot.waitUntil(lambda: "No human annotator group" in screen.summary.text())
    assert screen.group.count() == 0 and screen.report is None


def test_browse_first_load_runs_in_a_worker(file_store, qtbot, monkeypatch):
    from tiebreak.gui import browse, browse_item

    store, path = file_store
    ids = fill_store(store, 3)
    threads = spy(monkeypatch, browse_item, "browse_start_at")  # the core loader of the first load
    screen = browse.BrowseScreen(AppContext(store=store, db_path=path))
    qtbot.addWidget(screen)
    assert screen.cursor is None and screen.empty.text().startswith("Loading")  # up before the data
    screen.resize(1300, 850)
    screen.show()
    qtbot.waitExposed(screen)
    qtbot.waitUntil(lambda: screen.cursor is not None)
    assert threads and threading.main_thread().name not in threads
    assert screen.position.text() == f"1 / {len(ids)}" and screen.cursor.ids == sorted(screen.cursor.ids)
    assert screen.instruction.toPlainText() == store.pair(screen.cursor.ids[0]).instruction
    qtbot.waitUntil(lambda: not screen.list_loading)
    rows = screen.list.list_model.rows  # numbered by the list's worker
    assert [r["position"] for r in rows] == list(range(1, len(ids) + 1))
    assert [r["comparison_id"] for r in rows] == screen.cursor.ids
    screen.next()  # navigation works on the ids the worker listed
    assert screen.position.text() == f"2 / {len(ids)}"


def test_browse_request_from_another_screen_before_the_first_load_wins(file_store, qtbot):
    from tiebreak.gui.browse import BrowseScreen

    store, path = file_store
    fill_store(store, 3)
    screen = BrowseScreen(AppContext(store=store, db_path=path))
    qtbot.addWidget(screen)
    generator = CANDIDATES[-1]
    screen.apply_browse({"generator": generator})  # e.g. a plot point clicked while Browse loads
    qtbot.waitUntil(lambda: not screen.starter.busy)
    assert screen.cursor is not None and screen.cursor.generators == (generator,)
    assert screen.generator.currentText() == generator
