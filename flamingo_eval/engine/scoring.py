"""Scores from predictions: per-query scores and the metrics.json rows of one (variant, benchmark,
shots, trial) group."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from ..errors import DataError
from ..metrics import get_metric, vqa_breakdown


def query_score(metric_name: str, row: dict[str, Any]) -> float | None:
    """The per-query score for a prediction row; None for corpus metrics (captions: known at the end)
    and set metrics (ROC-AUC: no per-query score)."""
    metric = get_metric(metric_name)
    if metric.per_example is None:
        return None
    return metric.per_example(*_inputs(metric, row))


def _inputs(metric, row: dict[str, Any]) -> tuple:
    """What a per-example metric (and its ``also`` scores) reads from a prediction row."""
    if metric.inputs == "choice":
        return row["option_scores"], row["answer_index"]
    if metric.inputs == "rank":
        return (row["answer_rank"],)
    return row["prediction"], row["references"]


def _per_example_values(metric, rows: Sequence[dict[str, Any]]) -> tuple[dict[str, float], dict[str, float]]:
    """The mean of the per-query scores, of the metric's ``also`` scores (top-5 beside top-1), and, for
    the VQA accuracies, the official per-answer-type breakdown."""
    scores = {r["query_id"]: float(r["score"]) for r in rows}
    values = {metric.primary: sum(scores.values()) / len(scores)}
    for name, fn in metric.also.items():
        values[name] = sum(fn(*_inputs(metric, r)) for r in rows) / len(rows)
    types = [r.get("answer_type") for r in rows]
    if metric.by_answer_type and all(types):
        breakdown = vqa_breakdown([scores[r["query_id"]] for r in rows], types)
        for answer_type, value in sorted(breakdown["per_answer_type"].items()):
            values[f"{metric.name}/{answer_type}"] = float(value)
    return values, scores


def _set_value(metric, key: tuple, rows: Sequence[dict[str, Any]]) -> tuple[dict[str, float], dict[str, float]]:
    """A set metric (ROC-AUC) over one group's candidate scores; no per-query scores. A set it is
    undefined on (one class only) is an error naming the group, not a number."""
    try:
        value = metric.over_set([r["option_scores"] for r in rows], [r["answer_index"] for r in rows])
    except ValueError as err:
        variant, _, benchmark, shots, trial, _ = key
        raise DataError(f"{benchmark} (variant {variant}, {shots} shots, trial {trial}): {metric.name}: {err}") from None
    return {metric.primary: float(value)}, {}


def metric_rows(metric_name: str, rows: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[tuple, float]]:
    """metrics.json rows for every (variant, benchmark, shots, trial) group in ``rows``, and every
    query's final score keyed by the prediction key (corpus scores are written back into
    predictions.jsonl). Corpus metrics (captions) score all groups in one call."""
    metric = get_metric(metric_name)
    groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[(r["variant"], r["model"], r["benchmark"], r["shots"], r["trial"], r["seed"])].append(r)
    if metric.corpus is not None:
        results = metric.corpus({
            key: ({r["query_id"]: r["prediction"] for r in members}, {r["query_id"]: list(r["references"]) for r in members})
            for key, members in groups.items()
        })
        evaluated = {
            key: ({k: float(v) for k, v in res.scores.items()}, {qid: float(s[metric.primary]) for qid, s in res.per_example.items()})
            for key, res in results.items()
        }
    elif metric.over_set is not None:
        evaluated = {key: _set_value(metric, key, members) for key, members in groups.items()}
    else:
        evaluated = {key: _per_example_values(metric, members) for key, members in groups.items()}
    out, scores = [], {}
    for key, members in groups.items():
        variant, model, benchmark, shots, trial, seed = key
        values, per_query = evaluated[key]
        for name, value in values.items():
            out.append({"variant": variant, "model": model, "benchmark": benchmark, "shots": shots, "trial": trial,
                        "seed": seed, "metric": name, "value": value, "n": len(members)})
        for qid, score in per_query.items():
            scores[(variant, benchmark, shots, trial, qid)] = score
    return out, scores
