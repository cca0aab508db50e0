"""Writers for reader-test fixtures: real JPEGs (crops of scikit-image photos), tiny mp4s made with
PyAV, and JSON / CSV files in the benchmarks' official layouts."""

from __future__ import annotations

import csv
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image

VIDEO_FRAMES = 4  # each test video: 4 solid frames at 2 fps (2 s), frame i of grey level 60 * i
VIDEO_RATE = 2


@lru_cache(maxsize=None)
def _photo(name: str) -> np.ndarray:
    from skimage import data

    return getattr(data, name)()


def write_jpeg(path: Path, index: int = 0, photo: str = "astronaut") -> Path:
    """A 48x40 JPEG crop of a scikit-image photo; ``index`` moves the crop so files differ."""
    pixels = _photo(photo)
    top, left = 40 * (index % 8), 48 * (index // 8 % 8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels[top : top + 40, left : left + 48]).save(path, format="JPEG", quality=90)
    return path


@lru_cache(maxsize=None)
def _mp4_bytes() -> bytes:
    """One small lossless H.264 mp4, made once and copied to every test video path."""
    import io

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=VIDEO_RATE, options={"qp": "0"})
        stream.width = stream.height = 32
        stream.pix_fmt = "yuv420p"
        for i in range(VIDEO_FRAMES):
            frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), 60 * i, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):  # flush the encoder
            container.mux(packet)
    return buffer.getvalue()


def write_video(path: Path) -> Path:
    """A 2-second 32x32 mp4 (any extension: PyAV reads the container from the bytes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_mp4_bytes())
    return path


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


# ---------------------------------------------------------------- clips of real lengths

CLIP_SIZE = (64, 48)  # width, height: 8 x 6 blocks of 8 x 8 pixels
CLIP_CODECS = {".mp4": "libx264", ".avi": "mpeg4", ".webm": "libvpx", ".h264": "libx264"}  # what each usually holds
CLIP_FORMATS = {".mp4": "mp4", ".avi": "avi", ".webm": "webm", ".h264": "h264"}  # .h264: a raw stream, no timestamps
_BITS = 12  # frame index in the first 12 blocks (row by row): clips up to 4096 frames


@lru_cache(maxsize=None)
def _clip_bytes(seconds: float, rate: int, ext: str, gop: int | None, mark: int) -> bytes:
    """An encoded clip, made once per process and copied to every path that asks for the same one."""
    import io

    width, height = CLIP_SIZE
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=CLIP_FORMATS[ext]) as container:
        fast = {"deadline": "realtime", "cpu-used": "8"} if ext == ".webm" else {}  # libvpx's default is slow
        stream = container.add_stream(CLIP_CODECS[ext], rate=rate, options=fast)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if gop is not None:
            stream.gop_size = gop
        for i in range(round(seconds * rate)):
            bits = [(i >> b) & 1 for b in range(_BITS)] + [(b % 2) ^ ((mark >> b) & 1) for b in range(48 - _BITS)]
            blocks = np.array(bits, np.uint8).reshape(6, 8) * 192 + 32  # (rows, cols) of 32 or 224
            pixels = np.kron(blocks, np.ones((8, 8), np.uint8))  # (6, 8) -> (48, 64): 8x8 pixel blocks
            frame = av.VideoFrame.from_ndarray(np.repeat(pixels[:, :, None], 3, axis=2), format="rgb24")  # (48, 64, 3)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):  # flush the encoder
            container.mux(packet)
    return buffer.getvalue()


def write_clip(path: Path, *, seconds: float, rate: int, gop: int | None = None, mark: int = 0) -> Path:
    """A ``seconds``-long clip at ``rate`` fps, 64x48, in the container the path's extension names
    (mp4: H.264, avi: MPEG-4 part 2, webm: VP8, h264: a raw H.264 stream without timestamps or
    index), key frames every ``gop`` frames (None: the
    encoder's default). Frame i shows i in binary in its first 12 blocks (``clip_frame_index``); the
    other 36 blocks show ``mark``, so clips with different marks differ in content."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_clip_bytes(float(seconds), rate, path.suffix.lower(), gop, mark))
    return path


def clip_frame_index(image: Image.Image) -> int:
    """The index a ``write_clip`` frame shows (its first 12 blocks, bright = 1)."""
    pixels = np.asarray(image.convert("L"), np.float32)  # (48, 64)
    blocks = pixels.reshape(6, 8, 8, 8).mean(axis=(1, 3))  # (48, 64) -> (6 rows, 8, 8 cols, 8) -> (6, 8) block means
    bits = (blocks.reshape(-1)[:_BITS] > 128).astype(int)
    return int(sum(int(b) << i for i, b in enumerate(bits)))
