"""The model's settings as plain data: small frozen dataclasses for the trainable Flamingo parts (read
from model specs) and for decoding (read from benchmark specs).

Torch-free on purpose: specs are data, and reading one must not load torch or transformers; the model
code (``generate.py``, ``perceiver.py``, ``xattn.py``) takes these as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

ATTEND_MODES = ("last", "all")


@dataclass(frozen=True, kw_only=True)
class PerceiverConfig:
    depth: int = 6  # resampler layers (attention + feed-forward)
    heads: int = 8
    dim_head: int = 64
    num_latents: int = 64  # visual tokens per image or video, whatever its size
    ff_mult: int = 4
    max_frames: int | None = None  # learned temporal embeddings for this many frames; None: no temporal embeddings

    def __post_init__(self) -> None:
        _at_least_one("perceiver", self, ("depth", "heads", "dim_head", "num_latents", "ff_mult"))
        if self.max_frames is not None and self.max_frames < 1:
            raise ValueError(f"perceiver.max_frames must be at least 1 (or null: no temporal embeddings), got {self.max_frames}")


@dataclass(frozen=True, kw_only=True)
class XAttnConfig:
    every_n_layers: int = 1  # a GATED XATTN-DENSE block before LM layer i when (i + 1) % n == 0, as OpenFlamingo
    heads: int = 8
    dim_head: int = 64
    ff_mult: int = 4
    attend: str = "last"  # "last": text sees only the last media before it (the paper); "all": every earlier one
    dense_without_media: bool = True  # False: tokens before any media skip the whole block (exactly the LM)

    def __post_init__(self) -> None:
        if self.attend not in ATTEND_MODES:
            raise ValueError(f"xattn.attend must be one of {ATTEND_MODES}, got {self.attend!r}")
        _at_least_one("xattn", self, ("every_n_layers", "heads", "dim_head", "ff_mult"))


@dataclass(frozen=True, kw_only=True)
class GenerationConfig:
    max_new_tokens: int = 20
    num_beams: int = 1  # 1: greedy
    length_penalty: float = 1.0  # beam score = sum log p / (generated length ** length_penalty)
    min_new_tokens: int = 0  # stop tokens are forbidden before this many tokens

    def __post_init__(self) -> None:
        for name, least in (("max_new_tokens", 1), ("num_beams", 1), ("min_new_tokens", 0)):
            if getattr(self, name) < least:  # each named, so a spec's mistake points at its key
                raise ValueError(f"generation.{name} must be >= {least}, got {getattr(self, name)}")


def _at_least_one(section: str, config: object, names: tuple[str, ...]) -> None:
    """Sizes and counts must be positive: a 0 would build empty layers that fail far from the spec."""
    for name in names:
        value = getattr(config, name)
        if value < 1:
            raise ValueError(f"{section}.{name} must be >= 1, got {value}")
