"""Classification readers (hateful_memes, imagenet) on fixtures written in the released layouts:
HatefulMemes' JSON lines beside img/<id>.png, ImageNet's class folders with a class-name file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from flamingo_eval.data.example import MediaRef
from flamingo_eval.data.formats import FORMATS, Problems, read_examples
from flamingo_eval.errors import DataError

from .fixtures import write_jpeg, write_json


def write_png(path: Path, index: int = 0) -> Path:
    """A 40x48 PNG whose pixels depend on ``index``, so files differ."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = (np.arange(40 * 48 * 3, dtype=np.int64).reshape(40, 48, 3) * (index + 3) % 251).astype(np.uint8)
    Image.fromarray(pixels).save(path, format="PNG")
    return path


def write_jsonl(path: Path, records: list) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def test_formats_register() -> None:
    from flamingo_eval.data import readers  # noqa: F401  (importing the package registers the formats)

    assert {"hateful_memes", "imagenet", "star"} <= set(FORMATS)


# ---------------------------------------------------------------- hateful_memes

MEMES = [
    {"id": 42953, "img": "img/42953.png", "label": 0, "text": "its their character not their color that matters"},
    {"id": 23058, "img": "img/23058.png", "label": 1, "text": "don't be afraid to love again"},
    {"id": 13894, "img": "img/13894.png", "label": 0, "text": "putting bows on your pet"},
]


def hateful(root: Path, name: str = "train.jsonl", records: list | None = None, first_id: int = 0) -> dict:
    """A HatefulMemes split file and its images; returns the split entry."""
    records = MEMES if records is None else records
    for index, record in enumerate(records):
        write_png(root / record["img"], first_id + index)
    write_jsonl(root / name, records)
    return {"annotations": name}


def rewrite(path: Path, change) -> None:
    """Load a JSON-lines file, let ``change`` edit its records, write it back."""
    records = [json.loads(line) for line in path.read_text().splitlines()]
    change(records)
    write_jsonl(path, records)


def test_hateful_memes_fields(tmp_path: Path) -> None:
    examples = read_examples("hateful_memes", tmp_path, hateful(tmp_path))
    assert [ex.id for ex in examples] == ["42953", "23058", "13894"]
    ex = examples[1]
    assert ex.media == (MediaRef(tmp_path / "img/23058.png", "image"),)
    assert ex.question == "don't be afraid to love again"  # the meme's text goes into the prompt
    assert ex.options == ("no", "yes") and ex.answer_index == 1
    assert ex.target == "yes" and ex.references == ("yes",)
    assert ex.meta == {"img": "img/23058.png"}
    assert (examples[0].answer_index, examples[0].target, examples[0].references) == (0, "no", ("no",))


def test_hateful_memes_unlabelled_file_is_unscored(tmp_path: Path) -> None:
    records = [{k: v for k, v in record.items() if k != "label"} for record in MEMES]
    examples = read_examples("hateful_memes", tmp_path, hateful(tmp_path, "test_unseen.jsonl", records))
    assert len(examples) == 3
    assert all(ex.answer_index is None and ex.target is None and ex.references == () for ex in examples)
    assert all(ex.options == ("no", "yes") for ex in examples)


def test_hateful_memes_images_key_and_blank_lines(tmp_path: Path) -> None:
    entry = hateful(tmp_path / "elsewhere")
    (tmp_path / "elsewhere" / "train.jsonl").rename(tmp_path / "train.jsonl")
    path = tmp_path / "train.jsonl"
    path.write_text("\n" + path.read_text() + "\n\n")  # blank lines are no records
    examples = read_examples("hateful_memes", tmp_path, entry | {"images": "elsewhere"})
    assert examples[0].media[0].path == tmp_path / "elsewhere/img/42953.png"


@pytest.mark.parametrize("change,record,message", [
    (lambda r: r[1].__setitem__("label", 2), "23058", r"field 'label' should be 0 \(not hateful\) or 1 \(hateful\), got 2"),
    (lambda r: r[1].__setitem__("label", "1"), "23058", r"field 'label' should be 0 .* got '1'"),
    (lambda r: r[1].__setitem__("label", True), "23058", r"field 'label' should be 0 .* got True"),
    (lambda r: r[1].pop("label"), "23058", r"lacks the field 'label'"),  # others have one: the file is labelled
    (lambda r: r[2].__setitem__("text", "a <image> in the text"), "13894",
     r"its question holds the model's control token '<image>'"),
    (lambda r: r[2].__setitem__("text", "over<|endofchunk|>"), "13894", r"its question holds the model's control token '<\|endofchunk\|>'"),
    (lambda r: r[2].__setitem__("text", " "), "13894", r"has an empty 'text'"),
    (lambda r: r[0].__setitem__("img", "img/gone.png"), "42953", r"image file not found: .*img/gone.png"),
    (lambda r: r[0].pop("id"), "line 1", r"lacks the field 'id'"),
    (lambda r: r[2].__setitem__("id", 42953), "42953", r"this id appears twice"),
], ids=["label-2", "label-text", "label-bool", "label-missing", "image-token", "chunk-token", "blank-text",
        "missing-image", "no-id", "duplicate-id"])
def test_hateful_memes_bad_records(tmp_path: Path, change, record, message) -> None:
    entry = hateful(tmp_path)
    rewrite(tmp_path / "train.jsonl", change)
    with pytest.raises(DataError, match=rf"train.jsonl: record {record}: {message}"):
        read_examples("hateful_memes", tmp_path, entry)
    problems = Problems(skip=True)
    kept = read_examples("hateful_memes", tmp_path, entry, problems)
    assert len(kept) == 2 and [s.id for s in problems.skipped] == [record]
    assert problems.skipped[0].file == str(tmp_path / "train.jsonl")


def test_hateful_memes_bad_lines_and_files(tmp_path: Path) -> None:
    entry = hateful(tmp_path)
    path = tmp_path / "train.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], '{"id": 1, "img": ', lines[2], "[1, 2]"]) + "\n")
    with pytest.raises(DataError, match=r"train.jsonl: record line 2: is not valid JSON"):
        read_examples("hateful_memes", tmp_path, entry)
    problems = Problems(skip=True)
    assert [ex.id for ex in read_examples("hateful_memes", tmp_path, entry, problems)] == ["42953", "13894"]
    assert [s.id for s in problems.skipped] == ["line 2", "line 4"]  # line 4 is JSON but not an object
    path.write_text("\n\n")
    with pytest.raises(DataError, match=r"train.jsonl is empty \(expected JSON lines"):
        read_examples("hateful_memes", tmp_path, entry, Problems(skip=True))
    with pytest.raises(DataError, match=r"dev_seen.jsonl not found"):
        read_examples("hateful_memes", tmp_path, {"annotations": "dev_seen.jsonl"})


# ---------------------------------------------------------------- imagenet

WNIDS = ["n01440764", "n01443537", "n01484850", "n01491361"]
NAMES = ["tench", "goldfish", "great white shark", "tiger shark"]


def imagenet(root: Path, split: str = "val", per_class: tuple[int, ...] = (2, 1, 0, 1), names: object = None,
             names_file: str = "class_names.json", wnids: list[str] = WNIDS) -> dict:
    """An ImageFolder split (``per_class`` images in each class folder; a class may have none) and a
    class-name file (default: a JSON list in sorted-folder order); returns the split entry."""
    count = 0
    for wnid, n in zip(wnids, per_class):
        (root / split / wnid).mkdir(parents=True, exist_ok=True)
        for k in range(n):
            write_jpeg(root / split / wnid / f"ILSVRC2012_{split}_{wnid}_{k}.JPEG", count)
            count += 1
    names = NAMES[: len(wnids)] if names is None else names
    if isinstance(names, str):
        (root / names_file).write_text(names, encoding="utf-8")
    else:
        write_json(root / names_file, names)
    return {"images": split, "class_names": names_file}


def test_imagenet_fields(tmp_path: Path) -> None:
    examples = read_examples("imagenet", tmp_path, imagenet(tmp_path))
    assert [ex.id for ex in examples] == ["n01440764/ILSVRC2012_val_n01440764_0", "n01440764/ILSVRC2012_val_n01440764_1",
                                          "n01443537/ILSVRC2012_val_n01443537_0", "n01491361/ILSVRC2012_val_n01491361_0"]
    ex = examples[3]
    assert ex.media == (MediaRef(tmp_path / "val/n01491361/ILSVRC2012_val_n01491361_0.JPEG", "image"),)
    assert ex.options == tuple(NAMES) and ex.answer_index == 3  # the empty class folder still names a class
    assert ex.target == "tiger shark" and ex.references == ("tiger shark",) and ex.question is None
    assert ex.meta == {}  # the id names the class folder
    assert all(other.options is ex.options for other in examples)  # one shared tuple, not 50000 copies


@pytest.mark.parametrize("names_file,names", [
    ("class_names.json", dict(zip(reversed(WNIDS), reversed(NAMES)))),  # an object: order does not matter
    ("LOC_synset_mapping.txt", "".join(f"{w} {n}\n" for w, n in zip(WNIDS, NAMES)) + "\n"),
])
def test_imagenet_class_name_files(tmp_path: Path, names_file, names) -> None:
    examples = read_examples("imagenet", tmp_path, imagenet(tmp_path, names=names, names_file=names_file))
    assert examples[0].options == tuple(NAMES)


def test_imagenet_synset_mapping_keeps_the_whole_rest_of_the_line(tmp_path: Path) -> None:
    text = "n01440764 tench, Tinca tinca\nn01443537 goldfish, Carassius auratus\n"
    entry = imagenet(tmp_path, per_class=(1, 1), names=text, names_file="LOC_synset_mapping.txt", wnids=WNIDS[:2])
    assert read_examples("imagenet", tmp_path, entry)[0].options == ("tench, Tinca tinca", "goldfish, Carassius auratus")


def test_imagenet_passes_over_what_is_not_an_image(tmp_path: Path) -> None:
    entry = imagenet(tmp_path)
    folder = tmp_path / "val" / WNIDS[1]
    (folder / "README.txt").write_text("not an image")
    (folder / ".DS_Store").write_bytes(b"\0")
    write_jpeg(folder / "._ILSVRC2012_val_x.JPEG")  # macOS metadata beside a copied file: hidden, not data
    write_jpeg(folder / "upper.PNG", 7)  # extensions in any case
    write_jpeg(folder / "nested" / "deeper.jpg", 8)  # sub-folders are walked, as ImageFolder does
    (tmp_path / "val" / "LOC_val_solution.csv").write_text("ImageId,PredictionString\n")  # a loose non-image
    ids = [ex.id for ex in read_examples("imagenet", tmp_path, entry) if ex.answer_index == 1]
    assert ids == [f"{WNIDS[1]}/ILSVRC2012_val_n01443537_0", f"{WNIDS[1]}/nested/deeper", f"{WNIDS[1]}/upper"]


@pytest.mark.parametrize("change,message", [
    (lambda root: write_json(root / "class_names.json", NAMES[:3]),
     r"class_names.json lists 3 class names but .*val has 4 class folders: n01491361 \(number 4 in sorted order\)"),
    (lambda root: write_json(root / "class_names.json", NAMES + ["hammerhead"]),
     r"class_names.json lists 5 class names but .*val has only 4 class folders: the name at index 4 \('hammerhead'\)"),
    (lambda root: write_json(root / "class_names.json", dict(zip(WNIDS[:3], NAMES))),
     r"class_names.json: class folder n01491361 of .*val has no name here"),
    (lambda root: write_json(root / "class_names.json", dict(zip(WNIDS + ["n09999999"], NAMES + ["ghost"]))),
     r"class_names.json names class folder n09999999 \('ghost'\), which .*val does not have"),
    (lambda root: write_json(root / "class_names.json", ["tench", "goldfish", "crane", "crane"]),
     r"class_names.json: class folders n01484850 and n01491361 are both named 'crane'; ranking class names cannot"),
    (lambda root: write_json(root / "class_names.json", ["tench", "<image>", "a", "b"]),
     r"class_names.json: class folder n01443537: its class name holds the model's control token '<image>'"),
    (lambda root: write_json(root / "class_names.json", ["tench", " ", "a", "b"]),
     r"class_names.json: the name of class folder n01443537 should be non-blank text, got ' '"),
    (lambda root: write_json(root / "class_names.json", ["tench", 3, "a", "b"]),
     r"the name of class folder n01443537 should be non-blank text, got 3"),
    (lambda root: write_json(root / "class_names.json", {"names": NAMES}),
     r"class_names.json: class folder n01440764 of .*val has no name here"),
    (lambda root: write_json(root / "class_names.json", "tench"),
     r"class_names.json does not look right: expected a JSON list of class names or an object"),
    (lambda root: write_jpeg(root / "val" / "ILSVRC2012_val_00000001.JPEG"),
     r"val/ILSVRC2012_val_00000001.JPEG is an image outside any class folder \(1 such file"),
], ids=["list-short", "list-long", "folder-without-name", "name-without-folder", "duplicate-names", "control-token",
        "blank-name", "number-name", "object-of-list", "not-a-list", "unsorted-val"])
def test_imagenet_split_faults_are_errors_even_when_skipping(tmp_path: Path, change, message) -> None:
    entry = imagenet(tmp_path)
    change(tmp_path)
    with pytest.raises(DataError, match=message):
        read_examples("imagenet", tmp_path, entry)
    with pytest.raises(DataError, match=message):  # every example ranks every name: skipping cannot help
        read_examples("imagenet", tmp_path, entry, Problems(skip=True))


@pytest.mark.parametrize("lines,message", [
    ("n01440764 tench\nn01443537\n", r"LOC_synset_mapping.txt: line 2 should be '<class folder> <class name>'"),
    ("n01440764 tench\nn01440764 tinca\n", r"LOC_synset_mapping.txt: line 2: class folder n01440764 is named a second"),
])
def test_imagenet_synset_file_faults(tmp_path: Path, lines, message) -> None:
    entry = imagenet(tmp_path, per_class=(1, 1), names=lines, names_file="LOC_synset_mapping.txt", wnids=WNIDS[:2])
    with pytest.raises(DataError, match=message):
        read_examples("imagenet", tmp_path, entry)


def test_imagenet_file_faults(tmp_path: Path) -> None:
    entry = imagenet(tmp_path)
    with pytest.raises(DataError, match=r"class_names.yaml: a class-name file is .json .* or .txt"):
        (tmp_path / "class_names.yaml").write_text("- tench\n")
        read_examples("imagenet", tmp_path, entry | {"class_names": "class_names.yaml"})
    with pytest.raises(DataError, match=r"train not found \(data key 'images'\)"):
        read_examples("imagenet", tmp_path, entry | {"images": "train"})
    with pytest.raises(DataError, match=r"class_names.json is a file, not a folder"):
        read_examples("imagenet", tmp_path, entry | {"images": "class_names.json"})
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"empty has no class folders"):
        read_examples("imagenet", tmp_path, entry | {"images": "empty"})
    none = imagenet(tmp_path, "train", per_class=(0, 0, 0, 0))
    with pytest.raises(DataError, match=r"train holds no images in its 4 class folder\(s\)"):
        read_examples("imagenet", tmp_path, none)


@pytest.mark.parametrize("make,record,message", [
    (lambda folder: (folder / "ILSVRC2012_val_n01440764_0.png").write_bytes(b"png"), "n01440764/ILSVRC2012_val_n01440764_0",
     "this id appears twice"),  # the same stem twice: ids would clash
    (lambda folder: (folder / "broken.JPEG").symlink_to(folder / "gone.JPEG"), "n01440764/broken",
     r"image file .*broken.JPEG"),
], ids=["same-stem", "broken-link"])
def test_imagenet_bad_image_records(tmp_path: Path, make, record, message) -> None:
    entry = imagenet(tmp_path)
    make(tmp_path / "val" / WNIDS[0])
    with pytest.raises(DataError, match=rf"val: record {record}: {message}"):
        read_examples("imagenet", tmp_path, entry)
    problems = Problems(skip=True)
    assert len(read_examples("imagenet", tmp_path, entry, problems)) == 4
    assert [(s.file, s.id) for s in problems.skipped] == [(str(tmp_path / "val"), record)]
