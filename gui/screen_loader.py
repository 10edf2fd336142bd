"""Screens' modules are imported off the GUI thread (scipy, pandas…); a placeholder shows meanwhile.

The cyclic garbage collector is paused while they import and what they created is frozen after:
a full collection walks every object (a first import makes hundreds of thousands that live for
the whole run) holding the GIL for 75-150 ms, and the GUI thread waits for the GIL as long.
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

_gc_lock = threading.Lock()
_gc_state = {"imports": 0, "was_enabled": False}


@contextmanager
def quiet_collector() -> Iterator[None]:
    """Pause automatic garbage collection during an import; then freeze what exists and resume.

    Frozen objects (modules, classes, functions: they live as long as the process) are never
    walked again by a collection, so later full collections stay short. Nested and concurrent
    uses count: the collector resumes when the last one ends.
    """
    with _gc_lock:
        if _gc_state["imports"] == 0:
            _gc_state["was_enabled"] = gc.isenabled()
            gc.disable()
        _gc_state["imports"] += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_state["imports"] -= 1
            if _gc_state["imports"] == 0:
                gc.freeze()
                if _gc_state["was_enabled"]:
                    gc.enable()


#: Allocations between automatic generation-0 collections (Python's default: 700). A key press
#: allocates a few thousand objects, so at 700 collections ran inside most presses (up to 3 ms
#: of a press's p99); the labelling screen collects the young generations in idle time instead.
YOUNG_THRESHOLD = 20_000


def tune_collector() -> None:
    """Make automatic collections rarer (see :data:`YOUNG_THRESHOLD`); the older generations keep their ratios."""
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)


def collect_young() -> None:
    """Collect the two young generations now, in idle time, so no collection of them falls in the next key press.

    A key press allocates enough to trigger generation-0 collections (well under 1 ms) but, every
    tenth of those, an automatic generation-1 collection walked whatever the last presses left:
    4-13 ms inside one press. Collected here, between presses, the counters start from zero. Not
    while an import holds the collector paused (:func:`quiet_collector`).
    """
    with _gc_lock:
        if _gc_state["imports"] == 0 and gc.isenabled():
            gc.collect(1)


class _Signals(QObject):
    done = Signal(str, str)  # module, error message ("" when imported)


class _Import(QRunnable):
    def __init__(self, modules: list[str], signals: _Signals) -> None:
        super().__init__()
        self.modules, self.signals = modules, signals

    def run(self) -> None:  # noqa: D102 (Qt override)
        for name in self.modules:
            try:
                with quiet_collector():
                    importlib.import_module(name)
                message = ""
            except Exception as exc:  # noqa: BLE001 (the build reports it as a ScreenError)
                message = f"{type(exc).__name__}: {exc}"
            try:
                self.signals.done.emit(name, message)
            except RuntimeError:  # the window closed meanwhile: nobody waits
                return


def module_of(target: str) -> str:
    """The module part of a ``module:Class`` registry target."""
    return target.partition(":")[0]


class ScreenLoader(QObject):
    """Imports screen modules on a pool thread and calls back on the GUI thread when they are in."""

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self.pool = pool or QThreadPool.globalInstance()
        self.signals = _Signals()
        self.signals.done.connect(self._done)
        self._waiting: dict[str, list[Callable[[], None]]] = {}
        self._started: set[str] = set()

    def ready(self, target: str) -> bool:
        """The module of ``target`` is imported or cannot be (building it now is quick)."""
        name = module_of(target)
        if name in self._started:
            return False
        try:
            return name in sys.modules or importlib.util.find_spec(name) is None
        except (ImportError, ValueError):
            return True  # the build reports the error at once

    def load(self, target: str, then: Callable[[], None]) -> None:
        """Call ``then`` once the module of ``target`` is imported (now, if it already is)."""
        name = module_of(target)
        if self.ready(target):
            then()
            return
        self._waiting.setdefault(name, []).append(then)
        self._start([name])

    def _start(self, names: list[str]) -> None:
        names = [n for n in names if n not in self._started]
        if names:
            self._started.update(names)
            self.pool.start(_Import(names, self.signals))

    def _done(self, name: str, _error: str) -> None:
        self._started.discard(name)
        for then in self._waiting.pop(name, []):
            then()  # an import error is raised again (and reported) by the build


def placeholder(title: str) -> QWidget:
    """The page shown while a screen loads."""
    page = QWidget()
    page.setObjectName("loadingPage")
    label = QLabel(f"Loading {title}…")
    label.setObjectName("loadingLabel")
    layout = QVBoxLayout(page)
    layout.setContentsMargins(24, 24, 24, 24)
    layout.addWidget(label)
    layout.addStretch(1)
    return page
