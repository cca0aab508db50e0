"""--dtype and --vision-dtype: the whole model in bfloat16, the vision encoder's output close to float32's."""

from __future__ import annotations

import pytest
import torch

from flamingo_eval.errors import SpecError
from flamingo_eval.model import GenerationConfig, load_model
from flamingo_eval.storage import module_fingerprint

from ..conftest import open_gates, tiny_spec


def test_the_whole_model_in_bfloat16_answers_and_stays_close_to_float32(noise_images):
    full = load_model(tiny_spec())
    half = load_model(tiny_spec(), dtype="bfloat16", vision_dtype="bfloat16")
    for pipe in (full, half):
        open_gates(pipe.model)
    assert {p.dtype for p in half.model.parameters()} == {torch.bfloat16}
    assert {p.dtype for p in load_model(tiny_spec(), dtype="bfloat16").model.vision.parameters()} == {torch.float32}
    pixels = [full.pixels(image) for image in noise_images[:3]]
    with torch.inference_mode():
        ours, reference = half.model.encode_media(pixels), full.model.encode_media(pixels)
    assert ours.dtype == torch.bfloat16
    torch.testing.assert_close(ours.float(), reference, rtol=0.05, atol=0.05)  # bfloat16 keeps ~3 significant digits
    # a visual-token cache on disk must not serve float32 tokens to a bfloat16 encoder, or the reverse
    assert module_fingerprint(half.model.vision) != module_fingerprint(full.model.vision)
    answer = half.generate(["<image>A photo of"], [[noise_images[0]]], GenerationConfig(max_new_tokens=4))
    assert isinstance(answer[0], str)


def test_an_unknown_vision_dtype_is_named():
    with pytest.raises(SpecError, match="vision_dtype must be one of bfloat16, float16, float32, got 'float13'"):
        load_model(tiny_spec(), vision_dtype="float13")
