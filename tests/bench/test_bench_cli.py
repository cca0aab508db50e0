"""``flamingo-eval bench`` end to end on fixture data with the tiny model: both sides, same answers."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from flamingo_eval.cli import app

from ..engine.fixture_data import write_data_root

KEYS = {"selection", "shots", "reference_examples_per_s", "harness_examples_per_s", "speedup", "predictions_agree",
        "reference_peak_rss_mb", "harness_peak_rss_mb", "matmul_peak_fraction", "vision_s", "prefill_s", "decode_s"}


def test_bench_measures_both_sides_and_they_agree(tmp_path):
    data = write_data_root(tmp_path / "data")
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(app, ["bench", "--model", "tiny", "--benchmark", "coco", "--data-root", str(data),
                                      "--shots", "2", "--queries", "3", "--batch-size", "2", "--json", str(out)],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    rows = json.loads(out.read_text())
    assert [(r["selection"], r["shots"]) for r in rows] == [("random", 2), ("fixed", 2)]
    for r in rows:
        assert KEYS <= set(r)
        assert r["predictions_agree"], r["disagreements"]
        assert r["queries"] == 3 and r["reference_examples_per_s"] > 0 and r["harness_examples_per_s"] > 0
        assert 0 < r["matmul_peak_fraction"] < 1
    fixed = rows[1]
    assert fixed["prefixes_built"] == 1 and fixed["prefixes_reused"] >= 1  # 3 queries in 2 batches share the demos
    assert "speedup" in result.output
