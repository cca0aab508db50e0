"""A prompt start shared by many queries, prefilled once.

With ``fixed`` demonstrations every query's prompt begins with the same demonstrations. The LM's keys
and values over those tokens (which already carry the demonstrations' images through the gated blocks)
are the same for every query, so they are computed once and copied into each batch; each query then
costs only its own tokens. The result is the same as prefilling the whole prompt, up to float rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import DynamicCache

from .flamingo import Flamingo
from .media import MediaBatch


@dataclass(frozen=True)
class PromptPrefix:
    """The first ``length`` tokens of some prompts, with their media, prefilled into a KV cache."""

    ids: torch.Tensor  # (T_p,) the prefix's token ids
    media: torch.Tensor  # (M_p, n, d_visual) visual tokens of the prefix's media, in order
    keys: tuple[torch.Tensor, ...]  # per LM layer (1, kv_heads, T_p, dim_head)
    values: tuple[torch.Tensor, ...]
    next_logits: torch.Tensor | None = None  # (V,) the LM's logits after the prefix's last token

    @property
    def length(self) -> int:
        return int(self.ids.shape[0])

    @property
    def num_media(self) -> int:
        return int(self.media.shape[0])


@torch.inference_mode()
def encode_prefix(model: Flamingo, ids: torch.Tensor, media: torch.Tensor, *, attend: str | None = None) -> PromptPrefix:
    """Prefill (T_p,) ``ids`` holding one ``<image>`` per item of ``media`` (M_p, n, d) once.

    The prefix should end where a prompt's chunk ends (after ``<|endofchunk|>``), so the text that
    follows it starts a chunk of its own, as it would in the whole prompt. ``attend``: the masking
    mode (None: the model's own); generation after the prefix must use the same.
    """
    cache = DynamicCache(config=model.lm.config)
    batch = MediaBatch.stack([media]) if media.shape[0] else None
    out = model(ids[None], media=batch, attention_mask=torch.ones_like(ids)[None], cache=cache, use_cache=True,
                logits_to_keep=1, attend=attend)
    keys = tuple(layer.keys for layer in cache.layers)
    values = tuple(layer.values for layer in cache.layers)
    return PromptPrefix(ids=ids, media=media, keys=keys, values=values, next_logits=out.logits[0, -1])


def expand_cache(prefix: PromptPrefix, rows: int, config) -> DynamicCache:
    """A fresh KV cache holding the prefix for each of ``rows`` sequences (copied: decoding appends)."""
    cache = DynamicCache(config=config)
    for layer, (k, v) in enumerate(zip(prefix.keys, prefix.values)):
        cache.update(k.expand(rows, -1, -1, -1), v.expand(rows, -1, -1, -1), layer)  # (rows, h, T_p, dh)
    return cache


def media_after_prefix(prefix: PromptPrefix, suffix: MediaBatch | None, rows: int, *, attend: str) -> tuple[MediaBatch | None, torch.Tensor]:
    """The media the suffix tokens can attend to, and the media offset to give the forward call.

    attend="last": a suffix token sees only the last media before it, so of the prefix's media only its
    last one can matter (to suffix text before the suffix's first ``<image>``); "all": every one.
    Returns (media (rows, k + M_s, n, d) or None, offset (rows,) = k, the prefix media kept).
    """
    kept = prefix.media[-1:] if attend == "last" else prefix.media  # (k, n, d)
    k = kept.shape[0]
    device = prefix.media.device
    offset = torch.full((rows,), k, dtype=torch.long, device=device)
    if suffix is None or suffix.tokens.shape[1] == 0:
        if k == 0:
            return None, offset
        return MediaBatch(kept[None].expand(rows, -1, -1, -1), offset.clone()), offset
    tokens = torch.cat([kept[None].expand(rows, -1, -1, -1).to(suffix.tokens.dtype), suffix.tokens], dim=1)  # (rows, k + M_s, n, d)
    return MediaBatch(tokens, suffix.counts + k), offset
