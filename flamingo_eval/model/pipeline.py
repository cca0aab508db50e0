"""Text and images in, text out: tokenisation, image preprocessing and generation around ``Flamingo``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from PIL import Image
from transformers import PreTrainedTokenizerBase

from ..errors import MediaError
from .flamingo import Flamingo
from .candidates import score_candidates
from .generate import GenerationConfig, generate, score_continuations
from .media import MediaBatch
from .tokenizer import FlamingoTokens
from .vision.base import ImageTransform

if TYPE_CHECKING:
    from .loader import LoadTimes
    from .spec import ModelSpec

# A media item: a PIL image, a list of PIL frames (a video), or pixels already made by the transform,
# (3, H, W) for an image or (F, 3, H, W) for a video.
Media = Image.Image | Sequence[Image.Image] | torch.Tensor


@dataclass
class FlamingoPipeline:
    spec: "ModelSpec"
    model: Flamingo
    tokenizer: PreTrainedTokenizerBase
    tokens: FlamingoTokens
    transform: ImageTransform
    load_times: "LoadTimes | None" = None

    @property
    def device(self) -> torch.device:
        return self.model.adapter_device

    @property
    def context_length(self) -> int | None:
        """The most tokens the LM was built for (its position table), or None when its config does not say."""
        config = self.model.lm.config
        for name in ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length"):
            value = getattr(config, name, None)
            if isinstance(value, int) and value > 0:
                return value
        return None

    def pixels(self, item: Media) -> torch.Tensor:
        """One media item -> (F, 3, H, W) pixels (F = 1 for an image)."""
        if isinstance(item, torch.Tensor):
            return item[None] if item.ndim == 3 else item
        if isinstance(item, Image.Image):
            return self.transform(item)[None]
        frames = list(item)
        if not frames:
            raise MediaError("a video with zero frames cannot be encoded")
        return torch.stack([self.transform(frame) for frame in frames])

    def encode_prompts(self, prompts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Texts with ``<image>`` markers -> left-padded (B, T) ids and attention mask."""
        batch = self.tokenizer(list(prompts), padding="longest", return_tensors="pt")
        return batch["input_ids"].to(self.device), batch["attention_mask"].to(self.device)

    def pad_left(self, rows: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Rows of token ids -> (B, T) ids left-padded with the pad token, and the (B, T) attention mask."""
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), self.tokens.pad, dtype=torch.long)
        mask = torch.zeros(len(rows), width, dtype=torch.long)
        for b, row in enumerate(rows):
            if row:
                ids[b, width - len(row):] = torch.tensor(list(row))
                mask[b, width - len(row):] = 1
        return ids.to(self.device), mask.to(self.device)

    def embed(self, media: Sequence[Sequence[Media]] | MediaBatch) -> MediaBatch:
        """Each prompt's media -> their visual tokens (a MediaBatch passes through unchanged)."""
        if isinstance(media, MediaBatch):
            return media
        return self.model.embed_media([[self.pixels(item) for item in items] for items in media])

    def stop_token_ids(self) -> list[int]:
        """<|endofchunk|> ends an answer in Flamingo's prompt format; the LM's own EOS ends it too."""
        eos = self.tokenizer.eos_token_id
        return [self.tokens.end_of_chunk] + ([eos] if eos is not None and eos != self.tokens.end_of_chunk else [])

    def generate(
        self,
        prompts: Sequence[str],
        media: Sequence[Sequence[Media]] | MediaBatch,
        config: GenerationConfig = GenerationConfig(),
        *,
        stop_token_ids: Sequence[int] | None = None,
        attend: str | None = None,
    ) -> list[str]:
        """Generate a continuation of each prompt; ``media[b]`` are prompt b's media in ``<image>`` order.
        ``attend``: "last" or "all" for this call (None: the model spec's own)."""
        ids, mask = self.encode_prompts(prompts)
        with torch.inference_mode():
            batch = self.embed(media)
        new = generate(
            self.model, ids, attention_mask=mask, media=batch, config=config,
            stop_token_ids=self.stop_token_ids() if stop_token_ids is None else stop_token_ids,
            pad_token_id=self.tokens.pad, attend=attend,
        )
        return self.tokenizer.batch_decode(new, skip_special_tokens=True)

    def score(self, prompts: Sequence[str], continuations: Sequence[str], media: Sequence[Sequence[Media]] | MediaBatch,
              *, attend: str | None = None) -> torch.Tensor:
        """log p(continuation | prompt, media) for each row, (B,) float32 (``attend`` as in ``generate``)."""
        conts = [self.tokenizer(c, add_special_tokens=False)["input_ids"] for c in continuations]
        ids, mask = self.pad_left([self.tokenizer(p)["input_ids"] + c for p, c in zip(prompts, conts)])
        cont = torch.zeros_like(mask)  # (B, T): 1 on each row's continuation tokens (they end every row)
        for b, c in enumerate(conts):
            cont[b, ids.shape[1] - len(c):] = 1
        with torch.inference_mode():
            batch = self.embed(media)
        return score_continuations(self.model, ids, attention_mask=mask, continuation_mask=cont, media=batch, attend=attend)

    def score_options(self, prompt: str, options: Sequence[str], media: Sequence[Media] | MediaBatch, *,
                      attend: str | None = None) -> tuple[torch.Tensor, list[int]]:
        """log p(option | prompt, media) for every option of one prompt, the prompt prefilled once and
        shared (``candidates.score_candidates``); equal to ``score`` on each ``prompt + option``.

        In: one prompt, its options, its media (in ``<image>`` order, or a one-row MediaBatch).
        Out: (C,) float32 summed log-probs, and each option's number of tokens (for a per-token mean).
        """
        conts = self.tokenizer(list(options), add_special_tokens=False)["input_ids"]  # one call for all options
        for option, cont in zip(options, conts):
            if not cont:
                raise ValueError(f"option {option!r} has no tokens")
        with torch.inference_mode():
            batch = self.embed(media if isinstance(media, MediaBatch) else [list(media)])
        tokens = batch.tokens[0, : int(batch.counts[0])]  # (M, n, d): this prompt's media
        ids = torch.tensor(self.tokenizer(prompt)["input_ids"], device=self.device)
        return score_candidates(self.model, ids, tokens, conts, attend=attend), [len(c) for c in conts]

    def describe(self) -> dict[str, Any]:
        """Parameter counts by part, for reports."""
        count = lambda module: sum(p.numel() for p in module.parameters())  # noqa: E731
        return {
            "vision": count(self.model.vision),
            "lm": count(self.model.lm),
            "perceiver": count(self.model.perceiver),
            "xattn": count(self.model.xattn),
        }
