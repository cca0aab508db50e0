"""Batched generation (greedy and beam search) and log-likelihood scoring for ``Flamingo``.

The search follows the semantics of HF transformers' ``generate`` (5.x) step for step, so that a
model evaluated here decodes exactly as OpenFlamingo's evaluation decodes it: the same candidates, the
same length penalty (sum of log-probs / generated length ** length_penalty), the same stopping rule.
Media keys and values are projected once per call; the prompt is prefilled once and the KV cache is
copied to the beams afterwards. With the paper's masking (each token sees only the last media before
it), the decode steps carry only each row's last media. A prompt start shared by many queries can be
prefilled once (``prefix.py``) and continued by every batch.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from transformers import DynamicCache

from .config import GenerationConfig  # plain data (benchmark specs hold it); re-exported here
from .flamingo import Flamingo
from .media import MediaBatch
from .prefix import PromptPrefix, expand_cache, media_after_prefix

if TYPE_CHECKING:
    from .static_decode import StaticDecoding

_NEG = -1.0e9  # the "impossible" score HF's beam search uses


@dataclass
class GenerationStats:
    """Seconds spent in ``generate``, summed over the calls it is passed to (for benchmarks)."""

    prefill_s: float = 0.0  # the prompt (or the part after a shared prefix) through the model
    decode_s: float = 0.0  # the search: one forward per new token
    calls: int = 0


class Decoder:
    """One generation's state around the model: KV cache, attention mask, media and media keys/values."""

    def __init__(
        self,
        model: Flamingo,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        media: MediaBatch | None,
        prefix: PromptPrefix | None = None,
        attend: str | None = None,
    ):
        self.model = model
        self.attend = attend or model.xattn_config.attend  # the masking mode of every call of this generation
        self.media_kv: dict = {}
        rows = input_ids.shape[0]
        offset = None
        if prefix is None:
            self.cache = DynamicCache(config=model.lm.config)
            self.mask, self.media = attention_mask, media
            positions = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)  # left padding
        else:
            # the rows continue the prefix: its KV cache is copied in, and the (left-padded) rows follow it
            self.cache = expand_cache(prefix, rows, model.lm.config)
            self.mask = torch.cat([attention_mask.new_ones(rows, prefix.length), attention_mask], dim=1)
            positions = (self.mask.long().cumsum(-1) - 1).clamp(min=0)[:, prefix.length :]
            self.media, offset = media_after_prefix(prefix, media, rows, attend=self.attend)
        out = model(
            input_ids,
            media=self.media,
            attention_mask=self.mask,
            position_ids=positions,
            cache=self.cache,
            use_cache=True,
            media_offset=offset,
            media_kv=self.media_kv,
            logits_to_keep=1,
            attend=self.attend,
        )
        self.logits = out.logits[:, -1].float()  # (B, V)
        self.offset = self.media.counts if self.media is not None else input_ids.new_zeros(rows)
        if self.media is not None and self.media.tokens.shape[1] > 1 and self.attend == "last":
            self._keep_last_media()

    def _keep_last_media(self) -> None:
        """From here on every token attends only to its row's last media (the paper's masking), so the
        decode steps carry that one item's keys and values instead of all of them (and of all beams)."""
        tokens, counts = self.media.tokens, self.media.counts  # (B, M, n, d), (B,)
        rows = torch.arange(tokens.shape[0], device=tokens.device)
        last = (counts - 1).clamp(min=0)
        n = tokens.shape[2]
        self.media = MediaBatch(tokens[rows, last][:, None], (counts > 0).long())  # (B, 1, n, d)
        self.offset = self.media.counts
        for key, (k, v) in self.media_kv.items():  # (B, h, M * n, dh) -> (B, h, n, dh)
            self.media_kv[key] = (k.unflatten(2, (-1, n))[rows, :, last], v.unflatten(2, (-1, n))[rows, :, last])

    def expand(self, repeats: int) -> None:
        """Copy every row ``repeats`` times (for beams), after the prefill."""
        self.cache.batch_repeat_interleave(repeats)
        self.mask = self.mask.repeat_interleave(repeats, dim=0)
        self.offset = self.offset.repeat_interleave(repeats, dim=0)
        self.logits = self.logits.repeat_interleave(repeats, dim=0)
        if self.media is not None:
            self.media = self.media.repeat_interleave(repeats)
        self.media_kv = {k: (kk.repeat_interleave(repeats, 0), vv.repeat_interleave(repeats, 0)) for k, (kk, vv) in self.media_kv.items()}

    def reorder(self, rows: torch.Tensor) -> None:
        """Keep the cache rows ``rows`` (B,) in that order (beams are reshuffled each step)."""
        self.cache.reorder_cache(rows)

    def step(self, tokens: torch.Tensor) -> None:
        """Feed one token per row; updates ``logits``."""
        self.mask = torch.cat([self.mask, self.mask.new_ones(self.mask.shape[0], 1)], dim=1)
        positions = self.mask.long().sum(-1, keepdim=True) - 1  # (B, 1)
        out = self.model(
            tokens[:, None],
            media=self.media,
            attention_mask=self.mask,
            position_ids=positions,
            cache=self.cache,
            use_cache=True,
            media_offset=self.offset,
            media_kv=self.media_kv,
            attend=self.attend,
        )
        self.logits = out.logits[:, -1].float()


@torch.inference_mode()
def generate(
    model: Flamingo,
    input_ids: torch.Tensor,
    *,
    attention_mask: torch.Tensor | None = None,
    media: MediaBatch | None,
    config: GenerationConfig = GenerationConfig(),
    stop_token_ids: Sequence[int],
    pad_token_id: int,
    prefix: PromptPrefix | None = None,
    stats: GenerationStats | None = None,
    attend: str | None = None,
    decoding: "StaticDecoding | None" = None,
) -> list[list[int]]:
    """Generate continuations of (B, T) left-padded prompts; returns each row's new token ids, ending with
    the stop token when one was produced (as HF's ``generate`` does), at most ``max_new_tokens`` long.

    With ``prefix`` (from ``encode_prefix``), each row is the rest of a prompt that starts with the
    prefix, and ``media`` holds only the media of that rest. ``attend``: the masking mode ("last" or
    "all"; None: the model's own), which must be the one the prefix was encoded with.
    """
    if attention_mask is None:
        attention_mask = torch.ones_like(input_ids)
    stops = torch.tensor(list(stop_token_ids), dtype=torch.long, device=input_ids.device)
    started = time.perf_counter()
    if decoding is None:
        decoder = Decoder(model, input_ids, attention_mask, media, prefix, attend)
    else:
        decoder = decoding.decoder(model, input_ids, attention_mask, media, prefix, attend, max_new_tokens=config.max_new_tokens)
    prefilled = _synced(input_ids.device)
    if config.num_beams == 1:
        out = _greedy(decoder, config, stops, pad_token_id)
    else:
        out = _beam_search(decoder, config, stops, input_ids.shape[0])
    if stats is not None:
        stats.prefill_s += prefilled - started
        stats.decode_s += _synced(input_ids.device) - prefilled
        stats.calls += 1
    return out


def _synced(device: torch.device) -> float:
    """The time once the device has finished its queued work (CUDA runs asynchronously)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter()


def _forbid_stops(scores: torch.Tensor, step: int, config: GenerationConfig, stops: torch.Tensor) -> torch.Tensor:
    if step < config.min_new_tokens and len(stops):
        scores = scores.index_fill(-1, stops, float("-inf"))
    return scores


def cut_after_stop(tokens: Sequence[int], stops: Collection[int]) -> list[int]:
    """Token ids up to and including the first stop token (what follows it is padding)."""
    for i, t in enumerate(tokens):
        if t in stops:
            return list(tokens[: i + 1])
    return list(tokens)


def _greedy(decoder: Decoder, config: GenerationConfig, stops: torch.Tensor, pad: int) -> list[list[int]]:
    rows = decoder.logits.shape[0]
    running = torch.ones(rows, dtype=torch.bool, device=decoder.logits.device)
    out: list[torch.Tensor] = []
    for step in range(config.max_new_tokens):
        tokens = _forbid_stops(decoder.logits, step, config, stops).argmax(-1)
        tokens = torch.where(running, tokens, torch.full_like(tokens, pad))  # finished rows get padding, as HF
        out.append(tokens)
        running &= ~torch.isin(tokens, stops)
        if not running.any() or step + 1 == config.max_new_tokens:
            break
        decoder.step(tokens)
    stop_set = set(stops.tolist())
    return [cut_after_stop(row, stop_set) for row in torch.stack(out, dim=1).tolist()]


def _beam_search(decoder: Decoder, config: GenerationConfig, stops: torch.Tensor, batch: int) -> list[list[int]]:
    """Beam search with HF's rules: keep the top K = max(2, 1 + #stops) * beams candidates per step; the
    best ``beams`` that did not stop continue; those among the first ``beams`` that stopped become
    hypotheses scored with the length penalty; stop once no running beam can beat the worst kept
    hypothesis (judged at the current length) or every candidate hits the length limit.
    """
    beams, max_new, lp = config.num_beams, config.max_new_tokens, config.length_penalty
    decoder.expand(beams)
    device = decoder.logits.device
    vocab = decoder.logits.shape[-1]
    k = max(2, 1 + len(stops)) * beams
    top_of_k = torch.arange(k, device=device) < beams  # (K,)
    fill = int(stops[0]) if len(stops) else 0

    running_scores = torch.zeros(batch, beams, device=device)
    running_scores[:, 1:] = _NEG  # all beams start identical: only the first may expand at step 0
    running_seqs = torch.full((batch, beams, max_new), fill, dtype=torch.long, device=device)
    done_scores = torch.full((batch, beams), _NEG, device=device)
    done_seqs = running_seqs.clone()
    done_lens = torch.zeros(batch, beams, dtype=torch.long, device=device)
    done_flags = torch.zeros(batch, beams, dtype=torch.bool, device=device)
    improvable = torch.ones(batch, 1, dtype=torch.bool, device=device)
    offsets = torch.arange(batch, device=device)[:, None] * beams  # (B, 1)

    for step in range(max_new):
        log_probs = _forbid_stops(torch.log_softmax(decoder.logits, dim=-1), step, config, stops)  # (B * beams, V)
        scores = (log_probs.view(batch, beams, vocab) + running_scores[..., None]).view(batch, beams * vocab)
        cand_scores, cand_idx = torch.topk(scores, k)  # (B, K)
        cand_beam, cand_token = cand_idx // vocab, cand_idx % vocab
        cand_seqs = torch.take_along_dim(running_seqs, cand_beam[..., None], dim=1)  # (B, K, max_new)
        cand_seqs[:, :, step] = cand_token
        hits = torch.isin(cand_token, stops) | (step + 1 >= max_new)  # (B, K)

        # the running beams for the next step: best candidates that did not stop
        alive_scores = cand_scores + hits.float() * _NEG
        keep = torch.topk(alive_scores, beams).indices  # (B, beams)
        running_seqs = torch.take_along_dim(cand_seqs, keep[..., None], dim=1)
        running_scores = torch.take_along_dim(alive_scores, keep, dim=1)
        parent = torch.take_along_dim(cand_beam, keep, dim=1)  # (B, beams)

        # finished hypotheses: merge the candidates that just stopped into the kept ones
        just_done = hits & top_of_k[None, :]
        new_scores = cand_scores / ((step + 1) ** lp)
        new_scores = new_scores + (~improvable).float() * _NEG
        new_scores = new_scores + (~just_done).float() * _NEG
        merged = torch.cat([done_scores, new_scores], dim=1)  # (B, beams + K)
        best = torch.topk(merged, beams).indices
        done_scores = torch.take_along_dim(merged, best, dim=1)
        done_seqs = torch.take_along_dim(torch.cat([done_seqs, cand_seqs], dim=1), best[..., None], dim=1)
        new_lens = torch.full_like(cand_beam, step + 1)
        done_lens = torch.take_along_dim(torch.cat([done_lens, new_lens], dim=1), best, dim=1)
        done_flags = torch.take_along_dim(torch.cat([done_flags, just_done], dim=1), best, dim=1)

        # can a running beam still beat the worst kept hypothesis? (HF's heuristic for early_stopping=False)
        best_running = running_scores[:, :1] / ((step + 1) ** lp)
        worst_done = torch.where(done_flags, done_scores.min(dim=1, keepdim=True).values, _NEG)
        improvable = improvable & (best_running > worst_done).any(dim=-1, keepdim=True)
        if not improvable.any() or hits.all():
            break
        decoder.reorder((parent + offsets).flatten())
        decoder.step(running_seqs[:, :, step].flatten())

    return [done_seqs[b, 0, : int(done_lens[b, 0])].tolist() for b in range(batch)]


@torch.inference_mode()
def score_continuations(
    model: Flamingo,
    input_ids: torch.Tensor,
    *,
    attention_mask: torch.Tensor,
    continuation_mask: torch.Tensor,
    media: MediaBatch | None,
    attend: str | None = None,
) -> torch.Tensor:
    """Sum of log p(token | everything before it) over the tokens marked in ``continuation_mask``.

    input_ids, attention_mask, continuation_mask: (B, T), left-padded prompt + continuation per row.
    Returns (B,) float32 log-likelihoods, for multiple-choice and classification tasks.
    """
    out = model(input_ids, media=media, attention_mask=attention_mask, attend=attend)
    log_probs = torch.log_softmax(out.logits[:, :-1].float(), dim=-1)  # (B, T-1, V): predicts tokens 1..T-1
    target = input_ids[:, 1:]
    token_lp = log_probs.gather(-1, target[..., None]).squeeze(-1)  # (B, T-1)
    return (token_lp * continuation_mask[:, 1:].to(token_lp.dtype)).sum(-1)
