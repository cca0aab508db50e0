"""A shared prompt start prefilled once gives the same generations as prefilling every whole prompt."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from flamingo_eval.model import GenerationConfig, MediaBatch, generate, load_model
from flamingo_eval.model.generate import GenerationStats
from flamingo_eval.model.prefix import encode_prefix

from ..conftest import open_gates, tiny_spec

PREFIX = "<image>A red cube.<|endofchunk|><image>Two blue balls here.<|endofchunk|>"
QUERIES = ["<image>A", "<image>Output: the", "Some text first <image>x", "no image at all"]


@pytest.fixture(scope="module")
def pipe():
    pipe = load_model(tiny_spec())
    open_gates(pipe.model)
    return pipe


def _pixels(pipe, images, idx):
    return [pipe.pixels(images[i]) for i in idx]


def _run(pipe, noise_images, config, *, use_prefix: bool, stats=None):
    demo_media = _pixels(pipe, noise_images, [0, 1])
    query_media = [_pixels(pipe, noise_images, [2 + i]) if "<image>" in q else [] for i, q in enumerate(QUERIES)]
    stops = pipe.stop_token_ids()
    if not use_prefix:
        ids, mask = pipe.encode_prompts([PREFIX + q for q in QUERIES])
        media = pipe.model.embed_media([demo_media + m for m in query_media])
        return generate(pipe.model, ids, attention_mask=mask, media=media, config=config, stop_token_ids=stops, pad_token_id=pipe.tokens.pad)
    prefix_ids = torch.tensor(pipe.tokenizer(PREFIX)["input_ids"])
    prefix = encode_prefix(pipe.model, prefix_ids, pipe.model.encode_media(demo_media))
    ids, mask = pipe.encode_prompts(QUERIES)
    media = pipe.model.embed_media(query_media)
    return generate(pipe.model, ids, attention_mask=mask, media=media, config=config, stop_token_ids=stops,
                    pad_token_id=pipe.tokens.pad, prefix=prefix, stats=stats)


@pytest.mark.parametrize("attend", ["last", "all"])
@pytest.mark.parametrize("beams", [1, 3])
def test_prefix_generation_equals_whole_prompts(pipe, noise_images, attend, beams):
    pipe.model.xattn_config = dataclasses.replace(pipe.model.xattn_config, attend=attend)
    try:
        config = GenerationConfig(max_new_tokens=8, num_beams=beams)
        stats = GenerationStats()
        whole = _run(pipe, noise_images, config, use_prefix=False)
        shared = _run(pipe, noise_images, config, use_prefix=True, stats=stats)
    finally:
        pipe.model.xattn_config = dataclasses.replace(pipe.model.xattn_config, attend="last")
    assert shared == whole
    assert len({tuple(r) for r in whole}) > 1, "rows must differ for the comparison to mean something"
    assert stats.calls == 1 and stats.prefill_s > 0 and stats.decode_s > 0


def test_prefix_media_matter(pipe, noise_images):
    """A different demonstration image in the prefix changes the continuation's logits."""
    prefix_ids = torch.tensor(pipe.tokenizer(PREFIX)["input_ids"])
    ids, mask = pipe.encode_prompts(["<image>A"])
    query = pipe.model.embed_media([_pixels(pipe, noise_images, [2])])

    def next_logits(demo_idx):
        prefix = encode_prefix(pipe.model, prefix_ids, pipe.model.encode_media(_pixels(pipe, noise_images, demo_idx)))
        from flamingo_eval.model.generate import Decoder

        with torch.inference_mode():
            return Decoder(pipe.model, ids, mask, query, prefix).logits

    assert not torch.allclose(next_logits([0, 1]), next_logits([0, 4]))


def test_decoding_keeps_only_the_last_media(pipe, noise_images):
    """With the paper's masking the decoder carries one media item per row after the prefill."""
    from flamingo_eval.model.generate import Decoder

    ids, mask = pipe.encode_prompts(["<image>a<image>b<image>c", "<image>z"])
    media = pipe.model.embed_media([_pixels(pipe, noise_images, [0, 1, 2]), _pixels(pipe, noise_images, [3])])
    with torch.inference_mode():
        decoder = Decoder(pipe.model, ids, mask, media)
        kept = decoder.media
        expected_last = torch.stack([media.tokens[0, 2], media.tokens[1, 0]])
    assert isinstance(kept, MediaBatch) and kept.tokens.shape[1] == 1
    assert torch.equal(kept.tokens[:, 0], expected_last)
    assert all(k.shape[2] == media.num_latents for k, _ in decoder.media_kv.values())
