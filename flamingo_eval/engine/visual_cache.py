"""Resampled visual tokens of media items, computed once per run and reused.

Demonstrations recur across queries (OpenFlamingo's evaluation draws them from a query set of a few
thousand items and re-encodes them for every query); here each item is decoded, encoded and resampled
once per model, and kept in a bounded least-recently-used map keyed by the media reference and the
frame-sampling settings.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import torch

from ..benchmark import VideoSpec
from ..data.example import MediaRef
from ..model.media import MediaBatch
from ..model.pipeline import FlamingoPipeline


class VisualTokenCache:
    def __init__(self, pipe: FlamingoPipeline, load: Callable[[MediaRef, VideoSpec], Any], *, max_items: int = 8192) -> None:
        self.pipe, self.load, self.max_items = pipe, load, max_items
        self.tokens: OrderedDict[tuple, torch.Tensor] = OrderedDict()
        self.encoded = 0  # items encoded so far (the rest were reused)

    def get(self, refs: Sequence[MediaRef], video: VideoSpec) -> list[torch.Tensor]:
        """The (n, d) visual tokens of each ref; missing ones are decoded and encoded together.
        A MediaError from decoding propagates, naming the file."""
        keys = [(ref, video.fps, video.max_frames) for ref in refs]
        missing = list(dict.fromkeys(k for k in keys if k not in self.tokens))
        if missing:
            pixels = [self.pipe.pixels(self.load(ref, video)) for ref, _, _ in missing]
            with torch.inference_mode():
                encoded = self.pipe.model.encode_media(pixels)  # (N, n, d)
            for key, tokens in zip(missing, encoded):
                self.tokens[key] = tokens
            self.encoded += len(missing)
        out = []
        for key in keys:
            self.tokens.move_to_end(key)
            out.append(self.tokens[key])
        while len(self.tokens) > self.max_items:
            self.tokens.popitem(last=False)
        return out

    def batch(self, per_prompt: Sequence[Sequence[torch.Tensor]]) -> MediaBatch:
        """Each prompt's tokens -> a MediaBatch (a prompt may have none)."""
        n, d = self.pipe.spec.perceiver.num_latents, self.pipe.model.vision.dim
        device = self.pipe.device
        return MediaBatch.stack([torch.stack(list(t)) if t else torch.zeros(0, n, d, device=device) for t in per_prompt])
