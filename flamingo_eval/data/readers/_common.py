"""What the readers share: loading JSON and CSV files with errors that name them, pulling typed fields
out of a record, checking media files, and the loop that turns records into examples.

A reader's per-record function raises ``RecordError`` for anything wrong with that one record;
``collect`` turns it into ``problems.report(file, record_id, message)``, which raises a ``DataError``
naming the file and record, or records the skip when the user asked to skip bad items.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ...errors import DataError
from ..example import Example, MediaRef
from ..formats import Problems


class RecordError(Exception):
    """One record cannot be used; ``collect`` reports the message for that record's id, against
    ``file`` when given (e.g. the annotations file a question's answers come from), else the file
    ``collect`` reads."""

    def __init__(self, message: str, *, file: Path | None = None) -> None:
        super().__init__(message)
        self.file = file


# ---------------------------------------------------------------- files


def load_json(path: Path) -> Any:
    """Parse a JSON file; ``DataError`` naming it when it is missing or not valid JSON."""
    if not path.is_file():
        raise DataError(f"{path} not found")
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DataError(f"{path} is not valid JSON: {err}") from err


def load_csv(path: Path, required: Sequence[str] = ()) -> tuple[list[str], list[dict[str, str | None]]]:
    """The columns and rows of a CSV file with a header line; a row is ``{column: cell text}``.

    ``DataError`` naming the file when it is missing, has no header, or its header lacks a column
    of ``required``. A row shorter than the header has ``None`` in the missing cells.
    """
    if not path.is_file():
        raise DataError(f"{path} not found")
    # utf-8-sig: a byte-order mark (spreadsheet exports) must not become part of the first column name
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None:
            raise DataError(f"{path} is empty (no CSV header line)")
        columns = [name.strip() for name in reader.fieldnames]
        missing = [name for name in required if name not in columns]
        if missing:
            raise DataError(f"{path} lacks the column(s) {', '.join(missing)} (has: {', '.join(columns)})")
        reader.fieldnames = columns  # header cells with stray spaces (" question") still match
        return columns, [dict(row) for row in reader]


def mapping_of(data: Any, path: Path, key: str) -> list[Any]:
    """``data[key]`` as a list: the record list of a JSON file shaped ``{key: [...]}``."""
    if not isinstance(data, Mapping) or not isinstance(data.get(key), list):
        raise DataError(f"{path} does not look right: expected a JSON object with a list under {key!r}")
    return data[key]


def split_names(entry: Mapping[str, Any], key: str = "split") -> set[str] | None:
    """The split(s) named by ``entry[key]`` (a name or a list of names); None when not given."""
    value = entry.get(key)
    if value is None:
        return None
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, (list, tuple)) or not names or not all(isinstance(n, str) for n in names):
        raise DataError(f"data split entry key {key!r} must be a name or a list of names, got {value!r}")
    return set(names)


def format_pattern(pattern: str, where: str, **fields: Any) -> str:
    """``pattern.format(**fields)``; a pattern naming an unknown field is a ``DataError`` (a spec bug),
    a value the pattern cannot format (e.g. ``{image_id:012d}`` on a string) a ``RecordError``."""
    try:
        return pattern.format(**fields)
    except (KeyError, IndexError) as err:
        raise DataError(f"{where} {pattern!r} uses an unknown field {err}; it may use {', '.join(fields)}") from err
    except ValueError as err:
        raise RecordError(f"cannot fill {where} {pattern!r} with {fields}: {err}") from err


# ---------------------------------------------------------------- record fields


def field(record: Mapping[str, Any], key: str) -> Any:
    """``record[key]``; ``RecordError`` when absent, null, or blank text (an empty CSV cell)."""
    value = record.get(key)
    if value is None:
        raise RecordError(f"lacks the field {key!r}")
    if isinstance(value, str) and not value.strip():
        raise RecordError(f"has an empty {key!r}")
    return value


def text(record: Mapping[str, Any], key: str, *, allow_empty: bool = False) -> str:
    """A string field (question, caption, answer, file name); ``RecordError`` if absent, not text,
    or blank (unless ``allow_empty``: an annotator's answer may be blank, a question may not)."""
    value = record.get(key) if allow_empty else field(record, key)
    if value is None:
        raise RecordError(f"lacks the field {key!r}")
    if not isinstance(value, str):
        raise RecordError(f"field {key!r} should be text, got {value!r}")
    return value


def ident(record: Mapping[str, Any], key: str) -> str:
    """An id field (JSON int or string) as a string; ``RecordError`` if absent or of another type."""
    value = field(record, key)
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise RecordError(f"field {key!r} should be an id (integer or text), got {value!r}")
    return str(value)


def integer(record: Mapping[str, Any], key: str) -> int:
    """An integer field, also from CSV text like ``"3"``; ``RecordError`` otherwise."""
    value = field(record, key)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise RecordError(f"field {key!r} should be an integer, got {value!r}")


def texts(values: Any, key: str) -> list[str]:
    """A non-empty list of strings (captions, answers); ``RecordError`` otherwise."""
    if not isinstance(values, list) or not values:
        raise RecordError(f"field {key!r} should be a non-empty list, got {values!r}")
    if not all(isinstance(v, str) for v in values):
        raise RecordError(f"field {key!r} should hold only text, got {values!r}")
    return values


def flag(entry: Mapping[str, Any], key: str, default: bool) -> bool:
    """A yes/no entry setting; ``DataError`` when it is not a boolean."""
    value = entry.get(key, default)
    if not isinstance(value, bool):
        raise DataError(f"data split entry key {key!r} must be true or false, got {value!r}")
    return value


def setting(entry: Mapping[str, Any], key: str, default: str) -> str:
    """A text entry setting (a file-name pattern, an extension); ``DataError`` when not text."""
    value = entry.get(key, default)
    if not isinstance(value, str) or not value:
        raise DataError(f"data split entry key {key!r} must be non-empty text, got {value!r}")
    return value


def label(record: Any, keys: Sequence[str], index: int) -> str:
    """The id to name a record by in a report: the first of ``keys`` it has, else ``#<position>``.

    The position is only for naming a record that lacks its id; records are never joined by it.
    """
    if isinstance(record, Mapping):
        for key in keys:
            value = record.get(key)
            if isinstance(value, (int, str)) and not isinstance(value, bool) and value != "":
                return str(value)
    return f"#{index}"


# ---------------------------------------------------------------- media


class MediaFiles:
    """Makes ``MediaRef``s for files that exist, asking the file system once per path
    (thousands of VQA questions share an image)."""

    def __init__(self) -> None:
        self._exists: dict[Path, bool] = {}

    def ref(self, path: Path, kind: str) -> MediaRef:
        """A ``MediaRef`` for ``path``; ``RecordError`` naming the file when it does not exist."""
        if path not in self._exists:
            self._exists[path] = path.is_file()
        if not self._exists[path]:
            raise RecordError(f"{kind} file not found: {path}")
        return MediaRef(path=path, kind=kind)


# ---------------------------------------------------------------- the record loop


def collect(
    file: Path,
    records: Iterable[tuple[str, Any]],
    parse: Callable[[Mapping[str, Any]], Iterable[Example]],
    problems: Problems,
) -> list[Example]:
    """Run ``parse`` on each ``(record_id, record)`` and gather the examples, in file order.

    ``parse`` returns the record's examples (none when a split filter leaves it out) or raises
    ``RecordError``, which is reported against ``file`` and ``record_id``. An example id seen before
    is reported too (the later record), so ids stay unique within the split.
    """
    examples: list[Example] = []
    seen: set[str] = set()
    for record_id, record in records:
        try:
            if not isinstance(record, Mapping):
                raise RecordError(f"is not a JSON object: {record!r}")
            made = list(parse(record))
        except RecordError as err:
            problems.report(err.file or file, record_id, str(err))
            continue
        for example in made:
            if example.id in seen:
                problems.report(file, example.id, "this id appears twice; ids must be unique within a split")
                continue
            seen.add(example.id)
            examples.append(example)
    return examples


def labelled(records: Iterable[Any], keys: Sequence[str]) -> Iterable[tuple[str, Any]]:
    """``(label, record)`` pairs for ``collect``, each named by the first of ``keys`` it has."""
    return ((label(record, keys, index), record) for index, record in enumerate(records))
