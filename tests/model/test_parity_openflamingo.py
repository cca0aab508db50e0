"""Parity with OpenFlamingo's own implementation (open-flamingo==2.0.1): same weights, same inputs ->
the same logits and the same generations, for the three LM families OpenFlamingo ships."""

from __future__ import annotations

import pytest
import torch

from flamingo_eval.model.generate import cut_after_stop
from flamingo_eval.model import GenerationConfig, generate, load_model
from flamingo_eval.model.weights import load_openflamingo_state_dict

from ..conftest import LM_CONFIGS, tiny_spec
from .openflamingo_reference import (
    PROMPTS, REFERENCE_PERCEIVER, REFERENCE_XATTN, build_reference, reference_checkpoint, reference_inputs,
)

EVERY_N = 2


@pytest.fixture(scope="module", params=sorted(LM_CONFIGS))
def pair(request):
    lm = request.param
    spec = tiny_spec(lm, perceiver=REFERENCE_PERCEIVER, xattn=dict(REFERENCE_XATTN, every_n_layers=EVERY_N))
    ours = load_model(spec)
    ref = build_reference(ours, LM_CONFIGS[lm], EVERY_N)
    load_openflamingo_state_dict(ours.model, reference_checkpoint(ref), source=f"reference-{lm}")
    return ours, ref


@pytest.mark.parametrize("batch", [1, 3], ids=["single", "padded-batch"])
def test_logits_match_reference(pair, noise_images, batch):
    ours, ref = pair
    ids, mask, pixels, vision_x = reference_inputs(ours, noise_images, PROMPTS[:batch])
    assert batch == 1 or (mask == 0).any(), "the batch must exercise left padding"
    with torch.no_grad():
        expected = ref(vision_x, ids, attention_mask=mask).logits
        got = ours.model(ids, media=ours.model.embed_media(pixels), attention_mask=mask).logits
    real = mask.bool()
    # the gates are open, so the images matter: a mismatch in any part would show
    assert (got[real] - expected[real]).abs().max().item() < 1e-4


@pytest.mark.parametrize("batch", [1, 3], ids=["single", "padded-batch"])
@pytest.mark.parametrize("beams,length_penalty", [(1, 1.0), (3, 0.0), (3, 1.0)], ids=["greedy", "beam3-lp0", "beam3-lp1"])
@pytest.mark.parametrize("early_stop", [False, True], ids=["long", "stopping"])
def test_generation_matches_reference(pair, noise_images, batch, beams, length_penalty, early_stop):
    ours, ref = pair
    ids, mask, pixels, vision_x = reference_inputs(ours, noise_images, PROMPTS[:batch])
    media = ours.model.embed_media(pixels)
    stops = [ours.tokens.end_of_chunk]
    if early_stop:
        # random weights rarely produce <|endofchunk|>: also stop on a token the model does produce
        # early on, so that rows and beams finish at different lengths (two stop tokens, as EOS lists)
        free = generate(ours.model, ids, attention_mask=mask, media=media, config=GenerationConfig(max_new_tokens=4),
                        stop_token_ids=[], pad_token_id=ours.tokens.pad)
        stops.append(free[0][2])
    config = GenerationConfig(max_new_tokens=12, num_beams=beams, length_penalty=length_penalty)
    with torch.no_grad():
        out = ref.generate(
            vision_x, ids, attention_mask=mask, max_new_tokens=12, num_beams=beams, length_penalty=length_penalty,
            do_sample=False, pad_token_id=ours.tokens.pad, eos_token_id=stops,
        )
    expected = [cut_after_stop(row, stops) for row in out[:, ids.shape[1]:].tolist()]
    got = generate(ours.model, ids, attention_mask=mask, media=media, config=config, stop_token_ids=stops,
                   pad_token_id=ours.tokens.pad)
    assert got == expected
    assert all(len(row) > 0 for row in got)
    if early_stop and (beams == 1 or length_penalty == 0.0):
        # (with length_penalty 1 a longer hypothesis may win, but the stopped ones still shaped the search)
        assert any(row[-1] in stops and len(row) < 12 for row in got), "this case must exercise early stopping"


def test_video_frames_without_temporal_embeddings_match_reference(pair, noise_images):
    """OpenFlamingo's models have no temporal embeddings (``max_num_frames=None``); its resampler given
    F > 1 frames concatenates their patches, as ours does (the ``pool`` frame policy). (Its ``Flamingo``
    refuses F > 1 before the resampler, so the comparison is of the resamplers, on the same features.)"""
    ours, ref = pair
    assert ours.model.perceiver.frame_embs is None and ref.perceiver.frame_embs is None
    videos = [ours.pixels(noise_images[i : i + 3]) for i in range(3)]  # each (F=3, 3, H, W), frames differ
    with torch.no_grad():
        features = ours.model.vision_features(videos)  # [(F, v, d)] from the shared frozen encoder
        expected = ref.perceiver(torch.stack(features)[None])[0]  # (1, T=3, F, v, d) -> (1, T, n, d) -> (T, n, d)
        got = ours.model.encode_media(videos)  # (3, n, d)
        one_frame = ours.model.encode_media([v[:1] for v in videos])
    assert got.shape == expected.shape
    assert (got - expected).abs().max().item() < 1e-4
    assert (got - one_frame).abs().max().item() > 1e-3, "the extra frames must change the output"
