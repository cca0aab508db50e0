"""Vision encoders: ClipViT against Hugging Face's CLIP, weight-file formats and errors,
EfficientNet-lite0 with its real ImageNet weights, and ImageTransform."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file
from torch import nn

from flamingo_eval.model.vision import (
    ClipViT,
    EfficientNetLite0,
    ImageTransform,
    WeightsError,
    build_vision_encoder,
    infer_clip_config,
)

# A small CLIP vision tower: 32 px images, 8 px patches (a 4x4 grid), width 64, 2 layers, 4 heads.
SMALL = {"hidden_size": 64, "intermediate_size": 256, "num_hidden_layers": 2, "num_attention_heads": 4}
SMALL_OPTIONS = {"heads": 4, "act": "quick_gelu"}  # what cannot be read from the shapes


def hf_to_openai(hf_state: dict[str, torch.Tensor], layers: int) -> dict[str, torch.Tensor]:
    """Rename a Hugging Face ``CLIPVisionModelWithProjection`` state dict to OpenAI's bare key names."""
    src = {k.removeprefix("vision_model."): v for k, v in hf_state.items()}
    out = {
        "conv1.weight": src["embeddings.patch_embedding.weight"],
        "class_embedding": src["embeddings.class_embedding"],
        "positional_embedding": src["embeddings.position_embedding.weight"],
        "ln_pre.weight": src["pre_layrnorm.weight"],
        "ln_pre.bias": src["pre_layrnorm.bias"],
        "ln_post.weight": src["post_layernorm.weight"],
        "ln_post.bias": src["post_layernorm.bias"],
        "proj": src["visual_projection.weight"].T.contiguous(),  # (width, embed_dim)
    }
    for i in range(layers):
        hf, oa = f"encoder.layers.{i}.", f"transformer.resblocks.{i}."
        for kind in ("weight", "bias"):
            qkv = [src[f"{hf}self_attn.{p}_proj.{kind}"] for p in ("q", "k", "v")]
            out[f"{oa}attn.in_proj_{kind}"] = torch.cat(qkv)  # q, k, v stacked: (3*width, ...)
            out[f"{oa}attn.out_proj.{kind}"] = src[f"{hf}self_attn.out_proj.{kind}"]
            out[f"{oa}ln_1.{kind}"] = src[f"{hf}layer_norm1.{kind}"]
            out[f"{oa}ln_2.{kind}"] = src[f"{hf}layer_norm2.{kind}"]
            out[f"{oa}mlp.c_fc.{kind}"] = src[f"{hf}mlp.fc1.{kind}"]
            out[f"{oa}mlp.c_proj.{kind}"] = src[f"{hf}mlp.fc2.{kind}"]
    return out


@pytest.fixture(scope="module")
def hf_clip() -> dict:
    """A seeded, randomly initialised HF CLIP tower, its OpenAI-named weights and reference outputs."""
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    config = CLIPVisionConfig(
        **SMALL, patch_size=8, image_size=32, hidden_act="quick_gelu", projection_dim=32, attn_implementation="eager"
    )
    torch.manual_seed(0)
    model = CLIPVisionModelWithProjection(config).eval()
    with torch.no_grad():  # perturb every tensor so layer norms and biases are not the trivial 1 / 0
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    pixels = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        out = model(pixel_values=pixels)
        post = model.vision_model.post_layernorm(out.last_hidden_state)
    return {
        "state": hf_to_openai(model.state_dict(), layers=2),
        "pixels": pixels,
        "tokens": out.last_hidden_state[:, 1:],  # (2, 16, 64)
        "tokens_ln_post": post[:, 1:],
        "image_embeds": out.image_embeds,  # (2, 32)
    }


def full_clip_state(visual: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A full CLIP model's dict: the tower under ``visual.`` plus text-tower keys that must be ignored
    (including ``transformer.resblocks.*`` names that clash with the tower's own once unprefixed)."""
    state = {f"visual.{k}": v for k, v in visual.items()}
    state["transformer.resblocks.0.attn.in_proj_weight"] = torch.zeros(3 * 48, 48)
    state["token_embedding.weight"] = torch.zeros(100, 48)
    state["logit_scale"] = torch.tensor(4.6)
    return state


def save_torchscript(state: dict[str, torch.Tensor], path: Path) -> None:
    """Write a TorchScript archive holding ``state`` under its dotted names, as OpenAI's .pt files do."""
    root = nn.Module()
    for key, tensor in state.items():
        *parents, leaf = key.split(".")
        module = root
        for name in parents:
            if not hasattr(module, name):
                module.add_module(name, nn.Module())
            module = getattr(module, name)
        module.register_parameter(leaf, nn.Parameter(tensor.clone(), requires_grad=False))
    torch.jit.save(torch.jit.script(root), str(path))


def assert_matches_hf(encoder: ClipViT, ref: dict) -> None:
    with torch.no_grad():
        torch.testing.assert_close(encoder(ref["pixels"]), ref["tokens"], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(encoder.pooled(ref["pixels"]), ref["image_embeds"], atol=1e-5, rtol=1e-5)


# --- ClipViT numerics ------------------------------------------------------------------------------


@pytest.mark.parametrize("ln_post_on_tokens", [False, True])
def test_clip_vit_matches_hf(hf_clip: dict, ln_post_on_tokens: bool) -> None:
    encoder = ClipViT(
        image_size=32, patch_size=8, width=64, layers=2, heads=4, embed_dim=32, ln_post_on_tokens=ln_post_on_tokens
    ).eval()
    encoder.load_state_dict(hf_clip["state"], strict=True)
    with torch.no_grad():
        tokens = encoder(hf_clip["pixels"])
        pooled = encoder.pooled(hf_clip["pixels"])
    assert tokens.shape == (2, 16, 64) and encoder.dim == 64
    expected = hf_clip["tokens_ln_post"] if ln_post_on_tokens else hf_clip["tokens"]
    torch.testing.assert_close(tokens, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(pooled, hf_clip["image_embeds"], atol=1e-5, rtol=1e-5)


def test_infer_clip_config(hf_clip: dict) -> None:
    config = infer_clip_config(full_clip_state(hf_clip["state"]))
    assert config == {
        "width": 64, "layers": 2, "heads": 1, "patch_size": 8, "image_size": 32, "embed_dim": 32, "mlp_ratio": 4.0
    }  # fmt: skip


# --- weight files ----------------------------------------------------------------------------------


def test_load_safetensors_visual_only(hf_clip: dict, tmp_path: Path) -> None:
    path = tmp_path / "tower.safetensors"
    save_file(hf_clip["state"], str(path))
    encoder = build_vision_encoder("clip_vit", SMALL_OPTIONS, path)
    assert isinstance(encoder, ClipViT) and not encoder.training
    assert encoder.transform.size == 32  # transform follows the inferred image size
    assert all(not p.requires_grad and p.dtype == torch.float32 for p in encoder.parameters())
    assert_matches_hf(encoder, hf_clip)


@pytest.mark.parametrize("nested", [False, True])
def test_load_torch_save_full_clip(hf_clip: dict, tmp_path: Path, nested: bool) -> None:
    path = tmp_path / "clip.pt"
    state = full_clip_state(hf_clip["state"])
    torch.save({"state_dict": state, "epoch": 3} if nested else state, path)
    assert_matches_hf(build_vision_encoder("clip_vit", SMALL_OPTIONS, path), hf_clip)


@pytest.mark.filterwarnings("ignore:`torch.jit.*` is deprecated:DeprecationWarning")
def test_load_torchscript_archive(hf_clip: dict, tmp_path: Path) -> None:
    path = tmp_path / "ViT-tiny.pt"
    # float16, like OpenAI's released archives; the loaded encoder is float32
    save_torchscript({k: v.half() for k, v in full_clip_state(hf_clip["state"]).items()}, path)
    encoder = build_vision_encoder("clip_vit", SMALL_OPTIONS, path)
    assert encoder.conv1.weight.dtype == torch.float32
    with torch.no_grad():
        torch.testing.assert_close(encoder(hf_clip["pixels"]), hf_clip["tokens"], atol=2e-2, rtol=2e-2)


def test_wrong_shape_names_file_and_key(hf_clip: dict, tmp_path: Path) -> None:
    state = full_clip_state(hf_clip["state"])
    state["visual.transformer.resblocks.1.ln_2.weight"] = torch.ones(63)
    path = tmp_path / "bad_shape.pt"
    torch.save(state, path)
    pattern = r"bad_shape\.pt.*'visual\.transformer\.resblocks\.1\.ln_2\.weight'.*\(63,\).*\(64,\)"
    with pytest.raises(WeightsError, match=pattern):
        build_vision_encoder("clip_vit", SMALL_OPTIONS, path)


@pytest.mark.parametrize("full_clip", [False, True])
def test_missing_key_names_file_and_key(hf_clip: dict, tmp_path: Path, full_clip: bool) -> None:
    state = dict(hf_clip["state"])
    del state["transformer.resblocks.1.mlp.c_proj.bias"]
    path = tmp_path / "missing_key.safetensors"
    save_file(full_clip_state(state) if full_clip else state, str(path))
    key = ("visual." if full_clip else "") + "transformer.resblocks.1.mlp.c_proj.bias"
    with pytest.raises(WeightsError, match=rf"missing_key\.safetensors.*missing keys \['{re.escape(key)}'\]"):
        build_vision_encoder("clip_vit", SMALL_OPTIONS, path)


@pytest.mark.parametrize(
    ("options", "pattern"),
    [
        ({"width": 128}, r"'class_embedding' has shape \(64,\) in the file.*expects \(128,\)"),
        ({"patch_size": 16}, r"'positional_embedding' has shape \(17, 64\) in the file.*expects \(5, 64\)"),
        ({"layers": 3}, r"has 2 residual blocks.*layers=3"),
    ],
)
def test_configured_size_disagrees_with_file(hf_clip: dict, tmp_path: Path, options: dict, pattern: str) -> None:
    path = tmp_path / "tower.safetensors"
    save_file(hf_clip["state"], str(path))
    with pytest.raises(WeightsError, match=r"tower\.safetensors.*" + pattern):
        build_vision_encoder("clip_vit", {**SMALL_OPTIONS, **options}, path)


def test_missing_and_corrupt_weights_files(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="nowhere.safetensors"):
        build_vision_encoder("clip_vit", {}, tmp_path / "nowhere.safetensors")
    corrupt = tmp_path / "corrupt.bin"
    corrupt.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(WeightsError, match="corrupt.bin"):
        build_vision_encoder("clip_vit", {}, corrupt)


def test_unknown_option_is_rejected() -> None:
    with pytest.raises(ValueError, match="'widht'"):
        build_vision_encoder("tiny_vit", {"widht": 64}, None)


def test_tiny_vit_random_init_is_seeded() -> None:
    pixels = torch.randn(2, 3, 32, 32)
    torch.manual_seed(1)
    a = build_vision_encoder("tiny_vit", {}, None)
    torch.manual_seed(1)
    b = build_vision_encoder("tiny_vit", {"layers": 2}, None)
    with torch.no_grad():
        tokens = a(pixels)
        torch.testing.assert_close(tokens, b(pixels), atol=0, rtol=0)
    assert tokens.shape == (2, 16, 32) and a.dim == 32 and a.pooled(pixels).shape == (2, 32)
    with pytest.raises(ValueError, match=r"\(N, 3, 32, 32\)"):
        a(torch.zeros(1, 3, 64, 64))


# --- EfficientNet-lite0 ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lite0() -> EfficientNetLite0:
    return build_vision_encoder("efficientnet_lite0", {}, None)


def test_efficientnet_features_shape(lite0: EfficientNetLite0) -> None:
    from skimage import data

    pixels = lite0.transform(Image.fromarray(data.chelsea()))[None]  # (1, 3, 224, 224)
    with torch.no_grad():
        features = lite0(pixels)
    assert features.shape == (1, 49, 1280) and lite0.dim == 1280
    lite0.train()  # a frozen encoder must stay in eval mode (BatchNorm running statistics)
    assert not lite0.training and not lite0.net.training
    with torch.no_grad():
        torch.testing.assert_close(lite0(pixels), features)


@pytest.mark.parametrize(
    ("image", "classes"),
    [
        ("chelsea", {281, 282, 285}),  # tabby, tiger cat, Egyptian cat (the model says 285, 282, 281)
        ("coffee", {967, 504}),  # espresso, coffee mug (the model says 967 espresso, 968 cup, 504)
    ],
)
def test_efficientnet_classifies_real_images(lite0: EfficientNetLite0, image: str, classes: set[int]) -> None:
    from skimage import data

    pixels = lite0.transform(Image.fromarray(getattr(data, image)()))[None]
    with torch.no_grad():
        top5 = set(lite0.classify(pixels).topk(5, dim=-1).indices[0].tolist())
    assert top5 & classes, f"top-5 {sorted(top5)} has none of {sorted(classes)}"


# --- ImageTransform --------------------------------------------------------------------------------


def three_band_image() -> Image.Image:
    """400 x 100 (W x H): a red left quarter, a green middle half, a blue right quarter."""
    array = np.zeros((100, 400, 3), dtype=np.uint8)
    array[:, :100, 0] = array[:, 100:300, 1] = array[:, 300:, 2] = 255
    return Image.fromarray(array)


def test_image_transform_shape_and_dtype() -> None:
    pixels = ImageTransform(size=32)(Image.new("L", (50, 70), 128))  # any mode, non-square
    assert pixels.shape == (3, 32, 32) and pixels.dtype == torch.float32


def test_image_transform_centre_crops_non_square() -> None:
    unit = ImageTransform(size=32, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))  # output = pixel / 255
    cropped = unit(three_band_image())  # shortest side 100 -> 32 (128 wide), then columns 48..79
    assert torch.allclose(cropped[1], torch.ones(32, 32), atol=0.02)  # all green
    assert cropped[0].max() < 0.02 and cropped[2].max() < 0.02  # the red and blue margins are gone
    squashed = ImageTransform(size=32, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0), crop=False)(three_band_image())
    assert squashed[0, :, 0].min() > 0.98 and squashed[2, :, -1].min() > 0.98  # crop=False keeps them
