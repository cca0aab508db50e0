"""Prompt templates and the one function that renders demonstrations and the query alike.

A template is a plain text file in ``prompts/`` holding one interleaved item, e.g. OpenFlamingo's VQA
prompt ``<image>Question:{question} Short answer:{answer}``. A demonstration is the item with its answer,
then ``<|endofchunk|>`` and a separator ("\\n" in OpenFlamingo's evaluation); the query is the item with
an empty answer, which the model completes.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path

from ..control_tokens import END_OF_CHUNK, MEDIA_TOKEN
from ..data.example import Example, MediaRef
from ..errors import SpecError
from ..locations import PROMPTS_DIR

FIELDS = ("question", "answer", "options")


@dataclass(frozen=True)
class PromptTemplate:
    text: str  # one item: <image> markers and {question} / {answer} / {options} fields
    name: str = "<inline>"  # file it came from, for messages and provenance
    separator: str = "\n"  # after each demonstration's <|endofchunk|>

    def __post_init__(self) -> None:
        for _, field, _, _ in string.Formatter().parse(self.text):
            if field is not None and field not in FIELDS:
                raise SpecError(f"prompt template {self.name}: unknown field {{{field}}} (known: {', '.join(FIELDS)})")


@dataclass(frozen=True)
class Prompt:
    """A rendered few-shot prompt: its text and its media, one per <image> marker, in order."""

    text: str
    media: tuple[MediaRef, ...]
    query_id: str
    demo_ids: tuple[str, ...]  # in prompt order


def load_template(name_or_path: str, *, separator: str = "\n", prompts_dir: Path = PROMPTS_DIR) -> PromptTemplate:
    """A template by name (``vqa`` -> ``prompts/vqa.txt``) or by path; one trailing newline is dropped."""
    path = Path(name_or_path)
    if not path.suffix:
        path = prompts_dir / f"{name_or_path}.txt"
    try:
        if not path.is_file():
            raise SpecError(f"prompt template not found: {path}")
        text = path.read_bytes().decode("utf-8")
    except OSError as err:  # e.g. a name longer than the file system allows
        raise SpecError(f"prompt template {path}: cannot read it ({err.strerror or err})") from None
    except UnicodeDecodeError as err:
        raise SpecError(f"prompt template {path}: not UTF-8 text (byte {err.start})") from None
    return PromptTemplate(text=text[:-1] if text.endswith("\n") else text, name=str(path), separator=separator)


def render_item(template: PromptTemplate, example: Example, answer: str | None) -> str:
    """One item of the prompt: the template filled with the example's fields and ``answer``
    (None for the query, whose answer the model writes)."""
    return template.text.format(
        question=example.question or "",
        answer="" if answer is None else answer,
        options=", ".join(example.options),
    )


def render_prompt(template: PromptTemplate, demos: list[Example], query: Example, *, text_only_demos: bool = False) -> Prompt:
    """Demonstrations then the query, as OpenFlamingo's evaluation builds them.

    ``text_only_demos``: the demonstrations' <image> markers and media are left out (the zero-shot
    protocol of Flamingo and OpenFlamingo, which shows two text-only demonstrations).
    """
    parts, media = [], []
    for demo in demos:
        if demo.target is None:
            raise SpecError(f"demonstration {demo.id} has no answer to show (its split has no annotations?)")
        item = render_item(template, demo, demo.target)
        if text_only_demos:
            item = item.replace(MEDIA_TOKEN, "")
        else:
            media.extend(_media_for(template, demo))
        parts.append(item + END_OF_CHUNK + template.separator)
    parts.append(render_item(template, query, None))
    media.extend(_media_for(template, query))
    return Prompt(text="".join(parts), media=tuple(media), query_id=query.id, demo_ids=tuple(d.id for d in demos))


def _media_for(template: PromptTemplate, example: Example) -> tuple[MediaRef, ...]:
    markers = template.text.count(MEDIA_TOKEN)
    if markers != len(example.media):
        raise SpecError(
            f"prompt template {template.name} has {markers} <image> markers but example {example.id} has {len(example.media)} media"
        )
    return example.media
