"""summarize (mean, sample std over trials) and summary.csv / summary.md."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from flamingo_eval.report import SUMMARY_COLUMNS, load_rows, summarize, write_summary


def _one(summary: pd.DataFrame, **where) -> pd.Series:
    mask = pd.Series(True, index=summary.index)
    for key, value in where.items():
        mask &= summary[key] == value
    assert mask.sum() == 1
    return summary[mask].iloc[0]


def test_mean_and_sample_std_by_hand(results_folder: Path) -> None:
    summary = summarize(load_rows([results_folder])[1])
    row = _one(summary, benchmark="coco", variant="baseline", shots=0, metric="CIDEr")
    assert row["mean"] == pytest.approx(0.84) and row["std"] == pytest.approx(0.04)
    row = _one(summary, benchmark="coco", variant="baseline", shots=4, metric="CIDEr")
    assert row["mean"] == pytest.approx(0.92) and row["std"] == pytest.approx(math.sqrt(0.0007))
    row = _one(summary, benchmark="vqav2", variant="baseline", shots=4, metric="vqa_accuracy")
    assert row["mean"] == pytest.approx(0.56) and row["std"] == pytest.approx(math.sqrt(0.0003))
    assert row["trials"] == 3
    assert row["n"] == 98  # the smallest n over trials
    constant = _one(summary, benchmark="coco", variant="prompt-b", shots=4, metric="CIDEr")
    assert constant["std"] == 0.0


def test_single_trial_std_is_zero() -> None:
    rows = pd.DataFrame([{"benchmark": "coco", "model": "m", "variant": "v", "shots": 0, "trial": 0,
                          "metric": "CIDEr", "value": 0.5, "n": 10}])
    summary = summarize(rows)
    assert summary["std"].tolist() == [0.0] and summary["trials"].tolist() == [1]


def test_empty_rows_give_empty_summary() -> None:
    empty = pd.DataFrame(columns=["benchmark", "model", "variant", "shots", "trial", "metric", "value", "n"])
    assert list(summarize(empty).columns) == list(SUMMARY_COLUMNS) and summarize(empty).empty


def test_summary_csv_columns_exactly(results_folder: Path) -> None:
    csv_path, md_path = write_summary(results_folder)
    assert csv_path == results_folder / "summary.csv" and md_path == results_folder / "summary.md"
    header = csv_path.read_text().splitlines()[0]
    assert header == "benchmark,model,variant,shots,metric,mean,std,trials,n"
    frame = pd.read_csv(csv_path)
    assert len(frame) == 16  # 2 benchmarks x 2 metrics x 2 variants x 2 shot counts
    assert frame.loc[(frame.metric == "CIDEr") & (frame.shots == 0) & (frame.variant == "baseline"), "mean"].item() == 0.84
    md = md_path.read_text().splitlines()
    assert md[0].split("|")[1].strip() == "benchmark" and md[1].startswith("| ---")
    assert "| 0.8400 |" in md_path.read_text()
    # Written atomically: no temporary file is left beside them.
    assert sorted(p.name for p in results_folder.iterdir()) == ["metrics.json", "run.json", "summary.csv", "summary.md"]


def test_write_summary_from_rows_needs_a_folder(results_folder: Path, tmp_path: Path) -> None:
    rows = load_rows([results_folder])[1]
    with pytest.raises(ValueError, match="give the folder"):
        write_summary(rows)
    out = tmp_path / "elsewhere"
    out.mkdir()
    write_summary(rows, out)
    assert (out / "summary.csv").read_text() == summarize(rows).to_csv(index=False, lineterminator="\n")


def test_nan_trial_makes_the_group_nan(results_folder: Path) -> None:
    rows = load_rows([results_folder])[1]
    rows.loc[0, "value"] = float("nan")
    summary = summarize(rows)
    key = rows.loc[0, ["benchmark", "variant", "shots", "metric"]].to_dict()
    row = _one(summary, **key)
    assert math.isnan(row["mean"]) and math.isnan(row["std"])


def test_write_summary_from_metrics_json_rows(results_folder: Path, tmp_path: Path) -> None:
    """What a run has in memory when it ends: metrics.json's rows as dicts."""
    from .fixtures import fixture_rows

    out = tmp_path / "run"
    out.mkdir()
    write_summary(fixture_rows(), out)
    assert (out / "summary.csv").read_text() == summarize(load_rows([results_folder])[1]).to_csv(
        index=False, lineterminator="\n")
