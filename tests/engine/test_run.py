"""The CLI end to end with the tiny model on fixture data in the official formats."""

from __future__ import annotations

import json

from flamingo_eval.cli import app

from .helpers import ALL, COMMON, invoke, predictions, runner


def test_run_writes_the_results_layout(run_folder):
    for name in ("run.json", "predictions.jsonl", "metrics.json", "summary.csv", "summary.md", "shot_scaling.png"):
        assert (run_folder / name).is_file(), name
    rows = predictions(run_folder)
    assert len(rows) == 4 * 4 * 2 * 2  # benchmarks x queries x shot counts x trials
    keys = {"variant", "model", "benchmark", "shots", "trial", "seed", "query_id", "demo_ids", "prompt", "prediction",
            "raw_output", "references", "score"}
    assert all(keys <= set(r) for r in rows)
    assert all(r["score"] is not None for r in rows)  # captions too: their CIDEr is filled in at the end
    for r in rows:
        text_demos = 2 if r["benchmark"] in ("coco", "vqav2") else 0  # the zero-shot protocol where OpenFlamingo uses it
        assert len(r["demo_ids"]) == (r["shots"] or text_demos)
        assert r["prompt"].count("<image>") == r["shots"] + 1
        assert r["query_id"] not in r["demo_ids"]
        assert r["seed"] == 7 + r["trial"]
    mc = [r for r in rows if r["benchmark"] == "nextqa_mc"]
    for r in mc:
        assert r["prediction"].startswith("option ") and len(r["option_scores"]) == 5 and r["option_score"] == "sum"
        assert r["answer_rank"] == sorted(r["option_scores"], reverse=True).index(r["option_scores"][r["answer_index"]])
        assert r["score"] == (1.0 if r["answer_rank"] == 0 else 0.0)
    metrics = json.loads((run_folder / "metrics.json").read_text())
    names = {(m["benchmark"], m["metric"]) for m in metrics}
    assert {("coco", "CIDEr"), ("coco", "Bleu_4"), ("vqav2", "vqa_accuracy"), ("vqav2", "vqa_accuracy/other"),
            ("msrvtt_qa", "exact_match"), ("nextqa_mc", "multiple_choice_accuracy")} <= names
    assert all(m["n"] == 4 for m in metrics)
    header = (run_folder / "summary.csv").read_text().splitlines()[0]
    assert header == "benchmark,model,variant,shots,metric,mean,std,trials,n"
    run = json.loads((run_folder / "run.json").read_text())
    assert run["finished"] and run["settings"]["shots"] == [0, 2] and run["primary_metrics"]["coco"] == "CIDEr"
    assert set(run["benchmarks"]["vqav2"]["data_files"]) == {
        "v2_OpenEnded_mscoco_train2014_questions.json", "v2_mscoco_train2014_annotations.json",
        "v2_OpenEnded_mscoco_val2014_questions.json", "v2_mscoco_val2014_annotations.json"}
    assert {j["benchmark"]: j["zero_shot_text_demos"] for j in run["jobs"]}["coco"] == 2
    assert (run_folder / "shot_scaling.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_rerun_is_a_no_op_and_other_settings_are_refused(run_folder, data_root):
    before = (run_folder / "predictions.jsonl").read_text()
    invoke("run", *ALL, *COMMON, "--shots", "0,2", "--trials", "2",
           "--data-root", str(data_root), "--out", str(run_folder), "--batch-size", "8")
    assert (run_folder / "predictions.jsonl").read_text() == before
    result = runner.invoke(app, ["run", *ALL, *COMMON, "--shots", "0,4", "--trials", "2",
                                 "--data-root", str(data_root), "--out", str(run_folder)], env={"COLUMNS": "300"})
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "holds results made with other settings (settings.shots: [0, 2] before, [0, 4] now)" in result.output


def test_batch_size_does_not_change_predictions(data_root, tmp_path, run_folder):
    one = tmp_path / "bs1"
    invoke("run", *ALL, *COMMON, "--shots", "0,2", "--trials", "2",
           "--data-root", str(data_root), "--out", str(one), "--batch-size", "1")
    fields = ("benchmark", "shots", "trial", "query_id", "demo_ids", "prompt", "raw_output", "prediction", "score")
    assert [[r[f] for f in fields] for r in predictions(one)] == [[r[f] for f in fields] for r in predictions(run_folder)]
    assert json.loads((one / "metrics.json").read_text()) == json.loads((run_folder / "metrics.json").read_text())


def test_static_decoding_and_an_auto_budget_do_not_change_predictions(data_root, tmp_path, run_folder):
    """--decode static (the static KV cache, steps run eagerly) answers as the growing cache does, and
    --token-budget auto only sizes batches; both are recorded but are not part of the run's identity,
    so either may resume the other."""
    static = tmp_path / "static"
    invoke("run", *ALL, *COMMON, "--shots", "0,2", "--trials", "2",
           "--data-root", str(data_root), "--out", str(static), "--batch-size", "8", "--decode", "static", "--token-budget", "auto")
    fields = ("benchmark", "shots", "trial", "query_id", "prompt", "raw_output", "prediction", "score")
    assert [[r[f] for f in fields] for r in predictions(static)] == [[r[f] for f in fields] for r in predictions(run_folder)]
    recorded = json.loads((static / "run.json").read_text())["settings"]
    assert (recorded["decode"], recorded["token_budget"]) == ("static", "auto")
    before = (run_folder / "predictions.jsonl").read_text()
    invoke("run", *ALL, *COMMON, "--shots", "0,2", "--trials", "2", "--data-root", str(data_root), "--out", str(run_folder),
           "--decode", "static")
    assert (run_folder / "predictions.jsonl").read_text() == before


def test_python_api_returns_a_dataframe(data_root, tmp_path):
    import flamingo_eval

    frame = flamingo_eval.evaluate(["vqav2"], model="tiny", out=tmp_path / "api", shots=[0, 2], seed=7, data_root=data_root)
    assert set(frame.columns) >= {"benchmark", "model", "variant", "shots", "trial", "seed", "metric", "value", "n"}
    assert sorted(frame[frame.metric == "vqa_accuracy"].shots) == [0, 2]
