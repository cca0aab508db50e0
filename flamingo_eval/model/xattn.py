"""GATED XATTN-DENSE (Flamingo paper, section 2.2 and figure 4) and the per-image attention mask.

Inserted before layers of a frozen LM, the block lets text attend to visual tokens:
    y = y + tanh(a_attn) * xattn(q=y, kv=visual)
    y = y + tanh(a_ffw) * ffw(y)
Both gates start at 0, so an untrained model computes exactly what the LM alone computes. The paper's
ablation "w/o tanh gating" (Table 3) drops the gates: ``y = y + xattn(...)``, ``y = y + ffw(y)``
(``gating="none"``: no gate parameters at all, so the untrained block already changes the LM).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .layers import FeedForward, merge_heads, split_heads

MediaKV = tuple[torch.Tensor, torch.Tensor]  # keys and values of all media, each (B, heads, M * n, dim_head)


@dataclass(frozen=True)
class MediaMask:
    """Which visual tokens each text token may see; computed once per forward, shared by all blocks."""

    visible: torch.Tensor  # (B, 1, T, M * n) bool
    has_media: torch.Tensor  # (B, T) bool: False for tokens before the first media, which attend to none


def text_media_index(input_ids: torch.Tensor, media_token_id: int, offset: torch.Tensor | None = None) -> torch.Tensor:
    """(B, T) ids -> (B, T) long: 1-based index of the last media at or before each token, 0 if none.

    The ``<image>`` token itself already sees its own media, as in OpenFlamingo. ``offset`` (B,) counts
    media tokens that came before ``input_ids`` (earlier chunks held in the KV cache).
    """
    index = (input_ids == media_token_id).long().cumsum(dim=1)
    return index if offset is None else index + offset[:, None]


def media_attention_mask(index: torch.Tensor, num_media: int, num_latents: int, *, attend: str = "last") -> MediaMask:
    """Build the mask from ``text_media_index`` output for M media slots of ``num_latents`` tokens each.

    attend="last": each token sees only the visual tokens of the last media before it (the paper's
    choice, which lets a model trained on few images generalise to many). attend="all": it sees every
    media before it (an ablation). Tokens before any media see none: their cross-attention output is zero.
    """
    slot = torch.arange(num_media, device=index.device).repeat_interleave(num_latents) + 1  # (M * n,) 1-based
    query = index[:, None, :, None]  # (B, 1, T, 1)
    visible = slot == query if attend == "last" else slot <= query  # (B, 1, T, M * n)
    has_media = index > 0
    # a row with nothing visible would make softmax NaN; let it see everything and zero its output later
    visible = visible | ~has_media[:, None, :, None]
    return MediaMask(visible=visible, has_media=has_media)


class MaskedCrossAttention(nn.Module):
    """Text queries attend to the visual tokens the ``MediaMask`` allows."""

    def __init__(self, *, dim: int, dim_visual: int, heads: int = 8, dim_head: int = 64) -> None:
        super().__init__()
        self.heads = heads
        inner = heads * dim_head
        self.norm = nn.LayerNorm(dim)
        self.to_q = nn.Linear(dim, inner, bias=False)
        self.to_kv = nn.Linear(dim_visual, 2 * inner, bias=False)
        self.to_out = nn.Linear(inner, dim, bias=False)

    def media_kv(self, visual: torch.Tensor) -> MediaKV:
        """(B, M, n, d_visual) visual tokens -> keys, values (B, heads, M * n, dim_head).

        Constant for a whole generation, so callers compute it once and reuse it at every decode step.
        """
        k, v = self.to_kv(visual.flatten(1, 2)).chunk(2, dim=-1)  # each (B, M * n, heads * dim_head)
        return split_heads(k, self.heads), split_heads(v, self.heads)

    def forward(self, x: torch.Tensor, kv: MediaKV, mask: MediaMask) -> torch.Tensor:
        """x (B, T, d) -> (B, T, d); zero for tokens that have no media before them."""
        q = split_heads(self.to_q(self.norm(x)), self.heads)  # (B, h, T, dh)
        out = F.scaled_dot_product_attention(q, kv[0], kv[1], attn_mask=mask.visible)
        out = merge_heads(out) * mask.has_media[..., None].to(out.dtype)  # (B, T, h * dh)
        return self.to_out(out)


class GatedXAttnDense(nn.Module):
    """The tanh-gated cross-attention + dense block inserted between frozen LM layers."""

    def __init__(
        self,
        *,
        dim: int,
        dim_visual: int,
        heads: int = 8,
        dim_head: int = 64,
        ff_mult: int = 4,
        dense_without_media: bool = True,
        gating: str = "tanh",
    ) -> None:
        super().__init__()
        self.attn = MaskedCrossAttention(dim=dim, dim_visual=dim_visual, heads=heads, dim_head=dim_head)
        self.ffw = FeedForward(dim=dim, mult=ff_mult)
        if gating == "tanh":
            self.attn_gate = nn.Parameter(torch.zeros(1))  # tanh(0) = 0: the block starts as the identity
            self.ffw_gate = nn.Parameter(torch.zeros(1))
        elif gating != "none":
            raise ValueError(f"gating must be tanh or none, got {gating!r}")
        self.gated = gating == "tanh"
        # The paper applies the dense part to every token, so tokens before the first media are changed by
        # it once the gate opens; False keeps them exactly as the LM computes them.
        self.dense_without_media = dense_without_media

    def forward(self, y: torch.Tensor, kv: MediaKV | None, mask: MediaMask) -> torch.Tensor:
        """y (B, T, d) text hidden states -> (B, T, d). ``kv`` None means the batch holds no media."""
        out = y
        if kv is not None:
            attended = self.attn(y, kv, mask)
            out = out + (self.attn_gate.tanh() * attended if self.gated else attended)
        dense = self.ffw(out)
        out = out + (self.ffw_gate.tanh() * dense if self.gated else dense)
        if not self.dense_without_media:
            out = torch.where(mask.has_media[..., None], out, y)
        return out
