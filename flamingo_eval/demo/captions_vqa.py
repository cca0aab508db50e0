"""Write ``demo_captions`` (Karpathy format) and ``demo_vqa`` (VQAv2 format) over the same scenes.

Like COCO and VQAv2, the two benchmarks show the same images: each scene is drawn and encoded once and
its JPEG bytes are written into both folders (each benchmark folder stays self-contained). Layout::

    demo_captions/dataset_demo.json                      {"images": [...], "dataset": "demo"}
    demo_captions/images/<split>/demo_<split>_<id:06d>.jpg
    demo_captions/scenes.json                            every image's scene, as data
    demo_vqa/demo_vqa_<split>_questions.json             data_subtype "demo<split>"
    demo_vqa/demo_vqa_<split>_annotations.json
    demo_vqa/images/demo<split>/COCO_demo<split>_<id:012d>.jpg
    demo_vqa/scenes.json                                 the same scenes

Image ids run from 1 over the splits in order (train, val, test), so no id is in two splits; question
ids are ``image_id * 10 + k`` for the image's k-th question.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .captions import captions, tokens
from .draw import jpeg_bytes, render
from .files import annotation_record, question_record, vqa_image_path, write_bytes, write_json, write_vqa_split
from .questions import scene_questions
from .scenes import sample_scene
from .seeding import item_np_rng, item_rng

SCENE_SPLITS = ("train", "val", "test")
KARPATHY_FILE = "dataset_demo.json"
VQA_PREFIX = "demo_vqa"
SCENES_FILE = "scenes.json"
QUESTION_ID_STRIDE = 10  # question id = image id * stride + question number (at most 3 per image)


def caption_image_name(split: str, image_id: int) -> str:
    """A captions image's path under ``demo_captions/images``: ``<split>/demo_<split>_<id:06d>.jpg``."""
    return f"{split}/demo_{split}_{image_id:06d}.jpg"


def write_captions_and_vqa(captions_dir: Path, vqa_dir: Path, *, seed: int, counts: Mapping[str, int]) -> None:
    """Generate ``counts[split]`` scenes per split (train, val, test) and write both benchmarks.

    In: the two output folders, the suite's seed, the number of images per split. Out: files only.
    Scene k of a split depends only on (seed, split, k).
    """
    karpathy: list[dict[str, Any]] = []
    scenes: list[dict[str, Any]] = []
    image_id = 1
    for split in SCENE_SPLITS:
        questions: list[dict[str, Any]] = []
        annotations: list[dict[str, Any]] = []
        yes_no_asked = 0  # alternates the yes/no answers so a split has as many "yes" as "no"
        for index in range(counts[split]):
            rng = item_rng(seed, "scene", split, index)
            scene = sample_scene(rng)
            data = jpeg_bytes(render(scene.objects, item_np_rng(seed, "scene", split, index)))
            name = caption_image_name(split, image_id)
            write_bytes(captions_dir / "images" / name, data)
            write_bytes(vqa_image_path(vqa_dir, split, image_id), data)
            folder, filename = name.split("/")
            sentences = [{"raw": raw, "tokens": tokens(raw)} for raw in captions(scene, rng)]
            karpathy.append({"filepath": folder, "filename": filename, "imgid": len(karpathy), "cocoid": image_id,
                             "split": split, "sentences": sentences})
            for number, q in enumerate(scene_questions(scene, rng, want_yes=yes_no_asked % 2 == 0)):
                question_id = image_id * QUESTION_ID_STRIDE + number
                questions.append(question_record(image_id, question_id, q.question))
                annotations.append(annotation_record(image_id, question_id, q.question_type, q.answer_type,
                                                     q.answer, q.answers))
                yes_no_asked += q.kind == "yesno"
            scenes.append({"image_id": image_id, "split": split, **scene.to_json()})
            image_id += 1
        write_vqa_split(vqa_dir, VQA_PREFIX, split, questions, annotations)
    write_json(captions_dir / KARPATHY_FILE, {"images": karpathy, "dataset": "demo"})
    for folder in (captions_dir, vqa_dir):
        write_json(folder / SCENES_FILE, {"images": scenes})
