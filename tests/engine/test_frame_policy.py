"""The frame policy (engine/frames.py): resolved once per job from the benchmark's sampling and the
model's spec, recorded in the job, refused by name where the model cannot follow it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from flamingo_eval.benchmark import VideoSpec, get_benchmark
from flamingo_eval.data.example import MediaRef
from flamingo_eval.engine.frames import POLICIES, model_frame_capacity, resolve_frames
from flamingo_eval.engine.visual_cache import load_media_for
from flamingo_eval.engine.settings import OVERRIDES, RunSettings, Variant, parse_variant, resolve_job
from flamingo_eval.errors import SpecError

from ..data.fixtures import clip_frame_index, write_clip
from .video_helpers import job, write_openflamingo_shaped_spec

EIGHT = VideoSpec(fps=1.0, max_frames=8)  # what the video benchmarks sample


@pytest.fixture(scope="module")
def openflamingo_shaped(tmp_path_factory) -> str:
    return str(write_openflamingo_shaped_spec(tmp_path_factory.mktemp("of")))


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[int, Path]:
    """1-, 12- and 40-second clips (25 fps): 1, 12 and 40 samples at 1 FPS."""
    folder = tmp_path_factory.mktemp("clips")
    return {s: write_clip(folder / f"{s}s.mp4", seconds=s, rate=25) for s in (1, 12, 40)}


@pytest.mark.parametrize("policy,capacity,resolved,max_frames", [
    ("auto", 4, "interpolate", 8),
    ("interpolate", 4, "interpolate", 8),
    ("thin", 4, "thin", 4),
    ("thin", 16, "thin", 8),  # a model that takes more than the benchmark samples: the benchmark's cap
    ("auto", None, "pool", 8),
    ("pool", None, "pool", 8),
    ("thin", None, "thin", 1),
])
def test_resolution(policy, capacity, resolved, max_frames):
    plan = resolve_frames(policy, EIGHT, model="m", capacity=capacity)
    assert (plan.policy, plan.video) == (resolved, VideoSpec(fps=1.0, max_frames=max_frames))


@pytest.mark.parametrize("policy,capacity,says", [
    ("interpolate", None, "frames=interpolate: model m has no temporal embeddings"),
    ("pool", 4, "frames=pool: model m has temporal embeddings for 4 frames"),
    ("middle", 4, "frames: unknown frame policy 'middle' (known: auto, interpolate, thin, pool)"),
])
def test_impossible_policies_are_refused_by_name(policy, capacity, says):
    with pytest.raises(SpecError, match=says.replace("(", r"\(").replace(")", r"\)")):
        resolve_frames(policy, EIGHT, model="m", capacity=capacity)


def test_the_setting_and_its_override_are_checked():
    assert "frames" in OVERRIDES and POLICIES == ("auto", "interpolate", "thin", "pool")
    with pytest.raises(SpecError, match="frames: unknown frame policy 'all'"):
        RunSettings(benchmarks=("msrvtt_qa",), frames="all")
    with pytest.raises(SpecError, match="variant few: unknown frame policy 'few'"):
        parse_variant("few:frames=few")
    assert parse_variant("t:frames=thin").overrides == {"frames": "thin"}
    assert RunSettings(benchmarks=("msrvtt_qa",)).identity()["frames"] == "auto"  # it can change predictions


def test_capacity_comes_from_the_spec(openflamingo_shaped):
    assert model_frame_capacity("tiny") == 4 and model_frame_capacity("smol-flamingo") == 4
    assert model_frame_capacity("smol") == 8 and model_frame_capacity("openflamingo-3b") is None
    assert model_frame_capacity(openflamingo_shaped) is None


def test_jobs_carry_the_resolved_policy_and_sampling(openflamingo_shaped):
    tiny = job("tiny")
    assert (tiny.frames, tiny.video) == ("interpolate", VideoSpec(fps=1.0, max_frames=8))
    assert (job("tiny", "thin").frames, job("tiny", "thin").video.max_frames) == ("thin", 4)
    assert (job(openflamingo_shaped).frames, job(openflamingo_shaped).video.max_frames) == ("pool", 8)
    assert job(openflamingo_shaped, "thin").video.max_frames == 1
    # a variant's override wins over the run's setting, after its own fps / max_frames
    assert job("tiny", "interpolate", frames="thin", max_frames=3).video == VideoSpec(fps=1.0, max_frames=3)
    assert dataclasses.asdict(tiny)["frames"] == "interpolate"  # what run.json records in "jobs"


def test_refusals_name_the_benchmark_model_and_policy(openflamingo_shaped):
    with pytest.raises(SpecError, match=rf"benchmark msrvtt_qa: frames=interpolate: model {openflamingo_shaped} has no temporal"):
        job(openflamingo_shaped, "interpolate")
    with pytest.raises(SpecError, match="variant p, benchmark vatex: frames=pool: model tiny has temporal embeddings for 4"):
        resolve_job(RunSettings(benchmarks=("vatex",), model="tiny"), Variant("p", {"frames": "pool"}), get_benchmark("vatex"))


def test_refused_before_any_model_loads(monkeypatch, tmp_path, openflamingo_shaped):
    import flamingo_eval
    from flamingo_eval.engine import resources

    def no_loading(*args, **kwargs):
        raise AssertionError("a model was loaded before the frame policy was checked")

    monkeypatch.setattr(resources, "load_model", no_loading)
    with pytest.raises(SpecError, match="frames=interpolate: model .*openflamingo-shaped.yaml has no temporal"):
        flamingo_eval.evaluate(["msrvtt_qa"], model=openflamingo_shaped, out=tmp_path / "out", shots=[0],
                               data_root=tmp_path / "absent", frames="interpolate")
    assert not (tmp_path / "out" / "predictions.jsonl").exists()


@pytest.mark.parametrize("seconds", [1, 12, 40])
@pytest.mark.parametrize("model,policy,expected", [
    ("tiny", "interpolate", lambda n: min(n, 8)),  # every sample, up to the benchmark's 8
    ("tiny", "thin", lambda n: min(n, 4)),  # down to the 4 learned temporal embeddings
    ("openflamingo", "pool", lambda n: min(n, 8)),
    ("openflamingo", "thin", lambda n: 1),
])
def test_every_policy_gives_the_model_its_number_of_frames(clips, openflamingo_shaped, seconds, model, policy, expected):
    name = openflamingo_shaped if model == "openflamingo" else model
    frames = load_media_for(MediaRef(clips[seconds], "video"), job(name, policy).video)
    assert len(frames) == expected(seconds)
    indices = [clip_frame_index(f) for f in frames]
    assert indices == sorted(set(indices)) and all(i % 25 == 0 for i in indices)  # distinct 1-FPS samples, in order
    if len(frames) == 1 and seconds > 1:
        assert indices == [25 * ((seconds - 1) // 2)]  # one frame: the middle sample
    elif len(frames) > 1:
        assert indices[0] == 0 and indices[-1] == 25 * (seconds - 1)  # spread from the first to the last
