"""k-shot prompts for a benchmark: the selector's demonstrations and the query, rendered."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

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


def few_shot_prompt(
    query: Example,
    selector,
    template: PromptTemplate,
    *,
    shots: int,
    zero_shot_text_demos: int = 0,
    avoid: frozenset[str] = frozenset(),
    usable: Callable[[Example], bool] | None = None,
) -> Prompt:
    """The prompt for one query: ``selector.select(query, k, avoid)`` demonstrations, then the query.

    ``avoid``: pool ids never to show this query. ``usable`` (a demonstration -> whether its media can
    be shown; a pure function of the data) lets a demonstration that cannot be shown be replaced: it
    joins this query's ``avoid`` and the selection is made again, so the result depends on the query
    and the data alone, never on which queries ran first. Text-only demonstrations need no media.
    """
    k, text_only = demonstrations_for(shots, zero_shot_text_demos)
    avoid = set(avoid)
    while True:
        demos = selector.select(query, k, frozenset(avoid)) if k else []
        rejected = [d.id for d in demos if usable is not None and not text_only and not usable(d)]
        if not rejected:
            return render_prompt(template, demos, query, text_only_demos=text_only)
        avoid.update(rejected)


def few_shot_prompts(
    queries: Iterable[Example], selector, template: PromptTemplate, *, shots: int, zero_shot_text_demos: int = 0
) -> Iterator[Prompt]:
    """One prompt per query (``few_shot_prompt`` with nothing avoided)."""
    for query in queries:
        yield few_shot_prompt(query, selector, template, shots=shots, zero_shot_text_demos=zero_shot_text_demos)
