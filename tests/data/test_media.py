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
from flamingo_eval.data.media import KeyFrame, _choose_times, _decode_at, _decode_sequential, _frame_times, _seek_plan
from flamingo_eval.model.vision import ImageTransform

from .fixtures import clip_frame_index, write_clip

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
    assert [frame_index(f) for f in sample_video_frames(five_seconds, fps=1.0, max_frames=1)] == [20]  # the middle
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


# ---------------------------------------------------------------- seeking to key frames


def same_pixels(a: list[Image.Image], b: list[Image.Image]) -> bool:
    return len(a) == len(b) and all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(a, b))


@pytest.mark.parametrize("name,gop", [("gop10.mp4", 10), ("gop25.webm", 25), ("gop12.avi", 12)])
def test_seeking_gives_the_frames_of_sequential_decoding(tmp_path: Path, name: str, gop: int) -> None:
    path = write_clip(tmp_path / name, seconds=12, rate=25, gop=gop)
    times, keyframes = _frame_times(path)
    wanted = _choose_times(times, fps=1.0, max_frames=None)
    plan = _seek_plan(wanted, keyframes, times)
    assert sum(key is not None for key in plan) >= 8, "most seconds start past a key frame: this must seek"
    assert all(key is None or wanted[i - 1] < key.time <= wanted[i] for i, key in enumerate(plan))
    seeking = _decode_at(path, wanted, keyframes, times)
    assert [clip_frame_index(f) for f in seeking] == [25 * s for s in range(12)]
    assert same_pixels(seeking, _decode_sequential(path, wanted))


def test_a_clip_late_in_the_video_seeks_to_its_start(tmp_path: Path) -> None:
    path = write_clip(tmp_path / "gop10.mp4", seconds=12, rate=25, gop=10)
    times, keyframes = _frame_times(path)
    wanted = _choose_times([t for t in times if 7.5 <= t <= 10.5], fps=1.0, max_frames=None)
    assert _seek_plan(wanted, keyframes, times)[0] == keyframes[18]  # the key frame at 7.2 s (frame 180)
    assert keyframes[18].time == pytest.approx(7.2)
    frames = sample_video_frames(path, fps=1.0, start=7.5, end=10.5)
    assert [clip_frame_index(f) for f in frames] == [188, 213, 238]  # 7.52, 8.52, 9.52 s (10.48 - 7.52 < 3 s)
    assert same_pixels(frames, _decode_sequential(path, wanted))


def test_where_seeking_does_not_apply_every_frame_is_decoded(tmp_path: Path) -> None:
    # every frame wanted: no key frame lies past the next frame to decode
    path = write_clip(tmp_path / "gop10.mp4", seconds=2, rate=25, gop=10)
    times, keyframes = _frame_times(path)
    assert len(keyframes) == 5
    assert _seek_plan(times, keyframes, times) == [None] * 50
    assert [clip_frame_index(f) for f in sample_video_frames(path, fps=25.0)] == list(range(50))
    # one key frame (x264's default interval is 250 frames): nothing to seek to
    path = write_clip(tmp_path / "default.mp4", seconds=8, rate=25)
    times, keyframes = _frame_times(path)
    wanted = _choose_times(times, fps=1.0, max_frames=None)
    assert len(keyframes) == 1 and _seek_plan(wanted, keyframes, times) == [None] * 8
    assert [clip_frame_index(f) for f in _decode_at(path, wanted, keyframes, times)] == [25 * s for s in range(8)]


def test_a_stream_without_timestamps_has_no_key_frames_and_decodes_sequentially(tmp_path: Path) -> None:
    path = write_clip(tmp_path / "raw.h264", seconds=4, rate=25, gop=10)  # raw H.264: packets carry no times
    times, keyframes = _frame_times(path)
    assert len(times) == 100 and keyframes == []
    assert [clip_frame_index(f) for f in sample_video_frames(path, fps=1.0)] == [0, 25, 50, 75]


def test_a_seek_that_lands_elsewhere_falls_back_to_sequential_decoding(tmp_path: Path) -> None:
    path = write_clip(tmp_path / "gop10.mp4", seconds=12, rate=25, gop=10)
    times, keyframes = _frame_times(path)
    wanted = _choose_times(times, fps=1.0, max_frames=None)
    at_eight = next(key for key in keyframes if abs(key.time - 8.0) < 1e-6)
    lying = [keyframes[0], KeyFrame(time=3.0, pts=at_eight.pts)]  # an index that puts 8 s at 3 s
    assert _seek_plan(wanted, lying, times)[3] == lying[1]
    frames = _decode_at(path, wanted, lying, times)
    assert [clip_frame_index(f) for f in frames] == [25 * s for s in range(12)]  # not frame 200 for 3 s
