"""What the readers share: loading JSON and CSV files with errors that name them, pulling typed fields
out of a record, checking media files, and the loop that turns records into examples.

A reader's per-record function raises ``RecordError`` for anything wrong with that one record;
``collect`` turns it into ``problems.report(file, record_id, message)``, which raises a ``DataError``
naming the file and record, or records the skip when the user asked to skip bad items.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ...control_tokens import CONTROL_TOKENS
from ...errors import DataError
from ..example import Example, MediaRef
from ..formats import Problems, file_problem, file_state


class RecordError(Exception):
    """One record cannot be used; ``collect`` reports the message for that record's id, against
    ``file`` when given (e.g. the annotations file a question's answers come from), else the file
    ``collect`` reads."""

    def __init__(self, message: str, *, file: Path | None = None) -> None:
        super().__init__(message)
        self.file = file


# ---------------------------------------------------------------- files


def read_text(path: Path) -> str:
    """A data file's text; ``DataError`` naming it when it is missing, a folder, unreadable, or not
    UTF-8 (with the offending byte's line). A byte-order mark (spreadsheet exports) is dropped."""
    state = file_state(path)
    if state != "file":
        raise DataError(f"{path} {state}")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise DataError(f"{path}: cannot read it ({err.strerror or err})") from err
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise DataError(f"{path} is not UTF-8 text: byte {err.start} (line {line}) is {data[err.start:err.start + 1]!r}") from None


def load_json(path: Path) -> Any:
    """Parse a JSON file; ``DataError`` naming it when it is missing, empty, not UTF-8 or not valid JSON."""
    content = read_text(path)
    if not content.strip():
        raise DataError(f"{path} is empty (expected JSON)")
    try:
        return json.loads(content)
    except json.JSONDecodeError as err:
        raise DataError(f"{path} is not valid JSON: {err}") from None
    except RecursionError:
        raise DataError(f"{path} is not usable JSON: it is nested too deeply") from None


def load_jsonl(path: Path, problems: Problems, id_keys: Sequence[str]) -> list[tuple[str, Any]]:
    """The records of a JSON-lines file (one JSON value a line: HatefulMemes' ``train.jsonl``) as
    ``(label, record)`` pairs for ``collect``, in file order; blank lines are ignored.

    A record is named by the first of ``id_keys`` it has, else ``line <n>``. A line that is not valid
    JSON is one bad record, reported through ``problems`` as ``line <n>`` (the other lines still
    stand on their own, unlike a JSON file cut short); a file that is missing, not UTF-8 or holds no
    line at all is a ``DataError`` naming it.
    """
    records: list[tuple[str, Any]] = []
    blank = True
    # split on newlines only: str.splitlines would also split inside a JSON string holding U+2028
    for number, line in enumerate(read_text(path).split("\n"), start=1):
        if not line.strip():
            continue
        blank = False
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            problems.report(path, f"line {number}", f"is not valid JSON: {err}")
            continue
        except RecursionError:
            problems.report(path, f"line {number}", "is not usable JSON: it is nested too deeply")
            continue
        records.append((label(record, id_keys, number, missing=f"line {number}"), record))
    if blank:
        raise DataError(f"{path} is empty (expected JSON lines, one record a line)")
    return records


class CsvRow(dict):
    """One CSV row, ``{column: cell text}``; columns the row lacks hold None. ``line`` is the row's
    line in the file; ``check`` refuses a row whose cell count differs from the header's (a shifted
    or cut row would otherwise put cells under the wrong columns)."""

    def __init__(self, columns: Sequence[str], cells: Sequence[str], line: int) -> None:
        super().__init__(zip(columns, cells))
        self.update({column: None for column in columns[len(cells):]})
        self.line, self.cells, self.columns = line, len(cells), len(columns)

    def check(self) -> None:
        if self.cells != self.columns:
            raise RecordError(f"line {self.line} has {self.cells} cells but the header has {self.columns} columns")


def load_csv(path: Path, required: Sequence[str] = ()) -> tuple[list[str], list[CsvRow]]:
    """The columns and rows of a CSV file with a header line.

    ``DataError`` naming the file when it is missing, not UTF-8, not valid CSV (with the line), has no
    header, a column twice, or lacks a column of ``required``. Rows of the wrong length are kept, and
    refused by ``collect`` as record problems (see ``CsvRow``); blank lines are ignored.
    """
    reader = csv.reader(io.StringIO(read_text(path), newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise DataError(f"{path} is empty (no CSV header line)")
        columns = [name.strip() for name in header]  # header cells with stray spaces (" question") still match
        twice = sorted({name for name in columns if columns.count(name) > 1})
        if twice:
            raise DataError(f"{path}: the column {twice[0]!r} appears twice in the header")
        missing = [name for name in required if name not in columns]
        if missing:
            raise DataError(f"{path} lacks the column(s) {', '.join(missing)} (has: {', '.join(columns)})")
        rows = [CsvRow(columns, cells, reader.line_num) for cells in reader if cells]
    except csv.Error as err:
        raise DataError(f"{path}: line {reader.line_num} is not valid CSV: {err}") from None
    return columns, rows


def mapping_of(data: Any, path: Path, key: str) -> list[Any]:
    """``data[key]`` as a list: the record list of a JSON file shaped ``{key: [...]}``."""
    if not isinstance(data, Mapping) or not isinstance(data.get(key), list):
        got = f"a JSON object whose {key!r} is {json_kind(data.get(key))}" if isinstance(data, Mapping) else json_kind(data)
        raise DataError(f"{path} does not look right: expected a JSON object with a list under {key!r}, got {got}")
    return data[key]


def json_kind(value: Any) -> str:
    """What a JSON value is, in words, for messages: ``a JSON list``, ``a number``, ``missing``."""
    if value is None:
        return "null or missing"
    kinds = ((bool, "true/false"), (int, "a number"), (float, "a number"), (str, "text"), (list, "a JSON list"),
             (dict, "a JSON object"))
    return next((name for kind, name in kinds if isinstance(value, kind)), type(value).__name__)


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
    except (ValueError, TypeError) as err:  # e.g. {image_id:012d} given text, or a list
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


def optional_text(record: Mapping[str, Any], key: str) -> str | None:
    """A text field a record may lack (answer_type, question_type): None when absent or null,
    ``RecordError`` when it holds something else (results group rows by such fields)."""
    value = record.get(key)
    if value is not None and not isinstance(value, str):
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


def texts(values: Any, key: str, *, allow_empty: bool = False) -> list[str]:
    """A non-empty list of strings (captions, answers); ``RecordError`` otherwise. A blank element is
    refused unless ``allow_empty`` (an annotator's answer may be blank; a caption may not)."""
    if not isinstance(values, list) or not values:
        raise RecordError(f"field {key!r} should be a non-empty list, got {values!r}")
    if not all(isinstance(v, str) for v in values):
        raise RecordError(f"field {key!r} should hold only text, got {values!r}")
    if not allow_empty and not all(v.strip() for v in values):
        raise RecordError(f"field {key!r} holds an empty text: {values!r}")
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


def label(record: Any, keys: Sequence[str], index: int, *, missing: str | None = None) -> str:
    """The id to name a record by in a report: the first of ``keys`` it has, else ``missing`` when
    given (``line 7``), else ``#<position>``.

    The position is only for naming a record that lacks its id; records are never joined by it.
    """
    if isinstance(record, Mapping):
        for key in keys:
            value = record.get(key)
            if isinstance(value, (int, str)) and not isinstance(value, bool) and value != "":
                return str(value)
    return missing if missing is not None else f"#{index}"


# ---------------------------------------------------------------- media


class MediaFiles:
    """Makes ``MediaRef``s for files that exist, asking the file system once per path
    (thousands of VQA questions share an image)."""

    def __init__(self) -> None:
        self._problem: dict[Path, str | None] = {}

    def ref(self, path: Path, kind: str) -> MediaRef:
        """A ``MediaRef`` for ``path``; ``RecordError`` naming the file when it is not a regular file."""
        if path not in self._problem:
            self._problem[path] = file_problem(path, f"{kind} file")
        if self._problem[path] is not None:
            raise RecordError(self._problem[path])
        return MediaRef(path=path, kind=kind)


# ---------------------------------------------------------------- the record loop


def collect(
    file: Path,
    records: Iterable[tuple[str, Any]],
    parse: Callable[[Mapping[str, Any]], Iterable[Example]],
    problems: Problems,
    *,
    field_files: Mapping[str, Path] | None = None,
) -> list[Example]:
    """Run ``parse`` on each ``(record_id, record)`` and gather the examples, in file order.

    ``parse`` returns the record's examples (none when a split filter leaves it out) or raises
    ``RecordError``, which is reported against ``file`` and ``record_id``. A record that is not a
    mapping, a CSV row of the wrong length, and an example whose text holds a control token (see
    ``check_text``) are reported the same way, the last against ``field_files[field]`` when the text
    came from another file (VQA answers: the annotations). An example id seen before is reported too
    (the later record), so ids stay unique within the split.
    """
    examples: list[Example] = []
    seen: set[str] = set()
    # the options tuple last found clean: a reader may give every example the same one (ImageNet's 1000
    # class names), and checking it again per example would cost 1000 checks per image
    clean_options: tuple[str, ...] | None = None
    for record_id, record in records:
        try:
            if not isinstance(record, Mapping):
                raise RecordError(f"is not a JSON object: {record!r}")
            if isinstance(record, CsvRow):
                record.check()
            made = list(parse(record))
            for example in made:
                check_text(example, field_files or {}, options=example.options is not clean_options)
                clean_options = example.options
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


def check_text(example: Example, field_files: Mapping[str, Path], *, options: bool = True) -> None:
    """``RecordError`` when a text that can reach a prompt (question, target, references, options)
    holds one of the model's control tokens, or is not valid Unicode (a lone surrogate, as JSON's
    ``\\udc80`` escapes give, cannot be tokenised). ``options=False`` leaves the options out (the
    caller checked this very tuple before).

    Refused rather than escaped: the tokenizer would read ``<image>`` in a question as the real media
    token (the prompt's media count then breaks, or worse, lines up wrongly), there is no escape the
    tokenizer would undo, and an escape would change the text scored against. Official data never
    holds these strings, so a record that does is broken; ``--skip-bad`` lists it.
    """
    named = [("question", example.question), ("target", example.target)]
    named += [(f"references[{i}]", text) for i, text in enumerate(example.references)]
    named += [(f"options[{i}]", text) for i, text in enumerate(example.options if options else ())]
    for name, value in named:
        if value is not None:
            check_value(f"its {name}", value, file=field_files.get(name.partition("[")[0]))


def check_value(name: str, value: str, *, file: Path | None = None) -> None:
    """``check_text`` for one text: ``RecordError`` (against ``file`` when given) when ``value`` holds a
    control token or is not valid Unicode; ``name`` says what it is (``its question``, ``class name``).

    Also for texts that are not one example's (ImageNet's class names, shared by every example).
    """
    for token in CONTROL_TOKENS:
        if token in value:
            raise RecordError(f"{name} holds the model's control token {token!r} (refused: in a prompt it "
                              f"would act as a real one): {value!r}", file=file)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise RecordError(f"{name} is not valid Unicode text (a lone surrogate, e.g. an escaped non-UTF-8 "
                          f"byte): {value!r}", file=file) from None


def labelled(records: Iterable[Any], keys: Sequence[str]) -> Iterable[tuple[str, Any]]:
    """``(label, record)`` pairs for ``collect``, each named by the first of ``keys`` it has."""
    return ((label(record, keys, index), record) for index, record in enumerate(records))
