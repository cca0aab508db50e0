"""Video QA metrics: exact match and iVQA accuracy after VQA normalisation, multiple choice by argmax."""

from __future__ import annotations

import math

import pytest

from flamingo_eval.metrics import exact_match, ivqa_accuracy, multiple_choice_accuracy


@pytest.mark.parametrize(
    "prediction, answer, expected",
    [
        ("dog", "dog", 1.0),
        ("The dog.", "dog", 1.0),  # article and trailing period go
        ("Two", "2", 1.0),  # number word; normalised always, unlike vqa_accuracy's agreement rule
        ("dont", "don't", 1.0),
        ("  yes\n", "Yes", 1.0),
        ("dogs", "dog", 0.0),  # no stemming
        ("t-shirt", "tshirt", 0.0),  # "t shirt" vs "tshirt"
        ("", "dog", 0.0),
    ],
)
def test_exact_match(prediction: str, answer: str, expected: float) -> None:
    assert exact_match(prediction, answer) == expected


@pytest.mark.parametrize(
    "prediction, answers, expected",
    [
        # min(1, matches / 2) over the five answers
        ("dog", ["dog", "dog", "cat", "cow", "pig"], 1.0),  # 2 matches -> 1
        ("dog", ["dog", "dog", "dog", "dog", "dog"], 1.0),  # 5 -> capped at 1
        ("dog", ["the dog", "cat", "cow", "pig", "hen"], 0.5),  # 1 match after normalisation -> 1/2
        ("A Dog.", ["dog", "cat", "cow", "pig", "hen"], 0.5),
        ("bird", ["dog", "dog", "cat", "cow", "pig"], 0.0),
        ("two", ["2", "two", "3", "4", "5"], 1.0),  # both normalise to "2"
    ],
)
def test_ivqa_accuracy(prediction: str, answers: list[str], expected: float) -> None:
    assert ivqa_accuracy(prediction, answers) == expected


def test_ivqa_needs_answers() -> None:
    with pytest.raises(ValueError):
        ivqa_accuracy("dog", [])


def test_multiple_choice() -> None:
    assert multiple_choice_accuracy([-3.2, -1.1, -5.0], 1) == 1.0
    assert multiple_choice_accuracy([-3.2, -1.1, -5.0], 0) == 0.0
    assert multiple_choice_accuracy([-1.0], 0) == 1.0
    assert multiple_choice_accuracy([-math.inf, -2.0], 1) == 1.0


def test_multiple_choice_ties_go_to_first() -> None:
    # options 1 and 2 tie for the maximum: the first of them (1) is the model's choice
    assert multiple_choice_accuracy([-4.0, -1.0, -1.0], 1) == 1.0
    assert multiple_choice_accuracy([-4.0, -1.0, -1.0], 2) == 0.0


@pytest.mark.parametrize("scores, index", [([], 0), ([-1.0, -2.0], 2), ([-1.0], -1), ([math.nan, -1.0], 1)])
def test_multiple_choice_rejects_bad_input(scores: list[float], index: int) -> None:
    with pytest.raises(ValueError):
        multiple_choice_accuracy(scores, index)
