"""The METRICS registry: the names benchmark specs use, each wired to its computation."""

from __future__ import annotations

import pytest

from flamingo_eval.metrics import METRICS, Metric, get_metric
from flamingo_eval.metrics.captions import evaluate_caption_groups


def test_names() -> None:
    assert {"vqa_accuracy", "cider", "exact_match", "ivqa_accuracy", "multiple_choice_accuracy",
            "classification_accuracy", "roc_auc"} <= set(METRICS)
    assert all(name == metric.name for name, metric in METRICS.items())


def test_per_example_metrics() -> None:
    assert get_metric("vqa_accuracy").per_example("dog", ["dog"] * 3 + ["cat"] * 7) == pytest.approx(0.9)
    assert get_metric("exact_match").per_example("Two", ["2"]) == 1.0
    assert get_metric("ivqa_accuracy").per_example("dog", ["dog", "cat", "cow", "pig", "hen"]) == 0.5
    choice = get_metric("multiple_choice_accuracy")
    assert choice.inputs == "choice" and choice.per_example([-2.0, -1.0], 1) == 1.0


def test_exact_match_wants_one_answer() -> None:
    with pytest.raises(ValueError):
        get_metric("exact_match").per_example("dog", ["dog", "cat"])


def test_cider_is_corpus_level() -> None:
    cider = get_metric("cider")
    assert cider.per_example is None and cider.corpus is evaluate_caption_groups and cider.primary == "CIDEr"


def test_unknown_metric() -> None:
    with pytest.raises(ValueError, match="known: cider"):
        get_metric("bleu")


def test_metric_needs_exactly_one_computation() -> None:
    with pytest.raises(ValueError):
        Metric(name="x", description="", primary="x")


def test_classification_metrics() -> None:
    accuracy = get_metric("classification_accuracy")
    assert accuracy.inputs == "rank" and accuracy.primary == "top1_accuracy"
    assert accuracy.per_example(0) == 1.0 and accuracy.per_example(1) == 0.0
    assert accuracy.also["top5_accuracy"](4) == 1.0 and accuracy.also["top5_accuracy"](5) == 0.0
    auc = get_metric("roc_auc")
    assert auc.per_example is None and auc.inputs == "choice" and auc.over_set([[0.0, 1.0], [1.0, 0.0]], [1, 0]) == 1.0


def test_a_set_metric_reads_choices_and_extras_need_a_per_example_metric() -> None:
    with pytest.raises(ValueError, match="inputs: choice"):
        Metric(name="x", description="", primary="x", over_set=lambda s, a: 0.0)
    with pytest.raises(ValueError, match="also needs"):
        Metric(name="x", description="", primary="x", inputs="choice", over_set=lambda s, a: 0.0, also={"y": len})
