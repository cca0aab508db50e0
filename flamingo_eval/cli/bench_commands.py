"""``flamingo-eval bench``: this harness against OpenFlamingo's evaluation loop, measured side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from .shared import app, console, parse_shots, parse_token_budget, user_errors


@app.command()
@user_errors
def bench(
    model: str = "smol",
    task: Annotated[str, typer.Option(help="generation: k-shot answers against OpenFlamingo's loop; rank: rank "
                                      "classification over many class names against one forward per class.")] = "generation",
    benchmark: Annotated[str, typer.Option(help="An image benchmark (generated on first use for demo_*).")] = "demo_captions",
    selection: Annotated[str, typer.Option(help="Comma-separated: random, fixed.")] = "random,fixed",
    shots: Annotated[Optional[str], typer.Option(help="Comma-separated shot counts (default 16; rank: one count, 8).")] = None,
    queries: Annotated[Optional[int], typer.Option(help="Queries answered per configuration by each side (default 16; rank: 2).")] = None,
    classes: Annotated[int, typer.Option(help="rank: how many class names to generate.")] = 1000,
    class_names: Annotated[Optional[Path], typer.Option(help="rank: a file of class names, one per line (instead of generated ones).")] = None,
    batch_size: Annotated[int, typer.Option(help="The reference's batch size; the harness's most rows per batch.")] = 8,
    token_budget: Annotated[Optional[str], typer.Option(help="The harness's cap on rows x prompt tokens per batch; "
                                                        "auto: sized to the free memory.")] = None,
    seed: int = 42,
    data_root: Optional[Path] = None,
    gate_seed: Annotated[int, typer.Option(help="Seed for opening closed (untrained) gates; -1 leaves them.")] = 0,
    flops: Annotated[bool, typer.Option(help="Count the harness's FLOPs on a second, untimed run.")] = True,
    device: Annotated[str, typer.Option(help="Where both sides run: cpu, cuda, cuda:1 ...")] = "cpu",
    dtype: Annotated[Optional[str], typer.Option(help="LM and adapter dtype, e.g. bfloat16 on a GPU.")] = None,
    vision_dtype: Annotated[Optional[str], typer.Option(help="Vision encoder dtype (default float32).")] = None,
    reference_queries: Annotated[Optional[int], typer.Option(help="The reference answers only the first N queries "
                                 "(its rate is per query; agreement is over those).")] = None,
    decode: Annotated[str, typer.Option(help="Comma-separated decoding paths the harness is measured with: "
                                        "eager, static, compiled (a row each; compiled is warmed up untimed).")] = "eager",
    json_path: Annotated[Optional[Path], typer.Option("--json", help="Also write the figures here (a JSON list).")] = None,
) -> None:
    """Time k-shot generation the OpenFlamingo way (its own Flamingo class, its evaluation loop) and with
    this harness on the same queries, demonstrations, settings and weights; print both and the ratio.
    With ``--task rank``: rank classification, the shared-prompt candidate scorer against one forward
    per class (docs/speed.md)."""
    if task == "rank":
        _bench_rank(model=model, benchmark=benchmark, shots=shots, queries=queries, classes=classes, class_names=class_names,
                    batch_size=batch_size, seed=seed, data_root=data_root, gate_seed=gate_seed, json_path=json_path)
        return
    if task != "generation":
        raise typer.BadParameter(f"--task must be generation or rank, got {task!r}")
    from ..bench.fewshot import BenchSettings, run_bench

    settings = BenchSettings(
        model=model, benchmark=benchmark, selections=tuple(s.strip() for s in selection.split(",") if s.strip()),
        shots=parse_shots(shots or "16"), num_queries=queries or 16, batch_size=batch_size,
        token_budget=parse_token_budget(token_budget), seed=seed, data_root=None if data_root is None else str(data_root),
        gate_seed=None if gate_seed < 0 else gate_seed, count_flops=flops, device=device, dtype=dtype, vision_dtype=vision_dtype,
        reference_queries=reference_queries, decodes=tuple(d.strip() for d in decode.split(",") if d.strip()),
    )
    rows = run_bench(settings, log=console.print)
    memory = "GPU MB ref/ours" if device.startswith("cuda") else "RSS MB ref/ours"
    table = Table("selection", "shots", "decode", "ref ex/s", "ours ex/s", "speedup", "agree", memory,
                  "ours vision/prefill/decode s", "of matmul peak", title=f"{model} on {benchmark} ({device}): OpenFlamingo loop vs harness")
    for r in rows:
        fraction = r["matmul_peak_fraction"]
        table.add_row(
            r["selection"], str(r["shots"]), r["decode"], f"{r['reference_examples_per_s']:.3f}", f"{r['harness_examples_per_s']:.3f}",
            f"{r['speedup']:.1f}x", f"{r['agreement']:.0%}",
            f"{r['reference_peak_device_mb']}/{r['harness_peak_device_mb']}" if device.startswith("cuda")
            else f"{r['reference_peak_rss_mb']}/{r['harness_peak_rss_mb']}",
            f"{r['vision_s']:.1f}/{r['prefill_s']:.1f}/{r['decode_s']:.1f}", "-" if fraction is None else f"{fraction:.1%}",
        )
    console.print(table)
    _write_json(json_path, rows)


def _bench_rank(*, model, benchmark, shots, queries, classes, class_names, batch_size, seed, data_root, gate_seed, json_path) -> None:
    from ..bench.rank import RankBenchSettings, run_rank_bench

    counts = parse_shots(shots or "8")
    if len(counts) != 1:
        raise typer.BadParameter("--task rank measures one shot count")
    settings = RankBenchSettings(model=model, benchmark=benchmark, shots=counts[0], num_queries=queries or 2, classes=classes,
                                 class_names=None if class_names is None else str(class_names), batch_size=batch_size,
                                 seed=seed, data_root=None if data_root is None else str(data_root),
                                 gate_seed=None if gate_seed < 0 else gate_seed)
    r = run_rank_bench(settings, log=console.print)
    table = Table("classes", "shots", "ref s/query", "ours s/query", "ref ex/s", "ours ex/s", "speedup", "max |diff|", "same top-5",
                  title=f"{model}: rank classification, one forward per class vs the shared prompt")
    table.add_row(str(r["classes"]), str(r["shots"]), f"{r['reference_s_per_query']:.1f}", f"{r['harness_s_per_query']:.2f}",
                  f"{r['reference_examples_per_s']:.4f}", f"{r['harness_examples_per_s']:.3f}", f"{r['speedup']:.1f}x",
                  f"{r['max_abs_diff']:.1e}", f"{r['same_top5']} of {r['queries']}")
    console.print(table)
    _write_json(json_path, [r])


def _write_json(path: Path | None, rows: list) -> None:
    if path is not None:
        from ..storage import write_json

        path.parent.mkdir(parents=True, exist_ok=True)
        write_json(path, rows)
        console.print(f"wrote {path}")
