"""Input checking and the single PTB tokenizer pass behind every caption metric.

pycocoevalcap's ``COCOEvalCap.evaluate`` tokenizes references and predictions with its ``PTBTokenizer``
(Stanford CoreNLP's PTB tokenizer, lower-casing, then dropping punctuation tokens), each in its own Java
run. Tokenization is line by line and context-free, so one run over both gives the same tokens for half
the Java start-up cost; this module does that.

In:  predictions ``{id: caption}`` and references ``{id: [caption, ...]}`` with the same ids.
Out: ``(gts, res)`` in the form pycocoevalcap's scorers take: ``{id: [tokenized reference, ...]}`` and
``{id: [tokenized prediction]}``, both keyed in the order of ``predictions``.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping, Sequence

from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

Tokenized = dict[Hashable, list[str]]

# pycocoevalcap writes one caption per line and pairs the tokenizer's output lines back with ids by
# position; it replaces only "\n". Java also ends a line at "\r", "\x0b", "\x0c" and "\x85", so one of
# those inside a caption silently shifts every later caption onto the wrong id. All characters that end a
# line anywhere become spaces here: the tokenizer treats a space as a token boundary, as it would them.
_LINE_BREAKS = re.compile("[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")

_HYP, _REF = "hyp", "ref"


def check_caption_inputs(predictions: Mapping[Hashable, str], references: Mapping[Hashable, Sequence[str]]) -> None:
    """ValueError naming the id if the two mappings' ids differ or an input is not usable.

    In: predictions ``{id: caption}``, references ``{id: [caption, ...]}``. Out: nothing; raises for an
    id with a prediction but no references or the reverse, for an id whose reference list is empty, and
    for a non-string caption. Empty strings are allowed (see ``captions`` for how they score).
    """
    for key in predictions:
        if key not in references:
            raise ValueError(f"caption metrics: prediction id {key!r} has no references")
    for key in references:
        if key not in predictions:
            raise ValueError(f"caption metrics: reference id {key!r} has no prediction")
    if not predictions:
        raise ValueError("caption metrics: no predictions to score")
    for key, caption in predictions.items():
        if not isinstance(caption, str):
            raise ValueError(f"caption metrics: prediction for id {key!r} is {type(caption).__name__}, not str")
        refs = references[key]
        if isinstance(refs, str) or not isinstance(refs, Sequence):
            raise ValueError(f"caption metrics: references for id {key!r} must be a list of strings")
        if len(refs) == 0:
            raise ValueError(f"caption metrics: id {key!r} has an empty list of references")
        if not all(isinstance(r, str) for r in refs):
            raise ValueError(f"caption metrics: a reference for id {key!r} is not a string")


def _one_line(caption: str) -> dict[str, str]:
    return {"caption": _LINE_BREAKS.sub(" ", caption)}


def tokenize_once(
    predictions: Mapping[Hashable, str], references: Mapping[Hashable, Sequence[str]]
) -> tuple[Tokenized, Tokenized]:
    """Tokenize predictions and references in one PTBTokenizer (one Java) run.

    In: checked inputs (see ``check_caption_inputs``). Out: ``(gts, res)``: ``gts[id]`` the tokenized
    references, ``res[id]`` a one-element list with the tokenized prediction, ids in ``predictions`` order.
    RuntimeError if Java is missing or the tokenizer does not return one line per caption.
    """
    ids = list(predictions)
    combined: dict[tuple[str, Hashable], list[dict[str, str]]] = {}
    for key in ids:
        combined[(_HYP, key)] = [_one_line(predictions[key])]
        combined[(_REF, key)] = [_one_line(r) for r in references[key]]
    try:
        tokenized = PTBTokenizer().tokenize(combined)
    except FileNotFoundError as err:  # no `java` on PATH
        raise RuntimeError(f"caption metrics need Java for pycocoevalcap's PTB tokenizer: {err}") from err
    for key, captions in combined.items():
        if len(tokenized.get(key, ())) != len(captions):
            raise RuntimeError(
                f"PTB tokenizer returned {len(tokenized.get(key, ()))} lines for the {len(captions)} "
                f"caption(s) of {key[0]} id {key[1]!r}; output and ids are out of step"
            )
    gts = {key: tokenized[(_REF, key)] for key in ids}
    res = {key: tokenized[(_HYP, key)] for key in ids}
    return gts, res
