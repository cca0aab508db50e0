"""Resuming after SIGKILL, sweeps, ablations, reports and skipping bad items, through the CLI."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

from flamingo_eval.cli import app

from .helpers import ALL, COMMON, invoke, predictions, runner


def test_sigkill_part_way_then_resume_matches_a_clean_run(data_root, tmp_path, run_folder):
    out = tmp_path / "killed"
    args = [sys.executable, "-m", "flamingo_eval", "run", *ALL, *COMMON, "--shots", "0,2", "--trials", "2",
            "--data-root", str(data_root), "--out", str(out), "--batch-size", "1"]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lines = out / "predictions.jsonl"
    # wait on progress, not on the clock: on a busy machine the 20th line may take minutes to come
    while process.poll() is None:
        if lines.exists() and lines.read_bytes().count(b"\n") >= 20:
            os.kill(process.pid, signal.SIGKILL)
            break
        time.sleep(0.02)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert not (out / "metrics.json").exists()
    assert lines.read_bytes().count(b"\n") < 64
    with open(lines, "ab") as f:
        f.write(b'{"variant": "baseline", "benchm')  # as if killed in the middle of a write
    invoke("run", *ALL, *COMMON, "--shots", "0,2", "--trials", "2", "--data-root", str(data_root), "--out", str(out))
    assert json.loads((out / "metrics.json").read_text()) == json.loads((run_folder / "metrics.json").read_text())
    assert [r["prediction"] for r in predictions(out)] == [r["prediction"] for r in predictions(run_folder)]


def test_sweep_over_shots_and_selection_from_a_yaml_file(data_root, tmp_path):
    config = tmp_path / "sweep.yaml"
    config.write_text("benchmarks: [vqav2, msrvtt_qa]\nmodel: tiny\nseed: 7\n"
                      "grid:\n  shots: [0, 2, 4]\n  selection: [random, fixed, rices, text]\n")
    out = tmp_path / "sweep"
    invoke("sweep", "--config", str(config), "--data-root", str(data_root), "--out", str(out))
    metrics = json.loads((out / "metrics.json").read_text())
    assert {m["variant"] for m in metrics} == {f"selection={s}" for s in ("random", "fixed", "rices", "text")}
    assert {m["shots"] for m in metrics} == {0, 2, 4}
    rows = predictions(out)

    def demo_sets(variant):
        return {tuple(r["demo_ids"]) for r in rows if r["variant"] == variant and r["shots"] == 4 and r["benchmark"] == "vqav2"}

    # fixed: one set for all queries (less the query itself when it is in the set); random: one per query
    assert len(demo_sets("selection=fixed")) < len(demo_sets("selection=random")) == 4
    assert all(r["query_id"] not in r["demo_ids"] for r in rows)
    summary = (out / "summary.csv").read_text()
    assert "selection=rices" in summary and (out / "shot_scaling.png").exists()


def test_ablate_with_two_variants_and_report(data_root, tmp_path):
    out = tmp_path / "ablation"
    result = invoke("ablate", "vqav2", "coco", *COMMON, "--shots", "0,2", "--data-root", str(data_root), "--out", str(out),
                    "--variant", "prompt-b:prompt=vqa_b", "--variant", "all-media:attend=all")
    assert "baseline" in result.output and "all-media" in result.output
    rows = predictions(out)
    assert {r["variant"] for r in rows} == {"baseline", "prompt-b", "all-media"}
    assert any(r["variant"] == "prompt-b" and r["benchmark"] == "vqav2" and "Q: " in r["prompt"] for r in rows)
    # coco has no {question} in its template, so prompt-b means vqa_b there too: it renders an empty question
    report_dir = tmp_path / "report"
    invoke("report", str(out), "--out", str(report_dir), "--paper")
    for name in ("report_shots.md", "report_shots.csv", "report_shots.tex", "report_deltas.md", "report_shot_scaling.png"):
        assert (report_dir / name).is_file(), name
    deltas = (report_dir / "report_deltas.md").read_text()
    assert "prompt-b" in deltas and "all-media" in deltas
    assert "Flamingo-80B (paper)" in (report_dir / "report_shots.md").read_text()


def test_bad_media_stops_with_the_query_named_or_is_skipped_and_recorded(data_root, tmp_path):
    broken = tmp_path / "data"
    shutil.copytree(data_root / "vqav2", broken / "vqav2")
    (broken / "vqav2" / "val2014" / "COCO_val2014_000000000101.jpg").write_bytes(b"not a jpeg")
    result = runner.invoke(app, ["run", "vqav2", *COMMON, "--shots", "0", "--data-root", str(broken),
                                            "--out", str(tmp_path / "stop")], env={"COLUMNS": "300"})
    assert result.exit_code == 1 and "vqav2 query 1011" in result.output and "COCO_val2014_000000000101.jpg" in result.output
    out = tmp_path / "skip"
    invoke("run", "vqav2", *COMMON, "--shots", "0", "--data-root", str(broken), "--out", str(out), "--skip-bad")
    skipped = [json.loads(line) for line in (out / "skipped.jsonl").read_text().splitlines()]
    assert [s["id"] for s in skipped] == ["1011"] and "COCO_val2014_000000000101.jpg" in skipped[0]["reason"]
    assert len(predictions(out)) == 3 and json.loads((out / "run.json").read_text())["skipped"] == 1
