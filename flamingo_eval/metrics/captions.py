"""COCO caption metrics through pycocoevalcap: CIDEr, BLEU-1..4, METEOR, ROUGE-L, and SPICE when it can run.

What ``COCOEvalCap.evaluate`` computes, on the same scale (CIDEr is CIDEr-D and reads 0..~10, the others
0..1; nothing is multiplied by 100), from ``{id: prediction}`` and ``{id: [reference, ...]}`` instead of
COCO annotation files. Differences from calling ``COCOEvalCap`` directly, none of which changes a score
that pycocoevalcap computes correctly:

* predictions and references go through the PTB tokenizer in one Java run, not two (``caption_tokens``);
* characters Java reads as line ends ("\\r", "\\x0b", ...) become spaces first, where pycocoevalcap would
  silently pair later captions with the wrong ids;
* ids are checked: an id with a prediction but no references, or the reverse, is a ValueError naming it;
* SPICE is left out, with a note saying why, when its Stanford CoreNLP jars are not installed:
  pycocoevalcap's ``Spice()`` would try to download them, which this harness never does.

Empty predictions (or ones that are all punctuation, hence empty after tokenization) are scored as they
are, not dropped: an empty caption is a wrong caption and stays in every mean and, for BLEU, in the corpus
length counts, where its references' length still weighs in the brevity penalty. With pycocoevalcap 1.2 and its METEOR
1.5 jar they run without error and score 0 on BLEU, METEOR and CIDEr; on ROUGE-L they score 0 unless a
reference is empty too, which pycocoevalcap's ROUGE-L counts as a perfect match. Their ids are listed in
the notes.

Keys: ``Bleu_1`` .. ``Bleu_4``, ``METEOR``, ``ROUGE_L``, ``CIDEr`` and ``SPICE``, as pycocoevalcap names
them. ``CIDEr`` is the primary caption score of the Flamingo papers.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pycocoevalcap
from pycocoevalcap.bleu.bleu import Bleu
from pycocoevalcap.cider.cider import Cider
from pycocoevalcap.meteor.meteor import Meteor
from pycocoevalcap.rouge.rouge import Rouge

from .caption_tokens import Tokenized, check_caption_inputs, tokenize_once

BLEU_KEYS = ("Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4")

# pycocoevalcap's spice/get_stanford_models.py fetches these two into spice/lib on first use.
# (pycocoevalcap is a namespace package: no __init__.py, hence no __file__; its folder is on __path__.)
_SPICE_LIB = Path(next(iter(pycocoevalcap.__path__))) / "spice" / "lib"
_SPICE_JARS = ("stanford-corenlp-3.6.0.jar", "stanford-corenlp-3.6.0-models.jar")


@dataclass(frozen=True)
class CaptionEvaluation:
    """Everything one caption evaluation produces.

    scores:      corpus scores by metric key, e.g. ``{"CIDEr": 1.02, "Bleu_4": 0.31, ...}``.
    per_example: ``{id: {metric key: score}}`` from the same computation. The corpus CIDEr and ROUGE_L
                 are the means of their per-example values; the corpus BLEU and METEOR are computed from
                 counts pooled over the corpus, so they are not.
    notes:       human-readable remarks: a metric left out and why, empty predictions.
    """

    scores: dict[str, float]
    per_example: dict[Hashable, dict[str, float]]
    notes: tuple[str, ...]


def spice_status() -> tuple[bool, str]:
    """Whether SPICE can run here, and why not if it cannot.

    Out: ``(True, "")`` when both Stanford CoreNLP 3.6.0 jars are in pycocoevalcap's ``spice/lib``;
    otherwise ``(False, reason)`` naming the missing files.
    """
    missing = [name for name in _SPICE_JARS if not (_SPICE_LIB / name).is_file()]
    if not missing:
        return True, ""
    return False, (
        f"SPICE omitted: {', '.join(missing)} not found in {_SPICE_LIB} (pycocoevalcap downloads Stanford "
        "CoreNLP on first use; this harness never downloads)"
    )


def _floats(values: Sequence[float]) -> list[float]:
    return [float(v) for v in values]


def _run_scorers(gts: Tokenized, res: Tokenized, with_spice: bool, meteor: Meteor) -> tuple[dict, dict[str, list[float]]]:
    """Run the pycocoevalcap scorers; corpus scores and per-example lists in ``gts`` order.

    ``meteor`` is a running METEOR process (starting one costs seconds; a call's scores do not depend
    on earlier calls, so one process serves many sets)."""
    scores: dict[str, float] = {}
    per: dict[str, list[float]] = {}
    bleu, bleu_each = Bleu(4).compute_score(gts, res, verbose=0)  # verbose=0: no count dump on stdout
    for key, corpus, each in zip(BLEU_KEYS, bleu, bleu_each):
        scores[key], per[key] = float(corpus), _floats(each)
    corpus, each = meteor.compute_score(gts, res)
    scores["METEOR"], per["METEOR"] = float(corpus), _floats(each)
    corpus, each = Rouge().compute_score(gts, res)
    scores["ROUGE_L"], per["ROUGE_L"] = float(corpus), _floats(each)
    corpus, each = Cider().compute_score(gts, res)
    scores["CIDEr"], per["CIDEr"] = float(corpus), _floats(each)
    if with_spice:
        from pycocoevalcap.spice.spice import Spice  # only imported when its jars are known to be there

        corpus, each = Spice().compute_score(gts, res)
        scores["SPICE"], per["SPICE"] = float(corpus), [float(item["All"]["f"]) for item in each]
    return scores, per


def evaluate_captions(
    predictions: Mapping[Hashable, str],
    references: Mapping[Hashable, Sequence[str]],
    *,
    spice: bool | Literal["auto"] = "auto",
) -> CaptionEvaluation:
    """Corpus and per-example caption scores, with notes; one tokenizer run, one METEOR run.

    In: ``predictions`` ``{id: caption}``, ``references`` ``{id: [caption, ...]}`` with the same ids
    (ValueError naming the first id that is only in one of them). ``spice``: ``"auto"`` runs SPICE when its
    jars are installed and otherwise leaves it out with a note; ``True`` requires it (RuntimeError if it
    cannot run); ``False`` leaves it out.
    Out: a ``CaptionEvaluation``. Needs Java (RuntimeError if absent).
    """
    return evaluate_caption_groups({None: (predictions, references)}, spice=spice)[None]


def evaluate_caption_groups(
    groups: Mapping[Hashable, tuple[Mapping[Hashable, str], Mapping[Hashable, Sequence[str]]]],
    *,
    spice: bool | Literal["auto"] = "auto",
) -> dict[Hashable, CaptionEvaluation]:
    """``evaluate_captions`` for several independent sets (e.g. every shot count and trial of a run):
    each set is scored on its own, with one tokenizer pass and one METEOR process for all of them."""
    for predictions, references in groups.values():
        check_caption_inputs(predictions, references)
    notes: list[str] = []
    can_spice, why_not = spice_status()
    if spice is True and not can_spice:
        raise RuntimeError(why_not)
    if spice == "auto" and not can_spice:
        notes.append(why_not)
    # one PTB tokenizer call for every set: keys become (set, id)
    all_gts, all_res = tokenize_once(
        {(g, k): v for g, (p, _) in groups.items() for k, v in p.items()},
        {(g, k): v for g, (_, r) in groups.items() for k, v in r.items()},
    )
    meteor = Meteor()  # starts the METEOR jar; stopped when dropped below
    out: dict[Hashable, CaptionEvaluation] = {}
    try:
        for g in groups:
            gts = {k: v for (gg, k), v in all_gts.items() if gg == g}
            res = {k: v for (gg, k), v in all_res.items() if gg == g}
            scores, per = _run_scorers(gts, res, with_spice=bool(spice) and can_spice, meteor=meteor)
            group_notes = list(notes)
            empty = [key for key, (hyp,) in res.items() if not hyp.strip()]
            if empty:
                shown = ", ".join(repr(k) for k in empty[:10]) + (", ..." if len(empty) > 10 else "")
                group_notes.append(f"{len(empty)} prediction(s) empty after PTB tokenization, scored as they are: {shown}")
            per_example = {key: {metric: values[i] for metric, values in per.items()} for i, key in enumerate(gts)}
            out[g] = CaptionEvaluation(scores=scores, per_example=per_example, notes=tuple(group_notes))
    finally:
        del meteor
    return out


def caption_scores(
    predictions: Mapping[Hashable, str],
    references: Mapping[Hashable, Sequence[str]],
    *,
    spice: bool | Literal["auto"] = "auto",
) -> dict[str, float]:
    """Corpus caption scores only: ``evaluate_captions(...).scores``.

    In/out and errors as ``evaluate_captions``; use that function to also get per-example scores and the
    notes (for instance why ``SPICE`` is missing from the keys).
    """
    return evaluate_captions(predictions, references, spice=spice).scores


def cider_per_example(
    predictions: Mapping[Hashable, str], references: Mapping[Hashable, Sequence[str]]
) -> dict[Hashable, float]:
    """Per-example CIDEr (CIDEr-D, pycocoevalcap scale) of every id, without running the other metrics.

    In/out ids and errors as ``evaluate_captions``. CIDEr's n-gram weights (IDF) come from the references
    of the whole set, so an example's score depends on the other examples: these are the per-example
    values of the corpus computation, and their mean is the corpus ``CIDEr``. They equal
    ``evaluate_captions(...).per_example[id]["CIDEr"]`` for the same inputs.
    """
    check_caption_inputs(predictions, references)
    gts, res = tokenize_once(predictions, references)
    _, each = Cider().compute_score(gts, res)
    return {key: float(value) for key, value in zip(gts, each)}
