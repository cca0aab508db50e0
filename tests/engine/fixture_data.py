"""A data root in the official formats for three built-in benchmarks (coco, vqav2, msrvtt_qa), small
enough for the tiny model to run in seconds."""

from __future__ import annotations

from pathlib import Path

from ..data.fixtures import write_jpeg, write_json, write_video

POOL, EVAL = 6, 4
WORDS = ["cat", "dog", "two", "red", "yes", "no"]


def write_coco(root: Path) -> None:
    images = []
    for i in range(POOL + EVAL):
        folder, split = ("train2014", "train") if i < POOL else ("val2014", "test")
        name = f"COCO_{folder}_{i:012d}.jpg"
        write_jpeg(root / folder / name, i, photo="coffee" if i % 2 else "astronaut")
        images.append({"filepath": folder, "filename": name, "imgid": i, "cocoid": 500 + i, "split": split,
                       "sentences": [{"raw": f"A {WORDS[i % 6]} on a table."}, {"raw": f"A photo of a {WORDS[i % 6]}."}]})
    write_json(root / "dataset_coco.json", {"images": images, "dataset": "coco"})


def write_vqav2(root: Path) -> None:
    for subtype, offset, count, qfile, afile in (
        ("train2014", 0, POOL, "v2_OpenEnded_mscoco_train2014_questions.json", "v2_mscoco_train2014_annotations.json"),
        ("val2014", 100, EVAL, "v2_OpenEnded_mscoco_val2014_questions.json", "v2_mscoco_val2014_annotations.json"),
    ):
        questions, annotations = [], []
        for i in range(count):
            image_id, qid = offset + i, (offset + i) * 10 + 1
            write_jpeg(root / subtype / f"COCO_{subtype}_{image_id:012d}.jpg", i)
            questions.append({"image_id": image_id, "question": f"What is shown {image_id}?", "question_id": qid})
            answers = [WORDS[(i + j // 4) % 6] for j in range(10)]
            annotations.append({"question_id": qid, "image_id": image_id, "question_type": "what is",
                                "answer_type": "yes/no" if i % 2 else "other", "multiple_choice_answer": answers[0],
                                "answers": [{"answer": a, "answer_confidence": "yes", "answer_id": j + 1} for j, a in enumerate(answers)]})
        write_json(root / qfile, {"data_subtype": subtype, "questions": questions})
        write_json(root / afile, {"annotations": annotations[::-1]})  # another order: joined by id


def write_msrvtt_qa(root: Path) -> None:
    for file, offset, count in (("train_qa.json", 0, POOL), ("test_qa.json", 7000, EVAL)):
        records = []
        for i in range(count):
            video_id = offset + i
            write_video(root / "videos" / f"video{video_id}.mp4")
            records.append({"question": f"what is moving {i}?", "answer": WORDS[i % 6], "video_id": video_id, "id": video_id * 10})
        write_json(root / file, records)


def write_data_root(root: Path) -> Path:
    write_coco(root / "coco")
    write_vqav2(root / "vqav2")
    write_msrvtt_qa(root / "msrvtt_qa")
    write_nextqa_mc(root / "nextqa_mc")
    return root


def write_nextqa_mc(root: Path) -> None:
    """NExT-QA multiple choice: csv rows with five options and the right one's index."""
    from ..data.fixtures import write_csv

    header = ["video", "frame_count", "width", "height", "question", "answer", "qid", "type", "a0", "a1", "a2", "a3", "a4"]
    mapping = {}
    for file, offset, count in (("train.csv", 0, POOL), ("val.csv", 900, EVAL)):
        rows = []
        for i in range(count):
            video = str(offset + i)
            mapping[video] = f"0000/{video}"
            write_video(root / "NExTVideo" / "0000" / f"{video}.mp4")
            options = [f"option {WORDS[(i + j) % 6]}" for j in range(5)]
            rows.append([video, 4, 32, 32, f"what happens {i}?", i % 5, i, "CW", *options])
        write_csv(root / file, header, rows)
    write_json(root / "map_vid_vidorID.json", mapping)


if __name__ == "__main__":  # python -m tests.engine.fixture_data DIR: the same data, for trying the CLI
    import sys

    print(write_data_root(Path(sys.argv[1])))
