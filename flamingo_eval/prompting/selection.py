"""Choosing the k demonstrations for each query.

Every choice is a function of (seed, trial, query id) and the pool alone: not of the batch, the rank
or the order queries are processed in, so a run is reproducible and can be sharded or resumed.

- ``random``: a fresh random sample for each query (the Flamingo / OpenFlamingo protocol), optionally
  from a fixed random subset of the pool (OpenFlamingo's ``query_set_size``, 2048 in its scripts).
- ``fixed``: the same k for every query of a trial.
- ``rices`` / ``text``: the k pool items most similar to the query by image embedding (RICES,
  Yang et al. 2022, as OpenFlamingo uses it) or by question-text embedding; the most similar comes last,
  nearest to the query, as in OpenFlamingo.
A query never appears among its own demonstrations, nor does any pool item in ``avoid`` (the runner
passes pool items identical in content to the query, and items whose media cannot be read under
``--skip-bad``). Avoided items that a query's draw (or ranking) does not reach change nothing for it:
each strategy takes the first k allowed items of the order it would use without them.
"""

from __future__ import annotations

import hashlib
import itertools
import random
from collections.abc import Callable, Sequence
from typing import Protocol

import torch

from ..data.example import Example
from ..errors import SpecError
from ..registry import Registry


def stable_seed(*parts: object) -> int:
    """A 64-bit seed from the parts' text, identical across processes (unlike Python's salted hash)."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "little")


class RandomSelector:
    """A fresh uniform sample of k for each query (drawn as the first k non-query items of a random
    ordering, so it costs O(k), not O(pool), per query)."""

    def __init__(self, pool: Sequence[Example], *, seed: int, trial: int) -> None:
        self.pool, self.seed, self.trial = tuple(pool), seed, trial
        self.ids = frozenset(ex.id for ex in self.pool)

    def select(self, query: Example, k: int, avoid: frozenset[str] = frozenset()) -> list[Example]:
        banned = avoid | {query.id}
        _check_size(k, len(self.pool) - len(self.ids & banned), query)
        # draw k + 1 (one may be the query itself); only when banned items cut the draw short is a
        # larger one drawn, so a query's sample is the same as ever unless it drew a banned item
        size = k + 1
        while True:
            rng = random.Random(stable_seed(self.seed, self.trial, "random", query.id))
            picks = rng.sample(range(len(self.pool)), min(size, len(self.pool)))
            chosen = [self.pool[i] for i in picks if self.pool[i].id not in banned][:k]
            if len(chosen) == k or size >= len(self.pool):
                return chosen
            size *= 2


class FixedSelector:
    """The same k for every query of a trial; a query in that set is replaced by the next in line."""

    def __init__(self, pool: Sequence[Example], *, seed: int, trial: int) -> None:
        order = list(pool)
        random.Random(stable_seed(seed, trial, "fixed")).shuffle(order)
        self.order = tuple(order)

    def select(self, query: Example, k: int, avoid: frozenset[str] = frozenset()) -> list[Example]:
        banned = avoid | {query.id}
        chosen = list(itertools.islice((ex for ex in self.order if ex.id not in banned), k))
        _check_size(k, len(chosen), query)
        return chosen


class SimilaritySelector:
    """The k nearest pool items by cosine similarity of L2-normalised embeddings, most similar last."""

    def __init__(self, pool: Sequence[Example], pool_embeddings: torch.Tensor, embed_query: Callable[[Example], torch.Tensor]) -> None:
        self.pool = tuple(pool)
        self.pool_embeddings = pool_embeddings  # (P, d), row i for pool[i]
        self.embed_query = embed_query  # example -> (d,)

    def select(self, query: Example, k: int, avoid: frozenset[str] = frozenset()) -> list[Example]:
        banned = avoid | {query.id}
        sims = self.pool_embeddings @ self.embed_query(query)  # (P,)
        # most similar first; equal similarity keeps pool order (stable sort), so the choice is deterministic
        order = torch.sort(sims, descending=True, stable=True).indices[: k + len(banned)].tolist()
        chosen = [self.pool[i] for i in order if self.pool[i].id not in banned][:k]
        _check_size(k, len(chosen), query)
        return chosen[::-1]  # the most similar last, nearest the query


def _check_size(k: int, available: int, query: Example) -> None:
    if available < k:
        raise SpecError(f"{k} demonstrations wanted for query {query.id} but the pool offers only {available}")


def query_set(pool: Sequence[Example], size: int | None, seed: int, trial: int) -> tuple[Example, ...]:
    """OpenFlamingo's query set: a random subset of the pool, fixed for a trial; the whole pool if None."""
    if size is None or size >= len(pool):
        return tuple(pool)
    return tuple(random.Random(stable_seed(seed, trial, "query_set")).sample(list(pool), size))


# examples -> (N, d) L2-normalised embeddings, cached by content (needed by ``rices`` and ``text``)
Embedder = Callable[[Sequence[Example]], torch.Tensor]


class Selector(Protocol):
    def select(self, query: Example, k: int, avoid: frozenset[str] = frozenset()) -> list[Example]: ...


class SelectorFactory(Protocol):
    """How a strategy builds its selector for one trial (the arguments of ``make_selector``)."""

    def __call__(
        self, pool: Sequence[Example], *, seed: int, trial: int, query_set_size: int | None, embedder: Embedder | None
    ) -> Selector: ...


# name -> factory; registration order is the order the docs and ``--selection`` list them
STRATEGIES: Registry[SelectorFactory] = Registry("selection")


@STRATEGIES.register("random")
def _random(pool: Sequence[Example], *, seed: int, trial: int, query_set_size: int | None, embedder: Embedder | None) -> Selector:
    return RandomSelector(query_set(pool, query_set_size, seed, trial), seed=seed, trial=trial)


@STRATEGIES.register("fixed")
def _fixed(pool: Sequence[Example], *, seed: int, trial: int, query_set_size: int | None, embedder: Embedder | None) -> Selector:
    return FixedSelector(query_set(pool, query_set_size, seed, trial), seed=seed, trial=trial)


def _similarity(strategy: str) -> SelectorFactory:
    """``rices`` and ``text`` differ only in the embedder the caller passes: both search the whole pool."""

    def build(pool: Sequence[Example], *, seed: int, trial: int, query_set_size: int | None, embedder: Embedder | None) -> Selector:
        if embedder is None:
            raise SpecError(f"selection {strategy!r} needs an embedder")
        pool = tuple(pool)
        return SimilaritySelector(pool, embedder(pool), lambda ex: embedder([ex])[0])

    return build


STRATEGIES.add("rices", _similarity("rices"))
STRATEGIES.add("text", _similarity("text"))


def make_selector(
    strategy: str,
    pool: Sequence[Example],
    *,
    seed: int,
    trial: int,
    query_set_size: int | None = None,
    embedder: Embedder | None = None,
) -> Selector:
    """A selector for ``strategy`` (``UnknownNameError`` listing the strategies if there is none).
    ``embedder`` is needed by ``rices`` and ``text``; similarity searches the whole pool, as
    OpenFlamingo's RICES does, while ``random`` and ``fixed`` draw from the query set."""
    return STRATEGIES.get(strategy)(pool, seed=seed, trial=trial, query_set_size=query_set_size, embedder=embedder)
