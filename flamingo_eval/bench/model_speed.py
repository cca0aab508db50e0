"""How fast is the embedded model, and what do the Flamingo layers cost over the bare LM?

Measures, for one model spec: load time, peak RSS, a forward pass over B sequences of M images and T
text tokens (vision encoder + resampler + LM with gated blocks), batched greedy generation in tokens/s,
and the same forward and generation for the frozen LM alone.
"""

from __future__ import annotations

import platform
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch

from ..model import GenerationConfig, generate, load_model


@dataclass(frozen=True, kw_only=True)
class SpeedSettings:
    model: str = "smol"
    batch: int = 8  # sequences per batch
    images: int = 4  # images per sequence
    text_tokens: int = 128  # tokens per sequence, the <image> markers included
    new_tokens: int = 20  # generated per sequence (no early stop: every row runs to the end)
    repeats: int = 3  # timed runs; the median is reported
    device: str = "cpu"
    dtype: str | None = None  # e.g. bfloat16 on a GPU
    seed: int = 0


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _timed(fn: Callable[[], object], repeats: int, device: str) -> float:
    """Median wall time of ``fn`` over ``repeats`` runs, after one warm-up run."""
    fn()
    times = []
    for _ in range(repeats):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure_model_speed(settings: SpeedSettings = SpeedSettings()) -> dict[str, object]:
    """Run the measurements; returns a flat dict of figures (seconds, tokens/s, MB) and the settings."""
    s = settings
    start = time.perf_counter()
    pipe = load_model(s.model, device=s.device, dtype=s.dtype)
    load_s = time.perf_counter() - start
    rss_after_load = _peak_rss_mb()
    model, tok = pipe.model, pipe.tokens

    gen = torch.Generator().manual_seed(s.seed)
    vocab = min(len(pipe.tokenizer), model.lm.get_input_embeddings().num_embeddings)
    ids = torch.randint(0, vocab, (s.batch, s.text_tokens), generator=gen)
    ids[torch.isin(ids, torch.tensor(tok.added))] = 0
    # <image> markers spread through each sequence, first at position 0
    ids[:, torch.linspace(0, s.text_tokens - 8, s.images).long()] = tok.media
    ids, mask = ids.to(s.device), torch.ones_like(ids, device=s.device)
    size = pipe.transform.size
    pixels = [[torch.randn(1, 3, size, size, generator=gen) for _ in range(s.images)] for _ in range(s.batch)]

    with torch.inference_mode():
        vision_s = _timed(lambda: model.embed_media(pixels), s.repeats, s.device)
        media = model.embed_media(pixels)
        lm_forward_s = _timed(lambda: model(ids, media=media, attention_mask=mask), s.repeats, s.device)
        with model.lm_only() as lm:
            bare_forward_s = _timed(lambda: lm(input_ids=ids, attention_mask=mask), s.repeats, s.device)
        config = GenerationConfig(max_new_tokens=s.new_tokens)
        generate_s = _timed(
            lambda: generate(model, ids, attention_mask=mask, media=media, config=config, stop_token_ids=[], pad_token_id=tok.pad),
            s.repeats, s.device,
        )
        with model.lm_only() as lm:
            bare_generate_s = _timed(
                lambda: lm.generate(input_ids=ids, attention_mask=mask, max_new_tokens=s.new_tokens,
                                    min_new_tokens=s.new_tokens, do_sample=False, pad_token_id=tok.pad),
                s.repeats, s.device,
            )
    generated = s.batch * s.new_tokens
    return {
        **asdict(s),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "machine": platform.processor() or platform.machine(),
        "load_s": load_s,
        "rss_after_load_mb": rss_after_load,
        "vision_resampler_s": vision_s,
        "forward_s": vision_s + lm_forward_s,
        "forward_lm_with_xattn_s": lm_forward_s,
        "bare_lm_forward_s": bare_forward_s,
        "generate_tokens_per_s": generated / generate_s,
        "bare_lm_generate_tokens_per_s": generated / bare_generate_s,
        "peak_rss_mb": _peak_rss_mb(),
        "parameters": pipe.describe(),
    }
