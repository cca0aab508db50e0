"""A parquet dataset for the ``hf`` reader, written with pyarrow alone (no ``datasets``, which is slow
to import): image paths, questions, answer lists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..data.fixtures import write_jpeg

FIELDS = {"id": "question_id", "image": "image", "question": "question", "references": "answers",
          "meta": ["answer_type"]}
ROWS = [
    {"question_id": 11, "image": "imgs/a.jpg", "question": "Who is this?", "answers": ["man", "astronaut"],
     "answer_type": "other"},
    {"question_id": 12, "image": "imgs/b.jpg", "question": "What is in the cup?", "answers": ["coffee"],
     "answer_type": "other"},
]


def write_parquet(path: Path, rows: list[dict[str, Any]]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def hf_parquet(root: Path) -> dict:
    write_jpeg(root / "imgs/a.jpg", 0)
    write_jpeg(root / "imgs/b.jpg", 1)
    write_parquet(root / "qa.parquet", ROWS)
    return {"path": "qa.parquet", "fields": FIELDS}
