"""Turning a model's raw continuation into the answer that is scored, as OpenFlamingo's evaluation does.

Each function maps the raw text to the prediction; benchmark specs name them (``postprocess: vqa``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..registry import Registry

POSTPROCESSORS: Registry[Callable[[str], str]] = Registry("post-processing")


@POSTPROCESSORS.register("caption")
def caption(raw: str) -> str:
    """Keep the text before a next "Output" (the model starting another item) and drop double quotes."""
    return raw.split("Output", 1)[0].replace('"', "").strip()


@POSTPROCESSORS.register("vqa")
def vqa(raw: str) -> str:
    """Keep the text before "Question", "Answer" or "Short", then before the first ", "."""
    answer = re.split("Question|Answer|Short", raw, maxsplit=1)[0]
    return re.split(", ", answer, maxsplit=1)[0].strip()


@POSTPROCESSORS.register("none")
def none(raw: str) -> str:
    return raw.strip()


def get_postprocessor(name: str) -> Callable[[str], str]:
    """The function a spec's ``postprocess`` names; ``UnknownNameError`` (a ``KeyError``) listing the known."""
    return POSTPROCESSORS.get(name)
