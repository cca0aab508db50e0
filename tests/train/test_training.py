"""The training recipe on a tiny model and a tiny demo suite: it runs, learns, and its weights load."""

from __future__ import annotations

import dataclasses
import json

import torch

from flamingo_eval.demo import DemoSizes, generate
from flamingo_eval.model import load_model
from flamingo_eval.train.loop import Trainer
from flamingo_eval.train.recipe import load_recipe
from flamingo_eval.train.sequences import SourceSampler, made_up_word, tokenize

TINY = DemoSizes(scenes_train=24, scenes_val=8, scenes_test=4, binding_train=24, binding_val=8, binding_testpool=4,
                 binding_test=4, video_train=6, video_val=4, video_test=2)


def test_recipe_trains_the_adapters_and_saves_loadable_weights(tmp_path):
    root = tmp_path / "data"
    generate(root, sizes=TINY)
    recipe = dataclasses.replace(load_recipe("smol_flamingo"), model="tiny", init=None, steps=14, eval_every=6, val_sequences=4,
                                 batch_size=4, warmup=2, lr=3e-3, bf16=False)
    trainer = Trainer(recipe, root, tmp_path / "run", cache_dir=tmp_path / "features", log=lambda *_: None)
    before = {n: p.detach().clone() for n, p in trainer.model.trainable_parameters()}
    assert torch.count_nonzero(before["perceiver.frame_embs"]) == 0  # zero_frame_embs
    rates = {(round(g["base_lr"] / recipe.lr, 3), g["weight_decay"] > 0) for g in trainer.parameter_groups()}
    assert rates == {(1.0, True), (1.0, False), (0.1, True), (0.1, False), (10.0, False)}  # resampler 0.1x, gates 10x
    result = trainer.train(stop_after=12)  # the schedule spans 14 steps; the run ends after 12
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert len(log) == 12 and "val/mean" in log[5] and (tmp_path / "run" / "loss_curve.png").is_file()
    assert 0 < log[5]["val/visual_spread"] < 1  # images give different visual tokens
    first, last = log[0]["loss/interleaved"], sum(r["loss/interleaved"] for r in log[-3:]) / 3
    assert last < first  # it learns
    changed = [n for n, p in trainer.model.trainable_parameters() if not torch.equal(p, before[n])]
    assert any(n.endswith("attn_gate") for n in changed) and any(n.startswith("perceiver.") for n in changed)
    assert not any(p.requires_grad for p in trainer.model.lm.parameters())  # the LM stays frozen
    # the best checkpoint loads into the spec and reproduces the trained rows of <image>
    spec = dataclasses.replace(trainer.pipe.spec, adapters=str(tmp_path / "run" / "best.safetensors"))
    loaded = load_model(spec)
    assert loaded.model.xattn["1"].attn_gate.item() != 0.0
    assert result["best"]["step"] in (6, 12)


def test_binding_sequences_rename_kinds_and_end_on_a_shown_kind(tmp_path):
    import random

    root = tmp_path / "data"
    generate(root, sizes=TINY)
    recipe = load_recipe("smol_flamingo")
    from flamingo_eval.data.formats import read_examples
    from flamingo_eval.prompting.render import load_template

    source = recipe.sources["binding"]
    examples = read_examples(source.format, root / source.folder, source.train)
    sampler = SourceSampler(examples, load_template(source.template), rename=True)
    rng = random.Random(0)
    for _ in range(20):
        chunks = sampler.draw(5, rng)
        names = [c.answer for c in chunks]
        assert len(set(names)) <= 2 and names[-1] in names[:-1]  # two kinds; the query's was shown
        assert all(c.prompt.startswith("<image>Question:What is this? Short answer:") for c in chunks)
    from flamingo_eval.demo.vocab import NONSENSE_NAMES

    drawn = {made_up_word(random.Random(i), frozenset(NONSENSE_NAMES)) for i in range(3000)}
    assert len(drawn) > 500 and not drawn & set(NONSENSE_NAMES)  # the suite's held-out names never appear
    tiny = load_model("tiny")
    seq = tokenize(chunks, tiny.tokenizer, "\n")
    lo, hi = seq.answer_span
    assert tiny.tokenizer.decode(seq.ids[lo:hi]) == chunks[-1].answer
    assert seq.ids.count(tiny.tokens.media) == 5 and all(l == -100 for i, l in zip(seq.ids, seq.labels) if i == tiny.tokens.media)
    # a name's first mention cannot be predicted: no loss there; every later mention (the query's too) has it
    first_mentions = [c.answer not in [d.answer for d in chunks[:i]] for i, c in enumerate(chunks)]
    assert [not c.learn_answer for c in chunks] == first_mentions and chunks[-1].learn_answer
    assert seq.labels[lo:hi] == seq.ids[lo:hi]
    learned = [l for l in seq.labels if l != -100]
    answers_only = tokenize(chunks, tiny.tokenizer, "\n", answer_loss_only=True)
    assert answers_only.ids == seq.ids and answers_only.labels[lo:hi] == seq.ids[lo:hi]
    kept = [l for l in answers_only.labels if l != -100]
    # with answer_loss_only only the learnable names and the chunk ends keep their labels
    names = sum(len(tiny.tokenizer(c.answer, add_special_tokens=False)["input_ids"]) for c in chunks if c.learn_answer)
    ends = 5 * len(tiny.tokenizer("<|endofchunk|>\n", add_special_tokens=False)["input_ids"])
    assert len(kept) == names + ends < len(learned)


def test_a_stopped_run_resumes_to_the_same_weights(tmp_path):
    """Stopped after step 3 and resumed from its checkpoint, a run ends with the same weights, optimiser
    and log as one that never stopped; the log says where it resumed."""
    root = tmp_path / "data"
    generate(root, sizes=TINY)
    recipe = dataclasses.replace(load_recipe("smol_flamingo"), model="tiny", init=None, steps=6, eval_every=3,
                                 checkpoint_every=3, val_sequences=2, batch_size=2, warmup=1, lr=3e-3, bf16=False)

    def trainer(out):
        return Trainer(recipe, root, out, cache_dir=tmp_path / "features", log=lambda *_: None)

    whole = trainer(tmp_path / "whole")
    whole.train()
    trainer(tmp_path / "parts").train(stop_after=3)
    resumed = trainer(tmp_path / "parts")
    result = resumed.train(resume=True)
    assert result["first_step"] == 4
    # the same batches and optimiser state; equal up to float rounding (two uninterrupted runs on this
    # CPU already differ in the last bits from step 2, threaded reductions not being bit-reproducible)
    for (name, a), (_, b) in zip(whole.model.trainable_parameters(), resumed.model.trainable_parameters()):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-5), name
    assert torch.allclose(whole.rows.input_rows, resumed.rows.input_rows, rtol=1e-4, atol=1e-5)
    log = [json.loads(line) for line in (tmp_path / "parts" / "log.jsonl").read_text().splitlines()]
    assert [r.get("step", "resumed") for r in log] == [1, 2, 3, "resumed", 4, 5, 6] and log[3] == {"resumed_after_step": 3}
    whole_log = [json.loads(line) for line in (tmp_path / "whole" / "log.jsonl").read_text().splitlines()]
    for a, b in zip(whole_log, [r for r in log if "step" in r]):
        assert abs(a["loss/binding"] - b["loss/binding"]) < 1e-4 * abs(a["loss/binding"])


def test_resume_without_a_checkpoint_names_the_file(tmp_path):
    import pytest

    from flamingo_eval.errors import WeightsError

    root = tmp_path / "data"
    generate(root, sizes=TINY)
    recipe = dataclasses.replace(load_recipe("smol_flamingo"), model="tiny", init=None, steps=2, val_sequences=2, bf16=False)
    trainer = Trainer(recipe, root, tmp_path / "run", cache_dir=tmp_path / "features", log=lambda *_: None)
    with pytest.raises(WeightsError, match=r"run/checkpoint.pt does not exist"):
        trainer.train(resume=True)
