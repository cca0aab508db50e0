"""Checks made before a run answers anything, on the data and the prompts, so that a fault is found in
seconds with a message that names it rather than after hours, or never.

- ``require_queries``: an evaluated split with no queries is an error, not an empty run.
- ``content_duplicates``: pool items whose media are byte-identical to a query's (the same photo under
  another id) must not be shown to that query as a demonstration: it would show the answer.
- ``data_fingerprint``: what the run's identity records of the data, so that resuming into a results
  folder after the data files changed is refused instead of mixing old and new predictions.
- ``check_prompt_length``: a prompt that does not fit the LM's context is refused, naming the query.
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from ..data.example import Example
from ..errors import DataError, SpecError
from ..storage import file_digest


def require_queries(benchmark: str, queries: Sequence[Example], *, skipped: int, entry: Mapping) -> None:
    """DataError when the evaluated split has no queries (saying whether --skip-bad left them all out)."""
    if queries:
        return
    why = f"all {skipped} of its records were left out as bad (skipped.jsonl lists them)" if skipped else "it has no records"
    raise DataError(f"benchmark {benchmark}: the evaluated split ({dict(entry)}) has no queries: {why}")


def content_duplicates(pool: Sequence[Example], queries: Sequence[Example]) -> dict[str, frozenset[str]]:
    """query id -> ids of pool items identical in content to the query (only queries that have any).

    Identical: byte-identical media (same clip bounds) and the same question, i.e. the same query under
    another id; a pool question about the query's image is a different item and stays. Files are
    compared by size first and hashed only when a size is shared by a query and a pool item, so a large
    pool costs a ``stat`` per file, not a read. A file that cannot be read is left to the code that
    decodes it (which names it).
    """
    sizes: dict[Path, int | None] = {}
    digests: dict[Path, str] = {}

    def size(path: Path) -> int | None:
        if path not in sizes:
            try:
                sizes[path] = os.stat(path).st_size
            except OSError:
                sizes[path] = None
        return sizes[path]

    def shape(example: Example) -> tuple | None:
        """The cheap key: sizes, clip bounds and question; None without media or with a missing file."""
        found = [size(Path(ref.path)) for ref in example.media]
        if not found or None in found:
            return None
        return (*((n, ref.start, ref.end) for n, ref in zip(found, example.media)), example.question)

    def content(example: Example) -> tuple:
        """The exact key: each media file's sha256 in place of its size."""
        for ref in example.media:
            if Path(ref.path) not in digests:
                digests[Path(ref.path)] = file_digest(Path(ref.path))
        return (*((digests[Path(ref.path)], ref.start, ref.end) for ref in example.media), example.question)

    query_shapes = {key for key in map(shape, queries) if key is not None}
    by_content: dict[tuple, list[str]] = defaultdict(list)
    shared = set()  # the cheap keys a query shares with some pool item: only those are hashed
    for ex in pool:
        if (key := shape(ex)) in query_shapes:
            shared.add(key)
            by_content[content(ex)].append(ex.id)
    out = {}
    for query in queries:
        if shape(query) in shared:
            same = frozenset(i for i in by_content.get(content(query), ()) if i != query.id)
            if same:
                out[query.id] = same
    return out


def data_fingerprint(root: Path, annotations: Mapping[str, str], splits: Iterable[Sequence[Example]]) -> str:
    """sha256 over the annotation files' hashes and every media file's path (relative to the data
    folder, so moving the folder changes nothing) and size. Media are not read: a file replaced by one
    of the same size is not noticed, which is the price of not hashing a whole image collection."""
    h = hashlib.sha256()
    for name, sha in sorted(annotations.items()):
        h.update(f"annotation {name} {sha}\n".encode())
    seen: set[str] = set()
    for split in splits:
        for example in split:
            for ref in example.media:
                path = Path(ref.path)
                shown = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
                if shown in seen:
                    continue
                seen.add(shown)
                try:
                    size = os.stat(path).st_size
                except OSError:
                    size = -1  # missing: named when decoded
                h.update(f"media {shown} {size}\n".encode())
    return h.hexdigest()


def check_prompt_length(
    *, benchmark: str, shots: int, trial: int, query_ids: Sequence[str], lengths: Sequence[int], new_tokens: int,
    context: int | None, model: str,
) -> None:
    """SpecError naming the longest prompt when prompt tokens + ``new_tokens`` exceed the LM's context
    (an LM answers past it without a word of warning, from positions it never learnt)."""
    if context is None or not lengths:
        return
    longest = max(range(len(lengths)), key=lengths.__getitem__)
    if lengths[longest] + new_tokens > context:
        over = sum(1 for n in lengths if n + new_tokens > context)
        raise SpecError(
            f"benchmark {benchmark}, {shots} shots, trial {trial}: {over} prompt(s) do not fit the context of "
            f"model {model} ({context} tokens); the longest, query {query_ids[longest]}, is {lengths[longest]} "
            f"tokens + {new_tokens} to generate. Use fewer shots or a model with a longer context"
        )
