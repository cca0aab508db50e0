"""The training loop: the paper's objective on the demo suite's training splits.

Every step draws a batch from each mixture (pairs, videos, interleaved sequences), computes its
next-token loss on the text, and backpropagates the weighted sum (gradients accumulated over all data
sets, which the paper's ablation found better than round-robin; ``schedule: round_robin`` makes one
update per data set instead, in turn, so a step still sees one batch of every data set, as the paper's
Table 3 counts a step: "gradient updates on all training datasets"). Only the resampler, the gated
blocks and the added tokens' embeddings learn (and, with ``lm: unfrozen``, the LM's decoder layers at
``lm_lr_mult`` of the rate); the gates get a higher learning rate. Every ``eval_every`` steps the
validation splits are scored and the best weights are kept.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from ..data.formats import read_examples
from ..errors import SpecError
from ..model import load_model, save_adapters
from ..model.weights import save_lm_weights
from ..model.media import MediaBatch
from ..prompting.render import load_template
from ..storage import write_text_atomic
from .checkpoint import load_checkpoint, save_checkpoint
from .embeddings import AddedTokenRows
from .features import FeatureStore
from .recipe import Recipe
from .sequences import IGNORE, SourceSampler, TokenSequence, collate, tokenize

Log = Callable[[str], None]


class Trainer:
    def __init__(self, recipe: Recipe, data_root: Path, out: Path, *, cache_dir: Path | None = None, log: Log = print) -> None:
        self.recipe, self.out, self.log = recipe, Path(out), log
        self.rng = random.Random(recipe.seed)
        torch.manual_seed(recipe.seed)
        self.pipe = load_model(starting_spec(recipe))
        self.model = self.pipe.model
        training_mode(self.model)
        self.rows = AddedTokenRows(self.model, self.pipe.tokens.added)
        self.lm_trained = lm_trained_names(self.model) if recipe.lm == "unfrozen" else []
        if recipe.zero_frame_embs and recipe.init is None and self.model.perceiver.frame_embs is not None:
            with torch.no_grad():
                self.model.perceiver.frame_embs.zero_()
        self.samplers = {split: self._samplers(data_root, split) for split in ("train", "val")}
        self.features = FeatureStore(self.model, self.pipe.transform, max_frames=recipe.max_frames, cache_dir=cache_dir)
        self.val_set = self._validation_sequences()

    # ------------------------------------------------------------------ data
    def _samplers(self, data_root: Path, split: str) -> dict[str, SourceSampler]:
        out = {}
        for name, source in self.recipe.sources.items():
            entry = source.train if split == "train" else source.val
            examples = read_examples(source.format, Path(data_root) / source.folder, entry)
            out[name] = SourceSampler(examples, load_template(source.template), rename=source.rename,
                                      answer_loss_only=source.answer_loss_only)
        return out

    def _sequence(self, split: str, source: str, n: int, rng: random.Random) -> TokenSequence:
        sampler = self.samplers[split][source]
        return tokenize(sampler.draw(n, rng), self.pipe.tokenizer, sampler.template.separator,
                        answer_loss_only=sampler.answer_loss_only)

    def _batch(self, mixture_name: str, rng: random.Random) -> list[TokenSequence]:
        mixture = self.recipe.mixtures[mixture_name]
        batch = []
        for _ in range(mixture.batch_size or self.recipe.batch_size):
            n = rng.randint(*mixture.chunks)
            batch.append(self._sequence("train", rng.choice(mixture.sources), n, rng))
        return batch

    def _validation_sequences(self) -> dict[str, list[TokenSequence]]:
        """Fixed validation sequences per source: ``val_shots`` demonstrations and a query chunk."""
        rng = random.Random(self.recipe.seed + 1)
        return {
            name: [self._sequence("val", name, self.recipe.val_shots + 1, rng) for _ in range(self.recipe.val_sequences)]
            for name in self.recipe.sources
        }

    def precompute_features(self) -> None:
        refs = {ex.media[0] for split in self.samplers.values() for s in split.values() for ex in s.examples}
        self.log(f"frozen vision features for {len(refs)} images and videos (cached after the first time)")
        started = time.perf_counter()
        self.features.precompute(sorted(refs, key=lambda r: (str(r.path), r.start or 0)),
                                 progress=lambda done, total: self.log(f"  {done}/{total}") if done % 320 == 0 or done == total else None)
        self.log(f"features ready in {time.perf_counter() - started:.0f} s")

    # ------------------------------------------------------------------ model
    def _forward(self, batch: list[TokenSequence]) -> tuple[torch.Tensor, torch.Tensor]:
        ids, mask, labels = collate(batch, self.pipe.tokens.pad)
        refs = [ref for seq in batch for ref in seq.media]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.recipe.bf16):
            visual = self.model.resample([self.features[r].float() for r in refs])  # (N, n, d)
            per_seq = list(visual.split([len(seq.media) for seq in batch]))
            logits = self.model(ids, media=MediaBatch.stack(per_seq), attention_mask=mask).logits
        return logits.float(), labels

    def _loss(self, batch: list[TokenSequence]) -> torch.Tensor:
        logits, labels = self._forward(batch)
        return F.cross_entropy(logits[:, :-1].flatten(0, 1), labels[:, 1:].flatten(), ignore_index=IGNORE)

    def parameter_groups(self) -> list[dict[str, Any]]:
        groups = parameter_groups(self.recipe, self.model.trainable_parameters(), self.rows.parameters())
        return groups + lm_parameter_groups(self.recipe, self.model, self.lm_trained)

    # ------------------------------------------------------------------ validation
    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """Per source: the share of query answers predicted exactly (every answer token the argmax,
        teacher-forced) after ``val_shots`` demonstrations, and the mean over sources."""
        self.model.eval()
        scores = {}
        for name, sequences in self.val_set.items():
            scores[name] = exact_answers(lambda batch: self._forward(batch)[0], sequences)
        scores["mean"] = sum(scores.values()) / len(self.val_set)
        scores["visual_spread"] = visual_spread(self.model, self.features, self.val_set)
        training_mode(self.model)
        return scores

    # ------------------------------------------------------------------ the loop
    def train(self, *, stop_after: int | None = None, resume: bool = False) -> dict[str, Any]:
        """Run the recipe (to ``stop_after`` when given; the learning-rate schedule still spans
        ``recipe.steps``), from the output folder's checkpoint when ``resume``; returns the best
        validation score and its step."""
        r = self.recipe
        last = r.steps if stop_after is None else min(stop_after, r.steps)
        self.out.mkdir(parents=True, exist_ok=True)
        self.precompute_features()
        optimizer = torch.optim.AdamW(self.parameter_groups(), betas=(0.9, 0.999))
        trainable = [p for group in optimizer.param_groups for p in group["params"]]
        self.log(f"{sum(p.numel() for p in trainable) / 1e6:.1f}M trainable parameters")
        modules = {"model": self.model, "rows": self.rows}
        log_path = self.out / "log.jsonl"
        best: dict[str, Any] = {"score": -1.0, "step": 0}
        first = 1
        if resume:
            restored = load_checkpoint(self.out, modules=modules, optimizer=optimizer, rng=self.rng)
            first, best = restored["step"] + 1, restored["best"]
            _truncate_log(log_path, restored["step"])  # steps logged after the checkpoint are redone
            _append(log_path, {"resumed_after_step": restored["step"]})
            self.log(f"resumed after step {restored['step']} (best so far {best['score']:.3f} at step {best['step']})")
        elif log_path.exists():
            log_path.unlink()  # a fresh run starts a fresh log
        updates = step_updates(r)  # the same every step: the recipe fixes the schedule and the data sets
        started = time.perf_counter()
        for step in range(first, last + 1):
            step_started = time.perf_counter()
            scale = _schedule(step, r.warmup, r.steps)
            for group in optimizer.param_groups:
                group["lr"] = group["base_lr"] * scale
            losses = {}
            for update in updates:
                for name in update:
                    loss = self._loss(self._batch(name, self.rng))
                    (r.mixtures[name].weight * loss).backward()  # accumulated over the update's data sets
                    losses[name] = loss.item()
                torch.nn.utils.clip_grad_norm_(trainable, r.grad_clip)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
            record = {"step": step, "seconds": round(time.perf_counter() - started, 1),
                      "step_s": round(time.perf_counter() - step_started, 3), **{f"loss/{k}": v for k, v in losses.items()},
                      "gate/attn": _mean_gate(self.model, "attn_gate"), "gate/ffw": _mean_gate(self.model, "ffw_gate")}
            if step % r.eval_every == 0 or step == last:
                val = self.validate()
                record.update({f"val/{k}": v for k, v in val.items()})
                if val["mean"] > best["score"]:
                    best = {"score": val["mean"], "step": step, "val": val}
                    self.save(self.out / "best.safetensors")
            _append(log_path, record)
            # also after every validation, so a resumed run's best record matches best.safetensors
            if step % r.checkpoint_every == 0 or step == last or "val/mean" in record:
                save_checkpoint(self.out, step=step, modules=modules, optimizer=optimizer, rng=self.rng, best=best)
            if step % 10 == 0 or "val/mean" in record:
                self.log(" ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in record.items()))
        history = [h for h in _read_log(log_path) if "step" in h]
        _plot(history, self.out / "loss_curve.png")
        return {"best": best, "steps": last, "first_step": first, "seconds": time.perf_counter() - started}

    def save(self, path: Path) -> None:
        """The adapters to ``path`` (the spec and the recipe's variant in its metadata); with an unfrozen
        LM its trained layers beside it (``<stem>.lm.safetensors``)."""
        self.rows.write_back()
        config = self.pipe.spec.to_dict() | {"variant": self.recipe.variant, "seed": self.recipe.seed}
        save_adapters(self.model, self.pipe.tokens.added, path, config=config, dtype=torch.bfloat16)
        if self.lm_trained:
            save_lm_weights(self.model, self.lm_trained, lm_weights_path(path), dtype=torch.bfloat16)


def lm_weights_path(adapters: Path) -> Path:
    """Where an unfrozen LM's trained layers are saved beside the adapters file."""
    return adapters.with_name(adapters.stem + ".lm.safetensors")


def step_updates(recipe: Recipe) -> list[list[str]]:
    """A step's optimiser updates, each the data sets whose gradients it accumulates: one update over
    every active data set (accumulate), or one update per data set, in turn (round_robin). Either way a
    step sees one batch of each data set, so the two schedules compare at the same data."""
    names = list(recipe.active_mixtures())
    return [names] if recipe.schedule == "accumulate" else [[name] for name in names]


def lm_trained_names(model) -> list[str]:
    """The LM parameters the unfrozen-LM ablation trains: all but the embedding matrices (the added
    tokens' rows train through ``AddedTokenRows`` either way; a vocabulary-sized gradient every step
    would dominate the cost)."""
    lm = model.lm
    skip = {id(lm.get_input_embeddings().weight)}
    if lm.get_output_embeddings() is not None:
        skip.add(id(lm.get_output_embeddings().weight))
    return [n for n, p in lm.named_parameters() if id(p) not in skip]


def parameter_groups(recipe: Recipe, adapters, rows) -> list[dict[str, Any]]:
    """AdamW groups: the recipe's learning rate, scaled for gates and the resampler; weight decay on
    matrices only (not on latents, temporal embeddings, norms or biases); the new token rows plain."""
    groups: dict[tuple[float, float], list[torch.nn.Parameter]] = {}  # (lr, weight decay) -> parameters
    for name, p in adapters:
        lr = recipe.lr * (recipe.gate_lr_mult if name.endswith("_gate") else recipe.perceiver_lr_mult if name.startswith("perceiver.") else 1.0)
        decays = p.ndim >= 2 and not name.endswith(("latents", "frame_embs"))
        groups.setdefault((lr, recipe.weight_decay if decays else 0.0), []).append(p.requires_grad_(True))
    groups.setdefault((recipe.lr, 0.0), []).extend(rows)
    return [{"params": ps, "lr": lr, "weight_decay": wd, "base_lr": lr} for (lr, wd), ps in groups.items()]


def training_mode(model) -> None:
    """The adapters in training mode; the vision encoder and the LM in eval mode: frozen (the encoder's
    batch norms keep their statistics), or, an unfrozen LM, trained without dropout."""
    model.train()
    model.vision.eval()
    model.lm.eval()


def visual_spread(model, features, val_set: dict[str, list[TokenSequence]], items: int = 32) -> float:
    """How much the resampled visual tokens differ between validation images: the mean over token
    elements of their std across images, over their overall std. Near 0, the model is blind (every
    image gives the same tokens); earlier recipes drove it from 0.08 at initialisation to 0.001."""
    refs = list(dict.fromkeys(ref for seqs in val_set.values() for seq in seqs for ref in seq.media))[:items]
    with torch.no_grad():
        tokens = model.resample([features[r].float() for r in refs])  # (N, n, d)
    return float(tokens.std(0).mean() / tokens.std())


def lm_parameter_groups(recipe: Recipe, model, names: list[str]) -> list[dict[str, Any]]:
    """AdamW groups of the unfrozen LM's parameters ``names`` (none when frozen): ``lm_lr_mult`` of the
    rate, weight decay on its matrices as on the adapters'."""
    params = dict(model.lm.named_parameters())
    lr, groups = recipe.lr * recipe.lm_lr_mult, []
    for decays in (True, False):
        chosen = [params[n].requires_grad_(True) for n in names if (params[n].ndim >= 2) == decays]
        if chosen:
            groups.append({"params": chosen, "lr": lr, "weight_decay": recipe.weight_decay if decays else 0.0, "base_lr": lr})
    return groups


def exact_answers(logits_of, sequences: list[TokenSequence], batch_size: int = 16) -> float:
    """The share of sequences whose answer tokens are all the argmax (teacher-forced); ``logits_of``:
    a batch of sequences -> (B, T, V) logits."""
    right = 0
    for start in range(0, len(sequences), batch_size):
        batch = sequences[start : start + batch_size]
        predicted = logits_of(batch).argmax(-1)
        for b, seq in enumerate(batch):
            lo, hi = seq.answer_span
            right += int(predicted[b, lo - 1 : hi - 1].tolist() == seq.ids[lo:hi])
    return right / len(sequences)


def starting_spec(recipe: Recipe):
    """The recipe's model spec with its ablation overrides (``xattn``, ``perceiver``) and the adapters
    training starts from: ``init`` (an earlier stage's weights), or none (the untrained model)."""
    from ..model import get_spec
    from ..model.config import PerceiverConfig, XAttnConfig

    spec = get_spec(recipe.model)
    try:
        xattn = XAttnConfig(**(dataclasses.asdict(spec.xattn) | recipe.xattn))
        perceiver = PerceiverConfig(**(dataclasses.asdict(spec.perceiver) | recipe.perceiver))
    except (TypeError, ValueError) as err:
        raise SpecError(f"recipe {recipe.source_file or recipe.model}: xattn/perceiver override: {err}") from None
    return dataclasses.replace(spec, xattn=xattn, perceiver=perceiver, lm_weights=None,
                               adapters=None if recipe.init is None else str(Path(recipe.init).resolve()))


def _append(path: Path, record: dict[str, Any]) -> None:
    with path.open("a") as handle:
        handle.write(json.dumps(record) + "\n")


def _read_log(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def _truncate_log(path: Path, step: int) -> None:
    """Keep the log's records up to ``step`` (and earlier resume marks): later ones are redone."""
    kept = [r for r in _read_log(path) if r.get("step", 0) <= step]
    write_text_atomic(path, "".join(json.dumps(r) + "\n" for r in kept))


def _schedule(step: int, warmup: int, total: int) -> float:
    """Linear warm-up, then cosine decay to 10% of the peak."""
    if step <= warmup:
        return step / max(1, warmup)
    progress = (step - warmup) / max(1, total - warmup)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))


def _mean_gate(model, name: str) -> float | None:
    """Mean |tanh(gate)| over the blocks; None without gates (``gating: none``)."""
    gates = [getattr(block, name) for block in model.xattn.values() if hasattr(block, name)]
    return float(torch.stack([g.detach().tanh().abs() for g in gates]).mean()) if gates else None


def _plot(history: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for key in sorted({k for h in history for k in h if k.startswith("loss/")}):
        points = [h for h in history if key in h]  # round-robin: each data set on its own steps
        left.plot([h["step"] for h in points], [h[key] for h in points], label=key[5:], alpha=0.8)
    left.set(xlabel="step", ylabel="next-token loss", title="training loss per data set")
    left.legend()
    evals = [h for h in history if "val/mean" in h]
    for key in sorted({k for h in evals for k in h if k.startswith("val/")}):
        right.plot([h["step"] for h in evals], [h[key] for h in evals], marker="o", label=key[4:])
    right.set(xlabel="step", ylabel="exact answers (teacher-forced)", title="validation", ylim=(0, 1))
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
