"""A split whose answers are not public (VQAv2 test-dev): predictions are made and kept, scoring is
skipped with a note, and the submission file is exported from them."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from .helpers import COMMON, invoke, predictions

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def test_a_split_without_answers_is_answered_not_scored_and_exported(data_root, tmp_path):
    spec = yaml.safe_load((BENCHMARKS / "vqav2.yaml").read_text())
    spec["name"], spec["data"]["root"] = "vqav2_test_dev", str(data_root / "vqav2")
    del spec["data"]["eval"]["annotations"]  # as released for test-dev: questions only
    path = tmp_path / "vqav2_test_dev.yaml"
    path.write_text(yaml.safe_dump(spec))
    out = tmp_path / "out"
    result = invoke("run", str(path), *COMMON, "--shots", "0,2", "--out", str(out))
    rows = predictions(out)
    assert len(rows) == 8 and all(r["score"] is None and r["references"] == [] for r in rows)
    assert json.loads((out / "metrics.json").read_text()) == []
    assert "not scored: 8 prediction(s) of vqav2_test_dev have no reference answers" in " ".join(result.output.split())
    invoke("export", str(out), "--format", "evalai-vqa", "--shots", "2", "--out", str(tmp_path / "test-dev.json"))
    submission = json.loads((tmp_path / "test-dev.json").read_text())
    assert sorted(a["question_id"] for a in submission) == sorted(int(r["query_id"]) for r in rows if r["shots"] == 2)
    assert [a["answer"] for a in submission] == [r["prediction"] for r in rows if r["shots"] == 2]
