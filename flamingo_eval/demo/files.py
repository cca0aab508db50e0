"""Writing the demo files: JSON with a fixed layout, raw bytes, and the VQAv2-format records and file
names that ``demo_vqa`` and ``demo_binding`` share.

JSON is written with a fixed key order and separators, so the same content gives the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

VQA_ANSWER_CONFIDENCE = "yes"  # VQAv2 annotators' self-reported confidence; the demo annotators are sure


def write_json(path: Path, data: Any) -> Path:
    """Write ``data`` as compact UTF-8 JSON (keys in insertion order), making parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return path


def write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path``, making parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def vqa_subtype(split: str) -> str:
    """The VQA ``data_subtype`` of a demo split ("train" -> "demotrain"), which names its image folder."""
    return f"demo{split}"


def vqa_image_path(folder: Path, split: str, image_id: int) -> Path:
    """Where a VQA-format image lives: ``folder/images/demo<split>/COCO_demo<split>_<id:012d>.jpg``,
    the name the ``vqa`` reader's default pattern builds from the subtype."""
    subtype = vqa_subtype(split)
    return folder / "images" / subtype / f"COCO_{subtype}_{image_id:012d}.jpg"


def vqa_file_names(prefix: str, split: str) -> tuple[str, str]:
    """(questions file, annotations file) names of a split: ``<prefix>_<split>_questions.json``, ..."""
    return f"{prefix}_{split}_questions.json", f"{prefix}_{split}_annotations.json"


def question_record(image_id: int, question_id: int, question: str) -> dict[str, Any]:
    """One entry of a VQAv2 questions file."""
    return {"image_id": image_id, "question": question, "question_id": question_id}


def annotation_record(
    image_id: int, question_id: int, question_type: str, answer_type: str, answer: str, answers: Sequence[str]
) -> dict[str, Any]:
    """One entry of a VQAv2 annotations file: ``answer`` is the majority (multiple choice) answer,
    ``answers`` the annotators' answers in order (answer ids 1..n)."""
    return {
        "question_id": question_id,
        "image_id": image_id,
        "question_type": question_type,
        "answer_type": answer_type,
        "multiple_choice_answer": answer,
        "answers": [{"answer": a, "answer_confidence": VQA_ANSWER_CONFIDENCE, "answer_id": i + 1}
                    for i, a in enumerate(answers)],
    }


def write_vqa_split(
    folder: Path, prefix: str, split: str, questions: list[dict[str, Any]], annotations: list[dict[str, Any]]
) -> None:
    """Write a split's VQAv2 questions and annotations files into ``folder``."""
    q_name, a_name = vqa_file_names(prefix, split)
    write_json(folder / q_name, {"data_subtype": vqa_subtype(split), "questions": questions})
    write_json(folder / a_name, {"annotations": annotations})
