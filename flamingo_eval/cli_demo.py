"""``flamingo-eval make-demo-data | train | demo``: the built-in suite, its trained model, its sweep."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from .cli import app, console, user_errors

DEMO_SHOTS = "0,4,8,16"


@app.command("make-demo-data")
@user_errors
def make_demo_data(
    out: Annotated[Optional[Path], typer.Option(help="Data root (default: the cache the demo benchmarks read).")] = None,
    seed: int = 0,
) -> None:
    """Write the synthetic demo suite (captions, VQA, concept binding, video QA) in the official formats."""
    from .benchmark import GENERATED_DATA
    from .demo import generate

    started = time.perf_counter()
    for name, folder in generate(out or GENERATED_DATA, seed=seed).items():
        console.print(f"{name}: {folder}")
    console.print(f"done in {time.perf_counter() - started:.0f} s")


@app.command()
@user_errors
def train(
    recipe: Annotated[str, typer.Option(help="A recipe in flamingo_eval/train/ or a YAML path.")] = "smol_flamingo",
    data_root: Annotated[Optional[Path], typer.Option(help="The demo suite (generated there if missing).")] = None,
    out: Annotated[Path, typer.Option(help="Logs, loss curve and checkpoints.")] = Path("train-runs/smol-flamingo"),
    steps: Annotated[Optional[int], typer.Option(help="Override the recipe's number of steps.")] = None,
    stop_after: Annotated[Optional[int], typer.Option(help="End after this step (the schedule still spans all steps).")] = None,
    install: Annotated[bool, typer.Option(help="Copy the best weights to the model spec's adapters file.")] = False,
) -> None:
    """Train the resampler, gated blocks and new token embeddings of a model spec (LM and encoder frozen)."""
    import dataclasses
    import shutil

    from .benchmark import GENERATED_DATA
    from .demo import generate
    from .model import get_spec
    from .train.loop import Trainer
    from .train.recipe import load_recipe

    plan = load_recipe(recipe)
    if steps is not None:
        plan = dataclasses.replace(plan, steps=steps)
    root = data_root or GENERATED_DATA
    generate(root)  # a no-op when the suite is already there
    trainer = Trainer(plan, root, out, cache_dir=Path.home() / ".cache" / "flamingo-eval" / "features", log=console.print)
    result = trainer.train(stop_after=stop_after)
    console.print(f"best validation score {result['best']['score']:.3f} at step {result['best']['step']} "
                  f"({result['seconds'] / 60:.1f} min); weights: {out / 'best.safetensors'}")
    if install:
        spec = get_spec(plan.model)
        target = spec.source.parent / spec.adapters
        shutil.copyfile(out / "best.safetensors", target)
        console.print(f"installed as {target.resolve()}")


@app.command()
@user_errors
def demo(
    shots: Annotated[str, typer.Option(help="Shot counts, comma-separated.")] = DEMO_SHOTS,
    trials: int = 3,
    num_samples: Annotated[int, typer.Option(help="Queries per benchmark and trial.")] = 14,
    model: str = "smol-flamingo",
    out: Path = Path("results/demo-sweep"),
    batch_size: int = 8,
) -> None:
    """The main job: the trained smol-flamingo on the demo suite's test splits across shot counts."""
    from .cli_eval import _evaluate, _shots
    from .demo import DEMO_BENCHMARKS

    started = time.perf_counter()
    _evaluate(list(DEMO_BENCHMARKS), out=out, variants=[], model=model, shots=_shots(shots), trials=trials,
              num_samples=num_samples, batch_size=batch_size)
    console.print(f"demo sweep done in {(time.perf_counter() - started) / 60:.1f} min; plot: {out / 'shot_scaling.png'}")
