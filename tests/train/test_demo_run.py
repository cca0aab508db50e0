"""The main command's job (``flamingo_eval.api.demo``): it evaluates into a new folder, never an
existing one, and a second run reproduces the first exactly (the check it makes against the committed
reference)."""

from __future__ import annotations

import pytest

from flamingo_eval.api import demo
from flamingo_eval.errors import SpecError


def test_demo_evaluates_into_a_new_folder_and_a_rerun_agrees(tmp_path):
    small = dict(model="smol-flamingo", shots=[0, 2], trials=1, num_samples=2)
    first = demo(out=tmp_path / "first", reference=None, untrained=None, **small)
    assert first.agreement is None and (tmp_path / "first" / "predictions.jsonl").is_file()
    assert len((tmp_path / "first" / "predictions.jsonl").read_text().splitlines()) == 4 * 2 * 2  # benchmarks x shots x queries
    with pytest.raises(SpecError, match="already holds files"):
        demo(out=tmp_path / "first", reference=None, untrained=None, **small)
    second = demo(out=tmp_path / "second", reference=tmp_path / "first", untrained=tmp_path / "first", **small)
    assert second.agreement is not None and second.agreement.agrees, second.agreement.describe()
    assert second.agreement.predictions_compared == 16
    assert (tmp_path / "second" / "shot_scaling.png").is_file()
