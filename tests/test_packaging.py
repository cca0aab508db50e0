"""The wheel carries what a non-editable install needs: every module, the built-in benchmarks and
prompt templates (top-level folders in the checkout), the model specs, the training recipe, the trained
adapters and the bundled image.

The wheel is built (as ``pip install .`` would, without fetching anything) from a clean copy of the
files the build reads, so that no earlier build's leftovers in ``build/`` can hide a missing file.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BUILD_INPUTS = ("pyproject.toml", "setup.py", "README.md", "flamingo_eval", "benchmarks", "prompts")


@pytest.fixture(scope="module")
def wheel_files(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    source = tmp_path_factory.mktemp("source")
    for name in BUILD_INPUTS:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(REPO / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(source)],
        capture_output=True, text=True, timeout=600,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = out.glob("flamingo_eval-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def _expected(folder: str, pattern: str, inside: str) -> set[str]:
    """``<inside>/<file>`` for every file of the checkout's ``folder`` matching ``pattern``."""
    files = sorted((REPO / folder).glob(pattern))
    assert files, f"no {pattern} under {folder}"
    return {f"{inside}/{path.relative_to(REPO / folder).as_posix()}" for path in files}


@pytest.mark.parametrize(
    ("folder", "pattern", "inside"),
    [
        ("benchmarks", "*.yaml", "flamingo_eval/benchmarks"),
        ("prompts", "*.txt", "flamingo_eval/prompts"),
        ("flamingo_eval/model/specs", "*.yaml", "flamingo_eval/model/specs"),
        ("flamingo_eval/train", "*.yaml", "flamingo_eval/train"),
        ("flamingo_eval/weights", "*.safetensors", "flamingo_eval/weights"),
        ("flamingo_eval/assets", "*.jpg", "flamingo_eval/assets"),
        ("flamingo_eval", "**/*.py", "flamingo_eval"),
    ],
)
def test_wheel_holds(wheel_files: set[str], folder: str, pattern: str, inside: str) -> None:
    missing = sorted(_expected(folder, pattern, inside) - wheel_files)
    assert not missing, f"not in the wheel: {missing}"
