"""The committed smol-flamingo weights: they load, and they beat the untrained adapters (the frozen LM
alone) on small slices of the demo suite's held-out test splits, concept binding included: there the
kinds and names were never seen in training, so only learning in context can answer."""

from __future__ import annotations

import json

import flamingo_eval
from flamingo_eval.model import get_spec


def _primary(frame, benchmark, metric):
    rows = frame[(frame.benchmark == benchmark) & (frame.metric == metric)]
    return float(rows.value.mean())


def test_committed_weights_load():
    spec = get_spec("smol-flamingo")
    path = spec.source.parent / spec.adapters
    assert path.is_file() and path.stat().st_size < 40 * 2**20


def test_trained_weights_beat_the_untrained_model(tmp_path):
    """On held-out test images at 4 shots, VQA and captions; the untrained adapters answer as SmolLM2
    alone, copying from the demonstrations (about 17% VQA accuracy and CIDEr 0.4 at 4 shots in
    results/demo-untrained)."""
    common = dict(shots=[4], trials=1, seed=3, num_samples=16, batch_size=8)
    benchmarks = ["demo_vqa", "demo_captions"]
    trained = flamingo_eval.evaluate(benchmarks, model="smol-flamingo", out=tmp_path / "trained", **common)
    untrained = flamingo_eval.evaluate(benchmarks, model="smol", out=tmp_path / "untrained", **common)
    assert _primary(trained, "demo_vqa", "vqa_accuracy") > _primary(untrained, "demo_vqa", "vqa_accuracy") + 0.2
    assert _primary(trained, "demo_captions", "CIDEr") > _primary(untrained, "demo_captions", "CIDEr") + 0.5


def test_trained_weights_bind_names_in_context(tmp_path):
    """Concept binding at 4 shots on held-out kinds and names: the trained model names the query's kind
    from its demonstrations; the untrained adapters (SmolLM2 alone) can only copy one of the names. With
    random demonstrations a query sometimes never sees its kind (all four show the other one): those
    are left out of the trained model's bar, not of the comparison."""
    common = dict(shots=[4], trials=1, seed=5, num_samples=16, batch_size=8)
    trained = flamingo_eval.evaluate(["demo_binding"], model="smol-flamingo", out=tmp_path / "trained", **common)
    untrained = flamingo_eval.evaluate(["demo_binding"], model="smol", out=tmp_path / "untrained", **common)
    rows = [json.loads(line) for line in (tmp_path / "trained" / "predictions.jsonl").read_text().splitlines()]
    answerable = [r for r in rows if f"Short answer:{r['references'][0]}<|endofchunk|>" in r["prompt"]]
    right = sum(r["prediction"] == r["references"][0] for r in answerable)
    assert len(answerable) >= 12 and right >= 0.9 * len(answerable), (right, len(answerable))
    trained_acc = _primary(trained, "demo_binding", "vqa_accuracy")
    untrained_acc = _primary(untrained, "demo_binding", "vqa_accuracy")
    assert trained_acc >= untrained_acc + 0.25, (trained_acc, untrained_acc)
