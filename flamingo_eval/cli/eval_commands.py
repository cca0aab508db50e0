"""``flamingo-eval run | sweep | ablate | report | benchmarks``: thin over ``flamingo_eval.api``."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from .run_options import run_options
from .shared import app, console, parse_shots, print_report, print_skipped, user_errors

Out = Annotated[Optional[Path], typer.Option(help="Results folder (default: results/<model>-<benchmarks>).")]


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
        if len(metrics):  # none when no benchmark has answers to score against (test splits)
            print_report([out])
        print_skipped(out)
        console.print(f"results: {out}")
    return metrics


@app.command()
@user_errors
@run_options()
def run(
    benchmarks: Annotated[list[str], typer.Argument(help="Built-in benchmark names or spec files.")],
    out: Out = None,
    *,
    settings: dict[str, Any],
) -> None:
    """Evaluate a model on benchmarks at every shot count and trial (resumes an interrupted run)."""
    _evaluate(benchmarks, out=_out(out, settings["model"], benchmarks), variants=[], **settings)


@app.command()
@user_errors
@run_options()
def sweep(
    benchmarks: Annotated[Optional[list[str]], typer.Argument(help="Benchmarks (or give them in --config).")] = None,
    config: Annotated[Optional[Path], typer.Option(help="YAML: benchmarks, any setting below, grid: {axis: [values]}.")] = None,
    grid: Annotated[Optional[list[str]], typer.Option(help="An axis and its values, e.g. selection=random,rices (repeatable).")] = None,
    out: Out = None,
    *,
    settings: dict[str, Any],
) -> None:
    """A grid over shots and any other axis (selection, prompt, frames, model, ...): one folder, one table."""
    from ..engine.sweep import read_sweep

    plan = read_sweep(benchmarks or [], settings, config=config, grid=grid or [])
    _evaluate(plan.benchmarks, out=_out(out, plan.options["model"], plan.benchmarks, "-sweep"), variants=plan.variants,
              baseline=plan.variants[0].name, **plan.options)


@app.command()
@user_errors
@run_options(shots=(0, 4, 8))
def ablate(
    benchmarks: Annotated[list[str], typer.Argument(help="Built-in benchmark names or spec files.")],
    variant: Annotated[list[str], typer.Option(help="name:key=value[,key=value], e.g. no-rices:selection=random (repeatable).")],
    out: Out = None,
    *,
    settings: dict[str, Any],
) -> None:
    """A baseline plus named variants; reports each variant's difference from the baseline."""
    _evaluate(benchmarks, out=_out(out, settings["model"], benchmarks, "-ablation"), variants=list(variant), **settings)


@app.command()
@user_errors
def report(
    folders: Annotated[list[Path], typer.Argument(help="Results folders to compare.")],
    out: Annotated[Optional[Path], typer.Option(help="Where to write the tables and plot (default: the first folder).")] = None,
    paper: Annotated[bool, typer.Option(help="Put the published Flamingo / OpenFlamingo numbers beside these.")] = False,
    training_runs: Annotated[Optional[Path], typer.Option(help="The `flamingo-eval train --variant` runs behind an ablate "
                             "folder's variants (one subfolder per variant): adds the paper-ablation table (docs/ablations.md).")] = None,
    ablation_shots: Annotated[str, typer.Option(help="With --training-runs: the shot counts of its tables.")] = "4,0,16",
    html: Annotated[bool, typer.Option(help="Also write each folder's report.html (a run writes its own at the end).")] = False,
) -> None:
    """Comparison tables (terminal, Markdown, CSV, LaTeX) and the shot-scaling plot."""
    from ..report import write_report

    print_report(folders, paper=paper)
    for path in write_report(folders, out or folders[0], paper=paper):
        console.print(f"wrote {path}")
    if html:
        from ..api import html_report

        for folder in folders:
            console.print(f"wrote {html_report(folder, paper=paper)}")
    if training_runs is not None:
        from ..report.paper_ablations import write_ablation_report

        for path in write_ablation_report(folders[0], training_runs, shots=parse_shots(ablation_shots), out=out):
            console.print(f"wrote {path}")


@app.command()
@user_errors
def export(
    folder: Annotated[Path, typer.Argument(help="A results folder.")],
    format: Annotated[str, typer.Option("--format", help="evalai-vqa | vizwiz | coco-captions")],
    out: Annotated[Path, typer.Option(help="The submission file to write (JSON).")],
    benchmark: Annotated[Optional[str], typer.Option(help="Which benchmark (when the folder has several).")] = None,
    shots: Annotated[Optional[int], typer.Option(help="Which shot count (when several).")] = None,
    trial: Annotated[Optional[int], typer.Option(help="Which trial (when several).")] = None,
    variant: Annotated[Optional[str], typer.Option(help="Which variant (when several).")] = None,
) -> None:
    """An evaluation server's submission file (EvalAI VQA, VizWiz, COCO captions) from a run's predictions."""
    from ..report.export import export_results

    count = export_results(folder, format, out, benchmark=benchmark, shots=shots, trial=trial, variant=variant)
    console.print(f"wrote {count} answers to {out}")


@app.command("benchmarks")
@user_errors
def list_benchmarks() -> None:
    """List the built-in benchmarks and the files each expects."""
    from ..benchmark import builtin_benchmarks, load_benchmark

    table = Table("name", "task", "format", "files (under <data-root>/<name>/)")
    for name, path in builtin_benchmarks().items():
        spec = load_benchmark(path)
        files = sorted({str(v) for split in (spec.data.pool, spec.data.eval) for k, v in split.items()
                        if k in ("annotations", "questions", "images", "videos", "mapping", "class_names", "path")})
        table.add_row(name, spec.task, spec.data.format, ", ".join(files))
    console.print(table)
