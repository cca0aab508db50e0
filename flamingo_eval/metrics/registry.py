"""The metrics a benchmark spec can name, and how each is computed.

A ``Metric`` is one of two kinds:

* per-example (``per_example`` set): a function scoring one query in [0, 1]; the benchmark's score is the
  mean over queries, reported under the metric's name (the official VQA script and the video QA papers
  all average per-question scores). Its arguments depend on ``inputs``:
  - ``"text"``:   ``(prediction: str, references: Sequence[str]) -> float``;
  - ``"choice"``: ``(option_scores: Sequence[float], answer_index: int) -> float``.
* corpus (``corpus`` set): a function of whole sets of predictions, ``{set: (predictions {id: str},
  references {id: [str, ...]})} -> {set: CaptionEvaluation}`` -- each set's corpus scores, per-example
  scores and notes (CIDEr's weights depend on the whole set, so it cannot be per-example); several sets
  (every shot count and trial of a run) go in one call so that the slow parts start once.

``primary`` names the headline number: the metric's own name for per-example metrics, the key in
``CaptionEvaluation.scores`` for corpus ones.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from ..registry import Registry
from .captions import CaptionEvaluation, evaluate_caption_groups
from .videoqa import exact_match, ivqa_accuracy, multiple_choice_accuracy
from .vqa import vqa_accuracy

# {set key: (predictions {id: str}, references {id: [str]})} -> {set key: CaptionEvaluation}
CorpusFn = Callable[[Mapping[Hashable, tuple[Mapping[Hashable, str], Mapping[Hashable, Sequence[str]]]]], dict[Hashable, CaptionEvaluation]]


@dataclass(frozen=True)
class Metric:
    """How one named metric is computed (see the module docstring for the two kinds)."""

    name: str
    description: str
    primary: str
    inputs: Literal["text", "choice"] = "text"
    per_example: Callable[..., float] | None = None
    corpus: CorpusFn | None = None

    def __post_init__(self) -> None:
        if (self.per_example is None) == (self.corpus is None):
            raise ValueError(f"metric {self.name!r}: set exactly one of per_example and corpus")


def _exact_match_one(prediction: str, references: Sequence[str]) -> float:
    """``exact_match`` against a query's single answer (MSVD-QA and MSRVTT-QA have one per question)."""
    if len(references) != 1:
        raise ValueError(f"exact_match expects exactly one reference answer, got {len(references)}")
    return exact_match(prediction, references[0])


METRICS: Registry[Metric] = Registry("metric", {
    "vqa_accuracy": Metric(
        name="vqa_accuracy",
        description="official VQA accuracy: mean over left-out annotators of min(1, matches/3); answers "
        "normalised only when the annotators disagree (VQAv2, OK-VQA unstemmed, VizWiz, TextVQA)",
        primary="vqa_accuracy",
        per_example=vqa_accuracy,
    ),
    "cider": Metric(
        name="cider",
        description="COCO caption metrics via pycocoevalcap after one PTB tokenizer pass: CIDEr (CIDEr-D, "
        "0..~10), Bleu_1..4, METEOR, ROUGE_L, SPICE when its jars are installed",
        primary="CIDEr",
        corpus=evaluate_caption_groups,
    ),
    "exact_match": Metric(
        name="exact_match",
        description="1 if the prediction equals the single answer after VQA normalisation (MSVD-QA, "
        "MSRVTT-QA)",
        primary="exact_match",
        per_example=_exact_match_one,
    ),
    "ivqa_accuracy": Metric(
        name="ivqa_accuracy",
        description="iVQA accuracy: min(1, matches/2) over the five annotated answers, after VQA normalisation",
        primary="ivqa_accuracy",
        per_example=ivqa_accuracy,
    ),
    "multiple_choice_accuracy": Metric(
        name="multiple_choice_accuracy",
        description="1 if the option with the highest score (log-likelihood) is the right one; ties go to "
        "the first highest",
        primary="multiple_choice_accuracy",
        inputs="choice",
        per_example=multiple_choice_accuracy,
    ),
})


def get_metric(name: str) -> Metric:
    """The metric a benchmark spec names; ``UnknownNameError`` (a ``ValueError``) listing the known names."""
    return METRICS.get(name)
