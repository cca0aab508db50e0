"""Sweeps as data: a grid of settings (from a YAML file and ``axis=value,...`` items) turned into the
named variants one run evaluates side by side."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import Any

from ..errors import SpecError
from ..spec_io import read_yaml
from .settings import BASELINE, OVERRIDES, Variant


def sweep_variants(grid: dict[str, Sequence[Any]]) -> list[Variant]:
    """Every combination of the grid's values (except shots, which every run already sweeps), named by
    its settings, e.g. ``selection=rices,prompt=vqa_b``."""
    keys = sorted(k for k in grid if k != "shots")
    unknown = [k for k in keys if k not in OVERRIDES]
    if unknown:
        raise SpecError(f"sweep: unknown axis {unknown[0]!r} (known: shots, {', '.join(OVERRIDES)})")
    if not keys:
        return [Variant(BASELINE)]
    variants = []
    for values in product(*(list(grid[k]) for k in keys)):
        overrides = {k: OVERRIDES[k](v) for k, v in zip(keys, values)}
        variants.append(Variant(",".join(f"{k}={v}" for k, v in overrides.items()), overrides))
    return variants


@dataclass(frozen=True)
class Sweep:
    benchmarks: list[str]
    options: dict[str, Any]  # run settings (evaluate's keyword arguments), the config's over the given ones
    variants: list[Variant]


def read_sweep(benchmarks: Sequence[str], options: dict[str, Any], *, config: Path | None = None,
               grid: Sequence[str] = ()) -> Sweep:
    """A sweep from benchmarks and settings, a YAML config (``benchmarks``, ``grid: {axis: [values]}``
    and any setting of ``options``) and ``axis=value,value`` items; unknown keys are errors naming them."""
    options, axes = dict(options), {}
    if config is not None:
        data = read_yaml(config, "sweep config") or {}
        if not isinstance(data, dict):
            raise SpecError(f"{config}: a sweep config must be a mapping")
        benchmarks = list(benchmarks) or data.pop("benchmarks", None) or []
        axes.update(data.pop("grid", {}) or {})
        for key, value in data.items():
            if key not in options:
                raise SpecError(f"{config}: unknown key {key} (known: benchmarks, grid, {', '.join(options)})")
            options[key] = tuple(value) if key == "shots" else value
    for item in grid:
        axis, eq, values = item.partition("=")
        if not eq:
            raise SpecError(f"--grid {item!r} should be axis=value,value")
        axes[axis] = values.split(",")
    if "shots" in axes:
        options["shots"] = tuple(int(s) for s in axes.pop("shots"))
    if not benchmarks:
        raise SpecError("sweep needs benchmarks (arguments or in --config)")
    return Sweep(benchmarks=list(benchmarks), options=options, variants=sweep_variants(axes))
