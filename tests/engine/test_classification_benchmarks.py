"""The three classification / multiple-choice benchmarks end to end through the CLI, with the tiny model
on fixture data in the released formats: hateful_memes (ROC AUC), imagenet (top-1 and top-5 of ranking
every class name), star (multiple choice over video clips)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ..data.fixtures import write_jpeg, write_json, write_video
from ..data.test_classification_readers import write_jsonl, write_png
from ..data.test_star_reader import star_record
from .helpers import COMMON, invoke, predictions

WORDS = ["cat", "dog", "two", "red", "yes", "no"]
CLASSES = ["tench", "goldfish", "shark", "cock", "hen", "ostrich", "finch", "junco", "robin", "jay", "magpie", "kite"]


def write_hateful_memes(root: Path) -> None:
    """train.jsonl (6 memes) and test_seen.jsonl (4: two hateful, two not, so ROC AUC is defined)."""
    for name, first, count, kind in (("train.jsonl", 100, 6, "meme"), ("test_seen.jsonl", 900, 4, "joke")):
        records = [{"id": first + i, "img": f"img/{first + i}.png", "label": i % 2, "text": f"a {WORDS[i]} {kind}"}
                   for i in range(count)]
        for record in records:
            write_png(root / record["img"], record["id"])
        write_jsonl(root / name, records)


def write_imagenet(root: Path) -> None:
    """12 classes (more than the 10 whose scores a row keeps): one train image each, 4 val images."""
    wnids = [f"n{i:08d}" for i in range(len(CLASSES))]
    for i, wnid in enumerate(wnids):
        write_jpeg(root / "train" / wnid / f"{wnid}_{i}.JPEG", i)
        (root / "val" / wnid).mkdir(parents=True)  # every class has its folder, images or not
    for k, i in enumerate((0, 3, 7, 11)):
        write_jpeg(root / "val" / wnids[i] / f"ILSVRC2012_val_{k:08d}.JPEG", 20 + k, photo="coffee")
    write_json(root / "class_names.json", CLASSES)


def write_star(root: Path) -> None:
    """STAR_train.json (4 questions) and STAR_val.json (4), clips of two Charades videos."""
    answers = ["The clothes.", "The closet/cabinet.", "The blanket.", "The bag."]
    for name, prefix in (("STAR_train.json", "Interaction_T1"), ("STAR_val.json", "Sequence_T2")):
        records = [star_record(f"{prefix}_{i}", f"VID{i % 2}", answers[i], 0.0, 1.0 + i % 2 * 0.5,
                               question=f"What did the person take {name[5:-5]} {i}?") for i in range(4)]
        for record in records:
            write_video(root / "Charades_v1_480" / f"{record['video_id']}.mp4")
        write_json(root / name, records)


WRITERS = {"hateful_memes": write_hateful_memes, "imagenet": write_imagenet, "star": write_star}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Each benchmark run once (shots 0 and 2, one trial), on first use: {name: results folder}."""
    data = tmp_path_factory.mktemp("choice-data")
    done: dict[str, Path] = {}

    def run(name: str) -> Path:
        if name not in done:
            WRITERS[name](data / name)
            out = tmp_path_factory.mktemp("choice-runs") / name
            invoke("run", name, *COMMON, "--shots", "0,2", "--data-root", str(data), "--out", str(out))
            done[name] = out
        return done[name]

    return run


def _metrics(folder: Path) -> dict[tuple[str, int], float]:
    return {(m["metric"], m["shots"]): m["value"] for m in json.loads((folder / "metrics.json").read_text())}


def test_hateful_memes_end_to_end(runs) -> None:
    out = runs("hateful_memes")
    rows = predictions(out)
    assert len(rows) == 4 * 2
    for row in rows:
        assert row["prediction"] in ("no", "yes") and len(row["option_scores"]) == 2
        assert row["answer_rank"] in (0, 1) and row["answer_index"] in (0, 1)
        assert row["prompt"].endswith("is an image with: '" + row["prompt"].rsplit("'", 2)[1] + "' written on it. "
                                      "Is it hateful? Answer:")
        demos = row["prompt"].count("<|endofchunk|>")
        assert demos == (row["shots"] or 2)  # two text-only demonstrations at 0 shots
        assert row["prompt"].count("<image>") == row["shots"] + 1
        assert "<|endofchunk|>\n" not in row["prompt"]  # demonstrations joined with no separator
    metrics = _metrics(out)
    assert {name for name, _ in metrics} == {"roc_auc"}
    assert all(0.0 <= metrics[("roc_auc", shots)] <= 1.0 for shots in (0, 2))


def test_imagenet_end_to_end(runs) -> None:
    out = runs("imagenet")
    rows = predictions(out)
    assert len(rows) == 4 * 2
    for row in rows:
        assert row["prediction"] in CLASSES and row["prompt"].endswith("<image>Output:")
        assert isinstance(row["answer_rank"], int) and 0 <= row["answer_rank"] < len(CLASSES)
        assert "option_scores" not in row and len(row["top_options"]) == 10  # 12 classes: the best 10 kept
    metrics = _metrics(out)
    assert {name for name, _ in metrics} == {"top1_accuracy", "top5_accuracy"}
    for shots in (0, 2):
        top1 = sum(r["answer_rank"] == 0 for r in rows if r["shots"] == shots) / 4
        top5 = sum(r["answer_rank"] < 5 for r in rows if r["shots"] == shots) / 4
        assert (metrics[("top1_accuracy", shots)], metrics[("top5_accuracy", shots)]) == (top1, top5)


def test_star_end_to_end(runs) -> None:
    out = runs("star")
    rows = predictions(out)
    assert len(rows) == 4 * 2
    for row in rows:
        assert len(row["option_scores"]) == 4 and isinstance(row["answer_rank"], int)
        assert row["prompt"].count("<image>") == row["shots"] + 1  # video QA: no text-only demonstrations
    metrics = _metrics(out)
    assert {name for name, _ in metrics} == {"multiple_choice_accuracy"}
    for shots in (0, 2):
        right = sum(r["answer_rank"] == 0 for r in rows if r["shots"] == shots) / 4
        assert metrics[("multiple_choice_accuracy", shots)] == right
