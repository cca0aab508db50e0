"""Benchmark specs: the built-ins are valid, and every mistake names the file and the key."""

from __future__ import annotations

import pytest
import yaml

from flamingo_eval.benchmark import builtin_benchmarks, get_benchmark
from flamingo_eval.errors import SpecError


def test_builtin_benchmarks_parse_with_openflamingos_settings():
    names = set(builtin_benchmarks())
    assert {"coco", "flickr30k", "vqav2", "okvqa", "textvqa", "vizwiz", "msrvtt_qa", "msvd_qa", "ivqa",
            "nextqa_mc", "nextqa_oe", "vatex", "youcook2", "hateful_memes", "imagenet", "star"} <= names
    for name in names:
        assert get_benchmark(name).name == name
    coco, vqa, textvqa = get_benchmark("coco"), get_benchmark("vqav2"), get_benchmark("textvqa")
    assert (coco.generation.max_new_tokens, coco.generation.num_beams, coco.generation.length_penalty) == (20, 3, 0.0)
    assert vqa.generation.max_new_tokens == 5 and textvqa.generation.max_new_tokens == 10
    assert coco.prompt.zero_shot_text_demos == 2 and get_benchmark("msrvtt_qa").prompt.zero_shot_text_demos == 0
    assert get_benchmark("msrvtt_qa").data.video.fps == 1.0


def test_classification_and_choice_specs():
    """HatefulMemes and ImageNet as OpenFlamingo evaluates them (no separator, 2 text-only demonstrations
    at 0 shots, mean token log-probs); STAR as nextqa_mc, on the split that has answers."""
    memes, imagenet, star = get_benchmark("hateful_memes"), get_benchmark("imagenet"), get_benchmark("star")
    for spec in (memes, imagenet):
        assert (spec.task, spec.option_score, spec.prompt.separator, spec.prompt.zero_shot_text_demos) == (
            "classification", "mean", "", 2)
    assert (memes.metric, memes.chance, memes.data.eval["annotations"]) == ("roc_auc", 0.5, "test_seen.jsonl")
    assert (imagenet.metric, imagenet.chance, imagenet.data.eval["images"]) == ("classification_accuracy", 0.001, "val")
    nextqa = get_benchmark("nextqa_mc")
    assert (star.task, star.metric, star.option_score, star.data.eval["annotations"]) == (
        "multiple_choice", "multiple_choice_accuracy", "sum", "STAR_val.json")
    assert (star.prompt, star.data.video) == (nextqa.prompt, nextqa.data.video)


def write(tmp_path, data):
    path = tmp_path / "bench.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda d: d.__setitem__("metrics", "cider"), r"bench.yaml: unknown key metrics"),
        (lambda d: d.__setitem__("metric", "bleu9"), r"bench.yaml: metric: unknown 'bleu9'"),
        (lambda d: d["data"].__setitem__("format", "coco_json"), r"bench.yaml: data.format: unknown 'coco_json'"),
        (lambda d: d["generation"].__setitem__("beams", 3), r"bench.yaml: unknown key generation.beams"),
        (lambda d: d["prompt"].__setitem__("template", "nope"), r"bench.yaml: prompt.template: prompt template not found"),
        (lambda d: d.__setitem__("task", "dancing"), r"bench.yaml: task: unknown 'dancing'"),
        (lambda d: d["data"].pop("eval"), r"bench.yaml: missing key data.eval"),
        (lambda d: d.pop("prompt"), r"bench.yaml: missing key prompt"),
        (lambda d: d.__setitem__("query_set_size", "many"), r"bench.yaml: query_set_size: expected int or None, got str 'many'"),
        (lambda d: d["data"].__setitem__("video", {"fps": "fast"}), r"bench.yaml: data.video.fps: expected float, got str 'fast'"),
        (lambda d: d["generation"].__setitem__("num_beams", "3"), r"bench.yaml: generation.num_beams: expected int, got str '3' \(text, not"),
        (lambda d: d["generation"].__setitem__("num_beams", True), r"bench.yaml: generation.num_beams: expected int, got bool True"),
        (lambda d: d["data"].__setitem__("video", {"max_frames": 0}), r"bench.yaml: data.video: max_frames must be at least 1"),
    ],
    ids=["top-key", "metric", "format", "nested-key", "template", "task", "split", "missing", "int-as-text", "float-as-text",
         "quoted-number", "bool-for-int", "range"],
)
def test_malformed_benchmark_spec_names_file_and_key(tmp_path, change, message):
    data = yaml.safe_load(get_benchmark("coco").source.read_text())
    change(data)
    with pytest.raises(SpecError, match=message):
        get_benchmark(write(tmp_path, data))


def test_data_root(tmp_path, monkeypatch):
    coco = get_benchmark("coco")
    assert coco.data_root(tmp_path) == tmp_path / "coco"
    monkeypatch.setenv("FLAMINGO_EVAL_DATA", str(tmp_path / "env"))
    assert coco.data_root() == tmp_path / "env" / "coco"
    monkeypatch.delenv("FLAMINGO_EVAL_DATA")
    with pytest.raises(SpecError, match="no data folder; pass --data-root or set FLAMINGO_EVAL_DATA"):
        coco.data_root()
