"""Behaviour of the Flamingo model itself: equals the LM at init, media masking, batching, bad input."""

from __future__ import annotations

import copy

import pytest
import torch

from flamingo_eval.model import GenerationConfig, generate, load_model
from flamingo_eval.model.lm import load_language_model

from ..conftest import LM_CONFIGS, open_gates, tiny_spec

PROMPT = "Intro text <image>A red cube.<|endofchunk|><image>Two blue balls.<|endofchunk|><image>A"


@pytest.fixture(scope="module")
def tiny():
    return load_model(tiny_spec("llama"))


@pytest.fixture(scope="module")
def opened():
    pipe = load_model(tiny_spec("llama"))
    open_gates(pipe.model)
    return pipe


def bare_lm(pipe):
    """A plain copy of the pipeline's LM (same weights, no Flamingo hooks)."""
    lm = load_language_model(config=LM_CONFIGS["llama"])
    lm.resize_token_embeddings(len(pipe.tokenizer), mean_resizing=False)
    lm.load_state_dict(pipe.model.lm.state_dict())
    return lm


def logits(pipe, prompt, images):
    ids, mask = pipe.encode_prompts([prompt])
    with torch.no_grad():
        return pipe.model(ids, media=pipe.embed([images]), attention_mask=mask).logits[0]


def test_gates_at_zero_equal_the_bare_lm(tiny, noise_images):
    ids, _ = tiny.encode_prompts([PROMPT])
    with torch.no_grad():
        expected = bare_lm(tiny)(ids).logits[0]
    assert torch.equal(logits(tiny, PROMPT, noise_images[:3]), expected)


def test_changing_an_image_changes_only_the_text_after_it(opened, noise_images):
    ids, _ = opened.encode_prompts([PROMPT])
    positions = (ids[0] == opened.tokens.media).nonzero().flatten()  # where the 3 <image> tokens are
    before = logits(opened, PROMPT, noise_images[:3])
    after = logits(opened, PROMPT, [noise_images[0], noise_images[5], noise_images[2]])  # image 2 replaced
    second, third = positions[1], positions[2]
    assert torch.allclose(before[:second], after[:second], atol=1e-6, rtol=0)
    assert not torch.allclose(before[second:third], after[second:third], atol=1e-4)
    # the paper's masking: text after image 3 attends only to image 3, but reads earlier text through the
    # LM's self-attention, so it still changes; what cannot change is text before image 2.


def test_attend_last_sees_only_the_last_image(noise_images):
    """With the LM's self-attention unable to carry image 2 forward (a one-token-per-chunk check at the
    block level): the block's output for text after image 3 is independent of image 2 in "last" mode,
    and depends on it in "all" mode."""
    from flamingo_eval.model.xattn import media_attention_mask, text_media_index

    torch.manual_seed(0)
    for attend, independent in (("last", True), ("all", False)):
        pipe = load_model(tiny_spec("llama", xattn={"every_n_layers": 2, "heads": 2, "dim_head": 16, "ff_mult": 2, "attend": attend}))
        open_gates(pipe.model)
        block = next(iter(pipe.model.xattn.values()))
        ids, _ = pipe.encode_prompts([PROMPT])
        hidden = torch.randn(1, ids.shape[1], 64)
        index = text_media_index(ids, pipe.tokens.media)
        mask = media_attention_mask(index, 3, 8, attend=attend)
        a = pipe.embed([noise_images[:3]])
        b = pipe.embed([[noise_images[0], noise_images[5], noise_images[2]]])
        with torch.no_grad():
            out_a = block(hidden, block.attn.media_kv(a.tokens), mask)
            out_b = block(hidden, block.attn.media_kv(b.tokens), mask)
        third = (ids[0] == pipe.tokens.media).nonzero().flatten()[2]
        assert torch.allclose(out_a[0, third:], out_b[0, third:], atol=1e-6) == independent


def test_text_before_the_first_image(opened, noise_images):
    ids, _ = opened.encode_prompts([PROMPT])
    first = int((ids[0] == opened.tokens.media).nonzero()[0])
    with torch.no_grad():
        lm_logits = bare_lm(opened)(ids).logits[0]
    # default (the paper, OpenFlamingo): no cross-attention there, but the gated dense layer still acts
    got = logits(opened, PROMPT, noise_images[:3])
    assert not torch.allclose(got[:first], lm_logits[:first], atol=1e-4)
    assert torch.allclose(got[:first], logits(opened, PROMPT, noise_images[3:6])[:first], atol=1e-6)
    # dense_without_media=False: text before the first image is exactly the LM's
    skip = copy.deepcopy(opened)
    for block in skip.model.xattn.values():
        block.dense_without_media = False
    assert torch.equal(logits(skip, PROMPT, noise_images[:3])[:first], lm_logits[:first])


BATCH_PROMPTS = [
    "<image>A",
    "<image>A cat.<|endofchunk|><image>",
    "Question: what is it?<image>Answer:",
    "<image>a<|endofchunk|><image>b<|endofchunk|><image>c<|endofchunk|><image>",
    "<image>Output:",
    "no image at all, just text",
    "<image>x y z<|endofchunk|><image>x y",
    "<image>Long prompt with many more words than the others, to force padding.<|endofchunk|><image>It",
]


@pytest.mark.parametrize("beams", [1, 3])
def test_generation_is_batch_invariant(opened, noise_images, beams):
    media = [[noise_images[(b + i) % 6] for i in range(p.count("<image>"))] for b, p in enumerate(BATCH_PROMPTS)]
    config = GenerationConfig(max_new_tokens=8, num_beams=beams)
    stops = opened.stop_token_ids()

    def run(prompts, items):
        ids, mask = opened.encode_prompts(prompts)
        return generate(opened.model, ids, attention_mask=mask, media=opened.embed(items), config=config,
                        stop_token_ids=stops, pad_token_id=opened.tokens.pad)

    batched = run(BATCH_PROMPTS, media)
    alone = [run([p], [m])[0] for p, m in zip(BATCH_PROMPTS, media)]
    assert batched == alone
    assert len({tuple(r) for r in batched}) > 1


def test_more_image_tokens_than_media_is_an_error(tiny, noise_images):
    ids, mask = tiny.encode_prompts(["<image>one<image>two"])
    with pytest.raises(ValueError, match="sequence 0 has 2 <image> tokens but 1 media"):
        tiny.model(ids, media=tiny.embed([[noise_images[0]]]), attention_mask=mask)
    with pytest.raises(ValueError, match="2 <image> tokens but 0 media"):
        tiny.model(ids, media=None, attention_mask=mask)


def test_video_with_zero_frames_is_an_error(tiny):
    with pytest.raises(ValueError, match="zero frames"):
        tiny.pixels([])
    with pytest.raises(ValueError, match=r"media item 1 must be \(frames >= 1"):
        tiny.model.encode_media([torch.zeros(1, 3, 32, 32), torch.zeros(0, 3, 32, 32)])


def test_video_frames_get_temporal_embeddings(tiny, noise_images):
    frames = noise_images[:3]
    video = tiny.model.encode_media([tiny.pixels(frames)])
    reordered = tiny.model.encode_media([tiny.pixels(frames[::-1])])
    assert video.shape == (1, 8, 32)  # any number of frames -> num_latents tokens
    assert not torch.allclose(video, reordered, atol=1e-5)  # frame order matters through the temporal embeddings
    # more frames than the 4 learned embeddings: interpolated (tests/model/test_perceiver_frames.py), not refused
    assert tiny.model.encode_media([tiny.pixels(noise_images[:6])]).shape == (1, 8, 32)


def test_lm_called_directly_is_refused_but_lm_only_runs_it_bare(opened):
    ids, _ = opened.encode_prompts(["hello <image>"])
    with pytest.raises(RuntimeError, match="call Flamingo.forward"):
        opened.model.lm(ids)
    with torch.no_grad(), opened.model.lm_only() as lm:
        got = lm(ids).logits
        expected = bare_lm(opened)(ids).logits
    assert torch.equal(got, expected)


def test_scoring_matches_a_manual_sum_and_is_batch_invariant(opened, noise_images):
    prompts = ["<image>A photo of", "<image>x<|endofchunk|><image>Answer:"]
    conts = [" a cat", " yes"]
    media = [[noise_images[0]], [noise_images[1], noise_images[2]]]
    batched = opened.score(prompts, conts, media)
    for b in range(2):
        alone = opened.score([prompts[b]], [conts[b]], [media[b]])
        assert torch.allclose(batched[b], alone[0], atol=1e-4)
        ids, mask = opened.encode_prompts([prompts[b] + conts[b]])
        n = len(opened.tokenizer(conts[b], add_special_tokens=False)["input_ids"])
        with torch.no_grad():
            log_probs = opened.model(ids, media=opened.embed([media[b]]), attention_mask=mask).logits[0].log_softmax(-1)
        manual = sum(log_probs[t - 1, ids[0, t]] for t in range(ids.shape[1] - n, ids.shape[1]))
        assert torch.allclose(alone[0], manual, atol=1e-4)


def test_no_media_state_survives_a_failed_call(opened, noise_images):
    ids, mask = opened.encode_prompts(["<image>hi"])
    media = opened.embed([[noise_images[0]]])
    def fail(*args):
        raise RuntimeError("boom")

    handle = opened.model.lm.model.layers[-1].register_forward_hook(fail)  # fails inside the LM, mid-call
    try:
        with pytest.raises(RuntimeError, match="boom"):
            opened.model(ids, media=media, attention_mask=mask)
    finally:
        handle.remove()
    with pytest.raises(RuntimeError, match="call Flamingo.forward"):
        opened.model.lm(ids)  # the media slot was emptied even though the call failed
    assert opened.model(ids, media=media, attention_mask=mask).logits.shape[1] == ids.shape[1]
