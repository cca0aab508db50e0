"""What run.json holds: the run's identity (the settings, models, benchmarks and data that decide its
predictions, compared on resume) and its record (command, times, jobs as resolved, file hashes,
environment). docs/results.md describes the fields."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from ..benchmark import BenchmarkSpec
from ..prompting.render import load_template
from ..storage import text_digest
from . import provenance
from .results import FORMAT
from .settings import RunSettings, Variant, resolve_job


def run_identity(settings: RunSettings, variants: Sequence[Variant], specs: Mapping[str, BenchmarkSpec],
                 fingerprints: Mapping[str, str]) -> dict[str, Any]:
    """The settings that can change a prediction; a results folder made with another identity is not
    resumed. ``fingerprints``: each benchmark's data fingerprint (``preflight.data_fingerprint``)."""
    models = sorted({resolve_job(settings, v, s).model for v in variants for s in specs.values()})
    return {
        "settings": settings.identity(),
        "variants": [{"name": v.name, "overrides": v.overrides} for v in variants],
        "models": {name: _model_spec(name).to_dict() for name in models},
        "benchmarks": {name: spec.to_dict() for name, spec in specs.items()},
        "data": dict(fingerprints),  # changed data files: refused on resume, never mixed with old predictions
    }


def run_record(
    settings: RunSettings, variants: Sequence[Variant], specs: Mapping[str, BenchmarkSpec], *, identity: dict[str, Any],
    baseline: str, command: str, started: str, finished: str | None, primary_metrics: dict[str, str], world_size: int,
    per_rank: list[int] | None, skipped: int,
) -> dict[str, Any]:
    """The whole of run.json (``per_rank``: the predictions each rank made this session, None until the end)."""
    first = next(iter(specs.values()))
    env = provenance.describe_environment()
    return {
        "format": FORMAT,
        "version": env["version"],
        "git_commit": env["git_commit"],
        "command": command,
        "started": started,
        "finished": finished,
        "identity": identity,
        "settings": dataclasses.asdict(settings),
        "baseline": baseline,
        "variants": [{"name": v.name, "overrides": v.overrides, "model": resolve_job(settings, v, first).model} for v in variants],
        "jobs": [dataclasses.asdict(resolve_job(settings, v, s)) | {"benchmark": s.name} for v in variants for s in specs.values()],
        "primary_metrics": primary_metrics,
        "models": {name: {"spec": spec, "files": _model_hashes(name)} for name, spec in identity["models"].items()},
        "benchmarks": {name: _benchmark_provenance(spec, settings.data_root) for name, spec in specs.items()},
        "libraries": env["libraries"],
        "device": settings.device,
        "world_size": world_size,
        "predictions_per_rank": per_rank,
        "dtype": settings.dtype or "float32",
        "torch_threads": torch.get_num_threads(),
        "skipped": skipped,
    }


def _benchmark_provenance(spec: BenchmarkSpec, data_root: str | None) -> dict[str, Any]:
    template = load_template(spec.prompt.template)
    out: dict[str, Any] = {
        "spec_sha256": text_digest(spec.source.read_text()) if spec.source else None,
        "template_sha256": text_digest(template.text),
        "data_files": {},
    }
    try:
        out["data_files"] = provenance.data_files(spec, spec.data_root(data_root))
    except Exception as err:  # provenance must not stop a run; say why it is missing
        out["data_files_error"] = str(err)
    return out


def _model_spec(name: str):
    from ..model import get_spec

    return get_spec(name)


def _model_hashes(name: str) -> dict[str, Any]:
    try:
        return provenance.model_files(_model_spec(name))
    except Exception as err:  # provenance must not stop a run; say why it is missing
        return {"error": str(err)}
