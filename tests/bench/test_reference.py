"""The OpenFlamingo reference built from OUR weights (flamingo_eval.bench.reference), and the export of our
weights in OpenFlamingo's checkpoint format that it loads."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from PIL import Image

from flamingo_eval.bench.reference import (
    ReferenceRunner, assemble_reference, build_reference, copy_language_model, load_vision_x,
)
from flamingo_eval.model import GenerationConfig, generate, load_model
from flamingo_eval.model.weights import _embedding_weights, load_openflamingo_state_dict, openflamingo_state_dict

from ..conftest import LM_CONFIGS, open_gates, tiny_spec
from ..model.openflamingo_reference import PROMPTS, reference_checkpoint, reference_inputs

# adapter sizes unlike the reference's defaults, so that a size taken from the wrong place would show
SIZES = {
    "perceiver": {"depth": 1, "heads": 2, "dim_head": 16, "num_latents": 4, "ff_mult": 1, "max_frames": 2},
    "xattn": {"every_n_layers": 2, "heads": 2, "dim_head": 16, "ff_mult": 1},
}
RUNNER_PROMPTS = [  # the middle one has two images: its third vision_x slot is zero padding
    "<image>A cat.<|endofchunk|><image>A dog sits.<|endofchunk|><image>A",
    "<image>One.<|endofchunk|><image>",
    "<image>x<|endofchunk|><image>yy<|endofchunk|><image>Output: a bird",
]


def _trained(lm: str, *, attend: str = "last", seed: int = 0):
    """A tiny pipe whose weights look trained: gates open (so the media matter) and distinct rows for
    the added tokens (so a row mix-up would show)."""
    pipe = load_model(tiny_spec(lm, perceiver=SIZES["perceiver"], xattn=dict(SIZES["xattn"], attend=attend)))
    open_gates(pipe.model, seed=seed)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for matrix in _embedding_weights(pipe.model).values():
            for token in pipe.tokens.added:
                matrix[token] = torch.randn(matrix.shape[1], generator=g)
    return pipe


def _scramble(pipe, seed: int) -> None:
    """Overwrite every weight the export covers with other random values."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in [p for _, p in pipe.model.trainable_parameters()] + list(_embedding_weights(pipe.model).values()):
            param.copy_(torch.randn(param.shape, generator=g))


@pytest.mark.parametrize("lm", sorted(LM_CONFIGS))
def test_export_then_import_reproduces_the_weights(lm):
    source = _trained(lm)
    state = openflamingo_state_dict(source.model, source.tokens.added)
    target = load_model(source.spec)
    _scramble(target, seed=7)
    expected, before = source.model.state_dict(), target.model.state_dict()
    assert not all(torch.equal(expected[k], before[k]) for k in expected)
    load_openflamingo_state_dict(target.model, state, source="export")
    after = target.model.state_dict()
    different = [k for k in expected if not torch.equal(expected[k], after[k])]
    assert not different  # every weight: vision, frozen LM, adapters, embeddings


@pytest.mark.parametrize("lm", sorted(LM_CONFIGS))
def test_export_has_the_keys_openflamingo_saves(lm):
    pipe = _trained(lm)
    state = openflamingo_state_dict(pipe.model, pipe.tokens.added)
    ref = assemble_reference(pipe, copy_language_model(pipe))  # frozen as OpenFlamingo's factory freezes
    saved = reference_checkpoint(ref)  # OpenFlamingo's own filter: what its training run writes
    assert set(saved) <= set(state)
    # beyond that only the untied output matrix, which OpenFlamingo's filter drops as frozen
    assert set(state) - set(saved) <= {"lang_encoder.lm_head.weight"}
    assert all(state[k].shape == saved[k].shape for k in saved)
    assert any(".gated_cross_attn_layer.ff.3.weight" in k for k in state) and "perceiver.frame_embs" in state


@pytest.mark.parametrize("lm,attend", [(lm, "last") for lm in sorted(LM_CONFIGS)] + [("llama", "all")])
def test_reference_from_our_weights_gives_our_logits(lm, attend, noise_images):
    pipe = _trained(lm, attend=attend)
    rng = torch.random.get_rng_state()
    ref = build_reference(pipe)
    assert torch.equal(torch.random.get_rng_state(), rng), "building the reference must not move the caller's RNG"
    assert ref.perceiver.latents.shape == (4, pipe.model.vision.dim) and len(ref.perceiver.layers) == 1
    block = ref.lang_encoder.gated_cross_attn_layers[1]
    assert block.attn.heads == 2 and block.attn.only_attend_immediate_media == (attend == "last")
    ids, mask, pixels, vision_x = reference_inputs(pipe, noise_images, PROMPTS)
    assert (mask == 0).any(), "the batch must exercise left padding"
    with torch.no_grad():
        expected = ref(vision_x, ids, attention_mask=mask).logits
        got = pipe.model(ids, media=pipe.model.embed_media(pixels), attention_mask=mask).logits
        other = vision_x.clone()
        other[0, 1] = pipe.pixels(noise_images[5])  # prompt 0's second image
        changed = ref(other, ids, attention_mask=mask).logits
    real = mask.bool()
    assert (got[real] - expected[real]).abs().max().item() < 1e-4
    assert (changed[0] - expected[0]).abs().max().item() > 1e-3, "the images must matter"


def test_a_model_without_dense_before_media_has_no_reference():
    pipe = load_model(tiny_spec("llama", xattn=dict(SIZES["xattn"], dense_without_media=False)))
    with pytest.raises(ValueError, match="dense_without_media"):
        build_reference(pipe)


@pytest.fixture
def image_files(noise_images, tmp_path):
    paths = []
    for i, image in enumerate(noise_images):
        paths.append(tmp_path / f"image{i}.png")  # lossless: the runner and we read the same pixels
        image.save(paths[-1])
    return [[paths[(b + i) % len(paths)] for i in range(prompt.count("<image>"))] for b, prompt in enumerate(RUNNER_PROMPTS)]


@pytest.mark.parametrize("beams", [1, 3], ids=["greedy", "beam3"])
def test_runner_generates_our_tokens(beams, image_files):
    pipe = _trained("llama")
    images = [[Image.open(path).convert("RGB") for path in row] for row in image_files]
    ids, mask = pipe.encode_prompts(RUNNER_PROMPTS)
    media = pipe.embed(images)
    # random weights rarely produce <|endofchunk|>: also stop on a token they do produce early on
    free = generate(pipe.model, ids, attention_mask=mask, media=media, config=GenerationConfig(max_new_tokens=3),
                    stop_token_ids=[], pad_token_id=pipe.tokens.pad)
    stops = [pipe.tokens.end_of_chunk, free[0][1]]
    config = GenerationConfig(max_new_tokens=10, num_beams=beams)
    got = generate(pipe.model, ids, attention_mask=mask, media=media, config=config, stop_token_ids=stops,
                   pad_token_id=pipe.tokens.pad)
    runner = ReferenceRunner(build_reference(pipe), dataclasses.replace(pipe, model=None))  # ours is not needed
    texts, token_ids = runner.generate(RUNNER_PROMPTS, image_files, config, stop_token_ids=stops)
    assert token_ids == got
    assert any(len(row) < 10 for row in got), "rows must stop at different lengths"
    assert texts == pipe.tokenizer.batch_decode(got, skip_special_tokens=True)
    assert pipe.tokenizer.padding_side == "left"


def test_runner_reads_the_files_on_every_call(image_files, noise_images):
    pipe = _trained("llama")
    first = load_vision_x(image_files, pipe.transform)  # (B, T_img, 1, 3, H, W)
    assert first.shape[:3] == (3, 3, 1)
    assert first[1, 2].abs().max() == 0, "a prompt with fewer images is zero-padded"
    noise_images[5].save(image_files[0][0])  # another image under the same name
    second = load_vision_x(image_files, pipe.transform)
    assert not torch.equal(first[0, 0], second[0, 0]) and torch.equal(first[1:], second[1:])
    runner = ReferenceRunner(build_reference(pipe), pipe)
    out = runner.generate(RUNNER_PROMPTS[:1], image_files[:1], GenerationConfig(max_new_tokens=2))
    assert len(out.texts) == 1 and 1 <= len(out.token_ids[0]) <= 2  # the pipe's own stop tokens by default
