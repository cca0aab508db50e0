"""Format ``hf``: a Hugging Face dataset saved locally (``save_to_disk`` folder, parquet files, or an
image folder), its columns mapped onto Example fields by the spec.

Rows are read as raw Arrow values, so an ``Image`` column arrives as ``{"bytes", "path"}`` without
decoding. Embedded image bytes are written once to a cache folder under their sha256, so every
``MediaRef`` points at a plain file; the same image twice, or a second run, writes nothing new.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from PIL import Image

from ...errors import DataError
from ...storage import write_bytes_atomic
from ..example import Example, MediaRef
from ..formats import Problems, entry_path, file_problem, file_state, register_format
from ._common import RecordError, collect

LOADERS = ("disk", "parquet", "imagefolder")
FIELDS = ("id", "image", "video", "question", "target", "references", "options", "answer_index", "meta")
_BATCH = 1000  # rows converted from Arrow at a time


@register_format("hf")
def read(root: Path, entry: dict[str, Any], problems: Problems) -> list[Example]:
    """Read a locally saved Hugging Face dataset through a column mapping.

    Entry keys:
      ``path``: a ``save_to_disk`` folder, a parquet file, a folder of parquet files, or an image
          folder (relative to root);
      ``loader`` (optional): ``disk`` | ``parquet`` | ``imagefolder``; guessed when absent: a folder
          with ``dataset_info.json`` / ``state.json`` / ``dataset_dict.json`` is disk, a ``.parquet``
          file or a folder holding them is parquet;
      ``split`` (optional): the split of a DatasetDict (needed when it has several); for a parquet
          folder, the files named ``<split>-*.parquet`` / ``<split>.parquet`` or under a ``<split>``
          folder; for an image folder, the split to load (default ``train``);
      ``fields``: Example field -> column: ``id`` (else the row number), ``image`` and/or ``video``
          (at least one; a column of images or paths, or a list of them), ``question``,
          ``references`` (a list column, or one text), ``target`` (a column; the first element of a
          list; default the first reference), ``options`` (a list column), ``answer_index``, and
          ``meta`` (a list of columns copied into meta). ``column.key`` takes ``key`` out of a struct
          column, or out of each element of a list of structs (e.g. ``answers.answer``);
      ``cache_dir`` (optional): where embedded images are written; default ``<root>/.image_cache``.
    Out: one example per row, in dataset order. Path values are resolved relative to root.
    """
    root = Path(root)
    path = entry_path(root, entry, "path")
    loader = entry.get("loader") or _guess_loader(path)
    if loader not in LOADERS:
        raise DataError(f"hf loader must be one of {', '.join(LOADERS)}, got {loader!r}")
    fields = _fields(entry)
    split = entry.get("split")
    if split is not None and not isinstance(split, str):
        raise DataError(f"hf split must be a split name, got {split!r}")
    columns, rows = _open(path, loader, split)
    for key, spec in fields.items():
        for column in spec if key == "meta" else [spec]:
            if column not in columns and column.partition(".")[0] not in columns:
                raise DataError(f"{path}: column {column!r} (fields.{key}) is not in the dataset; "
                                f"its columns are {', '.join(columns)}")
    cache = MediaCache(root / str(entry.get("cache_dir", ".image_cache")), root)

    def parse(row: Mapping[str, Any]) -> list[Example]:
        if "__bad_id" in row:
            raise RecordError(f"has no usable id in column {fields.get('id')!r} (got {row['__bad_id']!r})")
        media = []
        for kind in ("image", "video"):
            if kind in fields:
                media += [cache.ref(value, kind) for value in _as_list(_value(row, fields[kind]))]
        if not media:
            raise RecordError(f"has no media (column {fields.get('image') or fields.get('video')!r} is empty)")
        references = _references(row, fields)
        options = tuple(_strings(_value(row, fields["options"]), "options")) if "options" in fields else ()
        answer_index = _index(row, fields) if "answer_index" in fields else None
        if answer_index is not None and options and not 0 <= answer_index < len(options):
            raise RecordError(f"answer index {answer_index} is not in 0..{len(options) - 1}")
        if "target" in fields:
            target = _first_text(_value(row, fields["target"]), fields["target"])
        elif references:
            target = references[0]
        elif answer_index is not None and options:
            target = options[answer_index]
        else:
            target = None
        question = None
        if "question" in fields:  # a mapped question may not be missing or blank, as in every reader
            question = _first_text(_value(row, fields["question"]), fields["question"])
            if question is None or not question.strip():
                raise RecordError(f"has no question (column {fields['question']!r} is {question!r})")
        return [
            Example(
                id=row["__id"],
                media=tuple(media),
                question=question,
                target=target,
                references=references,
                options=options,
                answer_index=answer_index,
                meta={column: _value(row, column) for column in fields.get("meta", [])},
            )
        ]

    return collect(path, _with_ids(_named_failures(path, rows), fields.get("id")), parse, problems)


# ---------------------------------------------------------------- the entry


def _fields(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The ``fields`` mapping, checked: known Example fields, column names as text, some media."""
    fields = entry.get("fields")
    if not isinstance(fields, Mapping):
        raise DataError(f"hf data entry needs 'fields', a mapping of Example field -> column, got {fields!r}")
    unknown = [key for key in fields if key not in FIELDS]
    if unknown:
        raise DataError(f"hf fields {', '.join(map(str, unknown))} unknown; known: {', '.join(FIELDS)}")
    for key, column in fields.items():
        columns = column if key == "meta" else [column]
        if not isinstance(columns, list) or not all(isinstance(c, str) and c for c in columns):
            raise DataError(f"hf fields.{key} must be a column name{' list' if key == 'meta' else ''}, got {column!r}")
    if "image" not in fields and "video" not in fields:
        raise DataError("hf fields must map 'image' or 'video' to a column: an example needs media")
    return dict(fields)


def _guess_loader(path: Path) -> str:
    """disk for a save_to_disk folder, parquet for parquet files; else the spec must say."""
    if path.is_file() and path.suffix == ".parquet":
        return "parquet"
    if path.is_dir():
        if any((path / name).is_file() for name in ("dataset_info.json", "state.json", "dataset_dict.json")):
            return "disk"
        if any(path.rglob("*.parquet")):
            return "parquet"
    raise DataError(f"cannot tell how to load {path}; set loader to one of {', '.join(LOADERS)}")


# ---------------------------------------------------------------- loading


def _open(path: Path, loader: str, split: str | None) -> tuple[list[str], Iterator[dict[str, Any]]]:
    """The dataset's column names and an iterator over its rows as raw Python values."""
    import datasets  # imported here: only this format needs it, and it is slow to import

    if loader == "parquet":
        return _open_parquet(path, split)
    try:
        if loader == "disk":
            dataset = datasets.load_from_disk(str(path))
        else:
            dataset = datasets.load_dataset("imagefolder", data_dir=str(path), split=split or "train")
    except Exception as err:  # datasets / pyarrow / json raise many types for a missing or damaged dataset
        raise DataError(f"cannot load the dataset at {path} ({loader}): {type(err).__name__}: {err}") from err
    if isinstance(dataset, datasets.DatasetDict):
        if split is None and len(dataset) == 1:
            split = next(iter(dataset))
        if split not in dataset:
            raise DataError(f"{path} holds the splits {', '.join(dataset)}; set split to one of them (got {split!r})")
        dataset = dataset[split]
    # the arrow format hands out raw storage: Image columns stay {"bytes", "path"}, nothing is decoded
    batches = (batch.to_pylist() for batch in dataset.with_format("arrow").iter(batch_size=_BATCH))
    return list(dataset.column_names), (row for batch in batches for row in batch)


def _open_parquet(path: Path, split: str | None) -> tuple[list[str], Iterator[dict[str, Any]]]:
    """Rows of one parquet file or of all parquet files under a folder (optionally one split's)."""
    import pyarrow.parquet as pq

    files = [path] if path.is_file() else sorted(path.rglob("*.parquet"))
    if split is not None and path.is_dir():
        # the Hub's layout: data/<split>-00000-of-00001.parquet, or <split>/<anything>.parquet
        files = [f for f in files if f.stem == split or f.name.startswith(f"{split}-")
                 or split in f.relative_to(path).parts[:-1]]
    if not files:
        raise DataError(f"no parquet files{f' of split {split!r}' if split else ''} under {path}")
    try:
        opened = [pq.ParquetFile(f) for f in files]
    except Exception as err:  # pyarrow raises ArrowInvalid / OSError for a damaged file
        raise DataError(f"cannot read parquet under {path}: {type(err).__name__}: {err}") from err
    columns = list(opened[0].schema_arrow.names)
    for file, handle in zip(files, opened):
        if set(handle.schema_arrow.names) != set(columns):  # rows are dicts: only the order may differ
            raise DataError(f"{file} has the columns {handle.schema_arrow.names}, unlike {files[0]} ({columns})")
    rows = (row for handle in opened for batch in handle.iter_batches(batch_size=_BATCH) for row in batch.to_pylist())
    return columns, rows


def _named_failures(path: Path, rows: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The rows, with a failure to read them (a damaged parquet page or arrow file, found only when its
    batch is read) turned into a ``DataError`` naming the dataset and the row reached."""
    number = 0
    try:
        for number, row in enumerate(rows):
            yield row
    except Exception as err:  # pyarrow raises ArrowInvalid, OSError, ... mid-file
        raise DataError(f"{path}: cannot read the rows after row {number}: {type(err).__name__}: {err}") from err


def _with_ids(rows: Iterator[dict[str, Any]], id_column: str | None) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(id, row)`` with the id also under ``row["__id"]``: the id column's value, or the row number."""
    for number, row in enumerate(rows):
        value = row.get(id_column) if id_column else number
        if isinstance(value, bool) or not isinstance(value, (int, str)) or value == "":
            row["__bad_id"] = value  # parse reports it, named by the row number
            row["__id"] = f"#{number}"
        else:
            row["__id"] = str(value)
        yield row["__id"], row


# ---------------------------------------------------------------- values


def _value(row: Mapping[str, Any], spec: str) -> Any:
    """The value ``spec`` names: a column, or ``column.key`` (from a struct, or each list element)."""
    if spec in row:
        return row[spec]
    column, _, key = spec.partition(".")
    value = row.get(column)
    if isinstance(value, Mapping):
        return value.get(key)
    if isinstance(value, list) and all(isinstance(v, Mapping) and key in v for v in value):
        return [v[key] for v in value]
    raise RecordError(f"column {column!r} has no {key!r} in {value!r}")


def _as_list(value: Any) -> list[Any]:
    """A media cell as a list: one image (storage dict, path, PIL image) or a list of them."""
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _strings(value: Any, what: str) -> list[str]:
    """A list of texts (a single text counts as a list of one); ``RecordError`` otherwise."""
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise RecordError(f"{what} should be a list of texts, got {value!r}")
    return values


def _references(row: Mapping[str, Any], fields: Mapping[str, Any]) -> tuple[str, ...]:
    if "references" not in fields:
        return ()
    value = _value(row, fields["references"])
    if value is None or value == []:  # nothing to score against, as an empty answer list elsewhere
        raise RecordError(f"has no references (column {fields['references']!r} is {value!r})")
    return tuple(_strings(value, f"column {fields['references']!r}"))


def _first_text(value: Any, column: str) -> str | None:
    """A text cell, or the first element of a list cell (``target: answers`` -> answers[0])."""
    if isinstance(value, list):
        value = value[0] if value else None
    if value is not None and not isinstance(value, str):
        raise RecordError(f"column {column!r} should hold text, got {value!r}")
    return value


def _index(row: Mapping[str, Any], fields: Mapping[str, Any]) -> int:
    value = _value(row, fields["answer_index"])
    if isinstance(value, bool) or not isinstance(value, int):
        raise RecordError(f"column {fields['answer_index']!r} should hold an integer, got {value!r}")
    return value


# ---------------------------------------------------------------- media files


class MediaCache:
    """Turns media cells into ``MediaRef``s of plain files.

    A path (text, or an Image cell's ``path`` without bytes) is resolved relative to root and must
    exist. Bytes (an Image cell's ``bytes``, or a PIL image saved as PNG) are written once to
    ``<cache>/<sha256 of the bytes><suffix>``: identical images share a file, and an existing file is
    never rewritten.
    """

    def __init__(self, folder: Path, root: Path) -> None:
        self.folder = folder
        self.root = root

    def ref(self, value: Any, kind: str) -> MediaRef:
        if isinstance(value, Image.Image):
            buffer = io.BytesIO()
            value.save(buffer, format="PNG")
            return MediaRef(self._store(buffer.getvalue(), ".png"), kind)
        if isinstance(value, Mapping) and value.get("bytes"):
            data, name = value["bytes"], value.get("path")
            if not isinstance(data, bytes) or not (name is None or isinstance(name, str)):
                raise RecordError(f"{kind} cell should hold bytes and a path, got {type(data).__name__} and {name!r}")
            suffix = _image_suffix(data) if kind == "image" else Path(name or "x.mp4").suffix
            return MediaRef(self._store(data, suffix), kind)
        if isinstance(value, Mapping):
            value = value.get("path")
        if not isinstance(value, str) or not value:
            raise RecordError(f"{kind} cell holds neither a path nor image data: {value!r}")
        path = self.root / value  # an absolute path stays as it is
        problem = file_problem(path, f"{kind} file")
        if problem is not None:
            raise RecordError(problem)
        return MediaRef(path, kind)

    def _store(self, data: bytes, suffix: str) -> Path:
        target = self.folder / f"{hashlib.sha256(data).hexdigest()}{suffix}"
        # a file named by its content's hash holds exactly these bytes; one of another size was cut off
        # (a crash before this atomic writer existed, a full disk) and is written again
        if file_state(target) != "file" or target.stat().st_size != len(data):
            self.folder.mkdir(parents=True, exist_ok=True)
            write_bytes_atomic(target, data)  # a reader never sees half a file
        return target


def _image_suffix(data: bytes) -> str:
    """The file suffix of encoded image bytes (``.png``, ``.jpg``, ...), read from their header."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format or ""
    except Exception as err:  # PIL raises UnidentifiedImageError, OSError, ... for bad data
        raise RecordError(f"image cell holds bytes that are not an image: {type(err).__name__}") from err
    return {"JPEG": ".jpg", "": ".img"}.get(kind, f".{kind.lower()}")
