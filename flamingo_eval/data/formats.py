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
from ..registry import Registry
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
FORMATS: Registry[Reader] = Registry("data format", provider="flamingo_eval.data.readers")  # the built-in readers


def register_format(name: str) -> Callable[[Reader], Reader]:
    """Decorator: make a reader available to benchmark specs as ``data.format: <name>``."""
    return FORMATS.register(name)


def entry_path(root: Path, entry: dict[str, Any], key: str, *, must_exist: bool = True) -> Path:
    """The file or folder named by ``entry[key]``, relative to ``root``; DataError if absent or not a name."""
    if key not in entry:
        raise DataError(f"data split entry {entry} lacks the key {key!r}")
    value = entry[key]
    # YAML reads a folder named 2014 as a number: that is still a name
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        raise DataError(f"data split entry key {key!r} must be a file or folder name, got {value!r}")
    path = Path(root) / str(value)
    if must_exist and file_state(path) not in ("file", FOLDER):
        raise DataError(f"{path} {file_state(path)} (data key {key!r})")
    return path


FOLDER = "is a folder, not a file"
NOT_FOUND = "not found"


def file_problem(path: Path, what: str) -> str | None:
    """None when ``path`` is a regular file, else a message naming it: ``image file not found: <path>``,
    ``image file <path> is a folder, not a file``."""
    state = file_state(path)
    if state == "file":
        return None
    return f"{what} {NOT_FOUND}: {path}" if state == NOT_FOUND else f"{what} {path} {state}"


def file_state(path: Path) -> str:
    """``"file"`` for a regular file, else what is wrong with ``path``, as words that follow it in a
    message: ``not found``, ``is a folder, not a file``, ``cannot be checked (File name too long)``.

    (``Path.is_file`` raises for some names, e.g. one longer than the file system allows.)
    """
    try:
        if path.is_file():
            return "file"
        if path.is_dir():
            return FOLDER
        if path.exists():
            return "is not a regular file"
    except OSError as err:
        return f"cannot be checked ({err.strerror or err})"
    return NOT_FOUND


def read_examples(fmt: str, root: Path, entry: dict[str, Any], problems: Problems | None = None) -> list[Example]:
    """Read one split with the registered reader; checks that example ids are unique."""
    examples = FORMATS.get(fmt)(Path(root), dict(entry), problems or Problems())
    seen: set[str] = set()
    for ex in examples:
        if ex.id in seen:
            raise DataError(f"{fmt} data under {root}: example id {ex.id!r} appears twice in one split")
        seen.add(ex.id)
    return examples
