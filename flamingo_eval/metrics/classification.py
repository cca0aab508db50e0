"""Classification metrics over candidate scores: top-k accuracy (ImageNet) and ROC-AUC (HatefulMemes).

A classification query is scored by ranking candidate texts (class names) after the prompt; each
candidate has a score (its log-likelihood, summed or averaged over its tokens). These metrics see only
those scores and the index of the right candidate.

* top-k accuracy: the right class is among the k best-scored: its rank (``answer_rank``, ties going
  to the earlier class as ``multiple_choice_accuracy`` breaks them) is below k. The rank is taken
  when the query is answered, so a prediction row need not keep a thousand scores. OpenFlamingo reports top-1 on ImageNet; top-5 is the
  other number ImageNet papers give.
* ROC-AUC (HatefulMemes' official metric): over the whole set, how well ``P(positive)`` ranks the
  positive queries above the negative ones. As OpenFlamingo computes it, ``P(positive)`` is the softmax
  of the candidates' scores taken at the positive class ("yes", the second of ("no", "yes")); the AUC
  is the probability that a random positive outranks a random negative, ties counting one half
  (the Mann-Whitney statistic, equal to the area under the trapezoidal ROC curve that
  ``sklearn.metrics.roc_auc_score`` integrates).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

POSITIVE = 1  # binary tasks: option 1 is the positive class (HatefulMemes: ("no", "yes"))


def _check(scores: Sequence[float], answer_index: int, what: str) -> None:
    if len(scores) == 0:
        raise ValueError(f"{what} needs at least one candidate score")
    if not 0 <= answer_index < len(scores):
        raise ValueError(f"answer_index {answer_index} out of range for {len(scores)} candidates")
    if any(math.isnan(s) for s in scores):
        raise ValueError(f"{what}: a candidate score is NaN")


def answer_rank(scores: Sequence[float], answer_index: int) -> int:
    """0-based rank of the right candidate: how many score higher, plus the equal ones before it.

    In: one score per candidate, the right candidate's index. Out: 0 when it is the model's choice.
    ValueError for no candidates, an index out of range or a NaN score.
    """
    _check(scores, answer_index, "answer_rank")
    mine = scores[answer_index]
    return sum(1 for i, s in enumerate(scores) if s > mine or (s == mine and i < answer_index))


def top_k_accuracy(rank: int, k: int) -> float:
    """1.0 if the right candidate's rank (``answer_rank``) is among the ``k`` best, else 0.0.

    E.g. for scores ``[0.1, 0.5, 0.3]`` with answer 2 the rank is 1: top-1 0.0, top-2 1.0.
    """
    if k < 1:
        raise ValueError(f"top-k accuracy needs k >= 1, got {k}")
    if rank < 0:
        raise ValueError(f"a rank is 0 or more, got {rank}")
    return 1.0 if rank < k else 0.0


def top1_accuracy(rank: int) -> float:
    """``top_k_accuracy`` with k = 1: the right candidate scored best."""
    return top_k_accuracy(rank, 1)


def top5_accuracy(rank: int) -> float:
    """``top_k_accuracy`` with k = 5 (always 1.0 with five candidates or fewer)."""
    return top_k_accuracy(rank, 5)


def positive_probability(scores: Sequence[float]) -> float:
    """Softmax of the candidates' scores at the positive class (index 1): P("yes") against P("no").

    In: the two candidates' log-likelihoods. Out: a probability in [0, 1].
    """
    if len(scores) != 2:
        raise ValueError(f"a binary task has two candidates, got {len(scores)}")
    if any(math.isnan(s) for s in scores):
        raise ValueError("positive_probability: a candidate score is NaN")
    top = max(scores)
    weights = [math.exp(s - top) for s in scores]  # shifted by the maximum: no overflow
    return weights[POSITIVE] / sum(weights)


def roc_auc(scores: Sequence[Sequence[float]], answer_indices: Sequence[int]) -> float:
    """ROC-AUC of ``P(positive)`` over a set of binary queries.

    In: each query's two candidate scores and its right index (1 = positive). Out: the AUC in [0, 1]:
    the fraction of (positive, negative) pairs where the positive has the higher ``P(positive)``,
    ties counting one half. ValueError when the set lacks a positive or a negative query (the AUC is
    undefined: evaluate more queries).
    """
    if len(scores) != len(answer_indices):
        raise ValueError(f"{len(scores)} score pairs but {len(answer_indices)} labels")
    for label in answer_indices:
        if label not in (0, 1):
            raise ValueError(f"a binary label is 0 or 1, got {label!r}")
    probs = [positive_probability(s) for s in scores]
    positives = sum(1 for label in answer_indices if label == POSITIVE)
    negatives = len(answer_indices) - positives
    if positives == 0 or negatives == 0:
        present = "positive" if positives else "negative"
        raise ValueError(f"ROC-AUC needs both classes among the scored queries; all {len(probs)} are {present}")
    # Mann-Whitney U from average ranks (1-based; ties share the mean of their ranks)
    order = sorted(range(len(probs)), key=lambda i: probs[i])
    ranks = [0.0] * len(probs)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and probs[order[end + 1]] == probs[order[start]]:
            end += 1
        for j in range(start, end + 1):
            ranks[order[j]] = (start + end) / 2 + 1
        start = end + 1
    rank_sum = sum(r for r, label in zip(ranks, answer_indices) if label == POSITIVE)
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)
