"""Decode steps over a static KV cache, eagerly or through one compiled forward (CUDA graphs on a GPU).

After the prompt, every decode step runs the whole LM for one token per row. At the small batches of
k-shot evaluation such a step is bound by Python and kernel launches, not by arithmetic (docs/speed.md):
a 7B LM's step launches some thousand kernels. A CUDA graph replays them all with one launch, but only
if every step has the same shapes and the same tensor addresses, which a growing KV cache and a growing
attention mask do not. So here:

* the KV cache is preallocated for the prompt plus ``max_new_tokens`` (HF's ``StaticCache``; its length
  rounded up to ``bucket`` so that batches of nearby lengths share one compiled graph), the prompt's
  keys and values copied in after the usual prefill;
* the attention mask is allocated once at that full length: slots not yet written are hidden by the
  causal mask of the cache position, so the mask never changes during the search;
* beams are reordered in place (the cache keeps its addresses);
* ``mode="compiled"`` runs the steps through ``torch.compile(Flamingo.forward, dynamic=False)``, with
  ``mode="reduce-overhead"`` (CUDA graphs) on a GPU and plain Inductor kernels elsewhere.

The prefill is the eager one (``generate.Decoder``), and a step computes what the growing-cache step
computes: attention over extra, masked slots changes nothing but float rounding (tests compare the
tokens with the eager search on LLaMA-, GPT-NeoX- and MPT-shaped models, greedy and beams).

One cache is kept per ``StaticDecoding`` and reused while the batch shape stays the same (the graphs
recorded for its addresses stay valid); it is reset before each generation, so no content survives.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from transformers import StaticCache

from .flamingo import Flamingo
from .generate import Decoder

DECODE_MODES = ("eager", "static", "compiled")  # eager: the growing cache of generate.Decoder


class StaticDecoding:
    """How a model's decode steps run: over a static cache, eagerly or compiled once per model.

    ``mode``: "static" or "compiled"; ``backend``: torch.compile's backend ("inductor"; tests use
    "aot_eager", which traces the same graph without generating kernels); ``bucket``: cache lengths are
    rounded up to a multiple of it, so a job's batches reuse a few compiled shapes.
    """

    def __init__(self, model: Flamingo, *, mode: str = "compiled", backend: str = "inductor", bucket: int = 64) -> None:
        if mode not in DECODE_MODES[1:]:
            raise ValueError(f"a static decoding mode is one of {DECODE_MODES[1:]}, got {mode!r}")
        if bucket < 1:
            raise ValueError(f"bucket must be at least 1, got {bucket}")
        self.model, self.mode, self.bucket = model, mode, bucket
        self.forward: Callable = model.forward
        # One graph for the whole step where the LM allows it (HF marks LLaMA and GPT-NeoX, not MPT, whose
        # ALiBi slices by the cache length: there the graph breaks at each layer and is compiled in pieces).
        self.fullgraph = bool(getattr(type(model.lm), "_can_compile_fullgraph", False))
        self.cuda_graphs = mode == "compiled" and model.adapter_device.type == "cuda"
        if mode == "compiled":
            self.forward = torch.compile(model.forward, fullgraph=self.fullgraph, dynamic=False, backend=backend,
                                         mode="reduce-overhead" if self.cuda_graphs else None)
        self._cache: tuple[tuple, StaticCache] | None = None

    def describe(self) -> str:
        """One line for logs and benchmark reports."""
        if self.mode == "static":
            return "static KV cache, eager steps"
        how = "CUDA graphs (reduce-overhead)" if self.cuda_graphs else "compiled kernels, no CUDA graphs off the GPU"
        return f"static KV cache, steps compiled ({how}; {'one graph' if self.fullgraph else 'graph breaks in the LM'})"

    def cache(self, rows: int, length: int) -> StaticCache:
        """An empty static cache for ``rows`` sequences of up to ``length`` tokens (rounded up to the bucket):
        the last one when its shape matches (reset), else a new one (the old one is freed)."""
        length = -(-length // self.bucket) * self.bucket
        key = (rows, length)
        if self._cache is not None and self._cache[0] == key:
            cache = self._cache[1]
            cache.reset()
            return cache
        self._cache = None  # free the old buffers before allocating the new ones
        cache = StaticCache(config=self.model.lm.config, max_cache_len=length)
        self._cache = (key, cache)
        return cache

    def decoder(self, *args, max_new_tokens: int, **kwargs) -> "StaticDecoder":
        """A decoder for one generation (``generate.Decoder``'s arguments)."""
        return StaticDecoder(*args, decoding=self, max_new_tokens=max_new_tokens, **kwargs)


class StaticDecoder(Decoder):
    """``generate.Decoder`` whose decode steps run over a static cache (see the module docstring)."""

    def __init__(self, *args, decoding: StaticDecoding, max_new_tokens: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)  # the eager prefill, into a growing cache
        self.decoding, self.max_new_tokens = decoding, max_new_tokens
        self.frozen = False

    def _freeze(self) -> None:
        """Move the prefilled cache (already expanded to the beams) into a static one, and fix the mask."""
        rows, prompt = self.mask.shape  # (R, T0): R = batch x beams
        cache = self.decoding.cache(rows, prompt + self.max_new_tokens)
        for layer, grown in enumerate(self.cache.layers):
            cache.update(grown.keys, grown.values, layer)  # written at slots 0..T0-1
        self.cache = cache
        length = cache.layers[0].max_cache_len
        # (R, L): the prompt's padding stays hidden; later slots are hidden by causality until written
        self.mask = torch.cat([self.mask, self.mask.new_ones(rows, length - prompt)], dim=1)
        self.positions = self.mask[:, :prompt].long().sum(-1, keepdim=True)  # (R, 1): the next token's position
        self.frozen = True

    def reorder(self, rows: torch.Tensor) -> None:
        """Keep the cache rows ``rows`` (R,) in that order, in place (the static buffers keep their addresses)."""
        if not self.frozen:
            return super().reorder(rows)
        for layer in self.cache.layers:
            layer.keys.copy_(layer.keys.index_select(0, rows))
            layer.values.copy_(layer.values.index_select(0, rows))

    def step(self, tokens: torch.Tensor) -> None:
        """Feed one token per row (R,); updates ``logits``. Every call has the same shapes."""
        if not self.frozen:
            self._freeze()
        out = self.decoding.forward(
            tokens[:, None],
            media=self.media,
            attention_mask=self.mask,
            position_ids=self.positions,
            cache=self.cache,
            use_cache=True,
            media_offset=self.offset,
            media_kv=self.media_kv,
            attend=self.attend,
        )
        self.positions = self.positions + 1
        # a copy: with CUDA graphs the output buffer is overwritten by the next replay
        self.logits = out.logits[:, -1].float().clone()
