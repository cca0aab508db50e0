"""The Perceiver Resampler (Flamingo paper, section 2.1 and figure 5).

A fixed set of learned latents cross-attends to the visual features of one image or video, so every
media item becomes the same number of visual tokens however many frames or patches it has.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .layers import FeedForward, merge_heads, split_heads


class PerceiverAttention(nn.Module):
    """Latents attend to concat(media features, latents): keys and values see both, as in the paper."""

    def __init__(self, *, dim: int, heads: int = 8, dim_head: int = 64) -> None:
        super().__init__()
        self.heads = heads
        inner = heads * dim_head
        self.norm_media = nn.LayerNorm(dim)
        self.norm_latents = nn.LayerNorm(dim)
        self.to_q = nn.Linear(dim, inner, bias=False)
        self.to_kv = nn.Linear(dim, 2 * inner, bias=False)
        self.to_out = nn.Linear(inner, dim, bias=False)

    def forward(self, media: torch.Tensor, latents: torch.Tensor) -> torch.Tensor:
        """media (N, S, d), latents (N, n, d) -> update for the latents (N, n, d)."""
        media = self.norm_media(media)
        latents = self.norm_latents(latents)
        q = split_heads(self.to_q(latents), self.heads)  # (N, h, n, dh)
        k, v = self.to_kv(torch.cat([media, latents], dim=1)).chunk(2, dim=-1)  # each (N, S + n, h*dh)
        out = F.scaled_dot_product_attention(q, split_heads(k, self.heads), split_heads(v, self.heads))
        return self.to_out(merge_heads(out))  # (N, n, d)


class PerceiverLayer(nn.Module):
    def __init__(self, *, dim: int, heads: int, dim_head: int, ff_mult: int) -> None:
        super().__init__()
        self.attn = PerceiverAttention(dim=dim, heads=heads, dim_head=dim_head)
        self.ffw = FeedForward(dim=dim, mult=ff_mult)

    def forward(self, media: torch.Tensor, latents: torch.Tensor) -> torch.Tensor:
        latents = latents + self.attn(media, latents)
        return latents + self.ffw(latents)


class PerceiverResampler(nn.Module):
    """(N, F, v, d) features of N media items with F frames of v patches each -> (N, num_latents, d).

    Videos get a learned temporal embedding per frame before the frames are flattened, as the paper
    describes; an image is a one-frame video (and gets frame 0's embedding when they are enabled, as
    OpenFlamingo does).
    """

    def __init__(
        self,
        *,
        dim: int,
        depth: int = 6,
        heads: int = 8,
        dim_head: int = 64,
        num_latents: int = 64,
        ff_mult: int = 4,
        max_frames: int | None = None,
    ) -> None:
        super().__init__()
        self.latents = nn.Parameter(torch.randn(num_latents, dim))
        self.frame_embs = nn.Parameter(torch.randn(max_frames, dim)) if max_frames else None
        self.layers = nn.ModuleList(
            PerceiverLayer(dim=dim, heads=heads, dim_head=dim_head, ff_mult=ff_mult) for _ in range(depth)
        )
        self.norm = nn.LayerNorm(dim)

    @property
    def max_frames(self) -> int:
        return 0 if self.frame_embs is None else self.frame_embs.shape[0]

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if features.ndim != 4:
            raise ValueError(f"expected features (N, frames, patches, dim), got shape {tuple(features.shape)}")
        n_items, n_frames = features.shape[:2]
        if self.frame_embs is not None:
            if n_frames > self.max_frames:
                raise ValueError(f"{n_frames} frames given but the resampler has temporal embeddings for {self.max_frames}")
            features = features + self.frame_embs[:n_frames, None, :]  # (N, F, v, d) + (F, 1, d)
        elif n_frames > 1:
            raise ValueError(f"{n_frames} frames given but this model has no temporal embeddings (perceiver.max_frames)")
        media = features.flatten(1, 2)  # (N, F * v, d)
        latents = self.latents.expand(n_items, -1, -1)  # (N, n, d)
        for layer in self.layers:
            latents = layer(media, latents)
        return self.norm(latents)
