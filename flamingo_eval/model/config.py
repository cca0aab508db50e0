"""The model's settings as plain data: small frozen dataclasses for the trainable Flamingo parts (read
from model specs) and for decoding (read from benchmark specs).

Torch-free on purpose: specs are data, and reading one must not load torch or transformers; the model
code (``generate.py``, ``perceiver.py``, ``xattn.py``) takes these as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

ATTEND_MODES = ("last", "all")
CONNECTORS = ("resampler", "mlp", "mean")  # model/connectors.py; the last two are the paper's ablations
GATINGS = ("tanh", "none")  # "none": the paper's "w/o tanh gating" ablation, no gate parameters at all
PLACEMENTS = ("every", "single")  # a block every n layers, or a single block before the middle layer


@dataclass(frozen=True, kw_only=True)
class PerceiverConfig:
    depth: int = 6  # resampler layers (attention + feed-forward)
    heads: int = 8
    dim_head: int = 64
    num_latents: int = 64  # visual tokens per image or video, whatever its size
    ff_mult: int = 4
    max_frames: int | None = None  # learned temporal embeddings for this many frames; None: no temporal embeddings
    connector: str = "resampler"  # resampler (the paper), mlp or mean (its Table 3 ablations)

    def __post_init__(self) -> None:
        _at_least_one("perceiver", self, ("depth", "heads", "dim_head", "num_latents", "ff_mult"))
        _one_of("perceiver.connector", self.connector, CONNECTORS)
        if self.max_frames is not None and self.max_frames < 1:
            raise ValueError(f"perceiver.max_frames must be at least 1 (or null: no temporal embeddings), got {self.max_frames}")

    @property
    def tokens_per_media(self) -> int:
        """Visual tokens per image or video: ``num_latents``, or 1 for the mean-pooled connector."""
        return 1 if self.connector == "mean" else self.num_latents


@dataclass(frozen=True, kw_only=True)
class XAttnConfig:
    every_n_layers: int = 1  # a GATED XATTN-DENSE block before LM layer i when (i + 1) % n == 0, as OpenFlamingo
    heads: int = 8
    dim_head: int = 64
    ff_mult: int = 4
    attend: str = "last"  # "last": text sees only the last media before it (the paper); "all": every earlier one
    dense_without_media: bool = True  # False: tokens before any media skip the whole block (exactly the LM)
    gating: str = "tanh"  # tanh (the paper) or none: the residual adds the block's outputs ungated
    placement: str = "every"  # every: per every_n_layers; single: one block, before the middle LM layer

    def __post_init__(self) -> None:
        _one_of("xattn.attend", self.attend, ATTEND_MODES)
        _one_of("xattn.gating", self.gating, GATINGS)
        _one_of("xattn.placement", self.placement, PLACEMENTS)
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


def _one_of(key: str, value: str, known: tuple[str, ...]) -> None:
    if value not in known:
        raise ValueError(f"{key} must be one of {known}, got {value!r}")


def _at_least_one(section: str, config: object, names: tuple[str, ...]) -> None:
    """Sizes and counts must be positive: a 0 would build empty layers that fail far from the spec."""
    for name in names:
        value = getattr(config, name)
        if value < 1:
            raise ValueError(f"{section}.{name} must be >= 1, got {value}")
