"""Video question answering: formats ``msrvtt_qa``, ``msvd_qa``, ``ivqa`` and ``nextqa``.
One example per question, showing one video file (frames are sampled later, by ``media``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ...errors import DataError
from ..example import Example
from ..formats import Problems, entry_path, register_format
from ._common import (
    CsvRow,
    MediaFiles,
    RecordError,
    collect,
    format_pattern,
    ident,
    integer,
    json_kind,
    labelled,
    load_csv,
    load_json,
    read_text,
    setting,
    split_names,
    text,
)

NEXTQA_MODES = ("open_ended", "multiple_choice")
NEXTQA_OPTIONS = tuple(f"a{k}" for k in range(5))  # the multiple-choice csv's option columns
IVQA_ANSWERS = tuple(f"answer{k}" for k in range(1, 6))  # five annotators per iVQA question


def _extension(entry: Mapping[str, Any], default: str) -> str:
    """The ``video_ext`` setting without a leading dot ("mp4" and ".mp4" both work)."""
    return setting(entry, "video_ext", default).lstrip(".")


@register_format("msrvtt_qa")
def read_msrvtt_qa(root: Path, entry: dict[str, Any], problems: Problems) -> list[Example]:
    """Read MSRVTT-QA: a JSON list of ``{"question", "answer", "video_id", "id", "category_id"?}``.

    Entry keys: ``annotations`` (the JSON), ``videos`` (the folder), ``video_ext`` (optional,
    default ``mp4``). MSRVTT-QA's ``video_id`` is a number such as 7010, its file
    ``videos/video7010.mp4``.
    Out: id = the record's ``id``; target = the answer; references = (answer,); meta = video_id,
    category_id.
    """
    ext = _extension(entry, "mp4")
    return _read_qa_list(root, entry, problems, lambda video_id: f"video{video_id}.{ext}")


@register_format("msvd_qa")
def read_msvd_qa(root: Path, entry: dict[str, Any], problems: Problems) -> list[Example]:
    """Read MSVD-QA: a JSON list of ``{"question", "answer", "video_id", "id"}``.

    Entry keys: ``annotations`` (the JSON), ``videos`` (the folder), ``mapping`` (MSVD's
    ``youtube_mapping.txt``, lines ``<youtube clip name> vid<N>``), ``video_ext`` (optional, default
    ``avi``). The record's ``video_id`` N names the clip ``vid<N>``, whose file is
    ``videos/<youtube clip name>.avi``.
    Out: as ``msrvtt_qa`` (meta also has the clip name).
    """
    mapping_file = entry_path(root, entry, "mapping")
    clips = _youtube_mapping(mapping_file)
    ext = _extension(entry, "avi")

    def file_name(video_id: str) -> str:
        clip = clips.get(f"vid{video_id}")
        if clip is None:
            raise RecordError(f"its video vid{video_id} is not in {mapping_file}")
        return f"{clip}.{ext}"

    return _read_qa_list(root, entry, problems, file_name, clips=clips)


def _read_qa_list(
    root: Path,
    entry: Mapping[str, Any],
    problems: Problems,
    file_name: Callable[[str], str],
    clips: Mapping[str, str] | None = None,
) -> list[Example]:
    """The reader MSRVTT-QA and MSVD-QA share; ``file_name`` turns a ``video_id`` into a file name."""
    file = entry_path(root, entry, "annotations")
    videos = entry_path(root, entry, "videos")
    records = load_json(file)
    if not isinstance(records, list):
        raise DataError(f"{file} does not look right: expected a JSON list of questions, got {json_kind(records)}")
    media = MediaFiles()

    def parse(record: Mapping[str, Any]) -> list[Example]:
        example_id = ident(record, "id")
        question = text(record, "question")
        answer = text(record, "answer")
        video_id = ident(record, "video_id")
        video = media.ref(videos / file_name(video_id), "video")
        meta: dict[str, Any] = {"video_id": record["video_id"]}
        if "category_id" in record:  # MSRVTT-QA: the question's category (what/who/how/when/where)
            meta["category_id"] = record["category_id"]
        if clips is not None:
            meta["clip"] = clips[f"vid{video_id}"]
        return [Example(id=example_id, media=(video,), question=question, target=answer, references=(answer,), meta=meta)]

    return collect(file, labelled(records, ("id",)), parse, problems)


def _youtube_mapping(path: Path) -> dict[str, str]:
    """``{"vid<N>": "<youtube clip name>"}`` from MSVD's youtube_mapping.txt (``<clip> vid<N>`` lines)."""
    mapping: dict[str, str] = {}
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2 or not parts[1].startswith("vid"):
            raise DataError(f"{path}: line {number} should be '<youtube clip name> vid<N>', got {line!r}")
        clip, vid = parts
        if vid in mapping and mapping[vid] != clip:
            raise DataError(f"{path}: line {number}: {vid} is mapped twice ({mapping[vid]}, {clip})")
        mapping[vid] = clip
    return mapping


@register_format("ivqa")
def read_ivqa(root: Path, entry: dict[str, Any], problems: Problems) -> list[Example]:
    """Read iVQA: a csv with columns ``video_id, start, end, question, answer1..answer5`` (others
    ignored; ``qid`` or ``id`` and ``split`` used when present).

    Entry keys: ``annotations`` (the csv), ``videos`` (the folder), ``video_pattern`` (optional, the
    clip's file name with ``{video_id}``, ``{start}``, ``{end}`` as written in the csv; default
    ``{video_id}_{start}_{end}.mp4``), ``split`` (optional: keep rows whose ``split`` cell is this,
    when the csv has that column).
    Out: id = the ``qid`` (else ``id``) cell, or ``{video_id}_{start}_{end}`` without such a column
    (a clip asked twice is then a record problem); references = the non-empty answers in column
    order, repeats kept; target = the first of them (answer1 when filled); meta = video_id, start, end.
    """
    file = entry_path(root, entry, "annotations")
    videos = entry_path(root, entry, "videos")
    pattern = setting(entry, "video_pattern", "{video_id}_{start}_{end}.mp4")
    columns, rows = load_csv(file, required=("video_id", "start", "end", "question", *IVQA_ANSWERS))
    id_column = next((c for c in ("qid", "id") if c in columns), None)
    splits = split_names(entry) if "split" in columns else None
    media = MediaFiles()

    def parse(row: Mapping[str, Any]) -> list[Example]:
        if splits is not None and text(row, "split").strip() not in splits:
            return []
        video_id, start, end = (text(row, key).strip() for key in ("video_id", "start", "end"))
        example_id = text(row, id_column).strip() if id_column else f"{video_id}_{start}_{end}"
        question = text(row, "question")
        answers = tuple(row[key] for key in IVQA_ANSWERS if row.get(key) and row[key].strip())
        if not answers:
            raise RecordError(f"has no answer ({', '.join(IVQA_ANSWERS)} all empty)")
        name = format_pattern(pattern, "video_pattern", video_id=video_id, start=start, end=end)
        video = media.ref(videos / name, "video")
        meta = {"video_id": video_id, "start": start, "end": end}
        return [Example(id=example_id, media=(video,), question=question, target=answers[0], references=answers, meta=meta)]

    return collect(file, ((_ivqa_label(row, id_column), row) for row in rows), parse, problems)


def _ivqa_label(row: CsvRow, id_column: str | None) -> str:
    """An iVQA row's id for reports (as ``read_ivqa`` builds it), or ``line <n>`` when it has none."""
    return _row_label(row, (id_column,) if id_column else ("video_id", "start", "end"))


def _row_label(row: CsvRow, columns: tuple[str, ...]) -> str:
    """A CSV row's id for reports: its id cells joined by "_", or ``line <n>`` when one is empty."""
    cells = [(row.get(column) or "").strip() for column in columns]
    return "_".join(cells) if all(cells) else f"line {row.line}"


@register_format("nextqa")
def read_nextqa(root: Path, entry: dict[str, Any], problems: Problems) -> list[Example]:
    """Read NExT-QA: a csv with columns ``video, frame_count, width, height, question, answer, qid,
    type`` and, for multiple choice, ``a0..a4``.

    Entry keys: ``annotations`` (the csv), ``videos`` (the folder), ``mapping`` (optional:
    ``map_vid_vidorID.json``, ``{"<video>": "<folder>/<vidorID>"}``; the file is then
    ``videos/<folder>/<vidorID>.mp4``, else ``videos/<video>.mp4``), ``video_ext`` (optional, default
    ``mp4``), ``mode`` (``open_ended`` or ``multiple_choice``; default multiple_choice when the csv
    has the a0..a4 columns, else open_ended).
    Out: id = ``{video}_{qid}``; open ended: target = the answer, references = (answer,);
    multiple choice: options = (a0..a4), answer_index = the ``answer`` cell (0-4), target = that
    option's text, references = (that text,). meta = type (CW, TN, DC, ...), video, qid, and
    additional_ref_answer when the open-ended csv has it.
    """
    file = entry_path(root, entry, "annotations")
    videos = entry_path(root, entry, "videos")
    columns, rows = load_csv(file, required=("video", "question", "answer", "qid", "type"))
    mode = entry.get("mode") or ("multiple_choice" if "a0" in columns else "open_ended")
    if mode not in NEXTQA_MODES:
        raise DataError(f"nextqa mode must be one of {', '.join(NEXTQA_MODES)}, got {mode!r}")
    if mode == "multiple_choice" and not set(NEXTQA_OPTIONS) <= set(columns):
        raise DataError(f"{file} lacks the option columns {', '.join(NEXTQA_OPTIONS)} that multiple_choice needs")
    mapping_file = entry_path(root, entry, "mapping") if "mapping" in entry else None
    folders = _vidor_mapping(mapping_file) if mapping_file is not None else None
    ext = _extension(entry, "mp4")
    media = MediaFiles()

    def parse(row: Mapping[str, Any]) -> list[Example]:
        video_name, qid = text(row, "video").strip(), text(row, "qid").strip()
        question = text(row, "question")
        if folders is not None:
            if video_name not in folders:
                raise RecordError(f"its video {video_name} is not in {mapping_file}")
            relative = folders[video_name]  # "<folder>/<vidorID>"
        else:
            relative = video_name
        video = media.ref(videos / f"{relative}.{ext}", "video")
        meta = {"type": row.get("type"), "video": video_name, "qid": qid}
        options: tuple[str, ...] = ()
        answer_index = None
        if mode == "multiple_choice":
            options = tuple(text(row, key) for key in NEXTQA_OPTIONS)
            answer_index = integer(row, "answer")  # the MC csv's answer is the right option's index
            if not 0 <= answer_index < len(options):
                raise RecordError(f"answer index {answer_index} is not in 0..{len(options) - 1}")
            answer = options[answer_index]
        else:
            answer = text(row, "answer")
            if (row.get("additional_ref_answer") or "").strip():
                meta["additional_ref_answer"] = row["additional_ref_answer"]  # NExT-OE's second reference
        return [
            Example(
                id=f"{video_name}_{qid}",
                media=(video,),
                question=question,
                target=answer,
                references=(answer,),
                options=options,
                answer_index=answer_index,
                meta=meta,
            )
        ]

    return collect(file, ((_row_label(row, ("video", "qid")), row) for row in rows), parse, problems)


def _vidor_mapping(path: Path) -> dict[str, str]:
    """``{video: "<folder>/<vidorID>"}`` from NExT-QA's map_vid_vidorID.json."""
    data = load_json(path)
    if not isinstance(data, dict):
        raise DataError(f"{path} does not look right: expected a JSON object of video -> '<folder>/<vidorID>', "
                        f"got {json_kind(data)}")
    for video, folder in data.items():
        if not isinstance(folder, str) or not folder.strip():
            raise DataError(f"{path}: key {video}: expected '<folder>/<vidorID>' text, got {folder!r}")
    return dict(data)
