"""No command answers a user's mistake with a traceback: one line naming what is wrong, exit status 1
(2 for a malformed option, typer's usage error); the traceback only with --debug."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from flamingo_eval.cli import app

from ..engine.fixture_data import write_coco

runner = CliRunner()
BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("data")
    write_coco(root / "coco")
    return root


def _files(tmp: Path, data_root: Path) -> dict[str, str]:
    """Bad inputs on disk, by name: a plain file, a folder that is not a results folder, broken specs."""
    (tmp / "a-file.txt").write_text("text")
    (tmp / "stranger").mkdir()
    (tmp / "stranger" / "notes.txt").write_text("mine")
    spec = yaml.safe_load((BENCHMARKS / "coco.yaml").read_text())
    spec["data"]["root"] = str(data_root / "coco")
    (tmp / "typo.yaml").write_text(yaml.safe_dump(spec | {"query_set_size": "many"}))
    (tmp / "list.yaml").write_text("- just\n- a list\n")
    (tmp / "broken.yaml").write_text("name: [unclosed\n")
    return {"file": str(tmp / "a-file.txt"), "stranger": str(tmp / "stranger"), "typo": str(tmp / "typo.yaml"),
            "list": str(tmp / "list.yaml"), "broken": str(tmp / "broken.yaml"), "missing": str(tmp / "missing.yaml"),
            "data": str(data_root), "out": str(tmp / "out")}


# (command line with {placeholders}, what the message must contain)
CASES = [
    ("run no_such_benchmark --model tiny", "no benchmark 'no_such_benchmark'"),
    ("run coco --model no-such-model --data-root {data} --out {out}", "no model spec 'no-such-model'"),
    ("run coco --model tiny --shots a,b --data-root {data}", "--shots must be comma-separated integers"),
    ("run coco --model tiny --shots 0 --data-root {data} --out {file}", "is a file, not a folder"),
    ("run coco --model tiny --shots 0 --data-root {data} --out {stranger}", "is not a flamingo-eval results folder"),
    ("run coco --model tiny --shots 0 --out {out}", "no data folder"),
    ("run {typo} --model tiny --shots 0 --out {out}", "query_set_size"),
    ("run {list} --model tiny", "must be a mapping"),
    ("run {broken} --model tiny", "not valid YAML"),
    ("run {missing} --model tiny", "missing.yaml"),
    ("run coco --model tiny --selection nearest --data-root {data}", "unknown selection 'nearest'"),
    ("run coco --model tiny --token-budget lots --data-root {data}", "token_budget must be a number of tokens (at least 1) or auto, got 'lots'"),
    ("run coco --model tiny --decode graphs --data-root {data}", "decode must be one of eager, static, compiled, got 'graphs'"),
    ("run coco --model tiny --batch-size 0 --data-root {data}", "at least 1"),
    ("run coco --model tiny --shots 0 --dtype float13 --data-root {data} --out {out}", "float13"),
    ("run coco --model tiny --shots 0 --vision-dtype float13 --data-root {data} --out {out}", "vision_dtype must be one of"),
    ("run coco --model tiny --shots 0 --device cuda:7 --data-root {data} --out {out}", "cuda:7"),
    ("sweep --config {list}", "must be a mapping"),
    ("sweep coco --grid frames --model tiny", "--grid 'frames' should be axis=value"),
    ("sweep coco --grid colour=red --model tiny --data-root {data} --out {out}", "unknown axis 'colour'"),
    ("ablate coco --variant oops --model tiny", "should look like name:key=value"),
    ("report {stranger}", "stranger"),
    ("report {missing}", "missing.yaml"),
    ("generate --model tiny --image {missing}", "missing.yaml"),
    ("generate --model {typo}", "typo.yaml"),
    ("model-bench --model no-such-model", "no model spec 'no-such-model'"),
    ("bench --model tiny --shots x", "--shots must be comma-separated integers"),
    ("train --recipe {missing}", "missing.yaml"),
    ("demo --out {stranger} --model tiny", "stranger"),
    ("make-demo-data --out {file}", "a-file.txt"),
    ("run coco --model tiny --shots 0 --ids {missing} --data-root {data} --out {out}", "cannot read the ids file"),
    ("run coco --model tiny --shots 0 --ids {file} --data-root {data} --out {out}", "query id 'text' is in none of the evaluated splits"),
    ("run coco --model tiny --shots 0 --limit 0 --data-root {data}", "limit must be at least 1"),
    ("run coco --model tiny --shots 0 --limit 2 --num-samples 3 --data-root {data}", "choose one of num_samples"),
    ("run coco --model hf:org/not-cached --shots 0 --data-root {data} --out {out}", "huggingface-cli download org/not-cached"),
    ("run coco --model hf:justone --shots 0 --data-root {data}", "hf:ORG/NAME"),
    ("run coco --model tiny --shots 0 --data-root hf:datasets/org/none --out {out}", "--repo-type dataset"),
    ("ablate coco --variant v:option_score=max --model tiny", "option_score must be one of"),
    ("train --variant gates=none", "unknown ablation switch 'gates'"),
    ("train --variant connector=transformer", "is not one of: mlp, mean"),
    ("bench --task nope --model tiny", "--task must be generation or rank"),
    ("bench --task rank --model tiny --shots 2,4", "one shot count"),
    ("report {stranger} --training-runs {stranger}", "stranger"),
]


@pytest.mark.parametrize("line, expected", CASES, ids=[c[0].split(" {")[0][:40] for c in CASES])
def test_a_user_mistake_is_one_named_line_without_traceback(line: str, expected: str, tmp_path: Path, data_root: Path) -> None:
    args = line.format(**_files(tmp_path, data_root)).split()
    result = runner.invoke(app, args, env={"COLUMNS": "400", "FLAMINGO_EVAL_DATA": None})
    text = " ".join(result.output.split())
    assert result.exit_code in (1, 2), (result.exit_code, text, result.exception)
    assert "Traceback" not in result.output, text
    assert result.exception is None or isinstance(result.exception, SystemExit), (text, result.exception)
    assert expected in text, text


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--debug", "run", "no_such_benchmark", "--model", "tiny"])
    assert result.exit_code == 1 and result.exception is not None and not isinstance(result.exception, SystemExit)
