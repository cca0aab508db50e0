"""The GPU-only parts, on the tiny spec: compiled decode steps with CUDA graphs, the allocator-measured
token budget, bfloat16 end to end. Skipped, with the reason, on a machine without a CUDA GPU (the CPU
halves of these paths are tested in test_static_decode.py, test_memory_budget.py and test_dtypes.py)."""

from __future__ import annotations

import pytest
import torch

from flamingo_eval.engine.memory_budget import measure_costs
from flamingo_eval.model import GenerationConfig, generate, load_model
from flamingo_eval.model.static_decode import StaticDecoding

from ..conftest import open_gates, tiny_spec

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU: CUDA graphs and the CUDA allocator")


@pytest.mark.parametrize("lm", ["llama", "mpt"])
def test_cuda_graph_steps_give_the_eager_tokens(lm, noise_images):
    pipe = load_model(tiny_spec(lm), device="cuda")
    open_gates(pipe.model)
    ids, mask = pipe.encode_prompts(["<image>A red cube.<|endofchunk|><image>Two", "<image>Output: the", "no image"])
    media = pipe.model.embed_media([[pipe.pixels(noise_images[0]), pipe.pixels(noise_images[1])], [pipe.pixels(noise_images[2])], []])
    config = GenerationConfig(max_new_tokens=8, num_beams=3)
    args = dict(attention_mask=mask, media=media, config=config, stop_token_ids=pipe.stop_token_ids(), pad_token_id=pipe.tokens.pad)
    eager = generate(pipe.model, ids, **args)
    decoding = StaticDecoding(pipe.model, mode="compiled")
    assert decoding.cuda_graphs and "CUDA graphs" in decoding.describe()
    assert generate(pipe.model, ids, **args, decoding=decoding) == eager
    assert generate(pipe.model, ids, **args, decoding=decoding) == eager  # replayed graphs, not recorded ones


def test_token_costs_are_measured_by_the_allocator():
    costs = measure_costs(load_model(tiny_spec(), device="cuda"), probe_tokens=64)
    assert costs.measured and costs.kv_bytes == 4 * 2 * 2 * 16 * 4 and costs.activation_bytes >= 0
