"""Classification by ranking candidate texts: formats ``hateful_memes`` (HatefulMemes' JSON lines) and
``imagenet`` (an ImageFolder of class folders plus a class-name file).

Every example carries the task's candidates in ``options`` and the right one's index in
``answer_index``; the engine scores every candidate after the prompt (``task: classification``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ...errors import DataError
from ..example import Example, MediaRef
from ..formats import (
    FOLDER,
    Problems,
    entry_path,
    file_problem,
    file_state,
    register_format,
)
from ._common import (
    MediaFiles,
    RecordError,
    check_value,
    collect,
    field,
    ident,
    json_kind,
    load_json,
    load_jsonl,
    read_text,
    text,
)

# OpenFlamingo's class names for HatefulMemes, in label order: label 1 (hateful) is "yes", and option
# index 1 is the positive class of the roc_auc metric.
HATEFUL_OPTIONS = ("no", "yes")
# What counts as an image in a class folder: torchvision's ImageFolder extensions (OpenFlamingo reads
# ImageNet with ImageFolder), compared case-insensitively (ImageNet's files end in .JPEG).
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp"})


# ---------------------------------------------------------------- HatefulMemes


@register_format("hateful_memes")
def read_hateful_memes(root: Path, entry: dict[str, Any], problems: Problems) -> list[Example]:
    """Read a HatefulMemes split: JSON lines ``{"id": 42953, "img": "img/42953.png", "label": 0,
    "text": "<the meme's text>"}`` (``train.jsonl``, ``dev_seen.jsonl``, ``test_seen.jsonl``, ...).

    Entry keys: ``annotations`` (the .jsonl), ``images`` (optional: the folder the records' ``img``
    paths are relative to; default the data folder, as released).
    A file in which no record has a ``label`` key is unlabelled (the first release's test files):
    its examples are answered and left unscored. In a labelled file, a record without a label, or
    with a label other than 0 or 1, is a bad record.
    Out: id = str(id); media = the image; question = the meme's text (the prompt quotes it);
    options = ("no", "yes"); answer_index = the label (1 = hateful = "yes"); target = references[0]
    = that option; unlabelled: answer_index and target None, references (). meta = img.
    """
    file = entry_path(root, entry, "annotations")
    images = entry_path(root, entry, "images") if "images" in entry else Path(root)
    records = load_jsonl(file, problems, ("id",))
    labelled = any(isinstance(record, Mapping) and "label" in record for _, record in records)
    media = MediaFiles()

    def parse(record: Mapping[str, Any]) -> list[Example]:
        example_id = ident(record, "id")
        img = text(record, "img")
        image = media.ref(images / img, "image")
        meme_text = text(record, "text")
        answer_index = _binary_label(record) if labelled else None
        target = None if answer_index is None else HATEFUL_OPTIONS[answer_index]
        return [Example(id=example_id, media=(image,), question=meme_text, target=target,
                        references=() if target is None else (target,), options=HATEFUL_OPTIONS,
                        answer_index=answer_index, meta={"img": img})]

    return collect(file, records, parse, problems)


def _binary_label(record: Mapping[str, Any]) -> int:
    """The record's ``label``: the number 0 or 1 (not text, not true/false, not 1.0)."""
    value = field(record, "label")
    if type(value) is not int or value not in (0, 1):
        raise RecordError(f"field 'label' should be 0 (not hateful) or 1 (hateful), got {value!r}")
    return value


# ---------------------------------------------------------------- ImageNet


@register_format("imagenet")
def read_imagenet(root: Path, entry: dict[str, Any], problems: Problems) -> list[Example]:
    """Read one ImageNet-1k split laid out as torchvision's ImageFolder: ``<split>/<class folder>/<image>``
    (``train/n01440764/n01440764_10026.JPEG``; the val images moved into class folders first).

    Entry keys: ``images`` (the split's folder), ``class_names`` (a file naming every class folder:
    a ``.json`` list of names in sorted class-folder order, a ``.json`` object ``{folder: name}``, or
    a ``.txt`` of lines ``<folder> <name...>`` such as Kaggle's LOC_synset_mapping.txt, where the
    whole rest of the line is the name).
    Class folders are the split folder's sub-folders, sorted by name; an example is each file with an
    image extension (``IMAGE_EXTENSIONS``, any case) under one, sorted by path. Entries whose names
    start with "." (.DS_Store, macOS's ._ files, .ipynb_checkpoints) and files that are not images by
    their extension (a README, a csv) are not data and are passed over; an image directly in the
    split folder (val not yet sorted into class folders) is an error. Errors naming the class-name
    file: a class folder without a name, a name for a folder the split lacks, two folders with the
    same name (ranking could not tell them apart), a name that is blank or holds a control token.
    These are faults of the whole split (every example ranks every name), so skipping cannot help.
    Out: id = ``<folder>/<file path without extension>``; options = every class name in sorted-folder
    order (one tuple shared by all examples); answer_index = the example's class index; target =
    references[0] = its class name; no meta (the id names the class folder).
    """
    split = entry_path(root, entry, "images")
    if file_state(split) != FOLDER:
        raise DataError(f"{split} is a file, not a folder (data key 'images': the split's class folders)")
    names_file = entry_path(root, entry, "class_names")
    folders = _class_folders(split)
    names = _class_names(names_file, split, folders)
    options = tuple(names[folder] for folder in folders)
    references = [(name,) for name in options]  # one tuple per class, shared by its images
    found = 0

    def records() -> Iterator[tuple[str, dict[str, Any]]]:
        nonlocal found
        for record in _image_files(split, folders):  # streamed: train has 1.28M images
            found += 1
            yield record["id"], record

    def parse(record: Mapping[str, Any]) -> list[Example]:
        path, index = record["path"], record["class"]
        if record["problem"] is not None:  # a broken link or another file that is not a regular file
            raise RecordError(record["problem"])
        # no meta: the id starts with the class folder (a one-entry dict per image would add ~10% memory)
        return [Example(id=record["id"], media=(MediaRef(path=path, kind="image"),), target=options[index],
                        references=references[index], options=options, answer_index=index)]

    examples = collect(split, records(), parse, problems)
    if not found:
        raise DataError(f"{split} holds no images in its {len(folders)} class folder(s) "
                        f"(image extensions: {', '.join(sorted(IMAGE_EXTENSIONS))})")
    return examples


def _class_folders(split: Path) -> list[str]:
    """The split's class folders, sorted (ImageFolder's class order); an image lying directly in the
    split folder is a ``DataError`` (its class is unknown: the val images must be sorted first)."""
    folders, loose = [], []
    for item in _scan(split):
        if item.is_dir():
            folders.append(item.name)
        elif _is_image_name(item.name):
            loose.append(item.name)
    if loose:
        raise DataError(f"{split / min(loose)} is an image outside any class folder ({len(loose)} such file(s) in "
                        f"{split}): each split must hold one folder per class, the ImageNet val images moved into "
                        "class folders as torchvision's ImageFolder expects")
    if not folders:
        raise DataError(f"{split} has no class folders (expected one sub-folder per class)")
    return sorted(folders)


def _image_files(split: Path, folders: Sequence[str]) -> Iterator[dict[str, Any]]:
    """One record per image file under each class folder, in class order then path order:
    ``{"id", "path", "class", "problem"}``, ``problem`` naming a file that is not a regular file."""
    for index, folder in enumerate(folders):
        for relative, item in _walk(split / folder, ""):
            path = split / folder / relative
            # the listing already says whether it is a file: no stat per image (train has 1.28M)
            problem = None if item.is_file() else file_problem(path, "image file")
            stem = relative.rpartition(".")[0]
            yield {"id": f"{folder}/{stem}", "path": path, "class": index, "problem": problem}


def _walk(folder: Path, prefix: str) -> Iterator[tuple[str, os.DirEntry]]:
    """``(relative path, entry)`` of the images under ``folder``, sub-folders included (as ImageFolder
    walks them), sorted by name, passing over hidden entries and non-image files."""
    for item in sorted(_scan(folder), key=lambda i: i.name):
        relative = f"{prefix}{item.name}"
        if item.is_dir():
            yield from _walk(Path(item.path), relative + "/")
        elif _is_image_name(item.name):
            yield relative, item


def _scan(folder: Path) -> list[os.DirEntry]:
    """A folder's entries whose names do not start with "."; ``DataError`` naming it when unreadable."""
    try:
        with os.scandir(folder) as listing:
            return [item for item in listing if not item.name.startswith(".")]
    except OSError as err:
        raise DataError(f"{folder}: cannot list it ({err.strerror or err})") from None


def _is_image_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def _class_names(path: Path, split: Path, folders: Sequence[str]) -> dict[str, str]:
    """``{folder: name}`` for exactly the split's class folders, from the class-name file (see
    ``read_imagenet``); every fault is a ``DataError`` naming ``path`` and the folder or line."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        data = load_json(path)
        if isinstance(data, list):
            named = _listed_names(path, split, data, folders)
        elif isinstance(data, dict):
            named = dict(data)
        else:
            raise DataError(f"{path} does not look right: expected a JSON list of class names or an object "
                            f"{{class folder: name}}, got {json_kind(data)}")
    elif suffix == ".txt":
        named = _synset_lines(path)
    else:
        raise DataError(f"{path}: a class-name file is .json (a list or an object) or .txt ('<folder> <name>' lines), "
                        f"not {suffix or 'a file without extension'}")
    missing = [folder for folder in folders if folder not in named]
    if missing:
        raise DataError(f"{path}: class folder {missing[0]} of {split} has no name here"
                        + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
    extra = sorted(set(named) - set(folders))
    if extra:
        raise DataError(f"{path} names class folder {extra[0]} ({named[extra[0]]!r}), which {split} does not have"
                        + (f" (and {len(extra) - 1} more)" if len(extra) > 1 else ""))
    first: dict[str, str] = {}
    for folder in folders:
        name = _checked_name(path, folder, named[folder])
        if name in first:
            raise DataError(f"{path}: class folders {first[name]} and {folder} are both named {name!r}; ranking class "
                            "names cannot tell them apart: give one of them another name")
        first[name] = folder
    return {folder: named[folder] for folder in folders}


def _listed_names(path: Path, split: Path, names: list[Any], folders: Sequence[str]) -> dict[str, Any]:
    """A JSON list of names, one per class folder in sorted order, as ``{folder: name}``; a list of
    another length is a ``DataError`` saying which folder lacks a name or which name lacks a folder."""
    if len(names) < len(folders):
        raise DataError(f"{path} lists {len(names)} class names but {split} has {len(folders)} class folders: "
                        f"{folders[len(names)]} (number {len(names) + 1} in sorted order) and later ones have no name")
    if len(names) > len(folders):
        raise DataError(f"{path} lists {len(names)} class names but {split} has only {len(folders)} class folders: "
                        f"the name at index {len(folders)} ({names[len(folders)]!r}) and later ones name no folder")
    return dict(zip(folders, names))


def _synset_lines(path: Path) -> dict[str, str]:
    """``{folder: name}`` from lines ``<folder> <name...>`` (LOC_synset_mapping.txt: ``n01440764 tench,
    Tinca tinca``); blank lines are ignored, a line without a name or a folder named twice is an error."""
    named: dict[str, str] = {}
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.strip().split(None, 1)
        if len(parts) != 2:
            raise DataError(f"{path}: line {number} should be '<class folder> <class name>', got {line!r}")
        folder, name = parts[0], parts[1].strip()
        if folder in named:
            raise DataError(f"{path}: line {number}: class folder {folder} is named a second time")
        named[folder] = name
    return named


def _checked_name(path: Path, folder: str, name: Any) -> str:
    """A class name as it will reach the prompt: non-blank text without control tokens."""
    if not isinstance(name, str) or not name.strip():
        raise DataError(f"{path}: the name of class folder {folder} should be non-blank text, got {name!r}")
    try:
        check_value("its class name", name)
    except RecordError as err:
        raise DataError(f"{path}: class folder {folder}: {err}") from None
    return name
