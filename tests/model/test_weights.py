"""Loading and saving trainable weights: OpenFlamingo checkpoints and this project's safetensors."""

from __future__ import annotations

import pytest
import torch
import yaml

from flamingo_eval.errors import WeightsError
from flamingo_eval.model import load_model, load_openflamingo_checkpoint, save_adapters
from flamingo_eval.model.spec import parse_spec
from flamingo_eval.model.weights import load_adapters

from ..conftest import LM_CONFIGS, open_gates, tiny_spec
from .openflamingo_reference import REFERENCE_PERCEIVER, REFERENCE_XATTN, build_reference, reference_checkpoint


@pytest.fixture(scope="module")
def reference_pair():
    spec = tiny_spec("mpt", perceiver=REFERENCE_PERCEIVER, xattn=dict(REFERENCE_XATTN, every_n_layers=2))
    ours = load_model(spec)
    return spec, ours, build_reference(ours, LM_CONFIGS["mpt"], 2)


def test_openflamingo_checkpoint_file_round_trip(reference_pair, tmp_path):
    spec, ours, ref = reference_pair
    path = tmp_path / "checkpoint.pt"
    torch.save({"model_state_dict": reference_checkpoint(ref)}, path)  # as OpenFlamingo's train script saves it
    fresh = load_model(spec)
    load_openflamingo_checkpoint(fresh.model, path)
    assert torch.equal(fresh.model.perceiver.latents, ref.perceiver.latents)
    block = ref.lang_encoder.gated_cross_attn_layers[1]
    assert torch.equal(fresh.model.xattn["1"].ffw.up.weight, block.ff[1].weight)
    assert torch.equal(fresh.model.xattn["3"].attn_gate, ref.lang_encoder.gated_cross_attn_layers[3].attn_gate)
    emb = fresh.model.lm.get_input_embeddings().weight
    assert torch.equal(emb, ref.lang_encoder.get_input_embeddings().weight)


@pytest.mark.parametrize(
    "edit,message",
    [
        (lambda s: s.pop("perceiver.layers.0.1.1.weight"), r"missing keys \['perceiver.layers.0.ffw.up.weight'\]"),
        (lambda s: s.__setitem__("perceiver.media_time_embs", torch.zeros(3, 1, 32)), r"unexpected keys.*perceiver.media_time_embs"),
        (lambda s: s.__setitem__("perceiver.latents", torch.zeros(32, 32)), r"perceiver.latents' has shape \(32, 32\).*expects \(64, 32\)"),
        (lambda s: s.__setitem__("lang_encoder.transformer.blocks.0.decoder_layer.norm_1.weight", torch.ones(64)),
         r"unexpected keys \(frozen LM weights: pass allow_lm_weights"),
    ],
    ids=["missing", "unexpected", "shape", "lm-weight"],
)
def test_openflamingo_checkpoint_mismatch_is_named(reference_pair, tmp_path, edit, message):
    spec, ours, ref = reference_pair
    state = reference_checkpoint(ref)
    edit(state)
    path = tmp_path / "bad_checkpoint.pt"
    torch.save(state, path)
    fresh = load_model(spec)
    before = fresh.model.perceiver.latents.clone()
    with pytest.raises(WeightsError, match="bad_checkpoint.pt.*" + message):
        load_openflamingo_checkpoint(fresh.model, path)
    assert torch.equal(fresh.model.perceiver.latents, before)  # nothing half-loaded


def test_full_reference_state_dict_loads_lm_weights_when_allowed(reference_pair, tmp_path):
    spec, ours, ref = reference_pair
    state = ref.state_dict()
    state = {k: v for k, v in state.items() if not k.startswith("vision_encoder")}
    # the reference's state dict holds each frozen LM layer twice (old_decoder_blocks and the wrapped layer)
    state["lang_encoder.transformer.blocks.0.decoder_layer.norm_1.weight"] = torch.full((64,), 2.0)
    state["lang_encoder.old_decoder_blocks.0.norm_1.weight"] = torch.full((64,), 2.0)
    path = tmp_path / "full.pt"
    torch.save(state, path)
    fresh = load_model(spec)
    load_openflamingo_checkpoint(fresh.model, path, allow_lm_weights=True)
    assert torch.equal(fresh.model.lm.transformer.blocks[0].norm_1.weight, torch.full((64,), 2.0))
    # two copies of one weight that disagree: refused, naming both
    state["lang_encoder.old_decoder_blocks.0.norm_1.weight"] = torch.full((64,), 3.0)
    torch.save(state, path)
    with pytest.raises(WeightsError, match="old_decoder_blocks.0.norm_1.weight and another key both give"):
        load_openflamingo_checkpoint(load_model(spec).model, path, allow_lm_weights=True)


def test_adapters_round_trip_and_spec_yaml(tmp_path, noise_images):
    trained = load_model(tiny_spec("llama"))
    open_gates(trained.model, seed=3)
    with torch.no_grad():
        trained.model.lm.get_input_embeddings().weight[trained.tokens.media] += 1.0
    save_adapters(trained.model, trained.tokens.added, tmp_path / "adapters.safetensors", config=trained.spec.to_dict())
    spec_file = tmp_path / "model.yaml"
    spec_file.write_text(yaml.safe_dump(dict(trained.spec.to_dict(), adapters="adapters.safetensors")))
    restored = load_model(spec_file)
    prompt, images = "<image>A photo of", [noise_images[0]]
    assert restored.generate([prompt], [images]) == trained.generate([prompt], [images])
    ids, mask = trained.encode_prompts([prompt])
    with torch.no_grad():
        a = trained.model(ids, media=trained.embed([images]), attention_mask=mask).logits
        b = restored.model(ids, media=restored.embed([images]), attention_mask=mask).logits
    assert torch.equal(a, b)


def test_adapters_for_another_config_are_refused(tmp_path):
    small = load_model(tiny_spec("llama"))
    path = tmp_path / "adapters.safetensors"
    save_adapters(small.model, small.tokens.added, path)
    other = load_model(tiny_spec("llama", xattn={"every_n_layers": 1, "heads": 2, "dim_head": 16, "ff_mult": 2}))
    with pytest.raises(WeightsError, match=r"adapters.safetensors.*missing keys \['xattn.0"):
        load_adapters(other.model, other.tokens.added, path)
    wider = load_model(tiny_spec("llama", perceiver={"depth": 2, "heads": 2, "dim_head": 16, "num_latents": 16, "max_frames": 4}))
    with pytest.raises(WeightsError, match=r"perceiver.latents' has shape \(8, 32\)"):
        load_adapters(wider.model, wider.tokens.added, path)
    with pytest.raises(WeightsError, match="not found.*nowhere.safetensors"):
        load_adapters(small.model, small.tokens.added, tmp_path / "nowhere.safetensors")


def test_spec_naming_a_missing_weights_file(tmp_path):
    data = tiny_spec("llama").to_dict()
    data["adapters"] = "missing-adapters.safetensors"
    spec_file = tmp_path / "broken.yaml"
    spec_file.write_text(yaml.safe_dump(data))
    with pytest.raises(Exception, match=r"broken.yaml: adapters: file not found: .*missing-adapters.safetensors"):
        load_model(spec_file)
    assert parse_spec(data).adapters == "missing-adapters.safetensors"
