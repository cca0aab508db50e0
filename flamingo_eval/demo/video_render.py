"""Draw a ``VideoScene``'s frames and encode them as an H.264 mp4 with PyAV.

Determinism: libx264 is bit-exact for the same input and settings (it writes its settings, thread
count included, into the stream, so the thread count is fixed here rather than left to the machine), and
the mp4 muxer writes no creation time; the same scene normally gives the same bytes. One test run in
several saw one video encoded differently from identical frames (decoded pixels up to 4 levels apart;
cause not yet found), so the tests compare videos by their decoded frames.
"""

from __future__ import annotations

import io

import av
import numpy as np

from .draw import BACKGROUND_LEVELS, NOISE_SIGMA, draw_objects
from .video_scenes import FPS, FRAMES, VideoScene

CODEC = "libx264"
PIXEL_FORMAT = "yuv420p"  # what every player and PyAV decode
ENCODER_OPTIONS = {"crf": "18"}  # near-transparent quality; 16 small frames cost ~30 kB
ENCODER_THREADS = 1  # fixed, so the bytes do not depend on the machine's core count


def video_frames(scene: VideoScene, rng: np.random.Generator) -> list[np.ndarray]:
    """The video's ``FRAMES`` RGB frames (224x224x3 uint8): a grey background with one static noise
    field (so the only thing that changes is the object), the object as ``scene.object_at`` says."""
    background = int(rng.integers(BACKGROUND_LEVELS[0], BACKGROUND_LEVELS[1] + 1))
    frames: list[np.ndarray] = []
    noise = None
    for index in range(FRAMES):
        obj = scene.object_at(index)
        pixels = np.asarray(draw_objects([] if obj is None else [obj], background), dtype=np.float32)
        if noise is None:
            noise = rng.normal(0.0, NOISE_SIGMA, pixels.shape).astype(np.float32)
        frames.append(np.clip(np.rint(pixels + noise), 0, 255).astype(np.uint8))
    return frames


def encode_mp4(frames: list[np.ndarray], fps: int = FPS) -> bytes:
    """The frames as an H.264 (yuv420p) mp4 at ``fps`` frames per second, as bytes."""
    height, width = frames[0].shape[:2]
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream(CODEC, rate=fps, options=dict(ENCODER_OPTIONS))
        stream.width, stream.height, stream.pix_fmt = width, height, PIXEL_FORMAT
        stream.thread_count = ENCODER_THREADS
        for pixels in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode(None):  # flush the frames the encoder still holds
            container.mux(packet)
    return buffer.getvalue()
