"""Frozen causal language models through HF transformers, found generically rather than by model name."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from ..errors import FlamingoEvalError, SpecError, WeightsError
from .tokenizer import byte_tokenizer

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def load_language_model(
    *,
    path: Path | None = None,
    gguf_file: str | None = None,
    config: dict[str, Any] | None = None,
    dtype: str = "float32",
    trust_remote_code: bool = False,
) -> PreTrainedModel:
    """Load a causal LM from a local HF folder, a GGUF file in a folder, or build one at random from ``config``.

    ``config`` must hold ``model_type`` (e.g. llama, gpt_neox, mpt) and that config's fields; random
    weights come from the current torch RNG, so the caller seeds. Never touches the network.
    """
    if dtype not in DTYPES:
        raise SpecError(f"lm.dtype must be one of {', '.join(sorted(DTYPES))}, got {dtype!r}")
    if config is not None:
        fields = dict(config)
        model_type = fields.pop("model_type", None)
        if model_type is None:
            raise SpecError("lm.config needs a model_type (llama, gpt_neox, mpt, ...)")
        try:
            lm = AutoModelForCausalLM.from_config(AutoConfig.for_model(model_type, **fields))
        except (ValueError, TypeError, KeyError) as err:
            raise SpecError(f"lm.config ({model_type}) cannot build an LM: {type(err).__name__}: {err}") from None
        lm = lm.to(DTYPES[dtype])
    elif path is not None:
        kwargs: dict[str, Any] = {"local_files_only": True, "dtype": DTYPES[dtype], "trust_remote_code": trust_remote_code}
        if gguf_file is not None:
            kwargs["gguf_file"] = gguf_file
        with _named(path, gguf_file, "language model"):
            lm = AutoModelForCausalLM.from_pretrained(str(path), **kwargs)
    else:
        raise ValueError("an LM needs either a path (HF folder or GGUF) or a config for random init")
    lm.requires_grad_(False)
    return lm.eval()


def load_tokenizer(*, path: Path | None = None, gguf_file: str | None = None, kind: str | None = None) -> PreTrainedTokenizerBase:
    """Load the LM's tokenizer from local files, or build the in-memory byte tokenizer (``kind: bytes``)."""
    if kind == "bytes":
        return byte_tokenizer()
    if kind is not None:
        raise ValueError(f"unknown tokenizer kind {kind!r}; known: ['bytes']")
    if path is None:
        raise ValueError("a tokenizer needs a path (or tokenizer: bytes)")
    kwargs: dict[str, Any] = {"local_files_only": True}
    if gguf_file is not None:
        kwargs["gguf_file"] = gguf_file
    with _named(path, gguf_file, "tokenizer"):
        return AutoTokenizer.from_pretrained(str(path), **kwargs)


@contextmanager
def _named(path: Path, gguf_file: str | None, what: str) -> Iterator[None]:
    """transformers' errors for LM files it cannot read (missing, cut off, not a model) as a WeightsError
    naming the file: they come from deep inside its loaders (struct, json, safetensors, GGUF parsing),
    often without the path, so any failure there is the file's; --debug shows the original below it."""
    where = Path(path) / gguf_file if gguf_file else Path(path)
    try:
        yield
    except FlamingoEvalError:
        raise
    except Exception as err:
        raise WeightsError(f"{where}: cannot load the {what}: {type(err).__name__}: {str(err)[:300]}") from err


def find_decoder_layers(lm: PreTrainedModel, path: str | None = None) -> tuple[str, nn.ModuleList]:
    """The LM's list of decoder layers and its attribute path (e.g. ``model.layers``, ``transformer.blocks``).

    Found as the ModuleList whose length is the config's number of layers (the largest one if several),
    so no model family needs special code; ``path`` overrides the search.
    """
    if path is not None:
        module: Any = lm
        for part in path.split("."):
            if not hasattr(module, part):
                raise ValueError(f"{type(lm).__name__} has no attribute {path!r} (lm.decoder_layers)")
            module = getattr(module, part)
        if not isinstance(module, nn.ModuleList):
            raise ValueError(f"{path!r} in {type(lm).__name__} is a {type(module).__name__}, not a ModuleList")
        return path, module
    n_layers = getattr(lm.config, "num_hidden_layers", None)
    candidates = [(name, m) for name, m in lm.named_modules() if isinstance(m, nn.ModuleList) and len(m) > 0]
    matching = [(name, m) for name, m in candidates if n_layers is None or len(m) == n_layers]
    if not matching:
        raise ValueError(f"cannot find the decoder layers of {type(lm).__name__}; set lm.decoder_layers in the spec")
    return max(matching, key=lambda item: sum(p.numel() for p in item[1].parameters()))


def resize_embeddings(lm: PreTrainedModel, vocab_size: int, new_ids: tuple[int, ...]) -> None:
    """Resize the LM's embeddings to ``vocab_size`` (as OpenFlamingo does) and set the rows of ``new_ids``
    to the mean of the other input rows (and output rows, when untied): deterministic, no RNG.
    """
    lm.resize_token_embeddings(vocab_size, mean_resizing=False)
    keep = torch.ones(vocab_size, dtype=torch.bool)
    keep[list(new_ids)] = False
    with torch.no_grad():
        for embedding in {id(e): e for e in (lm.get_input_embeddings(), lm.get_output_embeddings()) if e is not None}.values():
            weight = embedding.weight
            weight[list(new_ids)] = weight[keep].mean(dim=0).to(weight.dtype)


def forward_accepts(lm: PreTrainedModel, name: str) -> bool:
    """Whether the LM's forward takes a keyword argument (MPT, for one, has no ``position_ids``)."""
    return name in inspect.signature(lm.forward).parameters
