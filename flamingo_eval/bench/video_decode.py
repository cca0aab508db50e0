"""How fast a clip is sampled at 1 FPS: ``python -m flamingo_eval.bench.video_decode`` prints JSON.

Writes 30-s 25-fps 320x240 H.264 clips (moving shapes over a textured background, so the encoder
makes ordinary P and B frames) with a given key-frame interval (GOP) to a temporary folder, samples
each the way benchmarks do (1 FPS, at most 30 frames) and reports the seconds per clip and the
sampled frames per second, median of a few runs. ``--baseline FILE`` times another version of
``flamingo_eval/data/media.py`` on the same clips (e.g. the one before seeking, from
``git show <commit>:flamingo_eval/data/media.py > /tmp/media_before.py``) and checks that both give
identical frames. The numbers in docs/benchmarks.md were made this way.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import av
import numpy as np
from PIL import Image

from ..data import media

Sampler = Callable[..., list[Image.Image]]


def write_clip(path: Path, *, seconds: float = 30.0, rate: int = 25, size: tuple[int, int] = (320, 240),
               gop: int | None = None) -> Path:
    """Write an H.264 mp4 (libx264, its default settings apart from ``gop``: the key-frame interval;
    None keeps x264's default of 250) of ``seconds * rate`` frames. Out: ``path``."""
    width, height = size
    rng = np.random.default_rng(0)
    texture = rng.integers(0, 64, (height, width, 3), dtype=np.uint8)  # fixed grain: content to encode
    ys, xs = np.mgrid[0:height, 0:width]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if gop is not None:
            stream.gop_size = gop
        for i in range(round(seconds * rate)):
            t = i / rate
            frame = texture + np.uint8(96)
            frame[..., 0] += ((xs + 40 * t) % width * 90 // width).astype(np.uint8)  # a drifting gradient
            cx, cy = int(width / 2 + width / 3 * np.sin(t)), int(height / 2 + height / 3 * np.cos(0.7 * t))
            frame[max(cy - 20, 0) : cy + 20, max(cx - 20, 0) : cx + 20] = (230, 40, 40)  # a moving square
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode(None):  # flush the encoder
            container.mux(packet)
    return path


def time_samplers(samplers: dict[str, Sampler], path: Path, *, fps: float, max_frames: int,
                  repeats: int) -> tuple[dict[str, dict[str, Any]], dict[str, list[np.ndarray]]]:
    """Time each ``sample(path, fps=..., max_frames=...)`` ``repeats`` times, taking turns (so a busy
    shared machine slows each alike), after one warm-up run each (file cache, codec set-up).
    Out: per sampler, the median seconds per clip and sampled frames per second; and its frames."""
    frames = {name: [np.asarray(f) for f in sample(path, fps=fps, max_frames=max_frames)] for name, sample in samplers.items()}
    seconds: dict[str, list[float]] = {name: [] for name in samplers}
    for _ in range(repeats):
        for name, sample in samplers.items():
            start = time.perf_counter()
            sample(path, fps=fps, max_frames=max_frames)
            seconds[name].append(time.perf_counter() - start)
    figures = {}
    for name, runs in seconds.items():
        median = statistics.median(runs)
        figures[name] = {"seconds_per_clip": round(median, 4), "frames_per_s": round(len(frames[name]) / median, 1),
                         "frames": len(frames[name])}
    return figures, frames


def load_media_module(path: Path) -> ModuleType:
    """Import a media.py file under its own name (another version of ``flamingo_eval.data.media``)."""
    spec = importlib.util.spec_from_file_location("media_baseline", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(*, gops: Sequence[int | None], seconds: float, rate: int, size: tuple[int, int], fps: float, max_frames: int,
        repeats: int, baseline: Path | None) -> dict[str, Any]:
    """Write a clip per GOP, time this version's sampler (and ``baseline``'s) on it. Out: the report."""
    before = load_media_module(baseline) if baseline is not None else None
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for gop in gops:
            path = write_clip(Path(folder) / f"clip-gop{gop or 'default'}.mp4", seconds=seconds, rate=rate, size=size, gop=gop)
            times, keyframes = media._frame_times(path)
            row: dict[str, Any] = {"gop": gop or "x264 default (250)", "frames_in_clip": len(times), "key_frames": len(keyframes)}
            samplers = {"after": media.sample_video_frames}
            if before is not None:
                samplers["before"] = before.sample_video_frames
            figures, frames = time_samplers(samplers, path, fps=fps, max_frames=max_frames, repeats=repeats)
            row.update(figures)
            if before is not None:
                row["identical_frames"] = len(frames["before"]) == len(frames["after"]) and all(
                    np.array_equal(a, b) for a, b in zip(frames["before"], frames["after"]))
                row["speed_up"] = round(row["before"]["seconds_per_clip"] / row["after"]["seconds_per_clip"], 2)
            results.append(row)
    return {
        "command": " ".join(["python -m flamingo_eval.bench.video_decode", *sys.argv[1:]]),
        "clip": {"seconds": seconds, "fps": rate, "size": f"{size[0]}x{size[1]}", "codec": "libx264 (mp4)"},
        "sampling": {"fps": fps, "max_frames": max_frames, "repeats": repeats, "statistic": "median"},
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(),
                    "python": platform.python_version(), "pyav": av.__version__,
                    "omp_num_threads": os.environ.get("OMP_NUM_THREADS")},
        "results": results,
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gop", type=int, nargs="+", default=[12, 25, 0], help="key-frame intervals; 0: x264's default (250)")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rate", type=int, default=25)
    parser.add_argument("--size", default="320x240")
    parser.add_argument("--fps", type=float, default=1.0, help="sampling rate")
    parser.add_argument("--max-frames", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--baseline", type=Path, default=None, help="another media.py to time on the same clips")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    report = run(gops=[g or None for g in args.gop], seconds=args.seconds, rate=args.rate, size=(width, height), fps=args.fps,
                 max_frames=args.max_frames, repeats=args.repeats, baseline=args.baseline)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
