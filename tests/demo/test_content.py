"""The files say what the pixels show: captions agree with the VQA answers of the same image, and a
video's decoded frames show the stated movement, colour change or appearance."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from flamingo_eval.data.media import sample_video_frames
from flamingo_eval.demo.vocab import COLORS, POSITION_PHRASES, SHAPE_PLURALS

from .helpers import caption_groups, centroid, fill_color, load, object_mask, vqa_split

MIN_TRAVEL = 60  # pixels a moving object's centroid must cover between the first and last sampled frame


def test_captions_state_the_same_facts(demo_root: Path) -> None:
    for image in load(demo_root / "demo_captions" / "dataset_demo.json")["images"]:
        sentences = [s["raw"] for s in image["sentences"]]
        assert len(sentences) == 5 and len(set(sentences)) == 5
        groups = caption_groups(sentences[0])
        assert groups and sum(count for count, _, _ in groups) <= 4
        for raw in sentences:
            words = set(re.findall(r"[a-z]+", raw.lower()))
            for count, color, shape in groups:
                assert color in words and (shape in words or SHAPE_PLURALS[shape] in words), raw


def test_captions_agree_with_vqa_answers(demo_root: Path) -> None:
    karpathy = load(demo_root / "demo_captions" / "dataset_demo.json")["images"]
    captions = {image["cocoid"]: image["sentences"][0]["raw"] for image in karpathy}
    checked = set()
    for split in ("train", "val", "test"):
        for q in vqa_split(demo_root / "demo_vqa", "demo_vqa", split):
            caption, answer, text = captions[q["image_id"]], q["multiple_choice_answer"], q["question"]
            groups = caption_groups(caption)
            if match := re.fullmatch(r"What color (?:is|are) the (\w+)\?", text):
                assert answer in {c for _, c, s in groups if match[1] in (s, SHAPE_PLURALS[s])}, (caption, text)
            elif match := re.fullmatch(r"What shape (?:is|are) the (\w+) objects?\?", text):
                assert answer in {s for _, c, s in groups if c == match[1]}, (caption, text)
            elif text == "How many objects are there?":
                assert int(answer) == sum(n for n, _, _ in groups), (caption, text)
            elif match := re.fullmatch(r"How many (\w+) are there\?", text):
                assert int(answer) in {n for n, _, s in groups if SHAPE_PLURALS[s] == match[1]}, (caption, text)
            elif match := re.fullmatch(r"Is there an? (\w+) (\w+)\?", text):
                assert answer == ("yes" if any((c, s) == (match[1], match[2]) for _, c, s in groups) else "no")
            elif re.fullmatch(r"Where is the \w+\?", text):
                assert POSITION_PHRASES[answer] in caption, (caption, text)
            elif re.fullmatch(r"What size is the \w+\?", text):
                assert f" {answer} " in caption, (caption, text)
            else:
                raise AssertionError(f"unexpected question {text!r}")
            checked.add(q["answer_type"])
    assert checked == {"yes/no", "number", "other"}


def _nearest_color(rgb: np.ndarray) -> str:
    return min(COLORS, key=lambda name: float(np.sum((np.array(COLORS[name]) - rgb) ** 2)))


def _expected_video_answer(fact: dict, question: str) -> str:
    """What a video question should answer, from the video's recorded content."""
    if question.startswith("Which way"):
        return fact["direction"]
    if question.startswith("What color does"):
        return fact["new_color"]
    if question.startswith("What shape"):
        return fact["shape"]
    assert question.startswith("What color is"), question  # the moving / appearing / initial colour
    return fact["color"]


def test_videos_show_what_the_answers_say(demo_root: Path) -> None:
    folder = demo_root / "demo_video_qa"
    facts = {v["video_id"]: v for v in load(folder / "videos.json")["videos"]}
    for split in ("train", "val", "test"):
        for record in load(folder / f"{split}_qa.json"):
            fact = facts[record["video_id"]]
            assert record["answer"] == _expected_video_answer(fact, record["question"]), (fact, record)
    seen = set()
    for video_id, fact in facts.items():
        frames = [np.asarray(f) for f in sample_video_frames(folder / "videos" / f"video{video_id}.mp4", fps=1.0)]
        assert len(frames) == 4 and frames[0].shape == (224, 224, 3)
        seen.add(fact["event"])
        if fact["event"] == "move":
            (x0, y0), (x1, y1) = centroid(frames[0]), centroid(frames[-1])
            dx, dy = x1 - x0, y1 - y0
            along, across = {"left": (-dx, dy), "right": (dx, dy), "up": (-dy, dx), "down": (dy, dx)}[fact["direction"]]
            assert along > MIN_TRAVEL and abs(across) < 3, (video_id, fact, dx, dy)
            assert _nearest_color(fill_color(frames[0])) == fact["color"]
        elif fact["event"] == "recolor":
            assert _nearest_color(fill_color(frames[0])) == fact["color"]
            assert _nearest_color(fill_color(frames[-1])) == fact["new_color"]
        else:  # appear: nothing in the first sampled frame, the object in the last
            assert object_mask(frames[0]).sum() < 20 and object_mask(frames[-1]).sum() > 300
            assert _nearest_color(fill_color(frames[-1])) == fact["color"]
    assert seen == {"move", "recolor", "appear"}
