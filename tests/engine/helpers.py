"""Shared by the engine tests: drive the CLI in-process and read its predictions."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from flamingo_eval.cli import app

runner = CliRunner()
COMMON = ["--model", "tiny", "--seed", "7"]
ALL = ["coco", "vqav2", "msrvtt_qa", "nextqa_mc"]  # captioning, VQA, video QA, multiple choice


def invoke(*args: str):
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result


def predictions(folder):
    return [json.loads(line) for line in (folder / "predictions.jsonl").read_text().splitlines()]
