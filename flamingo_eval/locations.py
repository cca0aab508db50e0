"""Where the files that ship with flamingo-eval are: every module finds them here, the same way.

``benchmarks/`` and ``prompts/`` sit at the top of the source checkout (the project's layout); a wheel
carries them inside the package, as ``flamingo_eval/benchmarks`` and ``flamingo_eval/prompts``
(``setup.py`` maps them there). So each is looked for inside the package first (an installed wheel),
then beside it (a checkout, or an editable install of one). The rest lives inside the package in both.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
CHECKOUT_DIR = PACKAGE_DIR.parent  # the source checkout, when running from one (its git commit, committed results)


def _shipped_folder(name: str) -> Path:
    """``flamingo_eval/<name>`` in an installed wheel, else ``<checkout>/<name>``."""
    inside = PACKAGE_DIR / name
    return inside if inside.is_dir() else CHECKOUT_DIR / name


BENCHMARKS_DIR = _shipped_folder("benchmarks")  # one YAML spec per built-in benchmark
PROMPTS_DIR = _shipped_folder("prompts")  # prompt templates, one .txt per template
MODEL_SPECS_DIR = PACKAGE_DIR / "model" / "specs"  # one YAML spec per built-in model
RECIPES_DIR = PACKAGE_DIR / "train"  # training recipes (YAML), beside the trainer
ASSETS_DIR = PACKAGE_DIR / "assets"  # the photo `flamingo-eval generate` uses when given no --image
# (the trained adapters, weights/*.safetensors, are found by the model spec that names them, by a path
# relative to the spec file)
