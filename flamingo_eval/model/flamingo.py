"""Flamingo: a frozen vision encoder and a frozen causal LM joined by a Perceiver Resampler and
GATED XATTN-DENSE blocks (Alayrac et al. 2022, arXiv 2204.14198)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers.modeling_outputs import CausalLMOutputWithPast

from .config import PerceiverConfig, XAttnConfig
from .lm import find_decoder_layers, forward_accepts
from .media import MediaBatch
from .connectors import build_connector
from .vision.base import VisionEncoder
from .xattn import GatedXAttnDense, MediaKV, MediaMask, media_attention_mask, text_media_index


@dataclass
class _Call:
    """What the cross-attention blocks need during one forward call; exists only inside that call."""

    media: MediaBatch | None
    mask: MediaMask
    kv: dict[int, MediaKV] = field(default_factory=dict)  # per block; reused across decode steps when given


_LM_ONLY = object()  # marks a call of the bare LM through Flamingo.lm_only()


class Flamingo(nn.Module):
    """Interleaved text and media in, next-token logits out.

    Media go into every call explicitly (``forward(..., media=...)``). The blocks reach them through a
    slot that is filled on entry to ``forward`` and always emptied on exit, so no conditioning state
    survives between calls (unlike the reference implementation, whose layers keep the last media).
    """

    def __init__(
        self,
        *,
        vision: VisionEncoder,
        lm: PreTrainedModel,
        media_token_id: int,
        end_of_chunk_token_id: int,
        perceiver: PerceiverConfig = PerceiverConfig(),
        xattn: XAttnConfig = XAttnConfig(),
        decoder_layers: str | None = None,
    ) -> None:
        super().__init__()
        self.vision = vision.requires_grad_(False)
        self.lm = lm.requires_grad_(False)
        self.media_token_id = media_token_id
        self.end_of_chunk_token_id = end_of_chunk_token_id
        self.perceiver_config = perceiver
        self.xattn_config = xattn
        self.perceiver = build_connector(perceiver, vision.dim)  # the Perceiver Resampler, or an ablation's connector
        self.decoder_layers_path, layers = find_decoder_layers(lm, decoder_layers)
        lm_dim = lm.get_input_embeddings().embedding_dim
        self.xattn = gated_blocks(xattn, num_layers=len(layers), dim=lm_dim, dim_visual=vision.dim)
        # The block runs on a decoder layer's input hidden states, via a pre-hook: the LM's own modules,
        # parameter names and forward stay untouched, whatever its architecture.
        # (a partial of a bound method, not a closure, so that deepcopy and pickling rebind it to the copy)
        for key in self.xattn:
            layers[int(key)].register_forward_pre_hook(partial(self._xattn_pre_hook, int(key)), with_kwargs=True)
        self._current: _Call | object | None = None
        self._lm_takes_positions = forward_accepts(lm, "position_ids")

    # ---------------------------------------------------------------- media
    def encode_media(self, items: Sequence[torch.Tensor]) -> torch.Tensor:
        """[(F, 3, H, W) pixels of each media item] -> (N, num_latents, d_visual) visual tokens.

        An image is a one-frame video. Items of the same shape are encoded together.
        """
        return self.resample(self.vision_features(items))

    def vision_features(self, items: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """[(F, 3, H, W) pixels] -> [(F, v, d_visual) features] from the frozen encoder (no gradients:
        frozen, as in the paper; training precomputes these once)."""
        device, dtype = self.adapter_device, _first(self.vision).dtype

        def encode(frames: torch.Tensor) -> torch.Tensor:  # (G, F, 3, H, W) -> (G, F, v, d)
            g, f = frames.shape[:2]
            with torch.no_grad():
                features = self.vision(frames.flatten(0, 1).to(device=device, dtype=dtype))  # (G * F, v, d)
            return features.view(g, f, *features.shape[1:])

        return _grouped(items, encode, what="pixels", ndim=4)

    def resample(self, features: Sequence[torch.Tensor]) -> torch.Tensor:
        """[(F, v, d_visual) features of each item] -> (N, num_latents, d_visual) through the resampler."""
        if not features:
            return _first(self.perceiver).new_zeros(0, self.perceiver_config.tokens_per_media, self.vision.dim)
        dtype, device = _first(self.perceiver).dtype, self.adapter_device
        # (G, F, v, d) -> (G, n, d) per group of equal shape
        return torch.stack(_grouped(features, lambda batch: self.perceiver(batch.to(device=device, dtype=dtype)), what="features", ndim=3))

    def embed_media(self, per_sequence: Sequence[Sequence[torch.Tensor]]) -> MediaBatch:
        """Pixels of each sequence's media, in prompt order -> MediaBatch (all items encoded at once)."""
        flat = [item for items in per_sequence for item in items]
        tokens = self.encode_media(flat)  # (N, n, d)
        return MediaBatch.stack(list(tokens.split([len(items) for items in per_sequence])))

    @property
    def adapter_device(self) -> torch.device:
        """Where the trained parts (and so the visual tokens) live."""
        return _first(self.perceiver).device

    # ---------------------------------------------------------------- text
    def forward(
        self,
        input_ids: torch.Tensor,
        *,
        media: MediaBatch | None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        cache=None,
        use_cache: bool = False,
        media_offset: torch.Tensor | None = None,
        media_kv: dict[int, MediaKV] | None = None,
        logits_to_keep: int = 0,
        attend: str | None = None,
    ) -> CausalLMOutputWithPast:
        """Next-token logits for (B, T) ``input_ids`` interleaved with ``media``.

        Each ``<image>`` in ``input_ids`` stands for the next media item of its sequence. Without
        ``media_offset`` the ids are a whole prompt with one ``<image>`` per media item; with it (B,),
        they continue a sequence held in ``cache`` whose first ``media_offset`` media were seen (tokens
        keep attending to the last media given). ``media_kv``: a dict the caller keeps across decode
        steps, so media keys and values are projected once. ``logits_to_keep`` > 0: only the last
        positions' logits. ``attend`` ("last" / "all") overrides ``xattn_config.attend`` for this call
        only: an argument, never a change to the model, so no call affects another.
        """
        index = _media_index(input_ids, self.media_token_id, media, media_offset)  # (B, T)
        num_media = media.tokens.shape[1] if media is not None else 0
        num_latents = media.num_latents if media is not None else 1
        mask = media_attention_mask(index, num_media, num_latents, attend=attend or self.xattn_config.attend)
        if position_ids is None and attention_mask is not None and media_offset is None:
            # left padding: count positions from each sequence's first real token
            position_ids = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)
        kwargs = {"position_ids": position_ids} if self._lm_takes_positions and position_ids is not None else {}
        call = _Call(media=media if num_media else None, mask=mask, kv=media_kv if media_kv is not None else {})
        with _holding(self, call):
            return self.lm(
                input_ids=input_ids,
                attention_mask=attention_mask,
                cache=cache,
                use_cache=use_cache,
                logits_to_keep=logits_to_keep,
                **kwargs,
            )

    @contextmanager
    def lm_only(self) -> Iterator[PreTrainedModel]:
        """Run the frozen LM by itself inside this block (the gated blocks are skipped): the text-only
        baseline. Outside ``forward`` and this block, calling the LM directly is an error."""
        with _holding(self, _LM_ONLY):
            yield self.lm

    def _xattn_pre_hook(self, layer: int, module: nn.Module, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        """Runs the gated block of ``layer`` on the decoder layer's input hidden states."""
        call = self._current
        if call is None:
            raise RuntimeError("the LM inside Flamingo was called directly; call Flamingo.forward with the media")
        if call is _LM_ONLY:
            return args, kwargs
        block: GatedXAttnDense = self.xattn[str(layer)]
        kv = None
        if call.media is not None:
            if layer not in call.kv:
                call.kv[layer] = block.attn.media_kv(call.media.tokens.to(self._lm_dtype()))
            kv = call.kv[layer]
        if args:
            return (block(args[0], kv, call.mask), *args[1:]), kwargs
        return args, dict(kwargs, hidden_states=block(kwargs["hidden_states"], kv, call.mask))

    def _lm_dtype(self) -> torch.dtype:
        return self.lm.get_input_embeddings().weight.dtype

    # ---------------------------------------------------------------- weights
    def trainable_parameters(self) -> Iterator[tuple[str, nn.Parameter]]:
        """The parts Flamingo trains: resampler and gated blocks (new token embeddings are handled by
        ``weights.adapter_state_dict``)."""
        yield from (("perceiver." + n, p) for n, p in self.perceiver.named_parameters())
        yield from (("xattn." + n, p) for n, p in self.xattn.named_parameters())


@contextmanager
def _holding(model: Flamingo, call: "_Call | object") -> Iterator[None]:
    """The media slot: ``call`` is what the gated blocks read while the LM runs; emptied on exit, always."""
    if model._current is not None:
        raise RuntimeError("Flamingo.forward is not re-entrant")
    model._current = call
    try:
        yield
    finally:
        model._current = None


def _first(module: nn.Module) -> nn.Parameter:
    """A module's first parameter: its device and dtype."""
    return next(module.parameters())


def _media_index(input_ids: torch.Tensor, media_token_id: int, media: MediaBatch | None,
                 media_offset: torch.Tensor | None) -> torch.Tensor:
    """(B, T) index of the media each token follows (``text_media_index``), checked against the media
    given: a whole prompt must hold one ``<image>`` per item; a continuation is capped at the items."""
    counts = media.counts if media is not None else input_ids.new_zeros(input_ids.shape[0])
    index = text_media_index(input_ids, media_token_id, media_offset)  # (B, T)
    if media_offset is not None:
        return torch.minimum(index, counts[:, None])
    mismatch = (index[:, -1] != counts).nonzero().flatten().tolist()
    if mismatch:
        b = mismatch[0]
        raise ValueError(f"sequence {b} has {int(index[b, -1])} <image> tokens but {int(counts[b])} media items were given")
    return index


def gated_blocks(config: XAttnConfig, *, num_layers: int, dim: int, dim_visual: int) -> nn.ModuleDict:
    """GATED XATTN-DENSE blocks keyed by the index of the decoder layer they precede: before every
    ``config.every_n_layers``-th layer, or (``placement: single``) one before the middle layer."""
    return nn.ModuleDict({
        str(i): GatedXAttnDense(dim=dim, dim_visual=dim_visual, heads=config.heads, dim_head=config.dim_head,
                                ff_mult=config.ff_mult, dense_without_media=config.dense_without_media, gating=config.gating)
        for i in block_layers(config, num_layers)
    })


def block_layers(config: XAttnConfig, num_layers: int) -> list[int]:
    """The decoder layers that get a gated block before them (0-based)."""
    if config.placement == "single":
        return [num_layers // 2]
    return [i for i in range(num_layers) if (i + 1) % config.every_n_layers == 0]


def _grouped(items: Sequence[torch.Tensor], run, *, what: str, ndim: int) -> list[torch.Tensor]:
    """``run`` on the items stacked in groups of equal shape (one call per group); results in item order."""
    out: list[torch.Tensor | None] = [None] * len(items)
    for idx in _groups_by_shape(items, what=what, ndim=ndim):
        for i, result in zip(idx, run(torch.stack([items[i] for i in idx]))):
            out[i] = result
    return out  # type: ignore[return-value]


def _groups_by_shape(items: Sequence[torch.Tensor], *, what: str, ndim: int) -> list[list[int]]:
    """Indices of the items, grouped by shape (items of one shape are stacked into one batch)."""
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, item in enumerate(items):
        if item.ndim != ndim or item.shape[0] == 0:
            shape = "(frames >= 1, 3, H, W)" if ndim == 4 else "(frames >= 1, patches, dim)"
            raise ValueError(f"media item {i} must be {shape} {what}, got shape {tuple(item.shape)}")
        groups.setdefault(tuple(item.shape), []).append(i)
    return list(groups.values())
