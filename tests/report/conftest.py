"""Fixtures: results folders written by hand (see ``fixtures.py`` for their values)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .fixtures import VALUES, fixture_rows, run_json, write_folder


@pytest.fixture
def results_folder(tmp_path: Path) -> Path:
    """One results folder with both variants."""
    return write_folder(tmp_path / "results" / "demo", fixture_rows(), run_json())


@pytest.fixture
def baseline_only_folder(tmp_path: Path) -> Path:
    """One results folder with the baseline variant only."""
    values = {k: v for k, v in VALUES.items() if k[2] == "baseline"}
    return write_folder(tmp_path / "results" / "base", fixture_rows(values), run_json(("baseline",)))
