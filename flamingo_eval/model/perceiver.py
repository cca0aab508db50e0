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


def frame_embeddings(embs: torch.Tensor, n_frames: int) -> torch.Tensor:
    """The temporal embeddings of ``n_frames`` frames from the ``(max_frames, d)`` learned ones -> (n_frames, d).

    Up to ``max_frames`` frames take the first ``n_frames`` embeddings (a short clip is the start of a
    trained-length one, as in training and in OpenFlamingo). More frames take the learned embeddings
    linearly interpolated to ``n_frames`` positions spread from the first to the last: the Flamingo
    paper (appendix B.1.2) trains with 8 frames and inputs 30 at inference "by linearly interpolating
    the learnt temporal position embedding of the Perceiver Resampler". Keeping the endpoints
    (``align_corners=True``) is our reading: the first and last frames keep their learned embeddings.
    """
    max_frames = embs.shape[0]
    if n_frames <= max_frames:
        return embs[:n_frames]  # (n_frames, d)
    # interpolate in float32 (half-precision linear interpolation is not supported everywhere), then back
    channels = embs.float().t()[None]  # (max_frames, d) -> (1, d, max_frames): positions on the last axis
    stretched = F.interpolate(channels, size=n_frames, mode="linear", align_corners=True)  # (1, d, n_frames)
    return stretched[0].t().to(embs.dtype)  # (n_frames, d)


class PerceiverResampler(nn.Module):
    """(N, F, v, d) features of N media items with F frames of v patches each -> (N, num_latents, d).

    With learned temporal embeddings (``max_frames``), each frame gets its own before the frames are
    flattened, as the paper describes; a clip longer than ``max_frames`` frames gets them interpolated
    (``frame_embeddings``). An image is a one-frame video (and gets frame 0's embedding when they are
    enabled, as OpenFlamingo does).

    Without temporal embeddings (OpenFlamingo's models), the patches of all F frames are concatenated
    and the latents attend to all of them with no notion of their order: exactly what OpenFlamingo's
    own resampler does with F > 1 frames (its ``max_num_frames=None``), so its checkpoints see video as
    they would in its own code. Which frames reach the model is the run's frame policy
    (``flamingo_eval.engine.frames``).
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
        """(N, F, v, d) frame features, any F >= 1 -> (N, num_latents, d) visual tokens."""
        if features.ndim != 4:
            raise ValueError(f"expected features (N, frames, patches, dim), got shape {tuple(features.shape)}")
        n_items, n_frames = features.shape[:2]
        if self.frame_embs is not None:
            embs = frame_embeddings(self.frame_embs, n_frames)  # (F, d)
            features = features + embs[:, None, :]  # (N, F, v, d) + (F, 1, d)
        # without temporal embeddings: frames are pooled as they are (see the class docstring)
        media = features.flatten(1, 2)  # (N, F, v, d) -> (N, F * v, d): every frame's patches, frame by frame
        latents = self.latents.expand(n_items, -1, -1)  # (N, n, d)
        for layer in self.layers:
            latents = layer(media, latents)
        return self.norm(latents)
