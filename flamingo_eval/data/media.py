"""Read images and videos from disk into PIL frames, and frames into pixel tensors.

Videos are sampled at a fixed rate (the Flamingo paper uses 1 frame per second); an image is a
one-frame video for the model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import av
import numpy as np
import torch
from PIL import Image

from flamingo_eval.data.example import MediaRef
from flamingo_eval.errors import MediaError

__all__ = ["MediaError", "load_image", "load_media", "sample_video_frames", "frames_to_tensor", "image_to_tensor"]

# Frame times are floats from integer pts; a target time counts as reached within this slack.
_TIME_EPS = 1e-3


def load_image(path: Path | str) -> Image.Image:
    """Read an image file into an RGB PIL image (fully decoded, file closed).

    EXIF orientation is not applied, as in CLIP's own preprocessing.
    Raises ``MediaError`` naming the file when it is missing or not a readable image.
    """
    path = Path(path)
    if not path.is_file():
        raise MediaError(f"image file not found: {path}")
    try:
        with Image.open(path) as image:
            return image.convert("RGB")  # convert() forces the full decode while the file is open
    except Exception as err:  # PIL raises OSError, SyntaxError, struct.error ... for corrupt data
        raise MediaError(f"cannot read image {path}: {type(err).__name__}: {err}") from err


def sample_video_frames(
    path: Path | str,
    *,
    fps: float = 1.0,
    max_frames: int | None = None,
    start: float | None = None,
    end: float | None = None,
) -> list[Image.Image]:
    """Decode a video and sample RGB frames at ``fps`` frames per second.

    Target times are t = 0, 1/fps, 2/fps, ... up to the last frame's time (measured from the first
    frame); each takes the first frame shown at or after t. A frame is returned at most once, so an
    ``fps`` above the video's own rate gives every frame rather than repeats. A video shorter than
    1/fps gives its first frame. If more than ``max_frames`` samples arise, ``max_frames`` of them are
    kept, spread evenly from the first to the last (not the first ``max_frames``).

    ``start`` / ``end`` (seconds on the video's own clock) restrict sampling to a clip of the video.

    Two passes: the first reads only timestamps (packets, no decoding), the second decodes and
    converts only the chosen frames, so a long video never holds more than the output in memory.
    Raises ``MediaError`` naming the file when it is missing, unreadable or has no video frames.
    """
    path = Path(path)
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    if max_frames is not None and max_frames < 1:
        raise ValueError(f"max_frames must be at least 1 or None, got {max_frames}")
    if not path.is_file():
        raise MediaError(f"video file not found: {path}")
    try:
        times = _frame_times(path)
        if not times:
            raise MediaError(f"{path} has no video frames")
        if start is not None or end is not None:
            lo = -np.inf if start is None else start - _TIME_EPS
            hi = np.inf if end is None else end + _TIME_EPS
            times = [t for t in times if lo <= t <= hi]
            if not times:
                raise MediaError(f"{path} has no video frames between {start} s and {end} s")
        wanted = _choose_times(times, fps=fps, max_frames=max_frames)
        frames = _decode_at(path, wanted)
    except (av.error.FFmpegError, OSError) as err:
        raise MediaError(f"cannot read video {path}: {type(err).__name__}: {err}") from err
    if not frames:
        raise MediaError(f"{path} has no video frames (its packets did not decode)")
    return frames


def _frame_times(path: Path) -> list[float]:
    """Sorted presentation times (seconds) of the first video stream's frames; [] without one.

    Read from packet timestamps without decoding; a stream lacking them is decoded once instead.
    """
    with av.open(str(path)) as container:
        if not container.streams.video:
            return []
        stream = container.streams.video[0]
        base = stream.time_base
        # size 0: the demuxer's end marker; discard: pre-roll packets the decoder will not show
        pts = [p.pts for p in container.demux(stream) if p.size and not p.is_discard]
        if pts and all(p is not None for p in pts):
            return sorted(float(p * base) for p in pts)
    with av.open(str(path)) as container:
        return [t for t, _ in _decoded(container)]


def _decoded(container: av.container.InputContainer) -> Iterator[tuple[float, av.VideoFrame]]:
    """Yield ``(time, frame)`` for each decoded frame of the first video stream, in display order.

    A frame without a timestamp gets the next time at the stream's average rate (or +1/25 s).
    """
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"  # multi-threaded decoding; frames still come out in order
    step = 1.0 / float(stream.average_rate) if stream.average_rate else 1.0 / 25
    last = None
    for frame in container.decode(stream):
        time = frame.time if frame.time is not None else (0.0 if last is None else last + step)
        last = time
        yield time, frame


def _choose_times(times: Sequence[float], *, fps: float, max_frames: int | None) -> list[float]:
    """Pick the frame times to keep from sorted ``times`` (see ``sample_video_frames``)."""
    start = times[0]
    rel = np.asarray(times, dtype=np.float64) - start  # seconds since the first frame
    count = int(np.floor(rel[-1] * fps + _TIME_EPS)) + 1  # targets 0, 1/fps, ... within the video
    targets = np.arange(count) / fps
    # for each target, the first frame at or after it (always exists: targets stop at the last frame)
    picked = np.searchsorted(rel, targets - _TIME_EPS, side="left")
    picked = np.unique(np.minimum(picked, len(rel) - 1))  # a frame at most once, in order
    if max_frames is not None and len(picked) > max_frames:
        spread = np.round(np.linspace(0, len(picked) - 1, max_frames)).astype(int)  # first..last, even
        picked = picked[spread]
    return [float(times[i]) for i in picked]


def _decode_at(path: Path, wanted: Sequence[float]) -> list[Image.Image]:
    """Decode the video and convert the first frame at or after each of the sorted ``wanted`` times."""
    frames: list[Image.Image] = []
    index = 0
    with av.open(str(path)) as container:
        for time, frame in _decoded(container):
            if index == len(wanted):
                break  # the rest of the video is not needed
            if time >= wanted[index] - _TIME_EPS:
                frames.append(frame.to_image())  # RGB PIL image
                index += 1
                # skip wanted times this frame already covers (only if decoded times differ from pass 1)
                while index < len(wanted) and wanted[index] <= time + _TIME_EPS:
                    index += 1
    return frames


def load_media(ref: MediaRef, *, fps: float = 1.0, max_frames: int | None = None) -> Image.Image | list[Image.Image]:
    """A media reference -> a PIL image, or a video's frames sampled at ``fps`` (within its clip)."""
    if ref.kind == "image":
        return load_image(ref.path)
    return sample_video_frames(ref.path, fps=fps, max_frames=max_frames, start=ref.start, end=ref.end)


def frames_to_tensor(frames: Sequence[Image.Image], transform: Callable[[Image.Image], torch.Tensor]) -> torch.Tensor:
    """PIL frames -> (F, 3, H, W) pixels, each frame through ``transform`` (an ``ImageTransform``)."""
    if not frames:
        raise ValueError("frames_to_tensor needs at least one frame")
    return torch.stack([transform(frame) for frame in frames])  # (F, 3, H, W)


def image_to_tensor(image: Image.Image, transform: Callable[[Image.Image], torch.Tensor]) -> torch.Tensor:
    """One PIL image -> (1, 3, H, W): an image is a one-frame video for the model."""
    return frames_to_tensor([image], transform)  # (1, 3, H, W)
