"""Top-k accuracy from the right class's rank, and ROC-AUC of P(yes) over a set of binary queries."""

from __future__ import annotations

import itertools
import math

import pytest

from flamingo_eval.metrics.classification import answer_rank, positive_probability, roc_auc, top_k_accuracy


def test_rank_counts_higher_scores_and_earlier_ties() -> None:
    assert answer_rank([0.1, 0.5, 0.3], 2) == 1
    assert answer_rank([0.1, 0.5, 0.3], 1) == 0
    assert answer_rank([0.5, 0.5, 0.5], 0) == 0  # a tie goes to the earlier candidate
    assert answer_rank([0.5, 0.5, 0.5], 2) == 2
    with pytest.raises(ValueError, match="out of range"):
        answer_rank([0.1], 1)
    with pytest.raises(ValueError, match="NaN"):
        answer_rank([math.nan, 0.1], 1)


def test_top_k() -> None:
    scores = [-3.0, -1.0, -2.0, -0.5, -4.0, -5.0, -6.0]
    ranks = [answer_rank(scores, i) for i in range(len(scores))]
    assert ranks == [3, 1, 2, 0, 4, 5, 6]
    assert [top_k_accuracy(r, 1) for r in ranks] == [0, 0, 0, 1, 0, 0, 0]
    assert [top_k_accuracy(r, 5) for r in ranks] == [1, 1, 1, 1, 1, 0, 0]
    with pytest.raises(ValueError):
        top_k_accuracy(0, 0)


def test_positive_probability_is_the_softmax_at_yes() -> None:
    assert positive_probability([math.log(0.2), math.log(0.6)]) == pytest.approx(0.75)
    assert positive_probability([-1000.0, 0.0]) == pytest.approx(1.0)  # no overflow
    with pytest.raises(ValueError, match="two candidates"):
        positive_probability([0.0, 1.0, 2.0])


def _auc_by_pairs(probs, labels):
    """The definition: over every (positive, negative) pair, 1 if the positive is higher, 1/2 on a tie."""
    pairs = [(p, n) for p, lp in zip(probs, labels) if lp == 1 for n, ln in zip(probs, labels) if ln == 0]
    return sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in pairs) / len(pairs)


def test_roc_auc_matches_the_pairwise_definition() -> None:
    # P(yes) from the two log-likelihoods; ties on purpose (the same pair of scores twice)
    scores = [[-1.0, -2.0], [-2.0, -1.0], [-1.5, -1.5], [-1.0, -2.0], [-3.0, -0.5], [-0.2, -2.5], [-1.5, -1.5]]
    labels = [0, 1, 1, 1, 1, 0, 0]
    probs = [positive_probability(s) for s in scores]
    assert roc_auc(scores, labels) == pytest.approx(_auc_by_pairs(probs, labels))
    # a hand-checked value: positives (0.731, 0.5, 0.269, 0.924) vs negatives (0.269, 0.093, 0.5):
    # 3 + (2 + 0.5) + (1 + 0.5) + 3 = 10 of 12 pairs
    assert roc_auc(scores, labels) == pytest.approx(10 / 12)


def test_roc_auc_exhaustively_on_small_sets() -> None:
    values = [[-1.0, v] for v in (-2.0, -1.0, 0.0)]
    for labels in itertools.product([0, 1], repeat=4):
        if 0 < sum(labels) < 4:
            for chosen in itertools.product(values, repeat=4):
                probs = [positive_probability(s) for s in chosen]
                assert roc_auc(list(chosen), list(labels)) == pytest.approx(_auc_by_pairs(probs, labels))


def test_roc_auc_needs_both_classes_and_binary_labels() -> None:
    with pytest.raises(ValueError, match="both classes.*all 2 are positive"):
        roc_auc([[0.0, 1.0], [1.0, 0.0]], [1, 1])
    with pytest.raises(ValueError, match="0 or 1"):
        roc_auc([[0.0, 1.0]], [2])
