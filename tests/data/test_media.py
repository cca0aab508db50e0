"""Image and video loading: 1 FPS sampling, max_frames spreading, and errors naming the file."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
import torch
from PIL import Image

from flamingo_eval.data.media import (
    MediaError,
    frames_to_tensor,
    image_to_tensor,
    load_image,
    load_media,
    sample_video_frames,
)
from flamingo_eval.data.example import MediaRef
from flamingo_eval.model.vision import ImageTransform

STEP = 5  # frame i is solid grey level STEP * i, so a decoded frame tells its own index

if "libx264" not in av.codecs_available:  # pragma: no cover - PyAV's wheels ship it
    pytest.skip("PyAV without libx264: cannot write near-lossless test videos", allow_module_level=True)


def write_video(path: Path, *, seconds: float, rate: int = 10) -> Path:
    """An mp4 of ``seconds * rate`` solid grey 32x32 frames; lossless (qp 0) so greys survive."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=rate, options={"qp": "0"})
        stream.width = stream.height = 32
        stream.pix_fmt = "yuv420p"
        for i in range(round(seconds * rate)):
            frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), STEP * i, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):  # flush the encoder
            container.mux(packet)
    return path


def frame_index(image: Image.Image) -> int:
    return round(float(np.asarray(image).mean()) / STEP)


@pytest.fixture(scope="module")
def five_seconds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """5 s at 10 fps: frames 0..49, frame i shown at i / 10 s."""
    return write_video(tmp_path_factory.mktemp("video") / "five.mp4", seconds=5)


def test_one_fps_picks_a_frame_each_second(five_seconds: Path) -> None:
    frames = sample_video_frames(five_seconds, fps=1.0)
    assert [frame_index(f) for f in frames] == [0, 10, 20, 30, 40]  # t = 0, 1, 2, 3, 4 s
    assert all(f.mode == "RGB" and f.size == (32, 32) for f in frames)


def test_other_rates(five_seconds: Path) -> None:
    assert [frame_index(f) for f in sample_video_frames(five_seconds, fps=2.0)] == list(range(0, 50, 5))
    # above the video's own rate every frame comes once, never repeated
    assert [frame_index(f) for f in sample_video_frames(five_seconds, fps=25.0)] == list(range(50))


def test_max_frames_spreads_over_the_whole_video(five_seconds: Path) -> None:
    assert [frame_index(f) for f in sample_video_frames(five_seconds, fps=1.0, max_frames=3)] == [0, 20, 40]
    assert [frame_index(f) for f in sample_video_frames(five_seconds, fps=1.0, max_frames=1)] == [0]
    assert len(sample_video_frames(five_seconds, fps=1.0, max_frames=10)) == 5  # fewer samples: all kept


def test_video_shorter_than_one_period_gives_its_first_frame(tmp_path: Path) -> None:
    frames = sample_video_frames(write_video(tmp_path / "short.mp4", seconds=0.5), fps=1.0)
    assert [frame_index(f) for f in frames] == [0]


def test_video_without_frames(tmp_path: Path) -> None:
    # An mp4 holding only an audio stream (PyAV writes no file for a video stream without frames).
    path = tmp_path / "audio_only.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=16000)
        for i in range(8):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 16000, i * 1024
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    with pytest.raises(MediaError, match=r"audio_only\.mp4 has no video frames"):
        sample_video_frames(path)


def test_missing_and_corrupt_videos(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match=r"absent\.mp4"):
        sample_video_frames(tmp_path / "absent.mp4")
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(np.random.default_rng(0).bytes(2048))
    with pytest.raises(MediaError, match=r"corrupt\.mp4"):
        sample_video_frames(corrupt)


def test_load_image(tmp_path: Path) -> None:
    path = tmp_path / "grey.png"
    Image.new("L", (8, 6), 200).save(path)
    image = load_image(path)
    assert image.mode == "RGB" and image.size == (8, 6)
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(np.random.default_rng(0).bytes(512))
    with pytest.raises(MediaError, match=r"corrupt\.jpg"):
        load_image(corrupt)
    with pytest.raises(MediaError, match=r"absent\.png"):
        load_image(tmp_path / "absent.png")


def test_frames_and_image_to_tensor(five_seconds: Path) -> None:
    transform = ImageTransform(size=16)
    frames = sample_video_frames(five_seconds, fps=1.0)
    video = frames_to_tensor(frames, transform)
    assert video.shape == (5, 3, 16, 16) and video.dtype == torch.float32
    image = image_to_tensor(frames[0], transform)
    assert image.shape == (1, 3, 16, 16)
    torch.testing.assert_close(image[0], video[0])


def test_a_clip_of_the_video(five_seconds: Path) -> None:
    frames = sample_video_frames(five_seconds, fps=1.0, start=1.5, end=3.6)
    assert [frame_index(f) for f in frames] == [15, 25, 35]  # 1 FPS from the clip's own start
    ref = MediaRef(five_seconds, "video", start=1.5, end=3.6)
    assert [frame_index(f) for f in load_media(ref)] == [15, 25, 35]
    with pytest.raises(MediaError, match=r"five.mp4 has no video frames between 7.0 s and 8.0 s"):
        sample_video_frames(five_seconds, start=7.0, end=8.0)
    with pytest.raises(ValueError, match="only a video"):
        MediaRef(five_seconds, "image", start=1.0)
