"""``flamingo-eval models | generate | model-bench``: the model on its own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from ..locations import ASSETS_DIR
from .shared import app, console, user_errors


@app.command()
@user_errors
def models() -> None:
    """List the built-in model specs and the files each one expects."""
    from ..model.spec import builtin_specs, load_spec

    table = Table("name", "description", "files")
    for name, path in builtin_specs().items():
        spec = load_spec(path)
        wanted = [spec.vision.weights, spec.lm.gguf or spec.lm.path, spec.openflamingo_checkpoint, spec.adapters]
        table.add_row(name, spec.description, "\n".join(w for w in wanted if w) or "(none: random weights)")
    console.print(table)


@app.command("generate")
@user_errors
def generate_command(
    model: Annotated[str, typer.Option(help="Built-in spec name or spec file.")] = "smol",
    prompt: Annotated[str, typer.Option(help="Text with one <image> marker per --image.")] = "<image>This photo shows",
    image: Annotated[Optional[list[Path]], typer.Option(help="Image files, in <image> order (default: a bundled photo).")] = None,
    max_new_tokens: int = 20,
    beams: int = 1,
    device: str = "cpu",
) -> None:
    """Generate text from an interleaved image prompt."""
    from ..data.media import load_image
    from ..model import GenerationConfig, load_model

    paths = image or [ASSETS_DIR / "cat.jpg"]
    if prompt.count("<image>") != len(paths):
        raise typer.BadParameter(f"the prompt has {prompt.count('<image>')} <image> markers but {len(paths)} images were given")
    images = [load_image(p) for p in paths]  # before the model, so a bad path fails fast
    pipe = load_model(model, device=device)
    text = pipe.generate([prompt], [images], GenerationConfig(max_new_tokens=max_new_tokens, num_beams=beams))[0]
    console.print(f"[dim]{prompt}[/]{text}", highlight=False)


@app.command("model-bench")
@user_errors
def model_bench(
    model: str = "smol",
    batch: int = 8,
    images: int = 4,
    text_tokens: int = 128,
    new_tokens: int = 20,
    repeats: int = 3,
    device: str = "cpu",
    dtype: Annotated[Optional[str], typer.Option(help="LM and adapter dtype, e.g. bfloat16.")] = None,
    json_path: Annotated[Optional[Path], typer.Option("--json", help="Also write the figures here.")] = None,
) -> None:
    """Time the model: load, forward, batched generation, against the bare LM."""
    from ..bench.model_speed import SpeedSettings, measure_model_speed

    settings = SpeedSettings(model=model, batch=batch, images=images, text_tokens=text_tokens, new_tokens=new_tokens,
                             repeats=repeats, device=device, dtype=dtype)
    with console.status("measuring..."):
        figures = measure_model_speed(settings)
    table = Table("figure", "value", title=f"{model}: {batch} sequences x ({images} images + {text_tokens} tokens), {device}")
    rows = [
        ("load", f"{figures['load_s']:.1f} s"),
        ("vision encoder + resampler", f"{figures['vision_resampler_s']:.3f} s"),
        ("forward, Flamingo (all parts)", f"{figures['forward_s']:.3f} s"),
        ("forward, LM with gated blocks", f"{figures['forward_lm_with_xattn_s']:.3f} s"),
        ("forward, bare LM", f"{figures['bare_lm_forward_s']:.3f} s"),
        ("generation, Flamingo (batched greedy)", f"{figures['generate_tokens_per_s']:.1f} tokens/s"),
        ("generation, bare LM (HF generate)", f"{figures['bare_lm_generate_tokens_per_s']:.1f} tokens/s"),
        ("peak RSS", f"{figures['peak_rss_mb']:.0f} MB"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    if json_path is not None:
        json_path.write_text(json.dumps(figures, indent=2))
