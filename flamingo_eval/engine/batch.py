"""Answering one batch of prompts: their media as visual tokens, then generation (open-ended tasks) or
option scoring (multiple choice, classification), post-processing, and a prediction row per prompt."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from ..data.example import Example
from ..errors import MediaError
from ..metrics.classification import answer_rank
from ..model.media import MediaBatch
from ..model.pipeline import FlamingoPipeline
from ..prompting.postprocess import get_postprocessor
from ..prompting.render import Prompt
from .answering import Answerer
from .results import SkipLog
from .scoring import query_score
from .settings import Job
from .visual_cache import VisualTokenCache

CHOICE_TASKS = ("multiple_choice", "classification")
KEPT_SCORES = 10  # a choice row keeps every option's score up to this many options, else the best this many


def answer_batch(
    job: Job, batch: Sequence[Prompt], queries: dict[str, Example], ids: Sequence[Sequence[int]], *,
    pipe: FlamingoPipeline, cache: VisualTokenCache, answerer: Answerer, skips: SkipLog | None,
    shots: int, trial: int, seed: int,
) -> list[dict[str, Any]]:
    """Answer ``batch`` (``ids``: each prompt's token ids) and return its prediction rows.

    A prompt whose media cannot be decoded is recorded in ``skips`` (``--skip-bad``) and left out; with
    ``skips`` None it is an error naming the benchmark, the query and the file.
    """
    spec = job.benchmark
    loaded, kept, kept_ids = [], [], []
    for prompt, row in zip(batch, ids):
        try:
            loaded.append(cache.get(prompt.media, job.video))
            kept.append(prompt)
            kept_ids.append(row)
        except MediaError as err:
            if skips is None:
                raise MediaError(f"{spec.name} query {prompt.query_id}: {err}") from None
            skips.add([{"variant": job.variant, "benchmark": spec.name, "shots": shots, "trial": trial,
                        "id": prompt.query_id, "file": "", "reason": str(err)}])
    if not kept:
        return []
    if spec.task in CHOICE_TASKS:
        outputs = [choose_option(pipe, prompt.text, cache.batch([tokens]), queries[prompt.query_id],
                                 option_score=job.option_score, attend=job.attend)
                   for prompt, tokens in zip(kept, loaded)]
    else:
        post = get_postprocessor(spec.postprocess)
        keys = [[cache.key(ref, job.video) for ref in p.media] for p in kept]
        raw = answerer.generate(kept_ids, loaded, keys, job.generation, attend=job.attend)
        outputs = [{"raw_output": text, "prediction": post(text)} for text in raw]
    rows = []
    for prompt, output in zip(kept, outputs):
        query = queries[prompt.query_id]
        row = {
            "variant": job.variant, "model": pipe.spec.name, "benchmark": spec.name, "shots": shots,
            "trial": trial, "seed": seed + trial, "query_id": prompt.query_id,
            "demo_ids": list(prompt.demo_ids), "prompt": prompt.text, **output,
            "references": list(query.references),
        }
        if query.meta.get("answer_type"):
            row["answer_type"] = query.meta["answer_type"]
        row["score"] = query_score(spec.metric, row) if has_reference(row) else None  # test splits: not scored
        rows.append(row)
    return rows


def has_reference(row: dict[str, Any]) -> bool:
    """Whether a prediction row can be scored: it has reference answers (or the right option's index).
    A split whose answers are not public (VQAv2 test-dev) has none: its predictions are kept unscored
    for ``flamingo-eval export``."""
    return bool(row.get("references")) or row.get("answer_index") is not None


def choose_option(pipe: FlamingoPipeline, prompt: str, media: MediaBatch, query: Example, *, option_score: str = "sum",
                  attend: str | None = None) -> dict[str, Any]:
    """Multiple choice and classification: every option scored after the prompt (``option_score``: the
    sum or the mean of its tokens' log-probs), the best one the prediction (ties: the first).

    Out: prediction, answer_rank (the right option's 0-based rank; None without an answer) and the
    scores: all of them (``option_scores``) for up to ``KEPT_SCORES`` options, else the best
    ``KEPT_SCORES`` as ``top_options`` [[index, score]] (a thousand ImageNet scores per query would make
    predictions.jsonl huge; the metrics need only the rank).
    """
    options = list(query.options)
    scores, lengths = pipe.score_options(prompt, options, media, attend=attend)  # the prompt prefilled once for all
    if option_score == "mean":
        scores = scores / torch.tensor(lengths, dtype=scores.dtype)
    values = scores.tolist()
    best = max(range(len(options)), key=lambda i: (values[i], -i))
    out: dict[str, Any] = {"raw_output": options[best], "prediction": options[best], "option_score": option_score,
                           "answer_index": query.answer_index,
                           "answer_rank": None if query.answer_index is None else answer_rank(values, query.answer_index)}
    if len(values) <= KEPT_SCORES:
        out["option_scores"] = values
    else:
        order = sorted(range(len(values)), key=lambda i: (-values[i], i))[:KEPT_SCORES]
        out["top_options"] = [[i, values[i]] for i in order]
    return out
