"""Shared fixtures: tiny model specs and small real photos."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from PIL import Image

from flamingo_eval.model.spec import parse_spec

# Nothing in the tests may reach the network: make the HF libraries fail fast instead of trying.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

# Tiny random LMs of the three families OpenFlamingo uses; vocab 260 = 256 bytes + </s> + 3 Flamingo tokens.
LM_CONFIGS = {
    "llama": dict(model_type="llama", hidden_size=64, intermediate_size=128, num_hidden_layers=4, num_attention_heads=4,
                  num_key_value_heads=2, vocab_size=260, max_position_embeddings=512, bos_token_id=None,
                  eos_token_id=256, pad_token_id=259, tie_word_embeddings=False),
    "gpt_neox": dict(model_type="gpt_neox", hidden_size=64, intermediate_size=128, num_hidden_layers=4, num_attention_heads=4,
                     vocab_size=260, max_position_embeddings=512, bos_token_id=None, eos_token_id=256, pad_token_id=259,
                     tie_word_embeddings=False),
    "mpt": dict(model_type="mpt", d_model=64, n_layers=4, n_heads=4, expansion_ratio=2, vocab_size=260, max_seq_len=512,
                bos_token_id=None, eos_token_id=256, pad_token_id=259),
}


def tiny_spec(lm: str = "llama", **overrides):
    """A tiny random model spec; ``overrides`` replace top-level sections (perceiver=..., xattn=...)."""
    data = {
        "name": f"tiny-{lm}",
        "vision": {"kind": "tiny_vit"},
        "lm": {"config": LM_CONFIGS[lm], "tokenizer": "bytes"},
        "perceiver": {"depth": 2, "heads": 2, "dim_head": 16, "num_latents": 8, "max_frames": 4},
        "xattn": {"every_n_layers": 2, "heads": 2, "dim_head": 16, "ff_mult": 2},
        "seed": 0,
    }
    data.update(overrides)
    return parse_spec(data, source="tiny-test-spec")


@pytest.fixture
def photos() -> list[Image.Image]:
    """Four real photos shipped with scikit-image."""
    from skimage import data

    return [Image.fromarray(f()) for f in (data.astronaut, data.chelsea, data.coffee, data.rocket)]


@pytest.fixture
def noise_images() -> list[Image.Image]:
    rng = np.random.default_rng(0)
    return [Image.fromarray(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)) for _ in range(6)]


def open_gates(model, seed: int = 0) -> None:
    """Set every gate of a Flamingo to a non-zero value so the blocks change the output."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for block in model.xattn.values():
            block.attn_gate.copy_(0.5 + torch.rand(1, generator=g))
            block.ffw_gate.copy_(0.5 + torch.rand(1, generator=g))
