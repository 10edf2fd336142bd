"""The Judge panel against the fake OpenAI server: start, progress, verdicts land, cancel, edit."""

from __future__ import annotations

import pytest

from tests.support.judge_data import add_comparisons
from tiebreak.core.cli import build_parser, cmd_leaderboard
from tiebreak.core.store import Store


@pytest.fixture
def panel(qtbot, tmp_path, fake_openai):
    from tiebreak.gui.context import AppContext
    from tiebreak.gui.judge_panel import JudgePanel

    db = tmp_path / "judge.sqlite"
    store = Store(db, create=True)
    add_comparisons(store, 8)
    ctx = AppContext(store=store, db_path=db)
    widget = JudgePanel(ctx)
    qtbot.addWidget(widget)
    widget.base_url.setText(fake_openai.base_url)
    widget.concurrency.setValue(2)
    yield widget
    widget.cancel()
    widget.pool.waitForDone(5000)
    store.close()


def select(panel, name):
    for row in range(panel.configs.list.count()):
        if panel.configs.list.item(row).text().startswith(name + " "):
            panel.configs.list.setCurrentRow(row)
            return
    raise AssertionError(f"{name} not listed")


def judged(panel):
    return panel.ctx.store.annotations_frame(sources=["judge"])


def test_run_progress_verdicts_and_live_stats(panel, qtbot, fake_openai):
    select(panel, "tiebreak-weighted")
    assert panel.seeds.text() == "0"
    with qtbot.waitSignal(panel.ctx.events.annotations_changed, timeout=10_000):
        with qtbot.waitSignal(panel.run_finished, timeout=10_000) as done:
            assert panel.start()
            assert not panel.start_button.isEnabled() and panel.cancel_button.isEnabled()
    summary = done.args[0]
    assert summary.judged == 8 and fake_openai.chat_requests == 8
    assert panel.bar.value() == panel.bar.maximum() == 8
    assert panel.cost.text().startswith("$0.00") and summary.dollars > 0
    assert len(judged(panel)) == 8 and panel.start_button.isEnabled()
    assert "done (new verdicts): 8" in panel.status.text()
    # the worker refitted the LC panel its verdicts made stale: the next leaderboard fits nothing
    args = build_parser(command="leaderboard").parse_args(["leaderboard"])
    assert cmd_leaderboard.cached_records(panel.ctx.store, args) is not None


def test_cancel_then_resume_without_duplicates(panel, qtbot, fake_openai):
    fake_openai.delay = 0.15
    panel.concurrency.setValue(1)
    with qtbot.waitSignal(panel.run_finished, timeout=10_000) as done:
        with qtbot.waitSignal(panel.progress, timeout=5_000, check_params_cb=lambda p: p.finished >= 2):
            panel.start()
        panel.cancel()
    assert done.args[0].cancelled
    first = len(judged(panel))
    assert 2 <= first < 8 and "cancelled" in panel.status.text()
    fake_openai.delay = 0.0
    with qtbot.waitSignal(panel.run_finished, timeout=10_000) as done:
        panel.start()
    assert done.args[0].already == first
    df = judged(panel)
    assert len(df) == 8 and df["comparison_id"].is_unique


def test_errors_are_shown_not_raised(panel, qtbot, fake_openai):
    fake_openai.logprobs = False
    select(panel, "tiebreak-weighted")
    with qtbot.waitSignal(panel.run_failed, timeout=10_000) as failed:
        panel.start()
    assert "logprobs" in failed.args[0] and "logprobs" in panel.status.text()
    panel.seeds.setText("a,b")
    assert not panel.start() and "Seeds" in panel.status.text()


def test_edit_and_save_a_user_configuration(panel, qtbot):
    select(panel, "tiebreak-ranking")
    editor = panel.configs
    text = editor.text.toPlainText()
    assert 'name = "tiebreak-ranking"' in text
    editor.text.setPlainText(text.replace('name = "tiebreak-ranking"', 'name = "my-judge"'))
    with qtbot.waitSignal(editor.saved, timeout=2_000):
        assert editor.save()
    assert editor.current_name() == "my-judge" and editor.current().source == "user"
    editor.text.setPlainText(text.replace("{second_output}", ""))
    assert not editor.save()
    assert "missing placeholder {second_output}" in editor.message.text()


def test_scope_by_candidate_and_reload_keeps_choices(panel, qtbot, fake_openai):
    add_comparisons(panel.ctx.store, 2, generator="other", prefix="Other")
    panel.reload()
    items = {panel.generators.item(i).text(): panel.generators.item(i) for i in range(panel.generators.count())}
    assert {"model", "other", "ref"} == set(items)
    items["other"].setSelected(True)
    panel.reference.setCurrentText("ref")
    panel.reload()  # nothing new: choices stay
    assert [i.text() for i in panel.generators.selectedItems()] == ["other"]
    with qtbot.waitSignal(panel.run_finished, timeout=10_000) as done:
        panel.start()
    assert done.args[0].judged == 2
    assert set(judged(panel)["generator_2"]) == {"other"}


def test_batch_run_shows_request_counts_while_polling(panel, qtbot, fake_openai):
    from pathlib import Path

    select(panel, "tiebreak-ranking")
    panel.batch.setChecked(True)
    panel.poll_seconds = 0.02
    fake_openai.batch_polls = 5
    seen = []

    def on_progress(p):
        seen.append((panel.status.text(), panel.bar.value(), panel.bar.maximum()))
        if "in_progress: 4/8" in panel.status.text():
            shots = Path(__file__).resolve().parents[2] / "screenshots"
            shots.mkdir(exist_ok=True)
            assert panel.grab().save(str(shots / "judge_batch_progress.png"))

    panel.progress.connect(on_progress)
    with qtbot.waitSignal(panel.run_finished, timeout=15_000) as done:
        assert panel.start()
    assert done.args[0].judged == 8 and fake_openai.counts["POST /v1/batches"] == 1
    batch_id = next(iter(fake_openai.batches))
    polling = [s for s in seen if f"batch {batch_id} in_progress" in s[0]]
    assert ("Judging as tiebreak-ranking: " f"batch {batch_id} in_progress: 4/8 requests, 0 failed", 4, 8) in polling
    assert (f"Judging as tiebreak-ranking: batch {batch_id} completed: 8/8 requests, 0 failed", 8, 8) in seen
    assert "done (new verdicts): 8" in panel.status.text()  # the summary replaces the batch line
