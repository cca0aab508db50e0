"""The frame policy: how many of a video's frames a model receives, decided once per job, before any
data is decoded or any model loaded, from the benchmark's sampling and the model's capacity.

Benchmarks sample videos at ``fps`` up to ``max_frames`` frames (``data.video``); a model's Perceiver
Resampler has learned temporal embeddings for ``perceiver.max_frames`` frames, or none at all
(OpenFlamingo's models). The two rarely agree, and the policy says what happens then:

- ``interpolate``: every sampled frame; past the model's ``max_frames`` its temporal embeddings are
  linearly interpolated (the Flamingo paper, appendix B.1.2: trained with 8 frames, 30 at inference,
  by linearly interpolating the learnt temporal embeddings). Needs temporal embeddings.
- ``thin``: frames spread evenly over the clip down to what the model was trained with:
  min(benchmark max_frames, model max_frames), and one frame, the middle sample, for a model without
  temporal embeddings.
- ``pool``: every sampled frame, no temporal embeddings: the latents attend to all frames' patches
  at once, which is what OpenFlamingo's own resampler does with several frames. Only for models
  without temporal embeddings (with them, ``interpolate`` is the paper's way).
- ``auto``: ``interpolate`` where the model has temporal embeddings, else ``pool``.

The resampler applies the same rule whatever the policy (``model/perceiver.py``); the policy only
chooses the frames, so a job's ``video`` (the effective sampling) and ``frames`` (the resolved policy)
say all that was done, and run.json records both.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..benchmark import VideoSpec
from ..errors import SpecError

AUTO = "auto"
POLICIES = (AUTO, "interpolate", "thin", "pool")  # the values of the ``frames`` setting


@dataclass(frozen=True, kw_only=True)
class FramePlan:
    policy: str  # the resolved policy: interpolate, thin or pool (never auto)
    video: VideoSpec  # the sampling the model gets: the benchmark's, with max_frames lowered under thin


def check_policy(policy: str, where: str) -> None:
    """SpecError naming ``where`` (e.g. ``--frames`` or ``variant x``) when ``policy`` is not a known one."""
    if policy not in POLICIES:
        raise SpecError(f"{where}: unknown frame policy {policy!r} (known: {', '.join(POLICIES)})")


def model_frame_capacity(model: str) -> int | None:
    """The number of frames model ``model`` (a built-in name or spec path) has learned temporal
    embeddings for, read from its spec without loading anything; None when it has none."""
    from ..model.spec import get_spec

    return get_spec(model).perceiver.max_frames or None


def resolve_frames(policy: str, video: VideoSpec, *, model: str, capacity: int | None) -> FramePlan:
    """Resolve a frame policy for one job.

    In: the policy (``POLICIES``), the benchmark's sampling, the model's name (for messages) and its
    capacity (``model_frame_capacity``). Out: the resolved policy and the sampling the model gets.
    Raises SpecError, naming the model and the policy, for a policy the model cannot follow.
    """
    check_policy(policy, "frames")
    if policy == AUTO:
        policy = "interpolate" if capacity else "pool"
    if policy == "interpolate" and not capacity:
        raise SpecError(f"frames=interpolate: model {model} has no temporal embeddings to interpolate "
                        "(its perceiver.max_frames is unset); use frames=pool (every frame, as OpenFlamingo) or thin (one frame)")
    if policy == "pool" and capacity:
        raise SpecError(f"frames=pool: model {model} has temporal embeddings for {capacity} frames, and pooling would "
                        "drop them; use frames=interpolate (the paper's) or thin")
    if policy == "thin":
        video = dataclasses.replace(video, max_frames=min(video.max_frames, capacity or 1))
    return FramePlan(policy=policy, video=video)
