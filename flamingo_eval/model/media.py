"""Resampled visual tokens for a batch of interleaved sequences."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class MediaBatch:
    """The visual tokens of every media item of every sequence in a batch, in prompt order.

    Sequences with fewer media are zero-padded along M; ``counts`` says how many slots are real.
    """

    tokens: torch.Tensor  # (B, M, n, d_visual)
    counts: torch.Tensor  # (B,) long

    @classmethod
    def stack(cls, per_sequence: Sequence[torch.Tensor]) -> "MediaBatch":
        """[(M_b, n, d) for each sequence b] -> MediaBatch with M = max M_b (sequences may have no media)."""
        if not per_sequence:
            raise ValueError("a batch needs at least one sequence")
        shapes = {tuple(t.shape[1:]) for t in per_sequence if t.shape[0] > 0}
        if len(shapes) > 1:
            raise ValueError(f"all media must have the same (n, d) visual token shape, got {sorted(shapes)}")
        n, d = shapes.pop() if shapes else per_sequence[0].shape[1:]
        ref = per_sequence[0]
        most = max(t.shape[0] for t in per_sequence)
        tokens = ref.new_zeros(len(per_sequence), most, n, d)  # (B, M, n, d)
        for b, t in enumerate(per_sequence):
            tokens[b, : t.shape[0]] = t
        counts = torch.tensor([t.shape[0] for t in per_sequence], dtype=torch.long, device=ref.device)
        return cls(tokens=tokens, counts=counts)

    @classmethod
    def of_items(cls, per_sequence: Sequence[Sequence[torch.Tensor]], *, num_latents: int, dim: int, device: torch.device | str) -> "MediaBatch":
        """[[(n, d) visual tokens of each media item] for each sequence] -> MediaBatch; a sequence may
        have no media (its slots are all padding)."""
        empty = torch.zeros(0, num_latents, dim, device=device)
        return cls.stack([torch.stack(list(items)) if items else empty for items in per_sequence])

    @property
    def num_latents(self) -> int:
        return self.tokens.shape[2]

    def repeat_interleave(self, repeats: int) -> "MediaBatch":
        """Each sequence's media repeated for ``repeats`` consecutive rows (one per beam)."""
        return MediaBatch(self.tokens.repeat_interleave(repeats, dim=0), self.counts.repeat_interleave(repeats, dim=0))

    def select(self, rows: torch.Tensor) -> "MediaBatch":
        return MediaBatch(self.tokens[rows], self.counts[rows])
