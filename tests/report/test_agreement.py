"""Comparing a run with a reference run: predictions and metrics cell by cell."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flamingo_eval.errors import ResultsError
from flamingo_eval.report.agreement import compare_runs

from .fixtures import fixture_rows, run_json, write_folder


def _predictions(folder: Path, answers: dict[int, str]) -> None:
    rows = [{"variant": "baseline", "benchmark": "vqav2", "shots": 4, "trial": 0, "query_id": qid, "prediction": answer,
             "references": ["yes"]} for qid, answer in answers.items()]
    (folder / "predictions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def _run(folder: Path, answers: dict[int, str], rows=None) -> Path:
    write_folder(folder, rows if rows is not None else fixture_rows(), run_json())
    _predictions(folder, answers)
    return folder


def test_identical_runs_agree(tmp_path: Path) -> None:
    a = _run(tmp_path / "a", {1: "yes", 2: "no"})
    b = _run(tmp_path / "b", {2: "no", 1: "yes"})  # order does not matter
    agreement = compare_runs(a, b)
    assert agreement.agrees and agreement.predictions_same == 2 and agreement.metrics_same == len(fixture_rows())
    assert agreement.describe().startswith("agrees with the reference: 2 of 2 predictions")


def test_a_changed_prediction_is_named(tmp_path: Path) -> None:
    a = _run(tmp_path / "a", {1: "yes", 2: "no"})
    b = _run(tmp_path / "b", {1: "yes", 2: "two"})
    agreement = compare_runs(a, b)
    assert not agreement.agrees and agreement.predictions_same == 1
    line = agreement.describe()
    assert line.startswith("DIFFERS") and "query_id=2" in line and "'no' here, 'two' in the reference" in line


def test_a_changed_metric_or_a_missing_query_disagrees(tmp_path: Path) -> None:
    rows = fixture_rows()
    changed = [dict(r, value=r["value"] + 0.01) if i == 3 else r for i, r in enumerate(rows)]
    a = _run(tmp_path / "a", {1: "yes"}, rows)
    b = _run(tmp_path / "b", {1: "yes"}, changed)
    agreement = compare_runs(a, b)
    assert not agreement.agrees and agreement.metrics_same == len(rows) - 1 and "metric=" in agreement.describe()
    c = _run(tmp_path / "c", {1: "yes", 2: "no"}, rows)
    missing = compare_runs(a, c)
    assert not missing.agrees and missing.only_in_reference == 1 and "1 only in the reference" in missing.describe()


def test_unreadable_predictions_name_the_file(tmp_path: Path) -> None:
    a = _run(tmp_path / "a", {1: "yes"})
    b = _run(tmp_path / "b", {1: "yes"})
    (b / "predictions.jsonl").write_text('{"variant": "baseline"}\n', encoding="utf-8")
    with pytest.raises(ResultsError, match=r"b/predictions.jsonl: line 1"):
        compare_runs(a, b)
    (b / "predictions.jsonl").unlink()
    with pytest.raises(ResultsError, match=r"b/predictions.jsonl: file not found"):
        compare_runs(a, b)
