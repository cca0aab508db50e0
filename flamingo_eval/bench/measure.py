"""Measuring instruments for the benchmarks: peak memory of a code section, the machine's matmul
throughput, and the FLOPs a piece of work performs."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import torch

T = TypeVar("T")


def current_rss_mb() -> float:
    """Resident memory of this process now (Linux /proc)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


class PeakRSS:
    """Samples this process's resident memory every ``interval`` seconds while the block runs; ``.mb``
    is the highest value seen (the model loaded before the block counts: it is resident)."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval, self.mb = interval, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.mb = max(self.mb, current_rss_mb())
            time.sleep(self.interval)

    def __enter__(self) -> "PeakRSS":
        self.mb = current_rss_mb()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.mb = max(self.mb, current_rss_mb())


def matmul_peak_flops(*, size: int = 2048, repeats: int = 5, device: str = "cpu", dtype: torch.dtype = torch.float32) -> float:
    """The best FLOP/s of a (size x size) @ (size x size) matmul over ``repeats`` runs after a warm-up:
    the machine's practical peak for dense arithmetic, with the threads this process uses."""
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    best = float("inf")
    for i in range(repeats + 1):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        a @ b
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        if i:  # the first run warms up
            best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


def count_flops(fn: Callable[[], T]) -> tuple[T, int]:
    """Run ``fn`` once under PyTorch's FLOP counter (matmuls, convolutions, attention); returns its
    result and the FLOPs counted. Slow: use on a copy of the work, never inside a timed section."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        result = fn()
    return result, int(counter.get_total_flops())


def synchronize(device: str) -> None:
    """Wait for the device's queued work (CUDA runs asynchronously: a timer must not stop before it ends)."""
    if str(device).startswith("cuda"):
        torch.cuda.synchronize(device)


class DeviceMemory:
    """Peak memory the CUDA allocator handed out while the block ran (``.mb``); None on other devices,
    whose memory ``PeakRSS`` measures."""

    def __init__(self, device: str) -> None:
        self.cuda, self.device, self.mb = str(device).startswith("cuda"), device, None

    def __enter__(self) -> "DeviceMemory":
        if self.cuda:
            torch.cuda.reset_peak_memory_stats(self.device)
        return self

    def __exit__(self, *exc) -> None:
        if self.cuda:
            self.mb = round(torch.cuda.max_memory_allocated(self.device) / 2**20)
