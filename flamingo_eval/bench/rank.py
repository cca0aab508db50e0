"""``flamingo-eval bench --task rank``: rank classification over many class names, the prompt shared by
all candidates against one full forward per class.

ImageNet-style rank classification scores every class name after a k-shot prompt. The reference
approach (OpenFlamingo's without its cache, and what this harness did before ``model/candidates.py``)
runs ``prompt + class name`` through the model once per class, in batches; the harness prefills the
prompt once and scores all class names over its KV cache as a prefix tree. Both sides get the same
prompts and the same visual tokens (each query's images are encoded once for both and not timed:
the comparison is of the language side, where the cost is), and their scores are compared class by class.

Class names: ``--class-names FILE`` (one per line, e.g. ImageNet's 1,000) or, by default, ``classes``
names of one to three English words drawn (seeded) from the LM tokenizer's whole-word vocabulary: the
mix of short and multi-token names that ImageNet's list has; the command prints their token counts.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..data.example import Example
from ..prompting.render import PromptTemplate, render_prompt

TEMPLATE = PromptTemplate(text="<image>Output:{answer}", name="imagenet (OpenFlamingo's)", separator="")
WORDS_PER_NAME = (1, 1, 1, 2, 2, 3)  # drawn uniformly: half the names one word, a sixth three


@dataclass(frozen=True, kw_only=True)
class RankBenchSettings:
    model: str = "smol"
    benchmark: str = "demo_captions"  # where the query and demonstration images come from
    shots: int = 8
    num_queries: int = 2  # queries each side answers (the reference takes minutes per query)
    classes: int = 1000  # generated class names, when no file is given
    class_names: str | None = None  # a file with one class name per line
    batch_size: int = 8  # the reference's rows (classes) per forward
    seed: int = 42
    data_root: str | None = None
    gate_seed: int | None = 0  # open closed (untrained) gates, seeded, so the images change the scores


def generated_class_names(tokenizer, count: int, seed: int) -> list[str]:
    """``count`` distinct names of one to three lower-case words from the tokenizer's vocabulary (seeded)."""
    words = sorted({t.strip() for t in tokenizer.batch_decode([[i] for i in range(len(tokenizer))])
                    if t.startswith(" ") and t.strip().isalpha() and t.strip().islower() and len(t.strip()) >= 3})
    if len(words) < 100:
        raise ValueError(f"the tokenizer has too few whole words ({len(words)}) to make class names; pass --class-names")
    rng = random.Random(seed)
    names: dict[str, None] = {}
    while len(names) < count:
        names[" ".join(rng.choice(words) for _ in range(rng.choice(WORDS_PER_NAME)))] = None
    return list(names)


def read_class_names(path: Path) -> list[str]:
    """One class name per non-empty line; duplicates refused (the ranking would be ambiguous)."""
    from ..errors import DataError

    names = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    seen: dict[str, int] = {}
    for i, name in enumerate(names, 1):
        if name in seen:
            raise DataError(f"{path}: class name {name!r} on line {i} repeats line {seen[name]}")
        seen[name] = i
    if not names:
        raise DataError(f"{path}: no class names")
    return names


def build_prompts(settings: RankBenchSettings, names: list[str]) -> list[tuple[str, list[Path]]]:
    """``num_queries`` k-shot prompts: ``shots`` pool images each labelled with a seeded class name, then
    a query image (OpenFlamingo's ImageNet prompt, demonstrations joined with no separator)."""
    from ..benchmark import get_benchmark
    from ..data.splits import load_benchmark_data
    from ..engine.planning import ensure_generated

    spec = get_benchmark(settings.benchmark)
    ensure_generated(spec, settings.data_root)
    data = load_benchmark_data(spec, settings.data_root)
    rng = random.Random(settings.seed)
    prompts = []
    for query in rng.sample(data.eval, settings.num_queries):
        demos = [dataclasses.replace(ex, target=rng.choice(names)) for ex in rng.sample(data.pool, settings.shots)]
        prompt = render_prompt(TEMPLATE, demos, Example(id=query.id, media=query.media))
        prompts.append((prompt.text, [ref.path for ref in prompt.media]))
    return prompts


def run_rank_bench(settings: RankBenchSettings, *, log: Callable[[str], Any] = print) -> dict[str, Any]:
    """Score every class name for each query both ways; returns the figures (times, speedup, agreement)."""
    from PIL import Image

    from .fewshot import open_gates
    from ..model import load_model
    from ..model.candidates import score_candidates

    torch.manual_seed(settings.seed)
    pipe = load_model(settings.model)
    pipe.model.requires_grad_(False)
    if settings.gate_seed is not None:
        open_gates(pipe.model, settings.gate_seed)
    names = (read_class_names(Path(settings.class_names)) if settings.class_names
             else generated_class_names(pipe.tokenizer, settings.classes, settings.seed))
    conts = [pipe.tokenizer(n, add_special_tokens=False)["input_ids"] for n in names]
    lengths = [len(c) for c in conts]
    nodes = len({tuple(c[:j]) for c in conts for j in range(1, len(c))})
    log(f"{len(names)} class names, {sum(lengths) / len(lengths):.2f} tokens each on average (1: {lengths.count(1)}, "
        f"longest {max(lengths)}); {nodes} distinct proper prefixes to compute after the prompt")
    ours_s, ref_s, max_diff, same_top5 = 0.0, 0.0, 0.0, 0
    prompt_tokens = []
    for q, (text, files) in enumerate(build_prompts(settings, names)):
        with torch.inference_mode():
            media = pipe.model.encode_media([pipe.pixels(Image.open(f).convert("RGB")) for f in files])  # (M, n, d)
        ids = torch.tensor(pipe.tokenizer(text)["input_ids"])
        prompt_tokens.append(len(ids))
        start = time.perf_counter()
        ours = score_candidates(pipe.model, ids, media, conts)
        ours_s += time.perf_counter() - start
        start = time.perf_counter()
        ref = _one_forward_per_class(pipe, text, media, names, settings.batch_size)
        ref_s += time.perf_counter() - start
        max_diff = max(max_diff, float((ours - ref).abs().max()))
        same_top5 += int(ours.topk(5).indices.tolist() == ref.topk(5).indices.tolist())
        log(f"query {q + 1}/{settings.num_queries}: harness {ours_s:.1f} s, reference {ref_s:.1f} s so far")
    n = settings.num_queries
    return {
        "model": settings.model, "shots": settings.shots, "queries": n, "classes": len(names),
        "mean_class_tokens": sum(lengths) / len(lengths), "tree_nodes": nodes,
        "mean_prompt_tokens": sum(prompt_tokens) / n, "reference_batch": settings.batch_size,
        "harness_s_per_query": ours_s / n, "reference_s_per_query": ref_s / n,
        "harness_examples_per_s": n / ours_s, "reference_examples_per_s": n / ref_s, "speedup": ref_s / ours_s,
        "max_abs_diff": max_diff, "same_top5": same_top5, "threads": torch.get_num_threads(),
    }


def _one_forward_per_class(pipe, text: str, media: torch.Tensor, names: list[str], batch: int) -> torch.Tensor:
    """The reference: ``prompt + name`` as a whole sequence for every class, ``batch`` classes per forward."""
    from ..model.media import MediaBatch

    one = MediaBatch.stack([media])
    out = [pipe.score([text] * len(group), group, one.repeat_interleave(len(group)))
           for group in (names[i : i + batch] for i in range(0, len(names), batch))]
    return torch.cat(out)
