"""Read a weights file from local disk into a flat ``{name: tensor}`` dict, and load it strictly.

One job: turn a file (safetensors, a ``torch.save`` state dict, or a TorchScript archive such as
OpenAI's released CLIP ``.pt`` files) into tensors, and report every problem naming the file and key.
Nothing here knows about any particular architecture.
"""

from __future__ import annotations

import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from flamingo_eval.errors import WeightsError


def _is_safetensors(path: Path) -> bool:
    """True when the file starts like safetensors: an 8-byte header length, then a JSON object."""
    with path.open("rb") as f:
        head = f.read(9)
    if len(head) < 9:
        return False
    header_len = int.from_bytes(head[:8], "little")
    return head[8:9] == b"{" and 0 < header_len <= path.stat().st_size - 8


def _is_torchscript_archive(path: Path) -> bool:
    """True for a TorchScript zip: it holds compiled code (``<name>/code/...``) or ``constants.pkl``.

    A plain ``torch.save`` zip has only ``data.pkl`` and ``data/*`` entries, so it is never matched.
    """
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    # entries are prefixed by the archive's own folder name, e.g. "ViT-L-14/constants.pkl"
    return any(n.split("/", 1)[-1] == "constants.pkl" or "/code/" in n for n in names)


def _unnest(obj: object, path: Path) -> Mapping:
    """A checkpoint may wrap its state dict as ``{"state_dict": {...}, "epoch": ...}``; unwrap it."""
    if isinstance(obj, Mapping) and isinstance(obj.get("state_dict"), Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping):
        raise WeightsError(f"{path}: expected a state dict (a mapping of names to tensors), got {type(obj).__name__}")
    return obj


def read_state_dict(path: Path | str) -> dict[str, torch.Tensor]:
    """Read every tensor of a local weights file, on CPU, keyed by its name in the file.

    In: a path to (a) a ``.safetensors`` file, (b) a ``torch.save``d state dict, possibly nested under
    ``"state_dict"`` (read with ``weights_only=True``, never unpickling code), or (c) a TorchScript
    archive (read with ``torch.jit.load``; ``weights_only`` loading cannot read those).
    Out: ``{name: tensor}``; non-tensor entries (step counters, config strings) are skipped.
    Raises ``WeightsError`` naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file not found: {path}")
    try:
        if path.suffix == ".safetensors" or _is_safetensors(path):
            from safetensors.torch import load_file

            raw: Mapping = load_file(str(path), device="cpu")
        elif _is_torchscript_archive(path):
            # OpenAI's CLIP releases (e.g. ViT-L-14.pt) are TorchScript; only the tensors are used
            with warnings.catch_warnings():
                # torch deprecates TorchScript, but these archives exist only in that form
                warnings.filterwarnings("ignore", r".*torch\.jit\.load.*deprecated", DeprecationWarning)
                raw = torch.jit.load(str(path), map_location="cpu").state_dict()
        else:
            raw = _unnest(torch.load(path, map_location="cpu", weights_only=True), path)
    except WeightsError:
        raise
    except Exception as err:
        # torch / safetensors / pickle raise many unrelated types for a corrupt or foreign file
        raise WeightsError(f"cannot read weights file {path}: {type(err).__name__}: {err}") from err
    return {str(k): v for k, v in raw.items() if isinstance(v, torch.Tensor)}


def check_state_dict(
    expected: Mapping[str, torch.Tensor] | nn.Module,
    state: Mapping[str, torch.Tensor],
    *,
    source: Path | str,
    prefix: str = "",
) -> None:
    """Raise ``WeightsError`` unless ``state`` has exactly the expected keys, each with the same shape.

    ``expected``: a module (its state dict) or a mapping of name -> tensor. ``prefix`` is what the keys
    of ``state`` carried in the file (e.g. ``visual.``), so messages quote names found in ``source``.
    """
    what = type(expected).__name__ if isinstance(expected, nn.Module) else "the model"
    if isinstance(expected, nn.Module):
        expected = expected.state_dict()
    missing = [prefix + k for k in expected if k not in state]
    unexpected = sorted(prefix + k for k in state if k not in expected)
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing keys {preview_keys(missing)}")
        if unexpected:
            parts.append(f"unexpected keys {preview_keys(unexpected)}")
        raise WeightsError(f"{source}: does not fit {what}: " + "; ".join(parts))
    for key, want in expected.items():  # model order: the first mismatch is the most telling one
        got = state[key]
        if tuple(got.shape) != tuple(want.shape):
            raise WeightsError(
                f"{source}: key {prefix + key!r} has shape {tuple(got.shape)} in the file, "
                f"but {what} expects {tuple(want.shape)}"
            )


def load_strict(
    module: nn.Module,
    state: Mapping[str, torch.Tensor],
    *,
    source: Path | str,
    prefix: str = "",
    assign: bool = False,
) -> None:
    """Check ``state`` against ``module`` (see ``check_state_dict``), then load it.

    ``assign=False`` copies into the module's tensors (casting to their dtype). ``assign=True`` adopts
    the file's tensors, for a module built on the ``meta`` device so that a large model is not first
    randomly initialised; floating tensors are then cast to float32 (OpenAI's archives are float16).
    """
    check_state_dict(module, state, source=source, prefix=prefix)
    module.load_state_dict(dict(state), strict=True, assign=assign)
    if assign:
        module.float()


def preview_keys(keys: list[str], limit: int = 8) -> str:
    """At most ``limit`` keys, then a count, so a wholly wrong file gives a readable message."""
    shown = ", ".join(repr(k) for k in keys[:limit])
    more = f", ... ({len(keys) - limit} more)" if len(keys) > limit else ""
    return f"[{shown}{more}]"
