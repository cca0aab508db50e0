"""``flamingo-eval make-demo-data | train | demo``: the built-in suite, its trained model, its sweep."""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from .run_options import run_options
from .shared import app, console, print_report, print_skipped, user_errors
from ..demo.settings import DEMO_MODEL, DEMO_QUERIES, DEMO_REFERENCE, DEMO_SHOTS, DEMO_TRIALS, DEMO_UNTRAINED


@app.command("make-demo-data")
@user_errors
def make_demo_data(
    out: Annotated[Optional[Path], typer.Option(help="Data root (default: the cache the demo benchmarks read).")] = None,
    seed: int = 0,
) -> None:
    """Write the synthetic demo suite (captions, VQA, concept binding, video QA) in the official formats."""
    from ..benchmark import GENERATED_DATA
    from ..demo import generate

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
    resume: Annotated[bool, typer.Option(help="Continue from the checkpoint in --out (same recipe).")] = False,
    init: Annotated[Optional[Path], typer.Option(help="Start from these trained adapters (overrides the recipe's init).")] = None,
    install: Annotated[bool, typer.Option(help="Copy the best weights to the model spec's adapters file.")] = False,
    variant: Annotated[Optional[str], typer.Option(help="One ablation switch of the paper's Table 3: gating=none, "
                       "xattn_every=1|2|5|single, connector=mlp|mean, schedule=round_robin, no_interleaved, lm=unfrozen "
                       "(docs/ablations.md).")] = None,
) -> None:
    """Train the resampler, gated blocks and new token embeddings of a model spec (LM and encoder frozen),
    or a variant of the recipe that changes one ablation switch."""
    from ..train.session import install_adapters, train_recipe

    result = train_recipe(recipe, out=out, data_root=data_root, steps=steps, stop_after=stop_after, resume=resume,
                          init=init, variant=variant, log=console.print)
    console.print(f"best validation score {result['best']['score']:.3f} at step {result['best']['step']} "
                  f"({result['seconds'] / 60:.1f} min); weights: {out / 'best.safetensors'}; model spec: {out / 'model.yaml'}")
    if install:
        console.print(f"installed as {install_adapters(out / 'best.safetensors', result['model']).resolve()}")


@app.command()
@user_errors
@run_options(model=DEMO_MODEL, shots=DEMO_SHOTS, trials=DEMO_TRIALS, num_samples=DEMO_QUERIES)
def demo(
    out: Annotated[Optional[Path], typer.Option(help="A new results folder (default: runs/demo-<date-time>).")] = None,
    reference: Annotated[str, typer.Option(help="Results folder to compare with ('none': no comparison).")] = str(DEMO_REFERENCE),
    untrained: Annotated[str, typer.Option(help="Untrained adapters' results, plotted beside ('none': not plotted).")] = str(DEMO_UNTRAINED),
    *,
    settings: dict[str, Any],
) -> None:
    """The main job: the trained smol-flamingo on the demo suite's test splits across shot counts, evaluated
    into a new folder and compared with the committed reference (results/demo-sweep)."""
    from ..api import demo as run_demo
    from .progress import RichProgress

    started = time.perf_counter()
    with RichProgress(console) as progress:
        result = run_demo(out=out, reference=_folder_or_none(reference), untrained=_folder_or_none(untrained),
                          progress=progress, command=shlex.join(["flamingo-eval", *sys.argv[1:]]), **settings)
    if result.agreement is None:
        print_report([result.out])
        console.print(f"no reference to compare with ({reference})")
    else:
        console.print(f"This run ({result.out}) beside the committed reference ({result.reference}):")
        print_report([result.out, result.reference])
        style = "green" if result.agreement.agrees else "bold red"
        console.print(f"[{style}]{result.agreement.describe()}[/]", highlight=False)
    print_skipped(result.out)
    console.print(f"demo done in {(time.perf_counter() - started) / 60:.1f} min; results: {result.out}; "
                  f"plot: {result.out / 'shot_scaling.png'}")


def _folder_or_none(text: str) -> Path | None:
    return None if text.strip().lower() == "none" else Path(text)
