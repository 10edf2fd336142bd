"""The labelling stats panel renders core snapshots: every statistic has its definition and n."""

from __future__ import annotations

from tiebreak.core.labelling.stats import AgreementLine, StatsSnapshot, WinRateLine
from tiebreak.core.metrics.accumulate import WinRateSums
from tiebreak.core.metrics.definitions import TOO_FEW_LABELS, define


def test_one_label_says_too_few_labels_and_tooltips_carry_definition_and_n(qtbot):
    from tiebreak.gui.labelling.stats_panel import StatsPanel

    panel = StatsPanel()
    qtbot.addWidget(panel)
    one = WinRateLine.of("model_a", "humans", WinRateSums.of([1.5]).finalise())  # the old "50–50%"
    many = WinRateLine.of("model_b", "humans", WinRateSums.of([2.0] * 9 + [1.5] * 3 + [1.0] * 8).finalise())
    panel.show_snapshot(StatsSnapshot(1, (one, many), (AgreementLine("gpt", 12, 0.75, 10),)))
    t = panel.win_table
    assert t.item(0, 4).text() == TOO_FEW_LABELS and t.item(1, 4).text() == "34–71%"
    assert TOO_FEW_LABELS in t.item(0, 4).toolTip()
    for column, name in ((2, "n_labels"), (3, "win_rate"), (4, "win_rate_interval")):
        assert define(name).sentence in t.item(1, column).toolTip()
        assert "n = 20 labels" in t.item(1, column).toolTip()
        assert define(name).sentence in t.horizontalHeaderItem(column).toolTip()
    assert "9 wins, 3 ties, 8 losses" in t.item(1, 3).toolTip()
    a = panel.agree_table
    assert a.item(0, 2).text() == "75.0%"
    assert define("agreement").sentence in a.item(0, 2).toolTip()
    assert "12 judge labels on 10 comparisons" in a.item(0, 2).toolTip()
    assert a.item(0, 1).text() == "12" and define("n_judge_labels").sentence in a.item(0, 1).toolTip()
    assert a.horizontalHeaderItem(2).text() == define("agreement").label
    # a new snapshot changes the cells and their tooltips in place
    more = WinRateLine.of("model_a", "humans", WinRateSums.of([1.5, 2.0]).finalise())
    panel.show_snapshot(StatsSnapshot(2, (more, many), (AgreementLine("gpt", 12, 0.75, 10),)))
    assert t.item(0, 4).text() != TOO_FEW_LABELS and "n = 2 labels" in t.item(0, 4).toolTip()


def test_an_update_sets_only_the_tooltips_that_change_and_keeps_the_others(qtbot):
    from tiebreak.gui.labelling.stats_panel import StatsPanel

    panel = StatsPanel()
    qtbot.addWidget(panel)
    line = WinRateLine.of("model_a", "humans", WinRateSums.of([2.0, 1.0]).finalise())
    panel.show_snapshot(StatsSnapshot(1, (line,), (AgreementLine("gpt", 4, 0.5, 4),)))
    t, a = panel.win_table, panel.agree_table
    name_tip, n_tip, agree_n_tip = t.item(0, 0).toolTip(), t.item(0, 2).toolTip(), a.item(0, 1).toolTip()
    t.item(0, 0).setToolTip("marker: left alone when the name's tip is unchanged")
    more = WinRateLine.of("model_a", "humans", WinRateSums.of([2.0, 1.0, 2.0]).finalise())
    panel.show_snapshot(StatsSnapshot(2, (more,), (AgreementLine("gpt", 5, 0.6, 5),)))
    assert t.item(0, 0).toolTip().startswith("marker") and "model_a" in name_tip
    assert "n = 3 labels" in t.item(0, 2).toolTip() and t.item(0, 2).toolTip() != n_tip
    assert a.item(0, 1).text() == "5" and a.item(0, 1).toolTip() != agree_n_tip
    assert "5 judge labels on 5 comparisons" in a.item(0, 2).toolTip()
    renamed = WinRateLine.of("model_b", "humans", WinRateSums.of([2.0, 1.0, 2.0]).finalise())
    panel.show_snapshot(StatsSnapshot(3, (renamed,), (AgreementLine("gpt", 5, 0.6, 5),)))
    assert "model_b" in t.item(0, 0).toolTip()  # a changed tip is set again


def test_the_group_column_shows_only_when_the_lines_come_from_several_groups(qtbot):
    from tiebreak.gui.labelling.stats_panel import StatsPanel

    panel = StatsPanel()
    qtbot.addWidget(panel)
    sums = WinRateSums.of([2.0, 1.0]).finalise()
    agree = (AgreementLine("gpt", 4, 0.5, 4),)
    panel.show_snapshot(StatsSnapshot(1, (WinRateLine.of("model_a", "humans", sums),), agree))
    assert panel.win_table.isColumnHidden(1)  # one group: the column would repeat it on every line
    panel.show_snapshot(StatsSnapshot(2, (WinRateLine.of("model_a", "humans", sums),
                                          WinRateLine.of("model_a", "crowd-1", sums)), agree))  # fmt: skip
    assert not panel.win_table.isColumnHidden(1) and panel.win_table.item(1, 1).text() == "crowd-1"
    panel.show_unavailable("hidden")
    panel.show_snapshot(StatsSnapshot(3, (WinRateLine.of("model_b", "humans", sums),), agree))
    assert panel.win_table.isColumnHidden(1)
