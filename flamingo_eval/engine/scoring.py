"""Scores from predictions: per-query scores and the metrics.json rows of one (variant, benchmark,
shots, trial) group."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from ..metrics import get_metric, vqa_breakdown


def query_score(metric_name: str, row: dict[str, Any]) -> float | None:
    """The per-query score for a prediction row; None for corpus metrics (captions: known at the end)."""
    metric = get_metric(metric_name)
    if metric.per_example is None:
        return None
    if metric.inputs == "choice":
        return metric.per_example(row["option_scores"], row["answer_index"])
    return metric.per_example(row["prediction"], row["references"])


def _per_example_values(metric, rows: Sequence[dict[str, Any]]) -> tuple[dict[str, float], dict[str, float]]:
    """The mean of the per-query scores (and, for VQA accuracy, the official per-answer-type breakdown)."""
    scores = {r["query_id"]: float(r["score"]) for r in rows}
    values = {metric.name: sum(scores.values()) / len(scores)}
    types = [r.get("answer_type") for r in rows]
    if metric.name == "vqa_accuracy" and all(types):
        breakdown = vqa_breakdown([scores[r["query_id"]] for r in rows], types)
        for answer_type, value in sorted(breakdown["per_answer_type"].items()):
            values[f"{metric.name}/{answer_type}"] = float(value)
    return values, scores


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
