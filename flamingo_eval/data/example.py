"""What every adapter produces: examples with an id, media references, a question and references.

Adapters know file formats and nothing about models or prompts; the prompt builder and the metrics
read only these fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MEDIA_KINDS = ("image", "video")


@dataclass(frozen=True)
class MediaRef:
    """A media file an example shows; decoded only when a prompt needs it."""

    path: Path
    kind: str = "image"  # "image" or "video"
    start: float | None = None  # a clip of a longer video: its first second (YouCook2 segments)
    end: float | None = None  # and its last second

    def __post_init__(self) -> None:
        if self.kind not in MEDIA_KINDS:
            raise ValueError(f"media kind must be one of {MEDIA_KINDS}, got {self.kind!r}")
        if (self.start is not None or self.end is not None) and self.kind != "video":
            raise ValueError("only a video can have start and end times")


@dataclass(frozen=True)
class Example:
    """One item of a benchmark split.

    ``target`` is the text a demonstration shows (OpenFlamingo uses the first caption, or the first of
    the annotators' answers); ``references`` are what a prediction is scored against (all captions, or
    all annotators' answers with repeats, as the VQA metric needs them).
    """

    id: str  # unique within the split: question id, image id, ... as a string
    media: tuple[MediaRef, ...]
    question: str | None = None
    target: str | None = None
    references: tuple[str, ...] = ()
    options: tuple[str, ...] = ()  # multiple choice: the candidate answers, in the file's order
    answer_index: int | None = None  # multiple choice: index of the right option
    meta: dict[str, Any] = field(default_factory=dict, compare=False)  # answer_type, question_type, image_id, ...
