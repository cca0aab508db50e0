"""The committed smol-flamingo weights: they load, and they beat the untrained adapters (the frozen LM
alone) on a small slice of the demo suite's held-out test splits."""

from __future__ import annotations

import flamingo_eval
from flamingo_eval.model import get_spec


def _primary(frame, benchmark):
    rows = frame[(frame.benchmark == benchmark) & (frame.metric == "vqa_accuracy")]
    return float(rows.value.mean())


def test_committed_weights_load():
    spec = get_spec("smol-flamingo")
    path = spec.source.parent / spec.adapters
    assert path.is_file() and path.stat().st_size < 40 * 2**20


def test_trained_weights_beat_the_untrained_model(tmp_path):
    common = dict(shots=[4], trials=1, seed=3, num_samples=24, batch_size=8)
    trained = flamingo_eval.evaluate(["demo_binding", "demo_vqa"], model="smol-flamingo", out=tmp_path / "trained", **common)
    untrained = flamingo_eval.evaluate(["demo_binding", "demo_vqa"], model="smol", out=tmp_path / "untrained", **common)
    for benchmark in ("demo_binding", "demo_vqa"):
        assert _primary(trained, benchmark) > _primary(untrained, benchmark) + 0.1, benchmark
