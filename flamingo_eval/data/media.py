"""Read images and videos from disk into PIL frames, and frames into pixel tensors.

Videos are sampled at a fixed rate (the Flamingo paper uses 1 frame per second); an image is a
one-frame video for the model.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import av
import numpy as np
from PIL import Image

from flamingo_eval.data.example import MediaRef
from flamingo_eval.errors import MediaError

if TYPE_CHECKING:  # reading data needs no torch; only the two *_to_tensor helpers below make tensors
    import torch

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
        raise MediaError(f"image file {path} is a folder, not a file" if path.is_dir() else f"image file not found: {path}")
    try:
        with Image.open(path) as image:
            return _to_rgb(image, path)  # decodes fully while the file is open
    except MediaError:
        raise
    except Exception as err:  # PIL raises OSError, SyntaxError, struct.error ... for corrupt data
        raise MediaError(f"cannot read image {path}: {type(err).__name__}: {err}") from err


# PIL modes holding integer samples wider than 8 bits: 16-bit grayscale PNG / TIFF / PGM open as these
_WIDE_INTEGER_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")


def _to_rgb(image: Image.Image, path: Path) -> Image.Image:
    """An opened image as 8-bit RGB, its brightness kept whatever the sample depth.

    ``convert("RGB")`` is right for 8-bit modes (L, LA, 1, P, RGBA, CMYK: what CLIP's and OpenFlamingo's
    preprocessing do), but clips wider samples at 255, so a 16-bit grayscale image came out all white;
    those are scaled by 255/65535 (value / 257, rounded), the exact inverse of how 8-bit is widened to
    16. Float images ("F") carry no convention for their range (0..1? 0..255? physical units?), so
    they are refused rather than guessed at.
    """
    if image.mode in _WIDE_INTEGER_MODES:
        values = np.asarray(image).astype(np.int64)  # mode "I" is 32-bit: as 16-bit samples only in 0..65535
        if values.size and (values.min() < 0 or values.max() > 65535):
            raise MediaError(f"{path}: {image.mode} image with values {values.min()}..{values.max()}, outside the "
                             "16-bit range 0..65535; convert it to an 8- or 16-bit image")
        eight = ((values + 128) // 257).astype(np.uint8)  # round(v / 257): no ties, 257 is odd
        return Image.fromarray(eight, mode="L").convert("RGB")
    if image.mode == "F":
        raise MediaError(f"{path}: a 32-bit float image (PIL mode F) has no standard brightness range; "
                         "convert it to an 8- or 16-bit image")
    if image.mode == "P" and "transparency" in image.info:
        # through RGBA: PIL warns when converting a palette with transparency bytes straight to RGB;
        # the colour channels are the same either way (the alpha is dropped, as for RGBA images)
        return image.convert("RGBA").convert("RGB")
    return image.convert("RGB")


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
    kept, spread evenly from the first to the last (not the first ``max_frames``); with
    ``max_frames=1`` the one kept is the middle sample (evenly spread, one sample sits at the centre).

    ``start`` / ``end`` (seconds on the video's own clock) restrict sampling to a clip of the video.

    Two passes: the first reads only timestamps (packets, no decoding), the second decodes and
    converts only the chosen frames, so a long video never holds more than the output in memory. The
    second pass seeks to the key frame before a chosen frame instead of decoding every frame up to it,
    where the container's key frames allow; the frames are the same as decoding every frame.
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
        times, keyframes = _frame_times(path)
        if not times:
            raise MediaError(f"{path} has no video frames")
        if start is not None or end is not None:
            lo = -np.inf if start is None else start - _TIME_EPS
            hi = np.inf if end is None else end + _TIME_EPS
            clip = [t for t in times if lo <= t <= hi]
            if not clip:
                raise MediaError(f"{path} has no video frames between {start} s and {end} s")
        else:
            clip = times
        wanted = _choose_times(clip, fps=fps, max_frames=max_frames)
        frames = _decode_at(path, wanted, keyframes, times)
    except (av.error.FFmpegError, OSError) as err:
        raise MediaError(f"cannot read video {path}: {type(err).__name__}: {err}") from err
    if not frames:
        raise MediaError(f"{path} has no video frames (its packets did not decode)")
    return frames


class KeyFrame(NamedTuple):
    """A key frame of a video stream: where decoding can start without any earlier frame."""

    time: float  # presentation time in seconds, on the same clock as the frame times
    pts: int  # the same time in the stream's time base, as ``container.seek`` takes it


def _frame_times(path: Path) -> tuple[list[float], list[KeyFrame]]:
    """Sorted presentation times (seconds) of the first video stream's frames, and its key frames
    (sorted); ``([], [])`` without a video stream.

    Read from packet timestamps without decoding; a stream lacking them is decoded once instead, and
    then has no key-frame list (the second pass decodes every frame).
    """
    with av.open(str(path)) as container:
        if not container.streams.video:
            return [], []
        stream = container.streams.video[0]
        base = stream.time_base
        # size 0: the demuxer's end marker; discard: pre-roll packets the decoder will not show
        packets = [(p.pts, p.is_keyframe) for p in container.demux(stream) if p.size and not p.is_discard]
        if packets and base is not None and all(pts is not None for pts, _ in packets):
            times = sorted(float(pts * base) for pts, _ in packets)
            keyframes = sorted(KeyFrame(float(pts * base), pts) for pts, key in packets if key)
            return times, keyframes
    with av.open(str(path)) as container:
        return [t for t, _ in _decoded(container)], []


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
    if max_frames == 1 and len(picked) > 1:
        picked = picked[[(len(picked) - 1) // 2]]  # one frame: the middle sample (the earlier of two)
    elif max_frames is not None and len(picked) > max_frames:
        spread = np.round(np.linspace(0, len(picked) - 1, max_frames)).astype(int)  # first..last, even
        picked = picked[spread]
    return [float(times[i]) for i in picked]


def _decode_at(
    path: Path, wanted: Sequence[float], keyframes: Sequence[KeyFrame] = (), times: Sequence[float] = ()
) -> list[Image.Image]:
    """Convert the first frame at or after each of the sorted ``wanted`` times (frame times of the
    first pass, among all its frame ``times``), seeking past the frames between them where
    ``keyframes`` allow (``_seek_plan``).

    A seek that does not land where the key frame list says (a container with a bad index) is not
    trusted: the video is then decoded again from the start, every frame, as without key frames.
    """
    plan = _seek_plan(wanted, keyframes, times)
    if any(key is not None for key in plan):
        try:
            return _decode_seeking(path, wanted, plan)
        except _SeekFailed:
            pass
    return _decode_sequential(path, wanted)


def _seek_plan(wanted: Sequence[float], keyframes: Sequence[KeyFrame], times: Sequence[float]) -> list[KeyFrame | None]:
    """For each wanted time, the key frame to seek to before decoding toward it, or None to keep decoding.

    Decoding toward a wanted time passes every frame between the decoder's position and it; when the
    latest key frame at or before the wanted time lies after that position, with at least one frame
    between them, decoding can restart there instead and skip those frames (decoding from a key frame
    needs no earlier frame, so the frames are the same). ``times``: every frame's time (sorted); the
    wanted times are among them, so the decoder's position is the previous wanted time and, before
    any, just before the first key frame, where decoding starts anyway.
    """
    if not keyframes:
        return [None] * len(wanted)
    key_times = [key.time for key in keyframes]

    def frame_number(time: float) -> int:  # position in ``times`` of the frame at ``time``
        return bisect_right(times, time + _TIME_EPS) - 1

    plan: list[KeyFrame | None] = []
    position = frame_number(key_times[0]) - 1  # the frame decoded last: none yet
    for target in wanted:
        i = bisect_right(key_times, target + _TIME_EPS) - 1  # the latest key frame at or before the target
        skips = i >= 0 and frame_number(key_times[i]) > position + 1  # frames between position and it
        plan.append(keyframes[i] if skips else None)
        position = frame_number(target)
    return plan


class _SeekFailed(Exception):
    """A seek landed after the key frame it asked for, so frames before the wanted one may be lost."""


def _decode_seeking(path: Path, wanted: Sequence[float], plan: Sequence[KeyFrame | None]) -> list[Image.Image]:
    """``_decode_at`` with the seeks of ``plan`` (``_seek_plan``); raises ``_SeekFailed``."""
    frames: list[Image.Image] = []
    last = -np.inf  # time of the last frame converted
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        # slice threads only: frame threads keep a frame per thread in flight, and every seek flushes
        # and refills that pipeline (measured slower than one thread with a seek per second)
        stream.thread_type = "SLICE"
        decoded = container.decode(stream)
        for target, key in zip(wanted, plan):
            if last >= target - _TIME_EPS:
                continue  # the last frame already covers it (only if decoded times differ from pass 1)
            landing = key  # the key frame a seek must land on (checked on the first frame after it)
            if key is not None:
                container.seek(key.pts, stream=stream, backward=True, any_frame=False)  # flushes the decoder
                decoded = container.decode(stream)
            for frame in decoded:
                if frame.time is None:
                    raise _SeekFailed  # no timestamps to tell where decoding is
                if landing is not None and frame.time > landing.time + _TIME_EPS:
                    raise _SeekFailed  # landed after the key frame: frames before the target may be skipped
                landing = None  # landing on an earlier key frame is fine: decoding goes on to the target
                if frame.time >= target - _TIME_EPS:
                    frames.append(frame.to_image())  # RGB PIL image
                    last = frame.time
                    break
            else:
                break  # the video ended
    return frames


def _decode_sequential(path: Path, wanted: Sequence[float]) -> list[Image.Image]:
    """``_decode_at`` decoding every frame from the start (no seeking)."""
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
    import torch

    return torch.stack([transform(frame) for frame in frames])  # (F, 3, H, W)


def image_to_tensor(image: Image.Image, transform: Callable[[Image.Image], torch.Tensor]) -> torch.Tensor:
    """One PIL image -> (1, 3, H, W): an image is a one-frame video for the model."""
    return frames_to_tensor([image], transform)  # (1, 3, H, W)
