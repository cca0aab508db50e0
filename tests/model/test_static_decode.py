"""Decode steps over a static KV cache (eager and compiled) give the eager search's tokens."""

from __future__ import annotations

import pytest
import torch

from flamingo_eval.model import GenerationConfig, generate, load_model
from flamingo_eval.model.generate import Decoder
from flamingo_eval.model.prefix import encode_prefix
from flamingo_eval.model.static_decode import StaticDecoder, StaticDecoding

from ..conftest import open_gates, tiny_spec

PROMPTS = ["<image>A red cube.<|endofchunk|><image>Two", "<image>Output: the", "Some text first <image>x y z w", "no image"]


@pytest.fixture(scope="module", params=["llama", "gpt_neox", "mpt"])
def pipe(request):
    pipe = load_model(tiny_spec(request.param))
    open_gates(pipe.model)
    return pipe


def _inputs(pipe, noise_images):
    ids, mask = pipe.encode_prompts(PROMPTS)
    per_prompt = [[0, 1], [2], [3], []]
    media = pipe.model.embed_media([[pipe.pixels(noise_images[i]) for i in idx] for idx in per_prompt])
    return ids, mask, media


def _generate(pipe, inputs, config, decoding=None, attend=None):
    ids, mask, media = inputs
    return generate(pipe.model, ids, attention_mask=mask, media=media, config=config, stop_token_ids=pipe.stop_token_ids(),
                    pad_token_id=pipe.tokens.pad, decoding=decoding, attend=attend)


@pytest.mark.parametrize("attend", ["last", "all"])
@pytest.mark.parametrize("beams", [1, 3])
def test_static_steps_give_the_eager_tokens(pipe, noise_images, beams, attend):
    inputs = _inputs(pipe, noise_images)
    config = GenerationConfig(max_new_tokens=10, num_beams=beams, length_penalty=0.0)
    eager = _generate(pipe, inputs, config, attend=attend)
    static = _generate(pipe, inputs, config, StaticDecoding(pipe.model, mode="static", bucket=16), attend=attend)
    assert static == eager
    assert len({tuple(row) for row in eager}) > 1, "rows must differ for the comparison to mean something"


def test_static_step_logits_match_the_growing_cache(pipe, noise_images):
    """Step by step, with beams reshuffled between steps: the logits agree to float rounding."""
    ids, mask, media = _inputs(pipe, noise_images)
    decoding = StaticDecoding(pipe.model, mode="static", bucket=7)
    with torch.inference_mode():
        grown = Decoder(pipe.model, ids, mask, media)
        static = decoding.decoder(pipe.model, ids, mask, media, max_new_tokens=6)
        assert isinstance(static, StaticDecoder)
        for decoder in (grown, static):
            decoder.expand(2)
        g = torch.Generator().manual_seed(0)
        for _ in range(6):
            order = torch.randperm(ids.shape[0] * 2, generator=g)
            tokens = torch.randint(0, 256, (ids.shape[0] * 2,), generator=g)
            for decoder in (grown, static):
                decoder.reorder(order)
                decoder.step(tokens)
            torch.testing.assert_close(static.logits, grown.logits, rtol=1e-4, atol=1e-4)
    # the mask reached the bucketed cache length (prompt + 6 rounded up to a multiple of 7)
    assert static.mask.shape[1] == -(-(ids.shape[1] + 6) // 7) * 7


def test_static_steps_continue_a_shared_prefix(pipe, noise_images):
    """A prefix's cache (generate's ``prefix``) moves into the static cache like a whole prompt's."""
    prefix_ids = torch.tensor(pipe.tokenizer("<image>A red cube.<|endofchunk|><image>Two blue balls.<|endofchunk|>")["input_ids"])
    prefix = encode_prefix(pipe.model, prefix_ids, pipe.model.encode_media([pipe.pixels(noise_images[i]) for i in (4, 5)]))
    ids, mask, media = _inputs(pipe, noise_images)
    config = GenerationConfig(max_new_tokens=8, num_beams=3)
    args = dict(attention_mask=mask, media=media, config=config, stop_token_ids=pipe.stop_token_ids(), pad_token_id=pipe.tokens.pad, prefix=prefix)
    eager = generate(pipe.model, ids, **args)
    static = generate(pipe.model, ids, **args, decoding=StaticDecoding(pipe.model, mode="static"))
    assert static == eager


def test_the_cache_is_reused_and_reset_while_the_shape_holds(pipe):
    decoding = StaticDecoding(pipe.model, mode="static", bucket=32)
    first = decoding.cache(6, 40)
    key = torch.ones(6, 2, 40, 16) if pipe.model.lm.config.model_type != "mpt" else torch.ones(6, 4, 40, 16)
    first.update(key, key, 0)
    again = decoding.cache(6, 50)  # 50 rounds up to 64, as 40 did
    assert again is first and int(again.layers[0].cumulative_length) == 0 and not again.layers[0].keys.any()
    assert decoding.cache(6, 70) is not first and decoding.cache(3, 70) is not first


def test_static_mode_is_validated(pipe):
    with pytest.raises(ValueError, match="eager"):
        StaticDecoding(pipe.model, mode="eager")
    with pytest.raises(ValueError, match="bucket"):
        StaticDecoding(pipe.model, mode="static", bucket=0)


class _CountingBackend:
    """A torch.compile backend that runs the traced graphs as they are and counts them."""

    def __init__(self) -> None:
        self.graphs = 0

    def __call__(self, gm, example_inputs):
        self.graphs += 1
        return gm.forward


def test_compiled_steps_give_the_eager_tokens_and_compile_once_per_shape(pipe, noise_images):
    """The compiled path (traced by dynamo, run without generated kernels here: CUDA graphs need a GPU)
    decodes as the eager one, and a second generation of the same batch shape compiles nothing new."""
    torch._dynamo.reset()
    backend = _CountingBackend()
    decoding = StaticDecoding(pipe.model, mode="compiled", backend=backend, bucket=64)
    assert not decoding.cuda_graphs and "no CUDA graphs" in decoding.describe()
    inputs = _inputs(pipe, noise_images)
    config = GenerationConfig(max_new_tokens=6, num_beams=3)
    eager = _generate(pipe, inputs, config)
    assert _generate(pipe, inputs, config, decoding) == eager
    graphs = backend.graphs
    assert graphs >= 1
    if decoding.fullgraph:  # LLaMA, GPT-NeoX: the whole step is one graph
        assert graphs == 1
    ids, mask, media = inputs
    shorter = (ids[:, 1:], mask[:, 1:], media)  # one token less of left padding: the same bucket
    assert _generate(pipe, shorter, config, decoding) == _generate(pipe, shorter, config)
    assert backend.graphs == graphs, "a batch in the same length bucket must reuse the compiled step"
