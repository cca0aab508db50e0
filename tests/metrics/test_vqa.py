"""VQA accuracy and answer normalisation: hand-worked cases against the official script's rules, and
agreement with OpenFlamingo's copy of the script where the two coincide."""

from __future__ import annotations

import contextlib
import importlib.util
import io
from pathlib import Path

import pytest

from flamingo_eval.metrics import normalize_answer, vqa_accuracy, vqa_breakdown
from flamingo_eval.metrics.vqa_normalize import process_digit_article, process_punctuation

# ---------------------------------------------------------------- normalisation


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("dog.", "dog"),  # a period not followed by a digit goes
        ("3.5", "3.5"),  # a period followed by a digit stays
        ("3.", "3"),  # the official look-behind is a typo: a period after a digit goes too
        ("1,000", "1000"),  # digit,digit anywhere: every mark is deleted, not spaced
        ("1,000 t-shirts", "1000 tshirts"),  # ... including the hyphen, because of the "1,0"
        ("t-shirt", "t shirt"),  # a mark touching no space becomes a space
        ("t-shirt - red", "tshirt red"),  # "- " occurs, so every "-" is deleted
        ("red, blue", "red blue"),  # ", " occurs: the comma is deleted
        ("red,blue", "red blue"),  # no space next to it, no digits: the comma becomes a space
        ("yes!", "yes"),  # "!" touches no space -> "yes " -> split/join drops the space
        ("don't", "don't"),  # apostrophes are not in the list
        ("dont", "don't"),  # contractions table
        ("Im", "im"),  # the table's "Im" key is capitalised but the text is lower-cased first: never fires
        ("5:00", "5:00"),  # colons are not in the list
        ("The Dog", "dog"),  # lower-case, drop article
        ("a dog", "dog"),
        ("an apple", "apple"),
        ("Two", "2"),  # number words up to ten
        ("ten", "10"),
        ("none", "0"),
        ("twenty", "twenty"),  # beyond the table: unchanged
        ("  two\tdogs\n", "2 dogs"),  # tabs/newlines -> spaces, stripped, whitespace runs collapsed
        ("$5", "$5"),  # "$" is not in the list
    ],
)
def test_normalize_answer(raw: str, expected: str) -> None:
    assert normalize_answer(raw) == expected


def test_periods_beyond_32_are_kept() -> None:
    # The script passes re.UNICODE (== 32) where Pattern.sub takes `count`: only 32 periods are removed.
    assert process_punctuation("a" + "." * 40) == "a" + "." * 8


def test_process_digit_article_alone() -> None:
    assert process_digit_article("The  THREE   cats") == "3 cats"


# ---------------------------------------------------------------- accuracy, all annotators agree


def test_all_agree_exact() -> None:
    # ten "yes": every left-out subset has 9 matches -> min(1, 9/3) = 1 each -> 1.0
    assert vqa_accuracy("yes", ["yes"] * 10) == 1.0


def test_all_agree_no_normalisation() -> None:
    # len(set(answers)) == 1 -> the script normalises nothing, so "Yes" != "yes" -> 0 matches -> 0.0
    assert vqa_accuracy("Yes", ["yes"] * 10) == 0.0
    assert vqa_accuracy("yes.", ["yes"] * 10) == 0.0
    assert vqa_accuracy("two", ["2"] * 10) == 0.0
    assert vqa_accuracy("dog", ["Dog"] * 10) == 0.0


def test_all_agree_still_strips() -> None:
    # the newline/tab replacement and strip are applied to everything, always
    assert vqa_accuracy(" yes\n", ["yes"] * 10) == 1.0
    assert vqa_accuracy("yes", ["yes "] * 9 + ["\tyes"]) == 1.0  # all "yes" once stripped: still agree


# ---------------------------------------------------------------- accuracy, leave-one-out arithmetic


def test_three_matches() -> None:
    # leave out one of the 3 matches (3 subsets): 2 left -> 2/3; leave out a non-match (7): 3 -> 1
    # (3 * 2/3 + 7 * 1) / 10 = 0.9
    answers = ["dog"] * 3 + ["cat"] * 7
    assert vqa_accuracy("dog", answers) == pytest.approx(0.9)


def test_one_match() -> None:
    # leave out the match (1 subset): 0; leave out another (9): 1 match -> 1/3; 9 * 1/3 / 10 = 0.3
    assert vqa_accuracy("dog", ["dog"] + ["cat"] * 9) == pytest.approx(0.3)


def test_two_matches() -> None:
    # leave out a match (2): 1/3; leave out another (8): 2/3 -> (2/3 + 16/3) / 10 = 0.6
    assert vqa_accuracy("dog", ["dog"] * 2 + ["cat"] * 8) == pytest.approx(0.6)


def test_four_matches_is_full_credit() -> None:
    # any left-out subset keeps >= 3 matches -> 1 each
    assert vqa_accuracy("dog", ["dog"] * 4 + ["cat"] * 6) == 1.0


def test_no_match() -> None:
    assert vqa_accuracy("bird", ["dog"] * 4 + ["cat"] * 6) == 0.0


def test_other_answer_counts() -> None:
    # one answer: leaving it out leaves nobody to match -> 0 (the official formula, kept)
    assert vqa_accuracy("dog", ["dog"]) == 0.0
    # three identical answers: each subset has 2 matches -> 2/3
    assert vqa_accuracy("dog", ["dog"] * 3) == pytest.approx(2 / 3)
    # five answers, two match: leave a match out (2) -> 1/3; leave another (3) -> 2/3 -> (2/3 + 2) / 5
    assert vqa_accuracy("dog", ["dog", "dog", "cat", "cow", "pig"]) == pytest.approx((2 / 3 + 2) / 5)


def test_empty_answers_rejected() -> None:
    with pytest.raises(ValueError):
        vqa_accuracy("dog", [])


# ---------------------------------------------------------------- accuracy, annotators disagree -> normalised


def test_number_word_when_disagreeing() -> None:
    # answers differ -> normalise all: "two" -> "2" matches 3 of 10 -> 0.9 (see test_three_matches)
    assert vqa_accuracy("two", ["2"] * 3 + ["3"] * 7) == pytest.approx(0.9)


def test_article_when_disagreeing() -> None:
    # "a dog" -> "dog" matches 5 -> every subset keeps >= 4 -> 1.0
    assert vqa_accuracy("a dog", ["dog"] * 5 + ["cat"] * 5) == 1.0


def test_trailing_period_when_disagreeing() -> None:
    assert vqa_accuracy("dog.", ["dog"] * 3 + ["cat"] * 7) == pytest.approx(0.9)


def test_thousands_comma_when_disagreeing() -> None:
    assert vqa_accuracy("1,000", ["1000"] * 3 + ["100"] * 7) == pytest.approx(0.9)


def test_contraction_when_disagreeing() -> None:
    assert vqa_accuracy("dont", ["don't"] * 3 + ["no"] * 7) == pytest.approx(0.9)


def test_hyphen_when_disagreeing() -> None:
    # "t-shirt" -> "t shirt", which equals the annotators' "t shirt" but not "tshirt"
    assert vqa_accuracy("t-shirt", ["t shirt"] * 3 + ["tshirt"] * 7) == pytest.approx(0.9)


def test_case_difference_alone_is_disagreement() -> None:
    # "Dog" and "dog" are different strings, so the set has two members -> normalise -> 10 matches
    assert vqa_accuracy("dog", ["Dog"] * 9 + ["dog"]) == 1.0


# ---------------------------------------------------------------- breakdown


def test_breakdown() -> None:
    scores = [1.0, 0.0, 0.9, 0.3, 1.0]
    types = ["yes/no", "yes/no", "number", "other", "other"]
    out = vqa_breakdown(scores, types, question_types=["is the", "is the", "how many", "what", "what"])
    assert out["overall"] == pytest.approx(3.2 / 5)
    assert out["per_answer_type"] == pytest.approx({"yes/no": 0.5, "number": 0.9, "other": 0.65})
    assert list(out["per_answer_type"]) == ["yes/no", "number", "other"]  # first appearance
    assert out["per_question_type"] == pytest.approx({"is the": 0.5, "how many": 0.9, "what": 0.65})


def test_breakdown_errors() -> None:
    with pytest.raises(ValueError):
        vqa_breakdown([], [])
    with pytest.raises(ValueError):
        vqa_breakdown([1.0], ["yes/no", "other"])


# ---------------------------------------------------------------- against OpenFlamingo's copy of the script

# OpenFlamingo 2.0.1 ships the official VQAEval with one change: it normalises the prediction and the
# answers always, where the official script does so only when the annotators disagree. Its
# processPunctuation / processDigitArticle are the official ones. So: normalisation must agree on every
# string, accuracy on every question whose annotators disagree, and the two differ when they all agree.

_POOL = ["yes", "Yes", "yes.", "no", "2", "two", "Two", "a dog", "dog", "the dog", "dog.", "dogs", "1,000",
         "1000", "t-shirt", "t shirt", "tshirt", "dont", "don't", "red, blue", "red/blue", "3.5", "3.",
         "none", "0", "Im", "yes!", " yes\n", "ten", "10", "5:00", "a" + "." * 40, "1,000 t-shirts"]


def _openflamingo_vqa_metric():
    spec = importlib.util.find_spec("open_flamingo")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("open-flamingo (the reference) is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "eval" / "vqa_metric.py"
    # loaded from its file: the package's __init__ imports open_clip, which is not installed
    module_spec = importlib.util.spec_from_file_location("_openflamingo_vqa_metric", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


class _QA:
    def __init__(self, qa: dict) -> None:
        self.qa = qa

    def getQuesIds(self) -> list:  # noqa: N802 - the reference's interface
        return list(self.qa)


def test_against_openflamingo_copy() -> None:
    ref = _openflamingo_vqa_metric()
    cases = []
    for i, pred in enumerate(_POOL):  # deterministic mix: each prediction against several answer lists
        cases.append((pred, [_POOL[(i + 1) % len(_POOL)]] * 4 + [pred] * 3 + [_POOL[(i + 5) % len(_POOL)]] * 3))
        cases.append((pred, [normalize_answer(pred)] * 2 + ["zzz"] * 8))
        cases.append((pred, [_POOL[(i + 2) % len(_POOL)]] * 10))
    gts = {q: {"answers": [{"answer": a, "answer_id": j + 1} for j, a in enumerate(answers)],
               "question_type": "t", "answer_type": "other"} for q, (_, answers) in enumerate(cases)}
    res = {q: {"answer": pred} for q, (pred, _) in enumerate(cases)}
    evaluator = ref.VQAEval(_QA(gts), _QA(res))
    with contextlib.redirect_stdout(io.StringIO()):
        evaluator.evaluate()
    disagreeing = 0
    for q, (pred, answers) in enumerate(cases):
        assert normalize_answer(pred) == evaluator.processDigitArticle(
            evaluator.processPunctuation(pred.replace("\n", " ").replace("\t", " ").strip()))
        if len({a.strip() for a in answers}) > 1:
            disagreeing += 1
            assert round(100 * vqa_accuracy(pred, answers), 2) == evaluator.evalQA[q], (pred, answers)
    assert disagreeing > 50
    # where all agree, OpenFlamingo normalises and the official script does not
    gts = {0: {"answers": [{"answer": "yes", "answer_id": j} for j in range(10)], "question_type": "t",
               "answer_type": "yes/no"}}
    evaluator = ref.VQAEval(_QA(gts), _QA({0: {"answer": "Yes"}}))
    with contextlib.redirect_stdout(io.StringIO()):
        evaluator.evaluate()
    assert evaluator.evalQA[0] == 100.0 and vqa_accuracy("Yes", ["yes"] * 10) == 0.0
