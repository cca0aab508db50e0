"""The ``flamingo-eval`` command line: a thin face over the Python API (``flamingo_eval.api``).

``shared.py`` holds the typer app and what commands share; each ``*_commands.py`` registers its commands
on it when imported here. Nothing imports this package but the entry point and tests.
"""

from . import bench_commands, demo_commands, eval_commands, model_commands  # noqa: F401  (register the commands)
from .shared import app, console

__all__ = ["app", "console"]
