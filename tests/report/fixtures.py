"""Hand-written results folders (docs/results.md layout) with values whose mean and std are easy by hand.

Two benchmarks (coco: captioning, CIDEr and Bleu_4 rows; vqav2: VQA, vqa_accuracy and one answer-type
row), shots 0 and 4, 3 trials, variants ``baseline`` and ``prompt-b``, model ``smol``.
"""

from __future__ import annotations

import json
from pathlib import Path

# (benchmark, metric, variant, shots) -> the three trials' values. Means and sample stds by hand:
# coco CIDEr   baseline 0: 0.84 ± 0.04      4: 0.92 ± sqrt(0.0007) = 0.0265
#              prompt-b 0: 0.86 ± 0.01      4: 0.93 ± 0.0
# vqav2 vqa    baseline 0: 0.52 ± 0.02      4: 0.56 ± sqrt(0.0003) = 0.0173
#              prompt-b 0: 0.48 ± 0.01      4: 0.61 ± 0.01
VALUES = {
    ("coco", "CIDEr", "baseline", 0): (0.80, 0.84, 0.88),
    ("coco", "CIDEr", "baseline", 4): (0.90, 0.91, 0.95),
    ("coco", "CIDEr", "prompt-b", 0): (0.85, 0.86, 0.87),
    ("coco", "CIDEr", "prompt-b", 4): (0.93, 0.93, 0.93),
    ("coco", "Bleu_4", "baseline", 0): (0.20, 0.21, 0.22),
    ("coco", "Bleu_4", "baseline", 4): (0.25, 0.26, 0.27),
    ("coco", "Bleu_4", "prompt-b", 0): (0.20, 0.20, 0.20),
    ("coco", "Bleu_4", "prompt-b", 4): (0.30, 0.30, 0.30),
    ("vqav2", "vqa_accuracy", "baseline", 0): (0.50, 0.52, 0.54),
    ("vqav2", "vqa_accuracy", "baseline", 4): (0.55, 0.55, 0.58),
    ("vqav2", "vqa_accuracy", "prompt-b", 0): (0.47, 0.48, 0.49),
    ("vqav2", "vqa_accuracy", "prompt-b", 4): (0.60, 0.61, 0.62),
    ("vqav2", "vqa_accuracy/yes/no", "baseline", 0): (0.70, 0.70, 0.70),
    ("vqav2", "vqa_accuracy/yes/no", "baseline", 4): (0.75, 0.75, 0.75),
    ("vqav2", "vqa_accuracy/yes/no", "prompt-b", 0): (0.60, 0.60, 0.60),
    ("vqav2", "vqa_accuracy/yes/no", "prompt-b", 4): (0.80, 0.80, 0.80),
}
PRIMARY = {"coco": "CIDEr", "vqav2": "vqa_accuracy"}


def fixture_rows(values=VALUES, model: str = "smol", seed: int = 42) -> list[dict]:
    """metrics.json rows for ``values``; n = 500 per coco trial, 100 per vqav2 trial (98 in trial 2)."""
    rows = []
    for (benchmark, metric, variant, shots), trials in values.items():
        for trial, value in enumerate(trials):
            n = 500 if benchmark == "coco" else (98 if trial == 2 else 100)
            rows.append({"variant": variant, "model": model, "benchmark": benchmark, "shots": shots,
                         "trial": trial, "seed": seed + trial, "metric": metric, "value": value, "n": n})
    return rows


def run_json(variants=("baseline", "prompt-b"), primary=PRIMARY) -> dict:
    return {
        "format": "flamingo-eval-results-v1", "version": "0.1.0", "git_commit": "abc",
        "command": "flamingo-eval run coco vqav2 --shots 0,4", "started": "2026-01-01T00:00:00Z",
        "finished": "2026-01-01T01:00:00Z",
        "settings": {"shots": [0, 4], "trials": 3, "seed": 42, "selection": "random", "num_samples": 500},
        "baseline": "baseline",
        "variants": [{"name": v, "overrides": {}, "model": "smol"} for v in variants],
        "primary_metrics": dict(primary),
        "models": {"smol": {"spec": {}, "files": {}}}, "benchmarks": {}, "libraries": {},
        "device": "cpu", "dtype": "float32", "skipped": 0,
    }


def write_folder(folder: Path, rows: list[dict], run: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    (folder / "run.json").write_text(json.dumps(run, indent=1), encoding="utf-8")
    return folder

