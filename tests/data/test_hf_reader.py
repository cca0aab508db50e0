"""The ``hf`` reader: a tiny dataset with an Image feature, saved with save_to_disk and as parquet."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from flamingo_eval.data.formats import Problems, read_examples
from flamingo_eval.data.media import load_image
from flamingo_eval.errors import DataError

from .fixtures import write_jpeg

datasets = pytest.importorskip("datasets")

FIELDS = {"id": "question_id", "image": "image", "question": "question", "references": "answers", "target": "answers",
          "meta": ["answer_type"]}


def photos() -> list[Image.Image]:
    from skimage import data

    return [Image.fromarray(data.astronaut()[:40, :48]), Image.fromarray(data.coffee()[:40, :48])]


def tiny_dataset() -> datasets.Dataset:
    """Three questions; the first and third show the same image (the cache must store it once)."""
    astronaut, coffee = photos()
    table = {
        "question_id": [11, 12, 13],
        "image": [astronaut, coffee, astronaut.copy()],
        "question": ["Who is this?", "What is in the cup?", "Is he smiling?"],
        "answers": [["astronaut", "man", "astronaut"], ["coffee"] * 3, ["yes", "yes", "no"]],
        "answer_type": ["other", "other", "yes/no"],
    }
    return datasets.Dataset.from_dict(table).cast_column("image", datasets.Image())


def check(examples, root: Path, cache: Path) -> None:
    assert [ex.id for ex in examples] == ["11", "12", "13"]
    ex = examples[0]
    assert ex.question == "Who is this?"
    assert ex.references == ("astronaut", "man", "astronaut") and ex.target == "astronaut"
    assert ex.meta == {"answer_type": "other"}
    [ref] = ex.media
    assert ref.kind == "image" and ref.path.parent == cache and ref.path.suffix == ".png"
    assert np.array_equal(np.asarray(load_image(ref.path)), np.asarray(photos()[0]))  # PNG: lossless
    assert examples[2].media == ex.media  # same content -> same cache file
    assert len(list(cache.iterdir())) == 2


def test_save_to_disk_dataset_dict(tmp_path: Path) -> None:
    datasets.DatasetDict({"validation": tiny_dataset(), "train": tiny_dataset().select([0])}).save_to_disk(
        str(tmp_path / "vqa_hf"))
    entry = {"path": "vqa_hf", "split": "validation", "fields": FIELDS}
    check(read_examples("hf", tmp_path, entry), tmp_path, tmp_path / ".image_cache")
    with pytest.raises(DataError, match="holds the splits validation, train"):
        read_examples("hf", tmp_path, entry | {"split": None})


def test_parquet_file_and_folder(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    tiny_dataset().to_parquet(str(tmp_path / "data/test-00000-of-00001.parquet"))
    train = tiny_dataset().select([1]).remove_columns("question_id").add_column("question_id", [99])
    train.to_parquet(str(tmp_path / "data/train-00000-of-00001.parquet"))
    entry = {"path": "data/test-00000-of-00001.parquet", "fields": FIELDS, "cache_dir": "cache"}
    check(read_examples("hf", tmp_path, entry), tmp_path, tmp_path / "cache")
    folder = read_examples("hf", tmp_path, entry | {"path": "data", "split": "test"})
    assert [ex.id for ex in folder] == ["11", "12", "13"]
    assert [ex.id for ex in read_examples("hf", tmp_path, entry | {"path": "data"})] == ["11", "12", "13", "99"]
    with pytest.raises(DataError, match="no parquet files of split 'dev'"):
        read_examples("hf", tmp_path, entry | {"path": "data", "split": "dev"})


def test_cache_is_keyed_by_content_and_not_rewritten(tmp_path: Path) -> None:
    tiny_dataset().save_to_disk(str(tmp_path / "ds"))
    entry = {"path": "ds", "fields": FIELDS}
    first = read_examples("hf", tmp_path, entry)
    files = sorted((tmp_path / ".image_cache").iterdir())
    stamps = [f.stat().st_mtime_ns for f in files]
    import hashlib

    assert {f.stem for f in files} == {hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
    second = read_examples("hf", tmp_path, entry)
    assert [ex.media for ex in second] == [ex.media for ex in first]
    assert sorted((tmp_path / ".image_cache").iterdir()) == files
    assert [f.stat().st_mtime_ns for f in files] == stamps  # nothing rewritten


def test_path_columns_struct_answers_and_defaults(tmp_path: Path) -> None:
    write_jpeg(tmp_path / "imgs/a.jpg", 0)
    write_jpeg(tmp_path / "imgs/b.jpg", 1)
    table = {
        "file": ["imgs/a.jpg", "imgs/b.jpg"],
        "prompt": ["Q1", "Q2"],
        "answers": [[{"answer": "x", "confidence": "yes"}, {"answer": "x", "confidence": "no"}],
                    [{"answer": "y", "confidence": "yes"}]],
    }
    datasets.Dataset.from_dict(table).to_parquet(str(tmp_path / "p.parquet"))
    fields = {"image": "file", "question": "prompt", "references": "answers.answer"}
    examples = read_examples("hf", tmp_path, {"path": "p.parquet", "fields": fields})
    assert [ex.id for ex in examples] == ["0", "1"]  # no id column: the row number
    assert examples[0].references == ("x", "x") and examples[0].target == "x"  # target: the first reference
    assert examples[1].media[0].path == tmp_path / "imgs/b.jpg"
    assert not (tmp_path / ".image_cache").exists()  # plain paths need no cache
    (tmp_path / "imgs/b.jpg").unlink()
    with pytest.raises(DataError, match=r"p.parquet: record 1: image file not found: .*imgs/b.jpg"):
        read_examples("hf", tmp_path, {"path": "p.parquet", "fields": fields})
    problems = Problems(skip=True)
    assert [ex.id for ex in read_examples("hf", tmp_path, {"path": "p.parquet", "fields": fields}, problems)] == ["0"]
    assert problems.skipped[0].id == "1"


def test_multiple_choice_columns(tmp_path: Path) -> None:
    write_jpeg(tmp_path / "a.jpg", 0)
    datasets.Dataset.from_dict({"qid": ["q1"], "img": ["a.jpg"], "choices": [["red", "blue"]], "label": [1]}).to_parquet(
        str(tmp_path / "mc.parquet"))
    fields = {"id": "qid", "image": "img", "options": "choices", "answer_index": "label"}
    [ex] = read_examples("hf", tmp_path, {"path": "mc.parquet", "fields": fields})
    assert (ex.options, ex.answer_index, ex.target, ex.references) == (("red", "blue"), 1, "blue", ())


def test_errors(tmp_path: Path) -> None:
    tiny_dataset().save_to_disk(str(tmp_path / "ds"))
    with pytest.raises(DataError, match=r"ds: column 'answer' \(fields.references\) is not in the dataset"):
        read_examples("hf", tmp_path, {"path": "ds", "fields": FIELDS | {"references": "answer"}})
    with pytest.raises(DataError, match="hf fields wat unknown"):
        read_examples("hf", tmp_path, {"path": "ds", "fields": FIELDS | {"wat": "image"}})
    with pytest.raises(DataError, match="must map 'image' or 'video'"):
        read_examples("hf", tmp_path, {"path": "ds", "fields": {"id": "question_id"}})
    with pytest.raises(DataError, match="nothere not found"):
        read_examples("hf", tmp_path, {"path": "nothere", "fields": FIELDS})
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="cannot tell how to load"):
        read_examples("hf", tmp_path, {"path": "empty", "fields": FIELDS})


def test_imagefolder(tmp_path: Path) -> None:
    write_jpeg(tmp_path / "folder/train/cat/1.jpg", 0)
    write_jpeg(tmp_path / "folder/train/dog/2.jpg", 1)
    examples = read_examples("hf", tmp_path, {"path": "folder", "loader": "imagefolder", "fields": {"image": "image"},
                                              "cache_dir": "c"})
    assert len(examples) == 2 and all(ex.media[0].path.is_file() for ex in examples)
