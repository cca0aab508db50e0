"""A training recipe is data: which model spec, which sources (training and validation splits read by
the benchmark readers), how sources form the paper's data sets (mixtures), and the optimiser settings.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SpecError
from ..locations import RECIPES_DIR
from ..spec_io import build_dataclass, read_yaml


SCHEDULES = ("accumulate", "round_robin")  # the paper's two ways of combining data sets (Table 3, row ii)
LM_MODES = ("frozen", "unfrozen")


@dataclass(frozen=True, kw_only=True)
class Source:
    """Examples of one kind, from the demo suite's files, rendered with one prompt template."""

    format: str  # a registered reader
    folder: str  # the data folder under the data root
    train: dict[str, Any]  # the training split's files and settings (reader entry)
    val: dict[str, Any]  # the validation split's
    template: str  # prompt template, the same the benchmark evaluates with
    rename: bool = False  # concept binding: draw fresh names for the kinds in every sequence
    # loss on the answers (and the chunk ends) only: in binding sequences the prompt repeats and carries
    # no signal, and averaged in, its tokens dilute the names' gradient about tenfold
    answer_loss_only: bool = False
    video: bool = False  # its media are videos (frames at 1 FPS, at most `max_frames`)


@dataclass(frozen=True, kw_only=True)
class Mixture:
    """One of the paper's data sets: a loss term of sequences drawn from some sources."""

    sources: tuple[str, ...]
    chunks: tuple[int, int] = (1, 1)  # (fewest, most) image-text chunks per sequence; >1 is interleaved
    weight: float = 1.0  # the paper's lambda: the weighted sum of per-data-set losses is minimised
    batch_size: int | None = None  # sequences per step from this data set; None: the recipe's batch_size
    interleaved: bool = False  # an interleaved (M3W-like) data set: the "w/o M3W" ablation drops it

    def __post_init__(self) -> None:
        if not self.sources:
            raise ValueError("sources must name at least one source")
        if not 1 <= self.chunks[0] <= self.chunks[1]:
            raise ValueError(f"chunks must be [fewest, most] with 1 <= fewest <= most, got {list(self.chunks)}")
        if self.weight < 0 or (self.batch_size is not None and self.batch_size < 1):
            raise ValueError(f"weight must be >= 0 and batch_size >= 1, got {self.weight} and {self.batch_size}")


@dataclass(frozen=True, kw_only=True)
class Recipe:
    model: str  # the model spec trained; its `adapters` file is where the weights are written
    # trained adapters to start from (a curriculum's earlier stage: a path, relative to the working
    # folder); None starts from the untrained model (gates at 0)
    init: str | None = None
    sources: dict[str, Source]
    mixtures: dict[str, Mixture]
    steps: int = 600
    batch_size: int = 8  # sequences per mixture per step
    lr: float = 1e-4
    gate_lr_mult: float = 10.0  # a trial found gates at the base rate barely moved
    perceiver_lr_mult: float = 1.0  # the resampler's rate relative to lr
    zero_frame_embs: bool = False  # start the temporal embeddings at 0 (at N(0, 1) they swamp small features)
    warmup: int = 30
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    max_frames: int = 4
    eval_every: int = 100
    checkpoint_every: int = 25  # steps between resumable checkpoints (weights, optimiser, random states)
    val_sequences: int = 48  # per source, for the validation score
    val_shots: int = 4
    seed: int = 0
    bf16: bool = True  # bfloat16 autocast (on a CPU it is ~1.6x faster than float32)
    # The paper's ablation switches (Table 3); docs/ablations.md. Defaults are the paper's choices.
    variant: str = "baseline"  # the ablation's name for this recipe (recorded with the weights)
    xattn: dict[str, Any] = field(default_factory=dict)  # model spec xattn overrides (gating, every_n_layers, placement)
    perceiver: dict[str, Any] = field(default_factory=dict)  # model spec perceiver overrides (connector)
    schedule: str = "accumulate"  # accumulate: one update over all data sets a step; round_robin: one per data set
    no_interleaved: bool = False  # leave out the mixtures marked interleaved (the paper's "w/o M3W")
    lm: str = "frozen"  # frozen (the paper) or unfrozen: the LM's decoder layers train too
    lm_lr_mult: float = 0.01  # the unfrozen LM's learning rate relative to lr
    source_file: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        counts = ("steps", "batch_size", "max_frames", "eval_every", "checkpoint_every", "val_sequences")
        for name in counts:  # a 0 here divides by zero or loops forever far from the recipe
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.warmup < 0 or self.val_shots < 0:
            raise ValueError(f"warmup and val_shots must be >= 0, got {self.warmup} and {self.val_shots}")
        for name, value, known in (("schedule", self.schedule, SCHEDULES), ("lm", self.lm, LM_MODES)):
            if value not in known:
                raise ValueError(f"{name} must be one of {', '.join(known)}, got {value!r}")
        if self.lm_lr_mult <= 0:
            raise ValueError(f"lm_lr_mult must be > 0, got {self.lm_lr_mult}")

    def active_mixtures(self) -> dict[str, "Mixture"]:
        """The mixtures trained on: all of them, less the interleaved ones under ``no_interleaved``."""
        return {k: m for k, m in self.mixtures.items() if not (self.no_interleaved and m.interleaved)}


def load_recipe(name_or_path: str | Path) -> Recipe:
    """A recipe by name (a YAML file next to this module) or path. Every value is checked against its
    field's type; a mistake is a ``SpecError`` naming the file and the key (``sources.vqa.rename``).

    ``base: <recipe>`` starts from another recipe's YAML and changes only the keys given (mappings
    merged key by key), so a reduced recipe states just what it reduces."""
    path = _recipe_path(name_or_path)
    data = _recipe_data(path, seen=())
    recipe = build_dataclass(Recipe, data, "", path)
    if not recipe.active_mixtures():
        raise SpecError(f"{path}: no_interleaved leaves no mixture to train on")
    for key, mixture in recipe.mixtures.items():
        unknown = [s for s in mixture.sources if s not in recipe.sources]
        if unknown:
            raise SpecError(f"{path}: mixtures.{key}.sources names unknown source {unknown[0]!r}")
    return dataclasses.replace(recipe, source_file=str(path))


def _recipe_path(name_or_path: str | Path) -> Path:
    path = Path(name_or_path)
    return RECIPES_DIR / f"{name_or_path}.yaml" if not path.suffix else path


def _recipe_data(path: Path, *, seen: tuple[Path, ...]) -> dict[str, Any]:
    """The recipe file's mapping, over its ``base`` recipe's when it names one."""
    data = read_yaml(path, "training recipe")
    if not isinstance(data, dict):
        raise SpecError(f"{path}: a recipe must be a mapping")
    base = data.pop("base", None)
    if base is None:
        return data
    if not isinstance(base, str):
        raise SpecError(f"{path}: base: expected the name or path of a recipe, got {base!r}")
    base_path = _recipe_path(base) if not Path(base).suffix else (path.parent / base)
    if base_path.resolve() in seen or base_path.resolve() == path.resolve():
        raise SpecError(f"{path}: base: {base!r} leads back to itself")
    return _merged(_recipe_data(base_path, seen=(*seen, path.resolve())), data)


def _merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` over it, mappings merged key by key (a change to a mixture's batch size
    keeps its other keys)."""
    out = dict(base)
    for key, value in changes.items():
        out[key] = _merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out
