"""Generation for many prompts with little waste: length-sorted batches sized by a token budget, and a
prompt start shared by a batch (the demonstrations, with ``fixed`` selection) prefilled once.

OpenFlamingo's evaluation batches queries in data order with a fixed count and recomputes every
prompt in full. Here the prompts of a job are sorted by length so that a batch holds little padding,
and when the prompts of a batch begin with the same chunks (same token ids and same media) those chunks
are prefilled once and their KV cache is reused by every row, every beam and every later batch that
begins the same way. Neither changes a prediction beyond float rounding (tests/engine/test_answering.py).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from ..model.generate import GenerationConfig, GenerationStats, generate
from ..model.media import MediaBatch
from ..model.pipeline import FlamingoPipeline
from ..model.prefix import PromptPrefix, encode_prefix
from ..model.static_decode import StaticDecoding


def plan_batches(lengths: Sequence[int], *, batch_size: int, token_budget: int | None = None) -> list[list[int]]:
    """Indices of the prompts grouped into batches: longest first (a batch too big for memory shows up
    at once), at most ``batch_size`` rows, and rows x longest length at most ``token_budget``
    (a prompt longer than the budget gets a batch of its own)."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches: list[list[int]] = []
    for i in order:
        current = batches[-1] if batches else None
        fits = (
            current is not None
            and len(current) < batch_size
            and (token_budget is None or (len(current) + 1) * lengths[current[0]] <= token_budget)
        )
        if fits:
            current.append(i)  # type: ignore[union-attr]
        else:
            batches.append([i])
    return batches


def shared_prefix(rows: Sequence[Sequence[int]], media_keys: Sequence[Sequence[object]], *, media_token: int, end_of_chunk: int) -> int:
    """How many leading tokens every row shares, cut after a ``<|endofchunk|>`` and before any media that
    differ between rows; 0 when there is no such prefix. Every row keeps at least one token of its own."""
    if not rows:
        return 0
    limit = min(len(r) for r in rows) - 1
    common = 0
    first = rows[0]
    while common < limit and all(r[common] == first[common] for r in rows):
        common += 1
    # the media among those tokens must be the same items in every row
    same_media = 0
    for refs in zip(*media_keys):
        if any(ref != refs[0] for ref in refs):
            break
        same_media += 1
    seen_media, cut = 0, 0
    for pos in range(common):
        if first[pos] == media_token:
            seen_media += 1
            if seen_media > same_media:
                break
        if first[pos] == end_of_chunk:
            cut = pos + 1
    return cut


@dataclass
class AnswerStats:
    """Where the time went, for ``flamingo-eval bench``."""

    generation: GenerationStats = field(default_factory=GenerationStats)
    prefix_s: float = 0.0  # prefilling shared prompt starts
    prefixes_built: int = 0
    prefixes_reused: int = 0


def static_decoding(pipe: FlamingoPipeline, decode: str) -> StaticDecoding | None:
    """The decoding for a ``decode`` setting (``static_decode.DECODE_MODES``): None for "eager"."""
    return None if decode == "eager" else StaticDecoding(pipe.model, mode=decode)


class Answerer:
    """Answers prompts whose media are already visual tokens (see ``VisualTokenCache``)."""

    def __init__(self, pipe: FlamingoPipeline, *, share_prefix: bool = True, min_prefix_tokens: int = 16, max_prefixes: int = 4,
                 decoding: StaticDecoding | None = None) -> None:
        """``decoding``: decode steps over a static cache, eagerly or compiled once for this model (None:
        the growing cache; ``static_decoding`` makes one from a mode name)."""
        self.pipe = pipe
        self.decoding = decoding
        self.share_prefix, self.min_prefix_tokens = share_prefix, min_prefix_tokens
        self.prefixes: OrderedDict[tuple, PromptPrefix] = OrderedDict()  # keyed by ids, media, masking
        self.max_prefixes = max_prefixes
        self.stats = AnswerStats()

    def token_ids(self, text: str) -> list[int]:
        return list(self.pipe.tokenizer(text)["input_ids"])

    def generate(
        self,
        rows: Sequence[Sequence[int]],
        media: Sequence[Sequence[torch.Tensor]],
        media_keys: Sequence[Sequence[object]],
        config: GenerationConfig,
        *,
        attend: str | None = None,
    ) -> list[str]:
        """Each row's token ids (a whole prompt), its media's visual tokens (n, d) in ``<image>`` order and
        hashable keys naming those media -> the decoded continuation of each row. ``attend``: the
        masking mode for these prompts ("last" or "all"; None: the model spec's own)."""
        tokens = self.pipe.tokens
        cut = 0
        if self.share_prefix and len(rows) > 0:
            cut = shared_prefix(rows, media_keys, media_token=tokens.media, end_of_chunk=tokens.end_of_chunk)
            cut = cut if cut >= self.min_prefix_tokens else 0
        prefix = None
        if cut:
            n_media = sum(1 for t in rows[0][:cut] if t == tokens.media)
            prefix = self._prefix(rows[0][:cut], media[0][:n_media], media_keys[0][:n_media], attend)
            rows = [r[cut:] for r in rows]
            media = [m[n_media:] for m in media]
        ids, mask = self.pipe.pad_left(rows)
        new = generate(
            self.pipe.model, ids, attention_mask=mask, media=self._media_batch(media), config=config,
            stop_token_ids=self.pipe.stop_token_ids(), pad_token_id=tokens.pad, prefix=prefix,
            stats=self.stats.generation, attend=attend, decoding=self.decoding,
        )
        return self.pipe.tokenizer.batch_decode(new, skip_special_tokens=True)

    def _prefix(self, ids: Sequence[int], media: Sequence[torch.Tensor], keys: Sequence[object], attend: str | None) -> PromptPrefix:
        attend = attend or self.pipe.model.xattn_config.attend
        key = (tuple(ids), tuple(keys), attend)
        if key in self.prefixes:
            self.prefixes.move_to_end(key)
            self.stats.prefixes_reused += 1
            return self.prefixes[key]
        started = time.perf_counter()
        n, d = self.pipe.spec.perceiver.tokens_per_media, self.pipe.model.vision.dim
        tokens = torch.stack(list(media)) if media else torch.zeros(0, n, d, device=self.pipe.device)
        prefix = encode_prefix(self.pipe.model, torch.tensor(list(ids), device=self.pipe.device), tokens, attend=attend)
        self.stats.prefix_s += time.perf_counter() - started
        self.stats.prefixes_built += 1
        self.prefixes[key] = prefix
        while len(self.prefixes) > self.max_prefixes:
            self.prefixes.popitem(last=False)
        return prefix

    def _media_batch(self, media: Sequence[Sequence[torch.Tensor]]) -> MediaBatch | None:
        if not any(media):
            return None
        return MediaBatch.of_items(media, num_latents=self.pipe.spec.perceiver.tokens_per_media, dim=self.pipe.model.vision.dim, device=self.pipe.device)
