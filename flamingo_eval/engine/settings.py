"""What a run evaluates: the settings every job shares, and named variants that override some of them.

A plain run is one variant, ``baseline``. A sweep is a grid of variants; an ablation is a baseline plus
named variants. A job is one (variant, benchmark) with every setting resolved.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from collections.abc import Sequence
from pathlib import Path, PurePath
from typing import Any

from ..benchmark import OPTION_SCORES, BenchmarkSpec, VideoSpec
from ..errors import SpecError
from ..model.generate import GenerationConfig
from ..model.static_decode import DECODE_MODES
from ..prompting.selection import STRATEGIES
from .frames import AUTO, check_policy, model_frame_capacity, resolve_frames
from .memory_budget import check_token_budget

BASELINE = "baseline"


def _setting(default: Any, help: str) -> Any:
    """A run setting: its default and what it does, said once (the CLI's options are made from these)."""
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True, kw_only=True)
class RunSettings:
    benchmarks: tuple[str, ...] = _setting((), "Built-in benchmark names or spec files.")
    model: str = _setting("smol", "Built-in model spec name or spec file.")
    shots: tuple[int, ...] = _setting((0, 4, 8, 16, 32), "Shot counts, comma-separated.")
    trials: int = _setting(1, "Trials; trial t draws its demonstrations (and --num-samples subset) with seed + t.")
    seed: int = _setting(42, "Seed of demonstrations and subsets.")
    selection: str = _setting("random", "Demonstrations: random | fixed | rices | text.")
    num_samples: int | None = _setting(None, "Evaluate a seeded random subset of this many queries per trial.")
    limit: int | None = _setting(None, "Evaluate the first N queries of each split, the same every trial.")
    ids: str | None = _setting(None, "Evaluate only the query ids listed in this file (one per line; # comments).")
    num_beams: int | None = _setting(None, "Beams for generation (default: each benchmark's).")
    max_new_tokens: int | None = _setting(None, "Most tokens generated per answer (default: each benchmark's).")
    length_penalty: float | None = _setting(None, "Beam score = log p / length ** this (default: each benchmark's).")
    batch_size: int = _setting(8, "Most prompts per batch (does not change predictions).")
    token_budget: int | str | None = _setting(None, "Also cap prompts x longest prompt's tokens per batch; auto: sized to the free memory.")
    share_prefix: bool = _setting(True, "Prefill a prompt start shared by a batch once (fixed demonstrations).")
    decode: str = _setting("eager", "Decode steps: eager | static (preallocated KV cache) | compiled (static + torch.compile; CUDA graphs on a GPU).")
    data_root: str | None = _setting(None, "Benchmark <name> reads <data-root>/<name>/ unless its spec says otherwise.")
    skip_bad: bool = _setting(False, "Leave out and record bad records and media instead of stopping.")
    device: str = _setting("cpu", "cpu, cuda, cuda:1, mps ...")
    dtype: str | None = _setting(None, "LM and adapter dtype, e.g. bfloat16 on a GPU.")
    vision_dtype: str | None = _setting(None, "Vision encoder dtype (default float32); bfloat16 with --dtype bfloat16: all in bfloat16.")
    embedding_cache: str | None = _setting(None, "Keep RICES / text embeddings here between runs (default: memory only).")
    visual_cache: str | None = _setting(None, "Keep visual tokens here between runs (default: memory only).")
    frames: str = _setting(AUTO, "Video frames per clip: auto | interpolate | thin | pool (docs/benchmarks.md).")

    def __post_init__(self) -> None:
        if not self.benchmarks:
            raise SpecError("no benchmark to run")
        if any(s < 0 for s in self.shots) or not self.shots:
            raise SpecError(f"shots must be non-negative integers, got {self.shots}")
        if self.trials < 1 or self.batch_size < 1 or (self.num_samples is not None and self.num_samples < 1):
            raise SpecError("trials, batch size and num_samples must be at least 1")
        for name in ("limit", "num_beams", "max_new_tokens"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise SpecError(f"{name} must be at least 1, got {getattr(self, name)}")
        if sum(x is not None for x in (self.num_samples, self.limit, self.ids)) > 1:
            raise SpecError("choose one of num_samples (a random subset), limit (the first N) and ids (listed ones)")
        check_token_budget(self.token_budget)
        if self.selection not in STRATEGIES:
            raise SpecError(f"unknown selection {self.selection!r}; known: {', '.join(STRATEGIES)}")
        if self.decode not in DECODE_MODES:
            raise SpecError(f"decode must be one of {', '.join(DECODE_MODES)}, got {self.decode!r}")
        check_policy(self.frames, "frames")

    @classmethod
    def of(cls, benchmarks: Sequence[str], **options: Any) -> "RunSettings":
        """Settings from the API's or a sweep file's values: paths become text, sequences tuples; an
        unknown name is a SpecError listing the settings."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise SpecError(f"unknown setting {unknown[0]!r} (known: {', '.join(sorted(known - {'benchmarks'}))})")
        plain = {k: str(v) if isinstance(v, PurePath) else tuple(v) if isinstance(v, list) else v for k, v in options.items()}
        return cls(benchmarks=tuple(benchmarks), **plain)

    def identity(self) -> dict[str, Any]:
        """The settings that can change a prediction (batch size cannot: left padding is exact; nor can the
        decoding path, which computes the same steps); the ids
        file by its content, so the same list elsewhere resumes and an edited one does not."""
        data = dataclasses.asdict(self)
        for key in ("batch_size", "token_budget", "share_prefix", "decode", "data_root", "embedding_cache", "visual_cache"):
            data.pop(key)
        if data["ids"] is not None:
            from ..storage import text_digest

            data["ids"] = {"sha256": text_digest("\n".join(sorted({qid for _, qid in read_id_list(self.ids)})))}
        return data


def read_id_list(path: str | PurePath) -> list[tuple[int, str]]:
    """The ``--ids`` file: (line number, query id) for each non-empty line, ``#`` starting a comment;
    DataError naming the file when it cannot be read or lists nothing, and the line of a repeated id."""
    from ..errors import DataError

    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: cannot read the ids file ({getattr(err, 'strerror', None) or err})") from None
    out, seen = [], {}
    for number, line in enumerate(text.splitlines(), 1):
        qid = line.split("#", 1)[0].strip()
        if not qid:
            continue
        if qid in seen:
            raise DataError(f"{path}: line {number}: query id {qid!r} repeats line {seen[qid]}")
        seen[qid] = number
        out.append((number, qid))
    if not out:
        raise DataError(f"{path}: lists no query ids")
    return out


# override key -> what it sets; values arrive as strings from the command line and are converted
OVERRIDES: dict[str, type] = {
    "selection": str,  # demonstration strategy
    "prompt": str,  # prompt template (a file in prompts/)
    "model": str,  # another model spec
    "attend": str,  # "last" (the paper) or "all": which media the text attends to
    "fps": float,  # video frames per second
    "max_frames": int,  # video frame cap
    "frames": str,  # video frame policy: auto, interpolate, thin or pool
    "num_beams": int,
    "max_new_tokens": int,
    "length_penalty": float,
    "zero_shot_text_demos": int,
    "query_set_size": int,
    "option_score": str,  # candidate scores: "sum" or "mean" of their token log-probs
}


@dataclass(frozen=True)
class Variant:
    name: str
    overrides: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.overrides) - set(OVERRIDES))
        if unknown:
            raise SpecError(f"variant {self.name}: unknown setting {unknown[0]!r} (known: {', '.join(OVERRIDES)})")
        if self.overrides.get("selection", "random") not in STRATEGIES:
            raise SpecError(f"variant {self.name}: unknown selection {self.overrides['selection']!r}")
        if self.overrides.get("attend", "last") not in ("last", "all"):
            raise SpecError(f"variant {self.name}: attend must be last or all")
        check_policy(self.overrides.get("frames", AUTO), f"variant {self.name}")
        if self.overrides.get("option_score", "sum") not in OPTION_SCORES:
            raise SpecError(f"variant {self.name}: option_score must be one of {', '.join(OPTION_SCORES)}")


def parse_variant(text: str) -> Variant:
    """``name:key=value,key=value`` (e.g. ``no-rices:selection=random``) -> Variant."""
    name, sep, body = text.partition(":")
    if not sep or not name:
        raise SpecError(f"variant {text!r} should look like name:key=value[,key=value]")
    overrides: dict[str, Any] = {}
    for item in filter(None, body.split(",")):
        key, eq, value = item.partition("=")
        if not eq:
            raise SpecError(f"variant {name}: {item!r} should be key=value")
        if key not in OVERRIDES:
            raise SpecError(f"variant {name}: unknown setting {key!r} (known: {', '.join(OVERRIDES)})")
        try:
            overrides[key] = OVERRIDES[key](value)
        except ValueError:
            raise SpecError(f"variant {name}: {key}={value!r} is not a {OVERRIDES[key].__name__}") from None
    return Variant(name, overrides)


@dataclass(frozen=True)
class Job:
    """One (variant, benchmark) with every setting resolved."""

    variant: str
    benchmark: BenchmarkSpec
    model: str
    selection: str
    template: str
    attend: str | None  # None: the model spec's own
    generation: GenerationConfig
    video: VideoSpec  # the sampling the model gets: the benchmark's, after overrides and the frame policy
    zero_shot_text_demos: int
    query_set_size: int | None
    frames: str  # the frame policy, resolved for this job's model: interpolate, thin or pool
    option_score: str = "sum"  # multiple choice / classification: "sum" or "mean" of a candidate's log-probs


def resolve_job(settings: RunSettings, variant: Variant, benchmark: BenchmarkSpec) -> Job:
    """Every setting of one (variant, benchmark), the variant's overrides over the run's settings.

    The frame policy is resolved here, from the model's spec (no weights loaded), so a model that
    cannot follow it is a SpecError before anything runs (engine/frames.py).
    """
    o = variant.overrides
    decoding = ("num_beams", "max_new_tokens", "length_penalty")  # a variant's over the run's over the benchmark's
    run_level = {k: getattr(settings, k) for k in decoding if getattr(settings, k) is not None}
    generation = dataclasses.replace(benchmark.generation, **(run_level | {k: o[k] for k in decoding if k in o}))
    model = o.get("model", settings.model)
    video = dataclasses.replace(benchmark.data.video, **{k: o[k] for k in ("fps", "max_frames") if k in o})
    capacity = model_frame_capacity(model)  # a missing or bad model spec is named by the spec reader
    try:
        frames = resolve_frames(o.get("frames", settings.frames), video, model=model, capacity=capacity)
    except SpecError as err:
        where = f"variant {variant.name}, " if variant.name != BASELINE else ""
        raise SpecError(f"{where}benchmark {benchmark.name}: {err}") from None
    return Job(
        variant=variant.name,
        benchmark=benchmark,
        model=model,
        selection=o.get("selection", settings.selection),
        template=o.get("prompt", benchmark.prompt.template),
        attend=o.get("attend"),
        generation=generation,
        video=frames.video,
        zero_shot_text_demos=o.get("zero_shot_text_demos", benchmark.prompt.zero_shot_text_demos),
        query_set_size=o.get("query_set_size", benchmark.query_set_size),
        frames=frames.policy,
        option_score=o.get("option_score", benchmark.option_score),
    )
