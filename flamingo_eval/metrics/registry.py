"""The metrics a benchmark spec can name, and how each is computed.

A ``Metric`` is one of two kinds:

* per-example (``per_example`` set): a function scoring one query in [0, 1]; the benchmark's score is the
  mean over queries, reported under the metric's name (the official VQA script and the video QA papers
  all average per-question scores). Its arguments depend on ``inputs``:
  - ``"text"``:   ``(prediction: str, references: Sequence[str]) -> float``;
  - ``"choice"``: ``(option_scores: Sequence[float], answer_index: int) -> float``;
  - ``"rank"``:   ``(answer_rank: int) -> float`` (the right candidate's 0-based rank among all).
  ``also`` names more per-example scores averaged beside it (ImageNet's top-5 beside top-1).
* set (``over_set`` set, choice inputs): a function of a whole set's candidate scores,
  ``(option_scores [[float]], answer_index [int]) -> float``, with no per-query score (ROC-AUC).
* corpus (``corpus`` set): a function of whole sets of predictions, ``{set: (predictions {id: str},
  references {id: [str, ...]})} -> {set: CaptionEvaluation}`` -- each set's corpus scores, per-example
  scores and notes (CIDEr's weights depend on the whole set, so it cannot be per-example); several sets
  (every shot count and trial of a run) go in one call so that the slow parts start once.

``primary`` names the headline number: the metric's own name for per-example and set metrics, the key
in ``CaptionEvaluation.scores`` for corpus ones.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from ..registry import Registry
from .captions import CaptionEvaluation, evaluate_caption_groups
from .classification import roc_auc, top1_accuracy, top5_accuracy
from .videoqa import exact_match, ivqa_accuracy, multiple_choice_accuracy
from .vizwiz import vizwiz_accuracy
from .vqa import vqa_accuracy

# {set key: (predictions {id: str}, references {id: [str]})} -> {set key: CaptionEvaluation}
CorpusFn = Callable[[Mapping[Hashable, tuple[Mapping[Hashable, str], Mapping[Hashable, Sequence[str]]]]], dict[Hashable, CaptionEvaluation]]


@dataclass(frozen=True)
class Metric:
    """How one named metric is computed (see the module docstring for the two kinds)."""

    name: str
    description: str
    primary: str
    inputs: Literal["text", "choice", "rank"] = "text"
    per_example: Callable[..., float] | None = None
    also: Mapping[str, Callable[..., float]] = field(default_factory=dict)  # more per-example means, by name
    by_answer_type: bool = False  # also report the mean per official answer type (VQA's yes/no, number, other)
    over_set: Callable[[Sequence[Sequence[float]], Sequence[int]], float] | None = None
    corpus: CorpusFn | None = None

    def __post_init__(self) -> None:
        if sum(fn is not None for fn in (self.per_example, self.over_set, self.corpus)) != 1:
            raise ValueError(f"metric {self.name!r}: set exactly one of per_example, over_set and corpus")
        if self.also and self.per_example is None:
            raise ValueError(f"metric {self.name!r}: also needs a per_example metric beside it")
        if self.over_set is not None and self.inputs != "choice":
            raise ValueError(f"metric {self.name!r}: a set metric reads candidate scores (inputs: choice)")


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
        by_answer_type=True,
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
    "classification_accuracy": Metric(
        name="classification_accuracy",
        description="top-1 accuracy of ranking every class name by its score after the prompt, and top-5 "
        "beside it (ImageNet); ties go to the earlier class",
        primary="top1_accuracy",
        inputs="rank",
        per_example=top1_accuracy,
        also={"top5_accuracy": top5_accuracy},
    ),
    "roc_auc": Metric(
        name="roc_auc",
        description="ROC-AUC of P(yes) = softmax of the two candidates' scores at \"yes\", over the set "
        "(HatefulMemes, as OpenFlamingo computes it)",
        primary="roc_auc",
        inputs="choice",
        over_set=roc_auc,
    ),
    "vizwiz_accuracy": Metric(
        name="vizwiz_accuracy",
        description="VizWiz accuracy as the VizWiz API's evaluation computes it: the prediction always "
        "normalised (with VizWiz's contraction table), the annotators' answers compared as given; mean over "
        "left-out annotators of min(1, matches/3)",
        primary="vizwiz_accuracy",
        per_example=vizwiz_accuracy,
        by_answer_type=True,  # VizWiz's types include "unanswerable", reported like the others
    ),
})


def get_metric(name: str) -> Metric:
    """The metric a benchmark spec names; ``UnknownNameError`` (a ``ValueError``) listing the known names."""
    return METRICS.get(name)
