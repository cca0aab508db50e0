"""VizWiz VQA accuracy, computed as the VizWiz team's evaluation code computes it.

The reference is ``VQAEval.evaluate`` of the VizWiz Python API (``vqaEval.py``, by Qing Li; two copies
read, see docs/benchmarks.md, "VizWiz"). It is a fork of an early version of the official VQA script and
scores a question differently from today's VQA script (``vqa.vqa_accuracy``):

1. the prediction is *always* normalised: newlines/tabs -> spaces, ends stripped, punctuation, then
   number words, articles and contractions -- whether or not the annotators agree;
2. the annotators' answers are compared exactly as the file gives them: not stripped, not normalised
   (the VQA script normalises them, and the prediction, only when the annotators disagree);
3. its contraction table is the VQA table as it stood before the VQA authors changed its apostrophes to
   ASCII: most apostrophes are the right single quotation mark U+2019, so "dont" becomes "don’t", not
   "don't" (``VIZWIZ_CONTRACTIONS``).

The punctuation rule, the number words and the articles are those of the VQA script
(``vqa_normalize.process_punctuation``, ``vqa_tables``); the score is the same formula, the mean over each
annotator left out in turn of ``min(1, matches among the others / 3)``, leaving out by position.
"unanswerable" and "unsuitable" are answers like any other: the script has no special case for them.

Consequences, kept as the script gives them: ten "yes" and the prediction "Yes." score 1 here (0 with
``vqa_accuracy``); an annotator's "the cat" can never be matched, since the prediction loses its article
and the answer keeps it.

Not here: the script's ``evaluate_unanswerability`` (average precision and F1 of predicting that a
question is unanswerable), which reads a per-question ``answerable`` score that the submission supplies
besides its answer; the harness produces answers only. See docs/benchmarks.md, "VizWiz".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

from .vqa_normalize import clean_whitespace, process_punctuation
from .vqa_tables import ARTICLES, CONTRACTIONS, NUMBER_WORDS

__all__ = ["VIZWIZ_CONTRACTIONS", "vizwiz_accuracy", "vizwiz_normalize"]

# The official formula: an answer counts as fully right once this many (other) annotators gave it.
_FULL_CREDIT_MATCHES = 3

_RIGHT_QUOTE = "\u2019"
# VizWiz's table has the same entries as VQA's, with U+2019 for every apostrophe except these, which
# kept the ASCII one: the values of eight entries, and two keys (whose values do use U+2019).
_ASCII_VALUE_KEYS = frozenset({"aint", "arent", "cant", "couldve", "couldnt", "weve", "wheres", "whove"})
_ASCII_KEYS = frozenset({"couldn'tve", "hadn'tve"})


def _vizwiz_table(vqa_table: Mapping[str, str]) -> Mapping[str, str]:
    """VizWiz's contraction table from VQA's (same entries, apostrophes as VizWiz writes them)."""
    table = {}
    for key, value in vqa_table.items():
        new_key = key if key in _ASCII_KEYS else key.replace("'", _RIGHT_QUOTE)
        table[new_key] = value if key in _ASCII_VALUE_KEYS else value.replace("'", _RIGHT_QUOTE)
    return MappingProxyType(table)


# Apostrophe-less words -> contractions, as the VizWiz script writes them ("dont" -> "don’t").
VIZWIZ_CONTRACTIONS: Mapping[str, str] = _vizwiz_table(CONTRACTIONS)


def vizwiz_normalize(prediction: str) -> str:
    """The VizWiz script's processing of a prediction (never applied to the annotators' answers).

    In: the model's answer. Out: whitespace cleaned, punctuation processed as in the VQA script, then
    lower-cased words with "none"/"zero".."ten" -> digits, "a"/"an"/"the" dropped and apostrophe-less
    contractions written out with VizWiz's table; e.g. ``"Two."`` -> ``"2"``, ``"The dont."`` ->
    ``"don’t"`` (U+2019).
    """
    words = []
    for word in process_punctuation(clean_whitespace(prediction)).lower().split():
        word = NUMBER_WORDS.get(word, word)  # number words first, then the article test, as the script
        if word not in ARTICLES:
            words.append(word)
    return " ".join(VIZWIZ_CONTRACTIONS.get(word, word) for word in words)


def vizwiz_accuracy(prediction: str, answers: Sequence[str]) -> float:
    """VizWiz accuracy of one prediction, in [0, 1], as the VizWiz script scores one question.

    In: the model's answer and the annotators' answers exactly as in the annotation file (ten in VizWiz;
    one entry per annotator, so repeats count). Out: the mean over each annotator left out of
    ``min(1, m / 3)``, where ``m`` is how many of the other annotators' answers equal
    ``vizwiz_normalize(prediction)`` character for character. ValueError if ``answers`` is empty (the
    script would divide by zero).

    E.g. ``vizwiz_accuracy("Unanswerable.", ["unanswerable"] * 10) == 1.0``, and three matching answers
    of ten give ``(3 * 2/3 + 7 * 1) / 10 = 0.9``.
    """
    if not answers:
        raise ValueError("vizwiz_accuracy needs at least one ground-truth answer")
    pred = vizwiz_normalize(prediction)
    hits = sum(1 for answer in answers if answer == pred)
    # Matches among the others = all hits minus the left-out annotator's own; the script's float
    # arithmetic and summing order, so results are identical to it.
    per_subset = [min(1, float(hits - (answer == pred)) / _FULL_CREDIT_MATCHES) for answer in answers]
    return float(sum(per_subset)) / len(per_subset)
