"""Video frames in the Perceiver Resampler: temporal embeddings interpolated past ``max_frames`` (the
Flamingo paper, appendix B.1.2), and frames pooled without temporal embeddings (OpenFlamingo)."""

from __future__ import annotations

import copy

import pytest
import torch

from flamingo_eval.model.perceiver import PerceiverResampler, frame_embeddings

DIM = 16


def learned(max_frames: int) -> torch.Tensor:
    return torch.randn(max_frames, DIM, generator=torch.Generator().manual_seed(max_frames))


def resampler(max_frames: int | None) -> PerceiverResampler:
    torch.manual_seed(0)
    return PerceiverResampler(dim=DIM, depth=2, heads=2, dim_head=8, num_latents=4, ff_mult=2, max_frames=max_frames).eval()


def test_up_to_max_frames_the_learned_embeddings_are_used_as_they_are() -> None:
    embs = learned(4)
    assert torch.equal(frame_embeddings(embs, 4), embs)  # n = max: unchanged
    assert torch.equal(frame_embeddings(embs, 3), embs[:3])  # shorter: the first n, as in training
    assert torch.equal(frame_embeddings(embs, 1), embs[:1])  # an image: frame 0's


def test_more_frames_interpolate_linearly_with_the_endpoints_kept() -> None:
    embs = learned(4)
    got = frame_embeddings(embs, 7)  # positions 0, 0.5, 1, ..., 3 on the learned grid
    assert got.shape == (7, DIM)
    torch.testing.assert_close(got[0], embs[0], rtol=0, atol=0)
    torch.testing.assert_close(got[-1], embs[-1], rtol=0, atol=0)
    for i in range(3):
        torch.testing.assert_close(got[2 * i], embs[i])  # grid points land on the learned ones
        torch.testing.assert_close(got[2 * i + 1], (embs[i] + embs[i + 1]) / 2)  # midpoints: the mean of neighbours
    # 4 -> 8: position 7 * 3/7 = 3 ... frame 1 sits at 3/7 between learned 0 and 1
    torch.testing.assert_close(frame_embeddings(embs, 8)[1], embs[0] + (embs[1] - embs[0]) * 3 / 7)
    assert torch.equal(frame_embeddings(learned(1), 3), learned(1).expand(3, -1))  # one learned: repeated


def test_interpolation_keeps_the_dtype() -> None:
    embs = learned(4).to(torch.bfloat16)
    got = frame_embeddings(embs, 9)
    assert got.dtype == torch.bfloat16 and torch.equal(got[0], embs[0]) and torch.equal(got[-1], embs[-1])


def test_resampler_adds_the_interpolated_embeddings_to_each_frame() -> None:
    model = resampler(4)
    features = torch.randn(2, 9, 5, DIM)  # (N, F, v, d): 9 frames, more than the 4 learned
    bare = copy.deepcopy(model)
    bare.frame_embs = None  # the same resampler without temporal embeddings
    with torch.no_grad():
        got = model(features)
        expected = bare(features + frame_embeddings(model.frame_embs, 9)[:, None, :])
    assert got.shape == (2, 4, DIM)
    torch.testing.assert_close(got, expected)
    with torch.no_grad():  # order matters through the embeddings
        assert not torch.allclose(model(features.flip(1)), got, atol=1e-4)


def test_without_temporal_embeddings_frames_are_pooled_in_any_order() -> None:
    model = resampler(None)
    features = torch.randn(2, 6, 5, DIM)
    with torch.no_grad():
        got = model(features)
        pooled = model(features.reshape(2, 1, 6 * 5, DIM))  # (N, F, v, d) -> (N, 1, F * v, d): one big frame
        shuffled = model(features[:, torch.randperm(6, generator=torch.Generator().manual_seed(0))])
    torch.testing.assert_close(got, pooled)
    torch.testing.assert_close(got, shuffled, rtol=1e-5, atol=1e-5)  # no temporal embedding: order is not seen


@pytest.mark.parametrize("max_frames", [4, None])
def test_one_frame_is_unchanged_by_the_video_rule(max_frames) -> None:
    model = resampler(max_frames)
    features = torch.randn(3, 1, 5, DIM)
    with torch.no_grad():
        got = model(features)
    embs = model.frame_embs[:1] if max_frames else torch.zeros(1, DIM)
    bare = copy.deepcopy(model)
    bare.frame_embs = None
    with torch.no_grad():
        torch.testing.assert_close(got, bare(features + embs[:, None, :]))
