"""Turning a model's raw continuation into the answer that is scored, as OpenFlamingo's evaluation does.

Each function maps the raw text to the prediction; benchmark specs name them (``postprocess: vqa``).
"""

from __future__ import annotations

import re
from collections.abc import Callable


def caption(raw: str) -> str:
    """Keep the text before a next "Output" (the model starting another item) and drop double quotes."""
    return raw.split("Output", 1)[0].replace('"', "").strip()


def vqa(raw: str) -> str:
    """Keep the text before "Question", "Answer" or "Short", then before the first ", "."""
    answer = re.split("Question|Answer|Short", raw, maxsplit=1)[0]
    return re.split(", ", answer, maxsplit=1)[0].strip()


def none(raw: str) -> str:
    return raw.strip()


POSTPROCESSORS: dict[str, Callable[[str], str]] = {"caption": caption, "vqa": vqa, "none": none}


def get_postprocessor(name: str) -> Callable[[str], str]:
    if name not in POSTPROCESSORS:
        raise KeyError(f"unknown post-processing {name!r}; known: {', '.join(sorted(POSTPROCESSORS))}")
    return POSTPROCESSORS[name]
