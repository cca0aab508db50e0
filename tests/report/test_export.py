"""Submission files from a results folder: the official formats, one group at a time, nothing dropped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flamingo_eval.cli import app
from flamingo_eval.errors import ResultsError, UnknownNameError
from flamingo_eval.report.export import export_results


def _folder(tmp_path: Path, rows: list[tuple[str, str, int, str, str]]) -> Path:
    """A results folder holding predictions (benchmark, variant, shots, query id, prediction), trial 0."""
    folder = tmp_path / "run"
    folder.mkdir()
    lines = [json.dumps({"variant": v, "benchmark": b, "shots": s, "trial": 0, "query_id": q, "prediction": p,
                         "references": []}) for b, v, s, q, p in rows]
    (folder / "predictions.jsonl").write_text("\n".join(lines) + "\n")
    return folder


def test_evalai_vqa_answers_of_the_chosen_shot_count(tmp_path):
    folder = _folder(tmp_path, [("vqav2", "baseline", 0, "1011", "yes"), ("vqav2", "baseline", 0, "2021", "two"),
                                ("vqav2", "baseline", 4, "1011", "no"), ("vqav2", "baseline", 4, "2021", "three")])
    with pytest.raises(ResultsError, match=r"choose the shots to export \(several are there; present: 0, 4\)"):
        export_results(folder, "evalai-vqa", tmp_path / "out.json")
    assert export_results(folder, "evalai-vqa", tmp_path / "out.json", shots=4) == 2
    assert json.loads((tmp_path / "out.json").read_text()) == [{"question_id": 1011, "answer": "no"},
                                                               {"question_id": 2021, "answer": "three"}]
    with pytest.raises(ResultsError, match="7 is not there"):
        export_results(folder, "evalai-vqa", tmp_path / "out.json", shots=7)


def test_coco_captions_and_vizwiz_formats(tmp_path):
    (tmp_path / "c").mkdir()
    captions = _folder(tmp_path / "c", [("coco", "baseline", 0, "391895", "a man on a bike")])
    export_results(captions, "coco-captions", tmp_path / "captions.json")
    assert json.loads((tmp_path / "captions.json").read_text()) == [{"image_id": 391895, "caption": "a man on a bike"}]
    (tmp_path / "v").mkdir()
    vizwiz = _folder(tmp_path / "v", [("vizwiz", "baseline", 0, "VizWiz_test_00000001", "unanswerable")])
    export_results(vizwiz, "vizwiz", tmp_path / "vizwiz.json")
    assert json.loads((tmp_path / "vizwiz.json").read_text()) == [{"image": "VizWiz_test_00000001.jpg", "answer": "unanswerable"}]


def test_an_id_the_format_cannot_hold_is_named_not_dropped(tmp_path):
    folder = _folder(tmp_path, [("textvqa", "baseline", 0, "34602", "nokia"), ("textvqa", "baseline", 0, "q-7", "stop")])
    with pytest.raises(ResultsError, match="query 'q-7' \\(textvqa\\)"):
        export_results(folder, "evalai-vqa", tmp_path / "out.json")
    assert not (tmp_path / "out.json").exists()
    with pytest.raises(UnknownNameError, match="known: coco-captions, evalai-vqa, vizwiz"):
        export_results(folder, "evalai", tmp_path / "out.json")


def test_the_export_command(tmp_path):
    folder = _folder(tmp_path, [("okvqa", "baseline", 0, "5", "red")])
    result = CliRunner().invoke(app, ["export", str(folder), "--format", "evalai-vqa", "--out", str(tmp_path / "sub.json")])
    assert result.exit_code == 0, result.output
    assert "wrote 1 answers" in result.output
    assert json.loads((tmp_path / "sub.json").read_text()) == [{"question_id": 5, "answer": "red"}]
    result = CliRunner().invoke(app, ["export", str(tmp_path), "--format", "evalai-vqa", "--out", str(tmp_path / "x.json")],
                                env={"COLUMNS": "300"})
    assert result.exit_code == 1 and "no predictions.jsonl" in result.output
