"""Video with every kind of model, on 12-second clips (more 1-FPS samples than any model has temporal
embeddings for): the frames each frame policy gives go through the model, and every built-in video
benchmark runs end to end in its official layout with ``tiny``, ``smol-flamingo`` (real weights) and
an OpenFlamingo-shaped model (no temporal embeddings)."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import torch

import flamingo_eval
from flamingo_eval.benchmark import get_benchmark
from flamingo_eval.data.example import MediaRef
from flamingo_eval.engine import resources
from flamingo_eval.engine.visual_cache import load_media_for
from flamingo_eval.errors import SpecError
from flamingo_eval.model import load_model

from ..data.fixtures import write_clip
from .video_helpers import EVAL, SECONDS, VIDEO_BENCHMARKS, job, write_openflamingo_shaped_spec, write_video_data_root

SMOL = "smol-flamingo"


@pytest.fixture(scope="module")
def openflamingo_shaped(tmp_path_factory) -> str:
    return str(write_openflamingo_shaped_spec(tmp_path_factory.mktemp("of")))


@pytest.fixture(scope="module")
def models(openflamingo_shaped):
    """(name -> pipeline, name -> Counter): each model loaded once for the module (smol-flamingo takes
    ~20 s), and the number of frames of every item its resampler sees, counted."""
    pipes = {"tiny": load_model("tiny"), SMOL: load_model(SMOL), openflamingo_shaped: load_model(openflamingo_shaped)}
    seen: dict[str, Counter] = {name: Counter() for name in pipes}
    for name, pipe in pipes.items():
        pipe.model.perceiver.register_forward_pre_hook(
            lambda module, args, counter=seen[name]: counter.update([args[0].shape[1]] * args[0].shape[0]))  # (N, F, v, d)
    return pipes, seen


@pytest.fixture(scope="module")
def shared_models(models):
    """The runner takes the module's models instead of loading its own."""
    pipes, _ = models
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(resources, "load_model", lambda name, **_: pipes[str(name)])
        yield


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    return write_video_data_root(tmp_path_factory.mktemp("video-data"))


def allowed(name: str, openflamingo_shaped: str) -> dict[str, int]:
    """policy -> frames the model receives from a 12-s clip at the benchmarks' 1 FPS, 8 at most."""
    if name == openflamingo_shaped:
        return {"auto": 8, "pool": 8, "thin": 1}
    return {"auto": 8, "interpolate": 8, "thin": 4}  # tiny and smol-flamingo: temporal embeddings for 4


@pytest.mark.parametrize("name", ["tiny", SMOL, "openflamingo-shaped"])
def test_a_long_clip_goes_through_the_model_under_every_allowed_policy(models, openflamingo_shaped, tmp_path, name):
    name = openflamingo_shaped if name == "openflamingo-shaped" else name
    pipes, seen = models
    pipe = pipes[name]
    ref = MediaRef(write_clip(tmp_path / "clip.mp4", seconds=SECONDS, rate=25), "video")
    for policy, count in allowed(name, openflamingo_shaped).items():
        frames = load_media_for(ref, job(name, policy).video)
        seen[name].clear()
        with torch.no_grad():
            tokens = pipe.model.encode_media([pipe.pixels(frames)])
        assert seen[name] == Counter({count: 1}), policy
        assert tokens.shape == (1, pipe.model.perceiver_config.num_latents, pipe.model.vision.dim)
        assert torch.isfinite(tokens).all()
    refused = "interpolate" if name == openflamingo_shaped else "pool"
    with pytest.raises(SpecError, match=f"frames={refused}: model {name} has"):
        job(name, refused)


def predictions(folder):
    return [json.loads(line) for line in (folder / "predictions.jsonl").read_text().splitlines()]


def test_every_video_benchmark_runs_end_to_end_with_every_kind_of_model(
    models, shared_models, openflamingo_shaped, data_root, tmp_path,
):
    """One run, so the caption metrics' Java start-up is paid once: tiny (the baseline), the
    OpenFlamingo-shaped model under its default (pool) and keeping the middle frame (thin), and
    smol-flamingo with short greedy answers (the run is about frames reaching a real model)."""
    _, seen = models
    for counter in seen.values():
        counter.clear()
    variants = {  # name -> (overrides, resolved policy, the model's capacity)
        "baseline": ("", "interpolate", 4),
        "openflamingo": (f"model={openflamingo_shaped}", "pool", None),
        "openflamingo-middle": (f"model={openflamingo_shaped},frames=thin", "thin", 1),
        "smol": (f"model={SMOL},num_beams=1,max_new_tokens=3", "interpolate", 4),
    }
    out = tmp_path / "run"
    flamingo_eval.evaluate(list(VIDEO_BENCHMARKS), model="tiny", out=out, shots=[0, 1], seed=3, data_root=data_root,
                           variants=[f"{name}:{overrides}" for name, (overrides, _, _) in variants.items() if overrides])
    rows = predictions(out)
    assert Counter((r["variant"], r["benchmark"], r["shots"]) for r in rows) == Counter(
        {(v, b, s): EVAL for v in variants for b in VIDEO_BENCHMARKS for s in (0, 1)})
    assert all(r["prompt"].count("<image>") == r["shots"] + 1 for r in rows)
    assert {(m["variant"], m["benchmark"]) for m in json.loads((out / "metrics.json").read_text())} == {
        (v, b) for v in variants for b in VIDEO_BENCHMARKS}
    # run.json: each job's resolved policy and the sampling its model got
    jobs = json.loads((out / "run.json").read_text())["jobs"]
    caps = {b: get_benchmark(b).data.video.max_frames for b in VIDEO_BENCHMARKS}  # 8, and 4 for demo_video_qa

    def expected(policy: str, capacity: int | None, benchmark: str) -> tuple[str, int]:
        return policy, min(caps[benchmark], capacity) if policy == "thin" else caps[benchmark]

    assert {(j["variant"], j["benchmark"]): (j["frames"], j["video"]["max_frames"]) for j in jobs} == {
        (v, b): expected(policy, capacity, b) for v, (_, policy, capacity) in variants.items() for b in VIDEO_BENCHMARKS}
    # frames per item each resampler saw: every clip has 10-12 samples, more than any cap
    assert set(seen["tiny"]) == {8, 4}  # interpolated past the 4 learned embeddings (demo_video_qa keeps 4)
    assert set(seen[SMOL]) == {8, 4}
    assert set(seen[openflamingo_shaped]) == {8, 4, 1}  # pooled, or the middle frame
