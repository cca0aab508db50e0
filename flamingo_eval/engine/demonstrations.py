"""Which demonstrations each query sees, under the run's rules, and the prompts they make.

The selectors (prompting/selection.py) choose from (seed, trial, query id) and the pool alone. The run
adds two rules, both pure functions of the data, so that a run stays reproducible, shardable and
resumable whatever order queries are answered in:
- a query never sees a pool item identical to it in content (``preflight.content_duplicates``);
- with ``--skip-bad``, a pool item whose media cannot be read is never shown: RICES leaves out the
  items it could not embed, and any strategy replaces a drawn demonstration whose media do not decode
  (``few_shot_prompt`` with ``usable``). Each such item is recorded in skipped.jsonl, once.
Without ``--skip-bad`` an unreadable demonstration stops the run with an error naming the query and file.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..benchmark import VideoSpec
from ..data.example import Example
from ..errors import MediaError
from ..prompting.builder import few_shot_prompt
from ..prompting.render import Prompt, PromptTemplate
from ..prompting.selection import make_selector
from .results import SkipLog
from .visual_cache import VisualTokenCache


def pool_skip(benchmark: str, item: Example, err: Exception) -> dict[str, Any]:
    """The skipped.jsonl row of a pool item that is never shown."""
    return {"variant": None, "benchmark": benchmark, "shots": None, "trial": None, "id": item.id,
            "file": str(item.media[0].path) if item.media else "", "reason": f"demonstration pool item not shown: {err}"}


class PromptPlanner:
    """The prompts of one (variant, benchmark) job in one trial."""

    def __init__(
        self,
        *,
        benchmark: str,
        variant: str,
        pool: Sequence[Example],
        selection: str,
        seed: int,
        trial: int,
        query_set_size: int | None,
        embedder: Callable | None,
        template: PromptTemplate,
        zero_shot_text_demos: int,
        duplicates: Mapping[str, frozenset[str]],
        skips: SkipLog,
        cache: VisualTokenCache | None,
        video: VideoSpec,
    ) -> None:
        """``cache``: the visual-token cache that tells unreadable media (``--skip-bad``); None: no skipping."""
        self.benchmark, self.variant, self.trial = benchmark, variant, trial
        self.template, self.zero_shot_text_demos = template, zero_shot_text_demos
        self.duplicates, self.skips, self.cache, self.video = duplicates, skips, cache, video
        self.pool = {ex.id: ex for ex in pool}
        failures: dict[str, MediaError] | None = {} if cache is not None else None
        if embedder is not None and failures is not None:
            embedder = functools.partial(embedder, failures=failures)
        self.selector = make_selector(selection, pool, seed=seed, trial=trial, query_set_size=query_set_size, embedder=embedder)
        self.unreadable = frozenset(i for i in failures or {} if i in self.pool)  # RICES could not embed these
        skips.add([pool_skip(benchmark, self.pool[i], failures[i]) for i in sorted(self.unreadable)])

    def prompts(self, queries: Sequence[Example], shots: int, *, replace_bad: bool = True) -> list[Prompt]:
        """One prompt per query, in order (a query whose own media cannot be embedded for retrieval is
        recorded and left out with --skip-bad). ``replace_bad=False``: no demonstration's media are
        decoded (the length check needs only the text)."""
        prompts = {q.id: self._build(q, shots) for q in queries}
        if self.cache is not None and replace_bad:
            # decode every demonstration together first (batched), then redo the prompts that drew a bad one
            self.cache.warm([ref for p in prompts.values() if p is not None for ref in p.media], self.video)
            for q in queries:
                prompt = prompts[q.id]
                if prompt is not None and not all(self._usable(self.pool[i]) for i in prompt.demo_ids if i in self.pool):
                    prompts[q.id] = self._build(q, shots, usable=self._usable)
        return [p for p in prompts.values() if p is not None]

    def _build(self, query: Example, shots: int, usable: Callable[[Example], bool] | None = None) -> Prompt | None:
        try:
            return few_shot_prompt(query, self.selector, self.template, shots=shots, zero_shot_text_demos=self.zero_shot_text_demos,
                                   avoid=self.duplicates.get(query.id, frozenset()) | self.unreadable, usable=usable)
        except MediaError as err:  # the query's own image, embedded for RICES
            if self.cache is None:
                raise MediaError(f"{self.benchmark} query {query.id}: {err}") from None
            self.skips.add([{"variant": self.variant, "benchmark": self.benchmark, "shots": shots, "trial": self.trial,
                             "id": query.id, "file": "", "reason": str(err)}])
            return None

    def _usable(self, demo: Example) -> bool:
        """Whether a pool item's media decode; a bad one is recorded, once."""
        assert self.cache is not None
        problems = [err for ref in demo.media if (err := self.cache.problem(ref, self.video)) is not None]
        if problems:
            self.skips.add([pool_skip(self.benchmark, demo, problems[0])])
        return not problems
