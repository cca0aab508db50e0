"""``flamingo-eval bench``: this harness against OpenFlamingo's evaluation loop, measured side by side."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from .shared import app, console, parse_shots, user_errors


@app.command()
@user_errors
def bench(
    model: str = "smol",
    benchmark: Annotated[str, typer.Option(help="An image benchmark (generated on first use for demo_*).")] = "demo_captions",
    selection: Annotated[str, typer.Option(help="Comma-separated: random, fixed.")] = "random,fixed",
    shots: Annotated[str, typer.Option(help="Comma-separated shot counts.")] = "16",
    queries: Annotated[int, typer.Option(help="Queries answered per configuration by each side.")] = 16,
    batch_size: Annotated[int, typer.Option(help="The reference's batch size; the harness's most rows per batch.")] = 8,
    token_budget: Annotated[Optional[int], typer.Option(help="The harness's cap on rows x prompt tokens per batch.")] = None,
    seed: int = 42,
    data_root: Optional[Path] = None,
    gate_seed: Annotated[int, typer.Option(help="Seed for opening closed (untrained) gates; -1 leaves them.")] = 0,
    flops: Annotated[bool, typer.Option(help="Count the harness's FLOPs on a second, untimed run.")] = True,
    json_path: Annotated[Optional[Path], typer.Option("--json", help="Also write the figures here (a JSON list).")] = None,
) -> None:
    """Time k-shot generation the OpenFlamingo way (its own Flamingo class, its evaluation loop) and with
    this harness on the same queries, demonstrations, settings and weights; print both and the ratio."""
    from ..bench.fewshot import BenchSettings, run_bench

    settings = BenchSettings(
        model=model, benchmark=benchmark, selections=tuple(s.strip() for s in selection.split(",") if s.strip()),
        shots=parse_shots(shots), num_queries=queries, batch_size=batch_size,
        token_budget=token_budget, seed=seed, data_root=None if data_root is None else str(data_root),
        gate_seed=None if gate_seed < 0 else gate_seed, count_flops=flops,
    )
    rows = run_bench(settings, log=console.print)
    table = Table("selection", "shots", "ref ex/s", "ours ex/s", "speedup", "agree", "RSS MB ref/ours",
                  "ours vision/prefill/decode s", "of matmul peak", title=f"{model} on {benchmark}: OpenFlamingo loop vs harness")
    for r in rows:
        fraction = r["matmul_peak_fraction"]
        table.add_row(
            r["selection"], str(r["shots"]), f"{r['reference_examples_per_s']:.3f}", f"{r['harness_examples_per_s']:.3f}",
            f"{r['speedup']:.1f}x", f"{r['agreement']:.0%}", f"{r['reference_peak_rss_mb']}/{r['harness_peak_rss_mb']}",
            f"{r['vision_s']:.1f}/{r['prefill_s']:.1f}/{r['decode_s']:.1f}", "-" if fraction is None else f"{fraction:.1%}",
        )
    console.print(table)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(rows, indent=2))
        console.print(f"wrote {json_path}")
