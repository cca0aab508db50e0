"""--limit (the first N queries, the same every trial), --ids (listed queries) and run-level generation
flags, end to end on the fixture data with the tiny model."""

from __future__ import annotations

import json

import pytest

from flamingo_eval.api import evaluate
from flamingo_eval.engine.settings import RunSettings, read_id_list
from flamingo_eval.errors import DataError, SpecError

from .fixture_data import write_data_root


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_data_root(tmp_path_factory.mktemp("data"))


def _rows(folder):
    return [json.loads(line) for line in (folder / "predictions.jsonl").read_text().splitlines()]


def _split_ids(data, benchmark):
    from flamingo_eval.benchmark import get_benchmark
    from flamingo_eval.data.splits import load_benchmark_data

    return [ex.id for ex in load_benchmark_data(get_benchmark(benchmark), data).eval]


def test_limit_takes_the_first_queries_in_every_trial(data, tmp_path):
    evaluate(["vqav2"], out=tmp_path / "run", model="tiny", shots=(0,), trials=2, limit=2, data_root=str(data))
    rows = _rows(tmp_path / "run")
    first = _split_ids(data, "vqav2")[:2]
    assert sorted((r["trial"], r["query_id"]) for r in rows) == sorted((t, q) for t in (0, 1) for q in first)


def test_ids_evaluates_the_listed_queries(data, tmp_path):
    wanted = _split_ids(data, "vqav2")[1:3]
    ids = tmp_path / "ids.txt"
    ids.write_text(f"# two of them\n{wanted[0]}\n\n{wanted[1]}  # and another\n")
    evaluate(["vqav2"], out=tmp_path / "run", model="tiny", shots=(0,), ids=str(ids), data_root=str(data))
    assert sorted(r["query_id"] for r in _rows(tmp_path / "run")) == sorted(wanted)
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert set(run["identity"]["settings"]["ids"]) == {"sha256"}  # by content, not path


def test_ids_problems_name_file_and_line(data, tmp_path):
    ids = tmp_path / "ids.txt"
    ids.write_text("nope-1\n")
    with pytest.raises(DataError, match=r"ids.txt: line 1: query id 'nope-1' is in none of the evaluated splits \(vqav2\)"):
        evaluate(["vqav2"], out=tmp_path / "run", model="tiny", shots=(0,), ids=str(ids), data_root=str(data))
    ids.write_text("a\nb\na\n")
    with pytest.raises(DataError, match="line 3: query id 'a' repeats line 1"):
        read_id_list(ids)
    ids.write_text("# nothing\n")
    with pytest.raises(DataError, match="lists no query ids"):
        read_id_list(ids)
    with pytest.raises(DataError, match="cannot read the ids file"):
        read_id_list(tmp_path / "missing.txt")


def test_subset_settings_exclude_each_other():
    with pytest.raises(SpecError, match="choose one of num_samples"):
        RunSettings(benchmarks=("vqav2",), num_samples=3, limit=2)
    with pytest.raises(SpecError, match="limit must be at least 1"):
        RunSettings(benchmarks=("vqav2",), limit=0)


def test_run_level_generation_flags(data, tmp_path):
    from flamingo_eval.benchmark import get_benchmark
    from flamingo_eval.engine.settings import Variant, resolve_job

    settings = RunSettings(benchmarks=("vqav2",), model="tiny", num_beams=1, max_new_tokens=2)
    job = resolve_job(settings, Variant("baseline"), get_benchmark("vqav2"))
    assert (job.generation.num_beams, job.generation.max_new_tokens, job.generation.length_penalty) == (1, 2, 0.0)
    variant = resolve_job(settings, Variant("v", {"num_beams": 2}), get_benchmark("vqav2"))
    assert variant.generation.num_beams == 2  # a variant's own setting wins
