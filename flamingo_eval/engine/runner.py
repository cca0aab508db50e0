"""The run loop: every variant x benchmark x trial x shot count, batched, resumable, recorded.

For each job the demonstrations of every query are chosen from (seed, trial, query id) alone, the
prompts are rendered, the model answers in batches, and each batch's predictions are appended to
``predictions.jsonl`` and flushed before the next begins. At the end the metrics are computed from the
predictions file alone, so an interrupted and resumed run ends exactly as an uninterrupted one.

Under torchrun (engine/distributed.py) every rank walks the same loop but answers only the prompts it
owns, by position in the run's fixed order, appending to its own predictions shard; rank 0 prepares the
folder first and, once every rank is through, merges the shards and computes the metrics.
"""

from __future__ import annotations

import dataclasses
import random
import sys
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator


from ..benchmark import BenchmarkSpec, VideoSpec, get_benchmark
from ..data.example import Example, MediaRef
from ..data.media import load_media
from ..data.splits import BenchmarkData, load_benchmark_data
from ..errors import MediaError, SpecError
from ..metrics import get_metric
from ..model import load_model
from ..model.media import MediaBatch
from ..model.pipeline import FlamingoPipeline
from ..prompting.builder import demonstrations_for
from ..prompting.postprocess import get_postprocessor
from ..prompting.render import Prompt, load_template
from ..prompting.retrieval import ImageEmbedder, TextEmbedder
from ..prompting.selection import stable_seed
from . import distributed, preflight, provenance
from .answering import Answerer, plan_batches
from .demonstrations import PromptPlanner
from .distributed import World, gather, on_main
from .results import ResultsFolder, SkipLog, prediction_key, write_json
from .run_record import run_identity, run_record
from .scoring import metric_rows, query_score
from .visual_cache import VisualTokenCache
from .settings import BASELINE, Job, RunSettings, Variant, resolve_job

CHOICE_TASKS = ("multiple_choice", "classification")


class Progress:
    """Callbacks the runner reports to (the CLI draws rich progress bars; the API stays silent)."""

    def start(self, label: str, total: int, done: int) -> None: ...

    def advance(self, label: str, count: int) -> None: ...


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def eval_subset(examples: Sequence[Example], num_samples: int | None, seed: int, trial: int, benchmark: str) -> list[Example]:
    """A seeded random subset of the queries (OpenFlamingo's ``num_samples``), in split order."""
    if num_samples is None or num_samples >= len(examples):
        return list(examples)
    chosen = set(random.Random(stable_seed(seed, trial, "num_samples", benchmark)).sample(range(len(examples)), num_samples))
    return [ex for i, ex in enumerate(examples) if i in chosen]


class Runner:
    def __init__(
        self,
        settings: RunSettings,
        out: Path | str,
        *,
        variants: Sequence[Variant] = (Variant(BASELINE),),
        baseline: str = BASELINE,
        command: str = "",
        progress: Progress | None = None,
    ) -> None:
        names = [v.name for v in variants]
        if len(set(names)) != len(names):
            raise ValueError(f"variant names must be unique, got {names}")
        self.settings, self.variants, self.baseline, self.command = settings, list(variants), baseline, command
        self.progress = progress or Progress()
        self.world = World.from_env()  # torchrun's WORLD_SIZE / RANK; a single process without them
        self.folder = ResultsFolder(out, self.world)
        self.specs = specs_by_name(settings.benchmarks)
        self._models: dict[str, FlamingoPipeline] = {}
        self._data: dict[str, BenchmarkData] = {}
        self._duplicates: dict[str, dict[str, frozenset[str]]] = {}  # benchmark -> query id -> identical pool ids
        self._fingerprints: dict[str, str] = {}  # benchmark -> data fingerprint (in the run's identity)
        self.skips = SkipLog(self.folder)  # skipped.jsonl: bad records, media and pool items
        self._embedders: dict[tuple[str, str], Callable] = {}
        self._visual: dict[str, VisualTokenCache] = {}  # per model: demonstrations recur across queries
        self._answerers: dict[str, Answerer] = {}  # per model: shared prompt starts are prefilled once
        self._position = 0  # prompts of the run's fixed order before the current job's (they decide the rank)
        self._written: list[tuple] = []  # the keys this process appended, checked by rank 0 at the end

    # ------------------------------------------------------------------ the run
    def run(self) -> list[dict[str, Any]]:
        """Evaluate everything not already in the results folder; returns the metrics rows (under torchrun:
        this rank's share, and every rank returns the metrics rank 0 computed)."""
        started = now()
        jobs = [resolve_job(self.settings, v, spec) for v in self.variants for spec in self.specs.values()]
        for spec in self.specs.values():
            self._benchmark_data(spec)  # files, records, empty splits, duplicates: all before any model loads
        identity = self._identity()
        with distributed.session(self.world, self.settings.device):
            # rank 0 alone checks the folder and repairs cut-off lines, before any rank reads or appends
            on_main(self.world, lambda: self._prepare(identity, started))
            for job in jobs:
                self._check_lengths(job)
            done = {prediction_key(r) for r in self.folder.read_predictions()}
            self._position = 0
            for job in jobs:
                self._run_job(job, done)
            written = gather(self.world, self._written)  # rank 0 waits here for every rank's share
            return on_main(self.world, lambda: self._finish(identity, started, written))

    def _prepare(self, identity: dict[str, Any], started: str) -> None:
        self.folder.open(identity)
        self._write_run_json(identity, started, finished=None)
        self.skips.load()
        for name, data in self._data.items():  # records the readers left out (--skip-bad)
            self.skips.add([{"variant": None, "benchmark": name, "shots": None, "trial": None, "id": s.id,
                                 "file": s.file, "reason": s.reason} for s in data.skipped])

    def _finish(self, identity: dict[str, Any], started: str, written: list[list[tuple]]) -> list[dict[str, Any]]:
        metrics = self.finalize(written)
        self._write_run_json(identity, started, finished=now(), per_rank=[len(keys) for keys in written])
        return metrics

    def _owned(self, per_trial: list[list[Example]]) -> set[tuple[int, int, str]]:
        """The (shots, trial, query id) of a job this rank answers: by position in the run's fixed order
        (trials, then shot counts, then queries), never by what is done, so ranks need not agree on that."""
        order = [(shots, trial, q.id) for trial, queries in enumerate(per_trial) for shots in self.settings.shots for q in queries]
        start, self._position = self._position, self._position + len(order)
        return set(distributed.mine(order, self.world, start))

    def _run_job(self, job: Job, done: set[tuple]) -> None:
        spec = job.benchmark
        data = self._benchmark_data(spec)
        pipe = self._model(job.model)
        label = f"{job.variant}/{spec.name}" if len(self.variants) > 1 else spec.name
        answerer = self._answerer(job.model, pipe)
        per_trial = [eval_subset(data.eval, self.settings.num_samples, self.settings.seed, t, spec.name) for t in range(self.settings.trials)]
        owned = self._owned(per_trial)
        self.progress.start(label, len(owned), sum(1 for k in owned if (job.variant, spec.name, *k) in done))
        with _attending(pipe, job.attend):
            for trial, queries in enumerate(per_trial):
                planner = self._planner(job, pipe, trial)
                for shots in self.settings.shots:
                    wanted = [q for q in queries if (shots, trial, q.id) in owned and (job.variant, spec.name, shots, trial, q.id) not in done]
                    todo = planner.prompts(wanted, shots)
                    self._visual_cache(job.model, pipe).warm([ref for p in todo for ref in p.media], job.video)
                    by_id = {q.id: q for q in queries}
                    ids = [answerer.token_ids(p.text) for p in todo]
                    preflight.check_prompt_length(
                        benchmark=spec.name, shots=shots, trial=trial, query_ids=[p.query_id for p in todo],
                        lengths=[len(r) for r in ids], new_tokens=_new_tokens(job, queries, answerer), context=pipe.context_length, model=job.model)
                    # length-sorted batches: little padding (the order of predictions.jsonl does not matter)
                    for group in plan_batches([len(r) for r in ids], batch_size=self.settings.batch_size, token_budget=self.settings.token_budget):
                        batch = [todo[i] for i in group]
                        rows = self._evaluate(job, pipe, batch, by_id, shots=shots, trial=trial, ids=[ids[i] for i in group])
                        self.folder.append(self.folder.own_predictions, rows)
                        done.update(prediction_key(r) for r in rows)
                        self._written.extend(prediction_key(r) for r in rows)
                        self.progress.advance(label, len(batch))

    def _planner(self, job: Job, pipe: FlamingoPipeline, trial: int) -> PromptPlanner:
        spec = job.benchmark
        return PromptPlanner(
            benchmark=spec.name, variant=job.variant, pool=self._data[spec.name].pool, selection=job.selection,
            seed=self.settings.seed, trial=trial, query_set_size=job.query_set_size, embedder=self._embedder(job, pipe),
            template=load_template(job.template, separator=spec.prompt.separator), zero_shot_text_demos=job.zero_shot_text_demos,
            duplicates=self._duplicates[spec.name], skips=self.skips,
            cache=self._visual_cache(job.model, pipe) if self.settings.skip_bad else None, video=job.video,
        )

    def _evaluate(
        self, job: Job, pipe: FlamingoPipeline, batch: list[Prompt], queries: dict[str, Example], *, shots: int, trial: int, ids: list[list[int]],
    ) -> list[dict[str, Any]]:
        """Answer one batch of prompts (``ids``: their token ids); returns its prediction rows (queries whose
        media failed are recorded in skipped.jsonl when skipping is on, else the error names the query)."""
        spec = job.benchmark
        cache = self._visual_cache(job.model, pipe)
        loaded, kept, kept_ids = [], [], []
        for prompt, row in zip(batch, ids):
            try:
                loaded.append(cache.get(prompt.media, job.video))
                kept.append(prompt)
                kept_ids.append(row)
            except MediaError as err:
                if not self.settings.skip_bad:
                    raise MediaError(f"{spec.name} query {prompt.query_id}: {err}") from None
                self.skips.add([{
                    "variant": job.variant, "benchmark": spec.name, "shots": shots, "trial": trial,
                    "id": prompt.query_id, "file": "", "reason": str(err)}])
        if not kept:
            return []
        if spec.task in CHOICE_TASKS:
            outputs = [self._choose(pipe, prompt, cache.batch([tokens]), queries[prompt.query_id]) for prompt, tokens in zip(kept, loaded)]
        else:
            post = get_postprocessor(spec.postprocess)
            keys = [[cache.key(ref, job.video) for ref in p.media] for p in kept]
            raw = self._answerer(job.model, pipe).generate(kept_ids, loaded, keys, job.generation)
            outputs = [{"raw_output": text, "prediction": post(text)} for text in raw]
        rows = []
        for prompt, output in zip(kept, outputs):
            query = queries[prompt.query_id]
            row = {
                "variant": job.variant, "model": pipe.spec.name, "benchmark": spec.name, "shots": shots,
                "trial": trial, "seed": self.settings.seed + trial, "query_id": prompt.query_id,
                "demo_ids": list(prompt.demo_ids), "prompt": prompt.text, **output,
                "references": list(query.references),
            }
            if query.meta.get("answer_type"):
                row["answer_type"] = query.meta["answer_type"]
            row["score"] = query_score(spec.metric, row)
            rows.append(row)
        return rows

    def _choose(self, pipe: FlamingoPipeline, prompt: Prompt, media: MediaBatch, query: Example) -> dict[str, Any]:
        """Multiple choice: the option with the highest log-likelihood after the prompt."""
        options = list(query.options)
        scores = pipe.score([prompt.text] * len(options), options, media.repeat_interleave(len(options))).tolist()
        best = max(range(len(options)), key=lambda i: (scores[i], -i))  # ties: the first
        return {"raw_output": scores, "prediction": options[best], "option_scores": scores, "answer_index": query.answer_index}

    # ------------------------------------------------------------------ the end
    def finalize(self, written: Sequence[Sequence[tuple]] = ()) -> list[dict[str, Any]]:
        """Metrics from the predictions files alone; writes metrics.json, the ordered predictions (one
        row per key, every score filled in, the ranks' shards merged), and the summary and plot.
        ``written``: the keys each rank appended this run, which must all be readable here."""
        from ..report import shot_scaling_plot, summarize, write_summary

        rows: dict[tuple, dict[str, Any]] = {}
        for row in self.folder.read_predictions():
            rows.setdefault(prediction_key(row), row)  # one row per key, however many files hold it
        distributed.check_visible(written, rows.keys(), self.folder.path)
        order = self._order()
        ordered = sorted(rows.values(), key=order)
        metrics: list[dict[str, Any]] = []
        for name, spec in self.specs.items():
            members = [r for r in ordered if r["benchmark"] == name]
            bench_metrics, scores = metric_rows(spec.metric, members)
            metrics.extend(bench_metrics)
            for r in members:
                if r["score"] is None:
                    r["score"] = scores.get(prediction_key(r))
        metrics.sort(key=lambda m: (self._variant_index(m["variant"]), list(self.specs).index(m["benchmark"]), m["shots"], m["trial"], m["metric"]))
        self.folder.consolidate(ordered)
        write_json(self.folder.metrics, metrics)
        if metrics:
            write_summary(metrics, self.folder.path)
            chance = {name: spec.chance for name, spec in self.specs.items() if spec.chance is not None}
            shot_scaling_plot(summarize(_frame(metrics)), self.primary_metrics(), self.folder.path / "shot_scaling.png",
                              chance=chance)
        return metrics

    def primary_metrics(self) -> dict[str, str]:
        return {name: get_metric(spec.metric).primary for name, spec in self.specs.items()}

    def _order(self) -> Callable[[dict[str, Any]], tuple]:
        positions = {name: {ex.id: i for i, ex in enumerate(self._benchmark_data(spec).eval)} for name, spec in self.specs.items()}
        shots = list(self.settings.shots)
        benchmarks = list(self.specs)
        return lambda r: (self._variant_index(r["variant"]), benchmarks.index(r["benchmark"]), shots.index(r["shots"]),
                          r["trial"], positions[r["benchmark"]].get(r["query_id"], -1))

    def _variant_index(self, name: str) -> int:
        return [v.name for v in self.variants].index(name)

    # ------------------------------------------------------------------ resources
    def _benchmark_data(self, spec: BenchmarkSpec) -> BenchmarkData:
        """A benchmark's splits, read once and checked (``preflight``): a split with no queries is an error;
        pool items identical to a query are noted; the data's fingerprint goes into the run's identity."""
        if spec.name not in self._data:
            data = load_benchmark_data(spec, self.settings.data_root, skip_bad=self.settings.skip_bad)
            preflight.require_queries(spec.name, data.eval, skipped=len(data.skipped), entry=spec.data.eval)
            root = spec.data_root(self.settings.data_root)
            self._duplicates[spec.name] = preflight.content_duplicates(data.pool, data.eval)
            self._fingerprints[spec.name] = preflight.data_fingerprint(root, provenance.data_files(spec, root), (data.pool, data.eval))
            self._data[spec.name] = data
        return self._data[spec.name]

    def _check_lengths(self, job: Job) -> None:
        """Before anything is answered: every trial's prompts at the most demonstrations must fit the LM."""
        spec, data = job.benchmark, self._benchmark_data(job.benchmark)
        pipe = self._model(job.model)
        most = max(self.settings.shots, key=lambda s: demonstrations_for(s, job.zero_shot_text_demos)[0])
        answerer = self._answerer(job.model, pipe)
        for trial in range(self.settings.trials):
            queries = eval_subset(data.eval, self.settings.num_samples, self.settings.seed, trial, spec.name)
            prompts = self._planner(job, pipe, trial).prompts(queries, most, replace_bad=False)
            preflight.check_prompt_length(
                benchmark=spec.name, shots=most, trial=trial, query_ids=[p.query_id for p in prompts],
                lengths=[len(answerer.token_ids(p.text)) for p in prompts], new_tokens=_new_tokens(job, queries, answerer),
                context=pipe.context_length, model=job.model)

    def _visual_cache(self, name: str, pipe: FlamingoPipeline) -> VisualTokenCache:
        if name not in self._visual:
            self._visual[name] = VisualTokenCache(pipe, load_media_for, directory=self.settings.visual_cache)
        return self._visual[name]

    def _answerer(self, name: str, pipe: FlamingoPipeline) -> Answerer:
        if name not in self._answerers:
            self._answerers[name] = Answerer(pipe, share_prefix=self.settings.share_prefix)
        return self._answerers[name]

    def _model(self, name: str) -> FlamingoPipeline:
        if name not in self._models:
            self._models[name] = load_model(name, device=self.settings.device, dtype=self.settings.dtype)
        return self._models[name]

    def _embedder(self, job: Job, pipe: FlamingoPipeline) -> Callable | None:
        cache = Path(self.settings.embedding_cache) if self.settings.embedding_cache else None
        key = (job.selection, job.model)
        if job.selection == "rices" and key not in self._embedders:
            self._embedders[key] = ImageEmbedder(pipe.model.vision, cache_dir=cache)
        elif job.selection == "text" and key not in self._embedders:
            self._embedders[key] = TextEmbedder(cache_dir=cache)
        return self._embedders.get(key)

    # ------------------------------------------------------------------ provenance
    def _identity(self) -> dict[str, Any]:
        return run_identity(self.settings, self.variants, self.specs, self._fingerprints)

    def _write_run_json(self, identity: dict[str, Any], started: str, finished: str | None, per_rank: list[int] | None = None) -> None:
        """run.json; ``per_rank``: the predictions each rank made in this session (None until the end)."""
        write_json(self.folder.run_json, run_record(
            self.settings, self.variants, self.specs, identity=identity, baseline=self.baseline,
            command=self.command or " ".join(sys.argv), started=started, finished=finished,
            primary_metrics=self.primary_metrics(), world_size=self.world.size, per_rank=per_rank,
            skipped=len(self.folder.read_skipped()),
        ))


def specs_by_name(given: Sequence[str]) -> dict[str, BenchmarkSpec]:
    """Benchmarks (built-in names or spec paths) keyed by their spec's ``name``, as result rows carry it."""
    specs: dict[str, BenchmarkSpec] = {}
    for item in given:
        spec = get_benchmark(item)
        if spec.name in specs:
            raise SpecError(f"two benchmarks are named {spec.name} ({item} and an earlier one); names must differ")
        specs[spec.name] = spec
    return specs


def _new_tokens(job: Job, queries: Sequence[Example], answerer: Answerer) -> int:
    """Tokens a job adds after its prompts: the generated ones, or the longest option (choice tasks)."""
    if job.benchmark.task in CHOICE_TASKS:
        return max((len(answerer.token_ids(option)) for q in queries for option in q.options), default=0)
    return job.generation.max_new_tokens


def _frame(metrics: list[dict[str, Any]]):
    import pandas as pd

    return pd.DataFrame(metrics)


@contextmanager
def _attending(pipe: FlamingoPipeline, attend: str | None) -> Iterator[None]:
    """Temporarily switch which media the text attends to (the "attend: all" ablation)."""
    model = pipe.model
    previous = model.xattn_config
    if attend is not None:
        model.xattn_config = dataclasses.replace(previous, attend=attend)
    try:
        yield
    finally:
        model.xattn_config = previous


def load_media_for(ref: MediaRef, video: VideoSpec) -> Any:
    """A prompt's media item decoded: a PIL image, or a video's frames at the benchmark's rate."""
    return load_media(ref, fps=video.fps, max_frames=video.max_frames)
