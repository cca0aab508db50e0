"""The ``hf`` reader's cells: each column of a parquet row given a hostile value (per row where the
column's type allows it, else the whole column retyped): a named error and a listed skip, or a sane
example; never another exception."""

from __future__ import annotations

import copy
import itertools

import pytest

from .cases import WRONG_VALUES, read_or_refuse
from .readers_hf import FIELDS, ROWS, hf_parquet, write_parquet

TOKENS = {"image-token": WRONG_VALUES["image-token"], "chunk-token": WRONG_VALUES["chunk-token"]}
# column -> {case: (value for row 0, must it be refused)}
CELLS = {
    "question_id": {"null": (None, True), "empty": ("", True), "text-id": ("q-11", False), "long": ("x" * 5000, False)},
    "image": {"null": (None, True), "empty": ("", True), "missing-file": ("imgs/none.jpg", True),
              "folder": ("imgs", True), "long": ("x" * 5000, True), **{k: (v, True) for k, v in TOKENS.items()}},
    "question": {"null": (None, True), "empty": ("", True), "blank": ("  ", True), "long": ("x" * 5000, False),
                 **{k: (v, True) for k, v in TOKENS.items()}},
    "answers": {"null": (None, True), "no-answers": ([], True), "null-answer": ([None], True),
                "blank-answer": ([""], False), **{k: ([v], True) for k, v in TOKENS.items()}},
    "answer_type": {"null": (None, False), **{k: (v, False) for k, v in TOKENS.items()}},  # meta: never in a prompt
}
RETYPED = {"question_id": [1.5, 2.5], "image": [3, 4], "question": [5, 6], "answers": [7, 8]}
_names = itertools.count()


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("hf")
    return root, hf_parquet(root)


def _read(dataset, rows, must_refuse: bool) -> str:
    root, entry = dataset
    name = f"case-{next(_names)}.parquet"
    write_parquet(root / name, rows)
    return read_or_refuse("hf", root, entry | {"path": name}, [root / name], {"11", "#0", str(rows[0]["question_id"])},
                          must_refuse=must_refuse)


@pytest.mark.parametrize("column,case", [pytest.param(c, k, id=f"{c}:{k}") for c in CELLS for k in CELLS[c]])
def test_cell(dataset, column, case) -> None:
    rows = copy.deepcopy(ROWS)
    value, must_refuse = CELLS[column][case]
    rows[0][column] = value
    if column == "question_id" and isinstance(value, str):  # a parquet column has one type: all ids text
        rows[1][column] = str(rows[1][column])
    _read(dataset, rows, must_refuse)


@pytest.mark.parametrize("column", RETYPED)
def test_column_of_another_type(dataset, column) -> None:
    """Numbers where text belongs, text where a list belongs: every row refused (or, for an id, named)."""
    rows = copy.deepcopy(ROWS)
    for row, value in zip(rows, RETYPED[column]):
        row[column] = value
    assert _read(dataset, rows, must_refuse=True) == "refused"


def test_unmutated(dataset) -> None:
    assert _read(dataset, copy.deepcopy(ROWS), must_refuse=False) == "accepted"
    assert FIELDS["references"] == "answers"
