"""Shared by the video tests: an OpenFlamingo-shaped model spec from small random parts, and every
built-in video benchmark's official layout with 12-second clips."""

from __future__ import annotations

import zlib
from pathlib import Path

import torch
import yaml

from flamingo_eval.benchmark import get_benchmark
from flamingo_eval.engine.settings import Job, RunSettings, Variant, resolve_job
from flamingo_eval.model import load_model, load_spec
from flamingo_eval.model.weights import openflamingo_state_dict

from ..conftest import LM_CONFIGS, open_gates
from ..data.fixtures import write_clip, write_csv, write_json

VIDEO_BENCHMARKS = ("msrvtt_qa", "msvd_qa", "ivqa", "nextqa_mc", "nextqa_oe", "vatex", "youcook2", "demo_video_qa")
SECONDS = 12  # a real clip's length: more 1-FPS samples (12) than any video benchmark keeps (8)
POOL = EVAL = 2
WORDS = ("cat", "dog", "ball", "cup")

# OpenFlamingo's shape at toy sizes: a CLIP ViT (random), an MPT LM (random, byte tokenizer), a
# resampler WITHOUT temporal embeddings, a gated block before every layer, weights from a checkpoint.pt
OPENFLAMINGO_SHAPED = {
    "name": "openflamingo-shaped",
    "description": "OpenFlamingo's layout from small random parts (tests)",
    "vision": {"kind": "clip_vit", "options": {"image_size": 32, "patch_size": 8, "width": 32, "layers": 2, "heads": 2,
                                               "embed_dim": 32, "act": "quick_gelu", "ln_post_on_tokens": False}},
    "lm": {"config": dict(LM_CONFIGS["mpt"], max_seq_len=2048), "tokenizer": "bytes"},
    "perceiver": {"depth": 2, "heads": 2, "dim_head": 16, "num_latents": 8, "ff_mult": 2},
    "xattn": {"every_n_layers": 1, "heads": 2, "dim_head": 16, "ff_mult": 2},
    "seed": 0,
}


def write_openflamingo_shaped_spec(folder: Path) -> Path:
    """``folder/openflamingo-shaped.yaml`` with its ``checkpoint.pt`` in OpenFlamingo's key layout
    (gates open, so the frames reach the text). Out: the spec path."""
    folder.mkdir(parents=True, exist_ok=True)
    bare = folder / "bare.yaml"
    bare.write_text(yaml.safe_dump(OPENFLAMINGO_SHAPED))
    pipe = load_model(load_spec(bare))
    open_gates(pipe.model)
    torch.save(openflamingo_state_dict(pipe.model, pipe.tokens.added), folder / "checkpoint.pt")
    path = folder / "openflamingo-shaped.yaml"
    path.write_text(yaml.safe_dump(dict(OPENFLAMINGO_SHAPED, openflamingo_checkpoint="checkpoint.pt")))
    bare.unlink()
    return path


def job(model: str, policy: str = "auto", benchmark: str = "msrvtt_qa", **overrides) -> Job:
    """The job of ``benchmark`` for ``model`` under the run setting ``frames=policy`` and a variant's overrides."""
    settings = RunSettings(benchmarks=(benchmark,), model=model, frames=policy)
    return resolve_job(settings, Variant("baseline", overrides), get_benchmark(benchmark))


def clip(path: Path, rate: int = 25) -> Path:
    """A 12-s clip whose content differs from every other path's (a demonstration identical in content
    to its query would be left out of the pool)."""
    return write_clip(path, seconds=SECONDS, rate=rate, mark=zlib.crc32(str(path.name).encode()))


def _splits():
    """(split name, offset, count): the demonstration pool, then the evaluated split."""
    return (("train", 0, POOL), ("test", 100, EVAL))


def write_msrvtt_layout(root: Path) -> None:
    """MSRVTT-QA (and the demo's video QA): {train,test}_qa.json, videos/video<id>.mp4."""
    for split, offset, count in _splits():
        records = []
        for i in range(count):
            video_id = offset + i
            clip(root / "videos" / f"video{video_id}.mp4", rate=25 + 5 * (i % 2))
            records.append({"question": f"what is shown {video_id}?", "answer": WORDS[i], "video_id": video_id, "id": video_id})
        write_json(root / f"{split}_qa.json", records)


def write_msvd_layout(root: Path) -> None:
    """MSVD-QA: {train,test}_qa.json, youtube_mapping.txt, YouTubeClips/<clip>.avi."""
    mapping = []
    for split, offset, count in _splits():
        records = []
        for i in range(count):
            video_id = offset + i + 1
            name = f"yt{video_id:04d}_{10 + i}_{22 + i}"
            clip(root / "YouTubeClips" / f"{name}.avi", rate=30)
            mapping.append(f"{name} vid{video_id}")
            records.append({"answer": WORDS[i], "id": 1000 + video_id, "question": f"what plays {video_id}?", "video_id": video_id})
        write_json(root / f"{split}_qa.json", records)
    (root / "youtube_mapping.txt").write_text("\n".join(mapping) + "\n")


def write_ivqa_layout(root: Path) -> None:
    """iVQA: {train,test}.csv with answer1..answer5, videos/<video_id>_<start>_<end>.mp4."""
    header = ["video_id", "start", "end", "question", "answer1", "answer2", "answer3", "answer4", "answer5"]
    for split, offset, count in _splits():
        rows = []
        for i in range(count):
            video_id, start, end = f"iv{offset + i}", 3 + i, 15 + i
            clip(root / "videos" / f"{video_id}_{start}_{end}.mp4")
            rows.append([video_id, start, end, f"what is cut {offset + i}?", WORDS[i], WORDS[i], "", WORDS[i + 1], WORDS[i]])
        write_csv(root / f"{split}.csv", header, rows)


def write_nextqa_layout(root: Path) -> None:
    """NExT-QA: {train,val}.csv (multiple choice), oe/{train,val}.csv (open-ended), map_vid_vidorID.json,
    NExTVideo/<folder>/<video>.mp4; both benchmarks read the same videos."""
    header = ["video", "frame_count", "width", "height", "question", "answer", "qid", "type"]
    mapping = {}
    for (split, offset, count), file in zip(_splits(), ("train", "val")):
        mc, oe = [], []
        for i in range(count):
            video = str(4000 + offset + i)
            mapping[video] = f"00{i}/{video}"
            clip(root / "NExTVideo" / f"00{i}" / f"{video}.mp4", rate=30)
            options = [f"to {WORDS[(i + j) % 4]} it" for j in range(5)]
            mc.append([video, SECONDS * 30, 64, 48, f"why did it move {offset + i}", i % 5, i, "CW", *options])
            oe.append([video, SECONDS * 30, 64, 48, f"what is held {offset + i}", WORDS[i], i, "DO", ""])
        write_csv(root / f"{file}.csv", header + ["a0", "a1", "a2", "a3", "a4"], mc)
        write_csv(root / "oe" / f"{file}.csv", header + ["additional_ref_answer"], oe)
    write_json(root / "map_vid_vidorID.json", mapping)


def write_vatex_layout(root: Path) -> None:
    """VATEX: vatex_{training,validation}_v1.0.json, videos/<videoID>.mp4."""
    for (split, offset, count), file in zip(_splits(), ("vatex_training_v1.0.json", "vatex_validation_v1.0.json")):
        records = []
        for i in range(count):
            video_id = f"vx{offset + i:05d}_000010_000022"
            clip(root / "videos" / f"{video_id}.mp4")
            records.append({"videoID": video_id, "enCap": [f"A {WORDS[i]} rolls.", f"Someone moves a {WORDS[i]}."]})
        write_json(root / file, records)


def write_youcook2_layout(root: Path) -> None:
    """YouCook2: youcookii_annotations_trainval.json (segments of whole videos), videos/<id>.mp4."""
    database = {}
    for (split, offset, count), subset in zip(_splits(), ("training", "validation")):
        for i in range(count):
            video_id = f"yc{offset + i:04d}"
            clip(root / "videos" / f"{video_id}.mp4")
            segment = [0, SECONDS] if i == 0 else [2, 11]  # the whole clip (12 samples), a part of it (10)
            database[video_id] = {"duration": float(SECONDS), "subset": subset, "recipe_type": "113", "annotations": [
                {"segment": segment, "id": 0, "sentence": f"stir the {WORDS[i]}"}]}
    write_json(root / "youcookii_annotations_trainval.json", {"database": database})


LAYOUTS = {
    "msrvtt_qa": write_msrvtt_layout,
    "msvd_qa": write_msvd_layout,
    "ivqa": write_ivqa_layout,
    "nextqa_mc": write_nextqa_layout,
    "nextqa_oe": write_nextqa_layout,
    "vatex": write_vatex_layout,
    "youcook2": write_youcook2_layout,
    "demo_video_qa": write_msrvtt_layout,  # the demo's video QA is in MSRVTT-QA's layout
}


def write_video_data_root(root: Path) -> Path:
    """Every video benchmark's files under ``root/<benchmark>/`` (``data_root``). Out: ``root``."""
    for name in VIDEO_BENCHMARKS:
        LAYOUTS[name](root / name)
    return root
