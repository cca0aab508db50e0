"""The published numbers: they load, the two papers agree where they overlap, paper_rows matches metrics."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from flamingo_eval.metrics.registry import METRICS
from flamingo_eval.report import paper_rows, published_table
from flamingo_eval.report.published import BENCHMARKS, METRICS_HERE, TABLE_COLUMNS, parse_cells

REPO = Path(__file__).resolve().parents[2]


def test_table_loads() -> None:
    table = published_table()
    assert list(table.columns) == TABLE_COLUMNS
    assert not table.duplicated(["model", "benchmark", "shots"]).any()
    assert set(table["model"]) == {"Flamingo-3B", "Flamingo-9B", "Flamingo-80B", "OpenFlamingo-3B",
                                   "OpenFlamingo-3B (Instruct)", "OpenFlamingo-4B", "OpenFlamingo-4B (Instruct)",
                                   "OpenFlamingo-9B"}
    one = table[(table.model == "Flamingo-80B") & (table.benchmark == "coco") & (table.shots == 32)].iloc[0]
    assert one["value"] == 113.8 and math.isnan(one["std"]) and one["table"] == "Table 1"
    of = table[(table.model == "OpenFlamingo-9B") & (table.benchmark == "coco") & (table.shots == 8)].iloc[0]
    assert (of["value"], of["std"], of["trials"], of["table"]) == (96.3, 0.1, 3.0, "Table 11")
    # Flamingo Table 1 has no 8/16 shots; those come from OpenFlamingo's Table 11 for the 3B/9B only.
    assert set(table[table.model == "Flamingo-80B"]["shots"]) == {0, 4, 32}
    assert set(table[table.model == "Flamingo-9B"]["shots"]) == {0, 4, 8, 16, 32}


def test_parse_cells() -> None:
    assert parse_cells("74.9 (0.2) 77.3 (0.3) - 102.2") == [(74.9, 0.2), (77.3, 0.3), (None, None), (102.2, None)]


def test_the_papers_agree_on_flamingo() -> None:
    """OpenFlamingo's Table 11 copies Flamingo-3B/-9B from Flamingo's Table 1: a transcription check."""
    table = published_table(all_sources=True)
    flamingo = table[table.table == "Table 1"].set_index(["model", "benchmark", "shots"])["value"]
    copied = table[(table.table == "Table 11") & table.model.str.startswith("Flamingo") & table.shots.isin([0, 4, 32])]
    assert len(copied) == 2 * 7 * 3
    for row in copied.itertuples():
        assert flamingo[(row.model, row.benchmark, row.shots)] == row.value, row


def test_flamingo_80b_32_shot_agrees_with_table2() -> None:
    """Flamingo's Table 2 repeats the 32-shot numbers of the 80B model for seven benchmarks."""
    table2 = {"vqav2": 67.6, "coco": 113.8, "vatex": 65.1, "vizwiz": 49.8, "msrvtt_qa": 31.0,
              "youcook2": 86.8, "hateful_memes": 70.0}
    table = published_table()
    got = table[(table.model == "Flamingo-80B") & (table.shots == 32)].set_index("benchmark")["value"]
    assert {b: got[b] for b in table2} == table2


def test_metrics_here_match_the_benchmark_specs() -> None:
    primaries = {name: metric.primary for name, metric in METRICS.items()}
    for name, metric in METRICS_HERE.items():
        spec = yaml.safe_load((REPO / "benchmarks" / f"{name}.yaml").read_text())
        assert primaries[spec["metric"]] == metric, name


def test_paper_rows_only_matching_metrics() -> None:
    rows = paper_rows(["coco", "vqav2", "nextqa_oe", "msrvtt_qa"], [0, 4])
    assert set(rows["benchmark"]) == {"coco", "vqav2", "msrvtt_qa"}  # NExT-QA is WUPS in the paper
    assert set(rows["shots"]) == {0, 4}
    assert rows["model"].str.endswith(" (paper)").all() and (rows["variant"] == "").all()
    # A run that reports another metric for a benchmark gets no paper numbers for it.
    rows = paper_rows({"coco": "Bleu_4", "vqav2": "vqa_accuracy"}, [32], ["Flamingo-80B"])
    assert rows[["benchmark", "model", "shots"]].values.tolist() == [["vqav2", "Flamingo-80B (paper)", 32]]
    assert rows["mean"].item() == pytest.approx(0.676)  # on this harness's scale (x100 for display)
    assert paper_rows({"nextqa_oe": "wups"}, [0], ["Flamingo-80B"])["mean"].item() == pytest.approx(0.267)


def test_paper_rows_std_scaled() -> None:
    rows = paper_rows({"coco": "CIDEr"}, [4], ["OpenFlamingo-3B"])
    assert rows["mean"].item() == pytest.approx(0.773) and rows["std"].item() == pytest.approx(0.003)
    assert rows["source"].item().endswith("Table 11")


def test_every_benchmark_has_split_and_metric() -> None:
    assert BENCHMARKS["vqav2"].split == "VQAv2 test-dev" and BENCHMARKS["nextqa_oe"].metric == "wups"


def test_paper_rows_for_star_and_hateful_memes() -> None:
    """STAR and HatefulMemes are benchmarks here with the papers' metrics: their numbers sit beside ours;
    ImageNet is in neither transcribed table."""
    rows = paper_rows(["star", "hateful_memes", "imagenet"], [0], ["Flamingo-80B"])
    assert dict(zip(rows["benchmark"], rows["metric"])) == {"star": "multiple_choice_accuracy", "hateful_memes": "roc_auc"}
    assert dict(zip(rows["benchmark"], rows["mean"].round(3))) == {"star": 0.397, "hateful_memes": 0.464}
    assert paper_rows(["hateful_memes"], [8], ["OpenFlamingo-9B"])["mean"].item() == pytest.approx(0.547)
