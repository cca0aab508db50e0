"""Every weights loader on generated damage: the file missing, a folder, empty, cut off at several
points, garbage, a pickle ``weights_only`` refuses, not a state dict, and every tensor in turn made NaN
or infinite. Each case is a WeightsError naming the file (and the tensor, for a non-finite one); never
another exception, and nothing loaded."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from flamingo_eval.errors import WeightsError
from flamingo_eval.model import load_model
from flamingo_eval.model.state_dicts import read_state_dict
from flamingo_eval.model.vision import build_vision_encoder
from flamingo_eval.model.weights import adapter_state_dict, load_adapters, load_openflamingo_checkpoint, openflamingo_state_dict
from flamingo_eval.train.checkpoint import CHECKPOINT, load_checkpoint, save_checkpoint

from ..conftest import tiny_spec
from .cases import DAMAGE as BYTE_DAMAGE, file_error


class NotATensor:
    """Pickled into a file, it is code that ``torch.load(weights_only=True)`` refuses to run."""


@dataclass(frozen=True)
class WeightsSite:
    """One loader and the valid file it reads."""

    name: str
    suffix: str  # ".safetensors" or ".pt": how the file is written, and which damage applies
    write: Callable[[Path, dict], None]  # (path, tensors) -> a valid file of those tensors
    load: Callable[[Path], None]  # reads the file (into a model, where there is one)


def _save_pt(path: Path, state: dict) -> None:
    torch.save(state, path)


def _training_parts():
    torch.manual_seed(0)
    module = torch.nn.Linear(3, 2)
    optimizer = torch.optim.AdamW(module.parameters(), lr=0.1)
    module(torch.ones(1, 3)).sum().backward()
    optimizer.step()  # so that the optimiser has moments to save
    return module, optimizer


def _sites(tiny) -> dict[str, tuple[WeightsSite, dict]]:
    """name -> (site, the tensors of its valid file, keyed as in the file)."""
    vision = build_vision_encoder("tiny_vit", {}, None)
    module, optimizer = _training_parts()

    def write_checkpoint(path: Path, tensors: dict) -> None:
        state = module.state_dict()
        for key, value in tensors.items():
            state[key.removeprefix("m.")] = value
        with torch.no_grad():
            for key, param in module.named_parameters():
                param.copy_(state[key])
        save_checkpoint(path.parent, step=1, modules={"m": module}, optimizer=optimizer, rng=random.Random(0), best={})

    added = tiny.tokens.added
    sites = [
        (WeightsSite("state-dict-safetensors", ".safetensors", lambda p, t: save_file(t, str(p)), read_state_dict),
         {"a.weight": torch.randn(4, 4), "a.bias": torch.randn(4)}),
        (WeightsSite("state-dict-pt", ".pt", _save_pt, read_state_dict),
         {"a.weight": torch.randn(4, 4), "a.bias": torch.randn(4), "steps": torch.tensor(3)}),
        (WeightsSite("clip-vision", ".safetensors", lambda p, t: save_file(t, str(p)),
                     lambda p: build_vision_encoder("tiny_vit", {}, p)),
         {f"visual.{k}": v.contiguous() for k, v in vision.state_dict().items()}),
        (WeightsSite("adapters", ".safetensors", lambda p, t: save_file(t, str(p)),
                     lambda p: load_adapters(tiny.model, added, p)), adapter_state_dict(tiny.model, added)),
        (WeightsSite("openflamingo", ".pt", lambda p, t: torch.save({"model_state_dict": t}, p),
                     lambda p: load_openflamingo_checkpoint(tiny.model, p)),
         {k: v.clone() for k, v in openflamingo_state_dict(tiny.model, added).items()}),
        (WeightsSite("training-checkpoint", ".pt", write_checkpoint,
                     lambda p: load_checkpoint(p.parent, modules={"m": module}, optimizer=optimizer, rng=random.Random(0))),
         {f"m.{k}": v.detach().clone() for k, v in module.named_parameters()}),
    ]
    return {site.name: (site, tensors) for site, tensors in sites}


# built at collection, once: the case ids name the keys of each file
TINY = load_model(tiny_spec())
SITES = _sites(TINY)


SITE_NAMES = list(SITES)
DAMAGE = BYTE_DAMAGE | {
    "safetensors-header-then-garbage": lambda data: (40).to_bytes(8, "little") + b"{" + b"\x00" * 60,
}


def _file(tmp_path: Path, site: WeightsSite) -> Path:
    return tmp_path / (CHECKPOINT if site.name == "training-checkpoint" else f"weights{site.suffix}")


def _valid(tmp_path, site, tensors) -> Path:
    path = _file(tmp_path, site)
    site.write(path, tensors)
    return path


@pytest.mark.parametrize("name", SITE_NAMES)
def test_valid_file_loads(tmp_path, name) -> None:
    site, tensors = SITES[name]
    site.load(_valid(tmp_path, site, tensors))


@pytest.mark.parametrize("damage", [*DAMAGE, "missing", "folder"])
@pytest.mark.parametrize("name", SITE_NAMES)
def test_damaged_file(tmp_path, name, damage) -> None:
    site, tensors = SITES[name]
    path = _valid(tmp_path, site, tensors)
    if damage in ("missing", "folder"):
        path.unlink()
        if damage == "folder":
            path.mkdir()
    else:
        path.write_bytes(DAMAGE[damage](path.read_bytes()))
    file_error(lambda: site.load(path), path, WeightsError)


PICKLES = {"refused-pickle": {"x": NotATensor()}, "a-list": [1, 2, 3], "a-tensor": torch.zeros(3),
           "non-tensor-values": {"a.weight": "not a tensor", "b": 3}}


@pytest.mark.parametrize("content", PICKLES)
@pytest.mark.parametrize("name", [n for n in SITE_NAMES if n != "training-checkpoint"])
def test_not_a_state_dict(tmp_path, name, content) -> None:
    """A pickle of something else where weights belong (the training checkpoint is its own pickle:
    the same contents are refused as 'not a training checkpoint')."""
    site, _ = SITES[name]
    path = _file(tmp_path, site)
    torch.save(PICKLES[content], path)
    message = file_error(lambda: site.load(path), path, WeightsError)
    if content == "refused-pickle" and site.suffix == ".pt":
        assert "weights_only=True" in message


def test_foreign_pickle_as_training_checkpoint(tmp_path) -> None:
    site, _ = SITES["training-checkpoint"]
    for content in PICKLES.values():
        torch.save(content, tmp_path / CHECKPOINT)
        assert "not a training checkpoint" in file_error(lambda: site.load(tmp_path / CHECKPOINT), tmp_path / CHECKPOINT,
                                                          WeightsError)


NON_FINITE = [pytest.param(name, key, bad, id=f"{name}:{key}:{bad}") for name, (_, tensors) in SITES.items()
              for key, value in tensors.items() if value.is_floating_point() for bad in ("nan", "inf")]


@pytest.mark.parametrize("name,key,bad", NON_FINITE)
def test_non_finite_tensor_is_named(tmp_path, name, key, bad) -> None:
    site, tensors = SITES[name]
    tensors = {k: v.clone() for k, v in tensors.items()}
    tensors[key].view(-1)[-1] = float(bad)
    path = _valid(tmp_path, site, tensors)
    message = file_error(lambda: site.load(path), path, WeightsError)
    assert f"tensor {key} has " in message and ("NaN" if bad == "nan" else "infinite") in message


@pytest.mark.parametrize("bad", ["nan", "inf"])
def test_non_finite_optimiser_moment_is_named(tmp_path, bad) -> None:
    """Moments full of NaN would make every later step NaN: refused before anything is restored."""
    module, optimizer = _training_parts()
    optimizer.state[module.weight]["exp_avg"].view(-1)[0] = float(bad)
    save_checkpoint(tmp_path, step=1, modules={"m": module}, optimizer=optimizer, rng=random.Random(0), best={})
    fresh, fresh_optimizer = _training_parts()
    message = file_error(lambda: load_checkpoint(tmp_path, modules={"m": fresh}, optimizer=fresh_optimizer,
                                                 rng=random.Random(0)), tmp_path / CHECKPOINT, WeightsError)
    assert "tensor optimizer.state.0.exp_avg has" in message


@pytest.mark.parametrize("damage", ["random-bytes", "magic-then-nothing", "cut-half"])
def test_a_damaged_gguf_language_model_is_named(damage: str, tmp_path: Path) -> None:
    """The LM's own file is read by transformers; its failures still name the file."""
    from flamingo_eval.model.lm import load_language_model, load_tokenizer

    folder = tmp_path / "lm"
    folder.mkdir()
    made = {"random-bytes": bytes((i * 37 + 11) % 256 for i in range(4096)), "magic-then-nothing": b"GGUF\x03\x00\x00\x00",
            "cut-half": b"GGUF\x03\x00\x00\x00" + bytes(range(256)) * 4}
    (folder / "model.gguf").write_bytes(made[damage])
    for load in (load_tokenizer, load_language_model):
        with pytest.raises(WeightsError, match=r"model\.gguf: cannot load the"):
            load(path=folder, gguf_file="model.gguf")
