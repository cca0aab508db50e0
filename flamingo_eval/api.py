"""The Python API behind the CLI: ``evaluate(...)`` returns the metrics as a pandas DataFrame."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .engine.runner import Progress, Runner
from .engine.settings import BASELINE, RunSettings, Variant, parse_variant


def evaluate(
    benchmarks: Sequence[str],
    *,
    model: str = "smol",
    out: Path | str,
    shots: Sequence[int] = (0, 4, 8, 16, 32),
    trials: int = 1,
    seed: int = 42,
    selection: str = "random",
    num_samples: int | None = None,
    batch_size: int = 8,
    token_budget: int | None = None,
    share_prefix: bool = True,
    data_root: Path | str | None = None,
    variants: Sequence[Variant | str] = (),
    baseline: str = BASELINE,
    skip_bad: bool = False,
    device: str = "cpu",
    dtype: str | None = None,
    embedding_cache: Path | str | None = None,
    visual_cache: Path | str | None = None,
    progress: Progress | None = None,
    command: str = "",
) -> pd.DataFrame:
    """Evaluate ``model`` on ``benchmarks`` at every shot count and trial; write the results folder
    ``out`` (docs/results.md) and return its metrics (one row per variant, benchmark, shots, trial,
    metric). ``variants`` ("name:key=value,..." or Variant) are evaluated beside the baseline; running
    again into the same folder resumes.
    """
    settings = RunSettings(
        benchmarks=tuple(benchmarks), model=model, shots=tuple(shots), trials=trials, seed=seed, selection=selection,
        num_samples=num_samples, batch_size=batch_size, token_budget=token_budget, share_prefix=share_prefix,
        data_root=None if data_root is None else str(data_root),
        skip_bad=skip_bad, device=device, dtype=dtype, embedding_cache=None if embedding_cache is None else str(embedding_cache),
        visual_cache=None if visual_cache is None else str(visual_cache),
    )
    parsed = [v if isinstance(v, Variant) else parse_variant(v) for v in variants]
    if not any(v.name == baseline for v in parsed):
        parsed.insert(0, Variant(baseline))
    runner = Runner(settings, out, variants=parsed, baseline=baseline, command=command, progress=progress)
    return pd.DataFrame(runner.run())


def sweep_variants(grid: dict[str, Sequence[Any]]) -> list[Variant]:
    """Every combination of the grid's values (except shots, which every run already sweeps), named by
    its settings, e.g. ``selection=rices,prompt=vqa_b``."""
    from itertools import product

    from .engine.settings import OVERRIDES
    from .errors import SpecError

    keys = sorted(k for k in grid if k != "shots")
    unknown = [k for k in keys if k not in OVERRIDES]
    if unknown:
        raise SpecError(f"sweep: unknown axis {unknown[0]!r} (known: shots, {', '.join(OVERRIDES)})")
    if not keys:
        return [Variant(BASELINE)]
    variants = []
    for values in product(*(list(grid[k]) for k in keys)):
        overrides = {k: OVERRIDES[k](v) for k, v in zip(keys, values)}
        name = ",".join(f"{k}={v}" for k, v in overrides.items())
        variants.append(Variant(name, overrides))
    return variants
