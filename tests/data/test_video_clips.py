"""1-FPS sampling on clips of real lengths (1, 12 and 40 s), at 25 and 30 fps, in mp4 (H.264), avi
(MPEG-4 part 2) and webm (VP8): the right frames, whether the decoder seeks or not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from flamingo_eval.data.media import _choose_times, _frame_times, _seek_plan, sample_video_frames

from .fixtures import clip_frame_index, write_clip

SECONDS, RATES, EXTENSIONS = (1, 12, 40), (25, 30), (".mp4", ".avi", ".webm")
CASES = [(s, r, e) for s in SECONDS for r in RATES for e in EXTENSIONS]


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[tuple[int, int, str], Path]:
    folder = tmp_path_factory.mktemp("clips")
    return {(s, r, e): write_clip(folder / f"{s}s-{r}fps{e}", seconds=s, rate=r) for s, r, e in CASES}


@pytest.mark.parametrize("seconds,rate,ext", CASES, ids=[f"{s}s-{r}fps-{e[1:]}" for s, r, e in CASES])
def test_one_frame_per_second_from_every_container(clips, seconds, rate, ext):
    path = clips[seconds, rate, ext]
    times, _ = _frame_times(path)
    assert len(times) == seconds * rate
    np.testing.assert_allclose(times, np.arange(seconds * rate) / rate, atol=1e-3)  # frame i at i / rate
    every = sample_video_frames(path, fps=1.0)
    assert [clip_frame_index(f) for f in every] == [rate * s for s in range(seconds)]  # t = 0, 1, ... s
    capped = sample_video_frames(path, fps=1.0, max_frames=8)
    spread = np.round(np.linspace(0, seconds - 1, min(seconds, 8))).astype(int)  # first..last sample, even
    assert [clip_frame_index(f) for f in capped] == [rate * int(s) for s in spread]
    [middle] = sample_video_frames(path, fps=1.0, max_frames=1)
    assert clip_frame_index(middle) == rate * ((seconds - 1) // 2)


def test_long_clips_are_sampled_by_seeking(clips):
    """Each container's encoder puts key frames within 40 s (x264 every 250 frames, MPEG-4 every 12,
    VP8 at its own choosing), so a 40-s clip sampled at 1 FPS is read with seeks in all three."""
    for ext in EXTENSIONS:
        path = clips[40, 25, ext]
        times, keyframes = _frame_times(path)
        wanted = _choose_times(times, fps=1.0, max_frames=None)
        assert any(key is not None for key in _seek_plan(wanted, keyframes, times)), ext
