"""Calibrating judges against people: several configurations (and versions of one) over the items
humans labelled, side by side in AlpacaEval's evaluator-leaderboard layout, with their versions."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

from tests.core.test_cli_agreement import fill
from tests.core.test_metrics_judge import synthetic_crossannotations
from tiebreak.core.cli import main
from tiebreak.core.judge.alpaca_config import alpaca_dir
from tiebreak.core.metrics.judge import COLUMNS, judge_metrics
from tiebreak.core.store import Store

pytestmark = pytest.mark.skipif(alpaca_dir() is None, reason="needs the installed alpaca_eval package")

YAML = """\
my_judge:
  prompt_template: "{template}"
  fn_completions: "openai_completions"
  completions_kwargs:
    model_name: "gpt-4o-mini-2024-07-18"
    max_tokens: 1
    temperature: {temperature}
    logprobs: true
    top_logprobs: 5
  fn_completion_parser: "logprob_parser"
  completion_parser_kwargs:
    numerator_token: "m"
    denominator_tokens: ["m", "M"]
    is_binarize: false
  completion_key: "completions_all"
  batch_size: 1
"""


def write_config(folder: Path, temperature: float) -> Path:
    """A user's own AlpacaEval configuration that uses the installed package's prompt file."""
    template = alpaca_dir() / "evaluators_configs" / "alpaca_eval_clf_gpt4_turbo" / "alpaca_eval_clf.txt"
    folder.mkdir(exist_ok=True)
    path = folder / "configs.yaml"
    path.write_text(YAML.format(template=template, temperature=temperature))
    return path


@pytest.fixture
def gold_db(tmp_path):
    humans = synthetic_crossannotations(16)
    humans = humans[humans["annotator_kind"] == "human"]
    path = tmp_path / "gold.sqlite"
    store = Store(path, create=True)
    fill(store, humans)
    with store.transaction() as tx:
        add_other = tx.instruction_id("Not labelled by anyone")  # must not be judged (--labelled-by)
        tx.comparison_id(add_other, tx.output_id(add_other, "x", "one"), tx.output_id(add_other, "y", "two"))
    store.close()
    return str(path), humans


def judge(db, config, fake, capsys):
    code = main(["judge", "--db", db, "--config", str(config), "--base-url", fake.base_url,
                 "--labelled-by", "humans", "--seeds", "0,1,2,3"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    return out


def test_versions_side_by_side_in_alpaca_evals_layout(gold_db, tmp_path, fake_openai, capsys):
    db, humans = gold_db
    pairs = humans.drop_duplicates("instruction")
    n_pairs, n_identical = len(pairs), int((pairs["output_1"] == pairs["output_2"]).sum())
    folder = tmp_path / "my_judge"
    judge(db, write_config(folder, 1.0), fake_openai, capsys)
    # identical outputs are a tie without a call; the unlabelled comparison is not judged
    assert fake_openai.chat_requests == 4 * (n_pairs - n_identical)
    out = judge(db, write_config(folder, 0.0), fake_openai, capsys)  # an edit: a new version
    assert "judge my_judge.v2, run" in out
    judge(db, "weighted_alpaca_eval_gpt4_turbo", fake_openai, capsys)

    assert main(["agreement", "--db", db, "--gold", "humans", "--format", "csv"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out), index_col=0, keep_default_na=False)
    assert list(table.index) == ["humans", "my_judge", "my_judge.v2", "weighted_alpaca_eval_gpt4_turbo"]
    assert list(table["version"].astype(str)) == ["", "1", "2", "1"]
    hashes = list(table["config_hash"])
    assert hashes[0] == "" and len(set(hashes[1:])) == 3
    store = Store(db)
    frame = store.annotations_frame(groups=["humans", "my_judge", "my_judge.v2", "weighted_alpaca_eval_gpt4_turbo"])
    stored = dict(store.conn.execute("SELECT name, config_hash FROM annotators WHERE kind = 'judge'").fetchall())
    store.close()
    assert hashes[1:] == [stored["my_judge"], stored["my_judge.v2"], stored["weighted_alpaca_eval_gpt4_turbo"]]
    want = judge_metrics(frame, "humans", hourly_rate=None)  # the stored human price, as AlpacaEval
    got = table[COLUMNS].replace("", float("nan")).astype(float)
    pd.testing.assert_frame_equal(got, want[COLUMNS].astype(float), check_names=False, rtol=1e-12)
    assert set(table["mode"]) == {"minimal"} and table.loc["my_judge", "# parsed"] > 0

    assert main(["agreement", "--db", db, "--gold", "humans", "--format", "json"]) == 0
    rows = {r["annotator"]: r for r in json.loads(capsys.readouterr().out)["rows"]}
    assert (rows["my_judge.v2"]["version"], rows["my_judge.v2"]["config_hash"]) == ("2", stored["my_judge.v2"])
    assert "version" not in rows["humans"]
    assert main(["agreement", "--db", db, "--gold", "humans"]) == 0
    assert f"my_judge.v2 = v2 ({stored['my_judge.v2']})" in capsys.readouterr().out

    assert main(["configs", "diff", "--db", db, "my_judge"]) == 0
    diff = capsys.readouterr().out
    assert "--- my_judge (v1" in diff and "+++ my_judge.v2 (v2" in diff
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("---", "+++")]
    assert changed[0].startswith("-request: ") and changed[1].startswith("+request: ") and len(changed) == 2
    assert '"temperature": 1.0' in changed[0] and '"temperature": 0.0' in changed[1]
    assert main(["configs", "versions", "--db", db, "my_judge"]) == 0
    listing = capsys.readouterr().out
    assert "v2       my_judge.v2" in listing and f" {4 * n_pairs}\n" in listing


def test_configs_errors_name_what_exists(gold_db, capsys):
    db, _ = gold_db
    assert main(["configs", "diff", "--db", db, "nobody"]) == 2
    assert "no judge configuration named 'nobody'" in capsys.readouterr().err
