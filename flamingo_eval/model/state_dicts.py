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
from typing import Any

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
    Raises ``WeightsError`` naming the file: missing, a folder, unreadable (truncated, not a weights
    file, a pickle ``weights_only`` refuses), or holding a NaN or infinite value (naming the tensor).
    """
    path = require_file(path)
    try:
        if path.suffix == ".safetensors" or _is_safetensors(path):
            raw: Mapping = load_safetensors(path)
        elif _is_torchscript_archive(path):
            # OpenAI's CLIP releases (e.g. ViT-L-14.pt) are TorchScript; only the tensors are used
            with warnings.catch_warnings():
                # torch deprecates TorchScript, but these archives exist only in that form
                warnings.filterwarnings("ignore", r".*torch\.jit\.load.*deprecated", DeprecationWarning)
                raw = torch.jit.load(str(path), map_location="cpu").state_dict()
        else:
            raw = _unnest(load_torch(path), path)
    except WeightsError:
        raise
    except Exception as err:  # torch / zipfile raise many unrelated types for a corrupt or foreign file
        raise unreadable(path, err) from err
    state = {str(k): v for k, v in raw.items() if isinstance(v, torch.Tensor)}
    if raw and not state:  # an empty file is a valid (if useless) state dict; one of only other things is not
        raise WeightsError(f"{path}: holds no tensors (keys {preview_keys([str(k) for k in raw])})")
    check_finite(state, source=path)
    return state


# ---------------------------------------------------------------- reading files, with named failures


def require_file(path: Path | str, what: str = "weights file") -> Path:
    """``path`` as a Path when it is a regular file; ``WeightsError`` naming it otherwise."""
    path = Path(path)
    try:
        if path.is_file():
            return path
        is_dir = path.is_dir()
    except OSError as err:  # e.g. a name longer than the file system allows
        raise WeightsError(f"{what} {path} cannot be checked ({err.strerror or err})") from None
    raise WeightsError(f"{what} {path} is a folder, not a file" if is_dir else f"{what} not found: {path}")


def unreadable(path: Path, err: BaseException, what: str = "weights file") -> WeightsError:
    """The error for a file that exists but cannot be read as weights: the file and the reason, in
    one line (torch's messages run to paragraphs)."""
    message = str(err).strip()
    if "Weights only load failed" in message:  # torch.load(weights_only=True) refusing a pickle
        return WeightsError(f"cannot read {what} {path}: refused by torch.load(weights_only=True): it pickles "
                            "objects other than tensors and plain containers, and unpickling them could run code; "
                            "save a plain state dict (or safetensors)")
    first = message.splitlines()[0][:300] if message else ""
    reason = f"{type(err).__name__}: {first}" if first else type(err).__name__
    return WeightsError(f"cannot read {what} {path} (truncated, damaged or not a weights file?): {reason}")


def load_torch(path: Path, *, weights_only: bool = True, what: str = "weights file") -> Any:
    """``torch.load`` on CPU; any failure becomes a ``WeightsError`` naming the file and the reason."""
    try:
        return torch.load(path, map_location="cpu", weights_only=weights_only)
    except Exception as err:  # EOFError, UnpicklingError, RuntimeError (zip), OSError, ...
        raise unreadable(path, err, what) from err


def load_safetensors(path: Path, what: str = "weights file") -> dict[str, torch.Tensor]:
    """A safetensors file's tensors on CPU; a failure becomes a ``WeightsError`` naming the file."""
    from safetensors.torch import load_file

    try:
        return load_file(str(path), device="cpu")
    except Exception as err:  # SafetensorError (truncated header or data), OSError, ...
        raise unreadable(path, err, what) from err


def check_finite(state: Mapping[str, Any], *, source: Path | str, prefix: str = "") -> None:
    """``WeightsError`` naming the first floating-point tensor that holds a NaN or an infinity.

    Such weights load without complaint and then generate garbage (or nothing) far from the cause.
    """
    for key, tensor in state.items():
        if not isinstance(tensor, torch.Tensor) or not (tensor.is_floating_point() or tensor.is_complex()):
            continue
        if bool(torch.isfinite(tensor).all()):
            continue
        nan = int(torch.isnan(tensor).sum())
        inf = int(torch.isinf(tensor).sum())
        what = " and ".join(part for part in (f"{nan} NaN" if nan else "", f"{inf} infinite" if inf else "") if part)
        raise WeightsError(f"{source}: tensor {prefix}{key} has {what} values (of {tensor.numel()})")


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
