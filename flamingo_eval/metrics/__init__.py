"""Scoring model outputs: VQA accuracy, COCO caption metrics, video QA metrics, and their registry.

Modules: ``vqa`` (official VQA accuracy), ``vqa_normalize`` / ``vqa_tables`` (its answer normalisation),
``captions`` / ``caption_tokens`` (pycocoevalcap caption metrics), ``videoqa`` (exact match, iVQA,
multiple choice), ``vizwiz`` (the VizWiz API's accuracy), ``registry`` (``METRICS``: the names benchmark
specs use).
"""

from __future__ import annotations

from .captions import CaptionEvaluation, caption_scores, cider_per_example, evaluate_captions, spice_status
from .registry import METRICS, Metric, get_metric
from .videoqa import exact_match, ivqa_accuracy, multiple_choice_accuracy
from .vizwiz import vizwiz_accuracy, vizwiz_normalize
from .vqa import normalize_answer, vqa_accuracy, vqa_breakdown

__all__ = [
    "METRICS",
    "CaptionEvaluation",
    "Metric",
    "caption_scores",
    "cider_per_example",
    "evaluate_captions",
    "exact_match",
    "get_metric",
    "ivqa_accuracy",
    "multiple_choice_accuracy",
    "normalize_answer",
    "spice_status",
    "vizwiz_accuracy",
    "vizwiz_normalize",
    "vqa_accuracy",
    "vqa_breakdown",
]
