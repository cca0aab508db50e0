"""The training switches of the paper's ablations (Table 3) on the tiny model and a tiny demo suite:
round-robin updates on one data set at a time, "w/o M3W" drops the interleaved ones, an unfrozen LM learns,
and a trained variant comes out as a model spec that loads with its architecture."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from flamingo_eval.demo import generate
from flamingo_eval.errors import SpecError
from flamingo_eval.model import load_model
from flamingo_eval.train.loop import Trainer, step_updates
from flamingo_eval.train.recipe import load_recipe
from flamingo_eval.train.session import write_trained_spec
from flamingo_eval.train.variants import apply_variant, describe, parse_variant

from .test_training import TINY


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    generate(root, sizes=TINY)
    return root


def _recipe(**changes):
    base = dataclasses.replace(load_recipe("smol_flamingo"), model="tiny", init=None, steps=4, eval_every=4, val_sequences=2,
                               batch_size=2, warmup=1, lr=3e-3, bf16=False)
    return dataclasses.replace(base, **changes)


def _log(folder):
    return [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]


def _events(recipe, data_root, tmp_path, monkeypatch):
    """What a 2-step training does, in order: each batch drawn (its data set's name) and "update" for
    each optimiser step."""
    events = []
    draw, update = Trainer._batch, torch.optim.AdamW.step
    monkeypatch.setattr(Trainer, "_batch", lambda self, name, rng: events.append(name) or draw(self, name, rng))
    monkeypatch.setattr(torch.optim.AdamW, "step", lambda self, *a, **k: events.append("update") or update(self, *a, **k))
    Trainer(recipe, data_root, tmp_path / "run", cache_dir=tmp_path / "f", log=lambda *_: None).train()
    return events, _log(tmp_path / "run")


def test_round_robin_updates_on_one_data_set_at_a_time(data_root, tmp_path, monkeypatch):
    recipe = apply_variant(_recipe(steps=2, eval_every=2), "schedule=round_robin")
    names = list(recipe.mixtures)
    assert step_updates(recipe) == [[n] for n in names]
    events, log = _events(recipe, data_root, tmp_path, monkeypatch)
    # one batch of one data set, then an update, in turn; a step still sees every data set once (the
    # paper's Table 3 step: "gradient updates on all training datasets")
    assert events == [x for _ in range(2) for n in names for x in (n, "update")]
    assert all({k[5:] for k in r if k.startswith("loss/")} == set(names) for r in log)


def test_accumulate_makes_one_update_over_all_data_sets(data_root, tmp_path, monkeypatch):
    recipe = _recipe(steps=2, eval_every=2)
    names = list(recipe.mixtures)
    assert step_updates(recipe) == [names]
    events, _ = _events(recipe, data_root, tmp_path, monkeypatch)
    assert events == [*names, "update"] * 2


def test_no_interleaved_leaves_out_the_interleaved_data_sets(data_root, tmp_path):
    recipe = apply_variant(_recipe(steps=2), "no_interleaved")
    assert set(recipe.active_mixtures()) == {"pairs", "video"}  # binding and interleaved are marked interleaved
    Trainer(recipe, data_root, tmp_path / "run", cache_dir=tmp_path / "f", log=lambda *_: None).train()
    assert all({k for k in r if k.startswith("loss/")} == {"loss/pairs", "loss/video"} for r in _log(tmp_path / "run"))


def test_an_unfrozen_lm_receives_gradients_and_its_layers_are_saved(data_root, tmp_path):
    recipe = apply_variant(_recipe(steps=2, eval_every=2), "lm=unfrozen")
    trainer = Trainer(recipe, data_root, tmp_path / "run", cache_dir=tmp_path / "f", log=lambda *_: None)
    before = {n: p.detach().clone() for n, p in trainer.model.lm.named_parameters()}
    lm_rates = {g["base_lr"] for g in trainer.parameter_groups() if any(p is q for p in g["params"] for q in trainer.model.lm.parameters())}
    assert lm_rates == {recipe.lr * recipe.lm_lr_mult}
    trainer.train()
    after = dict(trainer.model.lm.named_parameters())
    changed = {n for n in before if not torch.equal(before[n], after[n].detach())}
    assert any(".layers." in n for n in changed)  # the decoder layers learnt
    embed = "model.embed_tokens.weight"  # frozen but for the added tokens' rows (trained either way)
    others = [i for i in range(before[embed].shape[0]) if i not in trainer.pipe.tokens.added]
    assert torch.equal(before[embed][others], after[embed].detach()[others])
    assert (tmp_path / "run" / "best.lm.safetensors").is_file()


def test_frozen_lm_gets_no_gradient(data_root, tmp_path):
    trainer = Trainer(_recipe(steps=1), data_root, tmp_path / "run", cache_dir=tmp_path / "f", log=lambda *_: None)
    trainer.parameter_groups()
    assert not any(p.requires_grad for p in trainer.model.lm.parameters())


@pytest.mark.parametrize(("variant", "check"), [
    ("gating=none", lambda pipe: not any(n.endswith("_gate") for n, _ in pipe.model.xattn.named_parameters())),
    ("connector=mean", lambda pipe: pipe.spec.perceiver.tokens_per_media == 1),
    ("xattn_every=single", lambda pipe: list(pipe.model.xattn) == ["2"]),
    ("lm=unfrozen", lambda pipe: pipe.spec.lm_weights == "best.lm.safetensors"),
])
def test_a_trained_variant_is_a_model_spec_that_loads(data_root, tmp_path, variant, check):
    """What ``flamingo-eval train --variant`` does after training: model.yaml names the weights and the switch."""
    out = tmp_path / "run"
    trainer = Trainer(apply_variant(_recipe(steps=2, eval_every=2), variant), data_root, out, cache_dir=tmp_path / "f",
                      log=lambda *_: None)
    write_trained_spec(trainer, out, trainer.train())
    record = json.loads((out / "variant.json").read_text())
    assert record["variant"] == variant.replace("=", "-")
    assert record["trained_parameters"] > 0 and record["seconds_per_step"] > 0 and record["seed"] == 0
    pipe = load_model(out / "model.yaml")
    assert pipe.spec.name == f"tiny-{record['variant']}" and check(pipe)


def test_switches_are_checked():
    assert parse_variant("xattn_every=2") == ("xattn_every", "2")
    assert parse_variant("no_interleaved") == ("no_interleaved", "")
    with pytest.raises(SpecError, match="unknown ablation switch 'gates'"):
        parse_variant("gates=none")
    with pytest.raises(SpecError, match="connector: 'transformer' is not one of: mlp, mean"):
        parse_variant("connector=transformer")
    with pytest.raises(SpecError, match="no value"):
        parse_variant("no_interleaved=yes")
    with pytest.raises(SpecError, match="already the variant"):
        apply_variant(apply_variant(_recipe(), "gating=none"), "lm=unfrozen")
    assert describe("gating-none").startswith("no tanh gates") and describe("baseline") == "the baseline"
    # every value of every switch says what it changed, in its own words (the table's "what changed")
    from flamingo_eval.train.variants import SWITCHES

    names = [f"{s}-{v}" if v else s for s, switch in SWITCHES.items() for v in (switch.values or ("",))]
    words = [describe(name) for name in names]
    assert None not in words and len(set(words)) == len(names)
    assert describe("xattn_every-2") == "a gated block before every 2nd LM layer"
    assert describe("prompt-b") is None  # not a switch's name: the report keeps the recorded words


def test_a_recipe_can_change_a_base_recipe_key_by_key(tmp_path):
    reduced = load_recipe("smol_flamingo_ablation")
    full = load_recipe("smol_flamingo")
    assert reduced.init is None and reduced.steps < full.steps and reduced.mixtures == full.mixtures
    assert reduced.sources == full.sources and reduced.lr == full.lr
    child = tmp_path / "child.yaml"
    child.write_text("base: smol_flamingo\nmixtures: {binding: {batch_size: 4}}\n")
    recipe = load_recipe(child)
    assert recipe.mixtures["binding"].batch_size == 4 and recipe.mixtures["binding"].chunks == full.mixtures["binding"].chunks
    loop = tmp_path / "loop.yaml"
    loop.write_text("base: loop.yaml\nsteps: 3\n")
    with pytest.raises(SpecError, match="leads back to itself"):
        load_recipe(loop)
    bad = tmp_path / "bad.yaml"
    bad.write_text("base: smol_flamingo\nmixtures: {binding: {batch_size: lots}}\n")
    with pytest.raises(SpecError, match=r"bad.yaml: mixtures.binding.batch_size"):
        load_recipe(bad)


def test_trained_variants_go_through_ablate_into_the_table(data_root, tmp_path):
    """The flow of scripts/paper_ablations.sh on the tiny model: train the baseline and a variant, evaluate
    both with one ablate run (each variant's model= its model.yaml), build the Table 3 layout."""
    from flamingo_eval.api import evaluate
    from flamingo_eval.report.paper_ablations import ablation_table

    runs = tmp_path / "runs"
    for variant in (None, "gating=none"):
        recipe = _recipe(steps=2, eval_every=2)
        recipe = apply_variant(recipe, variant) if variant else recipe
        out = runs / recipe.variant
        trainer = Trainer(recipe, data_root, out, cache_dir=tmp_path / "f", log=lambda *_: None)
        write_trained_spec(trainer, out, trainer.train())
    evaluate(["demo_vqa", "demo_binding"], out=tmp_path / "ablation", model=str(runs / "baseline" / "model.yaml"),
             variants=[f"gating-none:model={runs / 'gating-none' / 'model.yaml'}"], shots=(0, 2), limit=2,
             data_root=str(data_root))
    table = ablation_table(tmp_path / "ablation", runs, shots=2)
    assert list(table["variant"]) == ["baseline", "gating-none"]
    assert table.loc[1, "changed"].startswith("no tanh gates") and table.loc[0, "trained_parameters"] > table.loc[1, "trained_parameters"]
    assert {"demo_vqa", "demo_binding"} <= set(table.columns)
