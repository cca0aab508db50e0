"""metrics.json rows of the candidate-ranking metrics: top-1 and top-5 from each row's rank, ROC-AUC over
a whole group (and a clear error where it is undefined)."""

from __future__ import annotations

import pytest

from flamingo_eval.engine.scoring import metric_rows, query_score
from flamingo_eval.errors import DataError


def _row(qid, trial=0, **fields):
    return {"variant": "baseline", "model": "tiny", "benchmark": "b", "shots": 4, "trial": trial, "seed": trial,
            "query_id": qid, **fields}


def test_top1_and_top5_from_ranks() -> None:
    rows = [_row(str(i), answer_rank=rank) for i, rank in enumerate([0, 0, 3, 7])]
    for r in rows:
        r["score"] = query_score("classification_accuracy", r)
    assert [r["score"] for r in rows] == [1.0, 1.0, 0.0, 0.0]
    out, scores = metric_rows("classification_accuracy", rows)
    values = {m["metric"]: m["value"] for m in out}
    assert values == {"top1_accuracy": 0.5, "top5_accuracy": 0.75}
    assert scores[("baseline", "b", 4, 0, "2")] == 0.0


def test_roc_auc_per_group_without_per_query_scores() -> None:
    rows = [_row("a", option_scores=[-1.0, -2.0], answer_index=0), _row("b", option_scores=[-2.0, -1.0], answer_index=1),
            _row("a", trial=1, option_scores=[-1.0, -2.0], answer_index=1), _row("b", trial=1, option_scores=[-2.0, -1.0], answer_index=0)]
    assert query_score("roc_auc", rows[0]) is None
    out, scores = metric_rows("roc_auc", rows)
    assert [(m["trial"], m["metric"], m["value"], m["n"]) for m in out] == [(0, "roc_auc", 1.0, 2), (1, "roc_auc", 0.0, 2)]
    assert scores == {}


def test_roc_auc_on_one_class_names_the_group() -> None:
    rows = [_row("a", option_scores=[-1.0, -2.0], answer_index=1), _row("b", option_scores=[-2.0, -1.0], answer_index=1)]
    with pytest.raises(DataError, match=r"b \(variant baseline, 4 shots, trial 0\): roc_auc: .*both classes"):
        metric_rows("roc_auc", rows)


def test_vizwiz_accuracy_is_broken_down_by_answer_type_with_unanswerable() -> None:
    rows = [_row("1", prediction="Unanswerable.", references=["unanswerable"] * 10, answer_type="unanswerable"),
            _row("2", prediction="red", references=["blue"] * 10, answer_type="other")]
    for r in rows:
        r["score"] = query_score("vizwiz_accuracy", r)
    values = {m["metric"]: m["value"] for m in metric_rows("vizwiz_accuracy", rows)[0]}
    assert values == {"vizwiz_accuracy": 0.5, "vizwiz_accuracy/unanswerable": 1.0, "vizwiz_accuracy/other": 0.0}
