"""Resampled visual tokens of media items, computed once and reused.

Demonstrations recur across queries (OpenFlamingo's evaluation draws them from a query set of a few
thousand items and re-encodes them for every query); here each item is decoded, encoded and resampled
once per model. Tokens are keyed by the file's content (sha256) and the frame-sampling settings, kept
in a least-recently-used map bounded in bytes, and, when a directory is given, on disk under the
fingerprint of the model's vision encoder and resampler, so a later run encodes nothing again. Files
are decoded on a few threads, the next chunk's while the encoder runs on this one: at scale, decoding
JPEGs on one CPU core, not the encoder on the GPU, is what vision costs.
"""

from __future__ import annotations

import os
import time
from collections import Counter, OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..benchmark import VideoSpec
from ..data.example import MediaRef
from ..data.media import load_media
from ..errors import MediaError
from ..model.media import MediaBatch
from ..model.pipeline import FlamingoPipeline
from ..storage import EmbeddingCache, file_digest, module_fingerprint


def load_media_for(ref: MediaRef, video: VideoSpec) -> Any:
    """A prompt's media item decoded: a PIL image, or a video's frames sampled as ``video`` says."""
    return load_media(ref, fps=video.fps, max_frames=video.max_frames)


@dataclass
class _Pending:
    """Refs named and their missing items' decoding started (``VisualTokenCache._start``)."""

    keys: list[str]  # every ref's key, in order
    missing: list[str]  # the keys to encode
    loads: list[Future]  # their pixels, decoding on the loader threads


class VisualTokenCache:
    def __init__(
        self,
        pipe: FlamingoPipeline,
        load: Callable[[MediaRef, VideoSpec], Any] = load_media_for,
        *,
        max_bytes: int = 2 * 2**30,
        directory: Path | str | None = None,
        workers: int | None = None,
    ) -> None:
        """``load`` decodes a ref (the default reads images and samples video frames); ``workers``: threads
        that decode files (default: the CPUs, at most 8), so that decoding, not the encoder, is done in
        parallel and ahead of it (JPEG decoding and resizing release the GIL)."""
        self.pipe, self.load, self.max_bytes = pipe, load, max_bytes
        self.workers = workers or min(8, os.cpu_count() or 1)
        self._pool: ThreadPoolExecutor | None = None
        self._in_flight: Counter[str] = Counter()  # keys of started, unfinished calls: never evicted
        self.tokens: OrderedDict[str, torch.Tensor] = OrderedDict()
        self.bytes = 0
        self.encoded = 0  # items encoded so far (the rest were reused)
        self.seconds = 0.0  # spent hashing, decoding, encoding and resampling
        self._digests: dict[tuple, str] = {}  # (path, size, mtime) -> sha256, so a file is read once
        self.failures: dict[str, MediaError] = {}  # key -> why the item cannot be decoded (found by warm / problem)
        self.disk = None
        if directory is not None:
            model = pipe.model
            fingerprint = module_fingerprint(model.vision, "vision") + module_fingerprint(model.perceiver, type(pipe.transform).__name__)
            self.disk = EmbeddingCache(Path(directory), fingerprint[:16], dtype=next(model.perceiver.parameters()).dtype)

    def key(self, ref: MediaRef, video: VideoSpec) -> str:
        """What names an item's visual tokens: its content, the clip, and how its frames are sampled."""
        path = Path(ref.path)
        try:
            st = os.stat(path)
        except OSError as err:
            raise MediaError(f"{path}: cannot read the {ref.kind} ({err.strerror or err})") from None
        memo = (str(path), st.st_size, st.st_mtime_ns)
        if memo not in self._digests:
            self._digests[memo] = file_digest(path)
        frames = f"{video.fps}:{video.max_frames}:{ref.start}:{ref.end}" if ref.kind == "video" else "image"
        return f"{self._digests[memo]}:{frames}"

    def get(self, refs: Sequence[MediaRef], video: VideoSpec) -> list[torch.Tensor]:
        """The (n, d) visual tokens of each ref; missing ones are decoded and encoded together.
        A MediaError from reading or decoding propagates, naming the file."""
        return self._finish(self._start(refs, video))

    def _start(self, refs: Sequence[MediaRef], video: VideoSpec) -> _Pending:
        """Name the refs, take what the disk cache holds, and start decoding the rest on the loader threads."""
        started = time.perf_counter()
        keys = [self.key(ref, video) for ref in refs]
        missing: dict[str, MediaRef] = {}
        for key, ref in zip(keys, refs):
            if key not in self.tokens and key not in missing:
                if self.disk is not None and key in self.disk:
                    self._put(key, self.disk[key].to(self.pipe.device))
                else:
                    missing[key] = ref
        loads = [self._loader().submit(self._pixels, ref, video) for ref in missing.values()]
        self._in_flight.update(keys)
        self.seconds += time.perf_counter() - started
        return _Pending(keys, list(missing), loads)

    def _finish(self, pending: _Pending) -> list[torch.Tensor]:
        """Wait for the decoded pixels, encode them in one call, and return every ref's tokens in order."""
        started = time.perf_counter()
        self._in_flight.subtract(pending.keys)
        self._in_flight += Counter()  # drops the keys no call holds any more
        if pending.missing:
            pixels = [load.result() for load in pending.loads]  # the first bad file's MediaError, if any
            with torch.inference_mode():
                encoded = self.pipe.model.encode_media(pixels)  # (N, n, d)
            for key, tokens in zip(pending.missing, encoded):
                self._put(key, tokens)
                if self.disk is not None:
                    self.disk.put(key, tokens)
            if self.disk is not None:
                self.disk.flush()
            self.encoded += len(pending.missing)
        out = []
        for key in pending.keys:
            self.tokens.move_to_end(key)
            out.append(self.tokens[key])
        self._evict(keep=set(pending.keys) | set(self._in_flight))
        self.seconds += time.perf_counter() - started
        return out

    def _pixels(self, ref: MediaRef, video: VideoSpec) -> torch.Tensor:
        """One item decoded and transformed (on a loader thread: a pure function of the file)."""
        return self.pipe.pixels(self.load(ref, video))

    def _loader(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="media")
        return self._pool

    def warm(self, refs: Sequence[MediaRef], video: VideoSpec, *, chunk: int = 32) -> None:
        """Encode every distinct item of ``refs`` now, ``chunk`` at a time (a demonstration pool once,
        up front); the next chunk's files are decoded while this one is encoded. In a chunk that fails to
        decode, each item is tried alone and the bad ones are remembered (``problem``); the calls that
        need them report the error naming the query."""
        distinct = list(dict.fromkeys(refs))
        parts = [distinct[start : start + chunk] for start in range(0, len(distinct), chunk)]
        upcoming = self._try_start(parts[0], video) if parts else None
        for i, part in enumerate(parts):
            current = upcoming
            upcoming = self._try_start(parts[i + 1], video) if i + 1 < len(parts) else None
            try:
                if current is not None:
                    self._finish(current)
                    continue
            except MediaError:
                pass
            for ref in part:  # a file of this chunk cannot be read or decoded: tell the bad items from the good
                self.problem(ref, video)

    def _try_start(self, refs: Sequence[MediaRef], video: VideoSpec) -> _Pending | None:
        """``_start``, or None when a file cannot even be named (``warm`` then tries each item alone)."""
        try:
            return self._start(refs, video)
        except MediaError:
            return None

    def problem(self, ref: MediaRef, video: VideoSpec) -> MediaError | None:
        """Why ``ref`` cannot be decoded, or None when it can (encoding it now if it is not yet cached).
        A pure function of the file: the answer is remembered."""
        try:
            key = self.key(ref, video)
        except MediaError as err:
            return err
        if key in self.failures or key in self.tokens:
            return self.failures.get(key)
        try:
            self.get([ref], video)
        except MediaError as err:
            self.failures[key] = err
        return self.failures.get(key)

    def _put(self, key: str, tokens: torch.Tensor) -> None:
        self.tokens[key] = tokens
        self.bytes += tokens.numel() * tokens.element_size()

    def _evict(self, keep: set[str]) -> None:
        """Drop the least recently used items beyond the byte bound (never those just asked for)."""
        for key in list(self.tokens):
            if self.bytes <= self.max_bytes:
                break
            if key not in keep:
                t = self.tokens.pop(key)
                self.bytes -= t.numel() * t.element_size()

    def batch(self, per_prompt: Sequence[Sequence[torch.Tensor]]) -> MediaBatch:
        """Each prompt's tokens -> a MediaBatch (a prompt may have none)."""
        return MediaBatch.of_items(per_prompt, num_latents=self.pipe.spec.perceiver.tokens_per_media, dim=self.pipe.model.vision.dim, device=self.pipe.device)
