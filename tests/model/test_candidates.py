"""Candidates scored over one shared prompt equal each ``prompt + candidate`` scored separately."""

from __future__ import annotations

import pytest
import torch

from flamingo_eval.model import MediaBatch, load_model
from flamingo_eval.model import candidates as candidates_module
from flamingo_eval.model.candidates import score_candidates

from ..conftest import open_gates, tiny_spec

DEMOS = "<image>Output:a red cube<|endofchunk|><image>Output:two blue balls<|endofchunk|>"
# byte-level candidates: shared starts ("car", "cart", "cat"), one a prefix of another ("car" / "cart"),
# one-token candidates ("c", "x"), and different lengths
OPTIONS = ["cat", "car", "cart", "c", "x", "a dog on a mat", "a dog", "zebra crossing", "cathedral", "ca"]
TOLERANCE = 1e-4


@pytest.fixture(scope="module", params=["llama", "gpt_neox", "mpt"])
def pipe(request):
    pipe = load_model(tiny_spec(request.param))
    open_gates(pipe.model)  # the gated blocks must act, or the media would not matter
    return pipe


def _separately(pipe, prompt, media, options, attend):
    """The reference: every prompt + option as a whole sequence of its own."""
    batch = MediaBatch.stack([media])
    return pipe.score([prompt] * len(options), options, batch.repeat_interleave(len(options)), attend=attend)


def _shared(pipe, prompt, media, options, attend, packed=None):
    ids = torch.tensor(pipe.tokenizer(prompt)["input_ids"])
    conts = [pipe.tokenizer(o, add_special_tokens=False)["input_ids"] for o in options]
    return score_candidates(pipe.model, ids, media, conts, attend=attend, packed=packed)


@pytest.mark.parametrize("attend", ["last", "all"])
@pytest.mark.parametrize("prompt_kind", ["demos+query", "query only", "text only"])
def test_shared_prompt_scores_equal_separate_scores(pipe, noise_images, attend, prompt_kind):
    prompt = {"demos+query": DEMOS + "<image>Output:", "query only": "<image>Output:", "text only": "Output:"}[prompt_kind]
    images = noise_images[: prompt.count("<image>")]
    media = pipe.model.encode_media([pipe.pixels(im) for im in images])  # (M, n, d)
    expected = _separately(pipe, prompt, media, OPTIONS, attend)
    got = _shared(pipe, prompt, media, OPTIONS, attend)
    assert got.shape == (len(OPTIONS),)
    assert torch.allclose(got, expected, atol=TOLERANCE, rtol=0), (got - expected).abs().max()
    assert len(set(expected.tolist())) == len(OPTIONS), "the options must score differently for this to mean anything"


@pytest.mark.parametrize("packed", [True, False])
def test_both_paths_on_an_lm_with_positions(noise_images, packed):
    """The packed tree and the rows path agree with separate scoring on a LLaMA (which can take either)."""
    pipe = load_model(tiny_spec("llama"))
    open_gates(pipe.model)
    prompt = DEMOS + "<image>Output:"
    media = pipe.model.encode_media([pipe.pixels(im) for im in noise_images[:3]])
    expected = _separately(pipe, prompt, media, OPTIONS, "last")
    got = _shared(pipe, prompt, media, OPTIONS, "last", packed=packed)
    assert torch.allclose(got, expected, atol=TOLERANCE, rtol=0)


def test_chunks_split_the_tree_and_still_agree(noise_images, monkeypatch):
    """With room for only a few nodes per forward, candidates spread over many chunks (ancestors repeated)."""
    monkeypatch.setattr(candidates_module, "MAX_NODES", 4)
    monkeypatch.setattr(candidates_module, "MAX_ROW_TOKENS", 40)
    pipe = load_model(tiny_spec("llama"))
    open_gates(pipe.model)
    prompt = "<image>Output:"
    media = pipe.model.encode_media([pipe.pixels(noise_images[0])])
    expected = _separately(pipe, prompt, media, OPTIONS, "last")
    for packed in (True, False):
        assert torch.allclose(_shared(pipe, prompt, media, OPTIONS, "last", packed=packed), expected, atol=TOLERANCE, rtol=0)


def test_the_query_image_changes_the_scores(noise_images):
    pipe = load_model(tiny_spec("llama"))
    open_gates(pipe.model)
    scores = [_shared(pipe, "<image>Output:", pipe.model.encode_media([pipe.pixels(noise_images[i])]), OPTIONS, "last")
              for i in (0, 1)]
    assert not torch.allclose(scores[0], scores[1])


def test_bad_candidates_are_refused():
    pipe = load_model(tiny_spec("llama"))
    ids = torch.tensor(pipe.tokenizer("Output:")["input_ids"])
    media = pipe.model.encode_media([])
    with pytest.raises(ValueError, match="candidate 1 has no tokens"):
        score_candidates(pipe.model, ids, media, [[65], []])
    with pytest.raises(ValueError, match="candidate 0 contains the <image> token"):
        score_candidates(pipe.model, ids, media, [[pipe.model.media_token_id]])
