"""The comparison tables: shots, models, deltas (values x100, mean ± std)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from flamingo_eval.report import (
    delta_table, infer_primary_metrics, load_rows, model_table, primary_rows, shots_table, summarize,
)

from .fixtures import PRIMARY


@pytest.fixture
def summary(results_folder: Path) -> pd.DataFrame:
    return summarize(load_rows([results_folder])[1])


def _cell(table: pd.DataFrame, column: str, **where) -> str:
    mask = pd.Series(True, index=table.index)
    for key, value in where.items():
        mask &= table[key] == value
    assert mask.sum() == 1, where
    return table.loc[mask, column].item()


def test_primary_rows_scaled_x100(summary: pd.DataFrame) -> None:
    rows = primary_rows(summary, PRIMARY)
    assert set(rows["metric"]) == {"CIDEr", "vqa_accuracy"}  # Bleu_4 and answer types left out
    coco0 = rows[(rows.benchmark == "coco") & (rows.variant == "baseline") & (rows.shots == 0)].iloc[0]
    assert coco0["mean"] == pytest.approx(84.0) and coco0["std"] == pytest.approx(4.0)


def test_infer_primary_metrics(summary: pd.DataFrame) -> None:
    assert infer_primary_metrics(summary) == PRIMARY
    with pytest.raises(ValueError, match="cannot tell the primary metric of benchmark 'coco'"):
        infer_primary_metrics(summary[summary.metric != "CIDEr"])


def test_shots_table(summary: pd.DataFrame) -> None:
    table = shots_table(summary, PRIMARY, baseline="baseline")
    assert list(table.columns) == ["model", "variant", "benchmark", "metric", "0-shot", "4-shot"]
    assert table["variant"].tolist() == ["baseline", "baseline", "prompt-b", "prompt-b"]
    assert _cell(table, "0-shot", variant="baseline", benchmark="coco") == "84.0 ± 4.0"
    assert _cell(table, "4-shot", variant="baseline", benchmark="coco") == "92.0 ± 2.6"
    assert _cell(table, "4-shot", variant="baseline", benchmark="vqav2") == "56.0 ± 1.7"
    assert _cell(table, "4-shot", variant="prompt-b", benchmark="coco") == "93.0 ± 0.0"


def test_baseline_listed_first(summary: pd.DataFrame) -> None:
    renamed = summary.replace({"variant": {"baseline": "zz-base"}})
    table = shots_table(renamed, PRIMARY, baseline="zz-base")
    assert table["variant"].tolist()[:2] == ["zz-base", "zz-base"]


def test_model_table(summary: pd.DataFrame) -> None:
    table = model_table(summary, 4, PRIMARY)
    assert list(table.columns) == ["model", "variant", "shots", "coco (CIDEr)", "vqav2 (vqa_accuracy)"]
    assert len(table) == 2
    assert _cell(table, "vqav2 (vqa_accuracy)", variant="prompt-b") == "61.0 ± 1.0"
    assert len(model_table(summary, None, PRIMARY)) == 4
    with pytest.raises(ValueError, match=r"no results at shots \[8\]"):
        model_table(summary, 8, PRIMARY)


def test_delta_table_is_variant_minus_baseline(summary: pd.DataFrame) -> None:
    table = delta_table(summary, "baseline", PRIMARY)
    assert list(table.columns) == ["model", "shots", "variant", "coco (CIDEr)", "vqav2 (vqa_accuracy)"]
    assert table[["shots", "variant"]].values.tolist() == [[0, "baseline"], [0, "prompt-b"], [4, "baseline"],
                                                           [4, "prompt-b"]]
    assert _cell(table, "coco (CIDEr)", shots=0, variant="baseline") == "84.0 ± 4.0"
    assert _cell(table, "coco (CIDEr)", shots=0, variant="prompt-b") == "+2.0"   # 86 - 84
    assert _cell(table, "coco (CIDEr)", shots=4, variant="prompt-b") == "+1.0"   # 93 - 92
    assert _cell(table, "vqav2 (vqa_accuracy)", shots=0, variant="prompt-b") == "-4.0"  # 48 - 52
    assert _cell(table, "vqav2 (vqa_accuracy)", shots=4, variant="prompt-b") == "+5.0"  # 61 - 56


def test_delta_table_unknown_baseline(summary: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="baseline variant 'nope' not in the results"):
        delta_table(summary, "nope", PRIMARY)


def test_missing_cells_show_a_dash(summary: pd.DataFrame) -> None:
    partial = summary[~((summary.variant == "prompt-b") & (summary.shots == 4) & (summary.benchmark == "coco"))]
    table = shots_table(partial, PRIMARY)
    assert _cell(table, "4-shot", variant="prompt-b", benchmark="coco") == "-"
    deltas = delta_table(partial[~((partial.variant == "baseline") & (partial.shots == 0))], "baseline", PRIMARY)
    assert _cell(deltas, "coco (CIDEr)", shots=0, variant="prompt-b") == "-"
