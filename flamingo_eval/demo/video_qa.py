"""Write ``demo_video_qa`` in MSRVTT-QA's format::

    demo_video_qa/{train,val,test}_qa.json   [{"question", "answer", "video_id": int, "id": int}]
    demo_video_qa/videos/video<video_id>.mp4
    demo_video_qa/videos.json                every video's content, as data

Video ids run from 1 over the splits in order (train, val, test), so the splits share no video;
question ids are ``video_id * 10 + k``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .files import write_bytes, write_json
from .seeding import item_np_rng, item_rng
from .video_render import encode_mp4, video_frames
from .video_scenes import sample_video_scene, video_questions

VIDEO_SPLITS = ("train", "val", "test")
VIDEOS_FILE = "videos.json"
QUESTION_ID_STRIDE = 10  # question id = video id * stride + question number


def video_path(folder: Path, video_id: int) -> Path:
    """Where video ``video_id`` lives: ``folder/videos/video<id>.mp4`` (the msrvtt_qa reader's name)."""
    return folder / "videos" / f"video{video_id}.mp4"


def write_video_qa(folder: Path, *, seed: int, counts: Mapping[str, int]) -> None:
    """Generate ``counts[split]`` videos per split and write the benchmark into ``folder``.

    In: the output folder, the suite's seed, the videos per split. Out: files only. Video k of a split
    depends only on (seed, split, k).
    """
    facts: list[dict[str, Any]] = []
    video_id = 1
    for split in VIDEO_SPLITS:
        records: list[dict[str, Any]] = []
        for index in range(counts[split]):
            rng = item_rng(seed, "video", split, index)
            scene = sample_video_scene(rng)
            frames = video_frames(scene, item_np_rng(seed, "video", split, index))
            write_bytes(video_path(folder, video_id), encode_mp4(frames))
            for number, q in enumerate(video_questions(scene, rng)):
                records.append({"question": q.question, "answer": q.answer, "video_id": video_id,
                                "id": video_id * QUESTION_ID_STRIDE + number})
            facts.append({"video_id": video_id, "split": split, **scene.to_json()})
            video_id += 1
        write_json(folder / f"{split}_qa.json", records)
    write_json(folder / VIDEOS_FILE, {"videos": facts})
