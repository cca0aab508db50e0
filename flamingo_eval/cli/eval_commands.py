"""``flamingo-eval run | sweep | ablate | report | benchmarks``: thin over ``flamingo_eval.api``."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from .shared import app, console, parse_shots, print_report, print_skipped, user_errors

Shots = Annotated[str, typer.Option(help="Shot counts, comma-separated.")]
BatchSize = Annotated[int, typer.Option(help="Most prompts per batch (does not change predictions).")]
TokenBudget = Annotated[Optional[int], typer.Option(help="Also cap prompts x longest prompt's tokens per batch.")]
SharePrefix = Annotated[bool, typer.Option(help="Prefill a prompt start shared by a batch once (fixed demonstrations).")]
Out = Annotated[Optional[Path], typer.Option(help="Results folder (default: results/<model>-<benchmarks>).")]
Frames = Annotated[str, typer.Option(help="Video frames per clip: auto | interpolate | thin | pool "
                                          "(docs/benchmarks.md, Video frames).")]


def _out(out: Path | None, model: str, benchmarks: list[str], kind: str = "") -> Path:
    return out or Path("results") / f"{Path(model).stem}-{'-'.join(Path(b).stem for b in benchmarks)}{kind}"


def _evaluate(benchmarks: list[str], *, out: Path, variants: list[Any], baseline: str = "baseline", **options: Any):
    from contextlib import nullcontext

    from ..api import evaluate
    from ..engine.distributed import World
    from .progress import RichProgress

    # under torchrun only rank 0 draws its share's progress and prints the report: one screen, not N
    main = World.from_env().is_main
    with RichProgress(console) if main else nullcontext() as progress:
        metrics = evaluate(benchmarks, out=out, variants=variants, baseline=baseline, progress=progress,
                           command=shlex.join(["flamingo-eval", *sys.argv[1:]]), **options)
    if main:
        print_report([out])
        print_skipped(out)
        console.print(f"results: {out}")
    return metrics


@app.command()
@user_errors
def run(
    benchmarks: Annotated[list[str], typer.Argument(help="Built-in benchmark names or spec files.")],
    model: str = "smol",
    shots: Shots = "0,4,8,16,32",
    trials: int = 1,
    seed: int = 42,
    selection: Annotated[str, typer.Option(help="random | fixed | rices | text")] = "random",
    num_samples: Annotated[Optional[int], typer.Option(help="Evaluate a seeded random subset of the queries.")] = None,
    batch_size: BatchSize = 8,
    token_budget: TokenBudget = None,
    share_prefix: SharePrefix = True,
    data_root: Annotated[Optional[Path], typer.Option(help="Benchmark <name> reads <data-root>/<name>/.")] = None,
    out: Out = None,
    skip_bad: Annotated[bool, typer.Option(help="Leave out and record bad records and media instead of stopping.")] = False,
    device: str = "cpu",
    dtype: Optional[str] = None,
    embedding_cache: Annotated[Optional[Path], typer.Option(help="Keep RICES / text embeddings here between runs.")] = None,
    visual_cache: Annotated[Optional[Path], typer.Option(help="Keep visual tokens here between runs.")] = None,
    frames: Frames = "auto",
) -> None:
    """Evaluate a model on benchmarks at every shot count and trial (resumes an interrupted run)."""
    _evaluate(benchmarks, out=_out(out, model, benchmarks), variants=[], model=model, shots=parse_shots(shots), trials=trials,
              seed=seed, selection=selection, num_samples=num_samples, batch_size=batch_size, token_budget=token_budget,
              share_prefix=share_prefix, data_root=data_root, skip_bad=skip_bad, device=device, dtype=dtype, embedding_cache=embedding_cache,
              visual_cache=visual_cache, frames=frames)


@app.command()
@user_errors
def sweep(
    benchmarks: Annotated[Optional[list[str]], typer.Argument(help="Benchmarks (or give them in --config).")] = None,
    config: Annotated[Optional[Path], typer.Option(help="YAML: benchmarks, model, shots, trials, grid: {axis: [values]}.")] = None,
    grid: Annotated[Optional[list[str]], typer.Option(help="An axis and its values, e.g. selection=random,rices (repeatable).")] = None,
    model: str = "smol",
    shots: Shots = "0,4,8,16,32",
    trials: int = 1,
    seed: int = 42,
    selection: str = "random",
    num_samples: Optional[int] = None,
    batch_size: BatchSize = 8,
    token_budget: TokenBudget = None,
    share_prefix: SharePrefix = True,
    data_root: Optional[Path] = None,
    out: Out = None,
    device: str = "cpu",
    dtype: Optional[str] = None,
    frames: Frames = "auto",
) -> None:
    """A grid over shots and any other axis (selection, prompt, frames, model, ...): one folder, one table."""
    from ..engine.sweep import read_sweep

    options = dict(model=model, shots=parse_shots(shots), trials=trials, seed=seed, selection=selection, num_samples=num_samples,
                   batch_size=batch_size, token_budget=token_budget, share_prefix=share_prefix, data_root=data_root,
                   device=device, dtype=dtype, frames=frames)
    plan = read_sweep(benchmarks or [], options, config=config, grid=grid or [])
    _evaluate(plan.benchmarks, out=_out(out, plan.options["model"], plan.benchmarks, "-sweep"), variants=plan.variants,
              baseline=plan.variants[0].name, **plan.options)


@app.command()
@user_errors
def ablate(
    benchmarks: Annotated[list[str], typer.Argument(help="Built-in benchmark names or spec files.")],
    variant: Annotated[list[str], typer.Option(help="name:key=value[,key=value], e.g. no-rices:selection=random (repeatable).")],
    model: str = "smol",
    shots: Shots = "0,4,8",
    trials: int = 1,
    seed: int = 42,
    selection: str = "random",
    num_samples: Optional[int] = None,
    batch_size: BatchSize = 8,
    token_budget: TokenBudget = None,
    share_prefix: SharePrefix = True,
    data_root: Optional[Path] = None,
    out: Out = None,
    device: str = "cpu",
    dtype: Optional[str] = None,
    frames: Frames = "auto",
) -> None:
    """A baseline plus named variants; reports each variant's difference from the baseline."""
    _evaluate(benchmarks, out=_out(out, model, benchmarks, "-ablation"), variants=list(variant), model=model,
              shots=parse_shots(shots), trials=trials, seed=seed, selection=selection, num_samples=num_samples,
              batch_size=batch_size, token_budget=token_budget, share_prefix=share_prefix, data_root=data_root,
              device=device, dtype=dtype, frames=frames)


@app.command()
@user_errors
def report(
    folders: Annotated[list[Path], typer.Argument(help="Results folders to compare.")],
    out: Annotated[Optional[Path], typer.Option(help="Where to write the tables and plot (default: the first folder).")] = None,
    paper: Annotated[bool, typer.Option(help="Put the published Flamingo / OpenFlamingo numbers beside these.")] = False,
) -> None:
    """Comparison tables (terminal, Markdown, CSV, LaTeX) and the shot-scaling plot."""
    from ..report import write_report

    print_report(folders, paper=paper)
    for path in write_report(folders, out or folders[0], paper=paper):
        console.print(f"wrote {path}")


@app.command("benchmarks")
@user_errors
def list_benchmarks() -> None:
    """List the built-in benchmarks and the files each expects."""
    from ..benchmark import builtin_benchmarks, load_benchmark

    table = Table("name", "task", "format", "files (under <data-root>/<name>/)")
    for name, path in builtin_benchmarks().items():
        spec = load_benchmark(path)
        files = sorted({str(v) for split in (spec.data.pool, spec.data.eval) for k, v in split.items()
                        if k in ("annotations", "questions", "images", "videos", "mapping", "path")})
        table.add_row(name, spec.task, spec.data.format, ", ".join(files))
    console.print(table)
