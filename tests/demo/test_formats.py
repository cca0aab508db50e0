"""The demo data is in the official formats: every benchmark loads through the real readers with the
expected counts, splits share nothing, and binding test names are new."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flamingo_eval.benchmark import get_benchmark
from flamingo_eval.data.splits import load_benchmark_data
from flamingo_eval.demo import DEMO_BENCHMARKS
from flamingo_eval.metrics.vqa import vqa_accuracy

from .conftest import TINY
from .helpers import load, vqa_split


def test_every_benchmark_loads_through_its_reader(demo_root: Path) -> None:
    loaded = {name: load_benchmark_data(get_benchmark(name), demo_root) for name in DEMO_BENCHMARKS}
    captions, vqa, binding, video = (loaded[n] for n in DEMO_BENCHMARKS)
    assert (len(captions.pool), len(captions.eval)) == (TINY.scenes_train, TINY.scenes_test)
    assert all(len(e.references) == 5 and e.target == e.references[0] for e in captions.eval)
    # 2-3 questions per image
    assert 2 * TINY.scenes_train <= len(vqa.pool) <= 3 * TINY.scenes_train
    assert 2 * TINY.scenes_test <= len(vqa.eval) <= 3 * TINY.scenes_test
    assert all(len(e.references) == 10 for e in vqa.pool + vqa.eval)
    assert (len(binding.pool), len(binding.eval)) == (TINY.binding_testpool, TINY.binding_test)
    assert (len(video.pool), len(video.eval)) == (2 * TINY.video_train, 2 * TINY.video_test)
    assert all(not data.skipped for data in loaded.values())


def test_specs_follow_openflamingos_settings() -> None:
    specs = {name: get_benchmark(name) for name in DEMO_BENCHMARKS}
    for spec in specs.values():
        assert spec.data.root is None and (spec.generation.num_beams, spec.generation.length_penalty) == (3, 0.0)
    assert [specs[n].data.format for n in DEMO_BENCHMARKS] == ["karpathy", "vqa", "vqa", "msrvtt_qa"]
    assert [specs[n].metric for n in DEMO_BENCHMARKS] == ["cider", "vqa_accuracy", "vqa_accuracy", "exact_match"]
    assert [specs[n].prompt.zero_shot_text_demos for n in DEMO_BENCHMARKS] == [2, 2, 0, 0]
    assert [specs[n].generation.max_new_tokens for n in DEMO_BENCHMARKS] == [20, 5, 5, 5]
    assert specs["demo_video_qa"].data.video.fps == 1.0 and specs["demo_video_qa"].data.video.max_frames == 4


def test_splits_share_no_id_and_no_file(demo_root: Path) -> None:
    karpathy = load(demo_root / "demo_captions" / "dataset_demo.json")["images"]
    by_split: dict[str, set[int]] = {}
    for image in karpathy:
        by_split.setdefault(image["split"], set()).add(image["cocoid"])
    total = TINY.scenes_train + TINY.scenes_val + TINY.scenes_test
    assert sum(len(ids) for ids in by_split.values()) == len(karpathy) == total
    vqa = {s: {q["image_id"] for q in vqa_split(demo_root / "demo_vqa", "demo_vqa", s)}
           for s in ("train", "val", "test")}
    assert vqa == by_split  # the VQA questions are about the same images, split the same way
    binding = {s: {q["image_id"] for q in vqa_split(demo_root / "demo_binding", "demo_binding", s)}
               for s in ("train", "val", "testpool", "test")}
    videos = {s: {r["video_id"] for r in load(demo_root / "demo_video_qa" / f"{s}_qa.json")}
              for s in ("train", "val", "test")}
    for family in (by_split, binding, videos):
        ids = [i for split_ids in family.values() for i in split_ids]
        assert len(ids) == len(set(ids))
    # no two image or video files have the same bytes within a benchmark (demo_vqa repeats demo_captions' images)
    for name in ("demo_captions", "demo_binding", "demo_video_qa"):
        files = [p for p in (demo_root / name).rglob("*") if p.suffix in (".jpg", ".mp4")]
        assert len({hashlib.sha256(p.read_bytes()).digest() for p in files}) == len(files)


def test_vqa_images_are_the_captions_images(demo_root: Path) -> None:
    for image in load(demo_root / "demo_captions" / "dataset_demo.json")["images"]:
        split, image_id = image["split"], image["cocoid"]
        pair = demo_root / "demo_vqa" / "images" / f"demo{split}" / f"COCO_demo{split}_{image_id:012d}.jpg"
        original = demo_root / "demo_captions" / "images" / image["filepath"] / image["filename"]
        assert pair.read_bytes() == original.read_bytes()


def test_binding_names(demo_root: Path) -> None:
    folder = demo_root / "demo_binding"
    answers = {s: [q["multiple_choice_answer"] for q in vqa_split(folder, "demo_binding", s)]
               for s in ("train", "val", "testpool", "test")}
    test_names = set(answers["test"])
    assert len(test_names) == 2 and set(answers["testpool"]) == test_names
    assert not test_names & (set(answers["train"]) | set(answers["val"]))
    assert not set(answers["val"]) & set(answers["train"])
    for split in ("testpool", "test"):  # both kinds equally often
        counts = sorted(answers[split].count(name) for name in test_names)
        assert counts[1] - counts[0] <= 1
    for question in vqa_split(folder, "demo_binding", "test"):
        assert question["question"] == "What is this?" and len(set(a["answer"] for a in question["answers"])) == 1
    kinds = load(folder / "kinds.json")["splits"]
    assert {k["name"] for k in kinds["test"]} == test_names
    assert all((k["shape"], k["color"]) not in {(t["shape"], t["color"]) for t in kinds["test"] + kinds["val"]}
               for k in kinds["train"])
    a, b = kinds["test"]
    assert a["shape"] != b["shape"] and a["color"] != b["color"]
    listed = sorted(i for k in kinds["train"] for i in k["image_ids"])
    assert listed == sorted(q["image_id"] for q in vqa_split(folder, "demo_binding", "train"))


def test_majority_answer_scores_full_vqa_accuracy(demo_root: Path) -> None:
    questions = [q for s in ("train", "val", "test") for q in vqa_split(demo_root / "demo_vqa", "demo_vqa", s)]
    for q in questions:
        answers = [a["answer"] for a in q["answers"]]
        assert answers[0] == q["multiple_choice_answer"] and answers.count(answers[0]) >= 8
        assert vqa_accuracy(q["multiple_choice_answer"], answers) == 1.0
