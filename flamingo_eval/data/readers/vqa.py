"""Image question answering: formats ``vqa`` (VQAv2, OK-VQA official files), ``textvqa`` and
``vizwiz``. One example per question; references are all annotators' answers, repeats kept, in file
order (the VQA accuracy counts how many annotators gave the prediction)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ...errors import DataError
from ..example import Example, MediaRef
from ..formats import Problems, entry_path, register_format
from ._common import (
    MediaFiles,
    RecordError,
    collect,
    flag,
    format_pattern,
    ident,
    json_kind,
    label,
    labelled,
    load_json,
    mapping_of,
    optional_text,
    setting,
    split_names,
    text,
    texts,
)

# how the official VQA image files are named, e.g. COCO_val2014_000000393225.jpg
VQA_IMAGE_PATTERN = "COCO_{subtype}_{image_id:012d}.jpg"
_TWICE = object()  # marks a question id that two annotations claim
ANNOTATION_TEXTS = ("answer_type", "question_type", "multiple_choice_answer")  # optional; results group by them


@register_format("vqa")
def read_vqa(root: Path, entry: dict[str, Any], problems: Problems) -> list[Example]:
    """Read VQAv2 / OK-VQA questions, joined to their annotations on ``question_id``.

    Entry keys:
      ``questions``: the questions JSON, ``{"data_subtype": "val2014", "questions": [{"image_id",
          "question", "question_id"}]}``;
      ``annotations`` (optional: absent for test-dev / test, whose answers are not public): the
          annotations JSON, ``{"annotations": [{"question_id", "image_id", "question_type",
          "answer_type", "answers": [{"answer", ...}], "multiple_choice_answer"}]}``;
      ``images``: the image folder;
      ``image_subtype`` (optional): replaces the questions file's ``data_subtype`` in image names;
      ``image_pattern`` (optional): the image file name, a format string with ``{subtype}`` and
          ``{image_id}``; default ``COCO_{subtype}_{image_id:012d}.jpg``.
    Out: id = question_id; target = the first annotator's answer; references = all answers;
    meta = image_id, and with annotations answer_type, question_type, multiple_choice_answer.
    Without annotations target is None and references are empty. A question whose annotation is
    missing, and an annotation whose question is missing (when annotations are given), are record
    problems of the annotations file: nothing is dropped silently.
    """
    q_file = entry_path(root, entry, "questions")
    images = entry_path(root, entry, "images")
    q_data = load_json(q_file)
    questions = mapping_of(q_data, q_file, "questions")
    subtype = entry.get("image_subtype", q_data.get("data_subtype"))
    pattern = setting(entry, "image_pattern", VQA_IMAGE_PATTERN)
    if subtype is None and "{subtype" in pattern:
        raise DataError(f"{q_file} has no data_subtype to name images by; set image_subtype in the data entry")
    a_file = entry_path(root, entry, "annotations") if "annotations" in entry else None
    answers = _index_annotations(a_file, problems) if a_file is not None else None
    media = MediaFiles()

    def parse(record: Mapping[str, Any]) -> list[Example]:
        question_id = ident(record, "question_id")
        question = text(record, "question")
        ident(record, "image_id")  # a number or text; anything else cannot name an image
        image_id = record["image_id"]  # kept as given: the pattern may format it as a number
        name = format_pattern(pattern, "image_pattern", subtype=subtype, image_id=image_id)
        image = media.ref(images / name, "image")
        meta: dict[str, Any] = {"image_id": image_id}
        references: tuple[str, ...] = ()
        if answers is not None:
            annotation = answers.get(question_id)
            if annotation is None:
                raise RecordError("has no annotation (no entry with this question_id)", file=a_file)
            if annotation is _TWICE:
                raise RecordError("has more than one annotation", file=a_file)
            given = annotation.get("image_id", image_id)
            if given != image_id or type(given) is not type(image_id):  # True == 1 in Python, not in the file
                raise RecordError(f"annotation's image_id {annotation['image_id']} differs from the question's "
                                  f"{image_id} in {q_file}", file=a_file)
            try:
                references = _answer_texts(annotation)
                meta.update({key: optional_text(annotation, key) for key in ANNOTATION_TEXTS})
            except RecordError as err:  # the fault is in the annotation: name its file
                raise RecordError(str(err), file=a_file) from None
        return [_vqa_example(question_id, image, question, references, meta)]

    # the answers come from the annotations file: a control token in them is that file's fault
    answer_file = {"target": a_file, "references": a_file} if a_file is not None else None
    examples = collect(q_file, labelled(questions, ("question_id",)), parse, problems, field_files=answer_file)
    if answers is not None:
        asked = {label(record, ("question_id",), i) for i, record in enumerate(questions)}
        for question_id in answers:
            if question_id not in asked:
                problems.report(a_file, question_id, f"annotation without a question: {q_file} has no question with "
                                                     "this question_id")
    return examples


def _index_annotations(file: Path, problems: Problems) -> dict[str, Any]:
    """``{question_id (text): annotation}`` of a VQA annotations file; ids claimed twice map to _TWICE.

    An annotation without a question id cannot be joined to any question: a record problem.
    """
    index: dict[str, Any] = {}
    for position, annotation in enumerate(mapping_of(load_json(file), file, "annotations")):
        if not isinstance(annotation, Mapping):
            problems.report(file, f"#{position}", f"is not a JSON object: {annotation!r}")
            continue
        question_id = annotation.get("question_id")
        if isinstance(question_id, bool) or not isinstance(question_id, (int, str)) or question_id == "":
            problems.report(file, f"#{position}", f"annotation without a usable question_id (got {question_id!r}); "
                                                  "cannot join it to a question")
            continue
        question_id = str(question_id)  # questions' ids are compared as text too
        index[question_id] = _TWICE if question_id in index else annotation
    return index


def _answer_texts(annotation: Mapping[str, Any]) -> tuple[str, ...]:
    """The annotators' answers ``answers[i]["answer"]``, in file order with repeats."""
    answers = annotation.get("answers")
    if not isinstance(answers, list) or not answers:
        raise RecordError("has no answers (field 'answers' missing or empty)")
    if not all(isinstance(a, Mapping) for a in answers):
        raise RecordError(f"field 'answers' should hold JSON objects, got {answers!r}")
    return tuple(text(a, "answer", allow_empty=True) for a in answers)


@register_format("textvqa")
def read_textvqa(root: Path, entry: dict[str, Any], problems: Problems) -> list[Example]:
    """Read TextVQA questions.

    Entry keys:
      ``annotations``: the TextVQA JSON, ``{"data": [{"question_id", "question", "image_id",
          "answers": [10 strings], "image_classes"?, "set_name"?, ...}]}``;
      ``images``: the image folder (train_images holds the train and val images);
      ``image_pattern`` (optional): the image file name, a format string with ``{image_id}``;
          default ``{image_id}.jpg``;
      ``split`` (optional): keep records whose ``set_name`` is this (or one of these);
      ``has_answers`` (optional, default true): false for the test file, which has no answers.
    Out: id = question_id; target = answers[0]; references = the answers in file order;
    meta = image_id, image_classes, set_name.
    """
    file = entry_path(root, entry, "annotations")
    images = entry_path(root, entry, "images")
    pattern = setting(entry, "image_pattern", "{image_id}.jpg")
    splits = split_names(entry)
    with_answers = flag(entry, "has_answers", True)
    records = mapping_of(load_json(file), file, "data")
    media = MediaFiles()

    def parse(record: Mapping[str, Any]) -> list[Example]:
        if splits is not None and text(record, "set_name") not in splits:
            return []
        question_id = ident(record, "question_id")
        question = text(record, "question")
        image_id = ident(record, "image_id")  # a hex string such as "003a8ae2ef43b901"
        image = media.ref(images / format_pattern(pattern, "image_pattern", image_id=image_id), "image")
        references = tuple(texts(record.get("answers"), "answers", allow_empty=True)) if with_answers else ()
        meta = {"image_id": image_id, "image_classes": record.get("image_classes"), "set_name": record.get("set_name")}
        return [_vqa_example(question_id, image, question, references, meta)]

    return collect(file, labelled(records, ("question_id",)), parse, problems)


@register_format("vizwiz")
def read_vizwiz(root: Path, entry: dict[str, Any], problems: Problems) -> list[Example]:
    """Read VizWiz VQA annotations.

    Entry keys:
      ``annotations``: the VizWiz JSON, a list of ``{"image": "VizWiz_val_00000000.jpg", "question",
          "answers": [{"answer", "answer_confidence"}], "answer_type", "answerable"}``;
      ``images``: the image folder;
      ``has_answers`` (optional, default true): false for the test file, which has no answers.
    Out: id = the image file name's stem (VizWiz has one question per image and no question id);
    target = answers[0]; references = all answers in file order; meta = answer_type, answerable,
    image.
    """
    file = entry_path(root, entry, "annotations")
    images = entry_path(root, entry, "images")
    with_answers = flag(entry, "has_answers", True)
    records = load_json(file)
    if not isinstance(records, list):
        raise DataError(f"{file} does not look right: expected a JSON list of VizWiz annotations, got {json_kind(records)}")
    media = MediaFiles()

    def parse(record: Mapping[str, Any]) -> list[Example]:
        image_name = text(record, "image")
        question = text(record, "question")
        image = media.ref(images / image_name, "image")
        references = _answer_texts(record) if with_answers else ()
        meta = {"image": image_name, "answer_type": optional_text(record, "answer_type"), "answerable": record.get("answerable")}
        return [_vqa_example(Path(image_name).stem, image, question, references, meta)]

    return collect(file, ((_stem(r, i), r) for i, r in enumerate(records)), parse, problems)


def _stem(record: Any, position: int) -> str:
    """A VizWiz record's id for reports: its image name's stem, or ``#<position>`` without one."""
    name = label(record, ("image",), position)
    return name if name.startswith("#") else Path(name).stem


def _vqa_example(example_id: str, image: MediaRef, question: str, references: tuple[str, ...], meta: dict) -> Example:
    """A VQA example: the first annotator's answer is what a demonstration shows (as OpenFlamingo)."""
    return Example(
        id=example_id, media=(image,), question=question,
        target=references[0] if references else None, references=references, meta=meta,
    )
