"""Reading results folders: checks that name the file, and combining folders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flamingo_eval.errors import FlamingoEvalError
from flamingo_eval.errors import ResultsError
from flamingo_eval.report import combine_metric_rows, load_rows, merged_primary_metrics, read_results
from flamingo_eval.report.results import ROW_COLUMNS, run_names

from .fixtures import fixture_rows, run_json, write_folder


def test_reads_a_folder(results_folder: Path) -> None:
    rs = read_results(results_folder)
    assert rs.name == "demo"
    assert len(rs.rows) == 16 * 3
    assert rs.primary_metrics == {"coco": "CIDEr", "vqav2": "vqa_accuracy"}
    assert rs.baseline == "baseline"


def test_missing_metrics_json_names_the_file(results_folder: Path) -> None:
    (results_folder / "metrics.json").unlink()
    with pytest.raises(ResultsError, match=r"demo/metrics\.json: file not found") as info:
        read_results(results_folder)
    assert isinstance(info.value, FlamingoEvalError) and isinstance(info.value, ValueError)


def test_missing_run_json_names_the_file(results_folder: Path) -> None:
    (results_folder / "run.json").unlink()
    with pytest.raises(ResultsError, match=r"demo/run\.json: file not found"):
        read_results(results_folder)


def test_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="nope: not a results folder"):
        read_results(tmp_path / "nope")


def test_malformed_json_names_file_and_line(results_folder: Path) -> None:
    (results_folder / "metrics.json").write_text('[\n{"variant": }\n]')
    with pytest.raises(ResultsError, match=r"metrics\.json: not valid JSON: .* line 2"):
        read_results(results_folder)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"shots": "4"}, r"row 0: key 'shots' must be a non-negative integer"),
        ({"value": None}, r"row 0: key 'value' must be a finite number"),
        ({"trial": True}, r"row 0: key 'trial' must be a non-negative integer"),
        ({"metric": ""}, r"row 0: key 'metric' must be a non-empty string"),
    ],
)
def test_bad_rows_name_file_row_and_key(results_folder: Path, change: dict, message: str) -> None:
    rows = fixture_rows()
    rows[0].update(change)
    write_folder(results_folder, rows, run_json())
    with pytest.raises(ResultsError, match=r"metrics\.json: " + message):
        read_results(results_folder)


def test_missing_key_and_non_list(results_folder: Path) -> None:
    rows = fixture_rows()
    del rows[3]["n"]
    write_folder(results_folder, rows, run_json())
    with pytest.raises(ResultsError, match=r"row 3: missing key\(s\) 'n'"):
        read_results(results_folder)
    (results_folder / "metrics.json").write_text("{}")
    with pytest.raises(ResultsError, match="expected a JSON list"):
        read_results(results_folder)


def test_repeated_measurement_in_one_file(results_folder: Path) -> None:
    rows = fixture_rows()
    write_folder(results_folder, rows + [dict(rows[5])], run_json())
    with pytest.raises(ResultsError, match=r"rows 5 and 48 are the same measurement"):
        read_results(results_folder)


def test_run_json_checks(results_folder: Path) -> None:
    run = run_json()
    run["primary_metrics"] = {"coco": "CIDEr"}
    write_folder(results_folder, fixture_rows(), run)
    with pytest.raises(ResultsError, match=r"run\.json: key 'primary_metrics' has no entry for benchmark\(s\) vqav2"):
        read_results(results_folder)
    run["format"] = "something-else"
    write_folder(results_folder, fixture_rows(), run)
    with pytest.raises(ResultsError, match=r"run\.json: key 'format'"):
        read_results(results_folder)


def test_metric_rows_columns_and_run(results_folder: Path) -> None:
    frame = combine_metric_rows([read_results(results_folder)])
    assert tuple(frame.columns) == ROW_COLUMNS
    assert set(frame["run"]) == {"demo"}
    assert frame["seed"].tolist()[:3] == [42, 43, 44]


def test_colliding_variants_are_relabelled(tmp_path: Path) -> None:
    a = write_folder(tmp_path / "a", fixture_rows(), run_json())
    b = write_folder(tmp_path / "b", fixture_rows(), run_json())
    _, frame = load_rows([a, b])
    assert len(frame) == 2 * 16 * 3  # both kept
    assert set(frame["variant"]) == {"a:baseline", "a:prompt-b", "b:baseline", "b:prompt-b"}


def test_complementary_folders_share_a_label(tmp_path: Path) -> None:
    coco = [r for r in fixture_rows() if r["benchmark"] == "coco"]
    vqa = [r for r in fixture_rows() if r["benchmark"] == "vqav2"]
    a = write_folder(tmp_path / "a", coco, run_json())
    b = write_folder(tmp_path / "b", vqa, run_json())
    _, frame = load_rows([a, b])
    assert set(frame["variant"]) == {"baseline", "prompt-b"}


def test_run_names_unique_and_folder_twice(tmp_path: Path) -> None:
    x = write_folder(tmp_path / "one" / "run", fixture_rows(), run_json())
    y = write_folder(tmp_path / "two" / "run", fixture_rows(), run_json())
    assert run_names([read_results(x), read_results(y)]) == ["one/run", "two/run"]
    with pytest.raises(ResultsError, match="given more than once"):
        load_rows([x, x])


def test_primary_metric_conflict_names_both_files(tmp_path: Path) -> None:
    a = write_folder(tmp_path / "a", fixture_rows(), run_json())
    b = write_folder(tmp_path / "b", fixture_rows(), run_json(primary={"coco": "Bleu_4", "vqav2": "vqa_accuracy"}))
    with pytest.raises(ResultsError, match=r"b/run\.json: primary metric of 'coco' is 'Bleu_4', but .*a/run\.json"):
        merged_primary_metrics([read_results(a), read_results(b)])


def test_fixture_is_the_documented_layout(results_folder: Path) -> None:
    row = json.loads((results_folder / "metrics.json").read_text())[0]
    assert set(row) == {"variant", "model", "benchmark", "shots", "trial", "seed", "metric", "value", "n"}
