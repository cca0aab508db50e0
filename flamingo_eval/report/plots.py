"""The shot-scaling figure: each benchmark's primary metric against the number of shots.

Like Figure 2 (right) of the Flamingo paper and Figure 6 of OpenFlamingo: one panel per benchmark, one
line per (model, variant) through the mean over trials, a shaded band of ± one standard deviation, values
x100 as the papers print them, shot counts evenly spaced on the x axis (0, 4, 8, 16, 32 would otherwise
crowd at the left). Published numbers (``published.paper_rows``) are drawn as markers in the same panel.

Drawn on a ``Figure`` with the Agg canvas directly, not through ``pyplot``: no display is needed and no
global backend or figure state is touched, so a report can be made inside any program or test.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from ..storage import write_bytes_atomic
from .cells import display_scale
from .tables import primary_rows

DPI = 100
PANEL_SIZE = (4.0, 3.2)  # inches per benchmark panel; the figure's size depends only on the panel count
MAX_COLUMNS = 4
# tab10 named here rather than read from rcParams: a user's style must not change the report's colors.
COLORS = [to_hex(c) for c in colormaps["tab10"].colors]
_PAPER_MARKERS = ("*", "D", "^", "s", "P", "v", "X", "o")
_AXIS_LABELS = {
    "CIDEr": "CIDEr", "vqa_accuracy": "VQA accuracy (%)", "exact_match": "top-1 accuracy (%)",
    "ivqa_accuracy": "iVQA accuracy (%)", "multiple_choice_accuracy": "accuracy (%)",
}


def figure_layout(panels: int) -> tuple[int, int]:
    """(rows, columns) of the panel grid: up to ``MAX_COLUMNS`` panels a row."""
    columns = max(1, min(panels, MAX_COLUMNS))
    return math.ceil(max(panels, 1) / columns), columns


def figure_pixels(panels: int) -> tuple[int, int]:
    """(width, height) in pixels of the PNG for ``panels`` benchmarks -- fixed, so output is comparable."""
    rows, columns = figure_layout(panels)
    return round(PANEL_SIZE[0] * columns * DPI), round(PANEL_SIZE[1] * rows * DPI)


def _label(model: str, variant: str) -> str:
    return model if not variant else f"{model} / {variant}"


def _draw_panel(ax, benchmark: str, metric: str, ours: pd.DataFrame, paper: pd.DataFrame, styles: dict) -> None:
    """One benchmark: our lines with ± std bands, published markers, x ticks at its shot counts."""
    shots = sorted(set(ours["shots"]) | set(paper["shots"]))
    position = {s: i for i, s in enumerate(shots)}  # evenly spaced, labelled with the real counts
    for (model, variant), line in ours.groupby(["model", "variant"], sort=True):
        line = line.sort_values("shots")
        x = [position[s] for s in line["shots"]]
        color = styles[_label(model, variant)]
        ax.plot(x, line["mean"], marker="o", markersize=4, color=color, label=_label(model, variant))
        ax.fill_between(x, line["mean"] - line["std"], line["mean"] + line["std"], color=color, alpha=0.2,
                        linewidth=0)
    for model, points in paper.groupby("model", sort=False):  # in the order given (by paper, then size)
        color, marker = styles[model]
        points = points.sort_values("shots")
        x = [position[s] for s in points["shots"]]
        ax.errorbar(x, points["mean"], yerr=points["std"].fillna(0.0), fmt=marker, color=color, markersize=7,
                    capsize=2, linestyle="none", label=model)
    ax.set_xticks(range(len(shots)), [str(s) for s in shots])
    ax.set_xlim(-0.3, len(shots) - 0.7)
    ax.set_title(benchmark)
    ax.set_xlabel("shots")
    ax.set_ylabel(_AXIS_LABELS.get(metric, f"{metric} (x100)"))
    ax.grid(True, alpha=0.3)


def _styles(ours: pd.DataFrame, paper: pd.DataFrame, cycle: list[str]) -> dict:
    """A fixed color per run line (sorted) and a (color, marker) per paper model (in the given order)."""
    lines = sorted({_label(m, v) for m, v in zip(ours["model"], ours["variant"])})
    styles: dict = {label: cycle[i % len(cycle)] for i, label in enumerate(lines)}
    for i, model in enumerate(dict.fromkeys(paper["model"])):
        styles[model] = (cycle[(len(lines) + i) % len(cycle)], _PAPER_MARKERS[i % len(_PAPER_MARKERS)])
    return styles


def shot_scaling_plot(
    summary: pd.DataFrame,
    primary_metrics: Mapping[str, str],
    path: str | os.PathLike[str],
    *,
    paper: pd.DataFrame | None = None,
    chance: Mapping[str, float] | None = None,
) -> Path:
    """Draw the shot-scaling figure and save it as a PNG (atomically).

    In: a summary (``summarize``); benchmark -> primary metric (run.json's ``primary_metrics``; only
    these benchmarks are drawn, in name order); the PNG's path; optionally published rows
    (``published.paper_rows``), drawn as markers with their std as error bars; optionally benchmark ->
    chance level (0..1), drawn as a dashed grey line. Out: the path. The image
    is ``figure_pixels(benchmarks)`` pixels; ValueError when no benchmark has a primary-metric row.
    """
    ours = primary_rows(summary, primary_metrics)
    extra = primary_rows(paper, primary_metrics) if paper is not None and not paper.empty else ours.iloc[0:0]
    benchmarks = sorted(set(ours["benchmark"]))
    if not benchmarks:
        raise ValueError("shot_scaling_plot: no rows of a primary metric to plot")
    rows, columns = figure_layout(len(benchmarks))
    figure = Figure(figsize=(PANEL_SIZE[0] * columns, PANEL_SIZE[1] * rows), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    styles = _styles(ours, extra[extra["benchmark"].isin(benchmarks)], COLORS)
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for ax, benchmark in zip(axes, benchmarks):
        _draw_panel(ax, benchmark, primary_metrics[benchmark], ours[ours["benchmark"] == benchmark],
                    extra[extra["benchmark"] == benchmark], styles)
        if chance and benchmark in chance:
            ax.axhline(display_scale(primary_metrics[benchmark]) * chance[benchmark], color="grey", linestyle="--", linewidth=1, label="chance")
    for ax in axes[len(benchmarks):]:
        ax.set_visible(False)
    handles, labels = {}, {}
    for ax in axes[: len(benchmarks)]:  # one legend entry per line or paper model, in first-drawn order
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
            labels.setdefault(label, label)
    figure.legend(list(handles.values()), list(labels.values()), loc="outside lower center",
                  ncols=min(len(handles), 3), fontsize="small")
    figure.suptitle("Primary metric against shots (mean ± std over trials)")
    buffer = io.BytesIO()
    # No "Software" entry: the bytes then depend on the data only, not on the matplotlib version.
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return write_bytes_atomic(path, buffer.getvalue())

