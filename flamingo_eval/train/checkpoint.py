"""Resumable training state: what a run needs to continue exactly where it stopped.

A checkpoint holds the trainable weights (resampler, gated blocks, added-token rows), the optimiser's
moments, the step, the best validation so far, and the Python and torch random states, so a run that
is stopped and resumed draws the same batches as one that never stopped. It is written atomically
(a kill while writing leaves the previous checkpoint intact).
"""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

import torch

from ..errors import WeightsError
from ..report.atomic import write_bytes_atomic

CHECKPOINT = "checkpoint.pt"


def save_checkpoint(folder: Path, *, step: int, modules: dict[str, torch.nn.Module], optimizer: torch.optim.Optimizer,
                    rng: random.Random, best: dict[str, Any]) -> Path:
    """Write ``folder/checkpoint.pt``. In: the step just finished, the modules whose trainable
    parameters are saved (by name), the optimiser, the batch sampler's random generator, the best
    validation record. Out: the path written."""
    state = {
        "step": step,
        "modules": {name: {k: p.detach().clone() for k, p in m.named_parameters() if p.requires_grad} for name, m in modules.items()},
        "optimizer": optimizer.state_dict(),
        "python_rng": rng.getstate(),
        "torch_rng": torch.get_rng_state(),
        "best": best,
    }
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return write_bytes_atomic(Path(folder) / CHECKPOINT, buffer.getvalue())


def load_checkpoint(folder: Path, *, modules: dict[str, torch.nn.Module], optimizer: torch.optim.Optimizer,
                    rng: random.Random) -> dict[str, Any]:
    """Restore a checkpoint written by ``save_checkpoint`` into the given objects (strictly: every
    saved parameter must exist with its shape); returns {"step", "best"}."""
    path = Path(folder) / CHECKPOINT
    if not path.is_file():
        raise WeightsError(f"no checkpoint to resume from: {path} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)  # our own file: random states are pickled
    except Exception as exc:  # a truncated or foreign file
        raise WeightsError(f"{path}: cannot read the checkpoint ({type(exc).__name__}: {exc})") from exc
    with torch.no_grad():
        for name, module in modules.items():
            params = dict(module.named_parameters())
            for key, value in state["modules"][name].items():
                if key not in params or params[key].shape != value.shape:
                    raise WeightsError(f"{path}: {name}.{key} does not match the model being trained")
                params[key].copy_(value)
    optimizer.load_state_dict(state["optimizer"])
    rng.setstate(state["python_rng"])
    torch.set_rng_state(state["torch_rng"])
    return {"step": state["step"], "best": state["best"]}
