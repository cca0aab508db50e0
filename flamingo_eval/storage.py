"""Storage: writing files atomically, content digests, and the content-keyed embedding cache.

Every file is written to a temporary file in the target's folder, flushed and fsynced, then renamed over
the target with ``os.replace``: the rename is atomic (one folder is one file system), so a reader, or the
next run after a crash, sees the old file or the new one, never half of one; the fsync comes first so the
rename cannot reach the disk before the data does. This module is the bottom room: it imports nothing of
flamingo_eval but ``errors``, and torch only inside the cache's functions, so ``data/`` stays torch-free.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import CacheWarning, MediaError

if TYPE_CHECKING:
    import torch

PathLike = str | os.PathLike[str]


def _read_umask() -> int:
    """The process's umask (reading it means setting it, so it is set back at once; read once, at import,
    so that no other thread can create a file in between later)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


@contextlib.contextmanager
def atomic_path(path: PathLike) -> Iterator[Path]:
    """A temporary path next to ``path`` for a writer that needs a path (safetensors' ``save_file``,
    ``torch.save``): fsynced and renamed over ``path`` when the block ends, removed if it raises.
    The folder must exist."""
    target = Path(path)
    # hidden and named after the target, so a stray left by a killed process is obvious and is not
    # mistaken for the target by a glob on its suffix
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())  # the rename must not reach the disk before the data does
        # mkstemp makes the file private (0600); the result gets the permissions a plain open() would
        # give it, so a results folder can be shared or served as any other files
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns the path. The folder must exist. A failure leaves
    the old file (if any) untouched and no temporary file behind."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            handle.write(data)
    return Path(path)


def write_text_atomic(path: PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` atomically; returns the path."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_json(path: PathLike, data: Any) -> Path:
    """Write ``data`` as indented JSON (keys in insertion order, a final newline) atomically."""
    return write_text_atomic(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def file_digest(path: PathLike) -> str:
    """sha256 of a file's bytes, read in 1 MiB blocks (what caches key media by, what provenance records);
    ``MediaError`` naming the file when it cannot be read."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError as err:  # missing, a folder, no permission
        raise MediaError(f"{path}: cannot read it ({err.strerror or err})") from None
    return h.hexdigest()


def text_digest(text: str) -> str:
    """sha256 of a string's UTF-8 bytes."""
    return hashlib.sha256(text.encode()).hexdigest()


def module_fingerprint(module: torch.nn.Module, *extra: str) -> str:
    """sha256 over a module's parameter names, shapes and values (and ``extra`` settings), 16 hex digits."""
    import torch

    h = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        h.update(f"{name}:{tuple(tensor.shape)}:{tensor.dtype}".encode())
        h.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    for item in extra:
        h.update(item.encode())
    return h.hexdigest()[:16]


class EmbeddingCache:
    """content key -> tensor, for one producer fingerprint; in memory, and on disk when ``directory`` is
    given (one safetensors shard per flush under ``directory/<fingerprint>/``), stored as ``dtype``
    (float32 when None).

    The disk copy is derived data, so it never stops a run: a shard that cannot be read (cut off,
    damaged) or holds a NaN or infinite value is named once in a ``CacheWarning``, removed, and its
    entries are computed again; a folder that cannot be written is named once and the cache goes on
    in memory only.
    """

    def __init__(self, directory: Path | None, fingerprint: str, *, dtype: torch.dtype | None = None) -> None:
        import torch

        self.dtype = torch.float32 if dtype is None else dtype
        self.folder = None if directory is None else Path(directory) / fingerprint
        self.vectors: dict[str, torch.Tensor] = {}
        self.new: dict[str, torch.Tensor] = {}
        if self.folder is not None and self.folder.is_dir():
            for shard in sorted(self.folder.glob("*.safetensors")):
                self.vectors.update(self._read(shard))

    @staticmethod
    def _read(shard: Path) -> dict[str, torch.Tensor]:
        """A shard's vectors; {} (and the shard removed, with a warning) when it is not usable."""
        import torch
        from safetensors.torch import load_file

        try:
            vectors = load_file(str(shard))
            for key, vector in vectors.items():
                if vector.is_floating_point() and not bool(torch.isfinite(vector).all()):
                    raise ValueError(f"entry {key} holds NaN or infinite values")
        except Exception as err:  # SafetensorError, OSError, ...: whatever a damaged file raises
            reason = (str(err).strip().splitlines() or [""])[0][:200]
            warnings.warn(CacheWarning(f"{shard}: damaged cache file ({type(err).__name__}: {reason}); "
                                       "removed, its entries will be computed again"), stacklevel=3)
            with contextlib.suppress(OSError):
                shard.unlink()
            return {}
        return vectors

    def __contains__(self, key: str) -> bool:
        return key in self.vectors

    def __getitem__(self, key: str) -> torch.Tensor:
        return self.vectors[key]

    def put(self, key: str, vector: torch.Tensor) -> None:
        self.vectors[key] = self.new[key] = vector.detach().cpu().to(self.dtype).contiguous()

    def flush(self) -> None:
        """Write the vectors added since the last flush as a new shard (named by its content), atomically:
        a crash leaves no half shard."""
        from safetensors import SafetensorError
        from safetensors.torch import save_file

        if self.folder is None or not self.new:
            return
        name = text_digest("".join(sorted(self.new)))[:16]
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with atomic_path(self.folder / f"{name}.safetensors") as tmp:
                save_file(self.new, str(tmp))
        except (OSError, SafetensorError) as err:  # a full disk, a file where the folder should be, ...
            warnings.warn(CacheWarning(f"{self.folder}: cannot write the cache ({type(err).__name__}: {err}); "
                                       "going on without saving it to disk"), stacklevel=2)
            self.folder = None
        self.new = {}
