"""Video question answering metrics: exact match (MSVD-QA, MSRVTT-QA), iVQA accuracy, multiple choice.

Open-ended answers are compared after the official VQA normalisation (``vqa_normalize.normalize_answer``:
whitespace, punctuation, number words, articles, contractions), applied here always, to the prediction
and to every answer alike; unlike ``vqa_accuracy`` there is no "only when annotators disagree" rule.

Not provided: WUPS, NExT-QA's open-ended metric (also reported by some MSVD/MSRVTT papers). NExT-QA's
evaluation (``eval_oe.py`` of NExT-OE) first lemmatises every answer with pywsd's ``lemmatize_sentence``
(NLTK's Punkt tokenizer and averaged-perceptron POS tagger, WordNet lemmatiser, Porter stemmer) and drops
the words of its own stop-word list, then scores WUPS over each word's first WordNet synset with NLTK 3.3's
``wup_similarity``. WordNet 3.0 itself can be installed here (Debian's ``wordnet-base``; it loads in NLTK
with the same synsets and similarities), but the tagger and Punkt models cannot be had, the stop-word list
is not among the NExT-OE repository's files, and NLTK 3.3 does not run on Python 3.11 (today's
``wup_similarity`` differs from it for synsets of different parts of speech). Anything else would not be
NExT-QA's numbers, so ``nextqa_oe`` stays on exact match; docs/benchmarks.md, "WordNet metrics", says what
was checked.
"""

from __future__ import annotations

from collections.abc import Sequence

from .classification import answer_rank
from .vqa_normalize import normalize_answer

# iVQA (Yang et al., "Just Ask", 2021): an answer is fully right once two of its annotators gave it.
_IVQA_FULL_CREDIT_MATCHES = 2


def exact_match(prediction: str, answer: str) -> float:
    """1.0 if the prediction equals the answer after normalisation, else 0.0.

    In: the model's answer and the single ground-truth answer. Out: 1.0 or 0.0;
    e.g. ``exact_match("Two.", "2") == 1.0``, ``exact_match("a dog", "dogs") == 0.0``.
    """
    return 1.0 if normalize_answer(prediction) == normalize_answer(answer) else 0.0


def ivqa_accuracy(prediction: str, answers: Sequence[str]) -> float:
    """iVQA accuracy: ``min(1, matches / 2)`` over the question's annotated answers, after normalisation.

    In: the model's answer and the annotators' answers (five in iVQA; one entry per annotator, so
    duplicates count). Out: 0.0, 0.5 or 1.0 -- no match, one match, two or more.
    ValueError if ``answers`` is empty.
    """
    if not answers:
        raise ValueError("ivqa_accuracy needs at least one ground-truth answer")
    pred = normalize_answer(prediction)
    matches = sum(1 for answer in answers if normalize_answer(answer) == pred)
    return min(1.0, matches / _IVQA_FULL_CREDIT_MATCHES)


def multiple_choice_accuracy(scores: Sequence[float], answer_index: int) -> float:
    """1.0 if the highest-scoring option is the right one, else 0.0.

    In: one score per option (e.g. the log-likelihood of each option's text) and the index of the right
    option. Out: 1.0 or 0.0. On a tie for the highest score the first such option is the model's choice
    (as ``numpy.argmax`` picks), so a tie counts as right only when the right option is the first of
    the tied ones.
    ValueError for no options, an index out of range, or a NaN score (it has no place in an ordering).
    """
    return 1.0 if answer_rank(scores, answer_index) == 0 else 0.0  # rank 0: the first of the best
