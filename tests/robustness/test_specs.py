"""The spec loaders (benchmark spec, model spec, training recipe) on generated mistakes: every key of a
spec that sets every key, deleted, given each wrong value in turn, and joined by an unknown sibling.
Each case is a SpecError naming the file and the key path, or (for a value of the right type) a spec
that loads; never another exception."""

from __future__ import annotations

import copy
import fnmatch
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from flamingo_eval.benchmark import load_benchmark
from flamingo_eval.errors import SpecError
from flamingo_eval.model.spec import load_spec
from flamingo_eval.train.recipe import RECIPES_DIR, load_recipe

from .cases import DELETE, MUTATIONS, WRONG_VALUES, mutate

BENCHMARK = {
    "name": "fuzz", "task": "video_qa", "description": "every key set",
    "data": {"format": "msrvtt_qa", "root": "/data/msrvtt", "generate": "demo",
             "pool": {"annotations": "train_qa.json", "videos": "videos"},
             "eval": {"annotations": "test_qa.json", "videos": "videos"},
             "video": {"fps": 1.0, "max_frames": 8}},
    "prompt": {"template": "video_qa", "separator": "\n", "zero_shot_text_demos": 0},
    "generation": {"max_new_tokens": 5, "num_beams": 3, "length_penalty": 0.0, "min_new_tokens": 0},
    "postprocess": "vqa", "metric": "exact_match", "query_set_size": 2048, "chance": 0.25,
}
MODEL = {
    "name": "fuzz", "description": "every key set",
    "vision": {"kind": "tiny_vit", "weights": "vision.pt", "options": {"width": 32}},
    "lm": {"path": "lm", "gguf": "lm.gguf", "config": {"model_type": "llama"}, "tokenizer": "bytes",
           "decoder_layers": "model.layers", "dtype": "float32", "trust_remote_code": False},
    "perceiver": {"depth": 2, "heads": 2, "dim_head": 16, "num_latents": 8, "ff_mult": 2, "max_frames": 4},
    "xattn": {"every_n_layers": 2, "heads": 2, "dim_head": 16, "ff_mult": 2, "attend": "last",
              "dense_without_media": True},
    "adapters": "adapters.safetensors", "openflamingo_checkpoint": "checkpoint.pt", "seed": 0,
}
RECIPE = yaml.safe_load((RECIPES_DIR / "smol_flamingo.yaml").read_text())
RECIPE["sources"] = {"captions": RECIPE["sources"]["captions"] | {"rename": False, "answer_loss_only": False,
                                                                  "video": False}}
RECIPE["mixtures"] = {"pairs": RECIPE["mixtures"]["pairs"] | {"sources": ["captions"]}}


class Loader:
    """A spec kind: its complete example, how to load a file of it, and what its keys allow."""

    def __init__(self, name: str, base: dict, load: Callable[[Path], Any], *, required: set[str],
                 optional: set[str], opaque: tuple[str, ...], named: tuple[str, ...] = ()) -> None:
        self.name, self.base, self.load = name, base, load
        self.required = required  # keys whose deletion is refused
        self.optional = optional  # keys that may be null
        self.opaque = opaque  # mappings of free settings (reader entries, an LM config): not walked into
        self.named = named  # mappings whose keys the author names (a recipe's sources): any key is known

    def paths(self, data: Any = None, prefix: str = "") -> list[tuple[str, Any]]:
        """(key path, value) of every key, depth first."""
        data = self.base if data is None else data
        found = []
        for key, value in data.items():
            path = f"{prefix}{key}"
            found.append((path, value))
            if isinstance(value, dict) and not any(fnmatch.fnmatch(path, p) for p in self.opaque):
                found += self.paths(value, f"{path}.")
        return found


LOADERS = [
    Loader("benchmark", BENCHMARK, load_benchmark,
           required={"name", "task", "data", "data.format", "data.pool", "data.eval", "prompt", "prompt.template",
                     "metric"},
           optional={"data.root", "data.generate", "query_set_size", "chance"}, opaque=("data.pool", "data.eval")),
    Loader("model", MODEL, load_spec, required={"name", "vision", "vision.kind", "lm"},
           optional={"vision.weights", "lm.path", "lm.gguf", "lm.config", "lm.tokenizer", "lm.decoder_layers",
                     "perceiver.max_frames", "adapters", "openflamingo_checkpoint", "vision", "lm", "perceiver", "xattn"},
           opaque=("lm.config", "vision.options")),
    Loader("recipe", RECIPE, load_recipe,
           required={"model", "sources", "mixtures", "sources.*.format", "sources.*.folder", "sources.*.train",
                     "sources.*.val", "sources.*.template", "mixtures.*.sources"},
           optional={"init", "mixtures.*.batch_size"}, opaque=("sources.*.train", "sources.*.val"),
           named=("sources", "mixtures")),
]
_names = itertools.count()


def _kind(value: Any) -> str:
    return "none" if value is None else "number" if type(value) in (int, float) else type(value).__name__


def _wrong_type(original: Any, value: Any) -> bool:
    """A value YAML gives that the key's type cannot take: another kind, text for a number, a float
    where an int belongs, and a bool for a number or a number for a bool."""
    if value is None or original is None:
        return False
    if type(original) is float:
        return _kind(value) != "number"
    return type(value) is not type(original)


def _matches(path: str, patterns: set[str]) -> bool:
    return any(fnmatch.fnmatch(path, p) for p in patterns)


def _load(loader: Loader, data: dict, tmp_path: Path) -> tuple[Path, Any]:
    path = tmp_path / f"{loader.name}-{next(_names)}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path, loader.load(path)


def _refused(loader: Loader, data: dict, tmp_path: Path, key: str) -> str | None:
    """The SpecError's message (which must name the file and the key), or None when the spec loaded."""
    path = tmp_path / f"{loader.name}-{next(_names)}.yaml"
    path.write_text(yaml.safe_dump(data))
    try:
        loader.load(path)
    except SpecError as err:
        message = str(err)
        parent, _, leaf = key.rpartition(".")
        assert message.startswith(f"{path}: "), message[:300]
        # the key's own path, or (a dataclass's own check: "data.video: max_frames must be ...") its section and name
        assert key in message or (leaf in message and parent in message), f"{key} not named: {message[:300]}"
        return message
    return None


CASES = [pytest.param(loader, key, mutation, id=f"{loader.name}:{key}:{mutation}")
         for loader in LOADERS for key, _ in loader.paths() for mutation in MUTATIONS]


@pytest.mark.parametrize("loader,key,mutation", CASES)
def test_key(tmp_path, loader, key, mutation) -> None:
    data = copy.deepcopy(loader.base)
    original = dict(loader.paths())[key]
    mutate(data, key, mutation)
    message = _refused(loader, data, tmp_path, key)
    if mutation == DELETE:
        must = _matches(key, loader.required)
        assert message is None or not must or f"missing key {key}" in message, message
    else:
        value = WRONG_VALUES[mutation]
        must = _wrong_type(original, value) or (value is None and not _matches(key, loader.optional))
        assert message is None or not _wrong_type(original, value) or f"{key}: expected" in message, message
    assert message is not None or not must, f"{loader.name} spec accepted {key} {mutation}"


UNKNOWN = [pytest.param(loader, prefix, id=f"{loader.name}:{prefix or '<top>'}.colour")
           for loader in LOADERS for prefix in ["", *(k for k, v in loader.paths() if isinstance(v, dict)
                                                       and not _matches(k, {*loader.opaque, *loader.named}))]]


@pytest.mark.parametrize("loader,prefix", UNKNOWN)
def test_unknown_key(tmp_path, loader, prefix) -> None:
    data = copy.deepcopy(loader.base)
    holder = data
    for step in filter(None, prefix.split(".")):
        holder = holder[step]
    holder["colour"] = "red"
    key = f"{prefix}.colour" if prefix else "colour"
    message = _refused(loader, data, tmp_path, key)
    assert message is not None and f"unknown key {key}" in message


@pytest.mark.parametrize("loader", LOADERS, ids=lambda loader: loader.name)
def test_complete_specs_load(tmp_path, loader) -> None:
    """The spec every case starts from is valid (else the cases would test nothing)."""
    assert _refused(loader, loader.base, tmp_path, "") is None


@pytest.mark.parametrize("text", ["", "[1, 2", "- a\n- b\n", "3", "x: [", "\xff"], ids=repr)
@pytest.mark.parametrize("loader", LOADERS, ids=lambda loader: loader.name)
def test_not_a_spec(tmp_path, loader, text) -> None:
    """Empty files, broken YAML, a list, a number, undecodable bytes: named, never a raw traceback."""
    path = tmp_path / f"{loader.name}.yaml"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(SpecError, match=f"^{path}"):
        loader.load(path)
    with pytest.raises(SpecError, match="not found"):
        loader.load(tmp_path / "absent.yaml")


@pytest.mark.parametrize("template", ["folder", "not-utf8", "long-name", "missing"])
def test_prompt_template_file_faults(tmp_path, template) -> None:
    """A template given by path that cannot be used is named under prompt.template."""
    path = {"folder": tmp_path, "not-utf8": tmp_path / "t.txt", "long-name": tmp_path / ("t" * 300 + ".txt"),
            "missing": tmp_path / "none.txt"}[template]
    (tmp_path / "t.txt").write_bytes(b"<image>Q:{question} A:{answer}\xff")
    data = copy.deepcopy(BENCHMARK)
    data["prompt"]["template"] = str(path)
    assert "prompt.template" in _refused(LOADERS[0], data, tmp_path, "prompt.template")
