"""Reading results folders (``metrics.json`` + ``run.json``, see docs/results.md) into metric rows.

``read_results(folder)`` checks and loads one folder; ``combine_metric_rows(results)`` combines several into
one DataFrame with the columns ``ROW_COLUMNS``. Every problem with the input is a ``ResultsError`` naming the
file, row and key at fault.

Combining folders: each row gets ``run`` = the folder's name (made unique by prefixing parent folders
when two folders share a name). Rows of different folders that describe the same measurement (same
benchmark, model, variant, shots, trial and metric) are both kept; the variants involved are relabelled
``RUN:VARIANT`` in every row of those folders, so the tables show them side by side instead of averaging
two runs' trials together. Variants that do not collide keep their names, so a benchmark run in one
folder and another benchmark run in a second folder still land in one table row.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ResultsError

RESULTS_FORMAT = "flamingo-eval-results-v1"

# The keys of one metrics.json row, in the order of docs/results.md.
ROW_KEYS = ("variant", "model", "benchmark", "shots", "trial", "seed", "metric", "value", "n")
# The combined DataFrame's columns: the row keys, reordered to read like the summary, plus the folder.
ROW_COLUMNS = ("benchmark", "model", "variant", "shots", "trial", "seed", "metric", "value", "n", "run")
# What makes two rows the same measurement.
MEASUREMENT_KEY = ("benchmark", "model", "variant", "shots", "trial", "metric")


@dataclass(frozen=True)
class ResultSet:
    """One results folder as read from disk.

    folder:          the folder.
    rows:            the metrics.json rows, checked (dicts with at least ``ROW_KEYS``).
    run:             run.json, as parsed.
    primary_metrics: run.json's ``primary_metrics``: benchmark -> the metric the tables report.
    baseline:        run.json's ``baseline`` variant name (``"baseline"`` when absent).
    """

    folder: Path
    rows: tuple[Mapping[str, Any], ...]
    run: Mapping[str, Any] = field(repr=False)
    primary_metrics: Mapping[str, str]
    baseline: str = "baseline"

    @property
    def name(self) -> str:
        """The folder's name, which labels its rows (``run`` column)."""
        return self.folder.name


def _load_json(path: Path) -> Any:
    """Parse one JSON file; ResultsError naming the file when it is missing or not JSON."""
    if not path.is_file():
        raise ResultsError(f"{path}: file not found (a results folder holds metrics.json and run.json)")
    try:
        with path.open(encoding="utf-8") as handle:
            return json.load(handle)
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path}: cannot be read: {exc}") from None


def _is_int(value: Any) -> bool:
    # bool is an int subclass; a true/false where a count belongs is a mistake, not a 1/0.
    return isinstance(value, int) and not isinstance(value, bool)


def _check_row(path: Path, index: int, row: Any) -> Mapping[str, Any]:
    """One metrics.json row, checked; ResultsError naming the file, row and key otherwise."""
    where = f"{path}: row {index}"
    if not isinstance(row, dict):
        raise ResultsError(f"{where}: expected an object with keys {', '.join(ROW_KEYS)}, got {type(row).__name__}")
    missing = [key for key in ROW_KEYS if key not in row]
    if missing:
        raise ResultsError(f"{where}: missing key(s) {', '.join(repr(k) for k in missing)}")
    for key in ("variant", "model", "benchmark", "metric"):
        if not isinstance(row[key], str) or not row[key]:
            raise ResultsError(f"{where}: key {key!r} must be a non-empty string, got {row[key]!r}")
    for key in ("shots", "trial", "n"):
        if not _is_int(row[key]) or row[key] < 0:
            raise ResultsError(f"{where}: key {key!r} must be a non-negative integer, got {row[key]!r}")
    if row["seed"] is not None and not _is_int(row["seed"]):
        raise ResultsError(f"{where}: key 'seed' must be an integer or null, got {row['seed']!r}")
    value = row["value"]
    if _is_int(value):
        value = float(value)
    if not isinstance(value, float) or math.isinf(value):
        raise ResultsError(f"{where}: key 'value' must be a finite number, got {row['value']!r}")
    return row


def _read_metrics(path: Path) -> tuple[Mapping[str, Any], ...]:
    """metrics.json's rows, each checked, with no measurement repeated."""
    data = _load_json(path)
    if not isinstance(data, list):
        raise ResultsError(f"{path}: expected a JSON list of rows, got {type(data).__name__}")
    rows = tuple(_check_row(path, i, row) for i, row in enumerate(data))
    seen: dict[tuple[Any, ...], int] = {}
    for i, row in enumerate(rows):
        key = tuple(row[k] for k in MEASUREMENT_KEY)
        if key in seen:
            named = ", ".join(f"{k}={v!r}" for k, v in zip(MEASUREMENT_KEY, key))
            raise ResultsError(f"{path}: rows {seen[key]} and {i} are the same measurement ({named})")
        seen[key] = i
    return rows


def _read_run(path: Path) -> Mapping[str, Any]:
    """run.json, checked for what the report uses: ``format``, ``primary_metrics``, ``baseline``."""
    run = _load_json(path)
    if not isinstance(run, dict):
        raise ResultsError(f"{path}: expected a JSON object, got {type(run).__name__}")
    if "format" in run and run["format"] != RESULTS_FORMAT:
        raise ResultsError(f"{path}: key 'format' is {run['format']!r}; this report reads {RESULTS_FORMAT!r}")
    primary = run.get("primary_metrics")
    if not isinstance(primary, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in primary.items()
    ):
        raise ResultsError(f"{path}: key 'primary_metrics' must map benchmark names to metric names, got {primary!r}")
    if not isinstance(run.get("baseline", "baseline"), str):
        raise ResultsError(f"{path}: key 'baseline' must be a variant name, got {run['baseline']!r}")
    return run


def read_results(folder: str | os.PathLike[str]) -> ResultSet:
    """Load and check one results folder.

    In: the folder holding ``metrics.json`` and ``run.json``. Out: a ``ResultSet``. Raises ResultsError
    naming the folder or file when the folder or a file is missing, not JSON, or not in the documented
    layout, and naming run.json when a benchmark in metrics.json has no entry in ``primary_metrics``.
    """
    path = Path(folder)
    if not path.is_dir():
        raise ResultsError(f"{path}: not a results folder (no such directory)")
    rows = _read_metrics(path / "metrics.json")
    run = _read_run(path / "run.json")
    primary = dict(run["primary_metrics"])
    unknown = sorted({row["benchmark"] for row in rows} - set(primary))
    if unknown:
        raise ResultsError(
            f"{path / 'run.json'}: key 'primary_metrics' has no entry for benchmark(s) {', '.join(unknown)} "
            f"found in {path / 'metrics.json'}"
        )
    return ResultSet(folder=path, rows=rows, run=run, primary_metrics=primary, baseline=run.get("baseline", "baseline"))


def run_names(results: Sequence[ResultSet]) -> list[str]:
    """A unique label per folder: its name, or ``parent/name`` (and so on up) where names collide.

    In: result sets. Out: one label per set, in order. ResultsError when one folder is given twice.
    """
    resolved = [rs.folder.resolve() for rs in results]
    for i, folder in enumerate(resolved):
        if folder in resolved[:i]:
            raise ResultsError(f"{results[i].folder}: results folder given more than once")
    depth = [1] * len(results)
    while True:
        labels = ["/".join(folder.parts[-d:]) for folder, d in zip(resolved, depth)]
        clashes = {label for label in labels if labels.count(label) > 1}
        if not clashes:
            return labels
        # Lengthen only the clashing labels; resolved paths differ, so this ends at the latest at the root.
        depth = [d + 1 if label in clashes else d for label, d in zip(labels, depth)]


def combine_metric_rows(results: Sequence[ResultSet]) -> pd.DataFrame:
    """All folders' metric rows as one DataFrame with the columns ``ROW_COLUMNS``.

    In: result sets (``read_results``). Out: one row per metrics.json row, ``run`` naming its folder;
    colliding variants relabelled ``RUN:VARIANT`` (see the module docstring).
    """
    labels = run_names(results)
    records = [
        {**{key: row[key] for key in ROW_KEYS}, "run": label}
        for rs, label in zip(results, labels)
        for row in rs.rows
    ]
    frame = pd.DataFrame.from_records(records, columns=list(ROW_COLUMNS))
    frame = frame.astype({"shots": "int64", "trial": "int64", "n": "int64", "value": "float64", "seed": "Int64"})
    clashing = frame.duplicated(list(MEASUREMENT_KEY), keep=False)
    if clashing.any():
        groups = set(map(tuple, frame.loc[clashing, ["run", "model", "variant"]].itertuples(index=False)))
        affected = frame[["run", "model", "variant"]].apply(tuple, axis=1).isin(groups)
        frame.loc[affected, "variant"] = frame.loc[affected, "run"] + ":" + frame.loc[affected, "variant"]
    return frame.reset_index(drop=True)


def load_rows(folders: Sequence[str | os.PathLike[str]]) -> tuple[list[ResultSet], pd.DataFrame]:
    """``read_results`` for each folder, then ``combine_metric_rows``: the sets and their combined rows."""
    if not folders:
        raise ResultsError("no results folder given")
    results = [read_results(folder) for folder in folders]
    return results, combine_metric_rows(results)


def chance_levels(results: Sequence[ResultSet]) -> dict[str, float]:
    """benchmark -> the chance level its spec states (run.json's ``identity.benchmarks.NAME.chance``),
    for the benchmarks whose spec states one; the first folder that states it wins."""
    levels: dict[str, float] = {}
    for rs in results:
        identity = rs.run.get("identity")
        benchmarks = identity.get("benchmarks") if isinstance(identity, Mapping) else None
        for name, spec in (benchmarks.items() if isinstance(benchmarks, Mapping) else ()):
            value = spec.get("chance") if isinstance(spec, Mapping) else None
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                levels.setdefault(name, float(value))
    return levels


def merged_primary_metrics(results: Sequence[ResultSet]) -> dict[str, str]:
    """The benchmark -> primary metric map of all folders; ResultsError naming both run.json files when
    two folders disagree on a benchmark's primary metric (their numbers would not be comparable)."""
    merged: dict[str, tuple[str, Path]] = {}
    for rs in results:
        for benchmark, metric in rs.primary_metrics.items():
            if benchmark in merged and merged[benchmark][0] != metric:
                other_metric, other = merged[benchmark]
                raise ResultsError(
                    f"{rs.folder / 'run.json'}: primary metric of {benchmark!r} is {metric!r}, but "
                    f"{other / 'run.json'} says {other_metric!r}"
                )
            merged.setdefault(benchmark, (metric, rs.folder))
    return {benchmark: metric for benchmark, (metric, _) in merged.items()}
