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
