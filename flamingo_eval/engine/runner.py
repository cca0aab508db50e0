"""The run loop: every variant x benchmark x trial x shot count, batched, resumable, recorded.

Three steps with plain data between them. Planning (``planning.py``, ``preflight.py``): each
benchmark's data is read and checked, every job's queries and this process's share are fixed, and every
prompt is checked against the LM's context, before anything is answered. Answering: for each job the
demonstrations of every query are chosen from (seed, trial, query id) and the data alone
(``demonstrations.py``), the model answers in length-sorted batches (``batch.py``), and each batch's
predictions are appended to ``predictions.jsonl`` and flushed before the next begins. Finishing
(``finish.py``): the metrics from the predictions file alone, so an interrupted and resumed run ends
exactly as an uninterrupted one.

Under torchrun (engine/distributed.py) every rank walks the same loop but answers only the prompts it
owns, by position in the run's fixed order, appending to its own predictions shard; rank 0 prepares the
folder first and, once every rank is through, merges the shards and computes the metrics.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..benchmark import BenchmarkSpec, get_benchmark
from ..data.example import Example
from ..errors import SpecError
from ..prompting.builder import demonstrations_for
from ..prompting.render import load_template
from . import distributed, preflight
from .answering import plan_batches
from .batch import CHOICE_TASKS, answer_batch
from .demonstrations import PromptPlanner
from .distributed import World, gather, on_main
from .finish import finish, primary_metrics, write_page
from .planning import BenchmarkSetup, JobPlan, ensure_generated, plan_jobs, set_up
from .resources import Resources
from ..storage import write_json
from .results import ResultsFolder, SkipLog, prediction_key
from .run_record import run_identity, run_record
from .settings import BASELINE, Job, RunSettings, Variant, resolve_job


class Progress:
    """Callbacks the runner reports to (the CLI draws rich progress bars; the API stays silent)."""

    def start(self, label: str, total: int, done: int) -> None: ...

    def advance(self, label: str, count: int) -> None: ...


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


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
        self.resources = Resources(settings)
        self.skips = SkipLog(self.folder)  # skipped.jsonl: bad records, media and pool items
        self.setups: dict[str, BenchmarkSetup] = {}
        self._planners: dict[tuple[str, str, int], PromptPlanner] = {}

    def run(self) -> list[dict[str, Any]]:
        """Evaluate everything not already in the results folder; returns the metrics rows (under torchrun:
        this rank's share, and every rank returns the metrics rank 0 computed)."""
        started = now()
        jobs = [resolve_job(self.settings, v, spec) for v in self.variants for spec in self.specs.values()]
        with distributed.session(self.world, self.settings.device):
            for spec in self.specs.values():  # data written if generated and missing, then checked, before any model loads
                on_main(self.world, lambda: ensure_generated(spec, self.settings.data_root))
                self.setups[spec.name] = set_up(spec, self.settings)
            identity = run_identity(self.settings, self.variants, self.specs, {n: s.fingerprint for n, s in self.setups.items()})
            plans = plan_jobs(jobs, self.setups, self.settings, self.world)
            # rank 0 alone checks the folder and repairs cut-off lines, before any rank reads or appends
            on_main(self.world, lambda: self._prepare(identity, started))
            for plan in plans:
                self._check_lengths(plan)
            done = {prediction_key(r) for r in self.folder.read_predictions()}
            written: list[tuple] = []  # the keys this process appended, checked by rank 0 at the end
            for plan in plans:
                written.extend(self._answer(plan, done))
            everyone = gather(self.world, written)  # rank 0 waits here for every rank's share
            return on_main(self.world, lambda: self._finish(identity, started, everyone))

    def _prepare(self, identity: dict[str, Any], started: str) -> None:
        self.folder.open(identity)
        self._write_run_json(identity, started, finished=None)
        self.skips.load()
        for name, setup in self.setups.items():  # records the readers left out (--skip-bad)
            self.skips.add([{"variant": None, "benchmark": name, "shots": None, "trial": None, "id": s.id,
                             "file": s.file, "reason": s.reason} for s in setup.data.skipped])

    def _finish(self, identity: dict[str, Any], started: str, written: list[list[tuple]]) -> list[dict[str, Any]]:
        metrics = finish(self.folder, self.specs, variants=[v.name for v in self.variants], shots=self.settings.shots,
                         queries={name: setup.data.eval for name, setup in self.setups.items()}, written=written)
        self._write_run_json(identity, started, finished=now(), per_rank=[len(keys) for keys in written])
        if metrics:
            write_page(self.folder, {name: (setup.data.pool, setup.data.eval) for name, setup in self.setups.items()})
        return metrics

    def _planner(self, job: Job, trial: int) -> PromptPlanner:
        """One planner per (job, trial), shared by the length check and the answering: its selector (a
        RICES pool embedding) is built, and its unreadable pool items recorded, once."""
        key = (job.variant, job.benchmark.name, trial)
        if key not in self._planners:
            self._planners[key] = self._new_planner(job, trial)
        return self._planners[key]

    def _new_planner(self, job: Job, trial: int) -> PromptPlanner:
        spec, setup = job.benchmark, self.setups[job.benchmark.name]
        return PromptPlanner(
            benchmark=spec.name, variant=job.variant, pool=setup.data.pool, selection=job.selection,
            seed=self.settings.seed, trial=trial, query_set_size=job.query_set_size,
            embedder=self.resources.embedder(job.selection, job.model),
            template=load_template(job.template, separator=spec.prompt.separator), zero_shot_text_demos=job.zero_shot_text_demos,
            duplicates=setup.duplicates, skips=self.skips,
            cache=self.resources.visual_cache(job.model) if self.settings.skip_bad else None, video=job.video,
        )

    def _check_lengths(self, plan: JobPlan) -> None:
        """Before anything is answered: every trial's prompts at the most demonstrations must fit the LM."""
        job = plan.job
        pipe, answerer = self.resources.model(job.model), self.resources.answerer(job.model)
        most = max(self.settings.shots, key=lambda s: demonstrations_for(s, job.zero_shot_text_demos)[0])
        for trial, queries in enumerate(plan.per_trial):
            prompts = self._planner(job, trial).prompts(queries, most, replace_bad=False)
            preflight.check_prompt_length(
                benchmark=job.benchmark.name, shots=most, trial=trial, query_ids=[p.query_id for p in prompts],
                lengths=[len(answerer.token_ids(p.text)) for p in prompts], new_tokens=_new_tokens(job, queries, answerer),
                context=pipe.context_length, model=job.model)

    def _answer(self, plan: JobPlan, done: set[tuple]) -> list[tuple]:
        """Answer a job's owned prompts not yet in ``done`` (updated); returns the keys appended."""
        job, name = plan.job, plan.job.benchmark.name
        pipe, answerer, cache = self.resources.model(job.model), self.resources.answerer(job.model), self.resources.visual_cache(job.model)
        label = f"{job.variant}/{name}" if len(self.variants) > 1 else name
        self.progress.start(label, len(plan.owned), sum(1 for k in plan.owned if (job.variant, name, *k) in done))
        written = []
        for trial, queries in enumerate(plan.per_trial):
            planner = self._planner(job, trial)
            by_id = {q.id: q for q in queries}
            for shots in self.settings.shots:
                wanted = [q for q in queries if (shots, trial, q.id) in plan.owned and (job.variant, name, shots, trial, q.id) not in done]
                todo = planner.prompts(wanted, shots)
                cache.warm([ref for p in todo for ref in p.media], job.video)
                ids = [answerer.token_ids(p.text) for p in todo]
                # length-sorted batches: little padding (the order of predictions.jsonl does not matter)
                budget = self.resources.token_budget(job.model, job.generation.num_beams)
                for group in plan_batches([len(r) for r in ids], batch_size=self.settings.batch_size, token_budget=budget):
                    rows = answer_batch(job, [todo[i] for i in group], by_id, [ids[i] for i in group], pipe=pipe, cache=cache,
                                        answerer=answerer, skips=self.skips if self.settings.skip_bad else None,
                                        shots=shots, trial=trial, seed=self.settings.seed)
                    self.folder.append(self.folder.own_predictions, rows)
                    keys = [prediction_key(r) for r in rows]
                    done.update(keys)
                    written.extend(keys)
                    self.progress.advance(label, len(group))
        return written

    def primary_metrics(self) -> dict[str, str]:
        return primary_metrics(self.specs)

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


def _new_tokens(job: Job, queries: Sequence[Example], answerer) -> int:
    """Tokens a job adds after its prompts: the generated ones, or the longest option (choice tasks)."""
    if job.benchmark.task in CHOICE_TASKS:
        # distinct option lists first: ImageNet's 1,000 class names are one tuple shared by every query
        options = {option for choices in {q.options for q in queries} for option in choices}
        return max((len(answerer.token_ids(option)) for option in options), default=0)
    return job.generation.max_new_tokens
