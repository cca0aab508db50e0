"""Load a benchmark's two splits (demonstration pool and evaluated split) as its spec describes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .example import Example
from ..errors import DataError
from .formats import Problems, Skipped, read_examples

if TYPE_CHECKING:
    from ..benchmark import BenchmarkSpec


@dataclass(frozen=True)
class BenchmarkData:
    pool: list[Example]  # demonstrations are drawn from here
    eval: list[Example]  # the queries
    skipped: list[Skipped]  # records left out on request (skip_bad), each with its file and reason


def load_benchmark_data(spec: "BenchmarkSpec", data_root: Path | str | None = None, *, skip_bad: bool = False) -> BenchmarkData:
    """Read both splits (never writing anything: a generated benchmark must have been generated). Without ``skip_bad`` any bad record is an error naming its file and id; with
    it, bad records are left out and listed in ``skipped`` (to be written to the results)."""
    root = spec.data_root(data_root)
    if spec.data.generate is not None and not root.exists():
        raise DataError(f"benchmark {spec.name}: its generated data is not there ({root}); "
                        "write it with `flamingo-eval make-demo-data` (run and demo do so themselves)")
    problems = Problems(skip=skip_bad)
    pool = read_examples(spec.data.format, root, spec.data.pool, problems)
    queries = read_examples(spec.data.format, root, spec.data.eval, problems)
    return BenchmarkData(pool=pool, eval=queries, skipped=list(problems.skipped))
