"""One way to name pluggable things: a ``Registry`` maps names (what specs and options spell) to entries.

Data formats, vision encoders, post-processors, metrics and selection strategies are each a
``Registry``; a new one of any is added by registering it under a name, and every lookup of a name
that is not there raises the same ``UnknownNameError`` listing the choices. This module imports
nothing but the errors, so any layer may use it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Generic, TypeVar

from .errors import UnknownNameError

T = TypeVar("T")
E = TypeVar("E")


class Registry(Generic[T]):
    """Name -> entry for one kind of thing (``kind`` is that thing in words, for messages).

    Reads like a read-only mapping (``name in registry``, iteration over the names in registration
    order, ``registry[name]``, ``items()``, ``values()``, ``len``); entries are added with ``add`` or the
    ``register(name)`` decorator, and ``get(name)`` is the lookup that raises ``UnknownNameError``.
    """

    def __init__(self, kind: str, entries: Mapping[str, T] | None = None, *, provider: str | None = None) -> None:
        """``provider``: a module whose import registers the built-in entries (the data readers), imported
        at the first lookup, so that whoever asks for a name need not know where the entries live."""
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._provider = provider
        for name, entry in (entries or {}).items():
            self.add(name, entry)

    @property
    def _all(self) -> dict[str, T]:
        """The entries, the provider's included."""
        if self._provider is not None:
            provider, self._provider = self._provider, None  # first, so that its registrations do not recurse
            try:
                importlib.import_module(provider)
            except BaseException:
                self._provider = provider  # not loaded: the next lookup tries (and fails) again
                raise
        return self._entries

    def add(self, name: str, entry: T) -> T:
        """Register ``entry`` under ``name``; a second, different entry for a name is a ValueError
        (two readers claiming one format name is a bug, not a choice)."""
        if name in self._entries and self._entries[name] is not entry:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._entries[name] = entry
        return entry

    def register(self, name: str) -> Callable[[E], E]:
        """Decorator: ``@FORMATS.register("vqa")`` registers the decorated function or class."""

        def wrap(entry: E) -> E:
            self.add(name, entry)  # type: ignore[arg-type]  (E is the decorated T)
            return entry

        return wrap

    def get(self, name: str) -> T:
        """The entry named ``name``; ``UnknownNameError`` naming the kind, the name and the choices."""
        try:
            return self._all[name]
        except (KeyError, TypeError):  # TypeError: an unhashable name read from YAML (a list)
            raise UnknownNameError(f"unknown {self.kind} {name!r}; known: {', '.join(self.names())}") from None

    __getitem__ = get

    def names(self) -> tuple[str, ...]:
        """The registered names, sorted (as messages and help texts list them)."""
        return tuple(sorted(self._all))

    def items(self) -> Iterable[tuple[str, T]]:
        return self._all.items()

    def values(self) -> Iterable[T]:
        return self._all.values()

    def keys(self) -> Iterable[str]:
        return self._all.keys()

    def __contains__(self, name: object) -> bool:
        try:
            return name in self._all
        except TypeError:  # unhashable: never a name
            return False

    def __iter__(self) -> Iterator[str]:
        return iter(self._all)

    def __len__(self) -> int:
        return len(self._all)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self.names())})"
