"""Frozen vision features, computed once: the encoder is frozen, so training reads its outputs from a
cache keyed by the encoder's weights and each file's content (float16 on disk)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from ..data.example import MediaRef
from ..data.media import load_media
from ..model.flamingo import Flamingo
from ..model.vision.base import ImageTransform
from ..storage import EmbeddingCache, file_digest, module_fingerprint


class FeatureStore:
    """MediaRef -> (F, v, d) frozen features (F = 1 for an image, the sampled frames for a video)."""

    def __init__(self, model: Flamingo, transform: ImageTransform, *, max_frames: int, cache_dir: Path | None,
                 batch_size: int = 32) -> None:
        self.model, self.transform, self.max_frames, self.batch_size = model, transform, max_frames, batch_size
        fingerprint = module_fingerprint(model.vision, repr(transform), f"features-v1-frames{max_frames}")
        self.cache = EmbeddingCache(cache_dir, fingerprint, dtype=torch.float16)
        self.keys: dict[MediaRef, str] = {}

    def key(self, ref: MediaRef) -> str:
        if ref not in self.keys:
            self.keys[ref] = f"{file_digest(ref.path)}:{ref.start}:{ref.end}"
        return self.keys[ref]

    def precompute(self, refs: Sequence[MediaRef], progress: Callable[[int, int], None] | None = None) -> None:
        """Compute and cache the features of every ref not cached yet (in batches of images)."""
        todo = list({self.key(r): r for r in refs if self.key(r) not in self.cache}.items())
        for start in range(0, len(todo), self.batch_size):
            chunk = todo[start : start + self.batch_size]
            pixels = [self._pixels(ref) for _, ref in chunk]
            for (key, _), features in zip(chunk, self.model.vision_features(pixels)):
                self.cache.put(key, features)
            if progress is not None:
                progress(min(start + self.batch_size, len(todo)), len(todo))
        self.cache.flush()

    def _pixels(self, ref: MediaRef) -> torch.Tensor:
        media = load_media(ref, fps=1.0, max_frames=self.max_frames)
        frames = media if isinstance(media, list) else [media]
        return torch.stack([self.transform(frame) for frame in frames])  # (F, 3, H, W)

    def __getitem__(self, ref: MediaRef) -> torch.Tensor:
        return self.cache[self.key(ref)]
