"""Trainable weights in and out: OpenFlamingo ``checkpoint.pt`` files, and this project's safetensors.

Both are strict: a missing, unexpected or mis-shaped key is an error naming the file and the key
(the reference loads with ``strict=False``, which hides such mismatches).
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import torch
from safetensors.torch import save_file

from ..errors import WeightsError
from ..storage import atomic_path
from .flamingo import Flamingo
from .state_dicts import check_finite, check_state_dict, load_safetensors, load_torch, preview_keys, require_file

# OpenFlamingo's parameter names <-> ours, for the resampler and for one gated block: (theirs, ours)
# templates, read in both directions. {i} stands for a layer number, {p} for the rest of a parameter
# path; a template without them names one parameter.
_PERCEIVER_NAMES = [
    ("layers.{i}.0.{p}", "layers.{i}.attn.{p}"),
    ("layers.{i}.1.0.{p}", "layers.{i}.ffw.norm.{p}"),
    ("layers.{i}.1.1.{p}", "layers.{i}.ffw.up.{p}"),
    ("layers.{i}.1.3.{p}", "layers.{i}.ffw.down.{p}"),
    ("latents", "latents"),
    ("frame_embs", "frame_embs"),
    ("norm.{p}", "norm.{p}"),
]
_BLOCK_NAMES = [
    *((f"attn.{part}.{{p}}", f"attn.{part}.{{p}}") for part in ("norm", "to_q", "to_kv", "to_out")),
    ("attn_gate", "attn_gate"),
    ("ff.0.{p}", "ffw.norm.{p}"),
    ("ff.1.{p}", "ffw.up.{p}"),
    ("ff.3.{p}", "ffw.down.{p}"),
    ("ff_gate", "ffw_gate"),
]
_SLOTS = {"{i}": r"(?P<i>\d+)", "{p}": r"(?P<p>.+)"}


@functools.lru_cache(maxsize=None)
def _template_regex(template: str) -> re.Pattern:
    """'layers.{i}.0.{p}' -> a regex matching exactly such names, capturing i and p."""
    parts = re.split(r"(\{i\}|\{p\})", template)
    return re.compile("^" + "".join(_SLOTS.get(part, re.escape(part)) for part in parts) + "$")


def _rename(table: list[tuple[str, str]], name: str, *, to_ours: bool = True) -> str | None:
    """A parameter name in one naming -> the other (OpenFlamingo -> ours, or back); None if no entry fits."""
    for theirs, ours in table:
        source, target = (theirs, ours) if to_ours else (ours, theirs)
        if (m := _template_regex(source).match(name)) is not None:
            return target.format(**m.groupdict())
    return None


def _embedding_weights(model: Flamingo) -> dict[str, torch.nn.Parameter]:
    """``input`` and, when not tied to it, ``output``: the LM's embedding matrices."""
    inp = model.lm.get_input_embeddings().weight
    out = model.lm.get_output_embeddings()
    return {"input": inp} | ({"output": out.weight} if out is not None and out.weight is not inp else {})


def _lm_aliases(model: Flamingo) -> dict[str, str]:
    """Every name under which the LM's state dict holds its embeddings (tied weights appear twice)."""
    targets = _embedding_weights(model)
    return {
        name: role
        for name, tensor in model.lm.state_dict(keep_vars=True).items()
        for role, param in targets.items()
        if tensor is param
    }


def translate_openflamingo(model: Flamingo, state: dict[str, torch.Tensor], *, allow_lm_weights: bool = False):
    """Map an OpenFlamingo state dict onto this model.

    Returns (ours, lm_weights, unexpected): ``ours`` keyed like ``Flamingo.trainable_parameters`` plus
    ``embeddings.input`` / ``embeddings.output`` (whole matrices), ``lm_weights`` keyed like the LM's
    own state dict (frozen weights; only kept with ``allow_lm_weights``), and the keys that fit nothing.
    """
    layers = re.escape(model.decoder_layers_path)
    block_key = re.compile(rf"^lang_encoder\.(?:{layers}\.(\d+)\.gated_cross_attn_layer|gated_cross_attn_layers\.(\d+))\.(.+)$")
    frozen_layer = re.compile(rf"^lang_encoder\.(?:{layers}\.(\d+)\.decoder_layer|old_decoder_blocks\.(\d+))\.(.+)$")
    embeddings = _lm_aliases(model)
    lm_names = set(model.lm.state_dict().keys())
    ours: dict[str, torch.Tensor] = {}
    lm_weights: dict[str, torch.Tensor] = {}
    unexpected: list[str] = []

    def put(target: dict, key: str, value: torch.Tensor, source: str) -> None:
        if key in target and not torch.equal(target[key], value):
            raise WeightsError(f"{source} and another key both give {key} with different values")
        target[key] = value

    for key, value in state.items():
        mapped = None
        if key.startswith("perceiver."):
            name = _rename(_PERCEIVER_NAMES, key[len("perceiver."):])
            mapped = None if name is None else ("perceiver." + name)
        elif (m := block_key.match(key)) is not None:
            name = _rename(_BLOCK_NAMES, m.group(3))
            mapped = None if name is None else f"xattn.{m.group(1) or m.group(2)}.{name}"
        elif key.startswith("lang_encoder.") and key[len("lang_encoder."):] in embeddings:
            mapped = "embeddings." + embeddings[key[len("lang_encoder."):]]
        if mapped is not None:
            put(ours, mapped, value, key)
            continue
        lm_key = None
        if (m := frozen_layer.match(key)) is not None:
            lm_key = f"{model.decoder_layers_path}.{m.group(1) or m.group(2)}.{m.group(3)}"
        elif key.startswith("lang_encoder.") and key[len("lang_encoder."):] in lm_names:
            lm_key = key[len("lang_encoder."):]
        if lm_key is not None and lm_key in lm_names and allow_lm_weights:
            put(lm_weights, lm_key, value, key)
        else:
            unexpected.append(key)
    return ours, lm_weights, unexpected


def _expected(model: Flamingo) -> dict[str, torch.Tensor]:
    expected = dict(model.trainable_parameters())
    for alias, role in _lm_aliases(model).items():
        expected["embeddings." + role] = model.lm.state_dict(keep_vars=True)[alias]
    return expected


def openflamingo_state_dict(model: Flamingo, added_token_ids: tuple[int, ...]) -> dict[str, torch.Tensor]:
    """This model's trainable weights keyed as OpenFlamingo's training script saves ``checkpoint.pt``: the
    inverse of ``translate_openflamingo``, for loading into OpenFlamingo's own ``Flamingo``.

    In: the model and the ids of the tokens added to its vocabulary. Out: ``perceiver.*``, the gated
    blocks as ``lang_encoder.<decoder layers>.<i>.gated_cross_attn_layer.*``, and the LM's whole input
    embedding matrix (OpenFlamingo saves whole matrices; the added rows are what it needs them for) and
    the output matrix when untied (our training may change its added rows; OpenFlamingo's filter keeps
    it only when its name holds "embed"), under every name the LM's state dict gives it. The tensors are
    detached views of the model's parameters, not copies.
    """
    vocab = model.lm.get_input_embeddings().num_embeddings
    if any(not 0 <= token < vocab for token in added_token_ids):
        raise WeightsError(f"added token ids {list(added_token_ids)} do not all fit the LM's {vocab} embedding rows")
    state: dict[str, torch.Tensor] = {}
    for name, param in model.trainable_parameters():
        part, rest = name.split(".", 1)
        if part == "perceiver":
            key = "perceiver." + _renamed_back(_PERCEIVER_NAMES, rest)
        else:  # xattn.<layer>.<name>
            layer, rest = rest.split(".", 1)
            block = f"lang_encoder.{model.decoder_layers_path}.{layer}.gated_cross_attn_layer"
            key = f"{block}.{_renamed_back(_BLOCK_NAMES, rest)}"
        state[key] = param.detach()
    lm_state = model.lm.state_dict(keep_vars=True)
    for alias in _lm_aliases(model):
        state["lang_encoder." + alias] = lm_state[alias].detach()
    return state


def _renamed_back(table: list[tuple[str, str]], name: str) -> str:
    """Our parameter name -> OpenFlamingo's, or WeightsError."""
    theirs = _rename(table, name, to_ours=False)
    if theirs is None:  # a parameter added to our modules without a counterpart in the table
        raise WeightsError(f"no OpenFlamingo name for our parameter {name!r}")
    return theirs


def load_openflamingo_checkpoint(model: Flamingo, path: Path, *, allow_lm_weights: bool = False) -> None:
    """Load an OpenFlamingo ``checkpoint.pt`` (a flat dict of trainable weights, possibly under
    ``model_state_dict``) safely (``weights_only=True``) and strictly. A missing or unreadable file, a
    pickle ``weights_only`` refuses, and a NaN or infinite tensor are ``WeightsError``s naming the file.

    Frozen LM weights in the file are refused unless ``allow_lm_weights``; then they are loaded too.
    """
    what = "OpenFlamingo checkpoint"
    path = require_file(path, what)
    state = load_torch(path, what=what)
    if isinstance(state, dict) and "model_state_dict" in state:
        state = state["model_state_dict"]
    if not isinstance(state, dict):
        raise WeightsError(f"{path}: expected a state dict (a mapping of names to tensors), got {type(state).__name__}")
    not_tensors = [str(k) for k, v in state.items() if not isinstance(v, torch.Tensor)]
    if not_tensors:
        raise WeightsError(f"{path}: entries that are not tensors: {preview_keys(not_tensors)}")
    state = {str(k).removeprefix("module."): v for k, v in state.items()}  # saved from a DDP/FSDP wrapper
    check_finite(state, source=path)
    load_openflamingo_state_dict(model, state, source=str(path), allow_lm_weights=allow_lm_weights)


def load_openflamingo_state_dict(model: Flamingo, state: dict[str, torch.Tensor], *, source: str = "state dict", allow_lm_weights: bool = False) -> None:
    ours, lm_weights, unexpected = translate_openflamingo(model, state, allow_lm_weights=allow_lm_weights)
    if unexpected:
        hint = " (frozen LM weights: pass allow_lm_weights to load them)" if any(k.startswith("lang_encoder.") for k in unexpected) else ""
        raise WeightsError(f"{source}: unexpected keys{hint}: {preview_keys(unexpected)}")
    expected = _expected(model)
    if "embeddings.output" in expected and "embeddings.output" not in ours:
        expected.pop("embeddings.output")  # an untied output layer the run kept frozen is not saved
    lm_state = model.lm.state_dict(keep_vars=True)
    lm_expected = {k: lm_state[k] for k in lm_weights}
    check_state_dict(expected, ours, source=source)  # everything is checked before anything is written
    check_state_dict(lm_expected, lm_weights, source=source)
    _copy(expected, ours)
    _copy(lm_expected, lm_weights)


def _copy(expected: dict[str, torch.Tensor], given: dict[str, torch.Tensor]) -> None:
    with torch.no_grad():
        for key, target in expected.items():
            target.copy_(given[key].to(target.dtype))


# ---------------------------------------------------------------- this project's adapters (safetensors)
def _embedding_matrices(model: Flamingo) -> dict[str, torch.Tensor]:
    """Adapter key -> the LM embedding matrix whose added-token rows it holds (output only when untied)."""
    return {f"embeddings.{role}_rows": weight for role, weight in _embedding_weights(model).items()}


def adapter_state_dict(model: Flamingo, added_token_ids: tuple[int, ...]) -> dict[str, torch.Tensor]:
    """The trainable weights only: resampler, gated blocks, and the embedding rows of the added tokens."""
    state = {name: p.detach().contiguous() for name, p in model.trainable_parameters()}
    for key, matrix in _embedding_matrices(model).items():
        state[key] = matrix.detach()[list(added_token_ids)].contiguous()
    return state


def save_adapters(
    model: Flamingo, added_token_ids: tuple[int, ...], path: Path, *, config: dict | None = None, dtype: torch.dtype | None = None
) -> None:
    """Write the trainable weights to ``path`` (safetensors), in ``dtype`` if given (bfloat16 halves the
    file); ``config`` (JSON-able) goes in its metadata. Loading casts back to the model's dtype."""
    metadata = {"format": "flamingo-eval-adapters-v1", "added_token_ids": json.dumps(list(added_token_ids))}
    if config is not None:
        metadata["config"] = json.dumps(config, sort_keys=True)
    state = adapter_state_dict(model, added_token_ids)
    if dtype is not None:
        state = {k: v.to(dtype) for k, v in state.items()}
    with atomic_path(path) as tmp:  # a kill while saving leaves the previous file intact
        save_file(state, str(tmp), metadata=metadata)


def load_adapters(model: Flamingo, added_token_ids: tuple[int, ...], path: Path) -> None:
    """Load weights written by ``save_adapters`` strictly into ``model``; ``WeightsError`` naming the file
    when it is missing or unreadable, a key is missing, unexpected or mis-shaped, or a tensor is not finite."""
    what = "adapter weights"
    path = require_file(path, what)
    given = load_safetensors(path, what)
    check_finite(given, source=path)
    matrices = _embedding_matrices(model)
    rows = list(added_token_ids)
    expected = dict(model.trainable_parameters()) | {key: m[rows] for key, m in matrices.items()}
    check_state_dict(expected, given, source=path)  # everything is checked before anything is written
    with torch.no_grad():
        for name, param in model.trainable_parameters():
            param.copy_(given[name].to(param.dtype))
        for key, matrix in matrices.items():
            matrix[rows] = given[key].to(matrix.dtype)


def save_lm_weights(model: Flamingo, names: list[str], path: Path, *, dtype: torch.dtype | None = None) -> None:
    """Write the LM parameters ``names`` (``model.lm``'s own names) to ``path``: the weights of an LM
    trained along with the adapters (the "unfrozen LM" ablation), loaded by ``load_lm_weights``."""
    params = dict(model.lm.named_parameters())
    state = {name: params[name].detach().to(dtype or params[name].dtype).contiguous() for name in names}
    with atomic_path(path) as tmp:
        save_file(state, str(tmp), metadata={"format": "flamingo-eval-lm-weights-v1"})


def load_lm_weights(model: Flamingo, path: Path) -> None:
    """Load LM parameters written by ``save_lm_weights`` over the LM's own; ``WeightsError`` naming the
    file for a key the LM lacks, a mis-shaped or non-finite tensor (every key is checked first)."""
    what = "trained LM weights"
    given = load_safetensors(require_file(path, what), what)
    check_finite(given, source=path)
    params = dict(model.lm.named_parameters())
    check_state_dict({k: params[k] for k in given if k in params}, given, source=path)  # unknown keys: "unexpected"
    with torch.no_grad():
        for name, tensor in given.items():
            params[name].copy_(tensor.to(params[name].dtype))
