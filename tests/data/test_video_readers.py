"""Video readers (msrvtt_qa, msvd_qa, ivqa, nextqa, video_captions) on fixtures in the official
layouts, with real (tiny) mp4 files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from flamingo_eval.data.example import MediaRef
from flamingo_eval.data.formats import Problems, read_examples
from flamingo_eval.data.media import sample_video_frames
from flamingo_eval.errors import DataError

from .fixtures import VIDEO_FRAMES, write_csv, write_json, write_video

# ---------------------------------------------------------------- msrvtt_qa / msvd_qa


def msrvtt(tmp_path: Path) -> dict:
    records = [
        {"answer": "dance", "category_id": 0, "id": 0, "question": "what are the people doing?", "video_id": 7010},
        {"answer": "man", "category_id": 1, "id": 1, "question": "who is talking?", "video_id": 7011},
        {"answer": "car", "category_id": 0, "id": 2, "question": "what is shown?", "video_id": 7010},
    ]
    write_json(tmp_path / "test_qa.json", records)
    for video_id in (7010, 7011):
        write_video(tmp_path / f"videos/video{video_id}.mp4")
    return {"annotations": "test_qa.json", "videos": "videos"}


def test_msrvtt_qa_fields(tmp_path: Path) -> None:
    examples = read_examples("msrvtt_qa", tmp_path, msrvtt(tmp_path))
    assert [ex.id for ex in examples] == ["0", "1", "2"]
    ex = examples[1]
    assert ex.question == "who is talking?" and ex.target == "man" and ex.references == ("man",)
    assert ex.media == (MediaRef(tmp_path / "videos/video7011.mp4", "video"),)
    assert ex.meta == {"video_id": 7011, "category_id": 1}


def test_frames_sample_through_a_reader_media_ref(tmp_path: Path) -> None:
    ex = read_examples("msrvtt_qa", tmp_path, msrvtt(tmp_path))[0]
    frames = sample_video_frames(ex.media[0].path, fps=2.0)  # the fixture runs at 2 fps
    assert len(frames) == VIDEO_FRAMES
    assert [round(float(np.asarray(f).mean()) / 60) for f in frames] == list(range(VIDEO_FRAMES))


def test_msrvtt_qa_errors(tmp_path: Path) -> None:
    entry = msrvtt(tmp_path)
    with pytest.raises(DataError, match="gone.json not found"):
        read_examples("msrvtt_qa", tmp_path, entry | {"annotations": "gone.json"})
    (tmp_path / "videos/video7011.mp4").unlink()
    with pytest.raises(DataError, match=r"test_qa.json: record 1: video file not found: .*video7011.mp4"):
        read_examples("msrvtt_qa", tmp_path, entry)
    problems = Problems(skip=True)
    assert [ex.id for ex in read_examples("msrvtt_qa", tmp_path, entry, problems)] == ["0", "2"]
    assert [s.id for s in problems.skipped] == ["1"]
    write_video(tmp_path / "videos/video7011.mp4")
    records = json.loads((tmp_path / "test_qa.json").read_text())
    del records[2]["answer"]
    write_json(tmp_path / "test_qa.json", records)
    with pytest.raises(DataError, match=r"test_qa.json: record 2: lacks the field 'answer'"):
        read_examples("msrvtt_qa", tmp_path, entry | {"video_ext": ".mp4"})


def msvd(tmp_path: Path) -> dict:
    (tmp_path / "youtube_mapping.txt").write_text("-4wsuPCjDBc_5_15 vid1\n\nzv2RIbUsnSw_335_341 vid2\n")
    write_json(tmp_path / "test_qa.json", [
        {"answer": "cat", "id": 30933, "question": "what is playing?", "video_id": 2},
        {"answer": "slice", "id": 30934, "question": "what does a man do?", "video_id": 1},
    ])
    write_video(tmp_path / "YouTubeClips/-4wsuPCjDBc_5_15.avi")
    write_video(tmp_path / "YouTubeClips/zv2RIbUsnSw_335_341.avi")
    return {"annotations": "test_qa.json", "videos": "YouTubeClips", "mapping": "youtube_mapping.txt"}


def test_msvd_qa_maps_video_ids_to_clips(tmp_path: Path) -> None:
    examples = read_examples("msvd_qa", tmp_path, msvd(tmp_path))
    assert [ex.id for ex in examples] == ["30933", "30934"]
    assert examples[0].media == (MediaRef(tmp_path / "YouTubeClips/zv2RIbUsnSw_335_341.avi", "video"),)
    assert examples[1].media[0].path.name == "-4wsuPCjDBc_5_15.avi"
    assert examples[0].meta == {"video_id": 2, "clip": "zv2RIbUsnSw_335_341"}
    assert examples[1].target == "slice" and examples[1].references == ("slice",)


def test_msvd_qa_errors(tmp_path: Path) -> None:
    entry = msvd(tmp_path)
    with pytest.raises(DataError, match="lacks the key 'mapping'"):
        read_examples("msvd_qa", tmp_path, {k: v for k, v in entry.items() if k != "mapping"})
    with pytest.raises(DataError, match=r"YouTubeClips/zv2RIbUsnSw_335_341.mp4"):
        read_examples("msvd_qa", tmp_path, entry | {"video_ext": "mp4"})
    (tmp_path / "youtube_mapping.txt").write_text("-4wsuPCjDBc_5_15 vid1\n")
    with pytest.raises(DataError, match=r"test_qa.json: record 30933: its video vid2 is not in .*youtube_mapping.txt"):
        read_examples("msvd_qa", tmp_path, entry)
    (tmp_path / "youtube_mapping.txt").write_text("-4wsuPCjDBc_5_15\n")
    with pytest.raises(DataError, match="youtube_mapping.txt: line 1"):
        read_examples("msvd_qa", tmp_path, entry)


# ---------------------------------------------------------------- ivqa

IVQA_HEADER = ["video_id", "start", "end", "question", "answer1", "answer2", "answer3", "answer4", "answer5", "split"]


def ivqa(tmp_path: Path) -> dict:
    rows = [
        ["abc123", 23, 33, "what is the man cutting?", "onion", "onion", "", "an onion", "onion", "test"],
        ["xyz789", 5, 15, "what is in the pan?", "egg", "eggs", "egg", "egg", "egg", "val"],
        ["def456", 0, 10, "what tool is used?", "", "knife", "", "", "", "test"],
    ]
    write_csv(tmp_path / "test.csv", IVQA_HEADER, rows)
    for video_id, start, end, *_ in rows:
        write_video(tmp_path / f"clips/{video_id}_{start}_{end}.mp4")
    return {"annotations": "test.csv", "videos": "clips"}


def test_ivqa_fields_and_split(tmp_path: Path) -> None:
    entry = ivqa(tmp_path)
    examples = read_examples("ivqa", tmp_path, entry | {"split": "test"})
    assert [ex.id for ex in examples] == ["abc123_23_33", "def456_0_10"]
    ex = examples[0]
    assert ex.references == ("onion", "onion", "an onion", "onion")  # empty cell dropped, repeats kept
    assert ex.target == "onion" and ex.question == "what is the man cutting?"
    assert ex.media == (MediaRef(tmp_path / "clips/abc123_23_33.mp4", "video"),)
    assert ex.meta == {"video_id": "abc123", "start": "23", "end": "33"}
    assert examples[1].target == "knife" and examples[1].references == ("knife",)  # answer1 empty
    assert len(read_examples("ivqa", tmp_path, entry)) == 3


def test_ivqa_id_column_and_pattern(tmp_path: Path) -> None:
    write_csv(tmp_path / "q.csv", ["qid", *IVQA_HEADER[:-1]],
              [[7, "abc", 1, 2, "q?", "a", "b", "c", "d", "e"], [3, "abc", 1, 2, "q2?", "f", "", "", "", ""]])
    write_video(tmp_path / "v/abc-1-2.webm")
    examples = read_examples("ivqa", tmp_path, {"annotations": "q.csv", "videos": "v",
                                                "video_pattern": "{video_id}-{start}-{end}.webm"})
    assert [ex.id for ex in examples] == ["7", "3"]
    assert examples[1].media[0].path == tmp_path / "v/abc-1-2.webm"


def test_ivqa_errors(tmp_path: Path) -> None:
    entry = ivqa(tmp_path)
    rows = [["abc123", 23, 33, "q1?", "a", "", "", "", "", "test"], ["abc123", 23, 33, "q2?", "b", "", "", "", "", "test"],
            ["xyz789", 5, 15, "", "egg", "", "", "", "", "test"], ["def456", 0, 10, "q?", "", "", "", "", "", "test"]]
    write_csv(tmp_path / "test.csv", IVQA_HEADER, rows)
    with pytest.raises(DataError, match=r"test.csv: record abc123_23_33: this id appears twice"):
        read_examples("ivqa", tmp_path, entry)
    problems = Problems(skip=True)
    assert [ex.id for ex in read_examples("ivqa", tmp_path, entry, problems)] == ["abc123_23_33"]
    assert [(s.id, s.reason.split(" ")[0]) for s in problems.skipped] == [
        ("abc123_23_33", "this"), ("xyz789_5_15", "has"), ("def456_0_10", "has")]
    assert "empty 'question'" in problems.skipped[1].reason and "no answer" in problems.skipped[2].reason
    (tmp_path / "clips/abc123_23_33.mp4").unlink()
    with pytest.raises(DataError, match=r"record abc123_23_33: video file not found"):
        read_examples("ivqa", tmp_path, entry)
    write_csv(tmp_path / "test.csv", IVQA_HEADER[:4], [])
    with pytest.raises(DataError, match="test.csv lacks the column"):
        read_examples("ivqa", tmp_path, entry)
    write_csv(tmp_path / "test.csv", IVQA_HEADER, [["abc123", 23, 33, "q1?", "a", "", "", "", ""]])  # no split cell
    with pytest.raises(DataError, match=r"test.csv: record abc123_23_33: line 2 has 9 cells but the header has 10"):
        read_examples("ivqa", tmp_path, entry)
    (tmp_path / "test.csv").write_bytes(b"video_id,start,end,question\n\xff\n")
    with pytest.raises(DataError, match=r"test.csv is not UTF-8 text: byte 28 \(line 2\)"):
        read_examples("ivqa", tmp_path, entry)


# ---------------------------------------------------------------- nextqa

NEXT_HEADER = ["video", "frame_count", "width", "height", "question", "answer", "qid", "type"]


def nextqa(tmp_path: Path) -> dict:
    rows = [
        ["4010069381", 1612, 640, 480, "why did the boy pick up the ball", 2, 6, "CW",
         "to throw", "to eat it", "to play with the dog", "to hide it", "to clean it"],
        ["3375297036", 820, 640, 360, "what does the lady do after cooking", 0, 4, "TN",
         "eat", "sleep", "sing", "run", "cry"],
    ]
    write_csv(tmp_path / "val.csv", NEXT_HEADER + ["a0", "a1", "a2", "a3", "a4"], rows)
    write_csv(tmp_path / "val_oe.csv", NEXT_HEADER + ["additional_ref_answer"],
              [["4010069381", 1612, 640, 480, "what is the boy holding", "ball", 3, "DO", "a ball"],
               ["3375297036", 820, 640, 360, "where is this", "kitchen", 1, "DL", ""]])
    write_json(tmp_path / "map_vid_vidorID.json", {"3375297036": "0072/3375297036", "4010069381": "1106/4010069381"})
    write_video(tmp_path / "NExTVideo/1106/4010069381.mp4")
    write_video(tmp_path / "NExTVideo/0072/3375297036.mp4")
    return {"annotations": "val.csv", "videos": "NExTVideo", "mapping": "map_vid_vidorID.json"}


def test_nextqa_multiple_choice(tmp_path: Path) -> None:
    examples = read_examples("nextqa", tmp_path, nextqa(tmp_path))  # mode guessed from a0..a4
    assert [ex.id for ex in examples] == ["4010069381_6", "3375297036_4"]
    ex = examples[0]
    assert ex.options == ("to throw", "to eat it", "to play with the dog", "to hide it", "to clean it")
    assert ex.answer_index == 2 and ex.target == "to play with the dog" and ex.references == ("to play with the dog",)
    assert ex.media == (MediaRef(tmp_path / "NExTVideo/1106/4010069381.mp4", "video"),)
    assert ex.meta == {"type": "CW", "video": "4010069381", "qid": "6"}


def test_nextqa_open_ended_without_mapping(tmp_path: Path) -> None:
    entry = nextqa(tmp_path) | {"annotations": "val_oe.csv", "videos": "flat", "mode": "open_ended"}
    del entry["mapping"]
    write_video(tmp_path / "flat/4010069381.mp4")
    write_video(tmp_path / "flat/3375297036.mp4")
    examples = read_examples("nextqa", tmp_path, entry)
    assert [(ex.id, ex.target, ex.references, ex.options) for ex in examples] == [
        ("4010069381_3", "ball", ("ball",), ()), ("3375297036_1", "kitchen", ("kitchen",), ())]
    assert examples[0].media[0].path == tmp_path / "flat/4010069381.mp4"
    assert examples[0].meta["additional_ref_answer"] == "a ball" and "additional_ref_answer" not in examples[1].meta


def test_nextqa_errors(tmp_path: Path) -> None:
    entry = nextqa(tmp_path)
    with pytest.raises(DataError, match="nextqa mode must be one of"):
        read_examples("nextqa", tmp_path, entry | {"mode": "mc"})
    with pytest.raises(DataError, match="val_oe.csv lacks the option columns"):
        read_examples("nextqa", tmp_path, entry | {"annotations": "val_oe.csv", "mode": "multiple_choice"})
    write_json(tmp_path / "map_vid_vidorID.json", {"4010069381": "1106/4010069381"})
    with pytest.raises(DataError, match=r"val.csv: record 3375297036_4: its video 3375297036 is not in"):
        read_examples("nextqa", tmp_path, entry)
    write_json(tmp_path / "map_vid_vidorID.json", {"3375297036": "0072/3375297036", "4010069381": "9999/4010069381"})
    problems = Problems(skip=True)
    assert [ex.id for ex in read_examples("nextqa", tmp_path, entry, problems)] == ["3375297036_4"]
    assert problems.skipped[0].id == "4010069381_6" and "9999/4010069381.mp4" in problems.skipped[0].reason
    write_csv(tmp_path / "val.csv", NEXT_HEADER + ["a0", "a1", "a2", "a3", "a4"],
              [["3375297036", 820, 640, 360, "q", 5, 4, "TN", "a", "b", "c", "d", "e"]])
    with pytest.raises(DataError, match=r"record 3375297036_4: answer index 5 is not in 0..4"):
        read_examples("nextqa", tmp_path, entry)


# ---------------------------------------------------------------- video_captions


def test_vatex_list(tmp_path: Path) -> None:
    captions = ["A man plays a guitar.", "Someone strums a guitar.", "A man plays a guitar."]
    write_json(tmp_path / "vatex_public_test.json", [
        {"videoID": "Ptf_2VRj-V0_000122_000132", "enCap": captions, "chCap": ["一个男人在弹吉他。"]},
        {"videoID": "abc_000001_000011", "enCap": ["A dog runs."]},
    ])
    write_video(tmp_path / "vatex/Ptf_2VRj-V0_000122_000132.mp4")
    write_video(tmp_path / "vatex/abc_000001_000011.mp4")
    examples = read_examples("video_captions", tmp_path, {"annotations": "vatex_public_test.json", "videos": "vatex"})
    assert [ex.id for ex in examples] == ["Ptf_2VRj-V0_000122_000132", "abc_000001_000011"]
    assert examples[0].target == captions[0] and examples[0].references == tuple(captions)
    assert examples[0].media == (MediaRef(tmp_path / "vatex/Ptf_2VRj-V0_000122_000132.mp4", "video"),)
    assert examples[0].question is None and examples[0].meta == {"video_id": "Ptf_2VRj-V0_000122_000132"}
    # other key names, and the {id: [captions]} shape
    write_json(tmp_path / "other.json", [{"vid": "abc_000001_000011", "caps": ["x", "y"]}])
    [ex] = read_examples("video_captions", tmp_path, {"annotations": "other.json", "videos": "vatex",
                                                      "id_key": "vid", "captions_key": "caps"})
    assert ex.references == ("x", "y")
    write_json(tmp_path / "map.json", {"abc_000001_000011": ["z"]})
    [ex] = read_examples("video_captions", tmp_path, {"annotations": "map.json", "videos": "vatex"})
    assert (ex.id, ex.target) == ("abc_000001_000011", "z")


def test_vatex_errors(tmp_path: Path) -> None:
    write_json(tmp_path / "v.json", [{"videoID": "a", "enCap": ["A."]}, {"videoID": "b", "enCap": []},
                                     {"videoID": "c"}])
    for name in "abc":
        write_video(tmp_path / f"videos/{name}.mp4")
    entry = {"annotations": "v.json", "videos": "videos"}
    with pytest.raises(DataError, match=r"v.json: record b: field 'enCap' should be a non-empty list"):
        read_examples("video_captions", tmp_path, entry)
    (tmp_path / "videos/a.mp4").unlink()
    problems = Problems(skip=True)
    assert read_examples("video_captions", tmp_path, entry, problems) == []
    assert [s.id for s in problems.skipped] == ["a", "b", "c"]
    assert "video file not found" in problems.skipped[0].reason and "lacks the field 'enCap'" in problems.skipped[2].reason
    with pytest.raises(DataError, match="split setting only applies to YouCook2"):
        read_examples("video_captions", tmp_path, entry | {"split": "test"})


def youcook(tmp_path: Path) -> dict:
    database = {
        "GLd3aX16zBg": {"duration": 241.62, "subset": "validation", "recipe_type": "113", "annotations": [
            {"segment": [90, 102], "id": 0, "sentence": "spread margarine on two slices of white bread"},
            {"segment": [114, 127], "id": 1, "sentence": "place a slice of cheese on the bread"}]},
        "xHr8X2Wpmno": {"duration": 180.0, "subset": "training", "recipe_type": "113", "annotations": [
            {"segment": [10, 20], "id": 0, "sentence": "boil water"}]},
    }
    write_json(tmp_path / "youcookii_annotations_trainval.json", {"database": database})
    write_video(tmp_path / "raw_videos/GLd3aX16zBg.mp4")
    write_video(tmp_path / "raw_videos/xHr8X2Wpmno.mp4")
    return {"annotations": "youcookii_annotations_trainval.json", "videos": "raw_videos", "split": "validation"}


def test_youcook2_segments(tmp_path: Path) -> None:
    entry = youcook(tmp_path)
    examples = read_examples("video_captions", tmp_path, entry)
    assert [ex.id for ex in examples] == ["GLd3aX16zBg_0", "GLd3aX16zBg_1"]
    ex = examples[1]
    assert ex.target == "place a slice of cheese on the bread" and ex.references == (ex.target,)
    # the segment's bounds travel with the media reference, so frames come from the segment only
    assert ex.media == (MediaRef(tmp_path / "raw_videos/GLd3aX16zBg.mp4", "video", start=114.0, end=127.0),)
    assert ex.meta == {"video_id": "GLd3aX16zBg", "start": 114, "end": 127, "subset": "validation", "recipe_type": "113"}
    assert len(read_examples("video_captions", tmp_path, {k: v for k, v in entry.items() if k != "split"})) == 3
    write_video(tmp_path / "raw_videos/validation/113/GLd3aX16zBg.webm")
    nested = entry | {"video_pattern": "{subset}/{recipe_type}/{video_id}.{ext}", "video_ext": "webm"}
    assert read_examples("video_captions", tmp_path, nested)[0].media[0].path.suffix == ".webm"


def test_youcook2_errors(tmp_path: Path) -> None:
    entry = youcook(tmp_path)
    path = tmp_path / entry["annotations"]
    data = json.loads(path.read_text())
    del data["database"]["GLd3aX16zBg"]["annotations"][1]["sentence"]
    data["database"]["GLd3aX16zBg"]["annotations"][0]["segment"] = [90]
    write_json(path, data)
    with pytest.raises(DataError, match=r"youcookii_annotations_trainval.json: record GLd3aX16zBg_0: field 'segment'"):
        read_examples("video_captions", tmp_path, entry)
    problems = Problems(skip=True)
    assert read_examples("video_captions", tmp_path, entry, problems) == []
    assert [s.id for s in problems.skipped] == ["GLd3aX16zBg_0", "GLd3aX16zBg_1"]
    (tmp_path / "raw_videos/xHr8X2Wpmno.mp4").unlink()
    with pytest.raises(DataError, match=r"record xHr8X2Wpmno_0: video file not found"):
        read_examples("video_captions", tmp_path, entry | {"split": "training"})
