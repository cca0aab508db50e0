"""A tiny demo suite, generated once per test session (about a second per copy)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flamingo_eval.demo import DemoSizes, generate

# small but with every split non-trivial: enough videos that each event occurs
TINY = DemoSizes(scenes_train=16, scenes_val=4, scenes_test=8, binding_train=16, binding_val=4,
                 binding_testpool=4, binding_test=6, video_train=12, video_val=4, video_test=8)


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root holding the tiny suite, seed 0."""
    root = tmp_path_factory.mktemp("demo")
    generate(root, seed=0, sizes=TINY)
    return root
