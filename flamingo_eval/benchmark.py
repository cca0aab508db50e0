"""Benchmark specs: one YAML file per benchmark in ``benchmarks/`` (data, not code).

A spec says what the task is, where its files are, which split is the demonstration pool and which is
evaluated, how prompts look, how to generate, how to clean the output and how to score it. Adding a
benchmark whose data is in a supported format needs only a new YAML file.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import SpecError
from .locations import BENCHMARKS_DIR
from .model.config import GenerationConfig
from .spec_io import SpecFolder, build_dataclass, expand_path
DATA_ROOT_ENV = "FLAMINGO_EVAL_DATA"  # default --data-root: benchmark <name> reads <root>/<name>/
GENERATED_DATA = Path.home() / ".cache" / "flamingo-eval" / "data"  # default root of generated benchmarks
TASKS = ("captioning", "vqa", "video_qa", "video_captioning", "multiple_choice", "classification")
# How a candidate text (an option, a class name) is scored after the prompt: the sum of its tokens'
# log-probabilities (its log-likelihood), or their mean (OpenFlamingo's ``normalize_length``, which its
# ImageNet and HatefulMemes evaluation uses, so that long class names are not penalised for length).
OPTION_SCORES = ("sum", "mean")
GENERATORS = ("demo",)  # data.generate values: the built-in synthetic suite (flamingo_eval.demo)


@dataclass(frozen=True, kw_only=True)
class VideoSpec:
    fps: float = 1.0  # frames sampled per second, the paper's rate
    max_frames: int = 8  # more frames are thinned uniformly over the whole video

    def __post_init__(self) -> None:
        if not self.fps > 0 or math.isinf(self.fps):  # written so that NaN fails too
            raise ValueError(f"fps must be a positive number of frames per second, got {self.fps}")
        if self.max_frames < 1:
            raise ValueError(f"max_frames must be at least 1, got {self.max_frames}")


@dataclass(frozen=True, kw_only=True)
class DataSpec:
    format: str  # a registered reader (data/readers/): karpathy, vqa, vizwiz, nextqa, imagenet, hateful_memes, star, hf, ...
    root: str | None = None  # the data folder (may use ${VAR}); default: <data root>/<benchmark name>
    pool: dict[str, Any]  # files and settings of the split demonstrations are drawn from
    eval: dict[str, Any]  # files and settings of the evaluated split
    video: VideoSpec = VideoSpec()
    generate: str | None = None  # a built-in generator that writes the data when it is missing ("demo")


@dataclass(frozen=True, kw_only=True)
class PromptSpec:
    template: str  # a file in prompts/ (name without .txt) or a path
    separator: str = "\n"  # after each demonstration, as OpenFlamingo's evaluation joins them
    zero_shot_text_demos: int = 0  # text-only demonstrations at 0 shots (Flamingo and OpenFlamingo use 2)

    def __post_init__(self) -> None:
        if self.zero_shot_text_demos < 0:
            raise ValueError(f"zero_shot_text_demos must be 0 or more, got {self.zero_shot_text_demos}")


@dataclass(frozen=True, kw_only=True)
class BenchmarkSpec:
    name: str
    task: str
    description: str = ""
    data: DataSpec
    prompt: PromptSpec
    generation: GenerationConfig = GenerationConfig()
    postprocess: str = "none"  # caption, vqa, none
    metric: str  # a registered metric (metrics/registry.py): vqa_accuracy, cider, roc_auc, ...
    option_score: str = "sum"  # multiple choice and classification: "sum" or "mean" of the candidate's token log-probs
    query_set_size: int | None = 2048  # random/fixed demonstrations come from this many pool items (OpenFlamingo)
    chance: float | None = None  # the primary metric of guessing (0..1), drawn as a dashed line in plots
    source: Path | None = None

    def __post_init__(self) -> None:
        if self.query_set_size is not None and self.query_set_size < 1:
            raise ValueError(f"query_set_size must be at least 1 (or null for the whole pool), got {self.query_set_size}")
        if self.option_score not in OPTION_SCORES:
            raise ValueError(f"option_score must be one of {', '.join(OPTION_SCORES)}, got {self.option_score!r}")
        if self.chance is not None and not 0 <= self.chance <= 1:
            raise ValueError(f"chance must be between 0 and 1, got {self.chance}")

    def data_root(self, data_root: Path | str | None = None) -> Path:
        """Where this benchmark's files are: ``data.root`` if the spec sets it, else
        ``<data_root or $FLAMINGO_EVAL_DATA>/<name>``; either may be a Hub dataset repository
        (``hf:datasets/ORG/NAME``), fetched into the Hub cache."""
        if self.data.root is not None:
            return expand_path(self.data.root, key="data.root", spec=self.source)
        base = data_root or os.environ.get(DATA_ROOT_ENV)
        if base is None and self.data.generate is not None:
            base = GENERATED_DATA
        if base is None:
            raise SpecError(f"benchmark {self.name}: no data folder; pass --data-root or set {DATA_ROOT_ENV}")
        if str(base).startswith("hf:"):  # a Hub dataset repository holding <name>/ folders (hub.py)
            from .hub import hub_path

            return hub_path(str(base), where=f"benchmark {self.name}: --data-root") / self.name
        return Path(base) / self.name

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data.pop("source")
        return data


def parse_benchmark(data: Any, *, source: Path | str = "<benchmark>") -> BenchmarkSpec:
    """A BenchmarkSpec from YAML data; every mistake names ``source`` and the key (its path, its
    expected type and the value given: ``bench.yaml: data.video.fps: expected float, got str 'fast'``)."""
    if not isinstance(data, dict):
        raise SpecError(f"{source}: a benchmark spec must be a mapping")
    spec = build_dataclass(BenchmarkSpec, data, "", source)
    _validate(spec, source)
    return dataclasses.replace(spec, source=Path(source) if Path(str(source)).suffix else None)


def _validate(spec: BenchmarkSpec, source: Path | str) -> None:
    """Names in the spec must exist: task, data format, template, post-processing, metric."""
    from .data.formats import FORMATS
    from .metrics import METRICS
    from .prompting.postprocess import POSTPROCESSORS
    from .prompting.render import load_template

    checks = [
        ("task", spec.task, TASKS),
        ("data.generate", spec.data.generate or "demo", GENERATORS),
        ("data.format", spec.data.format, FORMATS),
        ("postprocess", spec.postprocess, POSTPROCESSORS),
        ("metric", spec.metric, METRICS),
    ]
    for key, value, known in checks:
        if value not in known:
            raise SpecError(f"{source}: {key}: unknown {value!r} (known: {', '.join(sorted(known))})")
    try:
        load_template(spec.prompt.template)
    except (SpecError, OSError, UnicodeDecodeError) as err:  # a name the file system refuses, a file not UTF-8
        raise SpecError(f"{source}: prompt.template: {err}") from None


BENCHMARK_SPECS: SpecFolder[BenchmarkSpec] = SpecFolder(BENCHMARKS_DIR, "benchmark", parse_benchmark, document="benchmark spec")


def load_benchmark(path: Path | str) -> BenchmarkSpec:
    return BENCHMARK_SPECS.load(path)


def builtin_benchmarks() -> dict[str, Path]:
    return BENCHMARK_SPECS.builtin()


def get_benchmark(name_or_path: str | Path) -> BenchmarkSpec:
    """A benchmark from ``benchmarks/`` by name, or a spec file by path."""
    return BENCHMARK_SPECS.get(name_or_path)
