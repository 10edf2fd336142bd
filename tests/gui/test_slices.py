"""Sliced GUI work: one step per event-loop turn, other events run between steps; finish() runs the rest."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QTimer


def test_steps_run_one_per_turn_with_events_between(qtbot):
    from tiebreak.gui.slices import Slices

    slices, log, timers = Slices(), [], []

    def step(name: str) -> None:
        log.append(name)
        timer = QTimer(singleShot=True, interval=0)  # a due timer (e.g. an animation, a poll) starts now
        timer.timeout.connect(lambda: log.append(f"event after {name}"))
        timer.start()
        timers.append(timer)

    for name in ("a", "b", "c"):
        slices.add(name, lambda n=name: step(n))
    assert log == [] and slices.busy  # nothing runs in the turn that queued the steps
    qtbot.waitUntil(lambda: len(log) == 6)
    assert log == ["a", "event after a", "b", "event after b", "c", "event after c"]  # the loop ran between
    assert slices.ran == ["a", "b", "c"] and not slices.busy


def test_finish_runs_what_is_left_at_once(qtbot):
    from tiebreak.gui.slices import Slices

    slices, log = Slices(), []
    for name in ("a", "b"):
        slices.add(name, lambda n=name: log.append(n))
    with qtbot.waitSignal(slices.done, timeout=1000):
        slices.finish()
    assert log == ["a", "b"] and not slices.busy
    qtbot.wait(20)  # the scheduled turn finds nothing left to run
    assert log == ["a", "b"] and slices.ran == ["a", "b"]


def test_a_failing_step_reports_and_the_rest_still_runs(qtbot):
    from tiebreak.gui.slices import Slices

    slices, log = Slices(), []
    slices.add("bad", lambda: 1 / 0)
    slices.add("good", lambda: log.append("good"))
    with pytest.raises(ZeroDivisionError):  # the caller (or the app's error reporter) hears of it
        slices.finish()
    assert slices.ran == [] and slices.busy
    slices.finish()
    assert log == ["good"] and slices.ran == ["good"] and not slices.busy
