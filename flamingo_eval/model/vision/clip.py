"""A native CLIP ViT vision tower (OpenAI CLIP / open_clip ``VisionTransformer``), no open_clip needed.

Parameter names equal OpenAI's with the ``visual.`` prefix removed, so released weights load strictly:
``conv1``, ``class_embedding``, ``positional_embedding``, ``ln_pre``, ``transformer.resblocks.{i}.
{ln_1, attn, ln_2, mlp.c_fc, mlp.c_proj}``, ``ln_post``, ``proj``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from flamingo_eval.model.vision.base import ImageTransform, VisionEncoder, register_vision_encoder
from flamingo_eval.model.vision.clip_weights import check_layers, infer_clip_config, select_visual_keys
from flamingo_eval.model.vision.options import TRANSFORM_KEYS, pop_transform, reject_unknown
from flamingo_eval.model.state_dicts import load_strict, read_state_dict

__all__ = ["ClipViT", "infer_clip_config"]


class QuickGELU(nn.Module):
    """OpenAI CLIP's GELU approximation ``x * sigmoid(1.702 x)``; its weights were trained with it."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


_ACTS = {"quick_gelu": QuickGELU, "gelu": nn.GELU}


class SelfAttention(nn.Module):
    """Multi-head self-attention with ``nn.MultiheadAttention``'s parameter names, so CLIP weights
    load unchanged; computed with ``F.scaled_dot_product_attention`` (batch first, no mask)."""

    def __init__(self, *, width: int = 1024, heads: int = 16) -> None:
        super().__init__()
        self.heads = heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * width, width))  # rows: q, k, v
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * width))
        self.out_proj = nn.Linear(width, width)
        # nn.MultiheadAttention's initialisation
        nn.init.xavier_uniform_(self.in_proj_weight)
        nn.init.zeros_(self.out_proj.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, L, width) -> (N, L, width)."""
        n, length, width = x.shape
        qkv = F.linear(x, self.in_proj_weight, self.in_proj_bias)  # (N, L, 3*width)
        qkv = qkv.view(n, length, 3, self.heads, width // self.heads)  # (N, L, 3, heads, head_dim)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each (N, heads, L, head_dim)
        out = F.scaled_dot_product_attention(q, k, v)  # (N, heads, L, head_dim)
        out = out.transpose(1, 2).reshape(n, length, width)  # (N, L, width)
        return self.out_proj(out)


class Mlp(nn.Module):
    """``c_fc`` -> activation -> ``c_proj`` (OpenAI's names for the two linear layers)."""

    def __init__(self, *, width: int = 1024, hidden: int = 4096, act: str = "quick_gelu") -> None:
        super().__init__()
        self.c_fc = nn.Linear(width, hidden)
        self.gelu = _ACTS[act]()
        self.c_proj = nn.Linear(hidden, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.c_proj(self.gelu(self.c_fc(x)))


class ResidualBlock(nn.Module):
    """Pre-norm transformer block: ``x + attn(ln_1(x))`` then ``x + mlp(ln_2(x))``."""

    def __init__(self, *, width: int = 1024, heads: int = 16, mlp_ratio: float = 4.0, act: str = "quick_gelu") -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(width)
        self.attn = SelfAttention(width=width, heads=heads)
        self.ln_2 = nn.LayerNorm(width)
        # round, not int: a ratio read back from shapes (8192 / 1664) may land a hair below the integer
        self.mlp = Mlp(width=width, hidden=round(width * mlp_ratio), act=act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    """A stack of residual blocks, held as ``resblocks`` to match the weight names."""

    def __init__(
        self, *, width: int = 1024, layers: int = 24, heads: int = 16, mlp_ratio: float = 4.0, act: str = "quick_gelu"
    ) -> None:
        super().__init__()
        self.resblocks = nn.ModuleList(
            ResidualBlock(width=width, heads=heads, mlp_ratio=mlp_ratio, act=act) for _ in range(layers)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.resblocks:
            x = block(x)
        return x


class ClipViT(VisionEncoder):
    """CLIP's vision transformer; ``forward`` gives the patch tokens a Flamingo perceiver resamples.

    Defaults are ViT-L/14 at 224 px, the tower of the released OpenFlamingo models.
    """

    def __init__(
        self,
        *,
        image_size: int = 224,
        patch_size: int = 14,
        width: int = 1024,
        layers: int = 24,
        heads: int = 16,
        mlp_ratio: float = 4.0,
        act: str = "quick_gelu",
        ln_post_on_tokens: bool = False,
        embed_dim: int = 768,
        transform: ImageTransform | None = None,
    ) -> None:
        super().__init__()
        if act not in _ACTS:
            raise ValueError(f"ClipViT act must be one of {sorted(_ACTS)}, got {act!r}")
        if image_size % patch_size:
            raise ValueError(f"ClipViT image_size {image_size} is not a multiple of patch_size {patch_size}")
        if heads < 1 or width % heads:
            raise ValueError(f"ClipViT width {width} is not divisible by heads {heads}")
        self.image_size, self.patch_size, self.grid = image_size, patch_size, image_size // patch_size
        self.ln_post_on_tokens = ln_post_on_tokens
        self.dim = width
        self.embed_dim = embed_dim
        self.transform = transform if transform is not None else ImageTransform(size=image_size)

        scale = width**-0.5  # open_clip's initialisation scale for the free-standing parameters
        self.conv1 = nn.Conv2d(3, width, kernel_size=patch_size, stride=patch_size, bias=False)
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        self.positional_embedding = nn.Parameter(scale * torch.randn(self.grid * self.grid + 1, width))
        self.ln_pre = nn.LayerNorm(width)
        self.transformer = Transformer(width=width, layers=layers, heads=heads, mlp_ratio=mlp_ratio, act=act)
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Parameter(scale * torch.randn(width, embed_dim))  # only used by `pooled`

    def _encode(self, pixels: torch.Tensor) -> torch.Tensor:
        """(N, 3, image_size, image_size) -> transformer output (N, 1 + grid*grid, width), CLS first."""
        if pixels.ndim != 4 or pixels.shape[1] != 3 or pixels.shape[-2:] != (self.image_size, self.image_size):
            raise ValueError(
                f"ClipViT expects pixels of shape (N, 3, {self.image_size}, {self.image_size}), "
                f"got {tuple(pixels.shape)}"
            )
        x = self.conv1(pixels.to(self.conv1.weight.dtype))  # (N, width, grid, grid)
        x = x.flatten(2).transpose(1, 2)  # (N, grid*grid, width)
        cls = self.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)  # (N, 1, width)
        x = torch.cat([cls, x], dim=1)  # (N, 1 + grid*grid, width)
        x = self.ln_pre(x + self.positional_embedding.to(x.dtype))
        return self.transformer(x)  # (N, 1 + grid*grid, width)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        """Patch tokens: (N, 3, H, W) -> (N, grid*grid, width), CLS dropped."""
        tokens = self._encode(pixels)[:, 1:]  # (N, grid*grid, width)
        # OpenFlamingo takes open_clip's `output_tokens`. open_clip 2.16-2.20, which the released
        # OpenFlamingo checkpoints were trained with, returned these tokens WITHOUT ln_post (ln_post
        # was applied only to the pooled CLS token); later open_clip versions apply ln_post to every
        # token. Hence the default False; True reproduces the newer behaviour.
        if self.ln_post_on_tokens:
            tokens = self.ln_post(tokens)
        return tokens

    def embed(self, pixels: torch.Tensor) -> torch.Tensor:
        """CLIP's image embedding, which RICES compares (OpenFlamingo uses CLIP's ``encode_image``)."""
        return self.pooled(pixels)

    def pooled(self, pixels: torch.Tensor) -> torch.Tensor:
        """CLIP's image embedding (not normalised): (N, 3, H, W) -> ``ln_post(cls) @ proj`` (N, embed_dim)."""
        cls = self._encode(pixels)[:, 0]  # (N, width)
        return self.ln_post(cls) @ self.proj  # (N, embed_dim)


_CONSTRUCTOR_KEYS = (
    "image_size",
    "patch_size",
    "width",
    "layers",
    "heads",
    "mlp_ratio",
    "act",
    "ln_post_on_tokens",
    "embed_dim",
)
_TINY_DEFAULTS = {"image_size": 32, "patch_size": 8, "width": 32, "layers": 2, "heads": 2, "embed_dim": 32}


def _build(kind: str, options: dict[str, Any], weights: Path | str | None, defaults: dict[str, Any]) -> ClipViT:
    """Shared builder: explicit options win, then (with weights) the file's shapes, then ``defaults``."""
    options = dict(options)
    transform_options = {k: options.pop(k) for k in TRANSFORM_KEYS if k in options}
    reject_unknown(kind, options, _CONSTRUCTOR_KEYS)
    if weights is None:
        config = {**defaults, **options}
        return ClipViT(**config, transform=_transform(config, transform_options))
    state = read_state_dict(weights)
    visual, prefix = select_visual_keys(state, source=weights)
    config = {**defaults, **infer_clip_config(state, source=weights), **options}
    check_layers(visual, config["layers"], source=weights, prefix=prefix)
    # Build on the meta device (no random init of a large tower), then adopt the file's tensors;
    # any disagreement with the configured sizes fails in `load_strict`, naming the key and shapes.
    with torch.device("meta"):
        model = ClipViT(**config, transform=_transform(config, transform_options))
    load_strict(model, visual, source=weights, prefix=prefix, assign=True)
    return model


def _transform(config: dict[str, Any], transform_options: dict[str, Any]) -> ImageTransform:
    """CLIP's preprocessing at the tower's resolution, with the spec's overrides applied."""
    return pop_transform(dict(transform_options), default=ImageTransform(size=config.get("image_size", 224)))


@register_vision_encoder("clip_vit")
def build_clip_vit(options: dict[str, Any], weights: Path | str | None) -> ClipViT:
    """``vision.kind: clip_vit``: ClipViT (ViT-L/14 by default); sizes not given are read from ``weights``.

    ``weights`` None gives a random init drawn from the current torch RNG (the caller seeds).
    """
    return _build("clip_vit", options, weights, {})


@register_vision_encoder("tiny_vit")
def build_tiny_vit(options: dict[str, Any], weights: Path | str | None) -> ClipViT:
    """``vision.kind: tiny_vit``: a 32 px, 2-layer, width-32 ClipViT for fast tests."""
    return _build("tiny_vit", options, weights, _TINY_DEFAULTS)
