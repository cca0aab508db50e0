"""The paper-ablation table: Flamingo's Table 3 layout for an ``ablate`` run over trained variants.

In: a results folder of ``flamingo-eval ablate`` whose variants are models trained by
``flamingo-eval train --variant`` (each variant's ``model=`` a trained ``model.yaml``), and the folder of
those training runs, one subfolder per variant named as the variant, each with its ``variant.json``
(what changed, parameters trained, seconds per step, seed). Out: one row per variant: what changed,
parameters trained, step time, each benchmark's primary metric at the table's shot count (mean over
trials), the overall score and its difference from the baseline; and a plot of each variant's
per-benchmark differences.

Overall score, as the paper's Table 3 forms it from its five benchmarks: each benchmark's score
divided by the baseline's on that benchmark, averaged, in percent (the baseline is 100).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ResultsError
from .results import _load_json, combine_metric_rows, read_results
from ..train.variants import describe
from .summary import summarize

TABLE_COLUMNS = ("variant", "changed", "trained_parameters", "step_s")


def _training_record(runs: Path, variant: str) -> dict[str, Any]:
    path = runs / variant / "variant.json"
    if not path.is_file():
        raise ResultsError(f"{path}: not found (the training run of variant {variant!r}: "
                           f"flamingo-eval train --variant ... --out {runs / variant})")
    return _load_json(path)


def _step_seconds(runs: Path, variant: str, record: dict[str, Any]) -> float | None:
    """A step's time, from the run's log when it is there (one statistic for every row, whichever code
    wrote the record: ``train.session.step_seconds``), else as recorded."""
    from ..train.session import step_seconds

    log = runs / variant / "log.jsonl"
    return step_seconds(log) if log.is_file() else record.get("seconds_per_step")


def ablation_table(results: Path | str, runs: Path | str, *, shots: int = 4) -> pd.DataFrame:
    """The table (see the module docstring), variants in the run's order, the baseline first.

    ResultsError naming the file when a variant's training record is missing, or the run has no
    results at ``shots``.
    """
    result = read_results(Path(results))
    summary = summarize(combine_metric_rows([result]))
    primary = dict(result.primary_metrics)
    summary = summary[(summary["shots"] == shots) & (summary["metric"] == summary["benchmark"].map(primary))]
    if summary.empty:
        raise ResultsError(f"{results}: no primary-metric results at {shots} shots")
    benchmarks = list(dict.fromkeys(b for b in primary if b in set(summary["benchmark"])))
    variants = [v["name"] for v in result.run.get("variants", [])] or sorted(set(summary["variant"]))
    scores = summary.pivot_table(index="variant", columns="benchmark", values="mean")
    base = scores.loc[result.baseline]
    rows = []
    for variant in variants:
        record = _training_record(Path(runs), variant)
        row: dict[str, Any] = {
            # the words for what changed come from the variant's name, so every row says it alike,
            # whichever code wrote its record
            "variant": variant, "changed": describe(variant) or record.get("changed", ""),
            "trained_parameters": record.get("trained_parameters"), "step_s": _step_seconds(Path(runs), variant, record),
        }
        for bench in benchmarks:
            row[bench] = float(scores.loc[variant, bench])
        relative = [scores.loc[variant, b] / base[b] for b in benchmarks if base[b] > 0]
        row["overall"] = 100.0 * sum(relative) / len(relative) if relative else float("nan")
        rows.append(row)
    table = pd.DataFrame(rows, columns=[*TABLE_COLUMNS, *benchmarks, "overall"])
    baseline_overall = float(table.loc[table["variant"] == result.baseline, "overall"].iloc[0])
    table["delta_overall"] = table["overall"] - baseline_overall
    return table


def ablation_markdown(table: pd.DataFrame, *, shots: int) -> str:
    """The table as Markdown: scores in percent (CIDEr x100), parameters in millions, step time in s."""
    head = ["variant", "what changed", "params trained", "s / step"]
    benchmarks = [c for c in table.columns if c not in (*TABLE_COLUMNS, "overall", "delta_overall")]
    lines = ["| " + " | ".join([*head, *benchmarks, "overall", "Δ overall"]) + " |",
             "| " + " | ".join(["---"] * (len(head) + len(benchmarks) + 2)) + " |"]
    for r in table.itertuples(index=False):
        r = r._asdict()
        cells = [r["variant"], r["changed"], _millions(r["trained_parameters"]), _number(r["step_s"], 1)]
        cells += [_number(100 * r[b], 1) for b in benchmarks]
        cells += [_number(r["overall"], 1), _signed(r["delta_overall"])]
        lines.append("| " + " | ".join(cells) + " |")
    return f"{shots} shots; scores x100 (CIDEr x100), mean over trials; overall = mean of score / baseline's, %\n\n" + "\n".join(lines) + "\n"


def ablation_plot(table: pd.DataFrame, path: Path, *, baseline: str = "baseline") -> Path:
    """Each variant's difference from the baseline per benchmark (grouped bars), and overall."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    benchmarks = [c for c in table.columns if c not in (*TABLE_COLUMNS, "overall", "delta_overall")]
    base = table[table["variant"] == baseline].iloc[0]
    others = table[table["variant"] != baseline]
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(others) + 2), 4))
    width = 0.8 / max(1, len(benchmarks))
    for i, bench in enumerate(benchmarks):
        deltas = [100 * (v - base[bench]) for v in others[bench]]
        ax.bar([x + i * width for x in range(len(others))], deltas, width, label=bench)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks([x + width * (len(benchmarks) - 1) / 2 for x in range(len(others))], list(others["variant"]), rotation=30, ha="right")
    ax.set(ylabel="difference from the baseline (points)", title="paper ablations in miniature")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _millions(value: Any) -> str:
    return "-" if value is None else f"{value / 1e6:.1f}M"


def _number(value: Any, decimals: int) -> str:
    return "-" if value is None or value != value else f"{value:.{decimals}f}"


def _signed(value: float) -> str:
    return "-" if value != value else ("0.0" if abs(value) < 0.05 else f"{value:+.1f}")


def write_ablation_report(results: Path | str, runs: Path | str, *, shots: Sequence[int] = (4,), out: Path | None = None) -> list[Path]:
    """``paper_ablations.md`` (a table per shot count) and ``paper_ablations.png`` (the first shot count)
    in ``out`` (default: the results folder); returns the files written."""
    from ..storage import write_text_atomic

    out = Path(out or results)
    tables = {k: ablation_table(results, runs, shots=k) for k in shots}
    text = "\n".join(ablation_markdown(t, shots=k) for k, t in tables.items())
    md = write_text_atomic(out / "paper_ablations.md", "# Paper ablations in miniature\n\n" + text)
    png = ablation_plot(tables[shots[0]], out / "paper_ablations.png")
    return [md, png]
