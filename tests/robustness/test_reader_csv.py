"""Every cell of a row of the CSV readers (iVQA, NExT-QA multiple choice and open ended) replaced by
each hostile text in turn, and the row cut short or lengthened: a named error and a listed skip, or a
sane example; never another exception."""

from __future__ import annotations

import csv
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..data.fixtures import write_csv
from ..data.test_video_readers import ivqa, nextqa
from .cases import WRONG_VALUES, read_or_refuse

# CSV cells are text: the hostile values are texts (a lone surrogate cannot even be written as UTF-8)
CELL_VALUES = {"empty": "", "blank": "   ", "image-token": WRONG_VALUES["image-token"],
               "chunk-token": WRONG_VALUES["chunk-token"], "long": WRONG_VALUES["long"], "number": "3"}
_REFUSE = {
    "name": set(CELL_VALUES),  # names a video (or a mapping entry): any change leaves nothing to find
    "text": {"empty", "blank", "image-token", "chunk-token"},
    "answer": {"image-token", "chunk-token"},  # one of several answers: may be blank
    "index": {"empty", "blank", "image-token", "chunk-token", "long"},  # "3" is a valid index
    "id": {"empty", "blank"},
    "free": set(),
}


@dataclass(frozen=True)
class CsvSite:
    name: str
    fmt: str
    build: Callable[[Path], dict]
    row: int  # which data row is mutated
    label: tuple[str, ...]  # the columns the record's id is made of
    kinds: dict[str, str]  # column -> kind


def _open_ended(root: Path) -> dict:
    return nextqa(root) | {"annotations": "val_oe.csv", "mode": "open_ended"}


_IVQA_KINDS = {"video_id": "name", "start": "name", "end": "name", "question": "text", "answer1": "answer",
               "answer2": "answer", "answer3": "answer", "answer4": "answer", "answer5": "answer", "split": "free"}
_NEXT_KINDS = {"video": "name", "frame_count": "free", "width": "free", "height": "free", "question": "text",
               "qid": "id", "type": "free"}
SITES = [
    CsvSite("ivqa", "ivqa", ivqa, 0, ("video_id", "start", "end"), _IVQA_KINDS),
    CsvSite("nextqa-mc", "nextqa", nextqa, 0, ("video", "qid"),
            _NEXT_KINDS | {"answer": "index"} | {f"a{k}": "text" for k in range(5)}),
    CsvSite("nextqa-oe", "nextqa", _open_ended, 0, ("video", "qid"),
            _NEXT_KINDS | {"answer": "text", "additional_ref_answer": "free"}),
]
_names = itertools.count()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    made = {}

    def get(site):
        if site.name not in made:
            root = tmp_path_factory.mktemp(site.name)
            entry = site.build(root)
            with open(root / entry["annotations"], newline="", encoding="utf-8") as handle:
                header, *rows = list(csv.reader(handle))
            made[site.name] = root, entry, header, rows
        return made[site.name]

    return get


def _run(built, site: CsvSite, change: Callable[[list[str], list[str]], list[str]], must_refuse: bool) -> None:
    root, entry, header, rows = built(site)
    rows = [list(r) for r in rows]
    rows[site.row] = change(header, rows[site.row])
    name = f"case-{next(_names)}.csv"
    write_csv(root / name, header, rows)
    cells = dict(zip(header, rows[site.row]))
    original = dict(zip(header, built(site)[3][site.row]))
    labels = {"_".join(original[c] for c in site.label), "_".join(cells.get(c, "").strip() for c in site.label),
              f"line {site.row + 2}"}
    files = [root / name] + [root / entry[k] for k in ("mapping",) if k in entry]
    read_or_refuse(site.fmt, root, entry | {"annotations": name}, files, labels, must_refuse=must_refuse)


CELL_CASES = [pytest.param(site, column, value, id=f"{site.name}:{column}:{value}")
              for site in SITES for column in site.kinds for value in CELL_VALUES]


@pytest.mark.parametrize("site,column,value", CELL_CASES)
def test_cell(built, site, column, value) -> None:
    def change(header, row):
        row[header.index(column)] = CELL_VALUES[value]
        return row

    _run(built, site, change, value in _REFUSE[site.kinds[column]])


SHAPE_CASES = [pytest.param(site, cut, id=f"{site.name}:cells-{cut}") for site in SITES
               for cut in (1, 3, len(site.kinds) - 1, len(site.kinds) + 1)]


@pytest.mark.parametrize("site,cells", SHAPE_CASES)
def test_row_of_the_wrong_length(built, site, cells) -> None:
    """A row cut short (a lost tail) or one cell too long (an unquoted comma) shifts cells under the
    wrong columns: refused, naming the line."""
    _run(built, site, lambda header, row: (row + ["extra"])[:cells], must_refuse=True)
