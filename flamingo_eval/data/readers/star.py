"""Format ``star``: STAR, situated reasoning in real-world videos (Wu et al. 2021), multiple-choice
questions about clips of Charades videos. One example per question, showing its clip."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ...errors import DataError
from ..example import Example
from ..formats import Problems, entry_path, register_format
from ._common import (
    MediaFiles,
    RecordError,
    collect,
    field,
    ident,
    integer,
    json_kind,
    labelled,
    load_json,
    setting,
    text,
)


@register_format("star")
def read_star(root: Path, entry: dict[str, Any], problems: Problems) -> list[Example]:
    """Read a STAR split: ``STAR_train.json``, ``STAR_val.json`` or ``STAR_test.json``, a JSON list of
    ``{"question_id": "Interaction_T1_13", "question", "video_id": "6H78U", "start": 11.1, "end": 19.6,
    "answer": "The clothes.", "choices": [{"choice_id": 0, "choice": "The closet/cabinet."}, ...]}``
    (other keys, such as ``situations``, are ignored).

    Entry keys: ``annotations`` (the JSON), ``videos`` (the Charades video folder, e.g.
    ``Charades_v1_480``), ``video_ext`` (optional, default ``mp4``): the clip's video is
    ``videos/<video_id>.<video_ext>``.
    A file in which no record has an ``answer`` key (``STAR_test.json``) is unanswered: its examples are
    answered and left unscored. Bad records: an answer that is none of the choices (or more than one of
    them), a choice_id given twice, fewer than two choices, start not before end.
    Out: id = question_id; media = the clip (``MediaRef`` with start and end, in seconds: frames come
    from the clip only); options = the choices' texts ordered by choice_id; answer_index = the index of
    the choice whose text equals ``answer``; target = references[0] = that choice; unanswered:
    answer_index and target None, references (). meta = video_id, start, end, type (the question_id's
    prefix: Interaction, Sequence, Prediction or Feasibility).
    """
    file = entry_path(root, entry, "annotations")
    videos = entry_path(root, entry, "videos")
    ext = setting(entry, "video_ext", "mp4").lstrip(".")
    records = load_json(file)
    if not isinstance(records, list):
        raise DataError(f"{file} does not look right: expected a JSON list of STAR questions, got {json_kind(records)}")
    answered = any(isinstance(record, Mapping) and "answer" in record for record in records)
    media = MediaFiles()

    def parse(record: Mapping[str, Any]) -> list[Example]:
        question_id = ident(record, "question_id")
        question = text(record, "question")
        video_id = ident(record, "video_id")
        start, end = _seconds(record, "start"), _seconds(record, "end")
        if not start < end:
            raise RecordError(f"its clip is empty or reversed: start {start} s is not before end {end} s")
        options = _choices(record)
        answer_index = _answer_index(text(record, "answer"), options) if answered else None
        video = media.ref(videos / f"{video_id}.{ext}", "video")
        clip = dataclasses.replace(video, start=start, end=end)  # frames from the clip only
        target = None if answer_index is None else options[answer_index]
        kind, _, rest = question_id.partition("_")
        meta = {"video_id": video_id, "start": start, "end": end, "type": kind if rest else None}
        return [Example(id=question_id, media=(clip,), question=question, target=target,
                        references=() if target is None else (target,), options=options,
                        answer_index=answer_index, meta=meta)]

    return collect(file, labelled(records, ("question_id",)), parse, problems)


def _seconds(record: Mapping[str, Any], key: str) -> float:
    """A time in the video, in seconds: a finite number, 0 or more."""
    value = field(record, key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise RecordError(f"field {key!r} should be a time in seconds (a number, 0 or more), got {value!r}")
    return float(value)


def _choices(record: Mapping[str, Any]) -> tuple[str, ...]:
    """The choices' texts ordered by their ``choice_id`` (each id once; at least two choices)."""
    choices = field(record, "choices")
    if not isinstance(choices, list) or len(choices) < 2:
        raise RecordError(f"field 'choices' should be a list of at least two {{choice_id, choice}}, got {choices!r}")
    by_id: dict[int, str] = {}
    for position, choice in enumerate(choices):
        if not isinstance(choice, Mapping):
            raise RecordError(f"choices[{position}] is not a JSON object: {choice!r}")
        try:
            choice_id, choice_text = integer(choice, "choice_id"), text(choice, "choice")
        except RecordError as err:
            raise RecordError(f"choices[{position}] {err}") from None
        if choice_id in by_id:
            raise RecordError(f"choice_id {choice_id} appears twice in its choices")
        by_id[choice_id] = choice_text
    return tuple(by_id[choice_id] for choice_id in sorted(by_id))


def _answer_index(answer: str, options: tuple[str, ...]) -> int:
    """The index of the one option whose text is ``answer``, exactly."""
    matches = [index for index, option in enumerate(options) if option == answer]
    if not matches:
        raise RecordError(f"its answer {answer!r} is none of its choices {list(options)}")
    if len(matches) > 1:
        raise RecordError(f"its answer {answer!r} is choices {matches[0]} and {matches[1]} (by choice_id order): "
                          "which one is right is ambiguous")
    return matches[0]
