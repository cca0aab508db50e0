"""VizWiz accuracy: the VizWiz API's evaluation, checked on hand-worked questions and against the VQA one."""

from __future__ import annotations

import pytest

from flamingo_eval.metrics import get_metric
from flamingo_eval.metrics.vizwiz import VIZWIZ_CONTRACTIONS, vizwiz_accuracy, vizwiz_normalize
from flamingo_eval.metrics.vqa import vqa_accuracy
from flamingo_eval.metrics.vqa_tables import CONTRACTIONS

Q = "\u2019"  # the right single quotation mark VizWiz's contraction table writes


def test_prediction_is_always_normalised() -> None:
    # Ten identical answers: the VQA script compares the raw strings, VizWiz normalises the prediction.
    assert vizwiz_accuracy("Unanswerable.", ["unanswerable"] * 10) == 1.0
    assert vqa_accuracy("Unanswerable.", ["unanswerable"] * 10) == 0.0
    assert vizwiz_accuracy("Two", ["2"] * 10) == 1.0
    assert vizwiz_accuracy("  yes\n", ["yes"] * 10) == 1.0


def test_answers_are_compared_as_given() -> None:
    # The prediction loses its article, the annotators' answers keep theirs: no match (VQA: 3 of 10).
    answers = ["the cat"] * 3 + ["dog"] * 7
    assert vizwiz_accuracy("the cat", answers) == 0.0
    assert vqa_accuracy("the cat", answers) == pytest.approx(0.9)
    # Not even stripped; and "none" becomes "0" in the prediction only.
    assert vizwiz_accuracy("yes", [" yes"] * 10) == 0.0
    assert vizwiz_accuracy("none", ["none"] * 10) == 0.0


def test_leave_one_out_formula() -> None:
    # Three of ten match: leaving out one of them leaves 2 -> 2/3, leaving out another leaves 3 -> 1.
    assert vizwiz_accuracy("dog", ["dog"] * 3 + ["cat"] * 7) == (3 * (2 / 3) + 7 * 1) / 10
    # One match: leaving it out leaves 0; leaving out any of the nine others leaves 1 -> 1/3. 9/3/10.
    assert vizwiz_accuracy("dog", ["dog", "cat"] + ["cow"] * 8) == pytest.approx(0.3)
    assert vizwiz_accuracy("unsuitable", ["unsuitable"] * 4 + ["unanswerable"] * 6) == 1.0
    assert vizwiz_accuracy("dog", ["dog"]) == 0.0  # one answer: no other annotator to match
    with pytest.raises(ValueError):
        vizwiz_accuracy("dog", [])


def test_contractions_use_vizwiz_apostrophes() -> None:
    assert vizwiz_normalize("The dont.") == f"don{Q}t"
    assert vizwiz_accuracy("dont know", [f"don{Q}t know"] * 10) == 1.0
    assert vizwiz_accuracy("dont know", ["don't know"] * 9 + ["no"]) == 0.0
    assert vqa_accuracy("dont know", ["don't know"] * 9 + ["no"]) == 1.0


def test_contraction_table_entries() -> None:
    table = VIZWIZ_CONTRACTIONS
    assert len(table) == len(CONTRACTIONS)
    # entries as the VizWiz script writes them (hand-copied from its table)
    assert table["didnt"] == f"didn{Q}t" and table["twas"] == f"{Q}twas" and table["Im"] == f"I{Q}m"
    assert table["aint"] == "ain't" and table["weve"] == "we've" and table["wheres"] == "where's"
    assert table["couldn'tve"] == f"couldn{Q}t{Q}ve" and table["hadn'tve"] == f"hadn{Q}t{Q}ve"
    assert table[f"couldnt{Q}ve"] == f"couldn{Q}t{Q}ve" and "couldnt've" not in table
    assert table[f"somebody{Q}d"] == "somebodyd" and table[f"let{Q}s"] == f"let{Q}s"
    assert sorted(k for k in table if "'" in k) == ["couldn'tve", "hadn'tve"]
    assert sorted(k for k, v in table.items() if "'" in v) == [
        "aint", "arent", "cant", "couldnt", "couldve", "weve", "wheres", "whove"]


def test_registered() -> None:
    metric = get_metric("vizwiz_accuracy")
    assert metric.primary == "vizwiz_accuracy" and metric.inputs == "text"
    assert metric.per_example("Unanswerable", ["unanswerable"] * 10) == 1.0
