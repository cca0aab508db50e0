"""Image readers (karpathy, vqa, textvqa, vizwiz) on fixtures written in the official layouts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flamingo_eval.data.example import MediaRef
from flamingo_eval.data.formats import FORMATS, Problems, read_examples
from flamingo_eval.errors import DataError

from .fixtures import write_jpeg, write_json


def by_id(examples):
    return {ex.id: ex for ex in examples}


def test_every_format_registers() -> None:
    from flamingo_eval.data import readers  # noqa: F401  (importing the package registers the formats)

    assert {"karpathy", "vqa", "textvqa", "vizwiz", "msrvtt_qa", "msvd_qa", "ivqa", "nextqa",
            "video_captions", "hf"} <= set(FORMATS)


# ---------------------------------------------------------------- karpathy

CAPS_42 = ["A man in a space suit.", "An astronaut smiles.", "A man in a space suit."]  # a repeat, kept


def coco(tmp_path: Path) -> dict:
    images = [
        {"filepath": "val2014", "filename": "COCO_val2014_000000000042.jpg", "imgid": 0, "split": "test",
         "sentences": [{"raw": c, "tokens": c.lower().split()} for c in CAPS_42], "cocoid": 42, "sentids": [0, 1, 2]},
        {"filepath": "train2014", "filename": "COCO_train2014_000000000007.jpg", "imgid": 1, "split": "train",
         "sentences": [{"raw": "A coffee cup."}], "cocoid": 7, "sentids": [3]},
        {"filepath": "val2014", "filename": "COCO_val2014_000000000099.jpg", "imgid": 2, "split": "restval",
         "sentences": [{"raw": "A cup on a table."}, {"raw": "Coffee."}], "cocoid": 99, "sentids": [4, 5]},
    ]
    for i, image in enumerate(images):
        write_jpeg(tmp_path / "coco" / image["filepath"] / image["filename"], i)
    write_json(tmp_path / "dataset_coco.json", {"images": images, "dataset": "coco"})
    return {"annotations": "dataset_coco.json", "images": "coco", "split": "test"}


def test_karpathy_coco_fields(tmp_path: Path) -> None:
    [ex] = read_examples("karpathy", tmp_path, coco(tmp_path))
    assert ex.id == "42"  # cocoid, not the imgid position
    assert ex.media == (MediaRef(tmp_path / "coco/val2014/COCO_val2014_000000000042.jpg", "image"),)
    assert ex.target == CAPS_42[0] and ex.references == tuple(CAPS_42)
    assert ex.question is None
    assert ex.meta == {"image_id": 42, "filename": "COCO_val2014_000000000042.jpg", "split": "test"}


def test_karpathy_split_lists_keep_file_order(tmp_path: Path) -> None:
    entry = coco(tmp_path) | {"split": ["restval", "train"]}
    examples = read_examples("karpathy", tmp_path, entry)
    assert [ex.id for ex in examples] == ["7", "99"]
    assert examples[0].media[0].path == tmp_path / "coco/train2014/COCO_train2014_000000000007.jpg"
    assert len(read_examples("karpathy", tmp_path, entry | {"split": None})) == 3  # no split: all images
    with pytest.raises(DataError, match="karpathy split 'tset' unknown"):
        read_examples("karpathy", tmp_path, entry | {"split": "tset"})


def test_karpathy_flickr_uses_imgid_and_flat_folder(tmp_path: Path) -> None:
    images = [{"filename": f"{n}.jpg", "imgid": i, "split": "test", "sentids": [i],
               "sentences": [{"raw": f"Caption {n} a."}, {"raw": f"Caption {n} b."}]} for i, n in enumerate((1000, 2000))]
    for i, image in enumerate(images):
        write_jpeg(tmp_path / "flickr" / image["filename"], i)
    write_json(tmp_path / "dataset_flickr30k.json", {"images": images, "dataset": "flickr30k"})
    examples = read_examples("karpathy", tmp_path, {"annotations": "dataset_flickr30k.json", "images": "flickr", "split": "test"})
    assert [ex.id for ex in examples] == ["0", "1"]
    assert examples[1].media[0].path == tmp_path / "flickr/2000.jpg"
    assert examples[1].references == ("Caption 2000 a.", "Caption 2000 b.")
    assert examples[1].meta["filename"] == "2000.jpg"


def test_karpathy_errors(tmp_path: Path) -> None:
    entry = coco(tmp_path)
    with pytest.raises(DataError, match="missing.json"):
        read_examples("karpathy", tmp_path, entry | {"annotations": "missing.json"})
    data = json.loads((tmp_path / "dataset_coco.json").read_text())
    del data["images"][0]["sentences"]
    write_json(tmp_path / "dataset_coco.json", data)
    with pytest.raises(DataError, match=r"dataset_coco.json: record 42: has no captions"):
        read_examples("karpathy", tmp_path, entry)


def test_karpathy_missing_image_and_skip(tmp_path: Path) -> None:
    entry = coco(tmp_path) | {"split": ["test", "train"]}
    (tmp_path / "coco/val2014/COCO_val2014_000000000042.jpg").unlink()
    with pytest.raises(DataError, match=r"dataset_coco.json: record 42: image file not found: .*000000000042.jpg"):
        read_examples("karpathy", tmp_path, entry)
    problems = Problems(skip=True)
    assert [ex.id for ex in read_examples("karpathy", tmp_path, entry, problems)] == ["7"]
    [skipped] = problems.skipped
    assert skipped.id == "42" and skipped.file.endswith("dataset_coco.json") and "not found" in skipped.reason


# ---------------------------------------------------------------- vqa

ANSWERS = ["two", "2", "two", "two", "three", "2", "two", "two", "2", "two"]  # ten, with repeats


def vqa(tmp_path: Path) -> dict:
    questions = [
        {"image_id": 1, "question": "How many people?", "question_id": 1000},
        {"image_id": 2, "question": "What color is the cup?", "question_id": 2000},
        {"image_id": 1, "question": "Is he smiling?", "question_id": 1001},
    ]
    annotations = [  # a different order from the questions: the reader must join on question_id
        {"question_id": 1001, "image_id": 1, "question_type": "is the", "answer_type": "yes/no",
         "multiple_choice_answer": "yes", "answers": [{"answer": "yes", "answer_confidence": "yes", "answer_id": k}
                                                      for k in range(1, 11)]},
        {"question_id": 1000, "image_id": 1, "question_type": "how many", "answer_type": "number",
         "multiple_choice_answer": "two", "answers": [{"answer": a, "answer_confidence": "yes", "answer_id": k + 1}
                                                      for k, a in enumerate(ANSWERS)]},
        {"question_id": 2000, "image_id": 2, "question_type": "what color is the", "answer_type": "other",
         "multiple_choice_answer": "white", "answers": [{"answer": a, "answer_confidence": "maybe", "answer_id": k + 1}
                                                        for k, a in enumerate(["white"] * 9 + ["grey"])]},
    ]
    write_json(tmp_path / "v2_OpenEnded_mscoco_val2014_questions.json",
               {"info": {}, "task_type": "Open-Ended", "data_type": "mscoco", "data_subtype": "val2014",
                "questions": questions})
    write_json(tmp_path / "v2_mscoco_val2014_annotations.json", {"info": {}, "annotations": annotations})
    write_jpeg(tmp_path / "val2014/COCO_val2014_000000000001.jpg", 0)
    write_jpeg(tmp_path / "val2014/COCO_val2014_000000000002.jpg", 1, photo="coffee")
    return {"questions": "v2_OpenEnded_mscoco_val2014_questions.json",
            "annotations": "v2_mscoco_val2014_annotations.json", "images": "val2014"}


def test_vqa_joins_on_question_id(tmp_path: Path) -> None:
    examples = read_examples("vqa", tmp_path, vqa(tmp_path))
    assert [ex.id for ex in examples] == ["1000", "2000", "1001"]  # the questions file's order
    ex = by_id(examples)["1000"]
    assert ex.question == "How many people?"
    assert ex.references == tuple(ANSWERS) and ex.target == "two"
    assert ex.media == (MediaRef(tmp_path / "val2014/COCO_val2014_000000000001.jpg", "image"),)
    assert ex.meta == {"image_id": 1, "answer_type": "number", "question_type": "how many",
                       "multiple_choice_answer": "two"}
    assert by_id(examples)["2000"].references == ("white",) * 9 + ("grey",)
    assert by_id(examples)["1001"].references == ("yes",) * 10


def test_vqa_without_annotations_has_no_references(tmp_path: Path) -> None:
    entry = vqa(tmp_path)
    del entry["annotations"]
    examples = read_examples("vqa", tmp_path, entry)
    assert len(examples) == 3 and all(ex.references == () and ex.target is None for ex in examples)


def test_vqa_image_subtype_and_pattern(tmp_path: Path) -> None:
    entry = vqa(tmp_path)
    write_jpeg(tmp_path / "val2014/COCO_test2015_000000000001.jpg", 2)
    write_jpeg(tmp_path / "val2014/COCO_test2015_000000000002.jpg", 3)
    ex = read_examples("vqa", tmp_path, entry | {"image_subtype": "test2015"})[0]
    assert ex.media[0].path.name == "COCO_test2015_000000000001.jpg"
    write_jpeg(tmp_path / "val2014/1.jpg", 4)
    write_jpeg(tmp_path / "val2014/2.jpg", 5)
    ex = read_examples("vqa", tmp_path, entry | {"image_pattern": "{image_id}.jpg"})[0]
    assert ex.media[0].path == tmp_path / "val2014/1.jpg"
    with pytest.raises(DataError, match="image_pattern.*unknown field"):
        read_examples("vqa", tmp_path, entry | {"image_pattern": "{imageid}.jpg"})


def test_vqa_missing_annotation_file_and_record(tmp_path: Path) -> None:
    entry = vqa(tmp_path)
    with pytest.raises(DataError, match="nope.json not found"):
        read_examples("vqa", tmp_path, entry | {"annotations": "nope.json"})
    with pytest.raises(DataError, match="nope.json not found"):
        read_examples("vqa", tmp_path, entry | {"questions": "nope.json"})
    path = tmp_path / entry["annotations"]
    data = json.loads(path.read_text())
    data["annotations"] = [a for a in data["annotations"] if a["question_id"] != 2000]
    write_json(path, data)
    with pytest.raises(DataError, match=r"v2_mscoco_val2014_annotations.json: record 2000: has no annotation"):
        read_examples("vqa", tmp_path, entry)
    problems = Problems(skip=True)
    assert [ex.id for ex in read_examples("vqa", tmp_path, entry, problems)] == ["1000", "1001"]
    assert [(s.id, Path(s.file).name) for s in problems.skipped] == [("2000", "v2_mscoco_val2014_annotations.json")]


def test_vqa_bad_records(tmp_path: Path) -> None:
    entry = vqa(tmp_path)
    q_path, a_path = tmp_path / entry["questions"], tmp_path / entry["annotations"]
    questions, annotations = (json.loads(p.read_text()) for p in (q_path, a_path))
    del questions["questions"][2]["question"]
    write_json(q_path, questions)
    with pytest.raises(DataError, match=r"questions.json: record 1001: lacks the field 'question'"):
        read_examples("vqa", tmp_path, entry)
    questions["questions"][2]["question"] = "Is he smiling?"
    questions["questions"][1]["image_id"] = 1  # the annotation says image 2
    write_json(q_path, questions)
    with pytest.raises(DataError, match=r"record 2000: annotation's image_id 2 differs"):
        read_examples("vqa", tmp_path, entry)
    questions["questions"][1]["image_id"] = 2
    write_json(q_path, questions)
    annotations["annotations"].append(dict(annotations["annotations"][0]))
    write_json(a_path, annotations)
    with pytest.raises(DataError, match=r"annotations.json: record 1001: has more than one annotation"):
        read_examples("vqa", tmp_path, entry)


def test_vqa_missing_image(tmp_path: Path) -> None:
    entry = vqa(tmp_path)
    (tmp_path / "val2014/COCO_val2014_000000000002.jpg").unlink()
    with pytest.raises(DataError, match=r"record 2000: image file not found: .*COCO_val2014_000000000002.jpg"):
        read_examples("vqa", tmp_path, entry)
    problems = Problems(skip=True)
    assert [ex.id for ex in read_examples("vqa", tmp_path, entry, problems)] == ["1000", "1001"]
    assert [s.id for s in problems.skipped] == ["2000"]


# ---------------------------------------------------------------- textvqa

TEXT_ANSWERS = ["nokia", "nokia", "toshiba", "nokia", "nokia", "nokia", "nokia", "nokia", "nokia", "nokia"]


def textvqa(tmp_path: Path) -> dict:
    data = [
        {"question_id": 34602, "question": "what brand is this?", "image_id": "003a8ae2ef43b901",
         "image_classes": ["Cell phone"], "answers": TEXT_ANSWERS, "set_name": "val"},
        {"question_id": 12, "question": "what is written?", "image_id": "0054c91397f2fe05",
         "answers": ["stop"] * 10, "set_name": "train"},
    ]
    write_json(tmp_path / "TextVQA_0.5.1_val.json", {"dataset_type": "val", "dataset_name": "textvqa", "data": data})
    write_jpeg(tmp_path / "train_images/003a8ae2ef43b901.jpg", 0)
    write_jpeg(tmp_path / "train_images/0054c91397f2fe05.jpg", 1)
    return {"annotations": "TextVQA_0.5.1_val.json", "images": "train_images"}


def test_textvqa_fields_and_split(tmp_path: Path) -> None:
    entry = textvqa(tmp_path)
    [ex] = read_examples("textvqa", tmp_path, entry | {"split": "val"})
    assert ex.id == "34602" and ex.question == "what brand is this?"
    assert ex.references == tuple(TEXT_ANSWERS) and ex.target == "nokia"
    assert ex.media == (MediaRef(tmp_path / "train_images/003a8ae2ef43b901.jpg", "image"),)
    assert ex.meta == {"image_id": "003a8ae2ef43b901", "image_classes": ["Cell phone"], "set_name": "val"}
    assert [e.id for e in read_examples("textvqa", tmp_path, entry)] == ["34602", "12"]
    unanswered = read_examples("textvqa", tmp_path, entry | {"has_answers": False})
    assert all(e.references == () and e.target is None for e in unanswered)


def test_textvqa_errors(tmp_path: Path) -> None:
    entry = textvqa(tmp_path)
    (tmp_path / "train_images/0054c91397f2fe05.jpg").unlink()
    with pytest.raises(DataError, match=r"TextVQA_0.5.1_val.json: record 12: image file not found"):
        read_examples("textvqa", tmp_path, entry)
    problems = Problems(skip=True)
    assert [e.id for e in read_examples("textvqa", tmp_path, entry, problems)] == ["34602"]
    assert problems.skipped[0].id == "12"
    write_json(tmp_path / entry["annotations"], {"data": [{"question_id": 5, "image_id": "003a8ae2ef43b901",
                                                           "question": "what?"}]})
    with pytest.raises(DataError, match=r"record 5: field 'answers' should be a non-empty list"):
        read_examples("textvqa", tmp_path, entry)
    with pytest.raises(DataError, match="absent.json not found"):
        read_examples("textvqa", tmp_path, entry | {"annotations": "absent.json"})


# ---------------------------------------------------------------- vizwiz


def vizwiz(tmp_path: Path) -> dict:
    answers = ["unanswerable", "blue", "blue", "unanswerable", "blue", "blue", "navy", "blue", "blue", "blue"]
    data = [
        {"image": "VizWiz_val_00000001.jpg", "question": "What color is this shirt?", "answer_type": "other",
         "answerable": 1, "answers": [{"answer": a, "answer_confidence": "yes"} for a in answers]},
        {"image": "VizWiz_val_00000000.jpg", "question": "What is this?", "answer_type": "unanswerable",
         "answerable": 0, "answers": [{"answer": "unanswerable", "answer_confidence": "yes"}] * 10},
    ]
    write_json(tmp_path / "val.json", data)
    for i, record in enumerate(data):
        write_jpeg(tmp_path / "val" / record["image"], i)
    return {"annotations": "val.json", "images": "val"}, answers


def test_vizwiz_fields(tmp_path: Path) -> None:
    entry, answers = vizwiz(tmp_path)
    examples = read_examples("vizwiz", tmp_path, entry)
    assert [ex.id for ex in examples] == ["VizWiz_val_00000001", "VizWiz_val_00000000"]
    ex = examples[0]
    assert ex.question == "What color is this shirt?" and ex.references == tuple(answers)
    assert ex.target == "unanswerable"  # the first annotator's answer, as OpenFlamingo's demonstrations
    assert ex.media == (MediaRef(tmp_path / "val/VizWiz_val_00000001.jpg", "image"),)
    assert ex.meta == {"image": "VizWiz_val_00000001.jpg", "answer_type": "other", "answerable": 1}


def test_vizwiz_errors(tmp_path: Path) -> None:
    entry, _ = vizwiz(tmp_path)
    data = json.loads((tmp_path / "val.json").read_text())
    del data[1]["question"]
    write_json(tmp_path / "val.json", data)
    with pytest.raises(DataError, match=r"val.json: record VizWiz_val_00000000: lacks the field 'question'"):
        read_examples("vizwiz", tmp_path, entry)
    (tmp_path / "val/VizWiz_val_00000001.jpg").unlink()
    problems = Problems(skip=True)
    assert read_examples("vizwiz", tmp_path, entry, problems) == []
    assert [(s.id, "not found" in s.reason) for s in problems.skipped] == [("VizWiz_val_00000001", True),
                                                                          ("VizWiz_val_00000000", False)]


# ---------------------------------------------------------------- faults named across readers


def test_vqa_annotation_without_a_question_is_reported(tmp_path: Path) -> None:
    entry = vqa(tmp_path)
    path = tmp_path / entry["annotations"]
    data = json.loads(path.read_text())
    data["annotations"].append(dict(data["annotations"][0], question_id=4242))
    write_json(path, data)
    with pytest.raises(DataError, match=r"annotations.json: record 4242: annotation without a question"):
        read_examples("vqa", tmp_path, entry)
    problems = Problems(skip=True)
    assert len(read_examples("vqa", tmp_path, entry, problems)) == 3  # the questions are all fine
    assert [(s.id, Path(s.file).name) for s in problems.skipped] == [("4242", "v2_mscoco_val2014_annotations.json")]


def test_vqa_answer_faults_name_the_annotations_file(tmp_path: Path) -> None:
    entry = vqa(tmp_path)
    path = tmp_path / entry["annotations"]
    data = json.loads(path.read_text())
    data["annotations"][1]["answers"][0]["answer"] = 7
    write_json(path, data)
    with pytest.raises(DataError, match=r"v2_mscoco_val2014_annotations.json: record 1000: field 'answer' should be text"):
        read_examples("vqa", tmp_path, entry)
    data["annotations"][1]["answers"][0]["answer"] = "two <|endofchunk|>"
    write_json(path, data)
    with pytest.raises(DataError, match=r"annotations.json: record 1000: its target holds the model's control token "
                                        r"'<\|endofchunk\|>'"):
        read_examples("vqa", tmp_path, entry)


def test_control_tokens_in_a_question_are_refused_and_skippable(tmp_path: Path) -> None:
    entry = vqa(tmp_path)
    path = tmp_path / entry["questions"]
    data = json.loads(path.read_text())
    data["questions"][1]["question"] = "What is <image> here?"
    write_json(path, data)
    with pytest.raises(DataError, match=r"questions.json: record 2000: its question holds the model's control token '<image>'"):
        read_examples("vqa", tmp_path, entry)
    problems = Problems(skip=True)
    assert [ex.id for ex in read_examples("vqa", tmp_path, entry, problems)] == ["1000", "1001"]
    assert [s.id for s in problems.skipped] == ["2000"]
