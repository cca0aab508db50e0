"""Write ``demo_binding``: fast concept binding with made-up names (Frozen, arXiv 2106.13884).

Every image shows one object of a *kind*, a (shape, colour) pair; the question is always "What is
this?" and the answer the kind's made-up name ("dax"). A model can only answer a test query by binding
the names its demonstrations give to what they show: the test names are never used anywhere else.

Splits (VQAv2 format, ``demo_binding_<split>_{questions,annotations}.json``, images
``images/demo<split>/COCO_demo<split>_<id:012d>.jpg``):

- ``train``: all kinds but the four held out below, each with its own train name, used consistently
  (training recipes that re-assign names per sequence read the kinds from ``kinds.json``);
- ``val``: two held-out kinds with two held-out names (for validating binding while training);
- ``testpool`` / ``test``: two other held-out kinds with two other held-out names; ``testpool`` is the
  test benchmark's demonstration pool, ``test`` its queries (different images of the same two kinds).

The two kinds of val and of test differ in both shape and colour, so they are visually obvious; both
kinds appear equally often in every split. Images vary in size, position, a slight colour jitter and
noise. ``kinds.json`` lists, per split, each kind's id, shape, colour, name and image ids.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .draw import jpeg_bytes, render
from .files import annotation_record, question_record, vqa_image_path, write_bytes, write_json, write_vqa_split
from .questions import ANSWERS_PER_QUESTION
from .scenes import EDGE_MARGIN, IMAGE_SIZE, SceneObject
from .seeding import item_np_rng, item_rng
from .vocab import COLOR_NAMES, COLORS, NONSENSE_NAMES, SHAPES

BINDING_SPLITS = ("train", "val", "testpool", "test")
BINDING_PREFIX = "demo_binding"
KINDS_FILE = "kinds.json"
QUESTION = "What is this?"
RADIUS_RANGE = (18, 48)  # object radius in pixels, from small to large
COLOR_JITTER = 12  # each RGB channel of the fill moves up to this much from the colour's value
QUESTION_ID_STRIDE = 10  # question id = image id * stride (one question per image)


@dataclass(frozen=True)
class Kind:
    kind_id: int  # stable over seeds: SHAPES index * len(COLORS) + COLORS index
    shape: str
    color: str
    name: str  # the made-up word that answers "What is this?"


def all_kinds() -> list[tuple[str, str]]:
    """Every (shape, colour) pair, in kind-id order."""
    return [(shape, color) for shape in SHAPES for color in COLOR_NAMES]


def assign_kinds(seed: int) -> dict[str, list[Kind]]:
    """The kinds (with names) of each split: two held-out kinds for val, two for testpool/test (the
    same two), the rest for train. Names are the seed's shuffle of ``NONSENSE_NAMES`` dealt out test
    first, so test and val names are never train names."""
    rng = item_rng(seed, "binding", "kinds")
    pairs = all_kinds()
    names = list(NONSENSE_NAMES)
    rng.shuffle(names)
    if len(names) < len(pairs):
        raise ValueError(f"need {len(pairs)} made-up names, have {len(names)}")
    test = _distinct_pair(rng, pairs, taken=set())
    val = _distinct_pair(rng, pairs, taken=set(test))
    train = [p for p in pairs if p not in test and p not in val]
    ordered = test + val + train  # names are dealt in this order

    def kind(pair: tuple[str, str]) -> Kind:
        return Kind(pairs.index(pair), pair[0], pair[1], names[ordered.index(pair)])

    test_kinds = [kind(p) for p in test]
    return {"train": [kind(p) for p in train], "val": [kind(p) for p in val],
            "testpool": test_kinds, "test": test_kinds}


def _distinct_pair(
    rng: random.Random, pairs: list[tuple[str, str]], taken: set[tuple[str, str]]
) -> list[tuple[str, str]]:
    """Two kinds not in ``taken`` that differ in shape and in colour, in kind-id order."""
    first = rng.choice([p for p in pairs if p not in taken])
    second = rng.choice([p for p in pairs if p not in taken and p[0] != first[0] and p[1] != first[1]])
    return sorted([first, second], key=pairs.index)


def binding_object(kind: Kind, rng: random.Random) -> SceneObject:
    """One object of ``kind`` at a random size and place, its colour slightly jittered."""
    radius = rng.randint(*RADIUS_RANGE)
    low, high = radius + EDGE_MARGIN, IMAGE_SIZE - radius - EDGE_MARGIN
    center = (rng.randint(low, high), rng.randint(low, high))
    r, g, b = (min(255, max(0, c + rng.randint(-COLOR_JITTER, COLOR_JITTER))) for c in COLORS[kind.color])
    return SceneObject(kind.shape, kind.color, center, radius, (r, g, b))


def write_binding(folder: Path, *, seed: int, counts: Mapping[str, int]) -> None:
    """Generate ``counts[split]`` images per split (train, val, testpool, test) and write the benchmark.

    In: the output folder, the suite's seed, the images per split. Out: files only. Image k of a split
    shows kind ``k % len(kinds)`` of that split (so kinds are balanced) and depends only on
    (seed, split, k). Image ids run from 1 over the splits in order.
    """
    kinds = assign_kinds(seed)
    listing: dict[str, list[dict[str, Any]]] = {}
    image_id = 1
    for split in BINDING_SPLITS:
        split_kinds = kinds[split]
        images_of: dict[int, list[int]] = {k.kind_id: [] for k in split_kinds}
        questions: list[dict[str, Any]] = []
        annotations: list[dict[str, Any]] = []
        for index in range(counts[split]):
            kind = split_kinds[index % len(split_kinds)]
            obj = binding_object(kind, item_rng(seed, "binding", split, index))
            image = render([obj], item_np_rng(seed, "binding", split, index))
            write_bytes(vqa_image_path(folder, split, image_id), jpeg_bytes(image))
            question_id = image_id * QUESTION_ID_STRIDE
            questions.append(question_record(image_id, question_id, QUESTION))
            # question_type carries the kind ("red circle") so results can be broken down by it
            annotations.append(annotation_record(image_id, question_id, f"{kind.color} {kind.shape}", "other",
                                                 kind.name, [kind.name] * ANSWERS_PER_QUESTION))
            images_of[kind.kind_id].append(image_id)
            image_id += 1
        write_vqa_split(folder, BINDING_PREFIX, split, questions, annotations)
        listing[split] = [{"kind_id": k.kind_id, "shape": k.shape, "color": k.color, "name": k.name,
                           "image_ids": images_of[k.kind_id]} for k in split_kinds]
    write_json(folder / KINDS_FILE, {"splits": listing})
