"""``--token-budget auto``: how many rows x prompt tokens a batch may hold, sized to the free memory.

A batch of B prompts of T tokens (left-padded to the longest) costs, at its peak:

* the prefill's keys and values, B x T x ``kv_bytes`` (every LM layer's keys and values of one token);
* the prefill's transient activations, B x T x ``activation_bytes`` (one layer's at a time: inference
  keeps no activations between layers);
* and, when beam search copies the prompt's cache to its beams, B x T x ``kv_bytes`` x beams more while
  the original is still alive.

So a token of the budget costs ``activation_bytes + kv_bytes * (1 + beams)``, and the budget is the free
memory (``fraction`` of it: the visual-token cache and the allocator's fragmentation need room too)
divided by that. ``kv_bytes`` is measured from a probe prefill's cache (exact for any LM family);
``activation_bytes`` is measured by the CUDA allocator's peak during that probe, and elsewhere, where no
allocator counts, taken as ``kv_bytes`` (more than one layer's activations in the LMs this harness runs:
their keys and values over all layers outweigh one layer's hidden and feed-forward states).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import DynamicCache

from ..errors import SpecError
from ..model.pipeline import FlamingoPipeline

AUTO = "auto"
PROBE_TOKENS = 128  # the probe prefill's length: long enough for per-token costs to dominate


def check_token_budget(value: object) -> None:
    """A token budget setting is None, a positive number of tokens, or ``auto``; SpecError otherwise."""
    if value is not None and value != AUTO and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise SpecError(f"token_budget must be a number of tokens (at least 1) or auto, got {value!r}")


@dataclass(frozen=True)
class TokenCosts:
    """Bytes one prompt token costs a batch (see the module docstring)."""

    kv_bytes: int  # keys and values of one token over every LM layer
    activation_bytes: int  # transient memory of one token during a prefill
    measured: bool  # activation_bytes from the CUDA allocator (False: the kv_bytes estimate)


def measure_costs(pipe: FlamingoPipeline, *, probe_tokens: int = PROBE_TOKENS) -> TokenCosts:
    """Prefill ``probe_tokens`` text tokens (one row, no media) and read what they cost."""
    model, device = pipe.model, pipe.device
    ids = torch.full((1, probe_tokens), pipe.tokens.pad, dtype=torch.long, device=device)
    cuda = torch.device(device).type == "cuda"
    if cuda:
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
    cache = DynamicCache(config=model.lm.config)
    with torch.inference_mode():
        model(ids, media=None, attention_mask=torch.ones_like(ids), cache=cache, use_cache=True, logits_to_keep=1)
    kv = sum(t.numel() * t.element_size() for layer in cache.layers for t in (layer.keys, layer.values)) // probe_tokens
    if not cuda:
        return TokenCosts(kv_bytes=kv, activation_bytes=kv, measured=False)
    peak = torch.cuda.max_memory_allocated(device) - before
    return TokenCosts(kv_bytes=kv, activation_bytes=max(0, peak // probe_tokens - kv), measured=True)


def free_memory(device: str | torch.device) -> int:
    """Bytes free for this process's tensors: the GPU's free memory, or the host's available memory."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    import psutil  # a dependency of accelerate, which transformers' loading needs

    return psutil.virtual_memory().available


def auto_token_budget(pipe: FlamingoPipeline, *, beams: int, costs: TokenCosts | None = None) -> int:
    """``--token-budget auto`` for ``pipe``'s jobs with ``beams`` beams, from the memory free now
    (``costs``: already measured for this model, or None to measure them)."""
    return token_budget(costs or measure_costs(pipe), free_bytes=free_memory(pipe.device), beams=beams)


def token_budget(costs: TokenCosts, *, free_bytes: int, beams: int, fraction: float = 0.8) -> int:
    """The most rows x prompt tokens a batch may hold (at least 1: a prompt longer than the budget still
    gets a batch of its own, as ``plan_batches`` does for any budget)."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    per_token = costs.activation_bytes + costs.kv_bytes * (1 + beams)
    return max(1, int(fraction * free_bytes) // max(1, per_token))
