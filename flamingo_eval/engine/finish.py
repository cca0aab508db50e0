"""Finishing a run: the metrics from the predictions files alone (so an interrupted and resumed run
ends exactly as an uninterrupted one), the ordered predictions, metrics.json, the summary and plot."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..benchmark import BenchmarkSpec
from ..data.example import Example
from ..metrics import get_metric
from . import distributed
from ..storage import write_json
from .batch import has_reference
from .results import ResultsFolder, prediction_key
from .scoring import metric_rows


def primary_metrics(specs: Mapping[str, BenchmarkSpec]) -> dict[str, str]:
    """benchmark -> the name of its primary metric (what tables and plots show)."""
    return {name: get_metric(spec.metric).primary for name, spec in specs.items()}


def finish(
    folder: ResultsFolder, specs: Mapping[str, BenchmarkSpec], *, variants: Sequence[str], shots: Sequence[int],
    queries: Mapping[str, Sequence[Example]], written: Sequence[Sequence[tuple]] = (),
) -> list[dict[str, Any]]:
    """Score every prediction of ``folder`` and write metrics.json, the ordered predictions (one row per
    key, every score filled in, the ranks' shards merged), summary and plot; returns the metrics rows.

    ``queries``: each benchmark's evaluated split (its order is the predictions' order);
    ``written``: the keys each rank appended this run, which must all be readable here.
    """
    from ..report import shot_scaling_plot, summarize, write_summary

    rows: dict[tuple, dict[str, Any]] = {}
    for row in folder.read_predictions():
        rows.setdefault(prediction_key(row), row)  # one row per key, however many files hold it
    distributed.check_visible(written, rows.keys(), folder.path)
    benchmarks, shots, variants = list(specs), list(shots), list(variants)
    positions = {name: {ex.id: i for i, ex in enumerate(queries[name])} for name in specs}
    ordered = sorted(rows.values(), key=lambda r: (variants.index(r["variant"]), benchmarks.index(r["benchmark"]),
                                                   shots.index(r["shots"]), r["trial"], positions[r["benchmark"]].get(r["query_id"], -1)))
    metrics: list[dict[str, Any]] = []
    for name, spec in specs.items():
        members = [r for r in ordered if r["benchmark"] == name and has_reference(r)]  # the rest: no answers to score
        bench_metrics, scores = metric_rows(spec.metric, members)
        metrics.extend(bench_metrics)
        for r in members:
            if r["score"] is None:
                r["score"] = scores.get(prediction_key(r))
    metrics.sort(key=lambda m: (variants.index(m["variant"]), benchmarks.index(m["benchmark"]), m["shots"], m["trial"], m["metric"]))
    folder.consolidate(ordered)
    write_json(folder.metrics, metrics)
    if metrics:
        import pandas as pd

        write_summary(metrics, folder.path)
        chance = {name: spec.chance for name, spec in specs.items() if spec.chance is not None}
        shot_scaling_plot(summarize(pd.DataFrame(metrics)), primary_metrics(specs), folder.path / "shot_scaling.png", chance=chance)
    return metrics


def media_lookup(splits: Mapping[str, Sequence[Sequence[Example]]]) -> Callable[[str, str], list[Path]]:
    """``(benchmark, example id) -> its image files`` over the given splits of each benchmark (pool and
    evaluated), indexed on first use: what the HTML report's thumbnails are made from."""
    index: dict[str, dict[str, list[Path]]] = {}

    def media_of(benchmark: str, example_id: str) -> list[Path]:
        if benchmark not in index:
            index[benchmark] = {ex.id: [ref.path for ref in ex.media] for split in splits.get(benchmark, ()) for ex in split}
        found = index[benchmark].get(example_id)
        if found is None:
            raise KeyError(f"not in the {benchmark} data read for this report")
        return found

    return media_of


def write_page(folder: ResultsFolder, splits: Mapping[str, Sequence[Sequence[Example]]]) -> None:
    """``report.html`` beside summary.md (report/html.py), thumbnails from ``splits``."""
    from ..report.html import write_html_report

    write_html_report(folder.path, media_of=media_lookup(splits))
