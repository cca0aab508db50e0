"""Format ``video_captions``: video captioning files (VATEX, YouCook2, or a plain id -> captions map).

Three JSON shapes are accepted:
  * a list of records ``{"videoID": ..., "enCap": [captions]}`` (VATEX; key names are settings);
  * an object ``{video_id: [captions]}``;
  * YouCook2's ``{"database": {video_id: {"subset", "recipe_type", "annotations": [{"id",
    "segment": [start, end], "sentence"}]}}}``, where each annotated segment is one example.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Mapping
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
    format_pattern,
    ident,
    json_kind,
    labelled,
    load_json,
    setting,
    split_names,
    text,
    texts,
)


@register_format("video_captions")
def read(root: Path, entry: dict[str, Any], problems: Problems) -> list[Example]:
    """Read a video captioning file as examples.

    Entry keys:
      ``annotations``: the JSON (one of the shapes in the module docstring);
      ``videos``: the video folder;
      ``video_pattern`` (optional): a video's file name, a format string with ``{video_id}`` and
          ``{ext}`` (YouCook2 also ``{subset}`` and ``{recipe_type}``, for its
          ``<subset>/<recipe_type>/<id>`` layout); default ``{video_id}.{ext}``;
      ``video_ext`` (optional): default ``mp4``;
      ``id_key`` / ``captions_key`` (optional, list shape): the record keys of the video id and the
          caption list; default ``videoID`` / ``enCap`` (VATEX);
      ``split`` (optional, YouCook2 only): keep videos whose ``subset`` is this (training,
          validation, ...).
    Out: list and object shapes: one example per video, id = the video id, target = the first
    caption, references = all captions in file order, meta = video_id. YouCook2: one example per
    segment, id = ``{video_id}_{segment id}`` (the annotation's ``id``, else its position),
    target = references[0] = the sentence, meta = video_id, start, end (seconds), subset,
    recipe_type; the MediaRef is the whole video (meta start/end say which part is captioned).
    """
    file = entry_path(root, entry, "annotations")
    videos = entry_path(root, entry, "videos")
    pattern = setting(entry, "video_pattern", "{video_id}.{ext}")
    ext = setting(entry, "video_ext", "mp4").lstrip(".")
    id_key = setting(entry, "id_key", "videoID")
    captions_key = setting(entry, "captions_key", "enCap")
    data = load_json(file)
    media = MediaFiles()

    if isinstance(data, Mapping) and "database" in data:
        return _read_youcook(file, data["database"], entry, problems, media, videos, pattern, ext)
    if "split" in entry:
        raise DataError(f"{file}: the split setting only applies to YouCook2 files ({{'database': ...}}); "
                        "VATEX-style files hold one split each")
    if isinstance(data, Mapping):  # {video_id: [captions]}: put it in the list shape
        data = [{id_key: video_id, captions_key: captions} for video_id, captions in data.items()]
    if not isinstance(data, list):
        raise DataError(f"{file} does not look right: expected a JSON list or object of video captions, got {json_kind(data)}")

    def parse(record: Mapping[str, Any]) -> list[Example]:
        video_id = ident(record, id_key)
        captions = texts(field(record, captions_key), captions_key)
        name = format_pattern(pattern, "video_pattern", video_id=video_id, ext=ext)
        video = media.ref(videos / name, "video")
        return [Example(id=video_id, media=(video,), target=captions[0], references=tuple(captions),
                        meta={"video_id": video_id})]

    return collect(file, labelled(data, (id_key,)), parse, problems)


def _read_youcook(
    file: Path,
    database: Any,
    entry: Mapping[str, Any],
    problems: Problems,
    media: MediaFiles,
    videos: Path,
    pattern: str,
    ext: str,
) -> list[Example]:
    """YouCook2: one example per annotated segment of the videos in the chosen subset(s)."""
    if not isinstance(database, Mapping):
        raise DataError(f"{file} does not look right: 'database' should map video ids to their annotations")
    splits = split_names(entry)

    def parse(segment: Mapping[str, Any]) -> list[Example]:
        video_id, info, annotation = segment["video_id"], segment["video"], segment["annotation"]
        if not isinstance(annotation, Mapping):
            raise RecordError(f"a segment annotation is not a JSON object: {annotation!r}")
        sentence = text(annotation, "sentence")
        bounds = annotation.get("segment")
        numbers = isinstance(bounds, list) and len(bounds) == 2 and all(
            isinstance(b, (int, float)) and not isinstance(b, bool) and math.isfinite(b) for b in bounds)
        if not numbers or not 0 <= bounds[0] <= bounds[1]:
            raise RecordError(f"field 'segment' should be [start, end] in seconds, 0 <= start <= end, got {bounds!r}")
        fields = {"video_id": video_id, "ext": ext, "subset": info.get("subset"), "recipe_type": info.get("recipe_type")}
        video = media.ref(videos / format_pattern(pattern, "video_pattern", **fields), "video")
        video = dataclasses.replace(video, start=float(bounds[0]), end=float(bounds[1]))  # frames from the segment only
        meta = {"video_id": video_id, "start": bounds[0], "end": bounds[1],
                "subset": info.get("subset"), "recipe_type": info.get("recipe_type")}
        return [Example(id=segment["id"], media=(video,), target=sentence, references=(sentence,), meta=meta)]

    return collect(file, _segments(file, database, splits, problems), parse, problems)


def _segments(
    file: Path, database: Mapping[str, Any], splits: set[str] | None, problems: Problems
) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(segment id, {"id", "video_id", "video", "annotation"})`` for each segment of the chosen
    videos; a video record that is not usable (no subset, no annotation list) is reported."""
    for video_id, info in database.items():
        if not isinstance(info, Mapping):
            problems.report(file, video_id, f"is not a JSON object: {info!r}")
            continue
        if splits is not None:
            subset = info.get("subset")
            if not isinstance(subset, str) or not subset.strip():
                problems.report(file, video_id, f"lacks the field 'subset' the split setting filters on (got {subset!r})")
                continue
            if subset not in splits:
                continue
        annotations = info.get("annotations")
        if not isinstance(annotations, list) or not annotations:
            problems.report(file, video_id, "has no segment annotations (field 'annotations' missing or empty)")
            continue
        for position, annotation in enumerate(annotations):
            # the segment's own id (0, 1, ... in the official file); its position only when it has none
            own = annotation.get("id") if isinstance(annotation, Mapping) else None
            segment_id = f"{video_id}_{own if isinstance(own, int) and not isinstance(own, bool) else position}"
            yield segment_id, {"id": segment_id, "video_id": str(video_id), "video": info, "annotation": annotation}
