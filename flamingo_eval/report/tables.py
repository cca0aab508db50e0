"""Comparison tables from a summary (``summarize``): shots, models and variant deltas, as the papers print them.

Each table is a DataFrame of display strings (values x100, one decimal, ``84.3 ± 1.2``; see ``cells``),
ready for the formatters in ``formats`` (``to_markdown``, ``to_latex``, ``to_rich``) or ``to_csv``. Only
each benchmark's primary metric is shown (run.json's ``primary_metrics``), as in Flamingo's Table 1.

* ``shots_table``: rows (model, variant, benchmark), columns shot counts -- one row per line of the
  shot-scaling plot; published rows (``published.paper_rows``) can be appended.
* ``model_table``: rows (model, variant, shots), columns benchmarks -- Flamingo's Table 1 layout.
* ``delta_table``: rows (model, shots, variant), columns benchmarks: the baseline's numbers, then each
  other variant's difference from them (variant - baseline, in points x100) -- the layout of Flamingo's
  ablation table (Table 3), where the top row is the baseline.

This module also re-exports the loading, summary and formatting functions, so that ``tables`` is the one
entry point for building tables from results folders.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from .cells import MISSING, display_scale, format_cell, format_delta
from .formats import latex_escape, to_latex, to_markdown, to_rich
from .results import ResultSet, combine_metric_rows, load_rows, read_results
from .summary import SUMMARY_COLUMNS, summarize, write_summary

__all__ = [
    "SUMMARY_COLUMNS", "ResultSet", "combine_metric_rows", "delta_table", "infer_primary_metrics", "latex_escape",
    "load_rows", "model_table", "primary_rows", "read_results", "shots_table", "summarize",
    "to_latex", "to_markdown", "to_rich", "write_summary",
]

PRIMARY_COLUMNS = ["benchmark", "model", "variant", "shots", "metric", "mean", "std", "trials"]


def infer_primary_metrics(summary: pd.DataFrame) -> dict[str, str]:
    """Benchmark -> primary metric, guessed from the metric names when run.json's map is not at hand.

    In: a summary. Out: for each benchmark, the one metric in the summary that is some registered
    metric's ``primary`` (``CIDEr``, ``vqa_accuracy``, ...). ValueError when a benchmark has none or
    several (then the map must be given).
    """
    from ..metrics.registry import METRICS  # here, not at import: the report needs it only for this guess

    primaries = {metric.primary for metric in METRICS.values()}
    chosen: dict[str, str] = {}
    for benchmark, metrics in summary.groupby("benchmark", sort=True)["metric"]:
        candidates = sorted(set(metrics) & primaries)
        if len(candidates) != 1:
            raise ValueError(
                f"cannot tell the primary metric of benchmark {benchmark!r} (candidates: {candidates or 'none'}); "
                "pass metric_per_benchmark (run.json's primary_metrics)"
            )
        chosen[str(benchmark)] = candidates[0]
    return chosen


def _is_baseline(variant: str, baseline: str | None) -> bool:
    # A baseline relabelled "RUN:baseline" (two folders with the same variant) is still a baseline.
    return baseline is not None and (variant == baseline or variant.endswith(":" + baseline))


def primary_rows(summary: pd.DataFrame, metric_per_benchmark: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The summary's rows of each benchmark's primary metric, with ``mean`` and ``std`` on the display
    scale (x100).

    In: a summary (or published rows of the same shape) and benchmark -> metric (default:
    ``infer_primary_metrics``). Benchmarks not in the map are left out. Out: columns ``PRIMARY_COLUMNS``.
    """
    mapping = dict(metric_per_benchmark) if metric_per_benchmark is not None else infer_primary_metrics(summary)
    keep = [mapping.get(b) == m for b, m in zip(summary["benchmark"], summary["metric"])]
    rows = summary.loc[keep].copy()
    scale = rows["metric"].map(display_scale).astype("float64")
    rows["mean"] = rows["mean"].astype("float64") * scale
    rows["std"] = rows["std"].astype("float64") * scale
    if "trials" not in rows.columns:
        rows["trials"] = pd.NA
    return rows[PRIMARY_COLUMNS].reset_index(drop=True)


def _ordered(rows: pd.DataFrame, baseline: str | None, by: Sequence[str]) -> pd.DataFrame:
    """Rows sorted by ``by``, where "variant" sorts the baseline first, then the others by name."""
    order: list[str] = []
    for column in by:
        order += ["_not_baseline", "variant"] if column == "variant" else [column]
    flagged = rows.assign(_not_baseline=[not _is_baseline(v, baseline) for v in rows["variant"]])
    return flagged.sort_values(order, kind="stable").drop(columns="_not_baseline")


def _shot_label(shots: int) -> str:
    return f"{shots}-shot"


def _benchmark_label(benchmark: str, metric: str) -> str:
    return f"{benchmark} ({metric})"


def _wide(rows: pd.DataFrame, row_keys: Sequence[str], column_of, cell_of) -> pd.DataFrame:
    """Pivot long rows into a table of display strings, keeping the rows' order (``pivot`` would sort).

    ``column_of(row)`` names a row's column, ``cell_of(row)`` its text; columns appear in first-seen order
    unless the caller sorted ``rows`` accordingly. Empty places hold ``MISSING``.
    """
    records: dict[tuple, dict[str, str]] = {}
    columns: dict[str, None] = {}
    for row in rows.itertuples(index=False):
        key = tuple(getattr(row, k) for k in row_keys)
        column = column_of(row)
        columns.setdefault(column)
        records.setdefault(key, {})[column] = cell_of(row)
    table = [{**dict(zip(row_keys, key)), **{c: cells.get(c, MISSING) for c in columns}} for key, cells in records.items()]
    return pd.DataFrame(table, columns=[*row_keys, *columns])


def shots_table(
    summary: pd.DataFrame,
    metric_per_benchmark: Mapping[str, str] | None = None,
    *,
    paper: pd.DataFrame | None = None,
    baseline: str | None = None,
) -> pd.DataFrame:
    """Primary metric against shots: rows (model, variant, benchmark, metric), columns ``K-shot``.

    In: a summary; benchmark -> primary metric; optionally published rows (``published.paper_rows``,
    summary-shaped) appended after this run's rows; the baseline variant, listed first. Out: display
    strings, ``mean ± std`` over trials (a published number without a std shows the mean only).
    """
    mapping = dict(metric_per_benchmark) if metric_per_benchmark is not None else infer_primary_metrics(summary)
    ours = _ordered(primary_rows(summary, mapping), baseline, ["model", "variant", "benchmark", "shots"])
    parts = [ours]
    if paper is not None and not paper.empty:
        parts.append(primary_rows(paper, mapping))  # in the order given (paper_rows: by paper, then size)
    rows = pd.concat(parts, ignore_index=True)
    shot_columns = [_shot_label(s) for s in sorted(rows["shots"].unique())]
    table = _wide(rows, ["model", "variant", "benchmark", "metric"],
                  lambda r: _shot_label(r.shots), lambda r: format_cell(r.mean, r.std))
    return table.reindex(columns=["model", "variant", "benchmark", "metric", *shot_columns], fill_value=MISSING)


def _shot_list(rows: pd.DataFrame, shots: int | Iterable[int] | None) -> list[int]:
    """The shot counts asked for (all present when None); ValueError naming the ones not present."""
    present = sorted(int(s) for s in rows["shots"].unique())
    if shots is None:
        return present
    wanted = [int(shots)] if isinstance(shots, int) else [int(s) for s in shots]
    absent = [s for s in wanted if s not in present]
    if absent:
        raise ValueError(f"no results at shots {absent}; present: {present}")
    return wanted


def model_table(
    summary: pd.DataFrame,
    shots: int | Iterable[int] | None = None,
    metric_per_benchmark: Mapping[str, str] | None = None,
    *,
    baseline: str | None = None,
) -> pd.DataFrame:
    """Models against benchmarks at given shot counts: rows (model, variant, shots), one column per
    benchmark (``"coco (CIDEr)"``), cells ``mean ± std`` of its primary metric.

    In: a summary; the shot count(s) (default: every count present); benchmark -> primary metric; the
    baseline variant, listed first. Out: display strings.
    """
    rows = primary_rows(summary, metric_per_benchmark)
    wanted = _shot_list(rows, shots)
    rows = rows[rows["shots"].isin(wanted)]
    rows = _ordered(rows, baseline, ["model", "variant", "shots", "benchmark"])
    columns = [_benchmark_label(b, m) for b, m in sorted(set(zip(rows["benchmark"], rows["metric"])))]
    table = _wide(rows, ["model", "variant", "shots"],
                  lambda r: _benchmark_label(r.benchmark, r.metric), lambda r: format_cell(r.mean, r.std))
    return table.reindex(columns=["model", "variant", "shots", *columns], fill_value=MISSING)


def _baseline_rows(rows: pd.DataFrame, baseline: str, model: str) -> pd.DataFrame:
    """The baseline's rows for ``model``; when the baseline ran with one model only, that model's rows
    (a variant that swaps the model is then compared with the baseline's model)."""
    base = rows[rows["variant"] == baseline]
    same = base[base["model"] == model]
    return same if not same.empty or base["model"].nunique() != 1 else base


def delta_table(
    summary: pd.DataFrame, baseline: str, metric_per_benchmark: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Each variant's difference from the baseline, per benchmark and shot count (primary metrics).

    In: a summary, the baseline variant's name, benchmark -> primary metric. Out: rows (model, shots,
    variant): the baseline's own ``mean ± std`` first, then for every other variant ``variant mean -
    baseline mean`` (x100, signed, e.g. ``+1.2``) -- a difference of means over trials; ``MISSING`` where
    the baseline lacks that benchmark and shot count. ValueError when no row has variant ``baseline``.
    """
    rows = primary_rows(summary, metric_per_benchmark)
    if not (rows["variant"] == baseline).any():
        raise ValueError(f"baseline variant {baseline!r} not in the results; variants: {sorted(rows['variant'].unique())}")
    key = ["benchmark", "shots", "metric"]
    parts = []
    for model, group in rows.groupby("model", sort=True):
        base = _baseline_rows(rows, baseline, model).set_index(key)["mean"]
        group = group.assign(base=[base.get(k, float("nan")) for k in group[key].itertuples(index=False, name=None)])
        parts.append(group)
    rows = pd.concat(parts, ignore_index=True)
    rows = _ordered(rows, baseline, ["model", "shots", "variant", "benchmark"])
    columns = [_benchmark_label(b, m) for b, m in sorted(set(zip(rows["benchmark"], rows["metric"])))]

    def cell(r) -> str:
        return format_cell(r.mean, r.std) if r.variant == baseline else format_delta(r.mean - r.base)

    table = _wide(rows, ["model", "shots", "variant"], lambda r: _benchmark_label(r.benchmark, r.metric), cell)
    return table.reindex(columns=["model", "shots", "variant", *columns], fill_value=MISSING)

