"""Reading the generated files back for the tests, independently of the generator's own data classes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from flamingo_eval.demo.vocab import COLORS, NUMBER_WORDS, SHAPE_PLURALS

SINGULAR = {**{s: s for s in SHAPE_PLURALS}, **{p: s for s, p in SHAPE_PLURALS.items()}}
COUNT_OF = {"a": 1, "an": 1, **{word: n for n, word in NUMBER_WORDS.items()}}
# "<count> [size] <colour> <shape>" anywhere in a caption
_GROUP = re.compile(r"\b(a|an|one|two|three|four) (?:(?:small|large|big|little) )?(" + "|".join(COLORS) + r") (\w+)")


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def caption_groups(caption: str) -> set[tuple[int, str, str]]:
    """{(count, colour, shape)} a canonical caption names ("Two red circles and a blue star.")."""
    return {(COUNT_OF[n], color, SINGULAR[shape]) for n, color, shape in _GROUP.findall(caption.lower())}


def vqa_split(folder: Path, prefix: str, split: str) -> list[dict[str, Any]]:
    """A VQA split's questions, each merged with its annotation."""
    questions = load(folder / f"{prefix}_{split}_questions.json")["questions"]
    annotations = {a["question_id"]: a for a in load(folder / f"{prefix}_{split}_annotations.json")["annotations"]}
    return [{**q, **annotations[q["question_id"]]} for q in questions]


def object_mask(frame: np.ndarray) -> np.ndarray:
    """Pixels of the object: saturated (the fill) or dark (the outline), unlike the grey background."""
    pixels = frame.astype(np.int16)
    return (pixels.max(axis=2) - pixels.min(axis=2) > 60) | (pixels.max(axis=2) < 100)


def centroid(frame: np.ndarray) -> tuple[float, float]:
    """(x, y) of the object's pixels."""
    ys, xs = np.nonzero(object_mask(frame))
    return float(xs.mean()), float(ys.mean())


def fill_color(frame: np.ndarray) -> np.ndarray:
    """The mean RGB of the object's saturated pixels."""
    pixels = frame.astype(np.int16)
    fill = pixels.max(axis=2) - pixels.min(axis=2) > 60
    return pixels[fill].mean(axis=0)
