"""What turns a media item's vision features into visual tokens: the Perceiver Resampler, or one of the
simpler connectors the Flamingo paper ablates it against (Table 3, "Perceiver Resampler" vs "MLP" and
"Transformer"; here an MLP and a mean-pooled linear projection).

Every connector maps (N, F, v, d) features (N items, F frames, v patches) to (N, n, d) tokens and has
``frame_embs`` (learned temporal embeddings, or None) so that videos are handled alike; ``n`` is
``PerceiverConfig.tokens_per_media``.
"""

from __future__ import annotations

from dataclasses import asdict

import torch
import torch.nn.functional as F
from torch import nn

from ..registry import Registry
from .config import PerceiverConfig
from .layers import FeedForward
from .perceiver import PerceiverResampler, frame_embeddings


def _with_frame_embeddings(frame_embs: nn.Parameter | None, features: torch.Tensor) -> torch.Tensor:
    """(N, F, v, d) features, each frame's temporal embedding added when there are any -> (N, F * v, d)."""
    if features.ndim != 4:
        raise ValueError(f"expected features (N, frames, patches, dim), got shape {tuple(features.shape)}")
    if frame_embs is not None:
        features = features + frame_embeddings(frame_embs, features.shape[1])[:, None, :]  # + (F, 1, d)
    return features.flatten(1, 2)  # (N, F * v, d)


class MLPConnector(nn.Module):
    """The MLP ablation: the features average-pooled to ``num_latents`` tokens (the resampler's count),
    then a residual two-layer MLP per token. No attention: a token sees only its own pooled patches."""

    def __init__(self, *, dim: int, num_latents: int, ff_mult: int, max_frames: int | None) -> None:
        super().__init__()
        self.num_latents = num_latents
        self.frame_embs = nn.Parameter(torch.randn(max_frames, dim)) if max_frames else None
        self.ffw = FeedForward(dim=dim, mult=ff_mult)
        self.norm = nn.LayerNorm(dim)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """(N, F, v, d) -> (N, num_latents, d)."""
        media = _with_frame_embeddings(self.frame_embs, features)  # (N, S, d), S = F * v
        pooled = F.adaptive_avg_pool1d(media.transpose(1, 2), self.num_latents).transpose(1, 2)  # (N, n, d)
        return self.norm(pooled + self.ffw(pooled))


class MeanConnector(nn.Module):
    """The mean-pooled linear projection: every patch of every frame averaged into one token, projected."""

    def __init__(self, *, dim: int, max_frames: int | None) -> None:
        super().__init__()
        self.frame_embs = nn.Parameter(torch.randn(max_frames, dim)) if max_frames else None
        self.proj = nn.Linear(dim, dim)
        self.norm = nn.LayerNorm(dim)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """(N, F, v, d) -> (N, 1, d)."""
        media = _with_frame_embeddings(self.frame_embs, features)  # (N, S, d)
        return self.norm(self.proj(media.mean(dim=1, keepdim=True)))  # (N, 1, d)


def _resampler(config: PerceiverConfig, dim: int) -> nn.Module:
    fields = {k: v for k, v in asdict(config).items() if k != "connector"}
    return PerceiverResampler(dim=dim, **fields)


# connector name (the model spec's ``perceiver.connector``) -> builder(config, vision dim)
CONNECTORS: Registry = Registry("connector", {
    "resampler": _resampler,
    "mlp": lambda config, dim: MLPConnector(dim=dim, num_latents=config.num_latents, ff_mult=config.ff_mult,
                                            max_frames=config.max_frames),
    "mean": lambda config, dim: MeanConnector(dim=dim, max_frames=config.max_frames),
})


def build_connector(config: PerceiverConfig, dim: int) -> nn.Module:
    """The connector ``config.connector`` names, for ``dim``-wide vision features."""
    return CONNECTORS.get(config.connector)(config, dim)
