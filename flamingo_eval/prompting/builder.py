"""k-shot prompts for a benchmark: the selector's demonstrations and the query, rendered."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..data.example import Example
from .render import Prompt, PromptTemplate, render_prompt


def demonstrations_for(shots: int, zero_shot_text_demos: int) -> tuple[int, bool]:
    """(how many demonstrations to select, whether they are text-only) for a shot count.

    At 0 shots Flamingo and OpenFlamingo still show two demonstrations, as text without their images,
    so that the model sees the answer format; ``zero_shot_text_demos`` says how many (0: none).
    """
    if shots > 0:
        return shots, False
    return zero_shot_text_demos, zero_shot_text_demos > 0


def few_shot_prompts(
    queries: Iterable[Example], selector, template: PromptTemplate, *, shots: int, zero_shot_text_demos: int = 0
) -> Iterator[Prompt]:
    """One prompt per query: ``selector.select(query, k)`` demonstrations, then the query."""
    k, text_only = demonstrations_for(shots, zero_shot_text_demos)
    for query in queries:
        demos = selector.select(query, k) if k else []
        yield render_prompt(template, demos, query, text_only_demos=text_only)
