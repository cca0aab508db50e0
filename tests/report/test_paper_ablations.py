"""The paper-ablation table from an ablate run over trained variants: Table 3's columns, the overall
score (mean of score / baseline's, %) and its difference, numbers checked by hand."""

from __future__ import annotations

import json

import pytest

from flamingo_eval.errors import ResultsError
from flamingo_eval.report.paper_ablations import ablation_markdown, ablation_table, write_ablation_report

from .fixtures import fixture_rows, run_json, write_folder

# 4 shots, means over trials: baseline coco 0.92, vqav2 0.56; prompt-b coco 0.93, vqav2 0.61


def _runs(tmp_path, variants=("baseline", "prompt-b")):
    runs = tmp_path / "runs"
    for i, name in enumerate(variants):
        (runs / name).mkdir(parents=True)
        (runs / name / "variant.json").write_text(json.dumps({
            "variant": name, "changed": "the baseline" if name == "baseline" else "the prompt",
            "trained_parameters": 2_500_000 + i, "seconds_per_step": 9.0 + i, "seed": 0}))
    return runs


def test_table_columns_scores_and_overall(tmp_path):
    results = write_folder(tmp_path / "ablation", fixture_rows(), run_json())
    table = ablation_table(results, _runs(tmp_path), shots=4)
    assert list(table["variant"]) == ["baseline", "prompt-b"]
    assert list(table.columns) == ["variant", "changed", "trained_parameters", "step_s", "coco", "vqav2", "overall", "delta_overall"]
    base, other = table.iloc[0], table.iloc[1]
    assert base["coco"] == pytest.approx(0.92) and other["vqav2"] == pytest.approx(0.61)
    assert base["overall"] == pytest.approx(100.0) and base["delta_overall"] == pytest.approx(0.0)
    expected = 100 * (0.93 / 0.92 + 0.61 / 0.56) / 2
    assert other["overall"] == pytest.approx(expected) and other["delta_overall"] == pytest.approx(expected - 100)
    assert other["step_s"] == 10.0 and other["changed"] == "the prompt"
    text = ablation_markdown(table, shots=4)
    assert "| prompt-b | the prompt | 2.5M | 10.0 | 93.0 | 61.0 | 105.0 | +5.0 |" in text


def test_writes_markdown_and_plot(tmp_path):
    results = write_folder(tmp_path / "ablation", fixture_rows(), run_json())
    written = write_ablation_report(results, _runs(tmp_path), shots=(4, 0))
    assert [p.name for p in written] == ["paper_ablations.md", "paper_ablations.png"]
    text = written[0].read_text()
    assert text.count("| baseline |") == 2 and "4 shots" in text and "0 shots" in text


def test_a_missing_training_record_is_named(tmp_path):
    results = write_folder(tmp_path / "ablation", fixture_rows(), run_json())
    with pytest.raises(ResultsError, match=r"runs/prompt-b/variant.json: not found"):
        ablation_table(results, _runs(tmp_path, variants=("baseline",)), shots=4)
    with pytest.raises(ResultsError, match="no primary-metric results at 16 shots"):
        ablation_table(results, _runs(tmp_path / "x"), shots=16)


def test_report_command_writes_the_ablation_table(tmp_path):
    from typer.testing import CliRunner

    from flamingo_eval.cli import app

    results = write_folder(tmp_path / "ablation", fixture_rows(), run_json())
    result = CliRunner().invoke(app, ["report", str(results), "--training-runs", str(_runs(tmp_path)), "--ablation-shots", "4"])
    assert result.exit_code == 0, result.output
    assert (results / "paper_ablations.md").is_file() and (results / "paper_ablations.png").is_file()


def test_step_time_is_the_fast_end_of_the_logged_steps(tmp_path):
    """Load on the machine only slows steps: the table takes the 10th percentile of the run's logged step
    times (from log.jsonl, whatever variant.json says), so runs made under different load compare."""
    from flamingo_eval.train.session import step_seconds

    runs = _runs(tmp_path)
    quiet = [7.0 + 0.01 * i for i in range(15)]
    busy = [20.0 + i for i in range(15)]  # half the steps slowed by other work: the median would be ~14
    lines = [{"step": i + 1, "step_s": t} for i, t in enumerate(quiet + busy)] + [{"step": 30, "val/mean": 0.5}]
    (runs / "prompt-b" / "log.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert step_seconds(runs / "prompt-b" / "log.jsonl") == pytest.approx(7.03)
    results = write_folder(tmp_path / "ablation", fixture_rows(), run_json())
    table = ablation_table(results, runs, shots=4)
    assert list(table["step_s"]) == [9.0, pytest.approx(7.03)]  # the baseline has no log here: its record
