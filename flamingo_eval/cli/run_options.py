"""The run settings as command-line options, made from ``RunSettings`` itself: each field (its type,
default and help) becomes one option of ``run``, ``sweep`` and ``ablate``, so a setting is defined once,
in engine/settings.py, for the API, the CLI and sweep files alike."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ..engine.settings import RunSettings
from .shared import parse_shots, parse_token_budget

# fields a command line gives otherwise (the benchmarks are its arguments)
_NOT_OPTIONS = ("benchmarks",)
# fields that name files or folders: typer checks nothing, but shows them as paths
_PATHS = ("data_root", "embedding_cache", "visual_cache", "ids")


def _option(field: dataclasses.Field, default: Any) -> tuple[Any, Any]:
    """(annotation, default) of the typer option for a RunSettings field."""
    help_text = field.metadata.get("help", "")
    hint = typing.get_type_hints(RunSettings)[field.name]
    if field.name == "shots":
        kind: Any = str  # "0,4,8": parsed by parse_shots
        default = ",".join(str(s) for s in default)
    elif field.name in _PATHS:
        kind = Optional[Path]
    elif field.name == "token_budget":
        kind = Optional[str]  # a number or "auto": made an int in run_options
    elif type(None) in typing.get_args(hint):
        kind = Optional[next(a for a in typing.get_args(hint) if a is not type(None))]
    else:
        kind = hint
    return Annotated[kind, typer.Option(help=help_text)], default


def run_options(**defaults: Any) -> Callable[[Callable], Callable]:
    """Decorator: give the command one option per RunSettings field (``defaults`` overrides a field's
    default for this command, e.g. ``shots=(0, 4, 8)``); the command receives them as ``settings``, a
    dict ready for ``RunSettings(**settings)`` / ``api.evaluate(..., **settings)``."""

    def wrap(command: Callable) -> Callable:
        fields = [f for f in dataclasses.fields(RunSettings) if f.name not in _NOT_OPTIONS]
        for name in defaults:
            if name not in {f.name for f in fields}:
                raise TypeError(f"run_options: {name} is not a RunSettings field")

        @functools.wraps(command)
        def run(*args: Any, **kwargs: Any) -> Any:
            settings = {f.name: kwargs.pop(f.name) for f in fields}
            settings["shots"] = parse_shots(settings["shots"])
            for name in _PATHS:
                settings[name] = None if settings[name] is None else str(settings[name])
            settings["token_budget"] = parse_token_budget(settings["token_budget"])
            return command(*args, settings=settings, **kwargs)

        own = inspect.signature(command)
        hints = typing.get_type_hints(command, include_extras=True)
        params = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in own.parameters.values() if p.name != "settings"]
        added = {}
        for f in fields:
            annotation, default = _option(f, defaults.get(f.name, f.default))
            added[f.name] = annotation
            params.append(inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation))
        run.__signature__ = own.replace(parameters=params)
        run.__annotations__ = {**{k: v for k, v in hints.items() if k != "settings"}, **added}
        return run

    return wrap
