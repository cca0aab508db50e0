"""The official VQA answer normalisation: pure functions from one answer string to another.

Follows ``processPunctuation`` and ``processDigitArticle`` of the official evaluation script
(GT-Vision-Lab/VQA, ``PythonEvaluationTools/vqaEvaluation/vqaEval.py``) behaviour for behaviour, including
the places where the script does something other than what it seems to intend, because matching the
official numbers is the point. Each such quirk is commented where it is reproduced. The word and mark
tables live in ``vqa_tables``.

In:  any answer string (a model's prediction or an annotator's answer).
Out: the string the official script would compare, e.g. ``"Two dogs."`` -> ``"2 dogs"``.
"""

from __future__ import annotations

import re

from .vqa_tables import ARTICLES, CONTRACTIONS, NUMBER_WORDS, PUNCTUATION

# The script's ``commaStrip``: a comma between two digits anywhere in the answer ("1,000").
_DIGIT_COMMA_DIGIT = re.compile(r"(\d)(,)(\d)")

# The script's ``periodStrip`` is "(?!<=\d)(\.)(?!\d)". Its first group was meant as a look-behind
# ("not after a digit") but is written as a look-ahead for the two characters "<=" and a digit, which can
# never match in front of a "." -- so it constrains nothing. What remains: a period is removed unless a
# digit follows it. "3.5" and ".5" keep theirs; "dog." and "3." lose theirs.
_PERIOD_NOT_BEFORE_DIGIT = re.compile(r"\.(?!\d)")

# The script calls ``periodStrip.sub("", text, re.UNICODE)``: the third positional argument of
# ``Pattern.sub`` is ``count``, not ``flags``, and ``re.UNICODE`` is 32. So at most the first 32 periods
# of an answer are removed; any after those stay.
_PERIOD_SUB_COUNT = 32


def clean_whitespace(answer: str) -> str:
    """Newlines and tabs -> spaces, then strip the ends: the script's first step for every answer.

    In: a raw answer. Out: the same text on one line without leading/trailing whitespace; inner runs of
    spaces are kept (the script compares these strings as they are when it does not normalise further).
    """
    return answer.replace("\n", " ").replace("\t", " ").strip()


def process_punctuation(text: str) -> str:
    """The script's ``processPunctuation``: delete or space out punctuation marks, then drop periods.

    In: an answer (already whitespace-cleaned). Out: the answer with each mark of ``PUNCTUATION`` either
    deleted or replaced by a space, and periods not followed by a digit removed (at most 32 of them).

    For each mark, the decision looks at the *unmodified* input, as the script does:
    * the mark is deleted everywhere if it stands next to a space anywhere in the input ("red, blue" ->
      "red blue"), or if the input contains a digit-comma-digit anywhere ("1,000" -> "1000"; this
      also turns every other mark into a deletion: "1,000 t-shirts" -> "1000 tshirts");
    * otherwise it is replaced by a space everywhere ("t-shirt" -> "t shirt", "yes!" -> "yes ").
    Apostrophes and colons are not in the list and stay ("don't", "5:00").
    """
    delete_all = _DIGIT_COMMA_DIGIT.search(text) is not None
    out = text
    for mark in PUNCTUATION:
        next_to_space = (mark + " ") in text or (" " + mark) in text
        out = out.replace(mark, "" if (next_to_space or delete_all) else " ")
    return _PERIOD_NOT_BEFORE_DIGIT.sub("", out, count=_PERIOD_SUB_COUNT)


def process_digit_article(text: str) -> str:
    """The script's ``processDigitArticle``: lower-case, number words -> digits, drop articles, contractions.

    In: an answer (normally the output of ``process_punctuation``). Out: its words, lower-cased, split on
    any whitespace and re-joined with single spaces, with "none"/"zero".."ten" -> "0".."10", the articles
    "a"/"an"/"the" removed, and apostrophe-less contractions restored ("dont" -> "don't").

    The number mapping comes before the article test and the contraction lookup after it, as in the
    script; only whole words are mapped ("twenty" and "2nd" stay).
    """
    words = []
    for word in text.lower().split():
        word = NUMBER_WORDS.get(word, word)
        if word not in ARTICLES:
            words.append(word)
    return " ".join(CONTRACTIONS.get(word, word) for word in words)


def normalize_answer(answer: str) -> str:
    """The full official normalisation: whitespace cleaning, punctuation, then digits/articles.

    In: any answer. Out: the normalised form, e.g. ``"The T-Shirt."`` -> ``"t shirt"``,
    ``"1,000"`` -> ``"1000"``, ``"Two"`` -> ``"2"``, ``"dont"`` -> ``"don't"``.

    Note that ``vqa_accuracy`` applies this only when the annotators disagree (see there); the video QA
    metrics always apply it.
    """
    return process_digit_article(process_punctuation(clean_whitespace(answer)))
