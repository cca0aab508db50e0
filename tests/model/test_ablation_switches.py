"""The model switches of the paper's ablations (Table 3) build the model they name, on the tiny spec."""

from __future__ import annotations

import pytest
import torch

from flamingo_eval.model import GenerationConfig, load_model
from flamingo_eval.model.flamingo import block_layers
from flamingo_eval.model.config import XAttnConfig

from flamingo_eval.model.spec import parse_spec

from ..conftest import LM_CONFIGS

TEN_LAYERS = dict(LM_CONFIGS["llama"], num_hidden_layers=10)
XATTN = {"every_n_layers": 1, "heads": 2, "dim_head": 16, "ff_mult": 2}


def _spec(xattn=None, perceiver=None):
    """The tiny spec with a 10-layer LM, a block before every layer unless ``xattn`` says otherwise."""
    return parse_spec({
        "name": "tiny-ablation", "vision": {"kind": "tiny_vit"}, "lm": {"config": TEN_LAYERS, "tokenizer": "bytes"},
        "perceiver": {"depth": 2, "heads": 2, "dim_head": 16, "num_latents": 8, "max_frames": 4, **(perceiver or {})},
        "xattn": dict(XATTN, **(xattn or {})), "seed": 0,
    }, source="tiny-ablation-spec")


@pytest.mark.parametrize(("xattn", "layers"), [
    ({"every_n_layers": 1}, list(range(10))),
    ({"every_n_layers": 2}, [1, 3, 5, 7, 9]),
    ({"every_n_layers": 5}, [4, 9]),
    ({"placement": "single"}, [5]),
])
def test_block_placement(xattn, layers):
    model = load_model(_spec(xattn)).model
    assert sorted(int(k) for k in model.xattn) == layers == block_layers(XAttnConfig(**dict(XATTN, **xattn)), 10)


def test_no_gating_has_no_gate_parameters_and_acts_from_the_start(noise_images):
    gated, ungated = load_model(_spec()), load_model(_spec({"gating": "none"}))
    assert any(n.endswith("_gate") for n, _ in gated.model.xattn.named_parameters())
    assert not any("gate" in n for n, _ in ungated.model.xattn.named_parameters())
    prompt, media = ["<image>Output:"], [[noise_images[0]]]
    ids, mask = gated.encode_prompts(prompt)
    logits = {}
    for name, pipe in (("gated", gated), ("ungated", ungated)):
        with torch.inference_mode():
            batch = pipe.embed(media)
            logits[name] = pipe.model(ids, media=batch, attention_mask=mask).logits
            with pipe.model.lm_only() as lm:
                logits[name + "-lm"] = lm(input_ids=ids, attention_mask=mask).logits
    assert torch.allclose(logits["gated"], logits["gated-lm"])  # tanh(0) = 0: exactly the LM
    assert not torch.allclose(logits["ungated"], logits["ungated-lm"])  # without gates the blocks act at once


@pytest.mark.parametrize(("connector", "tokens"), [("resampler", 8), ("mlp", 8), ("mean", 1)])
def test_connector_output_shape_and_generation(noise_images, connector, tokens):
    pipe = load_model(_spec({"gating": "none"}, {"connector": connector}))
    assert pipe.spec.perceiver.tokens_per_media == tokens
    image = pipe.pixels(noise_images[0])  # (1, 3, H, W)
    video = torch.stack([pipe.pixels(im)[0] for im in noise_images[:3]])  # (3, 3, H, W)
    with torch.inference_mode():
        out = pipe.model.encode_media([image, video, image])
    assert out.shape == (3, tokens, pipe.model.vision.dim)
    texts = pipe.generate(["<image>Output:", "<image>Output:"], [[noise_images[0]], [noise_images[1]]],
                          GenerationConfig(max_new_tokens=3))
    assert len(texts) == 2
    if connector != "resampler":
        assert not hasattr(pipe.model.perceiver, "latents")


def test_unknown_switch_values_are_refused():
    with pytest.raises(Exception, match="connector"):
        _spec(perceiver={"connector": "transformer"})
    with pytest.raises(Exception, match="gating"):
        _spec({"gating": "sigmoid"})
