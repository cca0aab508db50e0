"""The record sites the reader fuzzing mutates: for each reader, a valid fixture in the official format
(written by the reader tests' own builders), the JSON file and record to mutate, and each field's kind
(``cases.MUST_REFUSE`` says what a kind must refuse)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..data.fixtures import write_json, write_video
from ..data.test_classification_readers import hateful
from ..data.test_readers import coco, textvqa, vizwiz, vqa
from ..data.test_star_reader import star
from ..data.test_video_readers import msrvtt, msvd, youcook


@dataclass(frozen=True)
class Site:
    """One record of one reader's file, and how each of its fields may be mutated."""

    name: str
    fmt: str
    build: Callable[[Path], dict]  # writes the fixture under a folder, returns the split entry
    file_key: str  # the entry key of the JSON file whose record is mutated
    record: Callable[[Any], Any]  # the loaded JSON -> the record (a mapping) to mutate
    labels: frozenset[str]  # what a report may call the record (its id, its position, a joined id)
    fields: dict[str, str]  # key path within the record -> kind
    id_fields: tuple[str, ...] = ()  # fields whose new value becomes the record's label
    blamed: str | None = None  # the entry key of the only file a report may name (default: any of them)
    json_lines: bool = False  # the file holds JSON lines (HatefulMemes): loaded as the list of its records

    def files(self, root: Path, entry: dict) -> list[Path]:
        """Every file of the entry a report may name."""
        keys = [self.blamed] if self.blamed else [k for k, v in entry.items() if isinstance(v, str) and k != "split"]
        return [root / entry[key] for key in keys]


def _entry(build: Callable[[Path], Any]) -> Callable[[Path], dict]:
    return lambda root: build(root)[0]


def vatex(root: Path) -> dict:
    write_json(root / "vatex_public_test.json", [
        {"videoID": "Ptf_2VRj-V0_000122_000132", "enCap": ["A man plays a guitar.", "Someone strums."],
         "chCap": ["一个男人在弹吉他。"]},
        {"videoID": "abc_000001_000011", "enCap": ["A dog runs."]},
    ])
    write_video(root / "vatex/Ptf_2VRj-V0_000122_000132.mp4")
    write_video(root / "vatex/abc_000001_000011.mp4")
    return {"annotations": "vatex_public_test.json", "videos": "vatex"}


SITES = [
    Site("karpathy", "karpathy", coco, "annotations", lambda d: d["images"][0], frozenset({"42", "0", "#0"}),
         {"cocoid": "id-fallback", "imgid": "free", "filepath": "optional-name", "filename": "name", "split": "filter",
          "sentences": "all", "sentences[0].raw": "text", "sentences[0].tokens": "free"}, ("cocoid",)),
    Site("vqa-questions", "vqa", vqa, "questions", lambda d: d["questions"][0], frozenset({"1000", "#0"}),
         {"question_id": "id", "question": "text", "image_id": "name"}, ("question_id",)),
    Site("vqa-annotations", "vqa", vqa, "annotations", lambda d: d["annotations"][1], frozenset({"1000", "#1"}),
         {"question_id": "all", "image_id": "optional-join", "answers": "all", "answers[0].answer": "answer",
          "answers[0].answer_confidence": "free", "answer_type": "optional-text", "question_type": "optional-text",
          "multiple_choice_answer": "optional-text"}, ("question_id",),
         blamed="annotations"),  # the questions are fine: every report must name the annotations file
    Site("textvqa", "textvqa", textvqa, "annotations", lambda d: d["data"][0], frozenset({"34602", "#0"}),
         {"question_id": "id", "question": "text", "image_id": "name", "answers": "all", "answers[0]": "answer-item",
          "image_classes": "free", "set_name": "free"}, ("question_id",)),
    Site("vizwiz", "vizwiz", _entry(vizwiz), "annotations", lambda d: d[0], frozenset({"VizWiz_val_00000001", "#0"}),
         {"image": "name", "question": "text", "answers": "all", "answers[0].answer": "answer",
          "answer_type": "optional-text", "answerable": "free"}, ("image",)),
    Site("msrvtt_qa", "msrvtt_qa", msrvtt, "annotations", lambda d: d[1], frozenset({"1", "#1"}),
         {"id": "id", "question": "text", "answer": "text", "video_id": "name", "category_id": "free"}, ("id",)),
    Site("msvd_qa", "msvd_qa", msvd, "annotations", lambda d: d[0], frozenset({"30933", "#0"}),
         {"id": "id", "question": "text", "answer": "text", "video_id": "name"}, ("id",)),
    Site("vatex", "video_captions", vatex, "annotations", lambda d: d[0],
         frozenset({"Ptf_2VRj-V0_000122_000132", "#0"}),
         {"videoID": "name", "enCap": "all", "enCap[0]": "answer-item", "chCap": "free"}, ("videoID",)),
    Site("youcook2-video", "video_captions", youcook, "annotations", lambda d: d["database"]["GLd3aX16zBg"],
         frozenset({"GLd3aX16zBg", "GLd3aX16zBg_0", "GLd3aX16zBg_1"}),
         {"subset": "filter", "recipe_type": "free", "duration": "free", "annotations": "all"}),
    Site("youcook2-segment", "video_captions", youcook, "annotations",
         lambda d: d["database"]["GLd3aX16zBg"]["annotations"][0], frozenset({"GLd3aX16zBg_0", "GLd3aX16zBg_3"}),
         {"segment": "all", "sentence": "text", "id": "free"}),
    Site("star", "star", star, "annotations", lambda d: d[1], frozenset({"Sequence_T2_40", "#1"}),
         {"question_id": "id", "question": "text", "video_id": "name", "start": "seconds", "end": "seconds",
          "answer": "text", "choices": "all", "choices[0].choice": "text", "choices[0].choice_id": "id",
          "situations": "free"}, ("question_id",)),
    Site("hateful_memes", "hateful_memes", hateful, "annotations", lambda d: d[1], frozenset({"23058", "line 2"}),
         {"id": "id", "img": "name", "text": "text", "label": "all"}, ("id",), json_lines=True),
]
