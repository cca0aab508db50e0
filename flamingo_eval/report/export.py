"""Official submission files from a results folder: the answers of one (variant, benchmark, shots, trial)
in the format an evaluation server takes.

- ``evalai-vqa``: VQAv2, OK-VQA and TextVQA (EvalAI): ``[{"question_id": int, "answer": str}]``;
- ``vizwiz``: the VizWiz server: ``[{"image": "VizWiz_test_00000000.jpg", "answer": str}]``;
- ``coco-captions``: the COCO caption results format: ``[{"image_id": int, "caption": str}]``.
The answers are the post-processed predictions, as scored here; every prediction of the group is
written, in the results folder's order, and a prediction whose id the format cannot hold is an error
naming it (never dropped).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import ResultsError
from ..registry import Registry
from ..storage import write_json


def _int_id(row: dict[str, Any], key: str) -> int:
    try:
        return int(row["query_id"])
    except ValueError:
        raise ResultsError(f"query {row['query_id']!r} ({row['benchmark']}): the {key} of this format must be a number") from None


EXPORTS: Registry[Callable[[dict[str, Any]], dict[str, Any]]] = Registry("export format", {
    "evalai-vqa": lambda r: {"question_id": _int_id(r, "question_id"), "answer": r["prediction"]},
    "vizwiz": lambda r: {"image": f"{r['query_id']}.jpg", "answer": r["prediction"]},
    "coco-captions": lambda r: {"image_id": _int_id(r, "image_id"), "caption": r["prediction"]},
})


def _choose(rows: list[dict[str, Any]], field: str, wanted: Any) -> Any:
    """The value of ``field`` to export: ``wanted``, or the only one there is; an error listing the
    choices when it is ambiguous or absent."""
    present = sorted({r[field] for r in rows}, key=str)
    if wanted is None and len(present) == 1:
        return present[0]
    if wanted is None or wanted not in present:
        what = "several are there" if wanted is None else f"{wanted!r} is not there"
        raise ResultsError(f"choose the {field} to export ({what}; present: {', '.join(map(str, present))})")
    return wanted


def export_results(folder: Path | str, fmt: str, out: Path | str, *, benchmark: str | None = None, shots: int | None = None,
                   trial: int | None = None, variant: str | None = None) -> int:
    """Write the ``fmt`` submission file of one group of ``folder``'s predictions to ``out``.

    Each of benchmark / shots / trial / variant may be left out when the folder holds one value of it.
    Returns the number of answers written.
    """
    convert = EXPORTS.get(fmt)
    predictions = Path(folder) / "predictions.jsonl"
    if not predictions.is_file():
        raise ResultsError(f"{folder}: no predictions.jsonl (not a finished results folder)")
    rows = [json.loads(line) for line in predictions.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not rows:
        raise ResultsError(f"{predictions}: no predictions to export")
    for field, wanted in (("variant", variant), ("benchmark", benchmark), ("shots", shots), ("trial", trial)):
        value = _choose(rows, field, wanted)
        rows = [r for r in rows if r[field] == value]
    write_json(Path(out), [convert(r) for r in rows])
    return len(rows)
