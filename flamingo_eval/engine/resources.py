"""What a run loads once and reuses across its jobs: models, their answerers and visual-token caches,
and retrieval embedders. Each is made on first use and keyed by what it depends on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ..model import load_model
from ..model.pipeline import FlamingoPipeline
from ..prompting.retrieval import ImageEmbedder, TextEmbedder
from .answering import Answerer, static_decoding
from .memory_budget import AUTO, auto_token_budget, measure_costs
from .settings import RunSettings
from .visual_cache import VisualTokenCache

T = TypeVar("T")


class Resources:
    def __init__(self, settings: RunSettings) -> None:
        self.settings = settings
        self._made: dict[tuple, Any] = {}

    def _once(self, key: tuple, make: Callable[[], T]) -> T:
        if key not in self._made:
            self._made[key] = make()
        return self._made[key]

    def model(self, name: str) -> FlamingoPipeline:
        return self._once(("model", name), lambda: load_model(
            name, device=self.settings.device, dtype=self.settings.dtype, vision_dtype=self.settings.vision_dtype))

    def answerer(self, name: str) -> Answerer:
        """Per model: shared prompt starts are prefilled once."""
        return self._once(("answerer", name), lambda: Answerer(
            self.model(name), share_prefix=self.settings.share_prefix, decoding=static_decoding(self.model(name), self.settings.decode)))

    def token_budget(self, name: str, beams: int) -> int | None:
        """The batch token budget for a model's jobs with ``beams`` beams: the setting, or with ``auto``
        sized to the memory free once the model is loaded (``memory_budget``; measured once per model)."""
        if self.settings.token_budget != AUTO:
            return self.settings.token_budget
        pipe = self.model(name)
        costs = self._once(("token_costs", name), lambda: measure_costs(pipe))
        return self._once(("token_budget", name, beams), lambda: auto_token_budget(pipe, beams=beams, costs=costs))

    def visual_cache(self, name: str) -> VisualTokenCache:
        """Per model: demonstrations recur across queries, so their visual tokens are kept."""
        return self._once(("visual", name), lambda: VisualTokenCache(self.model(name), directory=self.settings.visual_cache))

    def embedder(self, selection: str, model: str) -> Callable | None:
        """The embedder a similarity selection needs (RICES: the model's vision encoder; text: MiniLM)."""
        cache = Path(self.settings.embedding_cache) if self.settings.embedding_cache else None
        if selection == "rices":
            return self._once(("embedder", selection, model), lambda: ImageEmbedder(self.model(model).model.vision, cache_dir=cache))
        if selection == "text":
            return self._once(("embedder", selection), lambda: TextEmbedder(cache_dir=cache))
        return None
