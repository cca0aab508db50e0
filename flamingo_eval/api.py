"""The Python API behind the CLI: ``evaluate(...)`` returns the metrics as a pandas DataFrame;
``demo(...)`` is the main command's job (a new run of the demo sweep, checked against the reference)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .demo.settings import DEMO_MODEL, DEMO_QUERIES, DEMO_REFERENCE, DEMO_SHOTS, DEMO_TRIALS, DEMO_UNTRAINED
from .engine.runner import Progress, Runner
from .engine.settings import BASELINE, RunSettings, Variant, parse_variant
from .engine.sweep import read_sweep, sweep_variants

__all__ = ["DemoRun", "demo", "demo_folder", "evaluate", "html_report", "read_sweep", "sweep_variants"]

if TYPE_CHECKING:
    from .report.agreement import Agreement


def evaluate(
    benchmarks: Sequence[str],
    *,
    out: Path | str,
    variants: Sequence[Variant | str] = (),
    baseline: str = BASELINE,
    progress: Progress | None = None,
    command: str = "",
    **settings: Any,
) -> pd.DataFrame:
    """Evaluate on ``benchmarks`` at every shot count and trial; write the results folder ``out``
    (docs/results.md) and return its metrics (one row per variant, benchmark, shots, trial, metric).

    ``settings``: any field of ``RunSettings`` (engine/settings.py, each with its default and what it
    does: ``model``, ``shots``, ``trials``, ``seed``, ``selection``, ``num_samples``, ``frames``, ...).
    ``variants`` ("name:key=value,..." or Variant) are evaluated beside the baseline; running again into
    the same folder resumes.
    """
    run_settings = RunSettings.of(benchmarks, **settings)
    parsed = [v if isinstance(v, Variant) else parse_variant(v) for v in variants]
    if not any(v.name == baseline for v in parsed):
        parsed.insert(0, Variant(baseline))
    runner = Runner(run_settings, out, variants=parsed, baseline=baseline, command=command, progress=progress)
    return pd.DataFrame(runner.run())


@dataclass(frozen=True)
class DemoRun:
    """What ``demo`` produced: its results folder and metrics, and how it compares with the reference
    (None when there is no reference to compare with)."""

    out: Path
    metrics: pd.DataFrame
    reference: Path | None
    agreement: Agreement | None


def demo_folder() -> Path:
    """A new folder name for a demo run: ``runs/demo-<UTC date and time>``."""
    return Path("runs") / f"demo-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}"


def demo(
    *,
    out: Path | str | None = None,
    model: str = DEMO_MODEL,
    shots: Sequence[int] = DEMO_SHOTS,
    trials: int = DEMO_TRIALS,
    num_samples: int | None = DEMO_QUERIES,
    reference: Path | str | None = DEMO_REFERENCE,
    untrained: Path | str | None = DEMO_UNTRAINED,
    progress: Progress | None = None,
    command: str = "",
    **settings: Any,
) -> DemoRun:
    """The main job: ``model`` on the demo suite's test splits at every shot count and trial, evaluated
    into a new folder (never into an existing one: the demo always evaluates), then compared with the
    committed reference run.

    In: the results folder to create (default ``demo_folder()``), the model and sweep settings (and any
    other ``RunSettings`` field: ``device``, ``dtype``, ``batch_size``, caches, ``skip_bad``, ...), the
    reference folder (None: no comparison) and the untrained adapters' folder, whose curves the plot
    draws beside this run's (None or missing: this run alone). Out: a ``DemoRun``.
    """
    from .demo import DEMO_BENCHMARKS
    from .errors import SpecError
    from .report import build_report, shot_scaling_plot
    from .report.agreement import compare_runs

    out = Path(out) if out is not None else demo_folder()
    if settings.get("limit") is not None or settings.get("ids") is not None:
        num_samples = None  # the demo's default subset gives way to the queries asked for
    if out.exists() and any(out.iterdir()):
        raise SpecError(f"{out}: already holds files; the demo evaluates from scratch into a new folder "
                        "(to resume an interrupted run, use `flamingo-eval run` with the same settings)")
    metrics = evaluate(list(DEMO_BENCHMARKS), model=model, out=out, shots=shots, trials=trials, num_samples=num_samples,
                       progress=progress, command=command, **settings)
    if untrained is not None and (Path(untrained) / "metrics.json").is_file():
        report = build_report([out, untrained])
        shot_scaling_plot(report.summary, report.primary_metrics, out / "shot_scaling.png", chance=report.chance)
    compare = reference is not None and (Path(reference) / "metrics.json").is_file() and Path(reference).resolve() != out.resolve()
    return DemoRun(out=out, metrics=metrics, reference=Path(reference) if compare else None,
                   agreement=compare_runs(out, reference) if compare else None)


def html_report(folder: Path | str, *, paper: bool = False, out: Path | str | None = None) -> Path:
    """``report.html`` for a results folder (report/html.py), its thumbnails read from the run's data
    (the benchmark specs and data root its run.json records) where it can still be read; returns the path."""
    import json

    from .benchmark import parse_benchmark
    from .data.splits import load_benchmark_data
    from .engine.finish import media_lookup
    from .errors import FlamingoEvalError
    from .report.html import write_html_report

    folder = Path(folder)
    try:
        run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        run = {}
    splits = {}
    for name, spec in run.get("identity", {}).get("benchmarks", {}).items():
        try:
            parsed = parse_benchmark(spec, source=f"{folder / 'run.json'}: identity.benchmarks.{name}")
            data = load_benchmark_data(parsed, run.get("settings", {}).get("data_root"), skip_bad=True)
        except (FlamingoEvalError, OSError):
            continue  # no thumbnails for it: the page says so where they would be
        splits[name] = (data.pool, data.eval)
    return write_html_report(folder, media_of=media_lookup(splits), paper=paper, out=out)
