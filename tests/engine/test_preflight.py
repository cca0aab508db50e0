"""Faults found before anything is answered, and bad pool items under --skip-bad: each named, none lost."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from flamingo_eval.cli import app
from flamingo_eval.data.example import Example, MediaRef
from flamingo_eval.engine.preflight import content_duplicates, data_fingerprint
from flamingo_eval.prompting.selection import FixedSelector, RandomSelector

from .helpers import COMMON, invoke, predictions

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
runner = CliRunner()


def fails(*args: str) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "300"})
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    return " ".join(result.output.split())  # rich wraps long lines


def copy_benchmark(data_root: Path, name: str, tmp_path: Path) -> Path:
    shutil.copytree(data_root / name, tmp_path / "data" / name)
    return tmp_path / "data"


def test_a_benchmark_given_by_its_spec_path_runs_end_to_end(data_root, tmp_path):
    spec = yaml.safe_load((BENCHMARKS / "coco.yaml").read_text()) | {"name": "my_coco"}
    spec["data"]["root"] = str(data_root / "coco")
    path = tmp_path / "specs" / "my_coco.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(spec))
    out = tmp_path / "out"
    invoke("run", str(path), *COMMON, "--shots", "0,1", "--out", str(out))
    rows = predictions(out)
    assert {r["benchmark"] for r in rows} == {"my_coco"} and len(rows) == 8
    metrics = json.loads((out / "metrics.json").read_text())
    assert {m["benchmark"] for m in metrics} == {"my_coco"} and {m["shots"] for m in metrics} == {0, 1}
    twice = fails("run", str(path), str(path), *COMMON, "--out", str(tmp_path / "twice"))
    assert "two benchmarks are named my_coco" in twice


def test_out_pointing_at_a_file_is_named(data_root, tmp_path):
    target = tmp_path / "a-file.txt"
    target.write_text("not a folder")
    message = fails("run", "coco", *COMMON, "--shots", "0", "--data-root", str(data_root), "--out", str(target))
    assert f"{target} is a file, not a folder" in message


def test_an_eval_split_without_queries_is_an_error_not_an_empty_run(data_root, tmp_path):
    root = copy_benchmark(data_root, "msrvtt_qa", tmp_path)
    (root / "msrvtt_qa" / "test_qa.json").write_text("[]")
    message = fails("run", "msrvtt_qa", *COMMON, "--shots", "0", "--data-root", str(root), "--out", str(tmp_path / "out"))
    assert "benchmark msrvtt_qa: the evaluated split" in message and "has no queries: it has no records" in message
    assert not (tmp_path / "out").exists()  # found before the results folder is made


def test_a_prompt_longer_than_the_context_is_refused_before_answering(data_root, tmp_path):
    spec = yaml.safe_load((Path(__file__).resolve().parents[2] / "flamingo_eval/model/specs/tiny.yaml").read_text())
    spec["lm"]["config"]["max_position_embeddings"] = 96
    spec["name"] = "tiny-short"
    model = tmp_path / "tiny-short.yaml"
    model.write_text(yaml.safe_dump(spec))
    out = tmp_path / "out"
    message = fails("run", "coco", "--model", str(model), "--shots", "0,4", "--data-root", str(data_root), "--out", str(out))
    assert "benchmark coco, 4 shots, trial 0" in message and "context of model" in message and "(96 tokens)" in message
    assert "tokens + 20 to generate" in message
    assert not (out / "predictions.jsonl").exists() or not (out / "predictions.jsonl").read_text()  # nothing answered


def _example(id: str, path: Path, question: str | None = None) -> Example:
    return Example(id=id, media=(MediaRef(path),), question=question, target="t")


def test_content_duplicates_are_found_by_bytes_not_by_id(tmp_path):
    a, b, c = (tmp_path / n for n in ("a.jpg", "b.jpg", "c.jpg"))
    a.write_bytes(b"same bytes")
    b.write_bytes(b"same bytes")
    c.write_bytes(b"diff bytes")  # same size, other content: hashed and told apart
    pool = [_example("p1", a, "q?"), _example("p2", c, "q?"), _example("p3", b, "other question?")]
    queries = [_example("q1", b, "q?"), _example("q2", c, "q?"), _example("q3", tmp_path / "missing.jpg", "q?")]
    assert content_duplicates(pool, queries) == {"q1": frozenset({"p1"}), "q2": frozenset({"p2"})}


def test_a_pool_item_identical_to_the_query_is_never_its_demonstration(data_root, tmp_path):
    root = copy_benchmark(data_root, "coco", tmp_path)
    dataset = json.loads((root / "coco" / "dataset_coco.json").read_text())
    train = [im for im in dataset["images"] if im["split"] == "train"]
    test = [im for im in dataset["images"] if im["split"] == "test"]
    # three train images become copies of the first test image, under their own ids
    for im in train[:3]:
        shutil.copy(root / "coco" / test[0]["filepath"] / test[0]["filename"], root / "coco" / im["filepath"] / im["filename"])
    out = tmp_path / "out"
    invoke("run", "coco", *COMMON, "--shots", "2", "--selection", "fixed", "--data-root", str(root), "--out", str(out),
           "--num-samples", "4")
    by_query = {r["query_id"]: r["demo_ids"] for r in predictions(out)}
    copies = {str(im["cocoid"]) for im in train[:3]}
    first = str(test[0]["cocoid"])
    assert len(by_query) == 4 and not set(by_query[first]) & copies and len(by_query[first]) == 2
    others = [ids for query, ids in by_query.items() if query != first]
    assert all(len(ids) == 2 for ids in others) and {i for ids in others for i in ids} & copies  # they may see them


def test_selectors_avoid_items_and_change_nothing_when_avoided_items_are_not_drawn(tmp_path):
    pool = [_example(f"p{i}", tmp_path / f"{i}.jpg") for i in range(40)]
    query = _example("q", tmp_path / "q.jpg")
    for cls in (RandomSelector, FixedSelector):
        selector = cls(pool, seed=3, trial=0)
        plain = selector.select(query, 4)
        undrawn = frozenset(ex.id for ex in pool if ex not in plain)
        some = frozenset(sorted(undrawn)[:30])
        assert selector.select(query, 4, some) == plain
        avoided = selector.select(query, 4, frozenset({plain[0].id}))
        assert plain[0] not in avoided and len(avoided) == 4
    with pytest.raises(Exception, match="pool offers only 2"):
        RandomSelector(pool[:4], seed=0, trial=0).select(query, 3, frozenset({"p0", "p1"}))


def test_a_bad_pool_image_is_replaced_under_every_strategy_with_skip_bad(data_root, tmp_path):
    root = copy_benchmark(data_root, "coco", tmp_path)
    dataset = json.loads((root / "coco" / "dataset_coco.json").read_text())
    bad = next(im for im in dataset["images"] if im["split"] == "train")
    (root / "coco" / bad["filepath"] / bad["filename"]).write_bytes(b"not a jpeg")
    for selection in ("random", "fixed", "rices"):
        args = ("run", "coco", *COMMON, "--shots", "5", "--selection", selection, "--data-root", str(root))
        stop = fails(*args, "--out", str(tmp_path / f"stop-{selection}"))
        assert bad["filename"] in stop
        out = tmp_path / f"skip-{selection}"
        result = invoke(*args, "--out", str(out), "--skip-bad")
        rows = predictions(out)
        assert len(rows) == 4 and all(str(bad["cocoid"]) not in r["demo_ids"] and len(r["demo_ids"]) == 5 for r in rows)
        skipped = [json.loads(line) for line in (out / "skipped.jsonl").read_text().splitlines()]
        assert [(s["id"], s["variant"]) for s in skipped] == [(str(bad["cocoid"]), None)]
        assert "demonstration pool item not shown" in skipped[0]["reason"] and bad["filename"] in skipped[0]["file"]
        assert "1 pool item(s) never shown as demonstrations" in " ".join(result.output.split())


def test_resuming_after_the_data_changed_is_refused(data_root, tmp_path):
    root = copy_benchmark(data_root, "msrvtt_qa", tmp_path)
    out = tmp_path / "out"
    args = ("run", "msrvtt_qa", *COMMON, "--shots", "0", "--data-root", str(root), "--out", str(out))
    invoke(*args)
    annotations = root / "msrvtt_qa" / "test_qa.json"
    original = annotations.read_text()
    records = json.loads(original)
    records[0]["answer"] = "changed"
    annotations.write_text(json.dumps(records))
    message = fails(*args)
    assert "holds results made with other settings (data.msrvtt_qa" in message
    annotations.write_text(original)
    shutil.move(str(root), str(tmp_path / "moved"))  # the same files elsewhere: the same data, resumed
    invoke("run", "msrvtt_qa", *COMMON, "--shots", "0", "--data-root", str(tmp_path / "moved"), "--out", str(out))


def test_the_data_fingerprint_ignores_where_the_data_is_but_not_what_it_holds(tmp_path):
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "a.jpg").write_bytes(b"12345")
    one = data_fingerprint(tmp_path / "one", {"ann.json": "abc"}, [[_example("1", tmp_path / "one" / "a.jpg")]])
    two = data_fingerprint(tmp_path / "two", {"ann.json": "abc"}, [[_example("1", tmp_path / "two" / "a.jpg")]])
    assert one == two
    assert data_fingerprint(tmp_path / "one", {"ann.json": "abd"}, [[_example("1", tmp_path / "one" / "a.jpg")]]) != one
    (tmp_path / "two" / "a.jpg").write_bytes(b"123456")
    assert data_fingerprint(tmp_path / "two", {"ann.json": "abc"}, [[_example("1", tmp_path / "two" / "a.jpg")]]) != one
