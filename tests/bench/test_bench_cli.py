"""``flamingo-eval bench`` end to end on fixture data with the tiny model: both sides, same answers."""

from __future__ import annotations

import json

import pytest

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


def test_rank_bench_scores_every_class_both_ways_and_they_agree(tmp_path):
    data = write_data_root(tmp_path / "data")
    names = tmp_path / "classes.txt"
    names.write_text("\n".join(["tench", "goldfish", "great white shark", "tiger shark", "hammerhead", "electric ray",
                                "stingray", "cock", "hen", "ostrich", "brambling", "goldfinch"]) + "\n")
    out = tmp_path / "rank.json"
    result = CliRunner().invoke(app, ["bench", "--task", "rank", "--model", "tiny", "--benchmark", "coco", "--data-root", str(data),
                                      "--shots", "2", "--queries", "2", "--class-names", str(names), "--json", str(out)],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    [r] = json.loads(out.read_text())
    assert r["classes"] == 12 and r["queries"] == 2 and r["shots"] == 2
    assert r["max_abs_diff"] < 1e-4 and r["same_top5"] == 2
    assert r["harness_examples_per_s"] > 0 and r["reference_examples_per_s"] > 0
    assert "12 class names" in result.output


def test_rank_bench_refuses_repeated_class_names(tmp_path):
    names = tmp_path / "classes.txt"
    names.write_text("hen\ncock\nhen\n")
    result = CliRunner().invoke(app, ["bench", "--task", "rank", "--model", "tiny", "--class-names", str(names)])
    assert result.exit_code != 0
    assert "class name 'hen' on line 3 repeats line 1" in result.output


def test_bench_takes_device_dtype_and_a_reference_subset(tmp_path):
    """The GPU run's flags, exercised on the CPU: bfloat16, the reference on the first query only."""
    data = write_data_root(tmp_path / "data")
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(app, ["bench", "--model", "tiny", "--benchmark", "coco", "--data-root", str(data), "--shots", "2",
                                      "--queries", "3", "--batch-size", "2", "--selection", "fixed", "--device", "cpu",
                                      "--dtype", "bfloat16", "--vision-dtype", "bfloat16", "--reference-queries", "1", "--no-flops",
                                      "--json", str(out)],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    [r] = json.loads(out.read_text())
    assert r["queries"] == 3 and r["reference_queries"] == 1 and r["dtype"] == "bfloat16" and r["device"] == "cpu"
    assert r["vision_dtype"] == "bfloat16"  # answers may differ in bfloat16 (rounding depends on batch shapes)
    assert r["harness_answer_tokens_per_s"] > 0 and r["harness_peak_device_mb"] is None  # no CUDA allocator here
    assert r["speedup"] == pytest.approx(r["harness_examples_per_s"] / r["reference_examples_per_s"])


def test_bench_measures_each_decoding_path_against_the_same_reference(tmp_path):
    """A row per decoding path, each checked against the reference's answers (compiled: on the GPU run;
    its Inductor compile takes minutes on this CPU, and the tracing is tested in test_static_decode)."""
    data = write_data_root(tmp_path / "data")
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(app, ["bench", "--model", "tiny", "--benchmark", "coco", "--data-root", str(data), "--shots", "2",
                                      "--queries", "3", "--batch-size", "2", "--selection", "random", "--decode", "eager,static", "--token-budget", "auto",
                                      "--no-flops", "--json", str(out)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    rows = json.loads(out.read_text())
    assert [r["decode"] for r in rows] == ["eager", "static"]
    assert rows[0]["reference_s"] == rows[1]["reference_s"]  # one reference run for both
    assert all(r["predictions_agree"] for r in rows), [r["disagreements"] for r in rows]
    assert "static KV cache" in rows[1]["decoding"] and rows[1]["warmup_s"] == 0
    assert all(isinstance(r["token_budget"], int) and r["token_budget"] > 0 for r in rows)  # "auto", sized


def test_bench_names_an_unknown_decoding_path():
    result = CliRunner().invoke(app, ["bench", "--model", "tiny", "--decode", "eager,graphs"])
    assert result.exit_code != 0
    assert "decode must be one or more of eager, static, compiled, got eager, graphs" in result.output
