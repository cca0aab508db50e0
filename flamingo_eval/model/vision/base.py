"""The frozen vision encoder interface: pixels in, per-image patch features out.

Every encoder is an ``nn.Module`` with a feature width ``dim`` and an ``ImageTransform`` that turns a
PIL image into the pixel tensor it expects. Encoders are built by ``kind`` from a registry, so a model
spec (YAML) names its encoder as data and no code branches on encoder names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from PIL import Image
from torch import nn

from ...registry import Registry

_RESAMPLE = {"bicubic": Image.Resampling.BICUBIC, "bilinear": Image.Resampling.BILINEAR}


@dataclass(frozen=True, kw_only=True)
class ImageTransform:
    """Resize, crop and normalise a PIL image into a (3, size, size) float tensor."""

    size: int = 224
    mean: tuple[float, float, float] = (0.48145466, 0.4578275, 0.40821073)  # CLIP's
    std: tuple[float, float, float] = (0.26862954, 0.26130258, 0.27577711)
    interpolation: str = "bicubic"
    crop: bool = True  # True: shortest side to `size`, then centre crop (CLIP); False: squash to size x size

    def __post_init__(self) -> None:
        if self.interpolation not in _RESAMPLE:
            raise ValueError(f"interpolation must be one of {sorted(_RESAMPLE)}, got {self.interpolation!r}")

    def __call__(self, image: Image.Image) -> torch.Tensor:
        """(H, W) PIL image of any mode -> (3, size, size) float32 tensor, normalised."""
        image = image.convert("RGB")
        resample = _RESAMPLE[self.interpolation]
        if self.crop:
            w, h = image.size
            scale = self.size / min(w, h)
            # round as torchvision's Resize does, so features match open_clip's preprocessing
            new_w, new_h = (self.size, int(self.size * h / w)) if w <= h else (int(self.size * w / h), self.size)
            if scale != 1:
                image = image.resize((new_w, new_h), resample)
            w, h = image.size
            left = int(round((w - self.size) / 2.0))
            top = int(round((h - self.size) / 2.0))
            image = image.crop((left, top, left + self.size, top + self.size))
        else:
            image = image.resize((self.size, self.size), resample)
        pixels = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0)  # (H, W, 3)
        pixels = pixels.permute(2, 0, 1)  # (3, H, W)
        mean = torch.tensor(self.mean).view(3, 1, 1)
        std = torch.tensor(self.std).view(3, 1, 1)
        return (pixels - mean) / std


class VisionEncoder(nn.Module):
    """Base class: ``forward(pixels (N, 3, H, W)) -> features (N, v, dim)``, frozen and deterministic."""

    dim: int
    transform: ImageTransform

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:  # pragma: no cover - interface
        raise NotImplementedError

    def embed(self, pixels: torch.Tensor) -> torch.Tensor:
        """One vector per image, for retrieval: (N, 3, H, W) -> (N, d). Default: the mean feature;
        encoders with a trained pooled output (CLIP) override it."""
        return self(pixels).mean(dim=1)


# kind -> builder(options: dict, weights: Path | None) -> VisionEncoder
VisionBuilder = Callable[[dict[str, Any], "Path | None"], VisionEncoder]
VISION_ENCODERS: Registry[VisionBuilder] = Registry("vision encoder kind")


def register_vision_encoder(kind: str) -> Callable[[VisionBuilder], VisionBuilder]:
    """Decorator: make a builder available to model specs under ``vision.kind: <kind>``."""
    return VISION_ENCODERS.register(kind)


def build_vision_encoder(kind: str, options: dict[str, Any], weights: Path | None) -> VisionEncoder:
    """Build a registered encoder, frozen and in eval mode. ``weights`` None means random init."""
    encoder = VISION_ENCODERS.get(kind)(dict(options), weights)
    encoder.requires_grad_(False)
    return encoder.eval()
