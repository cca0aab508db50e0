"""``flamingo-eval bench``: k-shot evaluation the OpenFlamingo way versus this harness, side by side.

For each selection strategy the same k-shot prompts (same queries, same demonstrations, same seed) are
answered twice, each side in a fresh child process so that its memory is its own:

- reference: OpenFlamingo's own ``Flamingo`` (open-flamingo==2.0.1) with the same weights, called as
  its evaluation code calls it: batches of ``batch_size`` prompts in data order, every image read and
  transformed again for every query, ``generate`` on the whole prompts (``bench/reference.py``);
- harness: this project's run loop: the visual-token cache (each image encoded once), length-sorted
  batches, a shared prompt start prefilled once, media keys and values projected once per generation.

Both time everything from prompt texts and image files to decoded answers, model loading excluded.
"""

from __future__ import annotations

import dataclasses
import gc
import multiprocessing
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..model import GenerationConfig
from .measure import DeviceMemory, PeakRSS, count_flops, matmul_peak_flops, synchronize

SELECTIONS = ("random", "fixed")  # RICES and text retrieval need an embedder; they change nothing here


@dataclass(frozen=True, kw_only=True)
class BenchSettings:
    model: str = "smol"
    benchmark: str = "demo_captions"  # an image benchmark (the reference takes single-frame media only)
    selections: tuple[str, ...] = SELECTIONS
    shots: tuple[int, ...] = (16,)
    num_queries: int = 16  # queries answered per configuration and side
    batch_size: int = 8  # the reference's batch size (OpenFlamingo's default); the harness's most rows
    token_budget: int | str | None = None  # the harness's cap on rows x prompt tokens per batch ("auto": sized to free memory)
    seed: int = 42
    data_root: str | None = None
    gate_seed: int | None = 0  # untrained adapters have closed gates: open them (seeded) so images matter; None: leave
    count_flops: bool = True  # count the harness's FLOPs on a second, untimed run
    device: str = "cpu"  # where both sides run (cuda: timed with synchronisation, memory from the allocator)
    dtype: str | None = None  # the LM's and adapters' dtype (bfloat16 on a GPU); None: the spec's
    vision_dtype: str | None = None  # the vision encoder's (both sides: the reference shares our encoder); None: float32
    reference_queries: int | None = None  # the reference answers only the first this many (its rate is per query)
    decodes: tuple[str, ...] = ("eager",)  # the harness is measured once per decoding path (static_decode.DECODE_MODES)

    def __post_init__(self) -> None:
        from ..engine.memory_budget import check_token_budget
        from ..errors import SpecError
        from ..model.static_decode import DECODE_MODES

        check_token_budget(self.token_budget)
        unknown = [d for d in self.decodes if d not in DECODE_MODES]
        if unknown or not self.decodes:
            raise SpecError(f"decode must be one or more of {', '.join(DECODE_MODES)}, got {', '.join(self.decodes) or 'none'}")


@dataclass(frozen=True)
class BenchPrompt:
    """A rendered prompt as plain data (it crosses to the child processes)."""

    query_id: str
    text: str
    images: tuple[str, ...]  # image files, one per <image>, demonstrations then query


def build_prompts(settings: BenchSettings, selection: str, shots: int) -> tuple[list[BenchPrompt], GenerationConfig]:
    """The benchmark's k-shot prompts for the first ``num_queries`` of a seeded subset, and its
    generation settings (OpenFlamingo's: 3 beams for captioning)."""
    from ..benchmark import get_benchmark
    from ..data.splits import load_benchmark_data
    from ..engine.planning import eval_subset, ensure_generated
    from ..errors import SpecError
    from ..prompting.builder import few_shot_prompts
    from ..prompting.render import load_template
    from ..prompting.selection import make_selector

    if selection not in SELECTIONS:
        raise SpecError(f"bench measures selection {' or '.join(SELECTIONS)}, not {selection!r}")
    spec = get_benchmark(settings.benchmark)
    ensure_generated(spec, settings.data_root)
    data = load_benchmark_data(spec, settings.data_root)
    queries = eval_subset(data.eval, settings.num_queries, settings.seed, 0, spec.name)
    selector = make_selector(selection, data.pool, seed=settings.seed, trial=0, query_set_size=spec.query_set_size, embedder=None)
    template = load_template(spec.prompt.template, separator=spec.prompt.separator)
    prompts = []
    for p in few_shot_prompts(queries, selector, template, shots=shots, zero_shot_text_demos=spec.prompt.zero_shot_text_demos):
        if any(ref.kind != "image" for ref in p.media):
            raise SpecError(f"bench needs an image benchmark; {spec.name} query {p.query_id} has a video")
        prompts.append(BenchPrompt(p.query_id, p.text, tuple(str(ref.path) for ref in p.media)))
    return prompts, spec.generation


def open_gates(model, seed: int) -> None:
    """Give every closed gate a seeded value in [0.5, 1.5) so the images change the answers (untrained
    adapters start at 0, where both implementations would just run the LM)."""
    gates = [p for name, p in model.xattn.named_parameters() if name.endswith("_gate")]
    if any(float(g.abs().max()) > 0 for g in gates):
        return  # trained adapters: leave them
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for gate in gates:
            gate.copy_(0.5 + torch.rand(gate.shape, generator=g))


def _load(settings: BenchSettings):
    from ..model import load_model

    pipe = load_model(settings.model, device=settings.device, dtype=settings.dtype, vision_dtype=settings.vision_dtype)
    pipe.model.requires_grad_(False)  # evaluation only (and PyTorch's FLOP counter hooks tensors that need grads)
    if settings.gate_seed is not None:
        open_gates(pipe.model, settings.gate_seed)
    return pipe


# ---------------------------------------------------------------- the two sides (child processes)
def harness_side(settings: BenchSettings, prompts: Sequence[BenchPrompt], generation: GenerationConfig, decode: str = "eager") -> dict[str, Any]:
    """Answer with this harness, its decode steps run as ``decode`` says; returns answers, seconds, the time
    split, peak RSS and FLOPs. A compiled path is run once untimed first (``warmup_s``: compiling every
    batch shape, recording the CUDA graphs), so the timed run measures evaluation, not compilation."""
    from ..engine.answering import static_decoding

    pipe = _load(settings)
    settings = dataclasses.replace(settings, token_budget=_budget(pipe, settings, generation))  # "auto" sized once, untimed
    decoding = static_decoding(pipe, decode)
    warmup_s = 0.0
    if decode == "compiled":
        started = time.perf_counter()
        answer_with_harness(pipe, prompts, generation, settings, decoding)
        synchronize(settings.device)
        warmup_s = time.perf_counter() - started
    gc.collect()
    with PeakRSS() as rss, DeviceMemory(settings.device) as memory:
        started = time.perf_counter()
        answers, cache, answerer = answer_with_harness(pipe, prompts, generation, settings, decoding)
        synchronize(settings.device)
        seconds = time.perf_counter() - started
    stats = answerer.stats
    out = {
        "answers": answers, "seconds": seconds, "peak_rss_mb": rss.mb, "peak_device_mb": memory.mb,
        "answer_tokens": sum(len(pipe.tokenizer(a, add_special_tokens=False)["input_ids"]) for a in answers),
        "vision_s": cache.seconds, "prefill_s": stats.generation.prefill_s + stats.prefix_s,
        "decode_s": stats.generation.decode_s, "images_encoded": cache.encoded,
        "prefixes_built": stats.prefixes_built, "prefixes_reused": stats.prefixes_reused, "warmup_s": warmup_s, "token_budget": settings.token_budget,
        "decoding": "growing KV cache, eager steps" if decoding is None else decoding.describe(),
    }
    if settings.count_flops:
        # counted on the eager path: PyTorch's FLOP counter does not see inside compiled graphs, and the
        # static cache adds only attention over a few masked slots
        _, out["flops"] = count_flops(lambda: answer_with_harness(pipe, prompts, generation, settings))
    return out


def answer_with_harness(pipe, prompts: Sequence[BenchPrompt], generation: GenerationConfig, settings: BenchSettings, decoding=None):
    """The run loop's path: every distinct image encoded once, up front and in batches; length-sorted
    batches; shared prompt starts prefilled once; decode steps as ``decoding`` (a ``StaticDecoding``, or
    None: the growing cache). Returns (answers in prompt order, cache, answerer)."""
    from ..benchmark import VideoSpec
    from ..data.example import MediaRef
    from ..engine.answering import Answerer, plan_batches
    from ..engine.visual_cache import VisualTokenCache

    video = VideoSpec()
    cache = VisualTokenCache(pipe)
    answerer = Answerer(pipe, decoding=decoding)
    refs = [[MediaRef(Path(path)) for path in p.images] for p in prompts]
    cache.warm([ref for row in refs for ref in row], video)  # the demonstration pool, up front
    ids = [answerer.token_ids(p.text) for p in prompts]
    answers: list[str] = [""] * len(prompts)
    for group in plan_batches([len(r) for r in ids], batch_size=settings.batch_size, token_budget=settings.token_budget):
        media = [cache.get(refs[i], video) for i in group]
        keys = [[cache.key(ref, video) for ref in refs[i]] for i in group]
        for i, text in zip(group, answerer.generate([ids[i] for i in group], media, keys, generation)):
            answers[i] = text
    return answers, cache, answerer


def _budget(pipe, settings: BenchSettings, generation: GenerationConfig) -> int | None:
    """The harness's token budget: the setting, or with "auto" sized to the memory free now."""
    from ..engine.memory_budget import AUTO, auto_token_budget

    if settings.token_budget != AUTO:
        return settings.token_budget
    return auto_token_budget(pipe, beams=generation.num_beams)


def reference_side(settings: BenchSettings, prompts: Sequence[BenchPrompt], generation: GenerationConfig) -> dict[str, Any]:
    """Answer with OpenFlamingo's ``Flamingo`` as its evaluation code does; returns answers, seconds, peak RSS."""
    from .reference import ReferenceRunner, build_reference

    pipe = _load(settings)
    reference = build_reference(pipe)
    pipe = dataclasses.replace(pipe, model=None)  # only the reference's copy stays resident
    gc.collect()
    runner = ReferenceRunner(reference, pipe)
    with PeakRSS() as rss, DeviceMemory(settings.device) as memory:
        started = time.perf_counter()
        answers: list[str] = []
        for start in range(0, len(prompts), settings.batch_size):  # data order, fixed count
            batch = prompts[start : start + settings.batch_size]
            texts, _ = runner.generate([p.text for p in batch], [list(p.images) for p in batch], generation)
            answers.extend(texts)
        synchronize(settings.device)
        seconds = time.perf_counter() - started
    return {"answers": answers, "seconds": seconds, "peak_rss_mb": rss.mb, "peak_device_mb": memory.mb}


def _in_child(fn, *args) -> dict[str, Any]:
    """Run ``fn(*args)`` in a fresh process (spawned: nothing shared), so memory is measured alone."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


# ---------------------------------------------------------------- the comparison
def run_bench(settings: BenchSettings, *, log=print) -> list[dict[str, Any]]:
    """Measure every (selection, shots); returns one figures dict per configuration."""
    from ..model.lm import DTYPES

    dtype = DTYPES[settings.dtype] if settings.dtype else torch.float32
    peak = matmul_peak_flops(device=settings.device, dtype=dtype)
    log(f"matmul peak: {peak / 1e9:.1f} GFLOP/s ({settings.device}, {dtype}, {torch.get_num_threads()} threads)")
    rows = []
    for selection in settings.selections:
        for shots in settings.shots:
            prompts, generation = build_prompts(settings, selection, shots)
            subset = prompts[: settings.reference_queries] if settings.reference_queries else prompts
            log(f"{selection}, {shots} shots, {len(prompts)} queries: reference ({len(subset)}) ...")
            ref = _in_child(reference_side, settings, subset, generation)
            log(f"  reference {ref['seconds']:.1f} s")
            for decode in settings.decodes:
                log(f"  harness, {decode} decoding ...")
                ours = _in_child(harness_side, settings, prompts, generation, decode)
                log(f"  harness {ours['seconds']:.1f} s" + (f" (after a {ours['warmup_s']:.1f} s warm-up)" if ours["warmup_s"] else ""))
                rows.append(_figures(settings, selection, shots, generation, prompts, ref, ours, peak) | {
                    "decode": decode, "decoding": ours["decoding"], "warmup_s": round(ours["warmup_s"], 3),
                    "token_budget": ours["token_budget"]})
    return rows


def _figures(settings, selection, shots, generation, prompts, ref, ours, peak) -> dict[str, Any]:
    n, n_ref = len(prompts), len(ref["answers"])
    agree = [a == b for a, b in zip(ref["answers"], ours["answers"])]  # the reference's subset
    flops = ours.get("flops")
    ref_rate, our_rate = n_ref / ref["seconds"], n / ours["seconds"]
    return {
        "model": settings.model, "benchmark": settings.benchmark, "selection": selection, "shots": shots,
        "queries": n, "reference_queries": n_ref, "num_beams": generation.num_beams, "max_new_tokens": generation.max_new_tokens,
        "batch_size": settings.batch_size, "device": settings.device, "dtype": settings.dtype or "float32", "vision_dtype": settings.vision_dtype or "float32",
        "reference_s": round(ref["seconds"], 3), "harness_s": round(ours["seconds"], 3),
        "reference_examples_per_s": ref_rate, "harness_examples_per_s": our_rate, "speedup": our_rate / ref_rate,
        "harness_answer_tokens_per_s": ours["answer_tokens"] / ours["seconds"],
        "predictions_agree": all(agree), "agreement": sum(agree) / n_ref,
        "reference_peak_rss_mb": round(ref["peak_rss_mb"]), "harness_peak_rss_mb": round(ours["peak_rss_mb"]),
        "reference_peak_device_mb": ref["peak_device_mb"], "harness_peak_device_mb": ours["peak_device_mb"],
        "vision_s": round(ours["vision_s"], 3), "prefill_s": round(ours["prefill_s"], 3), "decode_s": round(ours["decode_s"], 3),
        "images_encoded": ours["images_encoded"], "prefixes_built": ours["prefixes_built"], "prefixes_reused": ours["prefixes_reused"],
        "harness_flops": flops, "matmul_peak_flops": peak,
        "harness_tflop_per_s": (flops / ours["seconds"] / 1e12) if flops else None,
        "matmul_peak_fraction": (flops / ours["seconds"] / peak) if flops else None,
        "disagreements": [{"query_id": p.query_id, "reference": a, "harness": b}
                          for p, a, b, same in zip(prompts, ref["answers"], ours["answers"], agree) if not same][:5],
        "torch_threads": torch.get_num_threads(),
    }
