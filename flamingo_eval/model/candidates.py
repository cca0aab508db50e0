"""Scoring many candidate texts after one prompt: multiple choice, classification, rank classification.

A k-shot classification query ranks C candidates (ImageNet: 1,000 class names) by
``log p(candidate | prompt) = sum_l log p(c_l | prompt, c_<l)`` (the paper's p(y|x), Alayrac et al.
2022, eq. 1). Scoring each full sequence costs C forwards of the whole prompt. Here the prompt
(demonstrations, query image, question) is prefilled once; its KV cache is shared by every candidate,
and only the candidates' own tokens are computed:

* the first token of every candidate is scored from the prompt's last logits (no forward at all);
* the candidates' tokens form a prefix tree: a token sequence shared by several candidates ("great
  white shark", "great grey owl" share "great") is computed once;
* packed path (an LM that takes position ids, e.g. LLaMA, GPT-NeoX): the tree's nodes go through the
  LM as one sequence after the cached prompt, each node attending to the prompt and to its own
  ancestors only (a 4-D attention mask), at the position it would have in its own sequence. Exact,
  because every node sees exactly the keys it would see in ``prompt + candidate``.
* rows path (an LM whose positions follow from the sequence itself, e.g. MPT's ALiBi, which a packed
  tree would mis-place): one row per candidate continuing the cached prompt, right-padded, in chunks.

The result equals scoring each ``prompt + candidate`` separately up to float rounding (a test holds
them to 1e-4).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .flamingo import Flamingo
from .prefix import PromptPrefix, encode_prefix, expand_cache, media_after_prefix

MAX_NODES = 512  # tree nodes per packed forward: bounds the (nodes, vocab) log-softmax and the mask
MAX_ROW_TOKENS = 8192  # rows path: rows x (prompt + candidate) tokens per forward


@torch.inference_mode()
def score_candidates(
    model: Flamingo,
    prompt_ids: torch.Tensor,
    media: torch.Tensor,
    candidates: Sequence[Sequence[int]],
    *,
    attend: str | None = None,
    packed: bool | None = None,
) -> torch.Tensor:
    """log p(candidate | prompt, media) for every candidate, summed over its tokens.

    In: (T,) ``prompt_ids`` holding one ``<image>`` per item of ``media`` (M, n, d) visual tokens; each
    candidate's token ids (at least one each, none of them ``<image>``); ``attend`` the masking mode
    (None: the model's own); ``packed`` forces the packed (True) or rows (False) path (None: packed
    when the LM takes position ids).
    Out: (C,) float32 log-likelihoods, in the candidates' order.
    """
    for i, cand in enumerate(candidates):
        if len(cand) == 0:
            raise ValueError(f"candidate {i} has no tokens")
        if model.media_token_id in cand:
            raise ValueError(f"candidate {i} contains the <image> token")
    attend = attend or model.xattn_config.attend
    prefix = encode_prefix(model, prompt_ids, media, attend=attend)
    first = torch.log_softmax(prefix.next_logits.float(), dim=-1)  # (V,): log p(c_1 | prompt)
    scores = torch.tensor([float(first[cand[0]]) for cand in candidates], dtype=torch.float32)
    rest = [i for i, cand in enumerate(candidates) if len(cand) > 1]  # one-token candidates are done
    if packed is None:
        packed = model._lm_takes_positions
    score_rest = _score_packed if packed else _score_rows
    for i, value in score_rest(model, prefix, [tuple(candidates[i]) for i in rest], attend).items():
        scores[rest[i]] += value
    return scores


def _score_packed(model: Flamingo, prefix: PromptPrefix, candidates: list[tuple[int, ...]], attend: str) -> dict[int, float]:
    """sum_{l >= 2} log p(c_l | prompt, c_<l) for each candidate, through prefix-tree chunks.

    A node is a candidate's proper prefix (c_1..c_j, j < L); its logits predict c_{j+1}. Candidates are
    taken in sorted order so that those sharing a start share a chunk; a chunk holds whole candidates
    (every ancestor of its nodes), at most ``MAX_NODES`` nodes unless one candidate alone is longer.
    """
    order = sorted(range(len(candidates)), key=lambda i: candidates[i])
    out: dict[int, float] = {}
    chunk: list[int] = []
    nodes: dict[tuple[int, ...], int] = {}
    for i in order:
        new = [candidates[i][:j] for j in range(1, len(candidates[i])) if candidates[i][:j] not in nodes]
        if chunk and len(nodes) + len(new) > MAX_NODES:
            out.update(_packed_chunk(model, prefix, candidates, chunk, nodes, attend))
            chunk, nodes = [], {}
            new = [candidates[i][:j] for j in range(1, len(candidates[i]))]
        for node in new:
            nodes[node] = len(nodes)  # parents before children: a node's prefixes are added first
        chunk.append(i)
    if chunk:
        out.update(_packed_chunk(model, prefix, candidates, chunk, nodes, attend))
    return out


def _packed_chunk(model: Flamingo, prefix: PromptPrefix, candidates: list[tuple[int, ...]], chunk: list[int],
                  nodes: dict[tuple[int, ...], int], attend: str) -> dict[int, float]:
    """One forward over a chunk's tree nodes after the prompt; each chunk candidate's later tokens scored."""
    n, t_p = len(nodes), prefix.length
    device = prefix.ids.device
    ids = torch.empty(n, dtype=torch.long)
    depth = torch.empty(n, dtype=torch.long)
    allowed = torch.zeros(n, n, dtype=torch.bool)  # allowed[i, j]: node j is node i or one of its ancestors
    for node, i in nodes.items():
        ids[i], depth[i] = node[-1], len(node)
        if len(node) > 1:
            allowed[i] = allowed[nodes[node[:-1]]]  # the parent's row is complete: parents come first
        allowed[i, i] = True
    dtype = model._lm_dtype()
    mask = torch.zeros(1, 1, n, t_p + n, dtype=dtype)  # (1, 1, N, T_p + N), additive: 0 = attend
    mask[0, 0, :, t_p:].masked_fill_(~allowed, torch.finfo(dtype).min)  # the prompt: every node sees all of it
    positions = (t_p + depth - 1)[None]  # (1, N): where the node's token sits in prompt + candidate
    media, offset = media_after_prefix(prefix, None, 1, attend=attend)
    out = model(ids[None].to(device), media=media, attention_mask=mask.to(device), position_ids=positions.to(device),
                cache=expand_cache(prefix, 1, model.lm.config), use_cache=True, media_offset=offset, attend=attend)
    log_probs = torch.log_softmax(out.logits[0].float(), dim=-1)  # (N, V): node i predicts its child's token
    return {i: float(sum(log_probs[nodes[candidates[i][:j]], candidates[i][j]] for j in range(1, len(candidates[i]))))
            for i in chunk}


def _score_rows(model: Flamingo, prefix: PromptPrefix, candidates: list[tuple[int, ...]], attend: str) -> dict[int, float]:
    """sum_{l >= 2} log p(c_l | prompt, c_<l), one row per candidate after the cached prompt, right-padded
    (a real token never attends to the padding after it, so the padding changes nothing)."""
    out: dict[int, float] = {}
    longest = max((len(c) for c in candidates), default=0)
    per_chunk = max(1, MAX_ROW_TOKENS // (prefix.length + longest))
    device = prefix.ids.device
    for start in range(0, len(candidates), per_chunk):
        group = candidates[start : start + per_chunk]
        rows, width = len(group), max(len(c) for c in group) - 1
        ids = torch.zeros(rows, width, dtype=torch.long)  # (R, W): c_1..c_{L-1}, then padding (id 0, masked)
        real = torch.zeros(rows, width, dtype=torch.long)
        for r, cand in enumerate(group):
            ids[r, : len(cand) - 1] = torch.tensor(cand[:-1])
            real[r, : len(cand) - 1] = 1
        mask = torch.cat([torch.ones(rows, prefix.length, dtype=torch.long), real], dim=1)  # (R, T_p + W)
        media, offset = media_after_prefix(prefix, None, rows, attend=attend)
        logits = model(ids.to(device), media=media, attention_mask=mask.to(device), cache=expand_cache(prefix, rows, model.lm.config),
                       use_cache=True, media_offset=offset, attend=attend).logits  # (R, W, V)
        log_probs = torch.log_softmax(logits.float(), dim=-1)
        for r, cand in enumerate(group):
            target = torch.tensor(cand[1:], device=log_probs.device)  # (L-1,): what positions 0..L-2 predict
            out[start + r] = float(log_probs[r, : len(cand) - 1].gather(-1, target[:, None]).sum())
    return out
