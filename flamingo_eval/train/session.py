"""``flamingo-eval train`` as a function: a recipe (with the command line's overrides) trained on the
demo suite, and the best weights installed as a model spec's adapters."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

FEATURES_CACHE = Path.home() / ".cache" / "flamingo-eval" / "features"  # frozen-encoder features, by content


def train_recipe(
    recipe: str, *, out: Path, data_root: Path | None = None, steps: int | None = None, stop_after: int | None = None,
    resume: bool = False, init: Path | None = None, log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train ``recipe`` (a name in flamingo_eval/train/ or a YAML path) into ``out``.

    ``steps`` / ``init`` override the recipe's; ``stop_after`` ends early (the schedule still spans all
    steps); ``resume`` continues from ``out``'s checkpoint. The demo suite is written to ``data_root``
    (default: the generated-data cache) when it is not there. Returns the trainer's result
    (``best``: step and score, ``seconds``, ...).
    """
    from ..benchmark import GENERATED_DATA
    from ..demo import generate
    from .loop import Trainer
    from .recipe import load_recipe

    plan = load_recipe(recipe)
    if steps is not None:
        plan = dataclasses.replace(plan, steps=steps)
    if init is not None:
        plan = dataclasses.replace(plan, init=str(init))
    root = data_root or GENERATED_DATA
    generate(root)  # a no-op when the suite is already there
    trainer = Trainer(plan, root, out, cache_dir=FEATURES_CACHE, log=log)
    return trainer.train(stop_after=stop_after, resume=resume) | {"model": plan.model}


def install_adapters(weights: Path, model: str) -> Path:
    """Copy trained adapters over the file model spec ``model`` names as its ``adapters``; returns it."""
    from ..errors import SpecError
    from ..model import get_spec

    spec = get_spec(model)
    if spec.adapters is None or spec.source is None:
        raise SpecError(f"model {model} names no adapters file to install into")
    target = spec.source.parent / spec.adapters
    shutil.copyfile(weights, target)
    return target
