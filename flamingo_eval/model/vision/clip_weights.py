"""CLIP vision-tower state dicts: pick the tower's keys out of a file, and read its shape config.

Key names are OpenAI CLIP's (also open_clip's): ``conv1.weight``, ``transformer.resblocks.{i}.attn.
in_proj_weight``, ``proj`` ... either bare (a vision tower on its own) or under ``visual.`` (a full
CLIP model, whose text-tower keys are then ignored).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from flamingo_eval.errors import WeightsError

_BLOCK = re.compile(r"^transformer\.resblocks\.(\d+)\.")
_REQUIRED = ("conv1.weight", "positional_embedding", "proj", "transformer.resblocks.0.mlp.c_fc.weight")
_REQUIRED_DIMS = dict(zip(_REQUIRED, (4, 2, 2, 2)))  # (width, 3, patch, patch), (tokens, width), ...


def select_visual_keys(
    state: Mapping[str, torch.Tensor], *, source: Path | str = "<state dict>"
) -> tuple[dict[str, torch.Tensor], str]:
    """Split out the vision tower of a CLIP state dict.

    In: a flat state dict, as read from ``source`` (used in messages only).
    Out: ``(visual, prefix)``: the tower's tensors under bare keys (``conv1.weight``), and the prefix
    they had in the file (``"visual."``, ``"module.visual."`` or ``""``) for error messages.
    """
    keys = list(state)
    # checkpoints saved from DistributedDataParallel prefix every key with "module."
    strip = "module." if keys and all(k.startswith("module.") for k in keys) else ""
    prefix = strip + "visual."
    if not any(k.startswith(prefix) for k in keys):
        prefix = strip  # a vision tower on its own: every key must fit
    # with "visual." keys present this is a full CLIP model, and the text-tower keys are ignored
    visual = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
    if "conv1.weight" not in visual and any(k.startswith("vision_model.") for k in keys):
        raise WeightsError(
            f"{source}: looks like a Hugging Face CLIP checkpoint ('vision_model.*' keys); "
            "clip_vit needs OpenAI / open_clip key names (visual.conv1.weight, ...)"
        )
    return visual, prefix


def count_layers(visual: Mapping[str, torch.Tensor]) -> int:
    """Number of residual blocks, from the highest ``transformer.resblocks.{i}`` index (+1)."""
    indices = [int(m.group(1)) for k in visual if (m := _BLOCK.match(k))]
    return max(indices) + 1 if indices else 0


def infer_clip_config(state: Mapping[str, torch.Tensor], *, source: Path | str = "<state dict>") -> dict[str, Any]:
    """Read a CLIP vision tower's size from its tensor shapes.

    In: a state dict with bare or ``visual.``-prefixed OpenAI key names.
    Out: ``{"width", "layers", "heads", "patch_size", "image_size", "embed_dim", "mlp_ratio"}``.
    ``heads`` is not stored in any shape: it is ``width // 64``, the head size of every released CLIP
    ViT (B/32, B/16, L/14, H/14, g/14); pass ``heads`` explicitly for anything else.
    ``act`` (quick_gelu for OpenAI's weights, gelu for most LAION ones) cannot be read from shapes.
    """
    visual, prefix = select_visual_keys(state, source=source)
    absent = [k for k in _REQUIRED if k not in visual]
    if absent:
        raise WeightsError(f"{source}: not a CLIP vision tower, missing {absent} (with or without a 'visual.' prefix)")
    for key, dims in _REQUIRED_DIMS.items():  # the shapes below are read by position
        if visual[key].dim() != dims or 0 in visual[key].shape:
            raise WeightsError(f"{source}: key {prefix + key!r} has shape {tuple(visual[key].shape)}, "
                               f"expected {dims} non-empty dimensions in a CLIP vision tower")
    conv = visual["conv1.weight"]  # (width, 3, patch, patch)
    pos = visual["positional_embedding"]  # (grid*grid + 1, width)
    proj = visual["proj"]  # (width, embed_dim)
    fc = visual["transformer.resblocks.0.mlp.c_fc.weight"]  # (width * mlp_ratio, width)
    width, patch_size = int(conv.shape[0]), int(conv.shape[-1])
    grid = math.isqrt(max(0, int(pos.shape[0]) - 1))
    if grid < 1 or grid * grid + 1 != pos.shape[0]:
        raise WeightsError(
            f"{source}: key {prefix + 'positional_embedding'!r} has {pos.shape[0]} rows, "
            "not grid*grid + 1 for a square patch grid"
        )
    return {
        "width": width,
        "layers": count_layers(visual),
        "heads": max(1, width // 64),
        "patch_size": patch_size,
        "image_size": grid * patch_size,
        "embed_dim": int(proj.shape[1]),
        "mlp_ratio": int(fc.shape[0]) / width,
    }


def check_layers(visual: Mapping[str, torch.Tensor], layers: int, *, source: Path | str, prefix: str = "") -> None:
    """Fail with a one-line reason when the file's block count differs from the configured one.

    (The key-by-key check would also fail, but with a list of missing or unexpected block keys.)
    """
    found = count_layers(visual)
    if found != layers:
        raise WeightsError(
            f"{source}: has {found} residual blocks (keys '{prefix}transformer.resblocks.0..{found - 1}.*'), "
            f"but the encoder is configured with layers={layers}"
        )
