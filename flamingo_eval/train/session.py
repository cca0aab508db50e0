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
    resume: bool = False, init: Path | None = None, variant: str | None = None, log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train ``recipe`` (a name in flamingo_eval/train/ or a YAML path) into ``out``.

    ``steps`` / ``init`` override the recipe's; ``variant`` (``gating=none``, ``no_interleaved``: see
    ``train/variants.py``) changes one ablation switch; ``stop_after`` ends early (the schedule still
    spans all steps); ``resume`` continues from ``out``'s checkpoint. The demo suite is written to
    ``data_root`` (default: the generated-data cache) when it is not there. Writes ``out/model.yaml``, a
    model spec of the trained weights (evaluate it with ``--model out/model.yaml``), and
    ``out/variant.json`` (the switch, seed, steps, step time, trained parameters). Returns the trainer's
    result (``best``: step and score, ``seconds``, ...).
    """
    from ..benchmark import GENERATED_DATA
    from ..demo import generate
    from .loop import Trainer
    from .recipe import load_recipe
    from .variants import apply_variant

    plan = load_recipe(recipe)
    if steps is not None:
        plan = dataclasses.replace(plan, steps=steps)
    if init is not None:
        plan = dataclasses.replace(plan, init=str(init))
    if variant is not None:
        plan = apply_variant(plan, variant)
    root = data_root or GENERATED_DATA
    generate(root)  # a no-op when the suite is already there
    trainer = Trainer(plan, root, out, cache_dir=FEATURES_CACHE, log=log)
    result = trainer.train(stop_after=stop_after, resume=resume) | {"model": plan.model, "variant": plan.variant}
    write_trained_spec(trainer, Path(out), result)
    return result


def step_seconds(log: Path) -> float | None:
    """A training step's wall time (update only, no validation) over the run's log, resumed segments
    included: the 10th percentile of the steps' times. Other work on the machine, or a paused process,
    only ever slows a step, so the fast end of the distribution is the step's own cost; a low
    percentile rather than the minimum, so that one lucky step does not decide it. Variants trained
    on a shared machine at different times stay comparable."""
    from .loop import _read_log

    times = sorted(record["step_s"] for record in _read_log(log) if "step_s" in record)
    return times[len(times) // 10] if times else None


def write_trained_spec(trainer, out: Path, result: dict[str, Any]) -> Path:
    """``out/model.yaml``: the trained model as a spec (the architecture trained, ``best.safetensors``, and
    an unfrozen LM's layers), and ``out/variant.json``: what it is and what it cost."""
    import yaml

    from ..storage import write_json, write_text_atomic
    from .loop import lm_weights_path
    from .variants import describe

    recipe, spec = trainer.recipe, trainer.pipe.spec
    data = spec.to_dict() | {
        "name": f"{recipe.model}-{recipe.variant}",
        "description": f"{recipe.model} trained by recipe {Path(recipe.source_file or '').name} ({recipe.variant})",
        "adapters": "best.safetensors",
        "lm_weights": lm_weights_path(Path("best.safetensors")).name if trainer.lm_trained else None,
    }
    write_json(out / "variant.json", {
        "variant": recipe.variant, "changed": describe(recipe.variant), "recipe": recipe.source_file, "seed": recipe.seed, "steps": result["steps"],
        "best": result["best"], "trained_parameters": sum(p.numel() for g in trainer.parameter_groups() for p in g["params"]),
        "seconds_per_step": step_seconds(out / "log.jsonl"),
    })
    return write_text_atomic(out / "model.yaml", yaml.safe_dump(data, sort_keys=False))


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
