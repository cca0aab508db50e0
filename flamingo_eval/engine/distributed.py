"""Several processes under torchrun: which process this is, the process group, and whose queries are whose.

A run started by ``torchrun --nproc_per_node=N -m flamingo_eval run ...`` sees ``WORLD_SIZE`` and ``RANK``
in its environment; only then is a process group made (NCCL when the run's device is a GPU, gloo
otherwise), so a plain ``flamingo-eval run`` needs no launcher and no ``MASTER_ADDR``. The ranks never
exchange predictions through the group: each appends to its own file in the (shared) results folder,
and the group only carries rank 0's verdicts (which the others wait for) and the keys each rank wrote.

Which rank answers a query is a pure function of its position in the run's fixed order of prompts
(position modulo the world size), never of what is already done: every rank reaches the same answer on
its own, whatever the others have read, so no query is lost or answered twice when a run is resumed,
with the same number of ranks or another.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Container, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from ..errors import FlamingoEvalError

T = TypeVar("T")

# At the end every rank waits for the slowest, and a resumed run can leave one rank hours more work than another
# (its share was not done yet); the default timeouts (10-30 min) would kill such a run for nothing. A rank
# that dies is noticed by torchrun, which stops the others, so a long timeout does not leave a run hanging.
TIMEOUT = timedelta(hours=24)


class DistributedError(FlamingoEvalError):
    """A torchrun environment or a multi-process run that cannot go on."""


@dataclass(frozen=True)
class World:
    """This process's place among the run's processes: ``rank`` of ``size`` (``local_rank`` on its node)."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> World:
        """Read torchrun's ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK`` from ``env`` (default: os.environ);
        a single process (no such variables, or a world of one) is ``World()``."""
        env = os.environ if env is None else env
        try:
            size = int(env.get("WORLD_SIZE", "1"))
            if size <= 1:
                return cls()
            rank = int(env["RANK"])
            local_rank = int(env.get("LOCAL_RANK", rank))
        except (KeyError, ValueError) as err:
            raise DistributedError(f"WORLD_SIZE is set but RANK/LOCAL_RANK are missing or not integers ({err}); "
                                   "start several processes with torchrun") from None
        if not 0 <= rank < size:
            raise DistributedError(f"RANK {rank} is outside WORLD_SIZE {size}")
        return cls(rank, size, local_rank)

    @property
    def distributed(self) -> bool:
        return self.size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0 writes run.json and metrics.json, prints, and repairs files before the others read them."""
        return self.rank == 0

    def owns(self, position: int) -> bool:
        """Whether the prompt at ``position`` in the run's fixed order is this rank's to answer."""
        return position % self.size == self.rank


def backend_for(device: str) -> str:
    """NCCL for a GPU run, gloo for a CPU one (``device`` as in RunSettings: cpu, cuda, cuda:1, ...)."""
    return "nccl" if device.startswith("cuda") else "gloo"


@contextmanager
def session(world: World, device: str) -> Iterator[None]:
    """Make the process group for a torchrun run (nothing for a single process) and destroy it on the way
    out. A group the caller already made is used as it is and left alone. With ``device`` "cuda" each rank
    takes the GPU numbered by its LOCAL_RANK, so ``--device cuda`` means one GPU per process."""
    import torch
    import torch.distributed as dist

    if not world.distributed or dist.is_initialized():
        yield
        return
    backend = backend_for(device)
    options: dict[str, Any] = {}
    if backend == "nccl":  # the group's objects travel through the current GPU: make it this rank's
        gpu = torch.device(device if ":" in device else f"cuda:{world.local_rank}")
        torch.cuda.set_device(gpu)
        options["device_id"] = gpu
    dist.init_process_group(backend, rank=world.rank, world_size=world.size, timeout=TIMEOUT, **options)
    try:
        yield
    finally:
        dist.destroy_process_group()


def on_main(world: World, work: Callable[[], T]) -> T:
    """Run ``work`` on rank 0 alone and hand its result, or its error, to every rank, so that the others
    neither wait forever for a rank 0 that failed nor go on past a check it refused."""
    result: Any = None
    error: BaseException | None = None
    if world.is_main:
        try:
            result = work()
        except Exception as err:  # handed on below, and raised again here
            error = err
    if world.distributed:
        import torch.distributed as dist

        sent = [result, _portable(error)]
        dist.broadcast_object_list(sent, src=0)
        result, shared = sent
        error = error if world.is_main else shared
    if error is not None:
        raise error
    return result


def gather(world: World, item: T) -> list[T]:
    """Every rank's ``item`` in rank order, on rank 0 (an empty list elsewhere); ``[item]`` in a single process."""
    if not world.distributed:
        return [item]
    import torch.distributed as dist

    items: list[Any] | None = [None] * world.size if world.is_main else None
    dist.gather_object(item, items, dst=0)
    return list(items or [])


def check_visible(written: Sequence[Sequence[tuple]], present: Container[tuple], folder: Path) -> None:
    """Refuse to score when keys a rank wrote (``written``: per rank) are not among the predictions rank 0
    reads (``present``): that rank wrote into another folder, e.g. a local --out on another machine."""
    for rank, keys in enumerate(written):
        missing = sum(1 for key in keys if key not in present)
        if missing:
            raise DistributedError(f"rank {rank} wrote {missing} predictions that rank 0 cannot read in {folder}; "
                                   "with several machines, --out must be a folder every node shares")


def mine(items: Sequence[T], world: World, start: int = 0) -> list[T]:
    """The items this rank answers, when the first sits at position ``start`` of the run's fixed order."""
    return [item for position, item in enumerate(items, start) if world.owns(position)]


def shard_name(stem: str, world: World) -> str:
    """The file rank r of N appends to, e.g. ``predictions.rank1-of-4.jsonl``; ``stem.jsonl`` alone."""
    return f"{stem}.rank{world.rank}-of-{world.size}.jsonl" if world.distributed else f"{stem}.jsonl"


def _portable(error: BaseException | None) -> BaseException | None:
    """An error that survives pickling to the other ranks: ours as it is, any other as its text."""
    if error is None or isinstance(error, FlamingoEvalError):
        return error
    return DistributedError(f"rank 0 failed: {type(error).__name__}: {error}")
