"""Mean and standard deviation over trials: the summary a run writes as ``summary.csv`` / ``summary.md``.

``summarize`` is the one definition of the summary; ``write_summary`` (what a run calls when it ends) and
the report both use it, so the numbers in a folder's summary.csv and in a report always agree.
"""

from __future__ import annotations

import math
import os
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Union

import pandas as pd

from ..errors import ResultsError
from ..storage import write_text_atomic
from .formats import to_markdown
from .results import ROW_KEYS, ResultSet, combine_metric_rows, load_rows

SUMMARY_COLUMNS = ("benchmark", "model", "variant", "shots", "metric", "mean", "std", "trials", "n")
GROUP_COLUMNS = ["benchmark", "model", "variant", "shots", "metric"]


def _mean(values: pd.Series) -> float:
    # statistics' mean and stdev are exact (they sum fractions): three trials of 0.2 give std 0.0, not
    # 3e-17, and the mean of 0.80, 0.84, 0.88 is written as 0.84 -- the CSV shows what a reader expects.
    # A NaN trial (a metric undefined in one trial) makes the group's numbers NaN, as with plain floats.
    return math.nan if values.isna().any() else float(statistics.mean(values))


def _std(values: pd.Series) -> float:
    """Sample standard deviation (ddof 1); 0.0 for one trial, where ddof 1 is undefined."""
    if values.isna().any():
        return math.nan
    return float(statistics.stdev(values)) if len(values) > 1 else 0.0


def summarize(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean and sample standard deviation over trials, per (benchmark, model, variant, shots, metric).

    In: metric rows (``combine_metric_rows``; at least ``benchmark, model, variant, shots, trial, metric, value,
    n``). Out: one row per group with the columns ``SUMMARY_COLUMNS``, sorted by the group columns:

    * ``mean``, ``std``: over the group's trials, on the metric's own scale; ``std`` is the sample standard
      deviation (ddof 1), as the papers report it, and 0.0 for a single trial (where ddof 1 is undefined);
    * ``trials``: how many trials the group has;
    * ``n``: queries scored per trial -- the smallest, should trials differ (e.g. items skipped in one),
      so that ``n`` never overstates what every trial rests on.
    """
    missing = [c for c in (*GROUP_COLUMNS, "trial", "value", "n") if c not in rows.columns]
    if missing:
        raise ValueError(f"summarize: metric rows lack column(s) {', '.join(missing)}")
    if rows.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64" if c in ("mean", "std") else "object")
                             for c in SUMMARY_COLUMNS})
    grouped = rows.groupby(GROUP_COLUMNS, sort=True, dropna=False)
    summary = grouped.agg(
        mean=("value", _mean), std=("value", _std), trials=("trial", "size"), n=("n", "min")
    ).reset_index()
    summary["mean"] = summary["mean"].astype("float64")
    summary["std"] = summary["std"].astype("float64")
    return summary[list(SUMMARY_COLUMNS)].reset_index(drop=True)


def summary_markdown(summary: pd.DataFrame) -> str:
    """The summary as a Markdown table: the same columns and scale as summary.csv, rounded to 4 decimals."""
    shown = summary.copy()
    for column in ("mean", "std"):
        shown[column] = [f"{value:.4f}" for value in shown[column]]
    return to_markdown(shown.astype(str))


RowsSource = Union[str, "os.PathLike[str]", ResultSet, pd.DataFrame, Sequence[Mapping[str, Any]]]


def _rows_of(source: RowsSource) -> pd.DataFrame:
    """Metric rows from a results folder, a ResultSet, a DataFrame of metric rows, or metrics.json's rows
    as a list of dicts (what a run has in memory when it ends)."""
    if isinstance(source, pd.DataFrame):
        return source
    if isinstance(source, ResultSet):
        return combine_metric_rows([source])
    if isinstance(source, (str, os.PathLike)):
        return load_rows([source])[1]
    return pd.DataFrame.from_records(list(source), columns=list(ROW_KEYS))


def write_summary(folder_or_rows: RowsSource, folder: str | os.PathLike[str] | None = None) -> list[Path]:
    """Write ``summary.csv`` and ``summary.md`` into ``folder``, each atomically.

    In: a results folder (its metrics.json is read), a ``ResultSet``, a DataFrame of metric rows or a list
    of metrics.json rows (dicts); and the folder to write into (default: the results folder itself;
    required for rows). Out: the two paths written. The CSV holds full-precision floats; the Markdown the same rows rounded.
    """
    if folder is None:
        if not isinstance(folder_or_rows, (str, os.PathLike, ResultSet)):
            raise ValueError("write_summary: give the folder to write into when passing metric rows")
        folder = folder_or_rows.folder if isinstance(folder_or_rows, ResultSet) else folder_or_rows
    out = Path(folder)
    if not out.is_dir():
        raise ResultsError(f"{out}: cannot write the summary here (no such directory)")
    summary = summarize(_rows_of(folder_or_rows))
    return [
        write_text_atomic(out / "summary.csv", summary.to_csv(index=False, lineterminator="\n")),
        write_text_atomic(out / "summary.md", summary_markdown(summary)),
    ]


def summarize_folders(folders: Sequence[str | os.PathLike[str]]) -> pd.DataFrame:
    """``summarize`` of the combined rows of several results folders (see ``results.combine_metric_rows``)."""
    return summarize(load_rows(folders)[1])
