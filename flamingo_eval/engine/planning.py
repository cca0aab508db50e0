"""Planning a run before it answers anything: each benchmark's data read and checked once, each job's
queries per trial, and which prompts this process answers, all as plain data.

Ownership under torchrun is decided here, for every job at once, by position in the run's fixed order
(jobs, then trials, then shot counts, then queries), never by what is already done: ranks need not
agree on that, and no counter is carried from one job to the next.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from ..benchmark import BenchmarkSpec
from ..data.example import Example
from ..data.splits import BenchmarkData, load_benchmark_data
from ..errors import DataError
from ..prompting.selection import stable_seed
from . import distributed, preflight, provenance
from .distributed import World
from .settings import Job, RunSettings, read_id_list


def eval_subset(examples: Sequence[Example], num_samples: int | None, seed: int, trial: int, benchmark: str) -> list[Example]:
    """A seeded random subset of the queries (OpenFlamingo's ``num_samples``), in split order."""
    if num_samples is None or num_samples >= len(examples):
        return list(examples)
    chosen = set(random.Random(stable_seed(seed, trial, "num_samples", benchmark)).sample(range(len(examples)), num_samples))
    return [ex for i, ex in enumerate(examples) if i in chosen]


@dataclass(frozen=True)
class BenchmarkSetup:
    """A benchmark's data, read and checked once (``preflight``)."""

    data: BenchmarkData
    duplicates: dict[str, frozenset[str]]  # query id -> pool ids identical to it in content
    fingerprint: str  # of the data files, part of the run's identity


def set_up(spec: BenchmarkSpec, settings: RunSettings) -> BenchmarkSetup:
    """Read both splits and check them: a split with no queries is an error; pool items identical to a
    query are noted; the data's fingerprint is taken. Reading never writes: a generated benchmark's
    files must exist (``ensure_generated`` is the explicit step that writes them)."""
    data = load_benchmark_data(spec, settings.data_root, skip_bad=settings.skip_bad)
    preflight.require_queries(spec.name, data.eval, skipped=len(data.skipped), entry=spec.data.eval)
    root = spec.data_root(settings.data_root)
    return BenchmarkSetup(
        data=data,
        duplicates=preflight.content_duplicates(data.pool, data.eval),
        fingerprint=preflight.data_fingerprint(root, provenance.data_files(spec, root), (data.pool, data.eval)),
    )


@dataclass(frozen=True)
class JobPlan:
    """One job's queries per trial and the (shots, trial, query id) this process answers."""

    job: Job
    per_trial: list[list[Example]]
    owned: frozenset[tuple[int, int, str]]


def trial_queries(examples: Sequence[Example], settings: RunSettings, trial: int, benchmark: str,
                  listed: frozenset[str] | None = None) -> list[Example]:
    """The queries of one trial, in split order: those ``listed`` (``--ids``), the first ``limit``, a
    seeded random ``num_samples`` subset (a new one per trial), or all."""
    if listed is not None:
        return [ex for ex in examples if ex.id in listed]
    if settings.limit is not None:
        return list(examples[: settings.limit])
    return eval_subset(examples, settings.num_samples, settings.seed, trial, benchmark)


def listed_ids(settings: RunSettings, setups: dict[str, BenchmarkSetup]) -> frozenset[str] | None:
    """The ``--ids`` file's ids (None without one); DataError naming the file and line of an id that no
    benchmark of the run has (a typo would otherwise shrink the run without a word)."""
    if settings.ids is None:
        return None
    lines = read_id_list(settings.ids)
    known = {ex.id for setup in setups.values() for ex in setup.data.eval}
    for number, qid in lines:
        if qid not in known:
            raise DataError(f"{settings.ids}: line {number}: query id {qid!r} is in none of the evaluated splits "
                            f"({', '.join(setups)})")
    return frozenset(qid for _, qid in lines)


def plan_jobs(jobs: Sequence[Job], setups: dict[str, BenchmarkSetup], settings: RunSettings, world: World) -> list[JobPlan]:
    """Every job's plan, with ownership by position in the run's fixed order (see the module's docstring)."""
    plans, start = [], 0
    listed = listed_ids(settings, setups)
    for job in jobs:
        name = job.benchmark.name
        per_trial = [trial_queries(setups[name].data.eval, settings, t, name, listed) for t in range(settings.trials)]
        order = [(shots, trial, q.id) for trial, queries in enumerate(per_trial) for shots in settings.shots for q in queries]
        plans.append(JobPlan(job=job, per_trial=per_trial, owned=frozenset(distributed.mine(order, world, start))))
        start += len(order)
    return plans


def ensure_generated(spec: BenchmarkSpec, data_root: str | None) -> None:
    """Write a generated benchmark's files (``data.generate: demo``) when they are missing: the one
    explicit step that writes data, taken before anything reads it."""
    if spec.data.generate is None:
        return
    root = spec.data_root(data_root)
    if not root.exists():
        from ..demo import generate  # the only generator: the built-in demo suite

        generate(root.parent)
