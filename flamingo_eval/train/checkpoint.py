"""Resumable training state: what a run needs to continue exactly where it stopped.

A checkpoint holds the trainable weights (resampler, gated blocks, added-token rows), the optimiser's
moments, the step, the best validation so far, and the Python and torch random states, so a run that
is stopped and resumed draws the same batches as one that never stopped. It is written atomically
(a kill while writing leaves the previous checkpoint intact).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import torch

from ..errors import WeightsError
from ..model.state_dicts import check_finite, load_torch, require_file
from ..storage import atomic_path

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
    path = Path(folder) / CHECKPOINT
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return path


def load_checkpoint(folder: Path, *, modules: dict[str, torch.nn.Module], optimizer: torch.optim.Optimizer,
                    rng: random.Random) -> dict[str, Any]:
    """Restore a checkpoint written by ``save_checkpoint`` into the given objects (strictly: every
    saved parameter must exist with its shape); returns {"step", "best"}.

    Everything that can be checked is checked before anything is restored: a missing, truncated or
    foreign file, a missing part, a parameter that does not fit, a NaN or infinite tensor (weights or
    optimiser moments) are ``WeightsError``s naming the file and the key.
    """
    path = Path(folder) / CHECKPOINT
    if not path.exists():
        raise WeightsError(f"no checkpoint to resume from: {path} does not exist")
    require_file(path, "checkpoint")
    # our own file: the random states are pickled Python objects, which weights_only refuses
    state = load_torch(path, weights_only=False, what="checkpoint")
    missing = [key for key in _PARTS if not isinstance(state, dict) or key not in state]
    if missing:
        raise WeightsError(f"{path}: not a training checkpoint of this project (lacks {', '.join(missing)})")
    saved = state["modules"]
    for name, module in modules.items():
        params = dict(module.named_parameters())
        if not isinstance(saved, dict) or not isinstance(saved.get(name), dict):
            raise WeightsError(f"{path}: holds no weights for {name}")
        for key, value in saved[name].items():
            if not isinstance(value, torch.Tensor) or key not in params or params[key].shape != value.shape:
                raise WeightsError(f"{path}: {name}.{key} does not match the model being trained")
        check_finite(saved[name], source=path, prefix=f"{name}.")
    moments = state["optimizer"].get("state", {}) if isinstance(state["optimizer"], dict) else {}
    for index, slots in moments.items():
        check_finite(slots if isinstance(slots, dict) else {}, source=path, prefix=f"optimizer.state.{index}.")
    try:
        with torch.no_grad():
            for name, module in modules.items():
                params = dict(module.named_parameters())
                for key, value in saved[name].items():
                    params[key].copy_(value)
        optimizer.load_state_dict(state["optimizer"])
        rng.setstate(state["python_rng"])
        torch.set_rng_state(state["torch_rng"])
    except (TypeError, ValueError, KeyError, RuntimeError) as err:  # parts of the wrong shape or kind
        raise WeightsError(f"{path}: cannot restore the training state ({type(err).__name__}: {err})") from err
    return {"step": state["step"], "best": state["best"]}


_PARTS = ("step", "modules", "optimizer", "python_rng", "torch_rng", "best")  # what save_checkpoint writes
