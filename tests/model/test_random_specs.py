"""The released OpenFlamingo architectures with random weights (for speed on a GPU), checked here on
PyTorch's meta device: shapes and parameter counts, no memory."""

from __future__ import annotations

import pytest

from flamingo_eval.model import load_model

# parameters (millions) by part: CLIP ViT-L/14's vision tower, the LM (its vocabulary resized to the
# stand-in tokenizer's 49,154 rows), the resampler, the gated blocks (every 1st / 2nd / 4th layer)
EXPECTED = {
    "openflamingo-3b-random": {"vision": 304.0, "lm": 1308.7, "perceiver": 63.0, "xattn": 881.0},
    "openflamingo-4b-random": {"vision": 304.0, "lm": 2769.3, "perceiver": 63.0, "xattn": 897.7},
    "openflamingo-9b-random": {"vision": 304.0, "lm": 6644.1, "perceiver": 63.0, "xattn": 1115.8},
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_random_released_architectures_build_on_the_meta_device(name):
    pipe = load_model(name, device="meta")
    counts = {part: round(n / 1e6, 1) for part, n in pipe.describe().items()}
    assert counts == EXPECTED[name]
    assert pipe.device.type == "meta" and next(pipe.model.lm.parameters()).device.type == "meta"
    assert len(pipe.tokenizer("<image>Output: a photo of a cat")["input_ids"]) < 12  # a BPE tokenizer, not bytes
    blocks = {"openflamingo-3b-random": 24, "openflamingo-4b-random": 16, "openflamingo-9b-random": 8}[name]
    assert len(pipe.model.xattn) == blocks
