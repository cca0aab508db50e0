"""The registry of data formats: a benchmark spec names its format, and the matching reader loads it.

A reader is ``read(root: Path, entry: dict, problems: Problems) -> list[Example]``. ``root`` is the
benchmark's data folder; ``entry`` is one split's mapping from the spec (file names relative to
``root``, and format settings such as which Karpathy split to take), e.g.
``{"annotations": "dataset_coco.json", "images": ".", "split": "test"}``. A reader reports a bad record
through ``problems`` (which raises, or records the skip when the user asked to skip bad items) and
raises ``DataError`` for a missing or unreadable file, naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DataError
from .example import Example


@dataclass(frozen=True)
class Skipped:
    """An item left out on the user's request, with why: every one is written to the results."""

    id: str
    file: str
    reason: str


@dataclass
class Problems:
    """Where readers report bad records: an error naming the file and record, or a recorded skip."""

    skip: bool = False  # True: record the problem and go on
    skipped: list[Skipped] = field(default_factory=list)

    def report(self, file: Path | str, record: str, message: str) -> None:
        if not self.skip:
            raise DataError(f"{file}: record {record}: {message}")
        self.skipped.append(Skipped(id=str(record), file=str(file), reason=message))


Reader = Callable[[Path, dict[str, Any], Problems], list[Example]]
FORMATS: dict[str, Reader] = {}


def register_format(name: str) -> Callable[[Reader], Reader]:
    """Decorator: make a reader available to benchmark specs as ``data.format: <name>``."""

    def wrap(reader: Reader) -> Reader:
        FORMATS[name] = reader
        return reader

    return wrap


def entry_path(root: Path, entry: dict[str, Any], key: str, *, must_exist: bool = True) -> Path:
    """The file or folder named by ``entry[key]``, relative to ``root``; DataError if absent."""
    if key not in entry:
        raise DataError(f"data split entry {entry} lacks the key {key!r}")
    path = Path(root) / str(entry[key])
    if must_exist and not path.exists():
        raise DataError(f"{path} not found (data key {key!r})")
    return path


def read_examples(fmt: str, root: Path, entry: dict[str, Any], problems: Problems | None = None) -> list[Example]:
    """Read one split with the registered reader; checks that example ids are unique."""
    from . import readers  # noqa: F401  (registers the built-in formats)

    if fmt not in FORMATS:
        raise DataError(f"unknown data format {fmt!r}; known: {', '.join(sorted(FORMATS))}")
    examples = FORMATS[fmt](Path(root), dict(entry), problems or Problems())
    seen: set[str] = set()
    for ex in examples:
        if ex.id in seen:
            raise DataError(f"{fmt} data under {root}: example id {ex.id!r} appears twice in one split")
        seen.add(ex.id)
    return examples
