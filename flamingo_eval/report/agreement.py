"""Does a run reproduce another? Predictions and metrics of two results folders, compared cell by cell.

The reproduction check a researcher wants after re-running a committed result: the same query, in the
same variant, benchmark, shot count and trial, got the same prediction, and every metric row has the
same value. Only the files are read (``predictions.jsonl`` and ``metrics.json``, docs/results.md), so
the two runs may come from different machines or versions.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ResultsError
from .results import read_results

# What identifies one prediction and one metric row (docs/results.md).
PREDICTION_KEY = ("variant", "benchmark", "shots", "trial", "query_id")
METRIC_KEY = ("variant", "benchmark", "shots", "trial", "metric")
# Metrics are recomputed from identical predictions by the same code: equal up to float printing.
REL_TOL = 1e-9


@dataclass(frozen=True)
class Agreement:
    """How two runs compare, over the predictions and metric rows both hold.

    predictions_compared / predictions_same: predictions present in both, and those equal.
    metrics_compared / metrics_same:         metric rows present in both, and those equal (REL_TOL).
    only_in_run / only_in_reference:         predictions one run has and the other lacks.
    first_difference:                        a readable example of the first difference, or None.
    """

    predictions_compared: int
    predictions_same: int
    metrics_compared: int
    metrics_same: int
    only_in_run: int
    only_in_reference: int
    first_difference: str | None

    @property
    def agrees(self) -> bool:
        """Every shared prediction and metric is equal, and neither run has predictions the other lacks."""
        return (self.predictions_compared > 0 and self.predictions_same == self.predictions_compared
                and self.metrics_same == self.metrics_compared and not self.only_in_run and not self.only_in_reference)

    def describe(self) -> str:
        """One line: agrees or not, with the counts behind it."""
        counts = (f"{self.predictions_same} of {self.predictions_compared} predictions and "
                  f"{self.metrics_same} of {self.metrics_compared} metric values identical")
        missing = ""
        if self.only_in_run or self.only_in_reference:
            missing = f"; {self.only_in_run} predictions only in this run, {self.only_in_reference} only in the reference"
        if self.agrees:
            return f"agrees with the reference: {counts}"
        return f"DIFFERS from the reference: {counts}{missing}" + (f"; first difference: {self.first_difference}"
                                                                   if self.first_difference else "")


def _predictions(folder: Path) -> dict[tuple, str]:
    path = folder / "predictions.jsonl"
    if not path.is_file():
        raise ResultsError(f"{path}: file not found (a results folder holds its predictions there)")
    rows: dict[tuple, str] = {}
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                rows[tuple(row[k] for k in PREDICTION_KEY)] = row["prediction"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ResultsError(f"{path}: line {number} is not a prediction row ({type(exc).__name__}: {exc})") from None
    return rows


def _metrics(folder: Path) -> dict[tuple, Any]:
    return {tuple(row[k] for k in METRIC_KEY): row["value"] for row in read_results(folder).rows}


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-12) or (math.isnan(a) and math.isnan(b))
    return a == b


def compare_runs(run: str | os.PathLike[str], reference: str | os.PathLike[str]) -> Agreement:
    """Compare the results folder ``run`` with ``reference``.

    In: two results folders. Out: an ``Agreement``. ResultsError naming the file when either folder's
    predictions.jsonl or metrics.json cannot be read.
    """
    run, reference = Path(run), Path(reference)
    ours, theirs = _predictions(run), _predictions(reference)
    shared = [k for k in ours if k in theirs]
    first = None
    same = 0
    for key in shared:
        if ours[key] == theirs[key]:
            same += 1
        elif first is None:
            cell = ", ".join(f"{name}={value}" for name, value in zip(PREDICTION_KEY, key))
            first = f"{cell}: {ours[key]!r} here, {theirs[key]!r} in the reference"
    our_metrics, their_metrics = _metrics(run), _metrics(reference)
    shared_metrics = [k for k in our_metrics if k in their_metrics]
    metrics_same = sum(_same_value(our_metrics[k], their_metrics[k]) for k in shared_metrics)
    if first is None and metrics_same < len(shared_metrics):
        key = next(k for k in shared_metrics if not _same_value(our_metrics[k], their_metrics[k]))
        cell = ", ".join(f"{name}={value}" for name, value in zip(METRIC_KEY, key))
        first = f"{cell}: {our_metrics[key]} here, {their_metrics[key]} in the reference"
    return Agreement(
        predictions_compared=len(shared), predictions_same=same,
        metrics_compared=len(shared_metrics), metrics_same=metrics_same,
        only_in_run=sum(k not in theirs for k in ours), only_in_reference=sum(k not in ours for k in theirs),
        first_difference=first,
    )
