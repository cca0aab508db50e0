"""VQA accuracy, computed as the official VQA evaluation script computes it.

The reference is ``VQAEval.evaluate`` of GT-Vision-Lab/VQA (``PythonEvaluationTools/vqaEvaluation/
vqaEval.py``). Per question, with the model's answer and the annotators' answers (ten in VQAv2, VizWiz,
TextVQA, OK-VQA):

1. every answer, the prediction included, has newlines/tabs turned into spaces and its ends stripped;
2. only if the annotators' answers (after step 1) are not all identical, every answer *and* the
   prediction are normalised (punctuation, number words, articles, contractions; see ``vqa_normalize``).
   When all annotators agree, nothing more is done: the prediction must equal their answer character for
   character, so "Yes" or "yes." scores 0 against ten "yes", and "two" scores 0 against ten "2";
3. the score is the mean, over each annotator left out in turn, of ``min(1, matches among the others / 3)``.

Left-out subsets: the script removes the left-out annotator's answer *record* from the list by equality of
records; VQA's records carry a distinct ``answer_id`` each, so exactly one annotator is removed even when
several gave the same answer. This module leaves out by position, which is the same thing.

Consequences of the formula for other answer counts, kept as the script gives them: with a single answer
the prediction can never score (the other annotators are none); with three identical answers a matching
prediction scores 2/3.

Not provided: the OK-VQA stemming that OpenFlamingo applies to OK-VQA predictions
(``postprocess_ok_vqa_generation``): NLTK's ``word_tokenize`` (the Punkt sentence model) and ``pos_tag``
(the averaged-perceptron tagger model) decide which words are plural nouns, then a manual table, WordNet's
verb lemmatiser for words ending in "ing" and ``inflection.singularize``. WordNet 3.0 can be installed here
(Debian's ``wordnet-base``), but the tagger and Punkt models are in no Debian package and in no PyPI
package checked, and which words are changed depends on the tagger's tags; OpenFlamingo's stemmer
imitates the stemming of OK-VQA v1.1's ground-truth answers, so a stand-in would give numbers that are
neither OpenFlamingo's nor official. OK-VQA predictions are therefore scored unstemmed (docs/benchmarks.md,
"WordNet metrics"). VizWiz's own evaluation code scores questions differently from this module: see
``vizwiz.vizwiz_accuracy``.
"""

from __future__ import annotations

from collections.abc import Sequence

from .vqa_normalize import clean_whitespace, normalize_answer

__all__ = ["normalize_answer", "vqa_accuracy", "vqa_breakdown"]

# The official formula: an answer counts as fully right once this many (other) annotators gave it.
_FULL_CREDIT_MATCHES = 3


def vqa_accuracy(prediction: str, answers: Sequence[str]) -> float:
    """VQA accuracy of one prediction, in [0, 1], exactly as the official script scores one question.

    In: the model's answer and the annotators' answers (normally ten; duplicates are meaningful, one
    entry per annotator). Out: the mean over each annotator left out of ``min(1, m / 3)``, where ``m`` is
    how many of the remaining annotators' answers equal the prediction. ValueError if ``answers`` is empty
    (the script would divide by zero).

    Worked example: ten answers of which three equal the prediction. Leaving out one of those three
    leaves 2 matches -> 2/3; leaving out one of the seven others leaves 3 -> 1. Mean:
    (3 * 2/3 + 7 * 1) / 10 = 0.9.
    """
    if not answers:
        raise ValueError("vqa_accuracy needs at least one ground-truth answer")
    gts = [clean_whitespace(a) for a in answers]
    pred = clean_whitespace(prediction)
    # The official script normalises only when the annotators disagree (``len(set(gtAnswers)) > 1``),
    # and then normalises the prediction too; when they all agree, the stripped strings are compared as
    # they are. Reproduced as is: it changes scores (e.g. "Yes" vs ten "yes" -> 0).
    if len(set(gts)) > 1:
        gts = [normalize_answer(a) for a in gts]
        pred = normalize_answer(pred)
    hits = sum(1 for gt in gts if gt == pred)
    # For each left-out annotator, the matches among the others are all hits minus that annotator's own.
    # Summed in the script's order with its float arithmetic, so results are bit-identical to it.
    per_subset = [min(1.0, float(hits - (gt == pred)) / _FULL_CREDIT_MATCHES) for gt in gts]
    return float(sum(per_subset)) / len(per_subset)


def _mean(values: list[float]) -> float:
    return float(sum(values)) / len(values)


def vqa_breakdown(
    scores: Sequence[float],
    answer_types: Sequence[str],
    question_types: Sequence[str] | None = None,
) -> dict:
    """Overall and per-type means of per-question VQA accuracies, as the official script reports them.

    In: per-question accuracies in [0, 1] (from ``vqa_accuracy``), the answer type of each question
    ("yes/no", "number", "other" in VQAv2; whatever strings the data carries), and optionally the question
    type of each (e.g. "what color is the").
    Out: ``{"overall": mean, "per_answer_type": {type: mean, ...}}`` plus ``"per_question_type"`` when
    question types are given; types in order of first appearance, only those present. Values are
    fractions in [0, 1], unrounded: the script reports ``round(100 * mean, 2)``, which is for reports to do.

    ValueError for no scores or mismatched lengths.
    """
    if not scores:
        raise ValueError("vqa_breakdown needs at least one score")
    if len(answer_types) != len(scores):
        raise ValueError(f"vqa_breakdown: {len(scores)} scores but {len(answer_types)} answer types")
    if question_types is not None and len(question_types) != len(scores):
        raise ValueError(f"vqa_breakdown: {len(scores)} scores but {len(question_types)} question types")
    result: dict = {"overall": _mean(list(scores)), "per_answer_type": _means_by(scores, answer_types)}
    if question_types is not None:
        result["per_question_type"] = _means_by(scores, question_types)
    return result


def _means_by(scores: Sequence[float], groups: Sequence[str]) -> dict[str, float]:
    """Mean score of each group, groups in order of first appearance."""
    members: dict[str, list[float]] = {}
    for score, group in zip(scores, groups):
        members.setdefault(group, []).append(score)
    return {group: _mean(values) for group, values in members.items()}
