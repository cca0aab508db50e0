"""Build a ready-to-use model from a spec: encoder, tokenizer, LM, adapters and weights, offline."""

from __future__ import annotations

import contextlib

import time
from dataclasses import dataclass
from pathlib import Path

import torch

from ..errors import SpecError
from .flamingo import Flamingo
from .lm import DTYPES, load_language_model, load_tokenizer, resize_embeddings
from .pipeline import FlamingoPipeline
from .spec import ModelSpec, get_spec
from .tokenizer import add_flamingo_tokens
from .vision import build_vision_encoder
from .weights import load_adapters, load_lm_weights, load_openflamingo_checkpoint


@dataclass(frozen=True)
class LoadTimes:
    vision_s: float
    lm_s: float
    adapters_s: float


def check_device(device: str | torch.device) -> torch.device:
    """``device`` as a torch.device, or a SpecError saying why this machine cannot use it (checked
    before anything loads: torch's own message comes from deep inside the first transfer)."""
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise SpecError(f"device {device!r} is not a device torch knows ({err})") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise SpecError(f"device {device}: this torch has no usable CUDA (torch.cuda.is_available() is False)")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise SpecError(f"device {device}: only {torch.cuda.device_count()} CUDA device(s) here")
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise SpecError(f"device {device}: MPS is not available here")
    return device


def load_model(spec: ModelSpec | str | Path, *, device: str | torch.device = "cpu", dtype: str | None = None,
               vision_dtype: str | None = None) -> FlamingoPipeline:
    """Load the model a spec (or built-in name, or spec path) describes. ``dtype`` overrides the LM's
    and adapters' dtype (e.g. bfloat16 on a GPU); ``vision_dtype`` the vision encoder's (float32 unless
    given: with both bfloat16 the whole model runs in bfloat16, as OpenFlamingo's bf16 evaluation does).
    """
    spec = spec if isinstance(spec, ModelSpec) else get_spec(spec)
    device = check_device(device)
    for key, value in (("dtype", dtype), ("vision_dtype", vision_dtype)):
        if value is not None and value not in DTYPES:
            raise SpecError(f"{key} must be one of {', '.join(sorted(DTYPES))}, got {value!r}")
    t0 = time.perf_counter()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(spec.seed)  # random parts (tiny encoders, untrained adapters) are reproducible
        # parts with no weights file (random: the speed specs; untrained adapters) are built where they
        # will run, never through host memory; parts read from files are moved there afterwards
        with torch.device(device) if spec.vision.weights is None else contextlib.nullcontext():
            vision = build_vision_encoder(spec.vision.kind, spec.vision.options, spec.resolve("vision.weights", spec.vision.weights))
        t1 = time.perf_counter()
        lm_path, gguf_file = _lm_location(spec)
        tokenizer = load_tokenizer(**_tokenizer_location(spec, lm_path, gguf_file))
        tokens = add_flamingo_tokens(tokenizer)
        with torch.device(device) if spec.lm.config is not None else contextlib.nullcontext():
            lm = load_language_model(
                path=lm_path, gguf_file=gguf_file, config=spec.lm.config, dtype=spec.lm.dtype, trust_remote_code=spec.lm.trust_remote_code
            )
        if tokens.added or len(tokenizer) != lm.get_input_embeddings().num_embeddings:
            resize_embeddings(lm, len(tokenizer), tokens.added)
        t2 = time.perf_counter()
        with torch.device(device):
            model = Flamingo(
                vision=vision,
                lm=lm,
                media_token_id=tokens.media,
                end_of_chunk_token_id=tokens.end_of_chunk,
                perceiver=spec.perceiver,
                xattn=spec.xattn,
                decoder_layers=spec.lm.decoder_layers,
            )
    if spec.openflamingo_checkpoint is not None:
        load_openflamingo_checkpoint(model, spec.resolve("openflamingo_checkpoint", spec.openflamingo_checkpoint))
    if spec.adapters is not None:
        load_adapters(model, tokens.added, spec.resolve("adapters", spec.adapters))
    if spec.lm_weights is not None:
        load_lm_weights(model, spec.resolve("lm_weights", spec.lm_weights))
    model.to(device)
    if dtype is not None:
        model.lm.to(DTYPES[dtype])
        model.perceiver.to(DTYPES[dtype])
        model.xattn.to(DTYPES[dtype])
    if vision_dtype is not None:
        model.vision.to(DTYPES[vision_dtype])
    model.eval()
    t3 = time.perf_counter()
    return FlamingoPipeline(
        spec=spec, model=model, tokenizer=tokenizer, tokens=tokens, transform=vision.transform,
        load_times=LoadTimes(vision_s=t1 - t0, lm_s=t2 - t1, adapters_s=t3 - t2),
    )


def _tokenizer_location(spec: ModelSpec, lm_path: Path | None, gguf_file: str | None) -> dict:
    """load_tokenizer's arguments: the LM's own tokenizer, ``bytes``, a folder, or a GGUF file's (a random
    LM of a released shape borrows a real BPE tokenizer that way, so its prompts have realistic lengths)."""
    if spec.lm.tokenizer == "bytes":
        return {"kind": "bytes"}
    if spec.lm.tokenizer is None:
        return {"path": lm_path, "gguf_file": gguf_file}
    path = spec.resolve("lm.tokenizer", spec.lm.tokenizer)
    if path.is_file() and path.suffix == ".gguf":
        return {"path": path.parent, "gguf_file": path.name}
    return {"path": path}


def _lm_location(spec: ModelSpec) -> tuple[Path | None, str | None]:
    """(folder, gguf file name or None) of the LM; (None, None) for a randomly initialised one."""
    if spec.lm.gguf is not None:
        gguf = spec.resolve("lm.gguf", spec.lm.gguf)
        return gguf.parent, gguf.name
    return spec.resolve("lm.path", spec.lm.path), None
