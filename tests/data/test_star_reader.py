"""The STAR reader on a fixture in the released format (STAR_*.json beside Charades mp4 files, written
with PyAV): fields, the clip's bounds, unanswered test files, and every bad record named."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from flamingo_eval.data.example import MediaRef
from flamingo_eval.data.formats import Problems, read_examples
from flamingo_eval.errors import DataError

from .fixtures import write_json, write_video


def star_record(question_id: str, video_id: str, answer: str | None, start: float = 0.0, end: float = 1.5,
                question: str = "Which object was taken by the person?") -> dict:
    """One STAR question in the released shape (choices listed out of choice_id order, as a check)."""
    choices = ["The clothes.", "The closet/cabinet.", "The blanket.", "The bag."]
    record = {"question_id": question_id, "question": question, "video_id": video_id, "start": start, "end": end,
              "choices": [{"choice_id": i, "choice": c} for i, c in reversed(list(enumerate(choices)))],
              "situations": {"000199": {"rel_pairs": [["o000", "o001"]], "actions": ["a077"]}}}  # ignored
    if answer is not None:
        record["answer"] = answer
    return record


def star(root: Path, name: str = "STAR_val.json", records: list | None = None) -> dict:
    """A STAR split file and its Charades videos; returns the split entry."""
    records = [
        star_record("Interaction_T1_13", "6H78U", "The clothes.", 0.5, 1.5),
        star_record("Sequence_T2_40", "6H78U", "The blanket.", 0.0, 1.0),
        star_record("Prediction_T3_7", "YSKX3", "The bag."),
    ] if records is None else records
    for record in records:
        write_video(root / "Charades_v1_480" / f"{record['video_id']}.mp4")
    write_json(root / name, records)
    return {"annotations": name, "videos": "Charades_v1_480"}


def test_star_fields(tmp_path: Path) -> None:
    examples = read_examples("star", tmp_path, star(tmp_path))
    assert [ex.id for ex in examples] == ["Interaction_T1_13", "Sequence_T2_40", "Prediction_T3_7"]
    ex = examples[1]
    assert ex.question == "Which object was taken by the person?"
    assert ex.options == ("The clothes.", "The closet/cabinet.", "The blanket.", "The bag.")  # by choice_id
    assert ex.answer_index == 2 and ex.target == "The blanket." and ex.references == ("The blanket.",)
    # the clip's bounds travel with the media reference, so frames come from the clip only
    assert ex.media == (MediaRef(tmp_path / "Charades_v1_480/6H78U.mp4", "video", start=0.0, end=1.0),)
    assert ex.meta == {"video_id": "6H78U", "start": 0.0, "end": 1.0, "type": "Sequence"}
    assert examples[0].answer_index == 0 and examples[2].answer_index == 3


def test_star_test_file_without_answers_is_unscored(tmp_path: Path) -> None:
    records = [star_record("Feasibility_T4_1", "6H78U", None), star_record("Feasibility_T4_2", "YSKX3", None)]
    examples = read_examples("star", tmp_path, star(tmp_path, "STAR_test.json", records))
    assert all(ex.answer_index is None and ex.target is None and ex.references == () for ex in examples)
    assert all(len(ex.options) == 4 for ex in examples)


def test_star_video_ext(tmp_path: Path) -> None:
    entry = star(tmp_path)
    for path in (tmp_path / "Charades_v1_480").iterdir():
        path.rename(path.with_suffix(".webm"))
    assert read_examples("star", tmp_path, entry | {"video_ext": ".webm"})[0].media[0].path.suffix == ".webm"


def _set(index: int, key: str, value) -> Callable[[list], None]:
    """A change that sets ``records[index][key]``."""
    return lambda records: records[index].__setitem__(key, value)


@pytest.mark.parametrize("change,record,message", [
    (_set(1, "answer", "The sofa."), "Sequence_T2_40", r"its answer 'The sofa.' is none of its choices"),
    (lambda r: r[1]["choices"][0].__setitem__("choice", "The blanket."), "Sequence_T2_40",
     r"its answer 'The blanket.' is choices 2 and 3 \(by choice_id order\)"),
    (lambda r: r[1]["choices"][0].__setitem__("choice_id", 1), "Sequence_T2_40", r"choice_id 1 appears twice"),
    (lambda r: r[1]["choices"][1].pop("choice"), "Sequence_T2_40", r"choices\[1\] lacks the field 'choice'"),
    (_set(1, "choices", [{"choice_id": 0, "choice": "The blanket."}]), "Sequence_T2_40",
     r"field 'choices' should be a list of at least two"),
    (_set(1, "start", 1.0), "Sequence_T2_40", r"its clip is empty or reversed: start 1.0 s is not before end 1.0 s"),
    (_set(1, "start", 1.2), "Sequence_T2_40", r"its clip is empty or reversed: start 1.2 s is not before end 1.0 s"),
    (_set(1, "end", "1.0"), "Sequence_T2_40", r"field 'end' should be a time in seconds .* got '1.0'"),
    (_set(1, "start", -1), "Sequence_T2_40", r"field 'start' should be a time in seconds"),
    (lambda r: r[1].pop("answer"), "Sequence_T2_40", r"lacks the field 'answer'"),  # the others are answered
    (_set(1, "question", "Which <image> is it?"), "Sequence_T2_40",
     r"its question holds the model's control token '<image>'"),
    (lambda r: r[1]["choices"][2].__setitem__("choice", "a<|endofchunk|>"), "Sequence_T2_40",
     r"its options\[1\] holds the model's control token '<\|endofchunk\|>'"),
    (_set(1, "video_id", "GONE1"), "Sequence_T2_40", r"video file not found: .*GONE1.mp4"),
    (_set(1, "question_id", "Interaction_T1_13"), "Interaction_T1_13", r"this id appears twice"),
], ids=["answer-not-a-choice", "answer-twice", "duplicate-choice-id", "choice-without-text", "one-choice",
        "start-equals-end", "start-after-end", "end-as-text", "negative-start", "answer-missing", "image-token",
        "chunk-token-in-choice", "missing-video", "duplicate-question-id"])
def test_star_bad_records(tmp_path: Path, change, record, message) -> None:
    entry = star(tmp_path)
    path = tmp_path / "STAR_val.json"
    records = json.loads(path.read_text())
    change(records)
    write_json(path, records)
    with pytest.raises(DataError, match=rf"STAR_val.json: record {record}: {message}"):
        read_examples("star", tmp_path, entry)
    problems = Problems(skip=True)
    assert len(read_examples("star", tmp_path, entry, problems)) == 2
    assert [(s.file, s.id) for s in problems.skipped] == [(str(path), record)]


def test_star_file_faults(tmp_path: Path) -> None:
    entry = star(tmp_path)
    write_json(tmp_path / "STAR_val.json", {"questions": []})
    with pytest.raises(DataError, match=r"STAR_val.json does not look right: expected a JSON list of STAR questions"):
        read_examples("star", tmp_path, entry, Problems(skip=True))
    with pytest.raises(DataError, match=r"STAR_train.json not found"):
        read_examples("star", tmp_path, entry | {"annotations": "STAR_train.json"})
